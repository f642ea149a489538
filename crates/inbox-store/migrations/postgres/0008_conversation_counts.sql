-- C9 list totals that do not grow with the list (B2). Append-only, like every migration. The
-- same file, in the other dialect, is in ../sqlite.
--
-- How many conversations each combination of the list columns holds: status, inbox, queue,
-- assignee (for a closed conversation the last queue and assignee, `Conversation::belongs_to`)
-- and whether it awaits a reply (C8: `waiting_since` set). Kept exact by the commit path
-- (`src/list_counts.rs`), in the transaction that writes the conversation row: the row's old
-- combination loses one, its new one gains one (`INSERT ... ON CONFLICT DO UPDATE`, atomic
-- under concurrent commits). The list totals (`src/lists/total.rs`) sum these rows instead of
-- counting the list, so a total costs the number of combinations the viewer may see, not the
-- number of conversations.
--
-- No queue and no assignee are stored as the nil UUID (no id is nil), because NULLs are
-- distinct in a primary key and the upsert would never find its row.
CREATE TABLE conversation_counts (
    account_id   UUID NOT NULL REFERENCES accounts (id),
    status       TEXT NOT NULL,
    inbox_id     UUID NOT NULL,
    queue_key    UUID NOT NULL,
    assignee_key UUID NOT NULL,
    awaiting     BOOLEAN NOT NULL,
    n            BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (account_id, status, inbox_id, queue_key, assignee_key, awaiting)
);
-- An agent's assignments (`mine`, and part of every list of a plain agent).
CREATE INDEX conversation_counts_by_assignee ON conversation_counts (account_id, assignee_key, status, inbox_id);
-- An agent's queues (`queue`, and part of every list of a plain agent).
CREATE INDEX conversation_counts_by_queue ON conversation_counts (account_id, queue_key, status, inbox_id);

-- The conversations already stored.
INSERT INTO conversation_counts (account_id, status, inbox_id, queue_key, assignee_key, awaiting, n)
SELECT account_id, status, inbox_id,
       COALESCE(queue_id, '00000000-0000-0000-0000-000000000000'::uuid),
       COALESCE(assignee_id, '00000000-0000-0000-0000-000000000000'::uuid),
       waiting_since IS NOT NULL, COUNT(*)
FROM conversations
GROUP BY 1, 2, 3, 4, 5, 6;
