//! SMS to staff (N4) through a Twilio-compatible HTTP API: `config` holds the server-level
//! settings (base URL, account, token, sender), `client` sends one text and maps the
//! provider's answers onto [`DeliveryError`](conversation_core::ports::DeliveryError).

pub mod client;
pub mod config;

pub use client::{SmsClient, SmsReceipt};
pub use config::{SmsSender, TwilioConfig};
