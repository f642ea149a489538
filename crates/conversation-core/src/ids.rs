//! Identifier newtypes. Every entity is named by its own type so that a contact id can never be
//! passed where a conversation id is expected. Ids are UUIDs (UUIDv7 in production, made by the
//! [`IdGenerator`](crate::ports::IdGenerator) port); the core never generates one itself.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID made by the id generator (or read back from storage).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// A deterministic id from a number, for tests and fixtures.
            #[must_use]
            pub const fn from_u128(value: u128) -> Self {
                Self(Uuid::from_u128(value))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// One tenant: a company using the inbox (A1).
    AccountId
);
id_type!(
    /// A support person (agent, manager, operator).
    AgentId
);
id_type!(
    /// A team's shared line of waiting conversations.
    QueueId
);
id_type!(
    /// One connected channel instance (a widget, a WhatsApp number, an email address).
    InboxId
);
id_type!(
    /// A customer (client, visitor, subscriber).
    ContactId
);
id_type!(
    /// The chat between one contact and the business on one inbox.
    ConversationId
);
id_type!(
    /// One message of a conversation.
    MessageId
);
id_type!(
    /// A titled, typed request handled inside a conversation.
    DialogId
);
id_type!(
    /// A wrap-up reason of the account's list (R10).
    WrapUpReasonId
);
id_type!(
    /// A personal task of an agent (N2).
    TaskId
);
id_type!(
    /// An order or service request created from a conversation (C10).
    OrderId
);
id_type!(
    /// A dialog request type of the account's settings (D1, D10).
    RequestTypeId
);
id_type!(
    /// A dialog reason of the account's settings (D1, D10).
    ReasonId
);
id_type!(
    /// A dialog component of the account's settings (D1, D10).
    ComponentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_serde() {
        let id = ConversationId::from_u128(42);
        let text = id.to_string();
        assert_eq!(text.parse::<ConversationId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<ConversationId>(&json).unwrap(), id);
    }
}
