//! `ConnectionStore`: one connection per inbox (H1, A4), settings and secrets as JSON objects.
//! Saving is an upsert keyed by the inbox, refused with `not_found` when the inbox is not one of
//! the account (A1): the insert selects the inbox's row, so a foreign inbox inserts nothing.

use std::collections::BTreeMap;

use async_trait::async_trait;
use conversation_core::DomainError;
use conversation_core::ids::{AccountId, InboxId};
use conversation_core::ports::{ChannelConnection, ConnectionStore, StoreError, StoredConnection};

use crate::directory::{name_of, parse_name};
use crate::error::{OrStoreError, StoreResult, json_error};
use crate::open::SqlStore;
use crate::rows::to_json;
use crate::sql::{Row, args};

fn connection_row(row: &Row) -> StoreResult<StoredConnection> {
    let map = |column: &str| -> StoreResult<BTreeMap<String, String>> {
        serde_json::from_str(&row.text(column).store()?).map_err(json_error)
    };
    Ok(StoredConnection {
        account: AccountId::from_uuid(row.uuid("account_id").store()?),
        inbox: InboxId::from_uuid(row.uuid("inbox_id").store()?),
        kind: parse_name(row, "kind")?,
        connection: ChannelConnection {
            settings: map("settings")?,
            secrets: map("secrets")?,
        },
        updated_at: row.time("updated_at").store()?,
    })
}

#[async_trait]
impl ConnectionStore for SqlStore {
    async fn save_connection(&self, connection: &StoredConnection) -> Result<(), StoreError> {
        let written = self
            .db
            .execute(
                "INSERT INTO channel_connections \
                 (inbox_id, account_id, kind, settings, secrets, updated_at) \
                 SELECT id, account_id, $3, $4, $5, $6 FROM inboxes \
                 WHERE id = $1 AND account_id = $2 \
                 ON CONFLICT (inbox_id) DO UPDATE SET kind = excluded.kind, \
                 settings = excluded.settings, secrets = excluded.secrets, \
                 updated_at = excluded.updated_at",
                &args![
                    connection.inbox,
                    connection.account,
                    name_of(&connection.kind)?,
                    to_json(&connection.connection.settings)?,
                    to_json(&connection.connection.secrets)?,
                    connection.updated_at
                ],
            )
            .await
            .store()?;
        if written == 0 {
            return Err(DomainError::NotFound.into());
        }
        Ok(())
    }

    async fn connection(
        &self,
        account: AccountId,
        inbox: InboxId,
    ) -> Result<Option<StoredConnection>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT inbox_id, account_id, kind, settings, secrets, updated_at \
                 FROM channel_connections WHERE inbox_id = $1 AND account_id = $2",
                &args![inbox, account],
            )
            .await
            .store()?
            .map(|row| connection_row(&row))
            .transpose()
    }
}
