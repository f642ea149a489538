//! The staff-notification ports (N3, N4, D11): an email to staff addresses and a text message
//! to a staff phone number, each sent once per outbox row. The application decides who gets
//! what and when; the adapters (in `inbox-channels`) only carry it, over a server-level SMTP
//! server and a Twilio-compatible SMS API. Their failures are [`DeliveryError`]s, mapped as for
//! channel deliveries (H3): transient ones are retried with backoff, permanent ones are not.

use async_trait::async_trait;

use super::channel::DeliveryError;

/// One notification email: one mail to every recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffEmail {
    /// A stable id (the outbox row's): the mail's `Message-ID` is made from it, so a retried
    /// email carries the same one.
    pub id: String,
    /// The staff addresses, all in `To` of one mail.
    pub recipients: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The plain text.
    pub text: String,
}

/// One notification text message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffText {
    /// A stable id (the outbox row's).
    pub id: String,
    /// The staff number, in E.164 form (`+14155550100`).
    pub to: String,
    /// The text.
    pub body: String,
}

/// Sends notification emails.
#[async_trait]
pub trait StaffMailer: Send + Sync {
    /// Sends one email; returns its `Message-ID` (without angle brackets).
    ///
    /// # Errors
    /// [`DeliveryError::Transient`] when a later try may pass (a 4xx reply, no connection);
    /// [`DeliveryError::Permanent`] when it never will (a 5xx reply, an address that is not one).
    async fn send(&self, email: &StaffEmail) -> Result<String, DeliveryError>;
}

/// Sends notification text messages.
#[async_trait]
pub trait StaffTexter: Send + Sync {
    /// Sends one text; returns the provider's id of the message.
    ///
    /// # Errors
    /// [`DeliveryError::Transient`] for rate limits, provider errors and no connection (with
    /// the provider's `Retry-After`); [`DeliveryError::Permanent`] for a refused number or
    /// request.
    async fn send(&self, text: &StaffText) -> Result<String, DeliveryError>;
}
