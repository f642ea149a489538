//! The channel port: one [`ChannelAdapter`] per channel kind, implemented in `inbox-channels`.
//!
//! An adapter does three things for the inboxes of its kind, each with the inbox's
//! [`ChannelConnection`] (its settings and secrets) passed in:
//! - **inbound**: [`ChannelAdapter::receive`] verifies a provider's webhook call over the raw
//!   body (A4, S7) and only then parses it into [`ChannelEvent`]s, or answers the provider's
//!   handshake (Meta's verify token, Twitter's CRC challenge); media the provider only refers to
//!   is fetched afterwards with [`ChannelAdapter::fetch_media`];
//! - **outbound**: the durable outbox dispatcher calls [`ChannelAdapter::send`] and
//!   [`ChannelAdapter::unsend`] after the commit, never inside a transaction (H3, M5);
//! - **capabilities** (H2): the domain asks the adapter, not the reverse.
//!
//! The application stores what the adapter parsed (deduplicated by external id, M8) and the
//! statuses it reports (M6). Adapters hold no state of their own besides HTTP clients.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::channel::{Capabilities, ChannelKind};
use crate::entities::{ChannelIdentity, Timestamp};
use crate::ids::{ConversationId, InboxId, MessageId};
use crate::message::DeliveryStatus;

/// How one inbox is connected to its provider. `settings` are shown to admins (account and
/// phone-number ids, addresses, a provider base URL for self-hosted or test endpoints);
/// `secrets` (access tokens, app secrets, signing keys, passwords) are stored but never shown
/// back. Each adapter documents the keys it reads and checks them in
/// [`ChannelAdapter::check_connection`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelConnection {
    /// Plain settings, by name.
    pub settings: BTreeMap<String, String>,
    /// Secrets, by name.
    pub secrets: BTreeMap<String, String>,
}

impl ChannelConnection {
    /// A setting, if set and not blank.
    #[must_use]
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }

    /// A secret, if set and not blank.
    #[must_use]
    pub fn secret(&self, name: &str) -> Option<&str> {
        self.secrets
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }
}

/// A provider's webhook call exactly as it arrived: signatures are computed over `body`, so it
/// is the raw bytes, never re-serialized.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookRequest {
    /// `GET` (handshakes) or `POST` (events).
    pub method: String,
    /// The query string's parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl WebhookRequest {
    /// The first header of this name (give it in lower case).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first query parameter of this name.
    #[must_use]
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// What a verified webhook call comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The provider's handshake, answered with this body and a 200; nothing is stored.
    Handshake {
        /// The response's content type.
        content_type: String,
        /// The response's body.
        body: String,
    },
    /// Events to store, possibly none (kinds of payload the inbox does not use).
    Events(Vec<ChannelEvent>),
}

/// One thing a provider told us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelEvent {
    /// A contact wrote.
    Message(InboundChannelMessage),
    /// The status of one of our outbound messages moved (M6).
    Status(StatusReport),
    /// M6: the contact read everything we sent them up to a time (Messenger's `read`
    /// watermark, which names no message).
    ReadUpTo(ReadWatermark),
}

/// M6: "the contact has read every message sent to them at or before `up_to`".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadWatermark {
    /// The channel's id of the contact who read.
    pub contact_external_id: String,
    /// Every message we sent at or before this time is read.
    pub up_to: Timestamp,
}

/// Who wrote, as the channel knows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactAddress {
    /// The channel's id of the contact (PSID, phone number, chat id, email address).
    pub external_id: String,
    /// Their display name, if the channel gives one.
    pub name: Option<String>,
    /// Their email address, if known.
    pub email: Option<String>,
    /// Their phone number, if known.
    pub phone: Option<String>,
}

/// Media a provider refers to, fetched with [`ChannelAdapter::fetch_media`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaReference {
    /// The provider's handle: a URL, or a media or file id the adapter resolves.
    pub locator: String,
    /// The content type the provider announced.
    pub content_type: Option<String>,
    /// The file name the provider announced.
    pub file_name: Option<String>,
    /// Bytes that came inside the payload itself (email attachments); nothing to fetch then.
    pub inline: Option<Vec<u8>>,
}

