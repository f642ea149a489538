//! D8: automated messages from integrations (bot flows, broadcasts, the AI assistant) to a
//! conversation's contact, through their API token.
//!
//! [`App::send_automated`] asks the core what becomes of the message ([`automated_fate`]):
//! - no active dialog of the contact: it is delivered now, a `bot` message from the
//!   integration in the general chat (event `automated_message_sent`);
//! - a flow message or broadcast while a dialog is active: it is **held**, a row of
//!   `held_messages` written with the event `automated_message_held` in one commit, and only
//!   while that dialog is still active (else the change is decided again and it goes now);
//! - an AI message while a dialog is active: it is **discarded**: nothing is stored but the
//!   event `automated_message_discarded` (agents see it in the timeline; the contact never).
//!
//! A dialog that leaves `active` (paused, completed) schedules, in its own commit, the
//! `release_held` timer of its contact, due at once; the worker runs [`App::release_held`],
//! which writes the held messages in the order they were held, each as a `bot` message with
//! the event `automated_message_released`, and marks them released in the same commit: a
//! message is released once (a second release of a row fails and is decided again), and a
//! crash before the commit leaves the timer to fire again. If a dialog of the contact is active
//! again when the timer fires, the messages keep waiting for the next pause or completion.
//!
//! M8: a retry with the same `client_id` answers what the first attempt did (the message sent,
//! or the message held, released or not).

use conversation_core::DomainError;
use conversation_core::DomainEvent;
use conversation_core::actor::Actor;
use conversation_core::dialog::{AutomatedFate, AutomatedSource, automated_fate, may_release};
use conversation_core::events::{AutomatedMessageEvent, AutomatedOutcome};
use conversation_core::ids::{AccountId, ContactId, ConversationId, DialogId, MessageId};
use conversation_core::message::{
    Direction, Message, MessageKind, MessageOrigin, NewMessage, validate_agent_text,
};
use conversation_core::ports::{HeldMessage, HeldRelease};

use crate::app::App;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::pipeline::{Ctx, Plan};

/// How many held messages one release reads at a time.
const RELEASE_PAGE: u32 = 100;

/// An automated message an integration sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutomatedMessage {
    /// Where it comes from.
    pub source: AutomatedSource,
    /// Its text (checked as agents' text is, M2).
    pub body: String,
    /// M8: the client's id of it, for safe retries.
    pub client_id: Option<String>,
}

/// What became of an automated message (D8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Automated {
    /// Delivered now (or, for a retry, earlier): the stored message.
    Sent(Box<Message>),
    /// Held while the contact's dialog is active; `released_at` once it went out.
    Held(HeldMessage),
    /// An AI message dropped while a dialog was active.
    Discarded {
        /// The id its event carries.
        message: MessageId,
        /// The active dialog.
        dialog: DialogId,
    },
}

fn event(
    outcome: AutomatedOutcome,
    ctx: &Ctx<'_>,
    message: MessageId,
    source: AutomatedSource,
    dialog: Option<DialogId>,
) -> DomainEvent {
    DomainEvent::AutomatedMessage(AutomatedMessageEvent {
        outcome,
        conversation: ctx.conversation.id,
        message,
        source,
        dialog,
        at: ctx.now,
    })
}

impl App {
    /// D8: the outbound `bot` message of an automated message, in the general chat.
    fn bot_message(
        ctx: &Ctx<'_>,
        id: MessageId,
        body: String,
        client_id: Option<String>,
    ) -> AppResult<Message> {
        let origin = MessageOrigin {
            id,
            account: ctx.conversation.account,
            conversation: ctx.conversation.id,
            dialog: None,
            sequence: 0,
        };
        let new = NewMessage {
            kind: MessageKind::Bot,
            direction: Direction::Outbound,
            sender: Actor::Integration,
            body,
            quote: None,
            attachment: None,
            client_id,
            external_id: None,
        };
        Ok(Message::create(origin, new, ctx.now)?)
    }

