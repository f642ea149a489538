use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::ids::{AccountId, AgentId, ContactId, InboxId};

/// How a contact is known on one inbox (K2): the channel's own id for them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChannelIdentity {
    /// The inbox.
    pub inbox: InboxId,
    /// The channel's id of the contact (phone number, PSID, email address, visitor id).
    pub external_id: String,
}

/// A customer (K1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Its id.
    pub id: ContactId,
    /// The account.
    pub account: AccountId,
    /// Name, if known.
    pub name: Option<String>,
    /// Email, if known.
    pub email: Option<String>,
    /// Phone, if known.
    pub phone: Option<String>,
    /// Location, as reported by the channel or typed by an agent.
    pub location: Option<String>,
    /// Notes visible to all agents.
    pub notes: String,
    /// Custom attributes and external customer data pushed through the API.
    pub attributes: BTreeMap<String, String>,
    /// The account manager (K3), used by R4.
    pub responsible_agent: Option<AgentId>,
    /// The inboxes where the contact is known (K2).
    pub identities: Vec<ChannelIdentity>,
    /// When set, this contact was merged into another one (K2).
    pub merged_into: Option<ContactId>,
    /// When the contact was first seen.
    pub created_at: Timestamp,
}
