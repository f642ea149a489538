//! M7, S4: files in conversations. An agent sends a file as a reply (a media message, with an
//! optional caption) or as a private note (M10), through the same pipeline as any message
//! (C4, D5, M8 retries by client id); the core checks type, size and content
//! ([`accept_attachment`]) and the file is stored under a generated id (never its name) in the
//! same commit as its message. Reading it back: an agent who may see the conversation (S1:
//! otherwise 404), or the widget visitor of that conversation, for files of messages the
//! contact may see (M10, S5: otherwise 404). A deleted message has no file (M5).

use std::sync::Arc;

use conversation_core::DomainError;
use conversation_core::ids::{AccountId, ConversationId, DialogId, MessageId};
use conversation_core::message::{
    Message, Upload, accept_attachment, validate_agent_text, visible_to_contact,
};
use conversation_core::ports::StoredFile;

use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::AppResult;
use crate::messages::{Draft, Outgoing};

/// A file an agent sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendAttachment {
    /// `Text` for a reply to the contact (a media message), `Note` for a private note (M10);
    /// templates carry no file.
    pub kind: Outgoing,
    /// An optional caption (M2 applies when it is not blank).
    pub caption: String,
    /// D5: the dialog it is written in.
    pub dialog: Option<DialogId>,
    /// M8: the client's id of this message, for safe retries.
    pub client_id: Option<String>,
    /// The name the file was uploaded with (sanitized before it is kept).
    pub file_name: String,
    /// The content type the client declared.
    pub content_type: String,
    /// The bytes.
    pub bytes: Arc<[u8]>,
}

impl App {
    /// M7: sends a file in a conversation. A retry with the same `client_id` returns the
    /// message stored the first time, and stores no second file (M8).
    ///
    /// # Errors
    /// `not_found` when the caller may not see the conversation; `capability_unsupported` on a
    /// channel without media (H2); `attachment_type_not_allowed`, `attachment_too_large`,
    /// `attachment_content_mismatch`; the codes of M2 (caption), C4, C7, D5, D6.
    pub async fn send_attachment(
        &self,
        caller: &Caller,
        id: ConversationId,
        send: SendAttachment,
    ) -> AppResult<Message> {
        let (account, principal) = agent_of(caller)?;
        self.conversation(caller, id).await?;
        let by = principal.clone();
        let result = self
            .change_conversation(account, id, |ctx| {
                if !ctx.inbox.capabilities().media {
                    return Err(DomainError::CapabilityUnsupported {
                        capability: "media",
                    }
                    .into());
                }
                let upload = Upload {
                    file_name: &send.file_name,
                    content_type: &send.content_type,
                    bytes: &send.bytes,
                };
                let storage_key = self.ids.new_uuid(ctx.now).to_string();
                let attachment = accept_attachment(
                    &upload,
                    ctx.inbox.settings.attachment_max_bytes,
                    storage_key,
                )?;
                let body = if send.caption.trim().is_empty() {
                    String::new()
                } else {
                    let reserves = ctx.inbox.capabilities().reserves_angle_brackets
                        && send.kind != Outgoing::Note;
                    validate_agent_text(&send.caption, ctx.inbox.settings.text_limit, reserves)?
                        .into_inner()
                };
                let (reply, message) = self.compose_reply(
                    ctx,
                    &by,
                    Draft {
                        kind: send.kind,
                        body,
                        attachment: Some(attachment.clone()),
                        dialog: send.dialog,
                        client_id: send.client_id.clone(),
                    },
                )?;
                let files = vec![StoredFile {
                    message: message.id,
                    attachment,
                    bytes: Arc::clone(&send.bytes),
                }];
                self.reply_plan(ctx, &by, reply, message, files)
            })
            .await;
        self.sent_message(account, result).await
    }

    /// M7, S1: the file of a message, for an agent who may see its conversation.
    ///
    /// # Errors
    /// `not_found` for a conversation the caller may not see, a message of another
    /// conversation, a message without a file or a deleted one (M5).
    pub async fn attachment(
        &self,
        caller: &Caller,
        conversation: ConversationId,
        message: MessageId,
    ) -> AppResult<StoredFile> {
        let (account, _) = agent_of(caller)?;
        self.conversation(caller, conversation).await?;
        let message = self
            .store
            .message(account, message)
            .await?
            .filter(|m| m.conversation == conversation)
            .ok_or(DomainError::NotFound)?;
        self.file_of(account, &message).await
    }

    /// M7, M10, S5: the file of a message of the visitor's own conversation that the contact
    /// may see.
    ///
    /// # Errors
    /// `not_found` for anyone but the visitor of that conversation, a private note (M10), a
    /// message without a file or a deleted one (M5).
    pub async fn visitor_attachment(
        &self,
        caller: &Caller,
        message: MessageId,
    ) -> AppResult<StoredFile> {
        let (inbox, contact) = self.visitor_inbox(caller).await?;
        let account = inbox.account;
        let message = self
            .store
            .message(account, message)
            .await?
            .filter(visible_to_contact)
            .ok_or(DomainError::NotFound)?;
        self.store
            .conversation(account, message.conversation)
            .await?
            .filter(|c| c.value.contact == contact && c.value.inbox == inbox.id)
            .ok_or(DomainError::NotFound)?;
        self.file_of(account, &message).await
    }

    /// The stored file a message names, if it still has one.
    async fn file_of(&self, account: AccountId, message: &Message) -> AppResult<StoredFile> {
        let attachment = message
            .attachment
            .as_ref()
            .filter(|_| !message.is_deleted())
            .ok_or(DomainError::NotFound)?;
        Ok(self
            .store
            .file(account, &attachment.storage_key)
            .await?
            .filter(|file| file.message == message.id)
            .ok_or(DomainError::NotFound)?)
    }
}
