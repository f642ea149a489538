//! The timer worker: claims due timers with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
//! each timer fires once however many processes run a worker) and fires each through the same
//! use cases as a user's action. A timer whose firing failed keeps its lease until it runs out,
//! then is claimed again (L5: a worker that died mid-way is replaced the same way).
//!
//! The server spawns one worker ([`TimerWorker::spawn`]); tests drive time with a manual clock
//! and call [`TimerWorker::run_once`] instead of waiting.
//!
//! Every firing decides again on fresh state: an offer already answered, an agent back online,
//! a reply already sent all make the timer change nothing.

use std::time::Duration as StdDuration;

use chrono::Duration;
use conversation_core::DomainError;
use conversation_core::actor::Actor;
use conversation_core::conversation::{
    Assignment, ConversationCommand, ConversationEvent, ConversationEventKind,
};
use conversation_core::ids::AccountId;
use conversation_core::ports::{Commit, Timer, TimerKind};
use conversation_core::presence::{OfflineGrace, offline_grace};
use conversation_core::{DomainEvent, Timestamp};

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::notifications::Notification;
use crate::pipeline::Plan;
use crate::timers::{
    ConferenceTimeout, OfferTimeout, OfflineGraceEnd, ReplyTarget, TaskReminder, grace_key,
    payload, schedule,
};

/// How long a claimed timer is leased to its worker.
const LEASE_SECS: i64 = 60;

/// How many timers one claim takes.
const BATCH: u32 = 64;

/// Fires due timers.
#[derive(Clone, Debug)]
pub struct TimerWorker {
    app: App,
    owner: String,
    account: Option<AccountId>,
}

impl TimerWorker {
    /// A worker for the app, named `owner` in the leases it takes (unique per process).
    #[must_use]
    pub fn new(app: App, owner: impl Into<String>) -> Self {
        Self {
            app,
            owner: owner.into(),
            account: None,
        }
    }

    /// A worker that fires only the timers of `account` (tests sharing one database, each on
    /// its own manual clock).
    #[must_use]
    pub fn for_account(app: App, owner: impl Into<String>, account: AccountId) -> Self {
        Self {
            app,
            owner: owner.into(),
            account: Some(account),
        }
    }

    /// Fires every timer due now, until none is left; returns how many fired.
    ///
    /// # Errors
    /// Storage failures of the claim itself; a failed firing is logged and retried after its
    /// lease.
    pub async fn run_once(&self) -> AppResult<usize> {
        let mut fired = 0;
        loop {
            let now = self.app.now();
            let lease_until = now + Duration::seconds(LEASE_SECS);
            let claimed = match self.account {
                Some(account) => {
                    self.app
                        .store
                        .claim_due_timers_of(account, now, &self.owner, lease_until, BATCH)
                        .await?
                }
                None => {
                    self.app
                        .store
                        .claim_due_timers(now, &self.owner, lease_until, BATCH)
                        .await?
                }
            };
            if claimed.is_empty() {
                return Ok(fired);
            }
            for work in claimed {
                let timer = work.item;
                match self.app.fire(&timer).await {
                    Ok(()) => {
                        self.app
                            .store
                            .finish_timer(timer.account, &timer.key, &self.owner)
                            .await?;
                        fired += 1;
                    }
                    Err(error) => tracing::warn!(
                        key = %timer.key,
                        attempts = work.attempts,
                        %error,
                        "a timer failed; it is retried when its lease runs out"
                    ),
                }
            }
        }
    }

    /// Runs [`TimerWorker::run_once`] every `every` until the task is dropped or aborted.
    #[must_use]
    pub fn spawn(self, every: StdDuration) -> tokio::task::JoinHandle<()> {
        crate::polling::spawn_rounds(
            "the timer worker could not claim timers",
            every,
            move || {
                let worker = self.clone();
                async move { worker.run_once().await }
            },
        )
    }
}

impl App {
    /// Fires one timer (see the table in [`crate::timers`]).
    ///
    /// # Errors
    /// Storage failures; the timer is then retried.
    pub(crate) async fn fire(&self, timer: &Timer) -> AppResult<()> {
        match timer.kind {
            TimerKind::OfferTimeout => self.offer_timed_out(timer).await,
            TimerKind::ConferenceTimeout => self.conference_timed_out(timer).await,
            TimerKind::OfflineGrace => self.grace_ended(timer).await,
            TimerKind::ReplyTarget => self.reply_target_passed(timer).await,
            TimerKind::TaskReminder => self.remind_task(timer).await,
            TimerKind::ReleaseHeld => {
                let release: crate::timers::ReleaseHeld = payload(timer)?;
                self.release_held(timer.account, release.contact)
                    .await
                    .map(|_| ())
            }
            TimerKind::OfflineCheck => self.offline_check(timer).await,
            TimerKind::MissedCheck => self.missed_check(timer).await,
            TimerKind::ContinuityCheck => self.continuity_check(timer).await,
        }
    }

