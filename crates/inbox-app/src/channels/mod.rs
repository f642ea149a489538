//! Channels (H1, H2, A4, M8): the registry of channel adapters the application was built with
//! ([`Adapters`]), each inbox's connection to its provider ([`connections`]), and the inbound
//! webhook use case ([`webhook`]): verify, parse, store once.
//!
//! `inbox-app` never names an adapter: `inbox-server` and the tests give the adapters of
//! `inbox-channels` to [`crate::App::with_adapters`].

pub mod connections;
mod read_watermark;
mod thread;
pub mod webhook;

use std::collections::BTreeMap;
use std::sync::Arc;

use conversation_core::channel::ChannelKind;
use conversation_core::ports::ChannelAdapter;

pub use connections::{ConnectionView, SaveConnection};
pub use webhook::{WebhookReply, webhook_path};

/// The channel adapters, one per kind.
#[derive(Clone, Default)]
pub struct Adapters {
    by_kind: BTreeMap<ChannelKind, Arc<dyn ChannelAdapter>>,
}

impl std::fmt::Debug for Adapters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_kind.keys()).finish()
    }
}

impl Adapters {
    /// The registry of these adapters, keyed by the kind each serves (the last one of a kind
    /// wins).
    #[must_use]
    pub fn new(adapters: impl IntoIterator<Item = Arc<dyn ChannelAdapter>>) -> Self {
        Self {
            by_kind: adapters
                .into_iter()
                .map(|adapter| (adapter.kind(), adapter))
                .collect(),
        }
    }

    /// The adapter of a kind, if the application has one.
    #[must_use]
    pub fn get(&self, kind: ChannelKind) -> Option<&Arc<dyn ChannelAdapter>> {
        self.by_kind.get(&kind)
    }

    /// The kinds served.
    #[must_use]
    pub fn kinds(&self) -> Vec<ChannelKind> {
        self.by_kind.keys().copied().collect()
    }
}
