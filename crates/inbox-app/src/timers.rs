//! Durable timers (R6, R9, R11, C8, D11): what each timer carries, its key, and which timers a
//! change schedules or cancels. Timers are written in the same commit as the change that causes
//! them ([`conversation_timers`] is called by the pipeline for every conversation change), so a
//! change and its timer exist together or not at all. The worker ([`crate::worker`]) fires
//! them; every firing decides again on fresh state, so a stale or repeated timer changes nothing.
//!
//! Keys are unique per account: scheduling the same key again moves the timer.
//!
//! | kind | key | scheduled when | fires |
//! |---|---|---|---|
//! | `offer_timeout` (R6, R8) | `offer:<conversation>` | an `offered` event | `ExpireOffer`: agent `rona`, offered to the next |
//! | `conference_timeout` (R9) | `conference:<conversation>` | a `conference_requested` event | `DeclineConference` |
//! | `offline_grace` (R11) | `grace:<agent>` | the agent went offline holding conversations | `Requeue` past the inbox's grace |
//! | `reply_target` (C8) | `reply:<conversation>` | `waiting_since` begins, the inbox has a target | the `reply_overdue` flag |
//! | `task_reminder` (D11) | `task:<task>` | a dialog task is created | a notification (outbox) |
//! | `release_held` (D8) | `held:<contact>` | a dialog of the contact leaves `active` | the held messages go out, in order |
//! | `offline_check` (N3) | `offline:<conversation>` | `waiting_since` begins | an offline-message notification if no agent is online |
//! | `missed_check` (N3) | `missed:<conversation>` | `waiting_since` begins (due after [`MISSED_AFTER_SECS`]); moved to now when it closes unanswered | a missed-conversation notification |
//! | `continuity_check` (W7) | `continuity:<conversation>` | a public agent reply on a web chat inbox with email continuity (due `after_secs` later; moved by the next) | the replies the visitor has not seen, as one email ([`crate::continuity`]) |

use conversation_core::Timestamp;
use conversation_core::conversation::{Conversation, ConversationEvent, ConversationEventKind};
use conversation_core::entities::{Inbox, Task};
use conversation_core::ids::{AccountId, AgentId, ContactId, ConversationId, MessageId, TaskId};
use conversation_core::ports::{Timer, TimerChange, TimerKind};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// R6, R8: an offer's deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferTimeout {
    /// The conversation offered.
    pub conversation: ConversationId,
    /// The agent it was offered to.
    pub agent: AgentId,
}

/// R9: a conference invitation's deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConferenceTimeout {
    /// The conversation.
    pub conversation: ConversationId,
    /// The invited agent.
    pub invitee: AgentId,
}

/// R11: the end of an offline agent's grace period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineGraceEnd {
    /// The agent.
    pub agent: AgentId,
    /// When they went offline (the episode the timer belongs to).
    pub went_offline_at: Timestamp,
}

/// C8: the reply-time target of an awaiting conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTarget {
    /// The conversation.
    pub conversation: ConversationId,
    /// The awaiting reply's start the timer was set for.
    pub waiting_since: Timestamp,
    /// The inbox's target, in seconds.
    pub target_secs: u32,
}

/// D11: the reminder of a dialog task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskReminder {
    /// The task.
    pub task: TaskId,
    /// Whose task.
    pub agent: AgentId,
    /// Its title (the dialog's).
    pub title: String,
    /// When it starts.
    pub starts_at: Timestamp,
}

/// D8: a dialog of the contact left `active`; their held messages may go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseHeld {
    /// The contact.
    pub contact: ContactId,
}

/// N3: a contact's message started an awaiting reply; is any agent online?
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineCheck {
    /// The conversation.
    pub conversation: ConversationId,
    /// The message that arrived.
    pub message: MessageId,
}

/// N3: an awaiting reply that may end unanswered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissedCheck {
    /// The conversation.
    pub conversation: ConversationId,
    /// The start of the awaiting reply.
    pub waiting_since: Timestamp,
    /// Whether the conversation closed with it unanswered (missed for sure).
    pub closed: bool,
}

/// N3: how long a contact's awaiting message may stay unanswered before the conversation
/// counts as missed (the visitor is taken to have left).
pub const MISSED_AFTER_SECS: i64 = 600;

