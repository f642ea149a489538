//! Agents' messages: replies, templates and private notes (M1-M4, M10, C4, D5), deletion (M5),
//! and the outbox rows that deliver replies through channels other than the widget (H3).

use conversation_core::actor::Principal;
use conversation_core::channel::ChannelKind;
use conversation_core::conversation::{ConversationCommand, Reply, ReplyKind, ReplyPolicy};
use conversation_core::ids::{AccountId, ConversationId, DialogId, MessageId};
use conversation_core::message::{
    Attachment, Audience, Direction, Message, MessageKind, MessageOrigin, NewMessage, check_quote,
    check_quote_visibility, validate_agent_text,
};
use conversation_core::ports::{MessageUpdate, OutboxItem, OutboxKind, StoredFile};
use conversation_core::{DomainError, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::pipeline::{Changed, Ctx, Plan};

/// What an agent writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outgoing {
    /// A free-form reply to the contact.
    Text,
    /// An approved template (C4: allowed outside the window where the channel has them).
    Template,
    /// A private note for agents (M10).
    Note,
}

/// A message an agent sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendMessage {
    /// Its kind.
    pub kind: Outgoing,
    /// Its text.
    pub body: String,
    /// M4: the message it quotes.
    pub quote: Option<MessageId>,
    /// D5: the dialog it is written in.
    pub dialog: Option<DialogId>,
    /// M8: the client's id of this message, for safe retries.
    pub client_id: Option<String>,
}

/// What a reply or note is made of, its body already checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Draft {
    /// Its kind.
    pub kind: Outgoing,
    /// Its text (a caption for a file; may be empty then).
    pub body: String,
    /// M7: its file.
    pub attachment: Option<Attachment>,
    /// D5: the dialog it is written in.
    pub dialog: Option<DialogId>,
    /// M8: the client's id of it.
    pub client_id: Option<String>,
}

/// The instruction of a delivery outbox row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryOrder {
    /// The message to deliver.
    pub message: MessageId,
    /// Its conversation.
    pub conversation: ConversationId,
}

impl App {
    /// Builds a reply's message and the conversation's view of it (text validated, M2; masked,
    /// M3).
    pub(crate) fn agent_reply(
        &self,
        ctx: &Ctx<'_>,
        by: &Principal,
        text: &str,
        kind: Option<Outgoing>,
        dialog: Option<DialogId>,
        client_id: Option<String>,
    ) -> AppResult<(Reply, Message)> {
        let kind = kind.unwrap_or(Outgoing::Text);
        let capabilities = ctx.inbox.capabilities();
        let reserves = capabilities.reserves_angle_brackets && kind != Outgoing::Note;
        let text = validate_agent_text(text, ctx.inbox.settings.text_limit, reserves)?;
        self.compose_reply(
            ctx,
            by,
            Draft {
                kind,
                body: text.into_inner(),
                attachment: None,
                dialog,
                client_id,
            },
        )
    }

    /// Builds the message of a draft whose body is already checked, and the conversation's
    /// view of it. A reply with a file is a media message (M7); a note keeps its file private
    /// (M10).
    ///
    /// # Errors
    /// `invalid_value` (field `kind`) for a template with a file; M1's checks.
    pub(crate) fn compose_reply(
        &self,
        ctx: &Ctx<'_>,
        by: &Principal,
        draft: Draft,
    ) -> AppResult<(Reply, Message)> {
        let media = draft.attachment.is_some();
        let (reply_kind, message_kind, direction) = match draft.kind {
            Outgoing::Text if media => {
                (ReplyKind::FreeForm, MessageKind::Media, Direction::Outbound)
            }
            Outgoing::Text => (ReplyKind::FreeForm, MessageKind::Text, Direction::Outbound),
            Outgoing::Template if media => {
                return Err(DomainError::InvalidValue {
                    field: "kind",
                    reason: "a template carries no file; send a reply or a note",
                }
                .into());
            }
            Outgoing::Template => (
                ReplyKind::Template,
                MessageKind::Template,
                Direction::Outbound,
            ),
            Outgoing::Note => (ReplyKind::Note, MessageKind::Note, Direction::Internal),
        };
        let id = MessageId::from_uuid(self.ids.new_uuid(ctx.now));
        let origin = MessageOrigin {
            id,
            account: ctx.conversation.account,
            conversation: ctx.conversation.id,
            dialog: draft.dialog,
            sequence: 0,
        };
        let new = NewMessage {
            kind: message_kind,
            direction,
            sender: by.actor(),
            body: draft.body,
            quote: None,
            attachment: draft.attachment,
            client_id: draft.client_id,
            external_id: None,
        };
        let message = Message::create(origin, new, ctx.now)?;
        let reply = Reply {
            message: id,
            kind: reply_kind,
            dialog: draft.dialog,
            dialogs: ctx.dialogs.clone(),
            policy: ReplyPolicy::of(ctx.inbox),
        };
        Ok((reply, message))
    }

