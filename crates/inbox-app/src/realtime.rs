//! Realtime subscriptions (N1, W6, L8): what one connected agent or widget visitor receives.
//!
//! [`App::subscribe`] gives a [`Subscription`] that starts after the last sequence the client
//! saw. [`Subscription::next`] returns, in order and once each, the events of the account's log
//! the caller may see, then follows the hub's feed (see [`crate::hub`]): a gap in the feed is
//! filled from the log, a duplicate is dropped, a lag is caught up from the log. Typing and read
//! indicators come in between as [`Delivery::Signal`]s; they are not events of the log, have no
//! sequence and are never replayed.
//!
//! Who receives what:
//! - **Owners, admins and agents with full access** (A2 "sees all"): every event of the account,
//!   and every typing and read signal of its conversations.
//! - **Plain agents** (A2): presence events of every agent of the account (R1: lists show
//!   presence); the events of the conversations they may see *now*, by the same rule as the REST
//!   API (`can_see_conversation`: their queues, assigned or offered to them, participating);
//!   besides, any event that names them (an offer to them that timed out, a conference they left,
//!   an alert for them) and the event that took a conversation out of their sight (so their
//!   lists can drop it). Visibility is cached per conversation inside the subscription and
//!   computed again whenever an event about its assignment, queue or status passes. Catching up
//!   from the log applies today's visibility to older events, never a visibility the agent no
//!   longer has.
//! - **Widget visitors** (S5, M10): only the events of their own conversations (their contact,
//!   on their inbox) that [`DomainEvent::visible_to_contact`] allows: never a private note,
//!   assignment, routing, presence or internal dialog event; and only the typing and read
//!   signals of agents on those conversations, never the typing of a private note.
//! - Integrations (API tokens) have no realtime stream: they use webhooks (N5).
//!
//! Signals: [`Subscription::typing`] and [`Subscription::read`] send one, for a conversation
//! the caller may see (`not_found` otherwise, the same answer for another account's id, S1),
//! to the other agents and the visitor of that conversation, never back to the sender. A
//! visitor's read also marks their contact seen (M6).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use conversation_core::actor::{Actor, Principal};
use conversation_core::conversation::{ConversationEventKind, TransferTarget};
use conversation_core::ids::{AccountId, AgentId, ContactId, ConversationId, InboxId};
use conversation_core::permissions;
use conversation_core::ports::StoredEvent;
use conversation_core::{DomainError, DomainEvent, Timestamp};
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use crate::app::App;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::hub::Owner;

/// How many events one read of the log returns while catching up.
const CATCH_UP_PAGE: u32 = 500;

/// How many conversations a subscription remembers the visibility of before it forgets them all.
const VISIBILITY_CACHE: usize = 10_000;

/// An ephemeral indicator (W6): not stored, no sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signal {
    /// The conversation it is about.
    pub conversation: ConversationId,
    /// Who sent it: an agent or the contact.
    pub from: Actor,
    /// What it says.
    #[serde(flatten)]
    pub kind: SignalKind,
    /// When it was sent.
    pub at: Timestamp,
}

/// What a signal says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SignalKind {
    /// The sender started (`on`) or stopped typing.
    Typing {
        /// Typing or not.
        on: bool,
        /// An agent typing a private note: shown to agents only (M10).
        private: bool,
    },
    /// The sender read the conversation's messages up to this sequence (M9).
    Read {
        /// The last message sequence read.
        sequence: u64,
    },
}

/// What a subscription delivers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// An event of the log, the next one this caller may see.
    Event(Arc<StoredEvent>),
    /// A typing or read indicator.
    Signal(Arc<Signal>),
    /// L7: while following the live feed, the caller fell more than the feed holds behind (it
    /// did not take events as fast as they came). Calling `next` again catches up from the log;
    /// a socket tells its client to resync instead. A lag while catching up from the log is not
    /// reported: the subscription reads the log again.
    Lagged,
}

/// Whose stream it is.
#[derive(Clone, Debug)]
enum Audience {
    /// Owners, admins and agents with full access: everything of the account.
    Everything {
        /// The agent.
        agent: AgentId,
    },
    /// A plain agent: A2.
    Agent(Principal),
    /// A widget visitor: their own conversations, what the contact may see.
    Visitor {
        /// The contact.
        contact: ContactId,
        /// The inbox.
        inbox: InboxId,
    },
}

impl Audience {
    const fn actor(&self) -> Actor {
        match self {
            Self::Everything { agent } => Actor::Agent(*agent),
            Self::Agent(principal) => Actor::Agent(principal.agent),
            Self::Visitor { contact, .. } => Actor::Contact(*contact),
        }
    }
}

