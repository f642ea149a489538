//! Who calls a use case, as authenticated by the HTTP layer from a bearer token (A3).

use conversation_core::actor::Principal;
use conversation_core::ids::{AccountId, ContactId, InboxId};

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A signed-in agent.
    Agent {
        /// Their account.
        account: AccountId,
        /// Their rights.
        principal: Principal,
    },
    /// A widget visitor: one contact on one inbox (S5).
    Visitor {
        /// The account.
        account: AccountId,
        /// The contact.
        contact: ContactId,
        /// The inbox.
        inbox: InboxId,
    },
    /// An integration with an API token: acts for the account, with an admin's rights over
    /// the API (bot flows hand back through it, C11).
    Integration {
        /// The account.
        account: AccountId,
    },
}

impl Caller {
    /// The caller's account.
    #[must_use]
    pub const fn account(&self) -> AccountId {
        match self {
            Self::Agent { account, .. }
            | Self::Visitor { account, .. }
            | Self::Integration { account } => *account,
        }
    }
}
