//! N4: the account's staff SMS setting (whether a visitor's new chat texts staff, and which
//! numbers), one row per account, written by its owners and admins.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::commit::StoreError;
use crate::Timestamp;
use crate::ids::AccountId;

/// N4: who gets a text when a visitor starts a chat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSmsSettings {
    /// Whether texts are sent at all.
    pub enabled: bool,
    /// The staff numbers, in E.164 form, without duplicates.
    pub numbers: Vec<String>,
}

/// Keeps each account's [`StaffSmsSettings`].
#[async_trait]
pub trait StaffSmsStore: Send + Sync {
    /// The account's setting; `None` when it was never saved (A1: another account's is never
    /// read).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn staff_sms(&self, account: AccountId) -> Result<Option<StaffSmsSettings>, StoreError>;

    /// Replaces the account's setting (an upsert keyed by the account).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn save_staff_sms(
        &self,
        account: AccountId,
        settings: &StaffSmsSettings,
        at: Timestamp,
    ) -> Result<(), StoreError>;
}
