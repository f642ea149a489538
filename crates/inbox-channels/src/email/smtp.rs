//! The SMTP side shared by replies and staff notifications: a server's settings
//! ([`SmtpConfig`], one per email inbox or one for the whole server), lettre's async transport
//! built from them (tokio, rustls), and the mapping of SMTP failures onto [`DeliveryError`]
//! (H3): a 4xx reply, a refused or broken connection, a timeout or a failed TLS handshake is
//! transient; a 5xx reply is permanent, with the server's words. A send that outlives
//! [`SEND_TIMEOUT`] is transient too; if the server had in fact taken the mail, the retry carries
//! the same `Message-ID`, which mail clients show once.

use std::time::Duration;

use conversation_core::ports::DeliveryError;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::settings::domain_of;

/// How long one SMTP command may take before the attempt counts as a transient failure.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a whole send (connect, TLS, AUTH, the envelope and the data) may take: well below
/// the delivery queue's lease (120 s by default), so that no other worker claims the delivery
/// while it is still in flight (H3).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(90);

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text: only for a trusted relay on the same host or network.
    None,
    /// Plain connect, then STARTTLS, required: a server that does not offer it is refused.
    StartTls,
    /// TLS from the first byte ("implicit TLS", SMTPS).
    Tls,
}

impl SmtpTls {
    /// `none`, `starttls` or `tls` (any case).
    #[must_use]
    pub fn parse(mode: &str) -> Option<Self> {
        match mode.to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            _ => None,
        }
    }

    /// The usual port of the mode: 25, 587 or 465.
    #[must_use]
    pub const fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// An SMTP server to send through, and the address mail comes from.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// The server's host name (also the name its TLS certificate is checked against).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the connection is secured.
    pub tls: SmtpTls,
    /// SMTP AUTH user name and password, if the server wants them.
    pub credentials: Option<(String, String)>,
    /// The sender's address: the `From` header, the envelope sender, and the domain of the
    /// `Message-ID`s and of the `EHLO` greeting.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // S9: the password is never written out, not even in a debug log.
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field(
                "user",
                &self.credentials.as_ref().map(|(user, _)| user.as_str()),
            )
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    /// The domain of [`SmtpConfig::from`] (`localhost` if it has none).
    #[must_use]
    pub fn domain(&self) -> &str {
        domain_of(&self.from).unwrap_or("localhost")
    }

    /// Sends one message through the server.
    ///
    /// # Errors
    /// [`DeliveryError::Transient`] for a 4xx reply, a connection, TLS or timeout failure;
    /// [`DeliveryError::Permanent`] for a 5xx reply, with the server's words.
    pub async fn send(&self, message: Message) -> Result<(), DeliveryError> {
        let transport = self.transport()?;
        match tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(delivery_error(&error)),
            Err(_) => Err(DeliveryError::Transient {
                reason: format!(
                    "SMTP: {}:{} took longer than {} s",
                    self.host,
                    self.port,
                    SEND_TIMEOUT.as_secs()
                ),
                retry_after: None,
            }),
        }
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
        let tls = match self.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(self.tls_parameters()?),
            SmtpTls::Tls => Tls::Wrapper(self.tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .tls(tls)
            .hello_name(ClientId::Domain(self.domain().to_owned()))
            .timeout(Some(COMMAND_TIMEOUT));
        if let Some((user, password)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }

    fn tls_parameters(&self) -> Result<TlsParameters, DeliveryError> {
        TlsParameters::new(self.host.clone()).map_err(|error| DeliveryError::Permanent {
            reason: format!(
                "the SMTP TLS settings for {} are invalid: {error}",
                self.host
            ),
        })
    }
}

/// H3: an SMTP failure as a delivery error. Only a 5xx reply is permanent: everything else
/// (4xx, refused connection, broken TLS, timeouts, a garbled reply) may pass on a later try.
#[must_use]
pub fn delivery_error(error: &lettre::transport::smtp::Error) -> DeliveryError {
    let reason = format!("SMTP: {error}");
    if error.is_permanent() {
        DeliveryError::Permanent { reason }
    } else {
        DeliveryError::Transient {
            reason,
            retry_after: None,
        }
    }
}
