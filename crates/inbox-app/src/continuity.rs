//! W7, email continuity for web chat: when a visitor who gave an email has left, the agent
//! replies they have not seen go to them as one email, and their email answer comes back into
//! the same web chat conversation (`channels::thread`).
//!
//! Turned on per web chat inbox with `settings.widget.email_continuity`
//! ([`EmailContinuity`]): an email inbox of the same account (its SMTP connection sends, its
//! inbound address receives) and a delay (`after_secs`, default 120).
//!
//! 1. Every public agent reply (never a note, M10) on such a conversation schedules the
//!    durable `continuity_check` timer in the reply's commit ([`continuity_timers`]), key
//!    `continuity:<conversation>`, due `after_secs` after the reply; a later reply moves it.
//! 2. When it fires ([`App::continuity_check`]): if the contact has an email and was not seen
//!    since (M6: their last-seen time is before the reply, or unknown), the run of public
//!    replies they have not seen (still `pending`, not deleted, written after they were last
//!    seen) is queued as ONE `continuity_email` outbox row. The row's id is the run's last
//!    reply's id: a second firing for the same run inserts the same id and is refused (the
//!    row exists) or finds the replies already `sent`; nothing is mailed twice.
//! 3. The delivery worker sends it (`delivery::continuity`, H3: retried with backoff); its
//!    `Message-ID` is `<{last reply's id}@{domain of the email inbox}>`, so the answer's
//!    `In-Reply-To` names one of our messages. Once the server accepted it, each reply becomes
//!    `sent` with its own `{id}@{domain}` as external id.

use chrono::Duration;
use conversation_core::channel::ChannelKind;
use conversation_core::conversation::{
    Conversation, ConversationEvent, ConversationEventKind, ReplyKind,
};
use conversation_core::entities::{EmailContinuity, Inbox};
use conversation_core::ids::{AccountId, ConversationId, InboxId, MessageId};
use conversation_core::message::{DeliveryStatus, Direction, Message};
use conversation_core::ports::{
    Commit, OutboxItem, OutboxKind, StoreError, Timer, TimerChange, TimerKind,
};
use conversation_core::{DomainError, Timestamp};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::timers::{payload, schedule};

/// The payload of a `continuity_check` timer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContinuityCheck {
    /// The web chat conversation.
    pub conversation: ConversationId,
    /// The agent's reply the timer was set for (the latest).
    pub reply: MessageId,
}

/// The payload of a `continuity_email` outbox row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContinuityOrder {
    /// The web chat conversation.
    pub conversation: ConversationId,
    /// The email inbox that sends.
    pub inbox: InboxId,
    /// The visitor's address.
    pub to: String,
    /// The replies to mail, in order; the last one names the mail.
    pub messages: Vec<MessageId>,
}

/// The key of a conversation's continuity check.
#[must_use]
pub fn continuity_key(conversation: ConversationId) -> String {
    format!("continuity:{conversation}")
}

/// How many messages before the timer's reply are searched for earlier unseen replies.
const LOOK_BACK: u64 = 200;

/// One page of the search.
const PAGE: u32 = 200;

/// W7: the continuity check of a public agent reply on a web chat inbox with email
/// continuity, due `after_secs` after it (moved by every later reply).
///
/// # Errors
/// Only if a payload cannot be serialized.
pub(crate) fn continuity_timers(
    after: &Conversation,
    events: &[ConversationEvent],
    inbox: &Inbox,
) -> AppResult<Vec<TimerChange>> {
    let Some(continuity) = continuity_of(inbox) else {
        return Ok(Vec::new());
    };
    let reply = events.iter().rev().find_map(|event| match &event.kind {
        ConversationEventKind::ReplySent { message, kind, .. } if *kind != ReplyKind::Note => {
            Some((*message, event.at))
        }
        _ => None,
    });
    let Some((reply, at)) = reply else {
        return Ok(Vec::new());
    };
    Ok(vec![schedule(
        after.account,
        continuity_key(after.id),
        TimerKind::ContinuityCheck,
        &ContinuityCheck {
            conversation: after.id,
            reply,
        },
        at + Duration::seconds(i64::from(continuity.after_secs)),
    )?])
}