    /// The plan of an agent's reply or note: the command, the message with its files (M7) and
    /// its delivery (H3).
    pub(crate) fn reply_plan(
        &self,
        ctx: &Ctx<'_>,
        by: &Principal,
        reply: Reply,
        message: Message,
        files: Vec<StoredFile>,
    ) -> AppResult<Plan> {
        let messages = vec![message];
        Ok(Plan {
            command: Some(ConversationCommand::SendReply {
                by: by.clone(),
                reply,
            }),
            outbox: self.delivery_outbox(ctx, &messages)?,
            messages,
            files,
            ..Plan::default()
        })
    }

    /// M8: the message a send wrote, or, for a retry, the one stored the first time.
    pub(crate) async fn sent_message(
        &self,
        account: AccountId,
        result: AppResult<Changed>,
    ) -> AppResult<Message> {
        match result {
            Ok(changed) => changed
                .messages
                .into_iter()
                .next()
                .ok_or_else(|| AppError::Internal("no message written".into())),
            Err(AppError::Duplicate { existing }) => self
                .store
                .message(account, existing)
                .await?
                .ok_or_else(|| AppError::Internal("duplicate message not found".into())),
            Err(error) => Err(error),
        }
    }

    /// H3: one delivery row per outbound message on channels delivered by an adapter (the
    /// widget reads its messages from the event stream instead).
    pub(crate) fn delivery_outbox(
        &self,
        ctx: &Ctx<'_>,
        messages: &[Message],
    ) -> AppResult<Vec<OutboxItem>> {
        if ctx.inbox.channel == ChannelKind::WebChat {
            return Ok(Vec::new());
        }
        messages
            .iter()
            .filter(|message| message.direction == Direction::Outbound)
            .map(|message| {
                let order = DeliveryOrder {
                    message: message.id,
                    conversation: message.conversation,
                };
                Ok(OutboxItem {
                    id: self.ids.new_uuid(ctx.now),
                    account: ctx.conversation.account,
                    kind: OutboxKind::Delivery,
                    payload: serde_json::to_string(&order).map_err(AppError::internal)?,
                    due_at: ctx.now,
                })
            })
            .collect()
    }

    /// Sends an agent's message in a conversation. A retry with the same `client_id` returns
    /// the message stored the first time (M8).
    ///
    /// # Errors
    /// `not_found` when the caller may not see the conversation; the codes of M2, M4, C4, C7,
    /// D5, D6.
    pub async fn send_message(
        &self,
        caller: &Caller,
        id: ConversationId,
        send: SendMessage,
    ) -> AppResult<Message> {
        let (account, principal) = agent_of(caller)?;
        self.conversation(caller, id).await?;
        if let Some(quoted) = send.quote {
            let quoted = self
                .store
                .message(account, quoted)
                .await?
                .ok_or(DomainError::QuoteOutsideConversation)?;
            check_quote(id, &quoted)?;
            let audience = if send.kind == Outgoing::Note {
                Audience::AgentsOnly
            } else {
                Audience::AgentsAndContact
            };
            check_quote_visibility(audience, &quoted)?;
        }
        let by = principal.clone();
        let result = self
            .change_conversation(account, id, |ctx| {
                let (reply, mut message) = self.agent_reply(
                    ctx,
                    &by,
                    &send.body,
                    Some(send.kind),
                    send.dialog,
                    send.client_id.clone(),
                )?;
                message.quote = send.quote;
                self.reply_plan(ctx, &by, reply, message, Vec::new())
            })
            .await;
        self.sent_message(account, result).await
    }

    /// M5: deletes an agent's outbound message, keeping a tombstone; unsends it where the
    /// channel can. The deletion is an event of the conversation (N1: "message deleted").
    ///
    /// # Errors
    /// `not_found`; `message_not_deletable`; `message_already_deleted`.
    pub async fn delete_message(
        &self,
        caller: &Caller,
        id: ConversationId,
        message: MessageId,
    ) -> AppResult<Message> {
        let (account, principal) = agent_of(caller)?;
        self.conversation(caller, id).await?;
        let stored = self
            .store
            .message(account, message)
            .await?
            .filter(|m| m.conversation == id)
            .ok_or(DomainError::NotFound)?;
        let agent = principal.agent;
        let mut result = None;
        self.change_conversation(account, id, |ctx| {
            let deleted = stored.decide_delete(agent, ctx.now, &ctx.inbox.capabilities())?;
            let mut after = stored.clone();
            after.apply_deleted(&deleted);
            let tombstone = after
                .deleted
                .ok_or_else(|| AppError::Internal("no tombstone".into()))?;
            let mut outbox = Vec::new();
            if deleted.unsend {
                outbox.push(OutboxItem {
                    id: self.ids.new_uuid(ctx.now),
                    account,
                    kind: OutboxKind::Unsend,
                    payload: serde_json::to_string(&DeliveryOrder {
                        message,
                        conversation: id,
                    })
                    .map_err(AppError::internal)?,
                    due_at: ctx.now,
                });
            }
            result = Some(after);
            Ok(Plan {
                extra_events: vec![DomainEvent::MessageDeleted(deleted)],
                message_updates: vec![MessageUpdate::Deleted { message, tombstone }],
                outbox,
                ..Plan::default()
            })
        })
        .await?;
        result.ok_or_else(|| AppError::Internal("no deletion decided".into()))
    }
}
