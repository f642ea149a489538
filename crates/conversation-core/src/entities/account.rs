use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::ids::AccountId;

/// One tenant (A1): everything else belongs to exactly one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Its id.
    pub id: AccountId,
    /// The company's name.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
}
