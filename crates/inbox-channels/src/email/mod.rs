//! The email channel (H1, H2, H3, A4, W7, M8): [`EmailAdapter`] receives raw mails posted by
//! a mail server or provider (signed, `inbound`), parses them with mail-parser (`parse`,
//! `quote`), and sends replies over SMTP with lettre (`outbound`, `smtp`), threaded by
//! `Message-ID`, `In-Reply-To` and `References`. `notify` sends staff notifications (N3) over
//! a server-level SMTP configuration. The connection keys are listed in `settings`.

pub mod inbound;
pub mod notify;
pub mod outbound;
pub mod parse;
pub mod quote;
pub mod settings;
pub mod smtp;

use async_trait::async_trait;
use conversation_core::Timestamp;
use conversation_core::channel::ChannelKind;
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, DeliveryError, FetchedMedia, MediaReference,
    OutboundDelivery, SentReceipt, WebhookError, WebhookOutcome, WebhookRequest,
};

pub use notify::{StaffNotice, StaffNotifier};
pub use settings::EmailSettings;
pub use smtp::{SmtpConfig, SmtpTls};

/// The email channel's adapter. It keeps no state: every call reads the inbox's connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmailAdapter;

impl EmailAdapter {
    /// The adapter.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

#[async_trait]
impl ChannelAdapter for EmailAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn check_connection(&self, connection: &ChannelConnection) -> Result<(), String> {
        EmailSettings::from_connection(connection).map(|_| ())
    }

    fn receive(
        &self,
        connection: &ChannelConnection,
        request: &WebhookRequest,
        now: Timestamp,
    ) -> Result<WebhookOutcome, WebhookError> {
        let secret = connection.secret(settings::INBOUND_SECRET).ok_or_else(|| {
            WebhookError::Unauthorized(
                "the inbox has no inbound_secret, so no post can be verified".to_owned(),
            )
        })?;
        inbound::receive(secret, request, now)
    }

    async fn fetch_media(
        &self,
        _connection: &ChannelConnection,
        media: &MediaReference,
    ) -> Result<FetchedMedia, DeliveryError> {
        let bytes = media
            .inline
            .clone()
            .ok_or_else(|| DeliveryError::Permanent {
                reason: format!(
                    "email attachments come inside the mail; {} has no bytes",
                    media.locator
                ),
            })?;
        Ok(FetchedMedia {
            bytes,
            content_type: media
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            file_name: media
                .file_name
                .clone()
                .unwrap_or_else(|| "attachment".to_owned()),
        })
    }

    async fn send(
        &self,
        connection: &ChannelConnection,
        delivery: &OutboundDelivery,
    ) -> Result<SentReceipt, DeliveryError> {
        let settings = EmailSettings::from_connection(connection)
            .map_err(|reason| DeliveryError::Permanent { reason })?;
        send_reply(&settings.smtp, delivery).await
    }

    async fn unsend(
        &self,
        _connection: &ChannelConnection,
        _external_id: &str,
    ) -> Result<(), DeliveryError> {
        Err(DeliveryError::Permanent {
            reason: "email cannot be unsent".to_owned(),
        })
    }
}

/// Sends one reply through `smtp` (an email inbox's server; W7's continuity emails go through the
/// continuity email inbox's connection, so through [`ChannelAdapter::send`] too):
/// the receipt's external id is the mail's `Message-ID` without angle brackets, the id the
/// contact's answer names in `In-Reply-To`.
///
/// # Errors
/// As for [`ChannelAdapter::send`]: 4xx and connection failures are transient, 5xx and mails
/// that cannot be built are permanent.
pub async fn send_reply(
    smtp: &SmtpConfig,
    delivery: &OutboundDelivery,
) -> Result<SentReceipt, DeliveryError> {
    let mail = outbound::build(smtp, delivery)?;
    smtp.send(mail).await?;
    Ok(SentReceipt {
        external_id: outbound::message_id(smtp, delivery),
    })
}