/// The key of a contact's held-messages release timer (D8).
#[must_use]
pub fn held_key(contact: ContactId) -> String {
    format!("held:{contact}")
}

/// The key of a conversation's offline check (N3).
#[must_use]
pub fn offline_key(conversation: ConversationId) -> String {
    format!("offline:{conversation}")
}

/// The key of a conversation's missed check (N3).
#[must_use]
pub fn missed_key(conversation: ConversationId) -> String {
    format!("missed:{conversation}")
}

/// D8: the release of the contact's held messages, due at once, when a dialog leaves
/// `active` (paused or completed).
///
/// # Errors
/// Only if a payload cannot be serialized.
pub(crate) fn held_release(
    account: AccountId,
    contact: ContactId,
    events: &[conversation_core::dialog::DialogEvent],
    now: Timestamp,
) -> AppResult<Option<TimerChange>> {
    use conversation_core::dialog::DialogEvent;
    let left_active = events.iter().any(|event| {
        matches!(
            event,
            DialogEvent::Paused { .. } | DialogEvent::Completed { .. }
        )
    });
    left_active
        .then(|| {
            schedule(
                account,
                held_key(contact),
                TimerKind::ReleaseHeld,
                &ReleaseHeld { contact },
                now,
            )
        })
        .transpose()
}

/// The key of a conversation's offer timer.
#[must_use]
pub fn offer_key(conversation: ConversationId) -> String {
    format!("offer:{conversation}")
}

/// The key of a conversation's conference timer.
#[must_use]
pub fn conference_key(conversation: ConversationId) -> String {
    format!("conference:{conversation}")
}

/// The key of an agent's grace timer.
#[must_use]
pub fn grace_key(agent: AgentId) -> String {
    format!("grace:{agent}")
}

/// The key of a conversation's reply-target timer.
#[must_use]
pub fn reply_key(conversation: ConversationId) -> String {
    format!("reply:{conversation}")
}

/// The key of a task's reminder.
#[must_use]
pub fn task_key(task: TaskId) -> String {
    format!("task:{task}")
}

/// A timer change scheduling `payload` under `key`.
pub(crate) fn schedule<T: Serialize>(
    account: AccountId,
    key: String,
    kind: TimerKind,
    payload: &T,
    due_at: Timestamp,
) -> AppResult<TimerChange> {
    let payload = serde_json::to_string(payload).map_err(AppError::internal)?;
    Ok(TimerChange::Schedule(Timer {
        account,
        key,
        kind,
        payload,
        due_at,
    }))
}

/// Reads a timer's payload.
pub(crate) fn payload<T: for<'de> Deserialize<'de>>(timer: &Timer) -> AppResult<T> {
    serde_json::from_str(&timer.payload).map_err(AppError::internal)
}

/// The timers a conversation change schedules and cancels: the offer timeout of an offer (R6,
/// R8), cancelled once the offer is answered; the conference timeout of an invitation (R9),
/// cancelled once it is answered; the reply target of an awaiting reply (C8), cancelled when
/// the reply comes or the conversation closes.
///
/// # Errors
/// Only if a payload cannot be serialized.
pub(crate) fn conversation_timers(
    before: Option<&Conversation>,
    after: &Conversation,
    events: &[ConversationEvent],
    inbox: &Inbox,
) -> AppResult<Vec<TimerChange>> {
    let account = after.account;
    let id = after.id;
    let mut changes = Vec::new();
    for event in events {
        match &event.kind {
            ConversationEventKind::Offered { agent, deadline } => changes.push(schedule(
                account,
                offer_key(id),
                TimerKind::OfferTimeout,
                &OfferTimeout {
                    conversation: id,
                    agent: *agent,
                },
                *deadline,
            )?),
            ConversationEventKind::Transferred {
                target:
                    conversation_core::conversation::TransferTarget::Agent {
                        agent, deadline, ..
                    },
                ..
            } => changes.push(schedule(
                account,
                offer_key(id),
                TimerKind::OfferTimeout,
                &OfferTimeout {
                    conversation: id,
                    agent: *agent,
                },
                *deadline,
            )?),
            ConversationEventKind::OfferAccepted { .. }
            | ConversationEventKind::OfferDeclined { .. }
            | ConversationEventKind::OfferTimedOut { .. } => {
                changes.push(TimerChange::Cancel { key: offer_key(id) });
            }
            ConversationEventKind::ConferenceRequested { invitee, deadline } => {
                changes.push(schedule(
                    account,
                    conference_key(id),
                    TimerKind::ConferenceTimeout,
                    &ConferenceTimeout {
                        conversation: id,
                        invitee: *invitee,
                    },
                    *deadline,
                )?);
            }
            ConversationEventKind::ConferenceJoined { .. }
            | ConversationEventKind::ConferenceDeclined { .. } => {
                changes.push(TimerChange::Cancel {
                    key: conference_key(id),
                });
            }
            _ => {}
        }
    }
    let was_waiting = before.and_then(|c| c.waiting_since);
    match (was_waiting, after.waiting_since) {
        (None, Some(since)) if !after.is_closed() => {
            if let Some(target) = inbox.settings.reply_time_target_secs {
                changes.push(schedule(
                    account,
                    reply_key(id),
                    TimerKind::ReplyTarget,
                    &ReplyTarget {
                        conversation: id,
                        waiting_since: since,
                        target_secs: target,
                    },
                    since + chrono::Duration::seconds(i64::from(target)),
                )?);
            }
        }
        (Some(_), None) => changes.push(TimerChange::Cancel { key: reply_key(id) }),
        _ => {}
    }
    changes.extend(n3_timers(was_waiting, after, events)?);
    changes.extend(crate::continuity::continuity_timers(after, events, inbox)?);
    Ok(changes)
}

