//! Routing end to end (R3-R6, R11): the core chooses (`conversation_core::routing`), this module
//! loads what it chooses from, records the choice through the conversation pipeline, and runs it
//! at the right moments:
//!
//! - a conversation that enters a queue (new, reopened, transferred to a queue, handed back by
//!   a bot, requeued, an offer declined or timed out) is routed at once ([`App::route`]); when
//!   the contact wrote (new or reopened), as a returning contact (R4);
//! - when an agent becomes available, frees capacity or gets a larger capacity, the waiting
//!   conversations of their queues are assigned oldest first ([`App::backfill_queue`], R5).
//!
//! Capacity (R2) is held by the store: the commit that assigns or offers claims a slot with a
//! conditional update, so two routers (on any number of processes) that chose the same last
//! slot cannot both win; the loser gets `capacity_exceeded` and chooses again on fresh
//! candidates. Within one process, the routers of one queue take turns (`queue_turns`), so a
//! burst of arrivals does not all choose the same agent and retry.

use conversation_core::DomainError;
use conversation_core::conversation::{Assignment, Conversation, ConversationCommand};
use conversation_core::entities::{Queue, RoutingStrategy, Task};
use conversation_core::ids::{AccountId, AgentId, ConversationId, QueueId, TaskId};
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, ConversationQuery, ExpectedVersion, ListFilter,
    StoreError, TimerChange, Versioned, Viewer,
};
use conversation_core::presence::{PresenceCommand, PresenceEvent};
use conversation_core::routing::{
    Candidate, ResponsibleSources, ReturningTask, RoutingChoice, RoutingContext, RoutingDecision,
    WaitingConversation, backfill, choose_agent, queue_position, route_returning,
};
use conversation_core::{DomainEvent, Timestamp};

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::pipeline::Plan;
use crate::queue_turns::Hold;
use crate::timers::{OfflineGraceEnd, grace_key, schedule};

/// How many waiting conversations one backfill round looks at.
const BACKFILL_BATCH: u32 = 500;

/// How many rounds a backfill makes when routers of other processes took slots meanwhile.
const BACKFILL_ROUNDS: u32 = 4;

/// Whether an error means "the state moved on": routing simply stops for this conversation.
const fn moved_on(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Domain(
            DomainError::InvalidTransition { .. }
                | DomainError::InvalidValue { .. }
                | DomainError::NotFound
        )
    )
}

/// Whether the store refused the slot (R2): choose again on fresh candidates.
const fn lost_the_slot(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Domain(DomainError::CapacityExceeded { .. } | DomainError::Conflict { .. })
    )
}

/// The command that delivers a choice by the queue's mode (R3), if any.
fn deliver(decision: RoutingDecision) -> Option<ConversationCommand> {
    match decision {
        RoutingDecision::Assign { agent } => Some(ConversationCommand::RouteAssign { agent }),
        RoutingDecision::Offer { agent, deadline } => {
            Some(ConversationCommand::RouteOffer { agent, deadline })
        }
        RoutingDecision::Wait => None,
    }
}

/// The queue a conversation waits in, if it waits.
fn waiting_queue(conversation: &Conversation) -> Option<QueueId> {
    match conversation.assignment()? {
        Assignment::Waiting { queue, .. } => Some(*queue),
        _ => None,
    }
}

/// A routing choice made in a queue's turn (see [`App::choose_route`]).
pub(crate) struct Routed {
    /// The queue.
    pub(crate) queue: Queue,
    /// What was chosen.
    pub(crate) choice: RoutingChoice,
    /// The command that delivers it, if any.
    pub(crate) command: Option<ConversationCommand>,
    /// R4: the responsible agent's task, if any.
    pub(crate) tasks: Vec<Task>,
    /// Whether slots held by other routers' commits in flight were counted as load.
    pub(crate) counted_holds: bool,
    /// The chosen slot, held until this is dropped (after the commit).
    _hold: Option<Hold>,
}

impl Routed {
    /// Whether there is nothing to commit: the conversation keeps waiting.
    pub(crate) fn is_idle(&self) -> bool {
        self.command.is_none() && self.tasks.is_empty()
    }
}

