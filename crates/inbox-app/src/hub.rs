//! Realtime fan-out (N1). After a commit the use case publishes the new events to the account's
//! feed, a bounded broadcast channel. A subscriber (one websocket) first catches up from the
//! event log after the last sequence it saw, then follows the feed; it fills any gap from the log
//! and drops what it already saw, so it gets every event once, in order (L8). A subscriber that
//! falls more than the channel's capacity behind is told so (`Lagged`) and catches up from the
//! log again, or its socket is told to resync (L7): the hub never buffers without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use conversation_core::ids::AccountId;
use conversation_core::ports::StoredEvent;
use tokio::sync::broadcast;

/// How many events a feed holds for slow subscribers before they must catch up from the log.
pub const FEED_CAPACITY: usize = 1024;

/// The feeds of every account with subscribers.
#[derive(Debug, Default)]
pub struct Hub {
    feeds: Mutex<HashMap<AccountId, broadcast::Sender<Arc<StoredEvent>>>>,
}

impl Hub {
    /// Sends committed events to the account's subscribers, if it has any.
    pub fn publish(&self, account: AccountId, events: impl IntoIterator<Item = StoredEvent>) {
        let feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(feed) = feeds.get(&account) {
            for event in events {
                // No receiver left is not an error: the next subscriber reads the log.
                let _ = feed.send(Arc::new(event));
            }
        }
    }

    /// A new subscription to the account's feed.
    #[must_use]
    pub fn subscribe(&self, account: AccountId) -> broadcast::Receiver<Arc<StoredEvent>> {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        feeds.retain(|_, feed| feed.receiver_count() > 0);
        feeds
            .entry(account)
            .or_insert_with(|| broadcast::channel(FEED_CAPACITY).0)
            .subscribe()
    }
}