/// N3: when an awaiting reply begins, the offline check (due at once) and the missed check
/// (due after [`MISSED_AFTER_SECS`]); an agent's reply cancels the missed check; closing with
/// the reply still awaited moves it to now, marked closed.
fn n3_timers(
    was_waiting: Option<Timestamp>,
    after: &Conversation,
    events: &[ConversationEvent],
) -> AppResult<Vec<TimerChange>> {
    let (account, id) = (after.account, after.id);
    let mut changes = Vec::new();
    match (was_waiting, after.waiting_since) {
        (None, Some(since)) if !after.is_closed() => {
            let message = events.iter().rev().find_map(|event| match &event.kind {
                ConversationEventKind::InboundReceived { message, .. } => Some(*message),
                _ => None,
            });
            if let Some(message) = message {
                changes.push(schedule(
                    account,
                    offline_key(id),
                    TimerKind::OfflineCheck,
                    &OfflineCheck {
                        conversation: id,
                        message,
                    },
                    since,
                )?);
            }
            changes.push(schedule(
                account,
                missed_key(id),
                TimerKind::MissedCheck,
                &MissedCheck {
                    conversation: id,
                    waiting_since: since,
                    closed: false,
                },
                since + chrono::Duration::seconds(MISSED_AFTER_SECS),
            )?);
        }
        (Some(since), None)
            if after.is_closed()
                && events.last().is_some_and(|event| {
                    event.at < since + chrono::Duration::seconds(MISSED_AFTER_SECS)
                }) =>
        {
            // Closed unanswered before the missed check fired: missed now (once: the timeout
            // check is this same timer, moved).
            let at = events.last().map_or(since, |event| event.at);
            changes.push(schedule(
                account,
                missed_key(id),
                TimerKind::MissedCheck,
                &MissedCheck {
                    conversation: id,
                    waiting_since: since,
                    closed: true,
                },
                at,
            )?);
        }
        (Some(_), None) => changes.push(TimerChange::Cancel {
            key: missed_key(id),
        }),
        _ => {}
    }
    Ok(changes)
}

/// D11: the reminders of new dialog tasks, due at once (the worker fires them within a
/// minute): "the task starts in 5 minutes".
///
/// # Errors
/// Only if a payload cannot be serialized.
pub(crate) fn task_reminders(tasks: &[Task], now: Timestamp) -> AppResult<Vec<TimerChange>> {
    tasks
        .iter()
        .filter(|task| {
            matches!(
                task.source,
                conversation_core::entities::TaskSource::Dialog { .. }
            )
        })
        .map(|task| {
            schedule(
                task.account,
                task_key(task.id),
                TimerKind::TaskReminder,
                &TaskReminder {
                    task: task.id,
                    agent: task.agent,
                    title: task.title.clone(),
                    starts_at: task.due_at,
                },
                now,
            )
        })
        .collect()
}