/// One caller's realtime stream. [`Subscription::next`] is cancel-safe: whatever it had taken
/// from the feed or the log stays in the subscription until it is delivered or skipped, so it
/// can be raced in `tokio::select!` against the caller's own frames.
pub struct Subscription {
    app: App,
    account: AccountId,
    audience: Audience,
    /// The last sequence delivered or skipped.
    last: u64,
    /// Whether the log may hold events after `last` that the feed will not bring.
    behind: bool,
    /// Whether events came from the feed since the last read of the log (a lag then means the
    /// caller is slower than the live events, L7).
    live: bool,
    backlog: VecDeque<Arc<StoredEvent>>,
    pending_signal: Option<Arc<Signal>>,
    feed: broadcast::Receiver<Arc<StoredEvent>>,
    signals: broadcast::Receiver<Arc<Signal>>,
    /// Per conversation: may this caller see it (agents) or is it theirs (visitors).
    visible: HashMap<ConversationId, bool>,
    /// S8: signals sent in the current one-second window.
    sent_signals: (Instant, u32),
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("account", &self.account)
            .field("audience", &self.audience)
            .field("last", &self.last)
            .field("behind", &self.behind)
            .finish_non_exhaustive()
    }
}

impl App {
    /// N1, W6, L8: the realtime stream of an agent or a widget visitor, starting after the
    /// sequence `after` (0: from the start of the account's log). See the module doc for what
    /// each caller receives.
    ///
    /// # Errors
    /// `forbidden` for integrations.
    pub fn subscribe(&self, caller: &Caller, after: u64) -> AppResult<Subscription> {
        let audience = match caller {
            Caller::Agent { principal, .. } if permissions::can_see_all(principal) => {
                Audience::Everything {
                    agent: principal.agent,
                }
            }
            Caller::Agent { principal, .. } => Audience::Agent(principal.clone()),
            Caller::Visitor { contact, inbox, .. } => Audience::Visitor {
                contact: *contact,
                inbox: *inbox,
            },
            Caller::Integration { .. } => {
                return Err(DomainError::Forbidden {
                    action: "subscribe to realtime events with an API token",
                }
                .into());
            }
        };
        let account = caller.account();
        // The feed first: what commits from now on is in it, what committed before is in the
        // log, and the overlap is dropped by sequence.
        let feed = self.hub.subscribe(account);
        let signals = self.hub.subscribe_signals(account);
        Ok(Subscription {
            app: self.clone(),
            account,
            audience,
            last: after,
            behind: true,
            live: false,
            backlog: VecDeque::new(),
            pending_signal: None,
            feed,
            signals,
            visible: HashMap::new(),
            sent_signals: (Instant::now(), 0),
        })
    }
}

impl Subscription {
    /// The last sequence delivered or skipped: a client that saw every delivered event may
    /// resume after the last one it saw.
    #[must_use]
    pub const fn last_sequence(&self) -> u64 {
        self.last
    }

    /// The next event or signal for this caller. Events come in sequence order, each once, none
    /// missing among those the caller may see; [`Delivery::Lagged`] when the caller fell behind
    /// the live events.
    ///
    /// # Errors
    /// Storage failures while reading the log or a conversation.
    pub async fn next(&mut self) -> AppResult<Delivery> {
        loop {
            if let Some(signal) = self.pending_signal.clone() {
                let deliver = self.receives_signal(&signal).await?;
                self.pending_signal = None;
                if deliver {
                    return Ok(Delivery::Signal(signal));
                }
                continue;
            }
            if let Some(event) = self.backlog.front().cloned() {
                if event.sequence <= self.last {
                    self.backlog.pop_front();
                    continue;
                }
                if event.sequence != self.last + 1 {
                    // A gap: an event committed concurrently was published later, or missed.
                    // The log has everything before a committed event (N1, L8).
                    self.backlog.clear();
                    self.behind = true;
                    continue;
                }
                let deliver = self.sees(&event.event).await?;
                self.backlog.pop_front();
                self.last = event.sequence;
                if deliver {
                    return Ok(Delivery::Event(event));
                }
                continue;
            }
            if self.behind {
                let page = self
                    .app
                    .store
                    .events_after(self.account, self.last, CATCH_UP_PAGE)
                    .await?;
                if page.len() < CATCH_UP_PAGE as usize {
                    self.behind = false;
                }
                self.live = false;
                self.backlog.extend(page.into_iter().map(Arc::new));
                continue;
            }
            tokio::select! {
                received = self.feed.recv() => match received {
                    Ok(event) => {
                        self.live = true;
                        if event.sequence > self.last {
                            self.backlog.push_back(event);
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        self.behind = true;
                        if std::mem::take(&mut self.live) {
                            return Ok(Delivery::Lagged);
                        }
                    }
                    Err(RecvError::Closed) => {
                        return Err(AppError::Internal("the realtime feed closed".into()));
                    }
                },
                received = self.signals.recv() => match received {
                    Ok(signal) => self.pending_signal = Some(signal),
                    // Missed indicators are not replayed: they are ephemeral.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => {
                        return Err(AppError::Internal("the realtime feed closed".into()));
                    }
                },
            }
        }
    }