impl App {
    /// R3, R4: routes the conversation if it waits in a queue: by the queue's strategy and
    /// delivery mode, or to the contact's responsible agent when `returning` (the contact just
    /// wrote) and that agent can take it; otherwise that agent gets a task (R4). With nobody
    /// eligible it keeps waiting (R5). Does nothing when it does not wait.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn route(
        &self,
        account: AccountId,
        id: ConversationId,
        returning: bool,
    ) -> AppResult<()> {
        for _ in 0..=self.config.max_retries {
            let Some(stored) = self.store.conversation(account, id).await? else {
                return Ok(());
            };
            let Some(routed) = self.choose_route(&stored.value, returning).await? else {
                return Ok(());
            };
            if routed.is_idle() {
                if routed.counted_holds {
                    // Slots held by commits in flight may be free by now: look again.
                    self.queue_turns.holds_changed(routed.queue.id).await;
                    continue;
                }
                return Ok(());
            }
            let queue = routed.queue.id;
            let result = self
                .change_conversation(account, id, |ctx| {
                    if waiting_queue(ctx.conversation) != Some(queue) {
                        return Ok(Plan::default());
                    }
                    Ok(Plan {
                        command: routed.command.clone(),
                        tasks: routed.tasks.clone(),
                        ..Plan::default()
                    })
                })
                .await;
            match result {
                Ok(_) => {
                    self.routed(&routed).await?;
                    return Ok(());
                }
                // R2: another router took the slot: choose again on fresh candidates.
                Err(error) if lost_the_slot(&error) => {}
                Err(error) if moved_on(&error) => return Ok(()),
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// R3, R4, B4: the routing choice for a conversation that waits in a queue, made in the
    /// queue's turn on fresh loads plus the slots held by other routers' commits in flight; the
    /// slot chosen is held until the returned [`Routed`] is dropped. `None` when the
    /// conversation does not wait or its queue is gone.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn choose_route(
        &self,
        conversation: &Conversation,
        returning: bool,
    ) -> AppResult<Option<Routed>> {
        let account = conversation.account;
        let Some(queue_id) = waiting_queue(conversation) else {
            return Ok(None);
        };
        let mut turn = self.queue_turns.take(queue_id).await;
        let Some(queue) = self.store.queue(account, queue_id).await? else {
            return Ok(None);
        };
        let settled = self.store.candidates(account, queue.id).await?;
        let mut candidates = settled.clone();
        turn.count_holds(&mut candidates);
        let cursor = match turn.last_chosen() {
            Some(agent) if queue.strategy == RoutingStrategy::RoundRobin => Some(agent),
            _ => self.cursor_of(&queue).await?,
        };
        let skip: Vec<AgentId> = conversation.skipped_agents.iter().copied().collect();
        let ctx = RoutingContext {
            skip: &skip,
            last_chosen: cursor,
        };
        let (choice, task) = if returning {
            let responsible = self.responsible(account, conversation).await?;
            let routed = route_returning(
                conversation.contact,
                conversation.id,
                responsible.as_ref(),
                queue.strategy,
                &candidates,
                ctx,
            );
            (routed.choice, routed.task)
        } else {
            (choose_agent(queue.strategy, &candidates, ctx), None)
        };
        let now = self.now();
        let command = deliver(RoutingDecision::for_queue(choice, &queue, now));
        let tasks = match task {
            Some(task) => vec![self.returning_task(account, task, now).await?],
            None => Vec::new(),
        };
        let hold = match (choice, &command) {
            (RoutingChoice::Agent(agent), Some(_)) => Some(turn.hold(agent)),
            _ => None,
        };
        // Only when the held slots made it wait is it worth looking again once they settle.
        let counted_holds = command.is_none()
            && turn.counted_holds()
            && matches!(
                choose_agent(queue.strategy, &settled, ctx),
                RoutingChoice::Agent(_)
            );
        Ok(Some(Routed {
            queue,
            choice,
            command,
            tasks,
            counted_holds,
            _hold: hold,
        }))
    }

    /// After a routing choice was committed: the round-robin cursor moves to the chosen agent.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn routed(&self, routed: &Routed) -> AppResult<()> {
        if let RoutingChoice::Agent(agent) = routed.choice {
            self.move_cursor(&routed.queue, agent).await?;
        }
        Ok(())
    }

    /// R5: assigns the queue's waiting conversations to its free slots, oldest first, each by
    /// the queue's strategy and delivery mode. Runs when an agent of the queue becomes
    /// available, frees capacity or gets more of it. A `manual` queue assigns nothing.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn backfill_queue(&self, account: AccountId, queue: QueueId) -> AppResult<()> {
        for _ in 0..BACKFILL_ROUNDS {
            let mut turn = self.queue_turns.take(queue).await;
            let Some(queue) = self.store.queue(account, queue).await? else {
                return Ok(());
            };
            if queue.strategy == RoutingStrategy::Manual {
                return Ok(());
            }
            let waiting = self.waiting_in(account, queue.id).await?;
            if waiting.is_empty() {
                return Ok(());
            }
            let settled = self.store.candidates(account, queue.id).await?;
            let mut candidates = settled.clone();
            turn.count_holds(&mut candidates);
            let cursor = self.cursor_of(&queue).await?;
            let pairs = backfill(&waiting, &candidates, queue.strategy, cursor);
            // Slots held by routers' commits in flight may be free by now: look again after.
            let mut lost = turn.counted_holds()
                && backfill(&waiting, &settled, queue.strategy, cursor).len() > pairs.len();
            if pairs.is_empty() && !lost {
                return Ok(());
            }
            for (conversation, agent) in pairs {
                let command = deliver(RoutingDecision::for_queue(
                    RoutingChoice::Agent(agent),
                    &queue,
                    self.now(),
                ));
                let result = self
                    .change_conversation(account, conversation, |ctx| {
                        let still = waiting_queue(ctx.conversation) == Some(queue.id)
                            && !ctx.conversation.skipped_agents.contains(&agent);
                        Ok(if still {
                            Plan {
                                command: command.clone(),
                                ..Plan::default()
                            }
                        } else {
                            Plan::default()
                        })
                    })
                    .await;
                match result {
                    Ok(changed) if changed.conversation.value.load_holder() == Some(agent) => {
                        self.move_cursor(&queue, agent).await?;
                    }
                    Ok(_) => lost = true,
                    Err(error) if lost_the_slot(&error) || moved_on(&error) => lost = true,
                    Err(error) => return Err(error),
                }
            }
            if !lost {
                return Ok(());
            }
            let counted = turn.counted_holds();
            drop(turn);
            if counted {
                self.queue_turns.holds_changed(queue.id).await;
            }
        }
        Ok(())
    }

    /// R5: backfills every queue the agent is a member of.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn backfill_agent(&self, account: AccountId, agent: AgentId) -> AppResult<()> {
        for queue in self.store.queues_of_agent(account, agent).await? {
            self.backfill_queue(account, queue).await?;
        }
        Ok(())
    }

    /// Routing after a conversation changed: if it now waits in a queue it is routed at once
    /// (as a returning contact's when `returning`); if an agent's load dropped (resolved,
    /// dropped, transferred, handed to a bot, requeued, declined, timed out), their queues are
    /// backfilled (R5). Returns the conversation as it stands afterwards.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn after_change(
        &self,
        account: AccountId,
        before: Option<&Conversation>,
        after: Versioned<Conversation>,
        returning: bool,
    ) -> AppResult<Versioned<Conversation>> {
        let released = before
            .and_then(Conversation::load_holder)
            .filter(|agent| after.value.load_holder() != Some(*agent));
        let waits = waiting_queue(&after.value).is_some();
        if waits {
            self.route(account, after.value.id, returning).await?;
        }
        if let Some(agent) = released {
            self.backfill_agent(account, agent).await?;
        }
        if !waits && released.is_none() {
            return Ok(after);
        }
        Ok(self
            .store
            .conversation(account, after.value.id)
            .await?
            .unwrap_or(after))
    }

    /// R5: the conversation's place in its queue's line (1 = next), `None` when it does not
    /// wait. What the contact can be told.
    ///
    /// # Errors
    /// Storage failures.
    async fn queue_position_of(&self, conversation: &Conversation) -> AppResult<Option<usize>> {
        let Some(queue) = waiting_queue(conversation) else {
            return Ok(None);
        };
        let waiting = self.waiting_in(conversation.account, queue).await?;
        Ok(queue_position(&waiting, conversation.id))
    }

    /// R5: the visitor's place in the queue: their conversation on the token's inbox and its
    /// 1-based position among the waiting conversations (`None` once an agent has it).
    ///
    /// # Errors
    /// `not_found` for a caller that is not a visitor or whose inbox is gone.
    pub async fn visitor_queue_position(
        &self,
        caller: &crate::Caller,
    ) -> AppResult<(Option<ConversationId>, Option<usize>)> {
        let (inbox, contact) = self.visitor_inbox(caller).await?;
        let Some(conversation) = self
            .store
            .latest_conversation(inbox.account, inbox.id, contact)
            .await?
        else {
            return Ok((None, None));
        };
        let position = self.queue_position_of(&conversation.value).await?;
        Ok((Some(conversation.value.id), position))
    }

    /// The queue's waiting conversations as the core's backlog.
    async fn waiting_in(
        &self,
        account: AccountId,
        queue: QueueId,
    ) -> AppResult<Vec<WaitingConversation>> {
        Ok(self
            .store
            .waiting(account, queue, BACKFILL_BATCH)
            .await?
            .into_iter()
            .filter_map(|conversation| match conversation.assignment() {
                Some(Assignment::Waiting { since, .. }) => Some(WaitingConversation {
                    conversation: conversation.id,
                    queued_at: *since,
                    timed_out: conversation.skipped_agents.iter().copied().collect(),
                }),
                _ => None,
            })
            .collect())
    }

    /// R3: the round-robin cursor of a `round_robin` queue.
    async fn cursor_of(&self, queue: &Queue) -> AppResult<Option<AgentId>> {
        if queue.strategy != RoutingStrategy::RoundRobin {
            return Ok(None);
        }
        Ok(self.store.route_cursor(queue.account, queue.id).await?)
    }

    /// R3: moves a `round_robin` queue's cursor to the agent just chosen.
    async fn move_cursor(&self, queue: &Queue, agent: AgentId) -> AppResult<()> {
        if queue.strategy == RoutingStrategy::RoundRobin {
            self.store
                .set_route_cursor(queue.account, queue.id, agent)
                .await?;
        }
        Ok(())
    }

    /// R4, K3: the contact's responsible agent as a routing candidate: their account manager,
    /// else the first participant of their active dialog.
    async fn responsible(
        &self,
        account: AccountId,
        conversation: &Conversation,
    ) -> AppResult<Option<Candidate>> {
        let manager = self
            .store
            .contact(account, conversation.contact)
            .await?
            .and_then(|contact| contact.responsible_agent);
        let dialog_agent = match self
            .store
            .contact_dialogs(account, conversation.contact)
            .await?
            .active()
        {
            Some(dialog) => self
                .store
                .dialog(account, dialog)
                .await?
                .and_then(|d| d.value.participants.iter().next().copied()),
            None => None,
        };
        let sources = ResponsibleSources {
            account_manager: manager,
            open_request_assignee: None,
            active_dialog_assignee: dialog_agent,
        };
        match sources.responsible() {
            Some(responsible) => Ok(self
                .store
                .agent_candidate(account, responsible.agent)
                .await?),
            None => Ok(None),
        }
    }

    /// R4, N2: the task "<contact> wrote again" for the responsible agent.
    async fn returning_task(
        &self,
        account: AccountId,
        task: ReturningTask,
        now: Timestamp,
    ) -> AppResult<Task> {
        let name = self
            .store
            .contact(account, task.contact)
            .await?
            .and_then(|contact| contact.name)
            .unwrap_or_else(|| "A contact".to_owned());
        Ok(Task {
            id: TaskId::from_uuid(self.ids.new_uuid(now)),
            account,
            agent: task.agent,
            title: ReturningTask::title(&name),
            source: task.source(),
            due_at: now,
            created_at: now,
            done_at: None,
        })
    }

    /// Changes an agent's presence through the presence machine (R1, R6), with the timers the
    /// change causes (R11: the grace period of an agent who went offline holding
    /// conversations), and runs what follows it (R5: backfill when they became available).
    /// Returns the events (none when nothing changed).
    ///
    /// # Errors
    /// `not_found`; `invalid_transition` (out of `rona` only to `available`); storage failures.
    pub(crate) async fn change_presence(
        &self,
        account: AccountId,
        agent: AgentId,
        command: PresenceCommand,
    ) -> AppResult<Vec<PresenceEvent>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let stored = self
                .store
                .agent_presence(account, agent)
                .await?
                .ok_or(DomainError::NotFound)?;
            let now = self.now();
            let events = stored.value.decide(command, now)?;
            if events.is_empty() {
                return Ok(events);
            }
            let mut after = stored.value;
            for event in &events {
                after.apply(event);
            }
            let mut commit = Commit::new(account);
            commit.timers = self.presence_timers(account, agent, &events).await?;
            commit.changes.push(AggregateChange {
                expected: if stored.version == 0 {
                    ExpectedVersion::New
                } else {
                    ExpectedVersion::Exactly(stored.version)
                },
                state: AggregateState::Agent(after),
                events: events.iter().copied().map(DomainEvent::Presence).collect(),
            });
            match self.store.commit(commit.clone()).await {
                Ok(receipt) => {
                    self.publish(account, &commit, &receipt);
                    if events
                        .iter()
                        .any(|e| matches!(e, PresenceEvent::BecameAvailable { .. }))
                    {
                        self.backfill_agent(account, agent).await?;
                    }
                    return Ok(events);
                }
                Err(StoreError::Domain(DomainError::Conflict { .. }))
                    if attempt <= self.config.max_retries => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// R11: an agent who went offline holding conversations gets a grace timer, due at the
    /// earliest end of the grace periods of their conversations' inboxes.
    async fn presence_timers(
        &self,
        account: AccountId,
        agent: AgentId,
        events: &[PresenceEvent],
    ) -> AppResult<Vec<TimerChange>> {
        let Some(went_offline_at) = events.iter().find_map(|event| match event {
            PresenceEvent::WentOffline { at, .. } => Some(*at),
            _ => None,
        }) else {
            return Ok(Vec::new());
        };
        let held = self.held_by(account, agent).await?;
        let mut due: Option<Timestamp> = None;
        for conversation in &held {
            if let Some(inbox) = self
                .store
                .inbox_with_deleted(account, conversation.inbox)
                .await?
            {
                if inbox.settings.keep_assignments_when_offline {
                    continue;
                }
                let until = went_offline_at
                    + chrono::Duration::seconds(i64::from(inbox.settings.offline_grace_secs));
                due = Some(due.map_or(until, |d| d.min(until)));
            }
        }
        let Some(due) = due else {
            return Ok(Vec::new());
        };
        Ok(vec![schedule(
            account,
            grace_key(agent),
            conversation_core::ports::TimerKind::OfflineGrace,
            &OfflineGraceEnd {
                agent,
                went_offline_at,
            },
            due,
        )?])
    }

    /// R11: the open conversations assigned to the agent (their "mine" list).
    pub(crate) async fn held_by(
        &self,
        account: AccountId,
        agent: AgentId,
    ) -> AppResult<Vec<Conversation>> {
        let mut held = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .list_conversations(&ConversationQuery {
                    account,
                    viewer: Viewer {
                        agent,
                        queues: Vec::new(),
                        sees_all: false,
                    },
                    filter: ListFilter::Mine,
                    inbox: None,
                    after,
                    limit: ConversationQuery::MAX_LIMIT,
                })
                .await?;
            held.extend(
                page.rows
                    .into_iter()
                    .map(|row| row.conversation)
                    .filter(|c| c.assignee() == Some(agent)),
            );
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(held),
            }
        }
    }

    /// R6: the system marks the agent `rona` after their offer of `conversation` timed out.
    pub(crate) async fn mark_rona(
        &self,
        account: AccountId,
        agent: AgentId,
        conversation: ConversationId,
    ) -> AppResult<()> {
        self.change_presence(account, agent, PresenceCommand::MarkRona { conversation })
            .await?;
        Ok(())
    }
}
