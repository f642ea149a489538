//! The inbox's channel adapters (H1, H2, H3, A4): one module per channel kind, each
//! implementing `conversation_core::ports::ChannelAdapter`. An adapter verifies a provider's
//! webhook over the raw body before it parses it, turns the provider's payloads into channel
//! events, and sends, unsends and fetches media through the provider's HTTP API. Every provider
//! base URL comes from the inbox's connection settings, with the provider's public URL as the
//! default, so tests run this real client code against small local servers that speak the
//! provider's documented wire format. Adapters keep no state but their HTTP clients; the
//! application stores what they parse and drives their sends from the durable outbox.

pub mod meta;
pub mod signature;
pub mod telegram;
pub mod twitter;