    /// R6, R8: the offer was not accepted in time: the agent goes `rona` and the conversation
    /// is offered to the next eligible agent (skipping those who let it time out), or waits.
    async fn offer_timed_out(&self, timer: &Timer) -> AppResult<()> {
        let offer: OfferTimeout = payload(timer)?;
        let account = timer.account;
        let Some(before) = self.store.conversation(account, offer.conversation).await? else {
            return Ok(());
        };
        let changed = self
            .change_conversation(account, offer.conversation, |_| {
                Ok(Plan::command(ConversationCommand::ExpireOffer {
                    agent: offer.agent,
                }))
            })
            .await;
        let changed = match changed {
            Ok(changed) => changed,
            Err(AppError::Domain(DomainError::NotFound)) => return Ok(()),
            Err(error) => return Err(error),
        };
        let timed_out = changed.conversation.version != before.version
            && changed
                .conversation
                .value
                .skipped_agents
                .contains(&offer.agent)
            && changed.conversation.value.load_holder() != Some(offer.agent);
        if timed_out {
            self.mark_rona(account, offer.agent, offer.conversation)
                .await?;
            self.after_change(account, Some(&before.value), changed.conversation, false)
                .await?;
        }
        Ok(())
    }

    /// R9: the invitation was not accepted in time: it is declined; the assignee keeps the
    /// conversation.
    async fn conference_timed_out(&self, timer: &Timer) -> AppResult<()> {
        let invitation: ConferenceTimeout = payload(timer)?;
        let now = self.now();
        let result = self
            .change_conversation(timer.account, invitation.conversation, |ctx| {
                let due = matches!(
                    ctx.conversation.assignment(),
                    Some(Assignment::ConferenceRequested { invitee, deadline, .. })
                        if *invitee == invitation.invitee && *deadline <= now
                );
                Ok(if due {
                    Plan::command(ConversationCommand::DeclineConference {
                        agent: invitation.invitee,
                    })
                } else {
                    Plan::default()
                })
            })
            .await;
        match result {
            Ok(_) | Err(AppError::Domain(DomainError::NotFound)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// R11: the grace period of an offline agent ended: their conversations in inboxes that do
    /// not keep assignments are routed again, unless they came back. Conversations of inboxes
    /// with a longer grace get the timer again, for the earliest remaining end.
    async fn grace_ended(&self, timer: &Timer) -> AppResult<()> {
        let grace: OfflineGraceEnd = payload(timer)?;
        let account = timer.account;
        let Some(presence) = self.store.agent_presence(account, grace.agent).await? else {
            return Ok(());
        };
        let came_back = presence.value.came_back_since(grace.went_offline_at);
        let mut pending: Option<Timestamp> = None;
        for conversation in self.held_by(account, grace.agent).await? {
            let Some(inbox) = self
                .store
                .inbox_with_deleted(account, conversation.inbox)
                .await?
            else {
                continue;
            };
            let now = self.now();
            match offline_grace(grace.went_offline_at, came_back, &inbox.settings, now) {
                OfflineGrace::Keep => {}
                OfflineGrace::Pending { until } => {
                    pending = Some(pending.map_or(until, |p| p.min(until)));
                }
                OfflineGrace::RouteAgain { .. } => {
                    let queue = conversation
                        .assignment()
                        .and_then(Assignment::queue)
                        .or(inbox.queue);
                    let before = conversation.clone();
                    let changed = self
                        .change_conversation(account, conversation.id, |_| {
                            Ok(Plan::command(ConversationCommand::Requeue {
                                agent: grace.agent,
                                queue,
                            }))
                        })
                        .await?;
                    self.after_change(account, Some(&before), changed.conversation, false)
                        .await?;
                }
            }
        }
        if let Some(until) = pending {
            let mut commit = Commit::new(account);
            commit.timers.push(schedule(
                account,
                grace_key(grace.agent),
                TimerKind::OfflineGrace,
                &grace,
                until,
            )?);
            self.store.commit(commit).await?;
        }
        Ok(())
    }

    /// C8: the reply-time target passed while the contact still waits: the conversation is
    /// flagged overdue (a `reply_overdue` event in its timeline and on the agents' streams).
    async fn reply_target_passed(&self, timer: &Timer) -> AppResult<()> {
        let target: ReplyTarget = payload(timer)?;
        let result = self
            .change_conversation(timer.account, target.conversation, |ctx| {
                let still = ctx.conversation.waiting_since == Some(target.waiting_since)
                    && !ctx.conversation.is_closed()
                    && ctx.conversation.is_overdue(
                        Some(Duration::seconds(i64::from(target.target_secs))),
                        ctx.now + Duration::microseconds(1),
                    );
                if !still {
                    return Ok(Plan::default());
                }
                Ok(Plan {
                    extra_events: vec![DomainEvent::Conversation(ConversationEvent {
                        conversation: target.conversation,
                        at: ctx.now,
                        actor: Actor::System,
                        kind: ConversationEventKind::ReplyOverdue {
                            waiting_since: target.waiting_since,
                            target_secs: target.target_secs,
                        },
                    })],
                    ..Plan::default()
                })
            })
            .await;
        match result {
            Ok(_) | Err(AppError::Domain(DomainError::NotFound)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// D11: the notification that the dialog task starts in 5 minutes, written to the
    /// notification outbox (N3's seam) for the agent.
    async fn remind_task(&self, timer: &Timer) -> AppResult<()> {
        let reminder: TaskReminder = payload(timer)?;
        let mut commit = Commit::new(timer.account);
        commit.outbox.push(self.notification(
            timer.account,
            &Notification::TaskStartsSoon {
                agent: reminder.agent,
                task: reminder.task,
                title: reminder.title,
                starts_at: reminder.starts_at,
            },
        )?);
        self.store.commit(commit).await?;
        Ok(())
    }
}
