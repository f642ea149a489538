-- C9 lists served from indexes (B2), and the routing reads (R2, R5). Append-only, like every
-- migration. The same file, in the other dialect, is in ../sqlite.
--
-- Each list branch reads one index range in list order (see `src/lists.rs`): its equality
-- columns lead, then the sort key and the id (the keyset). The open-list indexes end with
-- `inbox_id`, so that a list of one inbox, and its total, skip other inboxes' rows inside the
-- index without reading the table.

-- C7, A2: the agents an interrupted conversation alerted, one row each (the `alerted` JSON
-- column, as rows an index can find). Written with the conversation in the commit path while it
-- is interrupted, removed when it is closed; lists also require `conversations.interrupted`, so
-- a row left over from an earlier interruption never shows anything.
CREATE TABLE conversation_alerts (
    conversation_id UUID NOT NULL REFERENCES conversations (id),
    agent_id        UUID NOT NULL,
    account_id      UUID NOT NULL,
    PRIMARY KEY (conversation_id, agent_id)
);
CREATE INDEX conversation_alerts_agent ON conversation_alerts (account_id, agent_id, conversation_id);

-- 0001's list indexes by assignee and by queue, now ending with the inbox.
DROP INDEX conversations_by_assignee;
CREATE INDEX conversations_by_assignee ON conversations (account_id, assignee_id, status, activity_at DESC, id DESC, inbox_id);
DROP INDEX conversations_by_queue;
CREATE INDEX conversations_by_queue ON conversations (account_id, queue_id, status, activity_at DESC, id DESC, inbox_id);
-- A2: a conference guest sees the conversation (only conferences have a guest).
CREATE INDEX conversations_by_guest ON conversations (account_id, guest_id, status, activity_at DESC, id DESC)
    WHERE guest_id IS NOT NULL;
-- C9 `unassigned` for those who see all (an `IS NULL` condition does not let PostgreSQL read
-- `conversations_by_assignee` in order). The unassigned indexes end with `assignee_id`, always
-- NULL in them, so that SQLite can check `assignee_id IS NULL` without reading the table.
CREATE INDEX conversations_unassigned ON conversations (account_id, activity_at DESC, id DESC, inbox_id, assignee_id)
    WHERE status = 'open' AND assignee_id IS NULL;
-- C9 `unassigned` for an agent: each of their queues.
CREATE INDEX conversations_unassigned_by_queue ON conversations (account_id, queue_id, activity_at DESC, id DESC, inbox_id, assignee_id)
    WHERE status = 'open' AND assignee_id IS NULL;
-- C8 `awaiting_reply` for those who see all: open conversations only, longest waiting first.
-- It replaces 0001's `conversations_awaiting`, which also held bot conversations (never on this
-- list) and so could not give open ones in order without reading the table.
DROP INDEX conversations_awaiting;
CREATE INDEX conversations_awaiting_open ON conversations (account_id, waiting_since, id, inbox_id)
    WHERE status = 'open' AND waiting_since IS NOT NULL;
-- C8 `awaiting_reply` for an agent: each of their queues.
CREATE INDEX conversations_awaiting_by_queue ON conversations (account_id, queue_id, waiting_since, id, inbox_id)
    WHERE status = 'open' AND waiting_since IS NOT NULL;
-- C9 `all` and `resolved` of one inbox, for those who see all.
CREATE INDEX conversations_by_inbox ON conversations (account_id, inbox_id, status, activity_at DESC, id DESC);

-- R5: a queue's backlog, oldest first. It replaces 0001's `conversations_backlog`, which did not
-- lead with the account every read is scoped by, so planners preferred `conversations_by_queue`
-- and sorted the whole queue.
DROP INDEX conversations_backlog;
CREATE INDEX conversations_backlog_by_account ON conversations (account_id, queue_id, queued_since, id)
    WHERE queued_since IS NOT NULL;
-- R2: outstanding offers per agent (offered: a load holder and no assignee).
CREATE INDEX conversations_offered ON conversations (load_holder)
    WHERE load_holder IS NOT NULL AND assignee_id IS NULL;
