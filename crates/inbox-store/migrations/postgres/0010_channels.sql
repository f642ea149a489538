-- H1, A4: how each inbox is connected to its provider. Settings are shown to admins; secrets
-- (tokens, signing keys) are read only by the adapters, never returned by the API.
CREATE TABLE channel_connections (
    inbox_id    UUID PRIMARY KEY REFERENCES inboxes (id),
    account_id  UUID NOT NULL REFERENCES accounts (id),
    kind        TEXT NOT NULL,
    settings    TEXT NOT NULL,                  -- JSON object of strings
    secrets     TEXT NOT NULL,                  -- JSON object of strings
    updated_at  BIGINT NOT NULL
);
CREATE INDEX channel_connections_account ON channel_connections (account_id);

-- N5: outgoing webhook subscriptions of an account. A deleted one keeps its rows (deleted_at)
-- so that its delivery log stays readable.
CREATE TABLE webhook_subscriptions (
    id          UUID PRIMARY KEY,
    account_id  UUID NOT NULL REFERENCES accounts (id),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,                  -- JSON array of event types
    created_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);
CREATE INDEX webhook_subscriptions_account ON webhook_subscriptions (account_id) WHERE deleted_at IS NULL;

-- N5: one row per (subscription, event): the unique index makes a fan-out that runs twice
-- (a crash between writing the deliveries and moving the cursor) write each delivery once.
CREATE TABLE webhook_deliveries (
    id               UUID PRIMARY KEY,
    account_id       UUID NOT NULL REFERENCES accounts (id),
    subscription_id  UUID NOT NULL REFERENCES webhook_subscriptions (id),
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,             -- pending, delivered, failed
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_status_code BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    last_attempt_at  BIGINT,
    delivered_at     BIGINT
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (subscription_id, event_id);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (account_id, subscription_id, created_at, id);

-- N5: every attempt of a delivery, for the log.
CREATE TABLE webhook_attempts (
    delivery_id  UUID NOT NULL REFERENCES webhook_deliveries (id),
    attempt      BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    status_code  BIGINT,
    error        TEXT,
    PRIMARY KEY (delivery_id, attempt)
);

-- N5: how far each account's event log has been fanned out to its subscriptions.
CREATE TABLE webhook_cursors (
    account_id  UUID PRIMARY KEY REFERENCES accounts (id),
    position    BIGINT NOT NULL
);
