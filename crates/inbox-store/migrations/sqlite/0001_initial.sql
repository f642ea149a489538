-- The inbox's schema on SQLite (WAL, one writer). Times are INTEGER microseconds since the Unix epoch (UTC),
-- bound from Rust: the same in both dialects, exact round trips, index-friendly. Aggregate
-- state is kept as JSON text next to the columns that queries and constraints need.
-- Append-only: never edit a migration that has landed; add the next one.

CREATE TABLE accounts (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    event_seq   INTEGER NOT NULL DEFAULT 0          -- last event sequence of the account
);

CREATE TABLE agents (
    id                  BLOB PRIMARY KEY,
    account_id          BLOB NOT NULL REFERENCES accounts (id),
    name                TEXT NOT NULL,
    email               TEXT NOT NULL,
    email_key           TEXT NOT NULL,             -- lower-cased email, unique
    role                TEXT NOT NULL,
    full_access         INTEGER NOT NULL,
    permissions         TEXT NOT NULL,             -- JSON array
    capacity            INTEGER NOT NULL,
    experience_level    INTEGER NOT NULL,
    cost_tier           INTEGER NOT NULL,
    availability        TEXT NOT NULL DEFAULT 'offline',
    availability_since  INTEGER NOT NULL,
    presence_version    INTEGER NOT NULL DEFAULT 0,
    load                INTEGER NOT NULL DEFAULT 0, -- R2: assigned open + outstanding offers
    last_assigned_at    INTEGER,
    password_hash       TEXT,
    CONSTRAINT agents_load_within_bounds CHECK (load >= 0)
);
CREATE UNIQUE INDEX agents_email_key ON agents (email_key);
CREATE INDEX agents_account ON agents (account_id, name);

CREATE TABLE queues (
    id                  BLOB PRIMARY KEY,
    account_id          BLOB NOT NULL REFERENCES accounts (id),
    name                TEXT NOT NULL,
    strategy            TEXT NOT NULL,
    delivery            TEXT NOT NULL,
    offer_timeout_secs  INTEGER NOT NULL
);
CREATE INDEX queues_account ON queues (account_id, name);

