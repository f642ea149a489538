//! The inbound webhook of a channel (A4, S7, M4, M6, M7, M8, L2): the provider calls
//! `/api/v1/channels/{inbox}/webhook`; the inbox's adapter verifies the call over the raw body
//! with the connection's secret and only then parses it. A missing or wrong signature is
//! refused before anything is read or stored.
//!
//! Each parsed message: the contact is found by (inbox, external id) or created with what the
//! channel tells of them (K2; two first messages racing create one contact: the identity is the
//! primary key, the loser reads the winner's); its media is fetched with the adapter and checked
//! by the attachment rules (M7: a refused file leaves a note in the text, the message is kept);
//! a quote names our message by its external id (M4, kept only inside the same conversation);
//! it is stored through [`App::receive_inbound`]'s path, once per (inbox, external id) however
//! often and however concurrently the provider retries (M8, L2). Each status report moves the
//! delivery status of our message with that external id (M6), and a read watermark moves every
//! message of ours sent up to it (`read_watermark.rs`); stale, repeated and unknown reports
//! change nothing.
//!
//! A mail whose thread names one of our messages joins that message's conversation (`thread`,
//! W7), whoever sent it.
//!
//! A transient failure to fetch media answers `unavailable` (503) so that the provider retries;
//! what was stored before is found again by its external id.

use std::sync::Arc;

use conversation_core::DomainError;
use conversation_core::entities::{ChannelIdentity, Contact, Inbox};
use conversation_core::ids::{ContactId, InboxId};
use conversation_core::message::{
    Attachment, DeliveryReport, DeliveryStatus, MessageKind, Upload, accept_attachment,
};
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, ChannelEvent, ContactAddress, DeliveryError,
    InboundChannelMessage, MediaReference, StatusReport, WebhookError, WebhookOutcome,
    WebhookRequest,
};

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::inbound::{ChannelExtras, Inbound};

/// The path of an inbox's webhook, relative to the server's address.
#[must_use]
pub fn webhook_path(inbox: InboxId) -> String {
    format!("/api/v1/channels/{inbox}/webhook")
}

/// What the webhook answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookReply {
    /// The provider's handshake: 200 with this body.
    Handshake {
        /// The content type.
        content_type: String,
        /// The body.
        body: String,
    },
    /// Events taken: 200.
    Accepted {
        /// Messages stored now.
        stored: usize,
        /// Messages stored before (provider retries, M8).
        duplicates: usize,
        /// Status reports that moved a message (M6).
        statuses: usize,
    },
}

