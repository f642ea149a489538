//! Email threading of inbound mails (W7, A1): a mail whose `In-Reply-To` or `References` names
//! a message of ours joins that message's conversation, whoever the `From` is.
//!
//! Each id of the thread, nearest first, is looked up two ways:
//! - as the provider's id of a message of the receiving inbox (the contact's earlier mail, or
//!   our reply once sent: its external id is its `Message-ID`);
//! - as one of OUR `Message-ID`s, `{message id}@{domain}`: the local part is a message id,
//!   read within the inbox's account only (A1: another account's message reads as absent).
//!
//! At most the nearest [`MAX_THREAD_IDS`] ids are followed. The conversation found is joined
//! only if it is the receiving inbox's own, or a web chat conversation whose inbox sends its
//! email continuity through the receiving inbox (W7). An id that finds nothing, or a
//! conversation of anything else, is skipped; a mail whose thread finds nothing is matched by
//! its sender, as any mail.

use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use conversation_core::ids::{ContactId, ConversationId, MessageId};
use uuid::Uuid;

use crate::app::App;
use crate::error::AppResult;

/// How many ids of a thread are followed, nearest first: a long `References` header costs no
/// more than this many lookups.
const MAX_THREAD_IDS: usize = 20;

/// Where a threaded mail goes: the conversation's inbox and contact (the contact's latest
/// conversation on that inbox takes it, by the usual rules, C3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Threaded {
    /// The inbox of the conversation it joins.
    pub inbox: Inbox,
    /// The conversation's contact: the message is theirs.
    pub contact: ContactId,
}

/// The message id inside one of our `Message-ID`s (`<{uuid}@{domain}>`), if it is one.
#[must_use]
pub(crate) fn our_message_id(thread_id: &str) -> Option<MessageId> {
    let id = thread_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let (local, domain) = id.split_once('@')?;
    if domain.is_empty() {
        return None;
    }
    Uuid::parse_str(local).ok().map(MessageId::from_uuid)
}

impl App {
    /// The conversation an inbound mail's thread names, if any may take it.
    pub(crate) async fn threaded(
        &self,
        inbox: &Inbox,
        thread: &[String],
    ) -> AppResult<Option<Threaded>> {
        let account = inbox.account;
        for id in thread.iter().take(MAX_THREAD_IDS) {
            let bare = id.trim().trim_start_matches('<').trim_end_matches('>');
            if bare.is_empty() {
                continue;
            }
            let mut found = self
                .store
                .message_by_external_id(account, inbox.id, bare)
                .await?
                .map(|message| message.conversation);
            if found.is_none() {
                if let Some(ours) = our_message_id(bare) {
                    found = self
                        .store
                        .message(account, ours)
                        .await?
                        .map(|message| message.conversation);
                }
            }
            let Some(conversation) = found else {
                continue;
            };
            if let Some(threaded) = self.may_join(inbox, conversation).await? {
                return Ok(Some(threaded));
            }
        }
        Ok(None)
    }

    /// Whether a mail received on `inbox` may join `conversation` (its own, or a web chat's
    /// whose continuity goes through `inbox`).
    async fn may_join(
        &self,
        inbox: &Inbox,
        conversation: ConversationId,
    ) -> AppResult<Option<Threaded>> {
        let account = inbox.account;
        let Some(stored) = self.store.conversation(account, conversation).await? else {
            return Ok(None);
        };
        let contact = stored.value.contact;
        if stored.value.inbox == inbox.id {
            return Ok(Some(Threaded {
                inbox: inbox.clone(),
                contact,
            }));
        }
        let Some(home) = self.store.inbox(account, stored.value.inbox).await? else {
            return Ok(None);
        };
        let continues_here = home.channel == ChannelKind::WebChat
            && home
                .settings
                .widget
                .email_continuity
                .is_some_and(|continuity| continuity.inbox == inbox.id);
        Ok(continues_here.then_some(Threaded {
            inbox: home,
            contact,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::our_message_id;

    #[test]
    fn w7_our_message_ids_are_read_back_and_others_are_not() {
        let id = "0192f1e2-7c4a-7b1d-9e2f-0123456789ab";
        assert_eq!(
            our_message_id(&format!("<{id}@shop.example>")).map(|m| m.as_uuid().to_string()),
            Some(id.to_owned())
        );
        assert_eq!(
            our_message_id(&format!("{id}@shop.example")).map(|m| m.as_uuid().to_string()),
            Some(id.to_owned())
        );
        assert_eq!(our_message_id("CAF1x2y3z4@mail.example.org"), None);
        assert_eq!(our_message_id(id), None);
        assert_eq!(our_message_id(&format!("{id}@")), None);
    }
}
