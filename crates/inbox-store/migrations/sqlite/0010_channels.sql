-- H1, A4: how each inbox is connected to its provider. Settings are shown to admins; secrets
-- (tokens, signing keys) are read only by the adapters, never returned by the API.
CREATE TABLE channel_connections (
    inbox_id    BLOB PRIMARY KEY REFERENCES inboxes (id),
    account_id  BLOB NOT NULL REFERENCES accounts (id),
    kind        TEXT NOT NULL,
    settings    TEXT NOT NULL,                  -- JSON object of strings
    secrets     TEXT NOT NULL,                  -- JSON object of strings
    updated_at  INTEGER NOT NULL
);
CREATE INDEX channel_connections_account ON channel_connections (account_id);

-- N5: outgoing webhook subscriptions of an account. A deleted one keeps its rows (deleted_at)
-- so that its delivery log stays readable.
CREATE TABLE webhook_subscriptions (
    id          BLOB PRIMARY KEY,
    account_id  BLOB NOT NULL REFERENCES accounts (id),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,                  -- JSON array of event types
    created_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE INDEX webhook_subscriptions_account ON webhook_subscriptions (account_id) WHERE deleted_at IS NULL;

-- N5: one row per (subscription, event): the unique index makes a fan-out that runs twice
-- (a crash between writing the deliveries and moving the cursor) write each delivery once.
CREATE TABLE webhook_deliveries (
    id               BLOB PRIMARY KEY,
    account_id       BLOB NOT NULL REFERENCES accounts (id),
    subscription_id  BLOB NOT NULL REFERENCES webhook_subscriptions (id),
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,             -- pending, delivered, failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    last_attempt_at  INTEGER,
    delivered_at     INTEGER
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (subscription_id, event_id);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (account_id, subscription_id, created_at, id);

-- N5: every attempt of a delivery, for the log.
CREATE TABLE webhook_attempts (
    delivery_id  BLOB NOT NULL REFERENCES webhook_deliveries (id),
    attempt      INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    PRIMARY KEY (delivery_id, attempt)
);

-- N5: how far each account's event log has been fanned out to its subscriptions.
CREATE TABLE webhook_cursors (
    account_id  BLOB PRIMARY KEY REFERENCES accounts (id),
    position    INTEGER NOT NULL
);
