//! The cross-process realtime doorbell on PostgreSQL (`LISTEN/NOTIFY`). Every commit that
//! appends events calls `pg_notify('inbox_events', '<account>:<first>:<last>')` in its own
//! transaction, after the account's event counter: PostgreSQL delivers it when, and only if,
//! the transaction commits, so there is exactly one ring per commit (never one per message or
//! event) and never a ring for a rolled-back change. Each process listens with a [`PgListener`]
//! and its hub reads the rung range from the log (`inbox_app::doorbell`).
//!
//! SQLite serves one process, which publishes its own commits: no ring, and
//! [`Doorbell::listen`] answers `None`.

use async_trait::async_trait;
use conversation_core::ids::AccountId;
use conversation_core::ports::{Doorbell, DoorbellListener, Ring, Rung, StoreError};
use sqlx::postgres::PgListener;

use crate::error::{OrStoreError, store_error};
use crate::open::SqlStore;
use crate::sql::{Db, Dialect, Tx, args};

/// The channel every process listens on.
pub const DOORBELL_CHANNEL: &str = "inbox_events";

/// Rings the doorbell for the events `first..=last` of the account, when the transaction
/// commits (PostgreSQL only).
pub(crate) async fn ring(
    tx: &mut Tx,
    account: AccountId,
    first: i64,
    last: i64,
) -> Result<(), StoreError> {
    if tx.dialect() != Dialect::Postgres {
        return Ok(());
    }
    tx.fetch_optional(
        "SELECT pg_notify($1, $2) AS rung",
        &args![DOORBELL_CHANNEL, format!("{account}:{first}:{last}")],
    )
    .await
    .store()?;
    Ok(())
}

/// Reads a ring's payload; `None` for anything else on the channel.
fn parse(payload: &str) -> Option<Ring> {
    let mut parts = payload.split(':');
    let account = AccountId::from_uuid(uuid::Uuid::parse_str(parts.next()?).ok()?);
    let first = parts.next()?.parse().ok()?;
    let last = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(Ring {
        account,
        first,
        last,
    })
}

struct PgDoorbell {
    listener: PgListener,
}

#[async_trait]
impl DoorbellListener for PgDoorbell {
    async fn next(&mut self) -> Result<Rung, StoreError> {
        loop {
            match self.listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(ring) = parse(notification.payload()) {
                        return Ok(Rung::Ring(ring));
                    }
                }
                // The connection was lost; the next call connects and listens again.
                Ok(None) => return Ok(Rung::Missed),
                Err(error) => return Err(store_error(error)),
            }
        }
    }
}

#[async_trait]
impl Doorbell for SqlStore {
    async fn listen(&self) -> Result<Option<Box<dyn DoorbellListener>>, StoreError> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await.store()?;
        listener.listen(DOORBELL_CHANNEL).await.store()?;
        Ok(Some(Box::new(PgDoorbell { listener })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n1_ring_payloads_are_read_back() {
        let account = AccountId::from_u128(5);
        assert_eq!(
            parse(&format!("{account}:3:7")),
            Some(Ring {
                account,
                first: 3,
                last: 7
            })
        );
        assert_eq!(parse("garbage"), None);
        assert_eq!(parse(&format!("{account}:3:7:9")), None);
    }
}
