//! N3's decisions: who could answer a conversation of an inbox and who is told, and the two
//! timers that write an email notification (offline message, missed conversation) in their
//! own commit. The rules, as built (`docs/routing.md`, "Notifications"):
//! - **offline message**: a contact's message that starts an awaiting reply (the first one
//!   after the last agent reply) schedules an `offline_check` timer due at once; when it fires
//!   (within the worker's interval) and no agent who could answer is online (not `offline`):
//!   the members of the inbox's queue, or every agent of the account when the inbox has no
//!   queue, one email goes to the recipients. Further messages of the same unanswered run add
//!   none.
//! - **missed conversation**: the awaiting reply is still unanswered [`MISSED_AFTER_SECS`]
//!   after it began, or the conversation is closed (resolved, dropped) before that with it
//!   unanswered: one email per unanswered run.
//!
//! Recipients: the emails of the queue's members, or of the account's owners and admins when
//! the inbox has no queue or the queue has no member.

use conversation_core::entities::{Availability, Inbox};
use conversation_core::ids::AccountId;
use conversation_core::ports::{Commit, Timer};

use super::Notification;
use crate::app::App;
use crate::error::AppResult;
use crate::timers::{MISSED_AFTER_SECS, MissedCheck, OfflineCheck, payload};

impl App {
    /// N3: the agents who could answer a conversation of the inbox (its queue's members, or
    /// every agent of the account) and the emails notifications go to.
    async fn n3_audience(
        &self,
        account: AccountId,
        inbox: &Inbox,
    ) -> AppResult<(Vec<Availability>, Vec<String>)> {
        let agents = self.store.agents(account).await?;
        let members = match inbox.queue {
            Some(queue) => self
                .store
                .queue(account, queue)
                .await?
                .map(|queue| queue.members)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let answering: Vec<_> = if members.is_empty() {
            agents.iter().collect()
        } else {
            agents.iter().filter(|a| members.contains(&a.id)).collect()
        };
        let mut recipients: Vec<String> = if members.is_empty() {
            agents
                .iter()
                .filter(|a| a.role.is_administrator())
                .map(|a| a.email.clone())
                .collect()
        } else {
            answering.iter().map(|a| a.email.clone()).collect()
        };
        recipients.sort();
        recipients.dedup();
        Ok((
            answering.iter().map(|a| a.availability).collect(),
            recipients,
        ))
    }

    /// N3: the `offline_check` timer: an offline-message email when nobody who could answer
    /// is online, written with the conversation's version (a stale check writes nothing).
    pub(crate) async fn offline_check(&self, timer: &Timer) -> AppResult<()> {
        let check: OfflineCheck = payload(timer)?;
        let account = timer.account;
        let Some(conversation) = self.store.conversation(account, check.conversation).await? else {
            return Ok(());
        };
        let Some(inbox) = self
            .store
            .inbox_with_deleted(account, conversation.value.inbox)
            .await?
        else {
            return Ok(());
        };
        let (availability, recipients) = self.n3_audience(account, &inbox).await?;
        if availability.iter().any(|a| *a != Availability::Offline) || recipients.is_empty() {
            return Ok(());
        }
        let text = format!(
            "A message arrived on {} while no agent was online. Conversation {}.",
            inbox.name, check.conversation
        );
        let mut commit = Commit::new(account);
        commit.outbox.push(self.notification(
            account,
            &Notification::OfflineMessage {
                conversation: check.conversation,
                message: check.message,
                recipients,
                text,
            },
        )?);
        self.store.commit(commit).await?;
        Ok(())
    }

    /// N3: the `missed_check` timer: a missed-conversation email when the awaiting reply it
    /// was set for ended unanswered (closed) or is still unanswered.
    pub(crate) async fn missed_check(&self, timer: &Timer) -> AppResult<()> {
        let check: MissedCheck = payload(timer)?;
        let account = timer.account;
        let Some(stored) = self.store.conversation(account, check.conversation).await? else {
            return Ok(());
        };
        let conversation = stored.value;
        let unanswered = check.closed
            || (conversation.waiting_since == Some(check.waiting_since)
                && self.now()
                    >= check.waiting_since + chrono::Duration::seconds(MISSED_AFTER_SECS));
        if !unanswered {
            return Ok(());
        }
        let Some(inbox) = self
            .store
            .inbox_with_deleted(account, conversation.inbox)
            .await?
        else {
            return Ok(());
        };
        let (_, recipients) = self.n3_audience(account, &inbox).await?;
        if recipients.is_empty() {
            return Ok(());
        }
        let text = format!(
            "A visitor on {} left before anyone answered. Conversation {}.",
            inbox.name, check.conversation
        );
        let mut commit = Commit::new(account);
        commit.outbox.push(self.notification(
            account,
            &Notification::MissedConversation {
                conversation: check.conversation,
                recipients,
                text,
            },
        )?);
        self.store.commit(commit).await?;
        Ok(())
    }
}
