//! What contacts write (C2, C3, D5, M8): the first message starts a conversation, a message on
//! a resolved or dropped one reopens it, a message while a dialog is active goes into it, and a
//! channel's retry of the same message is stored once. Nothing the contact writes is refused
//! because of the conversation's status.

use conversation_core::actor::Actor;
use conversation_core::channel::ChannelKind;
use conversation_core::conversation::{
    Conversation, ConversationCommand, ConversationEvent, LoadChange, StartConversation,
};
use conversation_core::dialog::inbound_target;
use conversation_core::entities::Inbox;
use conversation_core::ids::{ContactId, ConversationId, MessageId};
use conversation_core::message::{
    Attachment, Direction, Message, MessageKind, MessageOrigin, NewMessage,
};
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, ExpectedVersion, StoreError, StoredFile,
};
use conversation_core::{DomainError, DomainEvent};

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::pipeline::Plan;
use crate::routing::Routed;

/// A message from a contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// Its kind: text, media, or a satisfaction answer.
    pub kind: MessageKind,
    /// Its text (masked before it is stored, M3).
    pub body: String,
    /// A file, for media.
    pub attachment: Option<Attachment>,
    /// The channel's id of the message (M8).
    pub external_id: Option<String>,
    /// The client's id of the message (M8, widget retries).
    pub client_id: Option<String>,
}

/// What a channel adds to a contact's message: the message it quotes (M4) and the bytes of its
/// file (M7), stored with it in one commit.
#[derive(Clone, Debug, Default)]
pub(crate) struct ChannelExtras {
    /// The quoted message and its conversation: kept only when the message lands in that same
    /// conversation (M4).
    pub quote: Option<(MessageId, ConversationId)>,
    /// The bytes of the inbound message's attachment, already accepted (M7).
    pub file: Option<std::sync::Arc<[u8]>>,
    /// The subject of the email it came in, kept on the message (email threading).
    pub subject: Option<String>,
}

/// What happened to an inbound message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The conversation it is in.
    pub conversation: ConversationId,
    /// The stored message.
    pub message: MessageId,
    /// Whether it had been stored before (a retry): nothing new was written.
    pub duplicate: bool,
}

impl App {
    /// Stores a contact's message in their conversation on the inbox (C2, C3, D5, M8).
    ///
    /// # Errors
    /// Storage failures only: nothing the contact writes is refused (C3).
    pub async fn receive_inbound(
        &self,
        inbox: &Inbox,
        contact: ContactId,
        inbound: Inbound,
    ) -> AppResult<Received> {
        self.receive_channel_inbound(inbox, contact, inbound, &ChannelExtras::default())
            .await
    }

    /// As [`App::receive_inbound`], with what a channel adds (a quote, a file's bytes).
    pub(crate) async fn receive_channel_inbound(
        &self,
        inbox: &Inbox,
        contact: ContactId,
        inbound: Inbound,
        extras: &ChannelExtras,
    ) -> AppResult<Received> {
        let account = inbox.account;
        for _ in 0..=self.config.max_retries {
            let latest = self
                .store
                .latest_conversation(account, inbox.id, contact)
                .await?;
            let result = match latest {
                None => {
                    self.start_conversation(inbox, contact, &inbound, extras)
                        .await
                }
                Some(stored) => self
                    .append_inbound(account, stored.value.id, contact, &inbound, extras)
                    .await
                    .map(|received| (received, true)),
            };
            match result {
                Ok((received, route)) => {
                    // R3, R4: a new or reopened conversation is routed at once, to the
                    // contact's responsible agent when they can take it (a new one was
                    // routed in its start's commit unless the slot was lost).
                    if route {
                        self.route(account, received.conversation, true).await?;
                    }
                    return Ok(received);
                }
                Err(Retry::Duplicate(existing)) => {
                    let message = self
                        .store
                        .message(account, existing)
                        .await?
                        .ok_or(DomainError::NotFound)?;
                    return Ok(Received {
                        conversation: message.conversation,
                        message: existing,
                        duplicate: true,
                    });
                }
                Err(Retry::Race) => {}
                Err(Retry::Error(error)) => return Err(error),
            }
        }
        Err(DomainError::Conflict {
            what: "the conversation",
        }
        .into())
    }

