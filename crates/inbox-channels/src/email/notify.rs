//! Staff notifications by email (N3): one mail to a list of recipients with a subject and a
//! text, sent over a server-level [`SmtpConfig`]. The notice's id (the outbox row's) makes the
//! `Message-ID`, so a retried notice carries the same one and mail clients can collapse it.
//! [`StaffNotifier`] is the application's [`StaffMailer`] port; its `Debug` never shows the
//! SMTP password (S9).

use async_trait::async_trait;
use conversation_core::ports::{DeliveryError, StaffEmail, StaffMailer};
use lettre::Message;
use lettre::message::{Mailbox, SinglePart};

use super::smtp::SmtpConfig;

/// One notification to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffNotice {
    /// A stable id (the outbox row's): the `Message-ID` is `<{id}@{domain of the sender}>`.
    pub id: String,
    /// The staff addresses, all in `To` of one mail.
    pub recipients: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The plain text.
    pub text: String,
}

/// Sends staff notifications through one SMTP server.
#[derive(Clone, Debug)]
pub struct StaffNotifier {
    smtp: SmtpConfig,
}

#[async_trait]
impl StaffMailer for StaffNotifier {
    async fn send(&self, email: &StaffEmail) -> Result<String, DeliveryError> {
        let notice = StaffNotice {
            id: email.id.clone(),
            recipients: email.recipients.clone(),
            subject: email.subject.clone(),
            text: email.text.clone(),
        };
        Self::send(self, &notice).await
    }
}

impl StaffNotifier {
    /// A notifier sending through `smtp`, from `smtp.from`.
    #[must_use]
    pub const fn new(smtp: SmtpConfig) -> Self {
        Self { smtp }
    }

    /// The server it sends through.
    #[must_use]
    pub const fn smtp(&self) -> &SmtpConfig {
        &self.smtp
    }

    /// Sends one notice as one mail; returns its `Message-ID` without angle brackets.
    ///
    /// # Errors
    /// [`DeliveryError::Permanent`] for no recipient or an address that is not one, or a 5xx
    /// reply; [`DeliveryError::Transient`] for a 4xx reply or a connection failure.
    pub async fn send(&self, notice: &StaffNotice) -> Result<String, DeliveryError> {
        let permanent = |reason: String| DeliveryError::Permanent { reason };
        if notice.recipients.is_empty() {
            return Err(permanent("the notification has no recipient".to_owned()));
        }
        let from: Mailbox = self.smtp.from.parse().map_err(|error| {
            permanent(format!(
                "the sender `{}` is not an email address: {error}",
                self.smtp.from
            ))
        })?;
        let message_id = format!("{}@{}", notice.id, self.smtp.domain());
        let mut builder = Message::builder()
            .from(from)
            .message_id(Some(format!("<{message_id}>")))
            .subject(notice.subject.clone());
        for recipient in &notice.recipients {
            let to: Mailbox = recipient.parse().map_err(|error| {
                permanent(format!(
                    "the recipient `{recipient}` is not an email address: {error}"
                ))
            })?;
            builder = builder.to(to);
        }
        let mail = builder
            .singlepart(SinglePart::plain(notice.text.clone()))
            .map_err(|error| permanent(format!("the mail cannot be built: {error}")))?;
        self.smtp.send(mail).await?;
        Ok(message_id)
    }
}
