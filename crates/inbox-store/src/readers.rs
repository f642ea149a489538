//! The read side of the store: `ConversationStore`, `DialogStore`, `MessageStore`, `EventLog`
//! and `RoutingStore` on [`SqlStore`]. Every statement filters on `account_id`, so another
//! account's ids read as absent (A1), and each one is an index read (the index is named on each
//! method). The C9 lists live in `lists.rs`.

use async_trait::async_trait;
use conversation_core::conversation::Conversation;
use conversation_core::dialog::{ContactDialogs, Dialog, DialogStatusKind};
use conversation_core::entities::Availability;
use conversation_core::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, MessageId, QueueId,
};
use conversation_core::message::Message;
use conversation_core::ports::{
    AggregateId, ConversationPage, ConversationQuery, ConversationStore, DialogStore, EventLog,
    MessageStore, RoutingStore, StoreError, StoredEvent, Versioned,
};
use conversation_core::routing::{AgentLoad, Candidate, idle_since};

use crate::error::{OrStoreError, StoreResult};
use crate::open::SqlStore;
use crate::rows::{self, aggregate_columns};
use crate::sql::{Row, args};

/// A sequence or limit from the caller, as SQL's BIGINT. Beyond `i64::MAX` nothing exists, so
/// such a value saturates rather than fails.
fn bigint(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A corrupt value in a row: a storage failure, details for the log.
fn corrupt(what: String) -> StoreError {
    StoreError::Internal(what.into())
}

#[async_trait]
impl ConversationStore for SqlStore {
    /// By primary key.
    async fn conversation(
        &self,
        account: AccountId,
        id: ConversationId,
    ) -> Result<Option<Versioned<Conversation>>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT state, version FROM conversations WHERE id = $1 AND account_id = $2",
                &args![id, account],
            )
            .await
            .store()?
            .map(|row| rows::conversation(&row))
            .transpose()
    }

    /// By `conversations_one_live_per_contact_inbox` (its `status IN ('open', 'bot')` is
    /// repeated word for word so that SQLite uses the partial index).
    async fn live_conversation(
        &self,
        account: AccountId,
        inbox: InboxId,
        contact: ContactId,
    ) -> Result<Option<Versioned<Conversation>>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT state, version FROM conversations \
                 WHERE contact_id = $1 AND inbox_id = $2 AND status IN ('open', 'bot') \
                 AND account_id = $3",
                &args![contact, inbox, account],
            )
            .await
            .store()?
            .map(|row| rows::conversation(&row))
            .transpose()
    }

    /// C3: the live one if there is one (the partial unique index), else the newest closed
    /// one (`conversations_by_contact_inbox`).
    async fn latest_conversation(
        &self,
        account: AccountId,
        inbox: InboxId,
        contact: ContactId,
    ) -> Result<Option<Versioned<Conversation>>, StoreError> {
        if let Some(live) = self.live_conversation(account, inbox, contact).await? {
            return Ok(Some(live));
        }
        self.db
            .fetch_optional(
                "SELECT state, version FROM conversations \
                 WHERE contact_id = $1 AND inbox_id = $2 AND account_id = $3 \
                 ORDER BY created_at DESC, id DESC LIMIT 1",
                &args![contact, inbox, account],
            )
            .await
            .store()?
            .map(|row| rows::conversation(&row))
            .transpose()
    }

    async fn list_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, StoreError> {
        crate::lists::list(&self.db, query).await
    }
}

/// A dialog's status column.
fn dialog_status(row: &Row) -> StoreResult<DialogStatusKind> {
    let status = row.text("status").store()?;
    match status.as_str() {
        "active" => Ok(DialogStatusKind::Active),
        "paused" => Ok(DialogStatusKind::Paused),
        "completed" => Ok(DialogStatusKind::Completed),
        _ => Err(corrupt(format!("unknown dialog status {status:?}"))),
    }
}