    /// D8: an integration sends a flow, broadcast or AI message to the conversation's contact
    /// (see the module doc).
    ///
    /// # Errors
    /// `forbidden` for agents, `not_found` for visitors and another account's conversation
    /// (S1); M2's codes for the text.
    pub async fn send_automated(
        &self,
        caller: &Caller,
        id: ConversationId,
        send: AutomatedMessage,
    ) -> AppResult<Automated> {
        let account = match caller {
            Caller::Integration { account } => *account,
            Caller::Visitor { .. } => return Err(DomainError::NotFound.into()),
            Caller::Agent { .. } => {
                return Err(DomainError::Forbidden {
                    action: "send automated messages: integrations do it with their API token",
                }
                .into());
            }
        };
        self.store
            .conversation(account, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let client_id = send.client_id.filter(|c| !c.trim().is_empty());
        if let Some(client_id) = &client_id {
            if let Some(held) = self
                .store
                .held_message_by_client_id(account, id, client_id)
                .await?
            {
                return Ok(Automated::Held(held));
            }
        }
        let mut outcome = None;
        let result = self
            .change_conversation(account, id, |ctx| {
                let reserves = ctx.inbox.capabilities().reserves_angle_brackets;
                let text =
                    validate_agent_text(&send.body, ctx.inbox.settings.text_limit, reserves)?
                        .into_inner();
                let message = MessageId::from_uuid(self.ids.new_uuid(ctx.now));
                let source = send.source;
                Ok(match automated_fate(source, ctx.dialogs) {
                    AutomatedFate::Deliver => {
                        let messages =
                            vec![Self::bot_message(ctx, message, text, client_id.clone())?];
                        outcome = None;
                        Plan {
                            extra_events: vec![event(
                                AutomatedOutcome::Sent,
                                ctx,
                                message,
                                source,
                                None,
                            )],
                            outbox: self.delivery_outbox(ctx, &messages)?,
                            messages,
                            ..Plan::default()
                        }
                    }
                    AutomatedFate::Hold { dialog } => {
                        let held = HeldMessage {
                            id: message,
                            account,
                            contact: ctx.conversation.contact,
                            conversation: ctx.conversation.id,
                            dialog,
                            source,
                            body: text,
                            client_id: client_id.clone(),
                            held_at: ctx.now,
                            released_at: None,
                        };
                        outcome = Some(Automated::Held(held.clone()));
                        Plan {
                            extra_events: vec![event(
                                AutomatedOutcome::Held,
                                ctx,
                                message,
                                source,
                                Some(dialog),
                            )],
                            hold: vec![held],
                            ..Plan::default()
                        }
                    }
                    AutomatedFate::Discard { dialog } => {
                        outcome = Some(Automated::Discarded { message, dialog });
                        Plan {
                            extra_events: vec![event(
                                AutomatedOutcome::Discarded,
                                ctx,
                                message,
                                source,
                                Some(dialog),
                            )],
                            ..Plan::default()
                        }
                    }
                })
            })
            .await;
        match (result, outcome) {
            (Ok(_), Some(outcome)) => Ok(outcome),
            (Ok(changed), None) => changed
                .messages
                .into_iter()
                .next()
                .map(|message| Automated::Sent(Box::new(message)))
                .ok_or_else(|| AppError::Internal("no automated message written".into())),
            (Err(AppError::Duplicate { existing }), _) => self
                .store
                .message(account, existing)
                .await?
                .map(|message| Automated::Sent(Box::new(message)))
                .ok_or_else(|| AppError::Internal("duplicate message not found".into())),
            (Err(error), _) => Err(error),
        }
    }

    /// D8: delivers the contact's held messages, in the order they were held, unless a dialog
    /// of theirs is active again; how many went out. Each run of messages of one conversation
    /// is one commit that writes them and marks them released (see the module doc).
    ///
    /// # Errors
    /// Storage failures (the timer is then retried).
    pub async fn release_held(&self, account: AccountId, contact: ContactId) -> AppResult<usize> {
        let mut released = 0;
        loop {
            let held = self
                .store
                .held_messages(account, contact, RELEASE_PAGE)
                .await?;
            let Some(first) = held.first() else {
                return Ok(released);
            };
            let conversation = first.conversation;
            let batch: Vec<HeldMessage> = held
                .into_iter()
                .take_while(|h| h.conversation == conversation)
                .collect();
            let changed = self
                .change_conversation(account, conversation, |ctx| {
                    if !may_release(ctx.dialogs) {
                        return Ok(Plan::default());
                    }
                    let mut plan = Plan::default();
                    for held in &batch {
                        // The client id stays on the held row (M8), so that a message sent
                        // directly with the same id can never block the release.
                        plan.messages.push(Self::bot_message(
                            ctx,
                            held.id,
                            held.body.clone(),
                            None,
                        )?);
                        plan.extra_events.push(event(
                            AutomatedOutcome::Released,
                            ctx,
                            held.id,
                            held.source,
                            Some(held.dialog),
                        ));
                        plan.release.push(HeldRelease {
                            id: held.id,
                            at: ctx.now,
                        });
                    }
                    plan.outbox = self.delivery_outbox(ctx, &plan.messages)?;
                    Ok(plan)
                })
                .await?;
            if changed.messages.is_empty() {
                // A dialog of the contact is active again: they keep waiting.
                return Ok(released);
            }
            released += changed.messages.len();
        }
    }
}
