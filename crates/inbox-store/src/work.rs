//! `TimerStore` and `OutboxStore`: durable work claimed with a lease (L4, L5, H3, N5, R6, R11).
//!
//! A claim is one statement: a sub-select picks the due rows whose lease is free or expired,
//! earliest due first, and locks them (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
//! claimers on any number of processes skip each other's rows instead of waiting or taking
//! them twice); the update around it leases them to the owner and counts the attempt, and
//! returns them. A single statement is its own transaction, so the locks are held until the
//! lease is written. SQLite has one writer, which serializes claims by itself.
//!
//! Finishing (and retrying) is conditional on the owner still holding the lease: a timer that
//! a commit re-scheduled meanwhile had its lease cleared by the commit's upsert, so the old
//! owner's finish leaves it in place.

use async_trait::async_trait;
use conversation_core::Timestamp;
use conversation_core::ids::AccountId;
use conversation_core::ports::{
    ClaimedWork, OutboxItem, OutboxKind, OutboxStore, StoreError, Timer, TimerStore,
};
use uuid::Uuid;

use crate::directory::{int_as, name_of, parse_name};
use crate::error::{OrStoreError, StoreResult};
use crate::open::SqlStore;
use crate::sql::{Arg, Row, args};

/// The claim statement for a table whose rows are named by `key_columns`.
fn claim_sql(table: &str, key_columns: &str, returning: &str, lock: &str) -> String {
    claim_sql_where(table, key_columns, returning, lock, "")
}

/// The claim statement, with an extra condition on the due rows (`scope`).
fn claim_sql_where(
    table: &str,
    key_columns: &str,
    returning: &str,
    lock: &str,
    scope: &str,
) -> String {
    format!(
        "WITH due AS (\
             SELECT {key_columns} FROM {table} \
             WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1){scope} \
             ORDER BY due_at, {key_columns} LIMIT $4{lock}\
         ) \
         UPDATE {table} SET lease_owner = $2, lease_until = $3, attempts = attempts + 1 \
         WHERE ({key_columns}) IN (SELECT {key_columns} FROM due) \
         RETURNING {returning}"
    )
}

/// How many times the row was claimed before this claim.
fn attempts_before(row: &Row) -> StoreResult<u32> {
    let after: u32 = int_as(row, "attempts")?;
    Ok(after.saturating_sub(1))
}

fn timer_row(row: &Row) -> StoreResult<ClaimedWork<Timer>> {
    Ok(ClaimedWork {
        item: Timer {
            account: AccountId::from_uuid(row.uuid("account_id").store()?),
            key: row.text("key").store()?,
            kind: parse_name(row, "kind")?,
            payload: row.text("payload").store()?,
            due_at: row.time("due_at").store()?,
        },
        attempts: attempts_before(row)?,
    })
}

fn outbox_row(row: &Row) -> StoreResult<ClaimedWork<OutboxItem>> {
    Ok(ClaimedWork {
        item: OutboxItem {
            id: row.uuid("id").store()?,
            account: AccountId::from_uuid(row.uuid("account_id").store()?),
            kind: parse_name(row, "kind")?,
            payload: row.text("payload").store()?,
            due_at: row.time("due_at").store()?,
        },
        attempts: attempts_before(row)?,
    })
}

#[async_trait]
impl TimerStore for SqlStore {
    async fn claim_due_timers(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedWork<Timer>>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let sql = claim_sql(
            "timers",
            "account_id, key",
            "account_id, key, kind, payload, due_at, attempts",
            self.db.dialect().for_update_skip_locked(),
        );
        let mut claimed = self
            .db
            .execute_returning(&sql, &args![now, owner, lease_until, limit])
            .await
            .store()?
            .iter()
            .map(timer_row)
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING keeps no order: earliest due first, as selected.
        claimed.sort_by(|a, b| {
            (a.item.due_at, a.item.account, &a.item.key).cmp(&(
                b.item.due_at,
                b.item.account,
                &b.item.key,
            ))
        });
        Ok(claimed)
    }