#[async_trait]
impl DialogStore for SqlStore {
    /// By primary key.
    async fn dialog(
        &self,
        account: AccountId,
        id: DialogId,
    ) -> Result<Option<Versioned<Dialog>>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT state, version FROM dialogs WHERE id = $1 AND account_id = $2",
                &args![id, account],
            )
            .await
            .store()?
            .map(|row| rows::dialog(&row))
            .transpose()
    }

    /// By `dialogs_contact`; only the id and status columns are read.
    async fn contact_dialogs(
        &self,
        account: AccountId,
        contact: ContactId,
    ) -> Result<ContactDialogs, StoreError> {
        let found = self
            .db
            .fetch_all(
                "SELECT id, status FROM dialogs WHERE account_id = $1 AND contact_id = $2",
                &args![account, contact],
            )
            .await
            .store()?;
        let dialogs = found
            .iter()
            .map(|row| {
                Ok((
                    DialogId::from_uuid(row.uuid("id").store()?),
                    dialog_status(row)?,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(ContactDialogs::new(contact, dialogs))
    }

    /// By `dialogs_contact`, newest first (ties by id, also descending).
    async fn dialogs_of_contact(
        &self,
        account: AccountId,
        contact: ContactId,
    ) -> Result<Vec<Dialog>, StoreError> {
        self.db
            .fetch_all(
                "SELECT state, version FROM dialogs WHERE account_id = $1 AND contact_id = $2 \
                 ORDER BY created_at DESC, id DESC",
                &args![account, contact],
            )
            .await
            .store()?
            .iter()
            .map(|row| rows::dialog(row).map(|dialog| dialog.value))
            .collect()
    }
}

#[async_trait]
impl MessageStore for SqlStore {
    /// By primary key.
    async fn message(
        &self,
        account: AccountId,
        id: MessageId,
    ) -> Result<Option<Message>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT state, seq FROM messages WHERE id = $1 AND account_id = $2",
                &args![id, account],
            )
            .await
            .store()?
            .map(|row| rows::message(&row))
            .transpose()
    }

    /// By `messages_external_per_inbox`.
    async fn message_by_external_id(
        &self,
        account: AccountId,
        inbox: InboxId,
        external_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT state, seq FROM messages \
                 WHERE inbox_id = $1 AND external_id = $2 AND account_id = $3",
                &args![inbox, external_id, account],
            )
            .await
            .store()?
            .map(|row| rows::message(&row))
            .transpose()
    }

    /// M9: by `messages_seq_per_conversation (conversation_id, seq)`.
    async fn messages_after(
        &self,
        account: AccountId,
        conversation: ConversationId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        self.db
            .fetch_all(
                "SELECT state, seq FROM messages \
                 WHERE conversation_id = $1 AND seq > $2 AND account_id = $3 \
                 ORDER BY seq LIMIT $4",
                &args![conversation, bigint(after), account, limit],
            )
            .await
            .store()?
            .iter()
            .map(rows::message)
            .collect()
    }

    /// D7: the messages written in the dialog (`dialog_id`), by `messages_dialog`. A dialog
    /// lives in one conversation, so its messages' sequences are that conversation's.
    async fn dialog_messages(
        &self,
        account: AccountId,
        dialog: DialogId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        self.db
            .fetch_all(
                "SELECT state, seq FROM messages \
                 WHERE dialog_id = $1 AND seq > $2 AND account_id = $3 \
                 ORDER BY seq LIMIT $4",
                &args![dialog, bigint(after), account, limit],
            )
            .await
            .store()?
            .iter()
            .map(rows::message)
            .collect()
    }
}

#[async_trait]
impl EventLog for SqlStore {
    /// N1, L8: by the primary key `(account_id, seq)`. Commits of one account enter the log in
    /// sequence order (see `commit.rs`), so resuming after the last sequence seen misses
    /// nothing and repeats nothing.
    async fn events_after(
        &self,
        account: AccountId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.db
            .fetch_all(
                "SELECT seq, aggregate_type, aggregate_id, payload FROM events \
                 WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &args![account, bigint(after), limit],
            )
            .await
            .store()?
            .iter()
            .map(rows::stored_event)
            .collect()
    }

    /// C12: by `events_aggregate (account_id, aggregate_id, seq)`.
    async fn aggregate_events(
        &self,
        account: AccountId,
        aggregate: AggregateId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let (aggregate_type, aggregate_id) = aggregate_columns(aggregate);
        self.db
            .fetch_all(
                "SELECT seq, aggregate_type, aggregate_id, payload FROM events \
                 WHERE account_id = $1 AND aggregate_id = $2 AND aggregate_type = $3 AND seq > $4 \
                 ORDER BY seq LIMIT $5",
                &args![account, aggregate_id, aggregate_type, bigint(after), limit],
            )
            .await
            .store()?
            .iter()
            .map(rows::stored_event)
            .collect()
    }
}

/// An agent's availability as stored (its snake_case name).
fn availability(row: &Row) -> StoreResult<Availability> {
    let name = row.text("availability").store()?;
    serde_json::from_value(serde_json::Value::String(name.clone()))
        .map_err(|_| corrupt(format!("unknown availability {name:?}")))
}

/// A small non-negative integer column.
fn small<T: TryFrom<i64>>(row: &Row, column: &str) -> StoreResult<T> {
    let value = row.int(column).store()?;
    T::try_from(value).map_err(|_| corrupt(format!("{column} out of range: {value}")))
}