/// The continuity setting of a web chat inbox, if it has one.
fn continuity_of(inbox: &Inbox) -> Option<EmailContinuity> {
    (inbox.channel == ChannelKind::WebChat)
        .then_some(inbox.settings.widget.email_continuity)
        .flatten()
}

/// Whether a message is a public reply the visitor has not seen and was not mailed: outbound
/// (notes are internal, M10), still `pending`, not deleted, written after they were last seen.
fn unseen(message: &Message, seen: Option<Timestamp>) -> bool {
    message.direction == Direction::Outbound
        && message.delivery_status() == Some(DeliveryStatus::Pending)
        && !message.is_deleted()
        && seen.is_none_or(|seen| message.created_at > seen)
}

impl App {
    /// W7: checks a continuity setting before it is saved on `channel`'s inbox: only a web
    /// chat inbox continues by email, through an email inbox of the same account.
    ///
    /// # Errors
    /// `invalid_value` (field `email_continuity`) on an inbox that is not web chat;
    /// `invalid_value` (field `email_continuity.inbox`) for an inbox that is not an email inbox
    /// of this account (another account's reads as absent, A1).
    pub(crate) async fn check_continuity(
        &self,
        account: AccountId,
        channel: ChannelKind,
        continuity: &EmailContinuity,
    ) -> AppResult<()> {
        if channel != ChannelKind::WebChat {
            return Err(DomainError::InvalidValue {
                field: "email_continuity",
                reason: "only a web_chat inbox continues by email: set it on the web chat inbox, or send null",
            }
            .into());
        }
        let target = self.store.inbox(account, continuity.inbox).await?;
        if target.is_none_or(|target| target.channel != ChannelKind::Email) {
            return Err(DomainError::InvalidValue {
                field: "email_continuity.inbox",
                reason: "must name an email inbox of this account: create one (channel email) or pick one from GET /api/v1/inboxes",
            }
            .into());
        }
        Ok(())
    }

