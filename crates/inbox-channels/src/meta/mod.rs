//! Meta's channels (H1, H2): Facebook Messenger and Instagram direct messages, which share the
//! Messenger Platform's webhook and Send API formats ([`MessengerAdapter`]), and the WhatsApp
//! Cloud API ([`WhatsAppAdapter`]). The Graph API parts they share live here: the verify-token
//! handshake and the `X-Hub-Signature-256` check (`webhook`), the Graph HTTP client with its
//! error mapping (`graph`), and approved-template parameters (`template`).

mod graph;
mod messenger;
mod messenger_inbound;
mod template;
mod webhook;
mod whatsapp;
mod whatsapp_inbound;

pub use messenger::MessengerAdapter;
pub use whatsapp::WhatsAppAdapter;

/// The Graph API's public base URL, used when `settings.base_url` is not set.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";

/// The Graph API version used when `settings.api_version` is not set.
pub const DEFAULT_API_VERSION: &str = "v21.0";

use conversation_core::ports::ChannelConnection;

/// Checks the connection keys every Meta channel reads: `secrets.app_secret`,
/// `secrets.verify_token`, `secrets.access_token`, and the optional `settings.api_version`
/// and `settings.base_url`.
fn check_common(connection: &ChannelConnection) -> Result<(), String> {
    for (name, what) in [
        (
            "app_secret",
            "the Meta app's secret (App settings > Basic), which signs every webhook call",
        ),
        (
            "verify_token",
            "any string you also type into the app's webhook set-up, echoed back in the handshake",
        ),
        (
            "access_token",
            "a long-lived access token of the Page or WhatsApp system user, used to send",
        ),
    ] {
        if connection.secret(name).is_none() {
            return Err(format!("secrets.{name} is missing: give {what}"));
        }
    }
    if let Some(version) = connection.setting("api_version") {
        let valid = version
            .strip_prefix('v')
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(major, minor)| {
                !major.is_empty()
                    && !minor.is_empty()
                    && major
                        .chars()
                        .chain(minor.chars())
                        .all(|c| c.is_ascii_digit())
            });
        if !valid {
            return Err(format!(
                "settings.api_version \"{version}\" is not a Graph API version: write it like \"{DEFAULT_API_VERSION}\""
            ));
        }
    }
    check_base_url(connection)
}

/// Checks `settings.base_url`, if given, is an http(s) URL.
fn check_base_url(connection: &ChannelConnection) -> Result<(), String> {
    match connection.setting("base_url") {
        Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => Err(format!(
            "settings.base_url \"{url}\" must start with https:// (or http:// for a local test server)"
        )),
        _ => Ok(()),
    }
}
