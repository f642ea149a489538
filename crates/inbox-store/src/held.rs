//! D8: held automated messages. [`HeldStore`] reads them; [`hold`] and [`release`] are the
//! commit's steps. A message is held only while its dialog is still active: the dialog's row
//! is read with a share lock (PostgreSQL) in the holding transaction, so a commit that moves
//! the dialog out of `active` either comes first (and the hold is refused with `conflict`) or
//! waits until the held row is committed (and the release that the dialog's change schedules
//! sees it). SQLite has one writer, which orders them the same way.

use async_trait::async_trait;
use conversation_core::DomainError;
use conversation_core::dialog::AutomatedSource;
use conversation_core::ids::{AccountId, ContactId, ConversationId, DialogId, MessageId};
use conversation_core::ports::{HeldMessage, HeldRelease, HeldStore, StoreError};

use crate::error::{OrStoreError, StoreResult, Violation, store_error, violation};
use crate::open::SqlStore;
use crate::sql::{Dialect, Row, Tx, args};

const COLUMNS: &str = "id, account_id, contact_id, conversation_id, dialog_id, source, body, \
                       client_id, held_at, released_at";

fn held(row: &Row) -> StoreResult<HeldMessage> {
    let source = row.text("source").store()?;
    Ok(HeldMessage {
        id: MessageId::from_uuid(row.uuid("id").store()?),
        account: AccountId::from_uuid(row.uuid("account_id").store()?),
        contact: ContactId::from_uuid(row.uuid("contact_id").store()?),
        conversation: ConversationId::from_uuid(row.uuid("conversation_id").store()?),
        dialog: DialogId::from_uuid(row.uuid("dialog_id").store()?),
        source: AutomatedSource::parse(&source).ok_or_else(|| {
            StoreError::Internal(format!("unknown automated source {source:?}").into())
        })?,
        body: row.text("body").store()?,
        client_id: row.opt_text("client_id").store()?,
        held_at: row.time("held_at").store()?,
        released_at: row.opt_time("released_at").store()?,
    })
}

#[async_trait]
impl HeldStore for SqlStore {
    /// By `held_messages_waiting`, in release order.
    async fn held_messages(
        &self,
        account: AccountId,
        contact: ContactId,
        limit: u32,
    ) -> Result<Vec<HeldMessage>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM held_messages WHERE account_id = $1 AND contact_id = $2 \
             AND released_at IS NULL ORDER BY held_at, id LIMIT $3"
        );
        self.db
            .fetch_all(&sql, &args![account, contact, limit])
            .await
            .store()?
            .iter()
            .map(held)
            .collect()
    }

    /// By `held_messages_client`.
    async fn held_message_by_client_id(
        &self,
        account: AccountId,
        conversation: ConversationId,
        client_id: &str,
    ) -> Result<Option<HeldMessage>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM held_messages WHERE account_id = $1 AND conversation_id = $2 \
             AND client_id = $3"
        );
        self.db
            .fetch_optional(&sql, &args![account, conversation, client_id])
            .await
            .store()?
            .map(|row| held(&row))
            .transpose()
    }
}

/// The lock a hold takes on its dialog's row: shared, so holds for one dialog do not wait for
/// each other, but a change of the dialog waits for them.
const fn for_share(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR SHARE",
    }
}

/// Writes the held messages of a commit, each only while its dialog is active.
///
/// # Errors
/// `conflict` when a dialog is no longer active or a client id is already held in the
/// conversation (the caller reads it back).
pub(crate) async fn hold(
    tx: &mut Tx,
    account: AccountId,
    messages: &[HeldMessage],
) -> Result<(), StoreError> {
    for message in messages {
        if message.account != account {
            return Err(DomainError::NotFound.into());
        }
        let sql = format!(
            "SELECT id FROM dialogs WHERE id = $1 AND account_id = $2 AND contact_id = $3 \
             AND status = 'active'{}",
            for_share(tx.dialect())
        );
        let active = tx
            .fetch_optional(&sql, &args![message.dialog, account, message.contact])
            .await
            .store()?;
        if active.is_none() {
            return Err(DomainError::Conflict {
                what: "the contact's active dialog",
            }
            .into());
        }
        let inserted = tx
            .execute(
                "INSERT INTO held_messages (id, account_id, contact_id, conversation_id, dialog_id, \
                 source, body, client_id, held_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &args![
                    message.id,
                    account,
                    message.contact,
                    message.conversation,
                    message.dialog,
                    message.source.as_str(),
                    message.body.as_str(),
                    message.client_id.clone(),
                    message.held_at
                ],
            )
            .await;
        if let Err(error) = inserted {
            return Err(match violation(&error) {
                Some(Violation::HeldClientId | Violation::PrimaryKey) => DomainError::Conflict {
                    what: "the held message",
                }
                .into(),
                _ => store_error(error),
            });
        }
    }
    Ok(())
}

/// Marks held messages released, each once.
///
/// # Errors
/// `conflict` when one is unknown or already released.
pub(crate) async fn release(
    tx: &mut Tx,
    account: AccountId,
    releases: &[HeldRelease],
) -> Result<(), StoreError> {
    for release in releases {
        let updated = tx
            .execute(
                "UPDATE held_messages SET released_at = $3 \
                 WHERE id = $1 AND account_id = $2 AND released_at IS NULL",
                &args![release.id, account, release.at],
            )
            .await
            .store()?;
        if updated != 1 {
            return Err(DomainError::Conflict {
                what: "the held message",
            }
            .into());
        }
    }
    Ok(())
}