/// A contact's message as a channel delivered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundChannelMessage {
    /// The channel's id of the message: the deduplication key (M8, L2).
    pub external_id: String,
    /// Who wrote.
    pub from: ContactAddress,
    /// The text (a media caption, an email's text body, a reaction's emoji).
    pub body: String,
    /// Media, if any.
    pub media: Vec<MediaReference>,
    /// The channel's id of the message this one replies to or reacts to (M4).
    pub quoted_external_id: Option<String>,
    /// Whether this is a reaction to `quoted_external_id` rather than a message.
    pub reaction: bool,
    /// Email threading (W7): the ids of `In-Reply-To` and `References`, nearest first.
    pub thread: Vec<String>,
    /// Email subject, if any.
    pub subject: Option<String>,
    /// When the provider says it was written.
    pub sent_at: Option<Timestamp>,
}

/// A provider's report on one of our outbound messages (M6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReport {
    /// The provider's id of our message ([`SentReceipt::external_id`]).
    pub external_id: String,
    /// `delivered`, `read` or `failed`.
    pub status: DeliveryStatus,
    /// The provider's reason, for `failed`.
    pub reason: Option<String>,
    /// When the provider says it happened.
    pub at: Option<Timestamp>,
}

/// A fetched media file, checked by the attachment rules (M7, S4) before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedMedia {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The content type the provider gave.
    pub content_type: String,
    /// A file name.
    pub file_name: String,
}

/// Why a webhook call was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WebhookError {
    /// A4, S7: the signature (or verify token) is missing or wrong: answered 401, nothing stored.
    #[error("the webhook's signature is missing or invalid: {0}")]
    Unauthorized(String),
    /// The body is not the provider's format: answered 400, nothing stored.
    #[error("the webhook's body is not understood: {0}")]
    Malformed(String),
}

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
        /// The bytes, read from the file store by the dispatcher.
        #[serde(skip)]
        bytes: Vec<u8>,
    },
}

/// One message to deliver through a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundDelivery {
    /// The message: its id is the idempotency key the adapter passes on where the provider
    /// supports one, so a retried send is never delivered twice (H3).
    pub message: MessageId,
    /// Its conversation (email threads and subjects use it).
    pub conversation: ConversationId,
    /// The inbox it goes out of.
    pub inbox: InboxId,
    /// The contact's address on that inbox.
    pub to: ChannelIdentity,
    /// What to send.
    pub content: OutboundContent,
    /// The channel's id of the contact's latest message, for channels that thread replies
    /// (email's `In-Reply-To`, a quoted reply).
    pub in_reply_to: Option<String>,
    /// The subject of the thread, for email.
    pub subject: Option<String>,
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

/// One channel kind's adapter (H1, H2, H3, A4).
#[async_trait]
pub trait ChannelAdapter: Send + Sync {
    /// The kind it serves.
    fn kind(&self) -> ChannelKind;

    /// H2: what it supports; the domain asks before it acts.
    fn capabilities(&self) -> Capabilities {
        self.kind().capabilities()
    }

    /// Checks a connection before it is saved.
    ///
    /// # Errors
    /// A sentence naming the missing or malformed setting or secret, and what to give instead.
    fn check_connection(&self, connection: &ChannelConnection) -> Result<(), String>;

    /// A4, S7: verifies a webhook call against the connection's secret over the raw body, and
    /// only then parses it. Pure: no I/O, no clock but `now` (signature timestamps).
    ///
    /// # Errors
    /// [`WebhookError::Unauthorized`] for a missing or wrong signature or verify token;
    /// [`WebhookError::Malformed`] for a verified body that is not the provider's format.
    fn receive(
        &self,
        connection: &ChannelConnection,
        request: &WebhookRequest,
        now: Timestamp,
    ) -> Result<WebhookOutcome, WebhookError>;

    /// Fetches media an inbound message refers to.
    ///
    /// # Errors
    /// As for [`ChannelAdapter::send`].
    async fn fetch_media(
        &self,
        connection: &ChannelConnection,
        media: &MediaReference,
    ) -> Result<FetchedMedia, DeliveryError>;

    /// Sends one message.
    ///
    /// # Errors
    /// [`DeliveryError::Transient`] when a retry may succeed, [`DeliveryError::Permanent`]
    /// otherwise. Guarantee: an `Ok` means the provider accepted the message.
    async fn send(
        &self,
        connection: &ChannelConnection,
        delivery: &OutboundDelivery,
    ) -> Result<SentReceipt, DeliveryError>;

    /// M5: removes a sent message on the contact's side, where [`Capabilities::unsend`] is set.
    ///
    /// # Errors
    /// As for [`ChannelAdapter::send`]; a channel without unsend answers `Permanent`.
    async fn unsend(
        &self,
        connection: &ChannelConnection,
        external_id: &str,
    ) -> Result<(), DeliveryError>;
}
