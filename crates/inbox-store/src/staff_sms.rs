//! `StaffSmsStore` (N4): each account's staff SMS setting, one row per account
//! (`staff_sms_settings`, migration 0011), the setting stored whole as JSON. Every statement
//! filters on the account (A1).

use async_trait::async_trait;
use conversation_core::Timestamp;
use conversation_core::ids::AccountId;
use conversation_core::ports::{StaffSmsSettings, StaffSmsStore, StoreError};

use crate::error::{OrStoreError, json_error};
use crate::open::SqlStore;
use crate::rows::to_json;
use crate::sql::args;

#[async_trait]
impl StaffSmsStore for SqlStore {
    async fn staff_sms(&self, account: AccountId) -> Result<Option<StaffSmsSettings>, StoreError> {
        let row = self
            .db
            .fetch_optional(
                "SELECT settings FROM staff_sms_settings WHERE account_id = $1",
                &args![account],
            )
            .await
            .store()?;
        match row {
            None => Ok(None),
            Some(row) => {
                let text = row.text("settings").store()?;
                Ok(Some(serde_json::from_str(&text).map_err(json_error)?))
            }
        }
    }

    async fn save_staff_sms(
        &self,
        account: AccountId,
        settings: &StaffSmsSettings,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO staff_sms_settings (account_id, settings, updated_at) \
                 VALUES ($1, $2, $3) \
                 ON CONFLICT (account_id) DO UPDATE SET settings = excluded.settings, \
                 updated_at = excluded.updated_at",
                &args![account, to_json(settings)?, at],
            )
            .await
            .store()?;
        Ok(())
    }
}