    fn inbound_message(
        &self,
        conversation: &Conversation,
        contact: ContactId,
        inbound: &Inbound,
        dialog: Option<conversation_core::ids::DialogId>,
        at: conversation_core::Timestamp,
        extras: &ChannelExtras,
    ) -> AppResult<Message> {
        let origin = MessageOrigin {
            id: MessageId::from_uuid(self.ids.new_uuid(at)),
            account: conversation.account,
            conversation: conversation.id,
            dialog,
            sequence: 0,
        };
        let new = NewMessage {
            kind: inbound.kind,
            direction: Direction::Inbound,
            sender: Actor::Contact(contact),
            body: inbound.body.clone(),
            quote: extras
                .quote
                .filter(|(_, quoted_in)| *quoted_in == conversation.id)
                .map(|(quoted, _)| quoted),
            attachment: inbound.attachment.clone(),
            client_id: inbound.client_id.clone(),
            external_id: inbound.external_id.clone(),
        };
        let mut message = Message::create(origin, new, at)?;
        message.subject.clone_from(&extras.subject);
        Ok(message)
    }

    /// C2, R3, B4: starts the conversation with the contact's first message. When it waits in
    /// a queue, the routing choice is made first and committed with the start, one commit for
    /// both; when the store refuses that slot (R2, another process took it), the conversation
    /// is started alone and routed after. Returns whether it still has to be routed.
    async fn start_conversation(
        &self,
        inbox: &Inbox,
        contact: ContactId,
        inbound: &Inbound,
        extras: &ChannelExtras,
    ) -> Result<(Received, bool), Retry> {
        let now = self.now();
        let dialogs = self
            .store
            .contact_dialogs(inbox.account, contact)
            .await
            .map_err(Retry::from)?;
        let start = StartConversation {
            id: ConversationId::from_uuid(self.ids.new_uuid(now)),
            account: inbox.account,
            inbox: inbox.id,
            channel: inbox.channel,
            contact,
            message: MessageId::from_uuid(self.ids.new_uuid(now)),
            queue: inbox.queue,
            bot_flow: inbox.settings.starts_in_bot.then(|| "default".to_owned()),
        };
        let events = Conversation::decide_start(&start, now);
        let conversation = Conversation::replay(&events)
            .ok_or_else(|| Retry::Error(AppError::Internal("no conversation started".into())))?;
        let mut message = self
            .inbound_message(
                &conversation,
                contact,
                inbound,
                inbound_target(&dialogs),
                now,
                extras,
            )
            .map_err(Retry::Error)?;
        message.id = start.message;
        let received = Received {
            conversation: conversation.id,
            message: start.message,
            duplicate: false,
        };
        // N4: a visitor's new chat texts the staff numbers, in the start's commit.
        let texts = if inbox.channel == ChannelKind::WebChat {
            self.staff_sms_rows(inbox, conversation.id)
                .await
                .map_err(Retry::Error)?
        } else {
            Vec::new()
        };
        let routed = self
            .choose_route(&conversation, true)
            .await
            .map_err(Retry::Error)?;
        if let Some(routed) = routed.as_ref().filter(|routed| !routed.is_idle()) {
            let mut commit = self.start_commit(
                inbox,
                &conversation,
                &events,
                &message,
                extras,
                Some(routed),
            )?;
            commit.outbox.extend(texts.iter().cloned());
            match self.store.commit(commit.clone()).await {
                Ok(receipt) => {
                    self.publish(inbox.account, &commit, &receipt);
                    self.routed(routed).await.map_err(Retry::Error)?;
                    return Ok((received, false));
                }
                // R2: the slot went to another process: start alone, route after.
                Err(StoreError::Domain(DomainError::CapacityExceeded { .. })) => {}
                Err(error) => return Err(Retry::from(error)),
            }
        }
        // Route after: when the slot was lost, or held slots made it wait.
        let again = routed
            .as_ref()
            .is_some_and(|routed| routed.counted_holds || !routed.is_idle());
        drop(routed);
        let mut commit =
            self.start_commit(inbox, &conversation, &events, &message, extras, None)?;
        commit.outbox.extend(texts);
        let receipt = self
            .store
            .commit(commit.clone())
            .await
            .map_err(Retry::from)?;
        self.publish(inbox.account, &commit, &receipt);
        Ok((received, again))
    }

