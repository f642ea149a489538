//! Agents' work on conversations: reading (A2 visibility: what an agent may not see is absent,
//! S1), and every action of the conversation machine (C4-C7, C11, R5-R10).

use chrono::Duration;
use conversation_core::DomainError;
use conversation_core::actor::Principal;
use conversation_core::conversation::{Conversation, ConversationCommand, TransferTarget};
use conversation_core::ids::{AccountId, AgentId, ConversationId, QueueId, WrapUpReasonId};
use conversation_core::permissions::{self, ConversationAccess};
use conversation_core::ports::{
    AggregateId, ConversationPage, ConversationQuery, ListCursor, ListFilter, StoredEvent,
    Versioned, Viewer,
};
use conversation_core::presence::accepts_new_work;

use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::AppResult;
use crate::pipeline::{Changed, Plan};

/// An action on a conversation, as the API names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// C5: resolve; with a closing text it is "send and close" (R10: wrap-up reason).
    Resolve {
        /// The wrap-up reason.
        wrap_up: Option<WrapUpReasonId>,
        /// The last message of send-and-close.
        closing_text: Option<String>,
    },
    /// C6: drop.
    Drop,
    /// C4: reopen a closed conversation.
    Reopen,
    /// R7: assign to an agent.
    AssignAgent {
        /// The agent.
        agent: AgentId,
    },
    /// R7: assign to a queue.
    AssignQueue {
        /// The queue.
        queue: QueueId,
    },
    /// R5: take a waiting conversation.
    Claim,
    /// R6: accept the offer made to me.
    AcceptOffer,
    /// R6: decline the offer made to me.
    DeclineOffer,
    /// R8: transfer to a queue.
    TransferToQueue {
        /// The queue.
        queue: QueueId,
        /// My wrap-up reason.
        wrap_up: Option<WrapUpReasonId>,
    },
    /// R8: transfer to an available agent, who gets an offer.
    TransferToAgent {
        /// The agent.
        agent: AgentId,
        /// My wrap-up reason.
        wrap_up: Option<WrapUpReasonId>,
    },
    /// R9: invite an available agent.
    InviteToConference {
        /// The agent.
        agent: AgentId,
    },
    /// R9: join the conference I was invited to.
    AcceptConference,
    /// R9: decline the invitation.
    DeclineConference,
    /// R9, R10: leave the conference.
    LeaveConference {
        /// My wrap-up reason.
        wrap_up: Option<WrapUpReasonId>,
    },
    /// C11: hand to a bot flow.
    HandToBot {
        /// The flow's name.
        flow: String,
    },
}

impl App {
    /// A2: the access facts of a conversation for an agent.
    pub(crate) async fn access(
        &self,
        account: AccountId,
        principal: &Principal,
        conversation: &Conversation,
    ) -> AppResult<ConversationAccess> {
        let queues = self.store.queues_of_agent(account, principal.agent).await?;
        // C9: a closed conversation still belongs to its last queue and assignee.
        let (queue, last_assignee) = conversation.belongs_to();
        Ok(ConversationAccess {
            assignee: conversation.load_holder(),
            member_of_queue: queue.is_some_and(|q| queues.contains(&q)),
            participant: conversation.writers().contains(&principal.agent)
                || (conversation.is_closed() && last_assignee == Some(principal.agent))
                || matches!(&conversation.state, conversation_core::conversation::ConversationState::Interrupted { agents, .. } if agents.contains(&principal.agent))
                || matches!(conversation.assignment(), Some(conversation_core::conversation::Assignment::ConferenceRequested { invitee, .. }) if *invitee == principal.agent),
        })
    }

