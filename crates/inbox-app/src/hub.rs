//! Realtime fan-out (N1). After a commit the use case publishes the new events to the account's
//! feed, a bounded broadcast channel. A subscriber (one websocket) first catches up from the
//! event log after the last sequence it saw, then follows the feed; it fills any gap from the log
//! and drops what it already saw, so it gets every event once, in order (L8). A subscriber that
//! falls more than the channel's capacity behind is told so (`Lagged`) and catches up from the
//! log again, or its socket is told to resync (L7): the hub never buffers without bound, and a
//! slow subscriber costs the others nothing (the channel overwrites what it did not take).
//!
//! Ephemeral signals (typing and read indicators, W6) are not events of the log: they go through
//! a second bounded broadcast channel per account, are never stored, and a subscriber that lags
//! on them simply misses some. [`crate::realtime`] decides who receives what.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use conversation_core::DomainEvent;
use conversation_core::conversation::ConversationEventKind;
use conversation_core::ids::{AccountId, ContactId, ConversationId, InboxId};
use conversation_core::ports::StoredEvent;
use tokio::sync::broadcast;

use crate::realtime::Signal;

/// How many events a feed holds by default for slow subscribers before they must catch up from
/// the log or resync.
pub const FEED_CAPACITY: usize = 1024;

/// How many typing and read signals a feed holds; a subscriber further behind misses some.
pub const SIGNAL_CAPACITY: usize = 256;

/// How many conversation owners the hub remembers before it forgets them all (they are read
/// again from the store when needed).
const OWNERS_CAPACITY: usize = 65_536;

/// The tunable limits of realtime connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealtimeSettings {
    /// L7: how many events an account's feed holds; a connection that falls further behind the
    /// live events is told to resync. Applies to feeds created from now on.
    pub feed_capacity: usize,
    /// How many frames one connection may have waiting to be written; while it is full the
    /// connection stops taking events (and, live, falls behind the feed).
    pub client_buffer: usize,
    /// A3: how long a new socket has to send its `auth` frame.
    pub auth_timeout: Duration,
    /// L7: how long writing one frame may take before the socket is dropped (a client that
    /// stopped reading).
    pub write_timeout: Duration,
    /// S9: how often an open socket's token is checked again, so that a revoked session stops
    /// receiving.
    pub reauth_interval: Duration,
    /// S8: how many typing and read signals one connection may send per second; more are
    /// dropped.
    pub signals_per_second: u32,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            feed_capacity: FEED_CAPACITY,
            client_buffer: 64,
            auth_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            reauth_interval: Duration::from_secs(60),
            signals_per_second: 20,
        }
    }
}

/// One account's channels.
#[derive(Debug)]
struct Feeds {
    events: broadcast::Sender<Arc<StoredEvent>>,
    signals: broadcast::Sender<Arc<Signal>>,
    /// The highest sequence published on this feed (0: none yet).
    published: u64,
}

impl Feeds {
    fn new(capacity: usize) -> Self {
        Self {
            events: broadcast::channel(capacity.max(1)).0,
            signals: broadcast::channel(SIGNAL_CAPACITY).0,
            published: 0,
        }
    }

    fn in_use(&self) -> bool {
        self.events.receiver_count() > 0 || self.signals.receiver_count() > 0
    }
}

/// Who a conversation belongs to: it never changes, so every subscription of the process shares
/// what one of them learnt (S5 checks of widget visitors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) contact: ContactId,
    pub(crate) inbox: InboxId,
}

/// The feeds of every account with subscribers.
#[derive(Debug, Default)]
pub struct Hub {
    feeds: Mutex<HashMap<AccountId, Feeds>>,
    owners: Mutex<HashMap<(AccountId, ConversationId), Owner>>,
    settings: Mutex<RealtimeSettings>,
}

impl Hub {
    /// Sends committed events to the account's subscribers, if it has any, in increasing
    /// sequence order (see [`crate::doorbell`] for events of other processes).
    pub fn publish(&self, account: AccountId, events: impl IntoIterator<Item = StoredEvent>) {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(feed) = feeds.get_mut(&account) else {
            return;
        };
        for event in events {
            self.learn_owner(account, &event.event);
            // The feed only moves forward: an event at or below what it carried already came
            // (the doorbell read it from the log first) or is older than one that did, which
            // a subscriber then sees as a gap and reads from the log (N1, L8).
            if event.sequence <= feed.published {
                continue;
            }
            feed.published = event.sequence;
            // No receiver left is not an error: the next subscriber reads the log.
            let _ = feed.events.send(Arc::new(event));
        }
    }

    /// The highest sequence published to the account's feed; `None` when the account has no
    /// feed (no subscriber in this process), so nothing needs publishing.
    #[must_use]
    pub fn published(&self, account: AccountId) -> Option<u64> {
        let feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        feeds
            .get(&account)
            .filter(|feed| feed.in_use())
            .map(|feed| feed.published)
    }

    /// Every account with subscribers, with the highest sequence published to its feed.
    #[must_use]
    pub fn feeds(&self) -> Vec<(AccountId, u64)> {
        let feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        feeds
            .iter()
            .filter(|(_, feed)| feed.in_use())
            .map(|(account, feed)| (*account, feed.published))
            .collect()
    }

    /// A new subscription to the account's feed.
    #[must_use]
    pub fn subscribe(&self, account: AccountId) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.with_feeds(account, |feeds| feeds.events.subscribe())
    }

    /// A new subscription to the account's typing and read signals.
    #[must_use]
    pub fn subscribe_signals(&self, account: AccountId) -> broadcast::Receiver<Arc<Signal>> {
        self.with_feeds(account, |feeds| feeds.signals.subscribe())
    }

    /// Sends a typing or read signal to the account's subscribers, if it has any. Signals are
    /// never stored.
    pub fn signal(&self, account: AccountId, signal: Signal) {
        let feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(feed) = feeds.get(&account) {
            let _ = feed.signals.send(Arc::new(signal));
        }
    }

    /// The limits of realtime connections.
    #[must_use]
    pub fn settings(&self) -> RealtimeSettings {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the limits of connections opened from now on (tests use tiny buffers, L7).
    pub fn configure(&self, settings: RealtimeSettings) {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = settings;
    }

    fn with_feeds<T>(&self, account: AccountId, f: impl FnOnce(&Feeds) -> T) -> T {
        let capacity = self.settings().feed_capacity;
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        feeds.retain(|_, feed| feed.in_use());
        f(feeds.entry(account).or_insert_with(|| Feeds::new(capacity)))
    }

    /// Remembers who a conversation belongs to, from its `started` event.
    pub(crate) fn learn_owner(&self, account: AccountId, event: &DomainEvent) {
        if let DomainEvent::Conversation(started) = event {
            if let ConversationEventKind::Started { contact, inbox, .. } = &started.kind {
                self.remember_owner(
                    account,
                    started.conversation,
                    Owner {
                        contact: *contact,
                        inbox: *inbox,
                    },
                );
            }
        }
    }

    pub(crate) fn remember_owner(
        &self,
        account: AccountId,
        conversation: ConversationId,
        owner: Owner,
    ) {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        if owners.len() >= OWNERS_CAPACITY {
            owners.clear();
        }
        owners.insert((account, conversation), owner);
    }

    pub(crate) fn owner(&self, account: AccountId, conversation: ConversationId) -> Option<Owner> {
        self.owners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(account, conversation))
            .copied()
    }
}
