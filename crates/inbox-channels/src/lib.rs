//! The inbox's channel adapters (H1, H2, H3, A4): one module per channel kind, each
//! implementing `conversation_core::ports::ChannelAdapter`. An adapter verifies a provider's
//! webhook over the raw body before it parses it, turns the provider's payloads into channel
//! events, and sends, unsends and fetches media through the provider's HTTP API. Every provider
//! base URL comes from the inbox's connection settings, with the provider's public URL as the
//! default, so tests run this real client code against small local servers that speak the
//! provider's documented wire format. Adapters keep no state but their HTTP clients; the
//! application stores what they parse and drives their sends from the durable outbox.
//!
//! To add a channel: a module here, and its adapter in [`adapters`].

pub mod api;
pub mod email;
pub mod http;
pub mod meta;
pub mod outgoing;
pub mod signature;
pub mod sms;
pub mod telegram;
pub mod twitter;

use std::sync::Arc;
use std::time::Duration;

use conversation_core::ports::{ChannelAdapter, Clock, WebhookPoster};

/// The settings of the adapters' HTTP clients.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// The longest a whole request may take. It must stay well below the delivery queue's
    /// lease (`inbox_app::delivery::DeliveryConfig::lease_secs`), so that no other worker
    /// claims a delivery while its send is still in flight (H3).
    pub timeout: Duration,
    /// The longest a connection may take to open.
    pub connect_timeout: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// The HTTP client every adapter shares.
///
/// # Panics
/// Only if the TLS or resolver back end cannot start, which `reqwest` reports at build time.
#[must_use]
pub fn http_client(settings: &ClientSettings) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.connect_timeout)
        .user_agent(concat!("inbox/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds")
}

/// Every channel adapter, sharing one HTTP client with these settings; `clock` is the
/// application's (signature timestamps, token expiries).
#[must_use]
pub fn adapters(settings: &ClientSettings, clock: &Arc<dyn Clock>) -> Vec<Arc<dyn ChannelAdapter>> {
    let client = http_client(settings);
    vec![
        Arc::new(api::ApiChannel::new(client.clone(), Arc::clone(clock))),
        Arc::new(email::EmailAdapter::new()),
        Arc::new(meta::MessengerAdapter::messenger(client.clone())),
        Arc::new(meta::MessengerAdapter::instagram(client.clone())),
        Arc::new(meta::WhatsAppAdapter::new(client.clone())),
        Arc::new(telegram::TelegramAdapter::new(client.clone())),
        Arc::new(twitter::TwitterAdapter::new(client)),
    ]
}

/// N5: the poster of outgoing webhooks, with its own HTTP client of these settings.
#[must_use]
pub fn webhook_poster(settings: &ClientSettings) -> Arc<dyn WebhookPoster> {
    Arc::new(outgoing::HttpPoster::new(http_client(settings)))
}