    /// A conversation the caller may see (S1: anything else is `not_found`). An integration
    /// sees every conversation of its account (a bot flow reads what it handles).
    ///
    /// # Errors
    /// `not_found`, also for visitors (S5).
    pub async fn conversation(
        &self,
        caller: &Caller,
        id: ConversationId,
    ) -> AppResult<Versioned<Conversation>> {
        if let Caller::Integration { account } = caller {
            return Ok(self
                .store
                .conversation(*account, id)
                .await?
                .ok_or(DomainError::NotFound)?);
        }
        let (account, principal) = agent_of(caller)?;
        let stored = self
            .store
            .conversation(account, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let access = self.access(account, principal, &stored.value).await?;
        if !permissions::can_see_conversation(principal, access) {
            return Err(DomainError::NotFound.into());
        }
        Ok(stored)
    }

    /// C9: one page of a list.
    ///
    /// # Errors
    /// `forbidden` for visitors; storage failures.
    pub async fn list_conversations(
        &self,
        caller: &Caller,
        filter: ListFilter,
        inbox: Option<conversation_core::ids::InboxId>,
        after: Option<ListCursor>,
        limit: u32,
    ) -> AppResult<ConversationPage> {
        let (account, principal) = agent_of(caller)?;
        let queues = self.store.queues_of_agent(account, principal.agent).await?;
        let query = ConversationQuery {
            account,
            viewer: Viewer {
                agent: principal.agent,
                queues,
                sees_all: permissions::can_see_all(principal),
            },
            filter,
            inbox,
            after,
            limit: limit.clamp(1, ConversationQuery::MAX_LIMIT),
        };
        Ok(self.store.list_conversations(&query).await?)
    }

    /// Messages of a conversation after a sequence number (M9).
    ///
    /// # Errors
    /// As [`App::conversation`].
    pub async fn messages(
        &self,
        caller: &Caller,
        id: ConversationId,
        after: u64,
        limit: u32,
    ) -> AppResult<Vec<conversation_core::message::Message>> {
        self.conversation(caller, id).await?;
        Ok(self
            .store
            .messages_after(caller.account(), id, after, limit.clamp(1, 200))
            .await?)
    }

    /// C12: the conversation's timeline.
    ///
    /// # Errors
    /// As [`App::conversation`].
    pub async fn timeline(
        &self,
        caller: &Caller,
        id: ConversationId,
        after: u64,
        limit: u32,
    ) -> AppResult<Vec<StoredEvent>> {
        self.conversation(caller, id).await?;
        Ok(self
            .store
            .aggregate_events(
                caller.account(),
                AggregateId::Conversation(id),
                after,
                limit.clamp(1, 500),
            )
            .await?)
    }

    /// Does an action on a conversation the caller may see.
    ///
    /// # Errors
    /// `not_found` when the caller may not see it; the code of any refused rule.
    pub async fn act(
        &self,
        caller: &Caller,
        id: ConversationId,
        action: Action,
    ) -> AppResult<Versioned<Conversation>> {
        let (account, principal) = agent_of(caller)?;
        let seen = self.conversation(caller, id).await?;
        let by = principal.clone();
        let member_of_queue = self
            .access(account, principal, &seen.value)
            .await?
            .member_of_queue;
        // Facts the plan needs that live outside the conversation.
        let target = match &action {
            Action::TransferToAgent { agent, .. }
            | Action::InviteToConference { agent }
            | Action::AssignAgent { agent } => Some(
                self.store
                    .agent(account, *agent)
                    .await?
                    .ok_or(DomainError::NotFound)?,
            ),
            _ => None,
        };
        if let Action::AssignQueue { queue } | Action::TransferToQueue { queue, .. } = &action {
            self.store
                .queue(account, *queue)
                .await?
                .ok_or(DomainError::NotFound)?;
        }
        let target_queue_timeout = match seen.value.assignment().and_then(|a| a.queue()) {
            Some(queue) => self.store.queue(account, queue).await?.map_or(
                conversation_core::entities::DEFAULT_OFFER_TIMEOUT_SECS,
                |q| q.offer_timeout_secs,
            ),
            None => conversation_core::entities::DEFAULT_OFFER_TIMEOUT_SECS,
        };
        let changed: Changed = self
            .change_conversation(account, id, |ctx| {
                let now = ctx.now;
                let deadline = now + Duration::seconds(i64::from(target_queue_timeout));
                let available = target
                    .as_ref()
                    .is_some_and(|agent| accepts_new_work(agent.availability));
                let command = match &action {
                    Action::Resolve {
                        wrap_up,
                        closing_text,
                    } => {
                        let (closing, messages) = match closing_text {
                            Some(text) => {
                                let (reply, message) =
                                    self.agent_reply(ctx, &by, text, None, None, None)?;
                                (Some(reply), vec![message])
                            }
                            None => (None, Vec::new()),
                        };
                        let command = ConversationCommand::Resolve {
                            by: by.clone(),
                            wrap_up: *wrap_up,
                            closing,
                            wrap_up_mandatory: ctx.inbox.settings.wrap_up_mandatory,
                        };
                        return Ok(Plan {
                            command: Some(command),
                            outbox: self.delivery_outbox(ctx, &messages)?,
                            messages,
                            ..Plan::default()
                        });
                    }
                    Action::Drop => ConversationCommand::Drop {
                        by: by.clone(),
                        member_of_queue,
                    },
                    Action::Reopen => ConversationCommand::Reopen {
                        by: by.clone(),
                        reply_window: ctx.inbox.reply_window(),
                        queue: ctx.inbox.queue,
                    },
                    Action::AssignAgent { agent } => ConversationCommand::AssignAgent {
                        by: by.clone(),
                        agent: *agent,
                    },
                    Action::AssignQueue { queue } => ConversationCommand::AssignQueue {
                        by: by.clone(),
                        queue: *queue,
                    },
                    Action::Claim => ConversationCommand::Claim {
                        by: by.clone(),
                        member_of_queue,
                    },
                    Action::AcceptOffer => ConversationCommand::AcceptOffer { agent: by.agent },
                    Action::DeclineOffer => ConversationCommand::DeclineOffer { agent: by.agent },
                    Action::TransferToQueue { queue, wrap_up } => ConversationCommand::Transfer {
                        by: by.clone(),
                        target: TransferTarget::Queue { queue: *queue },
                        wrap_up: *wrap_up,
                    },
                    Action::TransferToAgent { agent, wrap_up } => ConversationCommand::Transfer {
                        by: by.clone(),
                        target: TransferTarget::Agent {
                            agent: *agent,
                            available,
                            queue: ctx.conversation.assignment().and_then(|a| a.queue()),
                            deadline,
                        },
                        wrap_up: *wrap_up,
                    },
                    Action::InviteToConference { agent } => {
                        ConversationCommand::InviteToConference {
                            by: by.clone(),
                            invitee: *agent,
                            available,
                            deadline,
                        }
                    }
                    Action::AcceptConference => {
                        ConversationCommand::AcceptConference { agent: by.agent }
                    }
                    Action::DeclineConference => {
                        ConversationCommand::DeclineConference { agent: by.agent }
                    }
                    Action::LeaveConference { wrap_up } => ConversationCommand::LeaveConference {
                        agent: by.agent,
                        wrap_up: *wrap_up,
                    },
                    Action::HandToBot { flow } => ConversationCommand::HandToBot {
                        by: by.clone(),
                        flow: flow.clone(),
                    },
                };
                Ok(Plan::command(command))
            })
            .await?;
        // R3, R5: a conversation now waiting is routed at once; a freed slot is refilled.
        self.after_change(account, Some(&seen.value), changed.conversation, false)
            .await
    }

    /// C11: the bot flow's integration hands a conversation back: status `open`, in `queue`
    /// (or its inbox's queue), routed at once (R3).
    ///
    /// # Errors
    /// `forbidden` for agents (the flow hands back, with its API token), `not_found` for
    /// visitors and for another account's conversation or queue (S1), `invalid_transition`
    /// when the conversation is not with a bot.
    pub async fn hand_back(
        &self,
        caller: &Caller,
        id: ConversationId,
        queue: Option<QueueId>,
    ) -> AppResult<Versioned<Conversation>> {
        let account = match caller {
            Caller::Integration { account } => *account,
            Caller::Visitor { .. } => return Err(DomainError::NotFound.into()),
            Caller::Agent { .. } => {
                return Err(DomainError::Forbidden {
                    action: "hand a conversation back from a bot flow: the flow's integration does it with its API token",
                }
                .into());
            }
        };
        if let Some(queue) = queue {
            self.store
                .queue(account, queue)
                .await?
                .ok_or(DomainError::NotFound)?;
        }
        let changed = self
            .change_conversation(account, id, |ctx| {
                Ok(Plan::command(ConversationCommand::HandBack {
                    queue: queue.or(ctx.inbox.queue),
                }))
            })
            .await?;
        // R3: back in a queue, it is routed at once (a bot holds no agent's load).
        self.after_change(account, None, changed.conversation, false)
            .await
    }
}