impl App {
    /// A4, M8, M6: a provider's webhook call for an inbox.
    ///
    /// # Errors
    /// `not_found` for an unknown or deleted inbox, one without a connection, or a kind no
    /// adapter serves; `invalid_signature` (401, nothing stored); `bad_request` for a verified
    /// body the adapter does not understand; `unavailable` when media could not be fetched yet.
    pub async fn channel_webhook(
        &self,
        inbox: InboxId,
        request: WebhookRequest,
    ) -> AppResult<WebhookReply> {
        let inbox = self
            .store
            .inbox_by_id(inbox)
            .await?
            .ok_or(DomainError::NotFound)?;
        let stored = self
            .store
            .connection(inbox.account, inbox.id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let adapter = Arc::clone(
            self.adapters
                .get(inbox.channel)
                .ok_or(DomainError::NotFound)?,
        );
        let outcome = adapter
            .receive(&stored.connection, &request, self.now())
            .map_err(|error| match error {
                WebhookError::Unauthorized(reason) => AppError::InvalidSignature(reason),
                WebhookError::Malformed(reason) => {
                    AppError::BadRequest(format!("the webhook's body is not understood: {reason}"))
                }
            })?;
        let events = match outcome {
            WebhookOutcome::Handshake { content_type, body } => {
                return Ok(WebhookReply::Handshake { content_type, body });
            }
            WebhookOutcome::Events(events) => events,
        };
        let (mut stored_now, mut duplicates, mut statuses) = (0, 0, 0);
        for event in events {
            match event {
                ChannelEvent::Message(message) => {
                    let duplicate = self
                        .channel_message(&inbox, &*adapter, &stored.connection, message)
                        .await?;
                    if duplicate {
                        duplicates += 1;
                    } else {
                        stored_now += 1;
                    }
                }
                ChannelEvent::Status(report) => {
                    if self.channel_status(&inbox, &report).await? {
                        statuses += 1;
                    }
                }
                ChannelEvent::ReadUpTo(watermark) => {
                    statuses += self.channel_read_up_to(&inbox, &watermark).await?;
                }
            }
        }
        Ok(WebhookReply::Accepted {
            stored: stored_now,
            duplicates,
            statuses,
        })
    }

    /// Stores one inbound message; answers whether it was stored before.
    async fn channel_message(
        &self,
        inbox: &Inbox,
        adapter: &dyn ChannelAdapter,
        connection: &ChannelConnection,
        message: InboundChannelMessage,
    ) -> AppResult<bool> {
        let account = inbox.account;
        // M8 first: a retry of a stored message fetches nothing and creates no contact.
        if self
            .store
            .message_by_external_id(account, inbox.id, &message.external_id)
            .await?
            .is_some()
        {
            return Ok(true);
        }
        // Email threading (W7): a mail answering one of ours joins that conversation, whoever
        // sent it; anything else is the sender's, found or created by their address.
        let threaded = if message.thread.is_empty() {
            None
        } else {
            self.threaded(inbox, &message.thread).await?
        };
        let (home, contact) = match threaded {
            Some(threaded) => (threaded.inbox, threaded.contact),
            None => (
                inbox.clone(),
                self.channel_contact(inbox, &message.from).await?,
            ),
        };
        let quote = match &message.quoted_external_id {
            Some(quoted) => self
                .store
                .message_by_external_id(account, inbox.id, quoted)
                .await?
                .filter(|quoted| !quoted.is_deleted())
                .map(|quoted| (quoted.id, quoted.conversation)),
            None => None,
        };
        let mut body = message.body.clone();
        let mut files = Vec::new();
        for media in &message.media {
            match self
                .channel_media(inbox, adapter, connection, media)
                .await?
            {
                Ok(file) => files.push(file),
                Err(reason) => {
                    if !body.is_empty() {
                        body.push('\n');
                    }
                    body.push_str(&format!("[attachment not accepted: {reason}]"));
                }
            }
        }
        let mut files = files.into_iter();
        let first = files.next();
        let kind = if first.is_some() {
            MessageKind::Media
        } else {
            MessageKind::Text
        };
        let (attachment, bytes) = first.map_or((None, None), |(a, b)| (Some(a), Some(b)));
        let received = self
            .receive_channel_inbound(
                &home,
                contact,
                Inbound {
                    kind,
                    body,
                    attachment,
                    external_id: Some(message.external_id.clone()),
                    client_id: None,
                },
                &ChannelExtras {
                    quote,
                    file: bytes,
                    subject: message.subject.clone(),
                },
            )
            .await?;
        // Further files of the same message: one media message each, deduplicated by their own
        // derived external ids.
        for (index, (attachment, bytes)) in files.enumerate() {
            self.receive_channel_inbound(
                &home,
                contact,
                Inbound {
                    kind: MessageKind::Media,
                    body: String::new(),
                    attachment: Some(attachment),
                    external_id: Some(format!("{}#{}", message.external_id, index + 2)),
                    client_id: None,
                },
                &ChannelExtras {
                    quote: None,
                    file: Some(bytes),
                    subject: None,
                },
            )
            .await?;
        }
        Ok(received.duplicate)
    }

    /// K2: the contact of a channel address on the inbox, created on their first message.
    async fn channel_contact(&self, inbox: &Inbox, from: &ContactAddress) -> AppResult<ContactId> {
        let account = inbox.account;
        if let Some(contact) = self
            .store
            .contact_by_identity(account, inbox.id, &from.external_id)
            .await?
        {
            return Ok(contact.id);
        }
        let now = self.now();
        let contact = Contact {
            id: ContactId::from_uuid(self.ids.new_uuid(now)),
            account,
            name: from.name.clone(),
            email: from.email.clone(),
            phone: from.phone.clone(),
            location: None,
            notes: String::new(),
            attributes: std::collections::BTreeMap::new(),
            responsible_agent: None,
            identities: vec![ChannelIdentity {
                inbox: inbox.id,
                external_id: from.external_id.clone(),
            }],
            merged_into: None,
            created_at: now,
        };
        match self.store.save_contact(&contact).await {
            Ok(()) => Ok(contact.id),
            Err(error) => {
                // A concurrent first message created them: theirs is the contact.
                match self
                    .store
                    .contact_by_identity(account, inbox.id, &from.external_id)
                    .await?
                {
                    Some(existing) => Ok(existing.id),
                    None => Err(error.into()),
                }
            }
        }
    }

    /// M7: a message's file, fetched and checked. `Ok(Err(reason))` for a file refused for
    /// good (kept as a note in the text); `Err` for a transient failure (503: retried).
    async fn channel_media(
        &self,
        inbox: &Inbox,
        adapter: &dyn ChannelAdapter,
        connection: &ChannelConnection,
        media: &MediaReference,
    ) -> AppResult<Result<(Attachment, Arc<[u8]>), String>> {
        let fetched = match &media.inline {
            Some(bytes) => conversation_core::ports::FetchedMedia {
                bytes: bytes.clone(),
                content_type: media
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into()),
                file_name: media.file_name.clone().unwrap_or_else(|| "file".into()),
            },
            None => match adapter.fetch_media(connection, media).await {
                Ok(fetched) => fetched,
                Err(DeliveryError::Permanent { reason }) => return Ok(Err(reason)),
                Err(DeliveryError::Transient { reason, .. }) => {
                    return Err(AppError::Unavailable(
                        format!("the channel's media could not be fetched: {reason}").into(),
                    ));
                }
            },
        };
        let upload = Upload {
            file_name: &fetched.file_name,
            content_type: &fetched.content_type,
            bytes: &fetched.bytes,
        };
        let storage_key = self.new_id().to_string();
        match accept_attachment(&upload, inbox.settings.attachment_max_bytes, storage_key) {
            Ok(attachment) => Ok(Ok((attachment, Arc::from(fetched.bytes)))),
            Err(refused) => Ok(Err(refused.to_string())),
        }
    }

    /// M6: a provider's status report on one of our messages; answers whether it moved it.
    async fn channel_status(&self, inbox: &Inbox, report: &StatusReport) -> AppResult<bool> {
        let Some(message) = self
            .store
            .message_by_external_id(inbox.account, inbox.id, &report.external_id)
            .await?
        else {
            return Ok(false);
        };
        let delivery_report = match report.status {
            DeliveryStatus::Pending => return Ok(false),
            DeliveryStatus::Sent => DeliveryReport::Sent,
            DeliveryStatus::Delivered => DeliveryReport::Delivered,
            DeliveryStatus::Read => DeliveryReport::Read,
            DeliveryStatus::Failed => DeliveryReport::Failed {
                reason: report
                    .reason
                    .clone()
                    .unwrap_or_else(|| "the channel reported a failure".into()),
            },
        };
        let at = report.at.unwrap_or_else(|| self.now());
        self.record_delivery(inbox.account, message.id, delivery_report, at, None)
            .await
    }
}