/// One queue member as routing sees them.
///
/// R2: the load is `agents.load`, the very counter the commit checks capacity against, so a
/// candidate routing finds free is one the commit accepts. It is split into
/// `outstanding_offers`, counted from the conversations offered to the agent (a load holder and
/// no assignee), and `assigned_open`, the rest; `load()` always equals `agents.load`.
fn candidate(row: &Row) -> StoreResult<Candidate> {
    let load: u32 = small(row, "load")?;
    let offers = small::<u32>(row, "offers")?.min(load);
    Ok(Candidate {
        agent: AgentId::from_uuid(row.uuid("id").store()?),
        availability: availability(row)?,
        load: AgentLoad {
            assigned_open: load - offers,
            outstanding_offers: offers,
            capacity: small(row, "capacity")?,
        },
        experience_level: small(row, "experience_level")?,
        cost_tier: small(row, "cost_tier")?,
        idle_since: idle_since(
            row.time("availability_since").store()?,
            row.opt_time("last_assigned_at").store()?,
        ),
    })
}

#[async_trait]
impl RoutingStore for SqlStore {
    /// The queue's members in their order (position, then id), by the primary key of
    /// `queue_members`; each one's offers by `conversations_offered`.
    async fn candidates(
        &self,
        account: AccountId,
        queue: QueueId,
    ) -> Result<Vec<Candidate>, StoreError> {
        self.db
            .fetch_all(
                "SELECT a.id, a.availability, a.capacity, a.experience_level, a.cost_tier, \
                 a.availability_since, a.last_assigned_at, a.load, \
                 (SELECT COUNT(*) FROM conversations o WHERE o.load_holder = a.id \
                  AND o.assignee_id IS NULL AND o.status = 'open' AND o.account_id = $1) AS offers \
                 FROM queues q JOIN queue_members m ON m.queue_id = q.id \
                 JOIN agents a ON a.id = m.agent_id \
                 WHERE q.id = $2 AND q.account_id = $1 AND a.account_id = $1 \
                 ORDER BY m.position, a.id",
                &args![account, queue],
            )
            .await
            .store()?
            .iter()
            .map(candidate)
            .collect()
    }

    /// R4: the agent's row with the same columns as a queue member's.
    async fn agent_candidate(
        &self,
        account: AccountId,
        agent: AgentId,
    ) -> Result<Option<Candidate>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT a.id, a.availability, a.capacity, a.experience_level, a.cost_tier, \
                 a.availability_since, a.last_assigned_at, a.load, \
                 (SELECT COUNT(*) FROM conversations o WHERE o.load_holder = a.id \
                  AND o.assignee_id IS NULL AND o.status = 'open' AND o.account_id = $1) AS offers \
                 FROM agents a WHERE a.id = $2 AND a.account_id = $1",
                &args![account, agent],
            )
            .await
            .store()?
            .as_ref()
            .map(candidate)
            .transpose()
    }

    async fn route_cursor(
        &self,
        account: AccountId,
        queue: QueueId,
    ) -> Result<Option<AgentId>, StoreError> {
        let row = self
            .db
            .fetch_optional(
                "SELECT route_cursor FROM queues WHERE id = $1 AND account_id = $2",
                &args![queue, account],
            )
            .await
            .store()?;
        match row {
            Some(row) => Ok(row
                .opt_uuid("route_cursor")
                .store()?
                .map(AgentId::from_uuid)),
            None => Ok(None),
        }
    }

    async fn set_route_cursor(
        &self,
        account: AccountId,
        queue: QueueId,
        agent: AgentId,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE queues SET route_cursor = $3 WHERE id = $1 AND account_id = $2",
                &args![queue, account, agent],
            )
            .await
            .store()?;
        Ok(())
    }

    /// R5: by `conversations_backlog_by_account (account_id, queue_id, queued_since, id)`;
    /// `queued_since` is set exactly while a conversation waits in its queue.
    async fn waiting(
        &self,
        account: AccountId,
        queue: QueueId,
        limit: u32,
    ) -> Result<Vec<Conversation>, StoreError> {
        self.db
            .fetch_all(
                "SELECT state, version FROM conversations \
                 WHERE account_id = $2 AND queue_id = $1 AND queued_since IS NOT NULL \
                 ORDER BY queued_since, id LIMIT $3",
                &args![queue, account, limit],
            )
            .await
            .store()?
            .iter()
            .map(|row| rows::conversation(row).map(|c| c.value))
            .collect()
    }
}