CREATE TABLE queue_members (
    queue_id    BLOB NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    agent_id    BLOB NOT NULL REFERENCES agents (id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (queue_id, agent_id)
);
CREATE INDEX queue_members_agent ON queue_members (agent_id);

CREATE TABLE inboxes (
    id          BLOB PRIMARY KEY,
    account_id  BLOB NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    queue_id    BLOB,
    settings    TEXT NOT NULL,                     -- JSON InboxSettings
    deleted_at  INTEGER
);
CREATE INDEX inboxes_account ON inboxes (account_id, name);

CREATE TABLE contacts (
    id                  BLOB PRIMARY KEY,
    account_id          BLOB NOT NULL REFERENCES accounts (id),
    responsible_agent   BLOB,
    merged_into         BLOB,
    created_at          INTEGER NOT NULL,
    state               TEXT NOT NULL              -- JSON Contact
);
CREATE INDEX contacts_account ON contacts (account_id, created_at);

CREATE TABLE contact_identities (
    inbox_id    BLOB NOT NULL,
    external_id TEXT NOT NULL,
    account_id  BLOB NOT NULL,
    contact_id  BLOB NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (inbox_id, external_id)
);
CREATE INDEX contact_identities_contact ON contact_identities (contact_id);

CREATE TABLE conversations (
    id              BLOB PRIMARY KEY,
    account_id      BLOB NOT NULL REFERENCES accounts (id),
    inbox_id        BLOB NOT NULL,
    contact_id      BLOB NOT NULL,
    status          TEXT NOT NULL,                 -- open | bot | resolved | dropped (C1)
    interrupted     INTEGER NOT NULL,
    queue_id        BLOB,
    assignee_id     BLOB,
    guest_id        BLOB,
    load_holder     BLOB,
    alerted         TEXT NOT NULL,                 -- JSON array of agents alerted (C7)
    waiting_since   INTEGER,                        -- C8
    queued_since    INTEGER,                        -- R5: set while waiting in a queue
    activity_at     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    message_seq     INTEGER NOT NULL DEFAULT 0,     -- M9: last message sequence
    state           TEXT NOT NULL                  -- JSON Conversation
);
-- C1: one conversation per contact and inbox that is not resolved or dropped.
CREATE UNIQUE INDEX conversations_one_live_per_contact_inbox
    ON conversations (contact_id, inbox_id) WHERE status IN ('open', 'bot');
-- C9 lists, newest activity first, and their counts.
CREATE INDEX conversations_by_status ON conversations (account_id, status, activity_at, id);
CREATE INDEX conversations_by_assignee ON conversations (account_id, assignee_id, status, activity_at, id);
CREATE INDEX conversations_by_queue ON conversations (account_id, queue_id, status, activity_at, id);
CREATE INDEX conversations_awaiting ON conversations (account_id, waiting_since, id) WHERE waiting_since IS NOT NULL;
-- R5: the backlog of a queue, oldest first.
CREATE INDEX conversations_backlog ON conversations (queue_id, queued_since, id) WHERE queued_since IS NOT NULL;

CREATE TABLE dialogs (
    id              BLOB PRIMARY KEY,
    account_id      BLOB NOT NULL REFERENCES accounts (id),
    conversation_id BLOB NOT NULL REFERENCES conversations (id),
    contact_id      BLOB NOT NULL,
    status          TEXT NOT NULL,                 -- active | paused | completed
    created_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    state           TEXT NOT NULL                  -- JSON Dialog
);
-- D3: at most one active dialog per contact, across all their conversations.
CREATE UNIQUE INDEX dialogs_one_active_per_contact ON dialogs (contact_id) WHERE status = 'active';
CREATE INDEX dialogs_contact ON dialogs (account_id, contact_id, created_at);

CREATE TABLE messages (
    id              BLOB PRIMARY KEY,
    account_id      BLOB NOT NULL REFERENCES accounts (id),
    conversation_id BLOB NOT NULL REFERENCES conversations (id),
    inbox_id        BLOB NOT NULL,
    dialog_id       BLOB,
    seq             INTEGER NOT NULL,               -- M9
    external_id     TEXT,
    client_id       TEXT,
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL,                 -- JSON Message
    CONSTRAINT messages_seq_per_conversation UNIQUE (conversation_id, seq)
);
-- M8: one message per channel message id on an inbox, and per client message id.
CREATE UNIQUE INDEX messages_external_per_inbox ON messages (inbox_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX messages_client_per_conversation ON messages (conversation_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_dialog ON messages (dialog_id, seq) WHERE dialog_id IS NOT NULL;

CREATE TABLE events (
    account_id      BLOB NOT NULL,
    seq             INTEGER NOT NULL,
    aggregate_type  TEXT NOT NULL,
    aggregate_id    BLOB NOT NULL,
    at              INTEGER NOT NULL,
    payload         TEXT NOT NULL,                 -- JSON DomainEvent
    PRIMARY KEY (account_id, seq)
);
CREATE INDEX events_aggregate ON events (account_id, aggregate_id, seq);

CREATE TABLE settings (
    id          BLOB PRIMARY KEY,
    account_id  BLOB NOT NULL REFERENCES accounts (id),
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    archived_at INTEGER
);
CREATE INDEX settings_account ON settings (account_id, kind, name);

CREATE TABLE tasks (
    id          BLOB PRIMARY KEY,
    account_id  BLOB NOT NULL REFERENCES accounts (id),
    agent_id    BLOB NOT NULL,
    due_at      INTEGER NOT NULL,
    state       TEXT NOT NULL                      -- JSON Task
);
CREATE INDEX tasks_agent ON tasks (account_id, agent_id, due_at);

CREATE TABLE orders (
    id              BLOB PRIMARY KEY,
    account_id      BLOB NOT NULL REFERENCES accounts (id),
    conversation_id BLOB NOT NULL REFERENCES conversations (id),
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL                  -- JSON Order
);
CREATE INDEX orders_conversation ON orders (account_id, conversation_id, created_at);

CREATE TABLE timers (
    account_id  BLOB NOT NULL,
    key         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    due_at      INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE outbox (
    id          BLOB PRIMARY KEY,
    account_id  BLOB NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    due_at      INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);
CREATE INDEX outbox_due ON outbox (due_at);

CREATE TABLE sessions (
    id          BLOB PRIMARY KEY,
    account_id  BLOB NOT NULL REFERENCES accounts (id),
    agent_id    BLOB,                              -- set for agent sessions (S9 revocation)
    subject     TEXT NOT NULL,                     -- JSON SessionSubject
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX sessions_agent ON sessions (agent_id) WHERE agent_id IS NOT NULL;

CREATE TABLE api_tokens (
    id          BLOB PRIMARY KEY,
    account_id  BLOB NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
