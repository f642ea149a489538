-- D8: automated messages (flow, broadcast) held while the contact's dialog is active, released
-- in order (held_at, then id) once no dialog of the contact is active. Released rows are kept
-- (released_at set), so a client's retry with the same client id is recognised (M8).
CREATE TABLE held_messages (
    id              UUID PRIMARY KEY,               -- the id of the message once released
    account_id      UUID NOT NULL REFERENCES accounts (id),
    contact_id      UUID NOT NULL,
    conversation_id UUID NOT NULL REFERENCES conversations (id),
    dialog_id       UUID NOT NULL,
    source          TEXT NOT NULL,
    body            TEXT NOT NULL,
    client_id       TEXT,
    held_at         BIGINT NOT NULL,
    released_at     BIGINT
);
CREATE INDEX held_messages_waiting ON held_messages (account_id, contact_id, held_at, id) WHERE released_at IS NULL;
CREATE UNIQUE INDEX held_messages_client ON held_messages (conversation_id, client_id) WHERE client_id IS NOT NULL;