    /// W7: the continuity check fires (see the module doc).
    ///
    /// # Errors
    /// Storage failures; the timer is then retried.
    pub(crate) async fn continuity_check(&self, timer: &Timer) -> AppResult<()> {
        let check: ContinuityCheck = payload(timer)?;
        let account = timer.account;
        let Some(conversation) = self.store.conversation(account, check.conversation).await? else {
            return Ok(());
        };
        let conversation = conversation.value;
        let Some(inbox) = self.store.inbox(account, conversation.inbox).await? else {
            return Ok(());
        };
        let Some(continuity) = continuity_of(&inbox) else {
            return Ok(());
        };
        let Some(contact) = self.store.contact(account, conversation.contact).await? else {
            return Ok(());
        };
        let Some(to) = contact
            .email
            .as_deref()
            .map(str::trim)
            .filter(|email| !email.is_empty())
            .map(str::to_owned)
        else {
            return Ok(());
        };
        let seen = self.store.contact_last_seen(account, contact.id).await?;
        let run = self
            .unseen_replies(account, conversation.id, check.reply, seen)
            .await?;
        let Some(last) = run.last() else {
            return Ok(());
        };
        let order = ContinuityOrder {
            conversation: conversation.id,
            inbox: continuity.inbox,
            to,
            messages: run.iter().map(|message| message.id).collect(),
        };
        let mut commit = Commit::new(account);
        commit.outbox.push(OutboxItem {
            // The idempotency key of the run: its last reply's id.
            id: last.id.as_uuid(),
            account,
            kind: OutboxKind::ContinuityEmail,
            payload: serde_json::to_string(&order).map_err(AppError::internal)?,
            due_at: self.now(),
        });
        match self.store.commit(commit).await {
            // The same run is queued already: nothing twice.
            Ok(_) | Err(StoreError::Domain(DomainError::Conflict { .. })) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// The public replies of the conversation the visitor has not seen and was not mailed, in
    /// order, searched from a little before `reply` on.
    async fn unseen_replies(
        &self,
        account: AccountId,
        conversation: ConversationId,
        reply: MessageId,
        seen: Option<Timestamp>,
    ) -> AppResult<Vec<Message>> {
        let mut after = self
            .store
            .message(account, reply)
            .await?
            .filter(|message| message.conversation == conversation)
            .map_or(0, |message| message.sequence.saturating_sub(LOOK_BACK + 1));
        let mut run = Vec::new();
        loop {
            let page = self
                .store
                .messages_after(account, conversation, after, PAGE)
                .await?;
            let Some(last) = page.last() else {
                return Ok(run);
            };
            after = last.sequence;
            let full = u32::try_from(page.len()).is_ok_and(|len| len >= PAGE);
            run.extend(page.into_iter().filter(|message| unseen(message, seen)));
            if !full {
                return Ok(run);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use conversation_core::actor::Actor;
    use conversation_core::conversation::StartConversation;
    use conversation_core::entities::InboxSettings;
    use conversation_core::ids::{AgentId, ContactId};

    use super::*;

    fn inbox(channel: ChannelKind, continuity: bool) -> Inbox {
        let mut settings = InboxSettings::default();
        settings.widget.email_continuity = continuity.then_some(EmailContinuity {
            inbox: InboxId::from_u128(9),
            after_secs: 300,
        });
        Inbox {
            id: InboxId::from_u128(1),
            account: AccountId::from_u128(1),
            name: "chat".into(),
            channel,
            queue: None,
            settings,
        }
    }

    fn reply(kind: ReplyKind, at: Timestamp) -> ConversationEvent {
        ConversationEvent {
            conversation: ConversationId::from_u128(2),
            at,
            actor: Actor::Agent(AgentId::from_u128(3)),
            kind: ConversationEventKind::ReplySent {
                message: MessageId::from_u128(4),
                kind,
                dialog: None,
            },
        }
    }

    #[test]
    fn w7_m10_a_public_reply_schedules_the_check_and_a_note_never_does() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let start = StartConversation {
            id: ConversationId::from_u128(2),
            account: AccountId::from_u128(1),
            inbox: InboxId::from_u128(1),
            channel: ChannelKind::WebChat,
            contact: ContactId::from_u128(5),
            message: MessageId::from_u128(6),
            queue: None,
            bot_flow: None,
        };
        let conversation = Conversation::replay(&Conversation::decide_start(&start, at)).unwrap();
        let chat = inbox(ChannelKind::WebChat, true);

        let scheduled =
            continuity_timers(&conversation, &[reply(ReplyKind::FreeForm, at)], &chat).unwrap();
        let [TimerChange::Schedule(timer)] = scheduled.as_slice() else {
            panic!("{scheduled:?}");
        };
        assert_eq!(timer.key, continuity_key(conversation.id));
        assert_eq!(timer.kind, TimerKind::ContinuityCheck);
        assert_eq!(timer.due_at, at + Duration::seconds(300));

        let note = [reply(ReplyKind::Note, at)];
        assert!(
            continuity_timers(&conversation, &note, &chat)
                .unwrap()
                .is_empty()
        );
        let off = inbox(ChannelKind::WebChat, false);
        let public = [reply(ReplyKind::FreeForm, at)];
        assert!(
            continuity_timers(&conversation, &public, &off)
                .unwrap()
                .is_empty()
        );
        let email = inbox(ChannelKind::Email, true);
        assert!(
            continuity_timers(&conversation, &public, &email)
                .unwrap()
                .is_empty()
        );
    }
}
