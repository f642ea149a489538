//! C9: the maintained counters behind the list totals (`conversation_counts`, migration 0008).
//!
//! Each row counts the conversations of one account that share one combination of the list
//! columns: status, inbox, queue, assignee (closed: the last ones, `Conversation::belongs_to`)
//! and whether they await a reply (C8). The commit path keeps them exact in the transaction that
//! writes the conversation row ([`CountMove::read`] before the row's `INSERT` or `UPDATE`,
//! [`CountMove::write`] after it): the old combination loses one, the new one gains one, by
//! `INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n` (atomic on PostgreSQL under
//! concurrent commits; SQLite has one writer) for the gain, a plain `UPDATE ... SET n = n - 1`
//! of the row that must exist for the loss (an upsert would check `n >= 0` on the row it
//! proposes to insert first). A change that keeps the combination (most messages) writes
//! nothing. The two rows are written in key order, so two commits moving conversations between
//! the same two combinations lock them in the same order.
//!
//! The old combination is read from the row itself, in the same transaction, with the version
//! the commit expects (and `FOR UPDATE` on PostgreSQL): if the row has moved on, the `UPDATE`
//! that follows finds no row either and the commit stops with a conflict, rolling the read back
//! with everything else.
//!
//! No queue and no assignee are stored as the nil UUID, since NULLs are distinct in the
//! primary key. [`recount`] rebuilds an account's counters from its conversations, for bulk
//! loads that write the table directly (the benchmark's seed).

use conversation_core::conversation::Conversation;
use conversation_core::ids::{AccountId, ConversationId};
use conversation_core::ports::{ExpectedVersion, StoreError};
use uuid::Uuid;

use crate::error::{OrStoreError, StoreResult};
use crate::rows::ConversationColumns;
use crate::sql::{Arg, Db, Dialect, Tx, args};

/// One combination of the list columns: a row of `conversation_counts`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct CountKey {
    status: String,
    inbox: Uuid,
    /// The queue, or nil.
    queue: Uuid,
    /// The assignee, or nil.
    assignee: Uuid,
    awaiting: bool,
}

impl CountKey {
    fn args(&self, account: AccountId, delta: i64) -> Vec<Arg> {
        args![
            account,
            self.status.as_str(),
            self.inbox,
            self.queue,
            self.assignee,
            self.awaiting,
            delta
        ]
        .to_vec()
    }
}

/// The move of one conversation between two combinations, read before its row is written.
#[derive(Debug)]
pub(crate) struct CountMove {
    account: AccountId,
    /// The combination it had (`None`: a new conversation).
    old: Option<CountKey>,
    new: CountKey,
}

impl CountMove {
    /// Reads the conversation's stored combination (none for a new one), before its row is
    /// written in the same transaction.
    ///
    /// # Errors
    /// Storage failures and corrupt rows.
    pub(crate) async fn read(
        tx: &mut Tx,
        account: AccountId,
        c: &Conversation,
        cols: &ConversationColumns,
        expected: ExpectedVersion,
    ) -> StoreResult<Self> {
        let new = CountKey {
            status: cols.status.to_owned(),
            inbox: c.inbox.as_uuid(),
            queue: cols.queue.unwrap_or_else(Uuid::nil),
            assignee: cols.assignee.unwrap_or_else(Uuid::nil),
            awaiting: cols.waiting_since.is_some(),
        };
        let old = match expected {
            ExpectedVersion::New => None,
            ExpectedVersion::Exactly(version) => {
                let version =
                    i64::try_from(version).map_err(|e| StoreError::Internal(Box::new(e)))?;
                read_old(tx, account, c.id, version).await?
            }
        };
        Ok(Self { account, old, new })
    }

    /// Moves the conversation's count from its old combination to its new one, once its row is
    /// written.
    ///
    /// # Errors
    /// Storage failures; a missing counter row (a bug, or rows written around the store).
    pub(crate) async fn write(self, tx: &mut Tx) -> StoreResult<()> {
        let mut deltas = vec![(self.new, 1_i64)];
        if let Some(old) = self.old {
            if old == deltas[0].0 {
                return Ok(());
            }
            deltas.push((old, -1));
        }
        deltas.sort();
        for (key, delta) in deltas {
            let args = key.args(self.account, delta);
            if delta > 0 {
                tx.execute(
                    "INSERT INTO conversation_counts \
                     (account_id, status, inbox_id, queue_key, assignee_key, awaiting, n) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (account_id, status, inbox_id, queue_key, assignee_key, awaiting) \
                     DO UPDATE SET n = conversation_counts.n + excluded.n",
                    &args,
                )
                .await
                .store()?;
            } else {
                // The row exists: the conversation was counted in it.
                let updated = tx
                    .execute(
                        "UPDATE conversation_counts SET n = n + $7 \
                         WHERE account_id = $1 AND status = $2 AND inbox_id = $3 \
                         AND queue_key = $4 AND assignee_key = $5 AND awaiting = $6",
                        &args,
                    )
                    .await
                    .store()?;
                if updated != 1 {
                    return Err(StoreError::Internal(
                        "a conversation's list counter is missing".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The stored combination of the conversation at `version`, if the row is still at it.
async fn read_old(
    tx: &mut Tx,
    account: AccountId,
    id: ConversationId,
    version: i64,
) -> StoreResult<Option<CountKey>> {
    let lock = tx.dialect().for_update();
    let Some(row) = tx
        .fetch_optional(
            &format!(
                "SELECT status, inbox_id, queue_id, assignee_id, waiting_since FROM conversations \
                 WHERE id = $1 AND account_id = $2 AND version = $3{lock}"
            ),
            &args![id, account, version],
        )
        .await
        .store()?
    else {
        return Ok(None);
    };
    Ok(Some(CountKey {
        status: row.text("status").store()?,
        inbox: row.uuid("inbox_id").store()?,
        queue: row.opt_uuid("queue_id").store()?.unwrap_or_else(Uuid::nil),
        assignee: row
            .opt_uuid("assignee_id")
            .store()?
            .unwrap_or_else(Uuid::nil),
        awaiting: row.opt_int("waiting_since").store()?.is_some(),
    }))
}

/// Rebuilds the account's counters from its conversations, in one transaction: for bulk loads
/// that write `conversations` directly (the benchmark's seed), with no commit running
/// concurrently for the account.
///
/// # Errors
/// Storage failures.
pub async fn recount(db: &Db, account: AccountId) -> StoreResult<()> {
    let nil = match db.dialect() {
        Dialect::Sqlite => "zeroblob(16)",
        Dialect::Postgres => "'00000000-0000-0000-0000-000000000000'::uuid",
    };
    let mut tx = db.begin().await.store()?;
    tx.execute(
        "DELETE FROM conversation_counts WHERE account_id = $1",
        &args![account],
    )
    .await
    .store()?;
    tx.execute(
        &format!(
            "INSERT INTO conversation_counts \
             (account_id, status, inbox_id, queue_key, assignee_key, awaiting, n) \
             SELECT account_id, status, inbox_id, COALESCE(queue_id, {nil}), \
             COALESCE(assignee_id, {nil}), waiting_since IS NOT NULL, COUNT(*) \
             FROM conversations WHERE account_id = $1 \
             GROUP BY account_id, status, inbox_id, COALESCE(queue_id, {nil}), \
             COALESCE(assignee_id, {nil}), waiting_since IS NOT NULL"
        ),
        &args![account],
    )
    .await
    .store()?;
    tx.commit().await.store()
}