    async fn claim_due_timers_of(
        &self,
        account: AccountId,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedWork<Timer>>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let sql = claim_sql_where(
            "timers",
            "account_id, key",
            "account_id, key, kind, payload, due_at, attempts",
            self.db.dialect().for_update_skip_locked(),
            " AND account_id = $5",
        );
        let mut claimed = self
            .db
            .execute_returning(&sql, &args![now, owner, lease_until, limit, account])
            .await
            .store()?
            .iter()
            .map(timer_row)
            .collect::<StoreResult<Vec<_>>>()?;
        claimed.sort_by(|a, b| (a.item.due_at, &a.item.key).cmp(&(b.item.due_at, &b.item.key)));
        Ok(claimed)
    }

    async fn finish_timer(
        &self,
        account: AccountId,
        key: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let removed = self
            .db
            .execute(
                "DELETE FROM timers WHERE account_id = $1 AND key = $2 AND lease_owner = $3",
                &args![account, key, owner],
            )
            .await
            .store()?;
        Ok(removed > 0)
    }
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn claim_outbox(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedWork<OutboxItem>>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let sql = claim_sql(
            "outbox",
            "id",
            "id, account_id, kind, payload, due_at, attempts",
            self.db.dialect().for_update_skip_locked(),
        );
        let mut claimed = self
            .db
            .execute_returning(&sql, &args![now, owner, lease_until, limit])
            .await
            .store()?
            .iter()
            .map(outbox_row)
            .collect::<StoreResult<Vec<_>>>()?;
        claimed.sort_by_key(|work| (work.item.due_at, work.item.id));
        Ok(claimed)
    }

    async fn claim_outbox_of(
        &self,
        kinds: &[OutboxKind],
        account: Option<AccountId>,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedWork<OutboxItem>>, StoreError> {
        if limit == 0 || kinds.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = args![now, owner, lease_until, limit].to_vec();
        let mut scope = String::from(" AND kind IN (");
        for (i, kind) in kinds.iter().enumerate() {
            args.push(Arg::from(name_of(kind)?));
            if i > 0 {
                scope.push_str(", ");
            }
            scope.push_str(&format!("${}", args.len()));
        }
        scope.push(')');
        if let Some(account) = account {
            args.push(Arg::from(account.as_uuid()));
            scope.push_str(&format!(" AND account_id = ${}", args.len()));
        }
        let sql = claim_sql_where(
            "outbox",
            "id",
            "id, account_id, kind, payload, due_at, attempts",
            self.db.dialect().for_update_skip_locked(),
            &scope,
        );
        let mut claimed = self
            .db
            .execute_returning(&sql, &args)
            .await
            .store()?
            .iter()
            .map(outbox_row)
            .collect::<StoreResult<Vec<_>>>()?;
        claimed.sort_by_key(|work| (work.item.due_at, work.item.id));
        Ok(claimed)
    }

    async fn pending_outbox(
        &self,
        account: AccountId,
        kind: OutboxKind,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let kind = name_of(&kind)?;
        self.db
            .fetch_all(
                "SELECT id, account_id, kind, payload, due_at, attempts + 1 AS attempts \
                 FROM outbox WHERE account_id = $1 AND kind = $2 ORDER BY due_at, id LIMIT $3",
                &args![account, kind, limit],
            )
            .await
            .store()?
            .iter()
            .map(|row| outbox_row(row).map(|work| work.item))
            .collect()
    }

    async fn finish_outbox(&self, id: Uuid, owner: &str) -> Result<bool, StoreError> {
        let removed = self
            .db
            .execute(
                "DELETE FROM outbox WHERE id = $1 AND lease_owner = $2",
                &args![id, owner],
            )
            .await
            .store()?;
        Ok(removed > 0)
    }

    async fn retry_outbox(
        &self,
        id: Uuid,
        owner: &str,
        due_at: Timestamp,
        last_error: &str,
    ) -> Result<bool, StoreError> {
        let updated = self
            .db
            .execute(
                "UPDATE outbox SET due_at = $3, last_error = $4, lease_owner = NULL, \
                 lease_until = NULL WHERE id = $1 AND lease_owner = $2",
                &args![id, owner, due_at, last_error],
            )
            .await
            .store()?;
        Ok(updated > 0)
    }
}
