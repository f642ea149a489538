//! The shape of every change to a conversation: load it with what its rules need (inbox,
//! the contact's dialogs), let the caller plan a command, let the core decide, commit state,
//! events, messages and outbox in one transaction, publish the events. A lost race (another
//! change committed first) is decided again on fresh state, up to `max_retries` times.

use conversation_core::conversation::{Conversation, ConversationCommand, LoadChange};
use conversation_core::dialog::ContactDialogs;
use conversation_core::entities::{Inbox, Order, Task};
use conversation_core::ids::{AccountId, ConversationId};
use conversation_core::message::Message;
use conversation_core::ports::{
    AggregateChange, AggregateId, AggregateState, Commit, CommitReceipt, ExpectedVersion,
    HeldMessage, HeldRelease, MessageUpdate, OutboxItem, StoreError, StoredEvent, StoredFile,
    TimerChange, Versioned,
};
use conversation_core::{DomainError, DomainEvent, Timestamp};

use crate::app::App;
use crate::error::AppResult;

/// What a plan sees.
pub struct Ctx<'a> {
    /// The conversation as stored.
    pub conversation: &'a Conversation,
    /// Its inbox (deleted inboxes included).
    pub inbox: &'a Inbox,
    /// The contact's dialogs (D3, D5).
    pub dialogs: &'a ContactDialogs,
    /// The time of the change.
    pub now: Timestamp,
}

/// What a use case wants done.
#[derive(Default)]
pub struct Plan {
    /// The command for the conversation, if any.
    pub command: Option<ConversationCommand>,
    /// Events recorded on the conversation besides the command's (M5 deletions, M6 statuses).
    pub extra_events: Vec<DomainEvent>,
    /// Messages written with it.
    pub messages: Vec<Message>,
    /// Changes to stored messages.
    pub message_updates: Vec<MessageUpdate>,
    /// Orders created from the conversation (C10).
    pub orders: Vec<Order>,
    /// M7: the files of the messages, written with them.
    pub files: Vec<StoredFile>,
    /// Work for after the commit.
    pub outbox: Vec<OutboxItem>,
    /// Tasks created with it (N2: R4's "contact wrote again").
    pub tasks: Vec<Task>,
    /// Timers besides those the change's events schedule (see `crate::timers`).
    pub timers: Vec<TimerChange>,
    /// D8: automated messages held with it.
    pub hold: Vec<HeldMessage>,
    /// D8: held messages released with it (their messages are in `messages`).
    pub release: Vec<HeldRelease>,
}

impl Plan {
    /// A plan with only a command.
    #[must_use]
    pub fn command(command: ConversationCommand) -> Self {
        Self {
            command: Some(command),
            ..Self::default()
        }
    }
}

/// What a change did.
#[derive(Debug)]
pub struct Changed {
    /// The conversation after it.
    pub conversation: Versioned<Conversation>,
    /// The messages written, with their sequence numbers.
    pub messages: Vec<Message>,
}

impl App {
    /// Runs one change of a conversation (see the module doc).
    ///
    /// # Errors
    /// `not_found` for an unknown conversation; what the plan, the core or the store refuses.
    pub(crate) async fn change_conversation<F>(
        &self,
        account: AccountId,
        id: ConversationId,
        mut plan: F,
    ) -> AppResult<Changed>
    where
        F: FnMut(&Ctx<'_>) -> AppResult<Plan> + Send,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let stored = self
                .store
                .conversation(account, id)
                .await?
                .ok_or(DomainError::NotFound)?;
            let inbox = self
                .store
                .inbox_with_deleted(account, stored.value.inbox)
                .await?
                .ok_or(DomainError::NotFound)?;
            let dialogs = self
                .store
                .contact_dialogs(account, stored.value.contact)
                .await?;
            let now = self.now();
            let ctx = Ctx {
                conversation: &stored.value,
                inbox: &inbox,
                dialogs: &dialogs,
                now,
            };
            let plan = plan(&ctx)?;
            let events = match &plan.command {
                Some(command) => stored.value.decide(command, now)?,
                None => Vec::new(),
            };
            let mut after = stored.value.clone();
            for event in &events {
                after.apply(event);
            }
            let load =
                LoadChange::between(stored.value.load_holder(), after.load_holder(), &events);
            let mut commit = Commit::new(account);
            commit.timers =
                crate::timers::conversation_timers(Some(&stored.value), &after, &events, &inbox)?;
            commit.timers.extend(plan.timers);
            commit.tasks = plan.tasks;
            let mut all_events: Vec<DomainEvent> =
                events.into_iter().map(DomainEvent::Conversation).collect();
            all_events.extend(plan.extra_events);
            let event_count = all_events.len();
            if !all_events.is_empty() {
                commit.changes.push(AggregateChange {
                    expected: ExpectedVersion::Exactly(stored.version),
                    state: AggregateState::Conversation {
                        conversation: Box::new(after.clone()),
                        load,
                    },
                    events: all_events,
                });
            }
            commit.messages.clone_from(&plan.messages);
            commit.message_updates = plan.message_updates;
            commit.orders = plan.orders;
            commit.files = plan.files;
            commit.outbox = plan.outbox;
            commit.hold = plan.hold;
            commit.release = plan.release;
            if commit.changes.is_empty()
                && commit.messages.is_empty()
                && commit.message_updates.is_empty()
                && commit.tasks.is_empty()
            {
                return Ok(Changed {
                    conversation: stored,
                    messages: Vec::new(),
                });
            }
            match self.store.commit(commit.clone()).await {
                Ok(receipt) => {
                    self.publish(account, &commit, &receipt);
                    let version = receipt.versions.first().copied().unwrap_or(stored.version);
                    let mut messages = plan.messages;
                    for (message, sequence) in messages.iter_mut().zip(&receipt.message_sequences) {
                        message.sequence = *sequence;
                    }
                    debug_assert!(event_count == 0 || version == stored.version + 1);
                    return Ok(Changed {
                        conversation: Versioned {
                            value: after,
                            version,
                        },
                        messages,
                    });
                }
                Err(StoreError::Domain(DomainError::Conflict { .. }))
                    if attempt <= self.config.max_retries => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Sends a commit's events to realtime subscribers, numbered as the store numbered them.
    pub(crate) fn publish(&self, account: AccountId, commit: &Commit, receipt: &CommitReceipt) {
        let total: usize = commit
            .changes
            .iter()
            .map(|change| change.events.len())
            .sum();
        let Some(first) = u64::try_from(total)
            .ok()
            .and_then(|n| (receipt.last_event_sequence + 1).checked_sub(n))
        else {
            return;
        };
        let events = commit.changes.iter().flat_map(|change| {
            let aggregate: AggregateId = change.state.id();
            change
                .events
                .iter()
                .map(move |event| (aggregate, event.clone()))
        });
        self.hub.publish(
            account,
            events
                .zip(first..)
                .map(|((aggregate, event), sequence)| StoredEvent {
                    sequence,
                    aggregate,
                    event,
                }),
        );
    }
}
