//! The outbound channel port: one implementation per channel kind in `inbox-channels`.
//! The durable outbox calls it after the commit; it never runs inside a transaction.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::channel::{Capabilities, ChannelKind};
use crate::entities::ChannelIdentity;
use crate::ids::{InboxId, MessageId};

/// What is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboundContent {
    /// Plain text, already validated (M2) and masked (M3).
    Text {
        /// The body.
        body: String,
    },
    /// An approved template with its parameter values (M1, C4).
    Template {
        /// The template's name at the provider.
        name: String,
        /// Its parameters, by name.
        parameters: BTreeMap<String, String>,
    },
    /// A stored attachment (M7), with an optional caption.
    Media {
        /// The attachment's generated id.
        attachment: String,
        /// Its content type.
        content_type: String,
        /// Its file name.
        file_name: String,
        /// A caption.
        caption: Option<String>,
    },
}

/// One message to deliver through a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundDelivery {
    /// The message: its id is the idempotency key the adapter passes on where the provider
    /// supports one, so a retried send is never delivered twice (H3).
    pub message: MessageId,
    /// The inbox it goes out of.
    pub inbox: InboxId,
    /// The contact's address on that inbox.
    pub to: ChannelIdentity,
    /// What to send.
    pub content: OutboundContent,
}

/// The provider accepted the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentReceipt {
    /// The provider's id of the message, used to match delivery statuses and to unsend.
    pub external_id: String,
}

/// Why a delivery failed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DeliveryError {
    /// Worth retrying with backoff (timeouts, 5xx, rate limits).
    #[error("temporary delivery failure: {reason}")]
    Transient {
        /// The provider's words.
        reason: String,
        /// How long the provider asked to wait, if it did.
        retry_after: Option<Duration>,
    },
    /// Never worth retrying: the message is marked `failed` with this reason (H3, M6).
    #[error("delivery failed: {reason}")]
    Permanent {
        /// The provider's words.
        reason: String,
    },
}

/// Sends messages through one channel kind.
#[async_trait]
pub trait ChannelSender: Send + Sync {
    /// The kind it serves.
    fn kind(&self) -> ChannelKind;

    /// H2: what it supports; the domain asks before it acts.
    fn capabilities(&self) -> Capabilities;

    /// Sends one message.
    ///
    /// # Errors
    /// [`DeliveryError::Transient`] when a retry may succeed, [`DeliveryError::Permanent`]
    /// otherwise. Guarantee: an `Ok` means the provider accepted the message.
    async fn send(&self, delivery: &OutboundDelivery) -> Result<SentReceipt, DeliveryError>;

    /// M5: removes a sent message on the contact's side, where [`Capabilities::unsend`] is set.
    ///
    /// # Errors
    /// As for [`ChannelSender::send`]; a channel without unsend answers `Permanent`.
    async fn unsend(&self, inbox: InboxId, external_id: &str) -> Result<(), DeliveryError>;
}