    /// W6: tells the others on the conversation that the caller started or stopped typing.
    /// `private` (agents only): a private note, never shown to the contact (M10).
    ///
    /// # Errors
    /// `not_found` when the caller may not see the conversation (S1, S5); `rate_limited` past
    /// the signals allowed per second (S8).
    pub async fn typing(
        &mut self,
        conversation: ConversationId,
        on: bool,
        private: bool,
    ) -> AppResult<()> {
        let private = private && !matches!(self.audience, Audience::Visitor { .. });
        self.send_signal(conversation, SignalKind::Typing { on, private })
            .await
    }

    /// W6: tells the others on the conversation that the caller read its messages up to
    /// `sequence`.
    ///
    /// # Errors
    /// As [`Subscription::typing`].
    pub async fn read(&mut self, conversation: ConversationId, sequence: u64) -> AppResult<()> {
        self.send_signal(conversation, SignalKind::Read { sequence })
            .await?;
        // M6: a visitor who reads is seen.
        if let Audience::Visitor { contact, .. } = self.audience {
            self.app.mark_contact_seen(self.account, contact).await;
        }
        Ok(())
    }

    async fn send_signal(
        &mut self,
        conversation: ConversationId,
        kind: SignalKind,
    ) -> AppResult<()> {
        // S8: counted before anything is read, so that probing ids costs the client its quota.
        let limit = self.app.hub.settings().signals_per_second;
        let now = Instant::now();
        if now.duration_since(self.sent_signals.0) >= std::time::Duration::from_secs(1) {
            self.sent_signals = (now, 0);
        }
        if self.sent_signals.1 >= limit {
            return Err(AppError::RateLimited {
                retry_after_secs: 1,
            });
        }
        self.sent_signals.1 += 1;
        if !self.may_see_conversation(conversation).await? {
            return Err(DomainError::NotFound.into());
        }
        self.app.hub.signal(
            self.account,
            Signal {
                conversation,
                from: self.audience.actor(),
                kind,
                at: self.app.now(),
            },
        );
        Ok(())
    }

    /// Whether this caller receives the signal.
    async fn receives_signal(&mut self, signal: &Signal) -> AppResult<bool> {
        if signal.from == self.audience.actor() {
            return Ok(false);
        }
        if matches!(self.audience, Audience::Visitor { .. })
            && (!matches!(signal.from, Actor::Agent(_))
                || matches!(signal.kind, SignalKind::Typing { private: true, .. }))
        {
            return Ok(false);
        }
        self.may_see_conversation(signal.conversation).await
    }

    /// Whether this caller receives the event (see the module doc).
    async fn sees(&mut self, event: &DomainEvent) -> AppResult<bool> {
        self.app.hub.learn_owner(self.account, event);
        let conversation = event.conversation();
        // What this caller could see before the event, when the event may change it.
        let before = match conversation {
            Some(conversation) if changes_access(event) => self.visible.remove(&conversation),
            _ => None,
        };
        match &self.audience {
            Audience::Everything { .. } => Ok(true),
            Audience::Agent(principal) => {
                let Some(conversation) = conversation else {
                    return Ok(matches!(event, DomainEvent::Presence(_)));
                };
                if names_agent(event, principal.agent) || before == Some(true) {
                    return Ok(true);
                }
                self.may_see_conversation(conversation).await
            }
            Audience::Visitor { .. } => match conversation {
                Some(conversation) if event.visible_to_contact() => {
                    self.may_see_conversation(conversation).await
                }
                _ => Ok(false),
            },
        }
    }

    /// A2 for agents (for those who see all: the conversation exists in the account), S5 for
    /// visitors (it is theirs). Cached.
    async fn may_see_conversation(&mut self, conversation: ConversationId) -> AppResult<bool> {
        if let Some(visible) = self.visible.get(&conversation) {
            return Ok(*visible);
        }
        let visible = match &self.audience {
            Audience::Visitor { contact, inbox } => {
                let owner = match self.app.hub.owner(self.account, conversation) {
                    Some(owner) => Some(owner),
                    None => self
                        .app
                        .store
                        .conversation(self.account, conversation)
                        .await?
                        .map(|stored| {
                            let owner = Owner {
                                contact: stored.value.contact,
                                inbox: stored.value.inbox,
                            };
                            self.app
                                .hub
                                .remember_owner(self.account, conversation, owner);
                            owner
                        }),
                };
                owner.is_some_and(|owner| owner.contact == *contact && owner.inbox == *inbox)
            }
            Audience::Everything { .. } => self
                .app
                .store
                .conversation(self.account, conversation)
                .await?
                .is_some(),
            Audience::Agent(principal) => {
                match self
                    .app
                    .store
                    .conversation(self.account, conversation)
                    .await?
                {
                    None => false,
                    Some(stored) => {
                        let access = self
                            .app
                            .access(self.account, principal, &stored.value)
                            .await?;
                        permissions::can_see_conversation(principal, access)
                    }
                }
            }
        };
        if self.visible.len() >= VISIBILITY_CACHE {
            self.visible.clear();
        }
        self.visible.insert(conversation, visible);
        Ok(visible)
    }
}

