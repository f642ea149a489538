//! The email inbox's connection keys, read and checked in one place (`check_connection`).
//!
//! | key | kind | meaning |
//! |---|---|---|
//! | `address` | setting, required | the inbox's address: the `From` of replies, the domain of their `Message-ID`s |
//! | `smtp_host` | setting, required | the SMTP server replies go out through |
//! | `smtp_tls` | setting, default `starttls` | `none` (plain text, trusted local relays only), `starttls` (STARTTLS required), `tls` (TLS from the first byte) |
//! | `smtp_port` | setting, default by `smtp_tls` | `none` 25, `starttls` 587, `tls` 465 |
//! | `smtp_username`, `smtp_password` | secrets, optional | SMTP AUTH credentials; both or neither |
//! | `inbound_secret` | secret, required | the key of the HMAC-SHA256 signature of inbound posts (A4) |

use conversation_core::ports::ChannelConnection;

use super::smtp::{SmtpConfig, SmtpTls};

/// The setting naming the inbox's address.
pub const ADDRESS: &str = "address";
/// The setting naming the SMTP host.
pub const SMTP_HOST: &str = "smtp_host";
/// The setting naming the SMTP port.
pub const SMTP_PORT: &str = "smtp_port";
/// The setting naming the TLS mode.
pub const SMTP_TLS: &str = "smtp_tls";
/// The secret naming the SMTP user.
pub const SMTP_USERNAME: &str = "smtp_username";
/// The secret holding the SMTP password.
pub const SMTP_PASSWORD: &str = "smtp_password";
/// The secret that signs inbound posts.
pub const INBOUND_SECRET: &str = "inbound_secret";

/// An email inbox's connection, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailSettings {
    /// How replies go out (the `From` is the inbox's address).
    pub smtp: SmtpConfig,
    /// The key of inbound signatures.
    pub inbound_secret: String,
}

impl EmailSettings {
    /// Reads and checks a connection.
    ///
    /// # Errors
    /// A sentence naming the missing or malformed key and what to give instead.
    pub fn from_connection(connection: &ChannelConnection) -> Result<Self, String> {
        let address = connection
            .setting(ADDRESS)
            .ok_or_else(|| format!("settings.{ADDRESS} is missing: give the inbox's email address, such as support@example.com"))?
            .trim()
            .to_owned();
        if domain_of(&address).is_none() || address.parse::<lettre::Address>().is_err() {
            return Err(format!(
                "settings.{ADDRESS} `{address}` is not an email address: give one such as support@example.com"
            ));
        }
        let host = connection
            .setting(SMTP_HOST)
            .ok_or_else(|| {
                format!("settings.{SMTP_HOST} is missing: give the SMTP server's host name, such as smtp.example.com")
            })?
            .trim()
            .to_owned();
        if host.contains(|c: char| c.is_whitespace() || c == '/' || c == ':') {
            return Err(format!(
                "settings.{SMTP_HOST} `{host}` is not a host name: give a name or an address without scheme or port, such as smtp.example.com"
            ));
        }
        let tls = match connection.setting(SMTP_TLS).map(str::trim) {
            None => SmtpTls::StartTls,
            Some(mode) => SmtpTls::parse(mode).ok_or_else(|| {
                format!("settings.{SMTP_TLS} `{mode}` is not a TLS mode: give `none`, `starttls` or `tls`")
            })?,
        };
        let port = match connection.setting(SMTP_PORT).map(str::trim) {
            None => tls.default_port(),
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| {
                    format!("settings.{SMTP_PORT} `{port}` is not a port: give a number from 1 to 65535, such as 587")
                })?,
        };
        let credentials = match (
            connection.secret(SMTP_USERNAME),
            connection.secret(SMTP_PASSWORD),
        ) {
            (None, None) => None,
            (Some(user), Some(password)) => Some((user.to_owned(), password.to_owned())),
            (Some(_), None) => {
                return Err(format!(
                    "secrets.{SMTP_PASSWORD} is missing: give it with secrets.{SMTP_USERNAME}, or give neither"
                ));
            }
            (None, Some(_)) => {
                return Err(format!(
                    "secrets.{SMTP_USERNAME} is missing: give it with secrets.{SMTP_PASSWORD}, or give neither"
                ));
            }
        };
        let inbound_secret = connection
            .secret(INBOUND_SECRET)
            .ok_or_else(|| {
                format!("secrets.{INBOUND_SECRET} is missing: give a long random key that signs the mails posted to the inbox (A4)")
            })?
            .to_owned();
        Ok(Self {
            smtp: SmtpConfig {
                host,
                port,
                tls,
                credentials,
                from: address,
            },
            inbound_secret,
        })
    }
}

/// The domain of an address (`support@example.com` → `example.com`), if it has one.
#[must_use]
pub fn domain_of(address: &str) -> Option<&str> {
    let (local, domain) = address.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then_some(domain)
}