    /// The commit that starts a conversation with its first message, with its routing when
    /// given (the queue's command and R4's task).
    fn start_commit(
        &self,
        inbox: &Inbox,
        conversation: &Conversation,
        started: &[ConversationEvent],
        message: &Message,
        extras: &ChannelExtras,
        routed: Option<&Routed>,
    ) -> Result<Commit, Retry> {
        // The start's time: its first message's.
        let now = message.created_at;
        let mut after = conversation.clone();
        let mut events = started.to_vec();
        let mut tasks = Vec::new();
        if let Some(routed) = routed {
            if let Some(command) = &routed.command {
                let more = after
                    .decide(command, now)
                    .map_err(|error| Retry::Error(error.into()))?;
                for event in &more {
                    after.apply(event);
                }
                events.extend(more);
            }
            tasks.clone_from(&routed.tasks);
        }
        let load = LoadChange::between(None, after.load_holder(), &events);
        // C8: the reply target of the first message; R6: the offer's deadline.
        let timers = crate::timers::conversation_timers(None, &after, &events, inbox)
            .map_err(Retry::Error)?;
        let mut commit = Commit::new(inbox.account);
        commit.changes.push(AggregateChange {
            expected: ExpectedVersion::New,
            state: AggregateState::Conversation {
                conversation: Box::new(after),
                load,
            },
            events: events.into_iter().map(DomainEvent::Conversation).collect(),
        });
        commit.files = stored_file(message, extras);
        commit.messages.push(message.clone());
        commit.timers = timers;
        commit.tasks = tasks;
        Ok(commit)
    }

    async fn append_inbound(
        &self,
        account: conversation_core::ids::AccountId,
        id: ConversationId,
        contact: ContactId,
        inbound: &Inbound,
        extras: &ChannelExtras,
    ) -> Result<Received, Retry> {
        let mut message_id = None;
        let changed = self
            .change_conversation(account, id, |ctx| {
                let dialog = inbound_target(ctx.dialogs);
                let message = self.inbound_message(
                    ctx.conversation,
                    contact,
                    inbound,
                    dialog,
                    ctx.now,
                    extras,
                )?;
                message_id = Some(message.id);
                let files = stored_file(&message, extras);
                Ok(Plan {
                    command: Some(ConversationCommand::ReceiveInbound {
                        message: message.id,
                        queue: ctx.inbox.queue,
                        dialog,
                    }),
                    messages: vec![message],
                    files,
                    ..Plan::default()
                })
            })
            .await;
        match changed {
            Ok(_) => Ok(Received {
                conversation: id,
                message: message_id.unwrap_or_else(|| MessageId::from_u128(0)),
                duplicate: false,
            }),
            Err(AppError::Domain(DomainError::Conflict { .. })) => Err(Retry::Race),
            Err(AppError::Duplicate { existing }) => Err(Retry::Duplicate(existing)),
            Err(error) => Err(Retry::Error(error)),
        }
    }
}

/// M7: the file of a channel's message, stored in the message's commit.
fn stored_file(message: &Message, extras: &ChannelExtras) -> Vec<StoredFile> {
    match (&message.attachment, &extras.file) {
        (Some(attachment), Some(bytes)) => vec![StoredFile {
            message: message.id,
            attachment: attachment.clone(),
            bytes: std::sync::Arc::clone(bytes),
        }],
        _ => Vec::new(),
    }
}

/// Why one attempt did not store the message.
enum Retry {
    /// Already stored as this message.
    Duplicate(MessageId),
    /// Another change won a race: try again on fresh state.
    Race,
    /// Anything else.
    Error(AppError),
}

impl From<StoreError> for Retry {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate { existing } => Self::Duplicate(existing),
            StoreError::Domain(DomainError::Conflict { .. }) => Self::Race,
            other => Self::Error(other.into()),
        }
    }
}