/// Whether the event may change who sees its conversation (assignment, queue, status,
/// participants): visibility is computed again when it passes.
const fn changes_access(event: &DomainEvent) -> bool {
    match event {
        DomainEvent::Conversation(event) => !matches!(
            event.kind,
            ConversationEventKind::InboundReceived { .. } | ConversationEventKind::ReplySent { .. }
        ),
        _ => false,
    }
}

/// Whether the event is about this agent: an offer to them, their conference part, their
/// released capacity, an alert for them.
fn names_agent(event: &DomainEvent, me: AgentId) -> bool {
    let DomainEvent::Conversation(event) = event else {
        return false;
    };
    match &event.kind {
        ConversationEventKind::Offered { agent, .. }
        | ConversationEventKind::OfferAccepted { agent }
        | ConversationEventKind::OfferDeclined { agent }
        | ConversationEventKind::OfferTimedOut { agent }
        | ConversationEventKind::ConferenceJoined { agent }
        | ConversationEventKind::ConferenceDeclined { agent } => *agent == me,
        ConversationEventKind::Assigned { agent, released } => {
            *agent == me || *released == Some(me)
        }
        ConversationEventKind::ConferenceRequested { invitee, .. } => *invitee == me,
        ConversationEventKind::ConferenceLeft {
            agent, remaining, ..
        } => *agent == me || *remaining == me,
        ConversationEventKind::Transferred { from, target, .. } => {
            *from == me || matches!(target, TransferTarget::Agent { agent, .. } if *agent == me)
        }
        ConversationEventKind::Resolved { released, .. }
        | ConversationEventKind::Dropped { released }
        | ConversationEventKind::Queued { released, .. }
        | ConversationEventKind::HandedToBot { released, .. } => *released == Some(me),
        ConversationEventKind::Interrupted { alerted, .. } => alerted.contains(&me),
        ConversationEventKind::Started { .. }
        | ConversationEventKind::InboundReceived { .. }
        | ConversationEventKind::Reopened { .. }
        | ConversationEventKind::ReplySent { .. }
        | ConversationEventKind::HandedBack { .. }
        | ConversationEventKind::ReplyOverdue { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use conversation_core::conversation::{ConversationEvent, ReplyKind};
    use conversation_core::ids::{MessageId, QueueId};

    use super::*;

    const ME: AgentId = AgentId::from_u128(1);
    const OTHER: AgentId = AgentId::from_u128(2);

    fn event(kind: ConversationEventKind) -> DomainEvent {
        DomainEvent::Conversation(ConversationEvent {
            conversation: ConversationId::from_u128(9),
            at: Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap(),
            actor: Actor::System,
            kind,
        })
    }

    #[test]
    fn a2_events_about_an_agent_reach_them_even_when_the_conversation_left_their_sight() {
        assert!(names_agent(
            &event(ConversationEventKind::OfferTimedOut { agent: ME }),
            ME
        ));
        assert!(!names_agent(
            &event(ConversationEventKind::OfferTimedOut { agent: OTHER }),
            ME
        ));
        assert!(names_agent(
            &event(ConversationEventKind::Queued {
                queue: Some(QueueId::from_u128(3)),
                released: Some(ME),
            }),
            ME
        ));
        assert!(names_agent(
            &event(ConversationEventKind::Interrupted {
                cause: conversation_core::conversation::InterruptCause::InboxDeleted,
                alerted: vec![OTHER, ME],
            }),
            ME
        ));
        assert!(!names_agent(
            &event(ConversationEventKind::ReplySent {
                message: MessageId::from_u128(4),
                kind: ReplyKind::FreeForm,
                dialog: None,
            }),
            ME
        ));
    }

    #[test]
    fn a2_visibility_is_computed_again_on_assignment_and_status_events_only() {
        assert!(changes_access(&event(ConversationEventKind::Assigned {
            agent: OTHER,
            released: None,
        })));
        assert!(changes_access(&event(ConversationEventKind::Resolved {
            wrap_up: None,
            released: None,
        })));
        assert!(!changes_access(&event(
            ConversationEventKind::InboundReceived {
                message: MessageId::from_u128(4),
                dialog: None,
            }
        )));
    }
}
