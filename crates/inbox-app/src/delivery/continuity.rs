//! W7: one `continuity_email` row (queued by `crate::continuity`): the web chat replies the
//! visitor has not seen, as one email through the continuity inbox's SMTP connection (the
//! email adapter's `send`). Replies deleted or mailed since the row was queued are left out;
//! none left, nothing is sent. The mail's `Message-ID` is `<{last reply's id}@{domain}>`, the
//! row's id, so a retry carries the same one (H3); once accepted, every reply in it becomes
//! `sent` with its own `{id}@{domain}` in one commit, and a later check leaves them out.
//! A transient failure is retried with backoff; a permanent one (or giving up) leaves the
//! replies `pending` with a warning: a later reply's check mails them again.

use conversation_core::DomainEvent;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::ChannelIdentity;
use conversation_core::events::MessageDeliveryUpdated;
use conversation_core::ids::{AccountId, ConversationId};
use conversation_core::message::{
    DeliveryChange, DeliveryReport, DeliveryStatus, Direction, Message,
};
use conversation_core::ports::{
    DeliveryError, MessageUpdate, OutboundContent, OutboundDelivery, OutboxItem,
};

use super::send::Outcome;
use crate::app::App;
use crate::continuity::ContinuityOrder;
use crate::error::{AppError, AppResult};
use crate::pipeline::Plan;

/// How many messages before the last reply are searched for the visitor's latest mail.
const REPLY_SEARCH: u64 = 200;

impl App {
    /// W7: sends one continuity email (see the module doc).
    pub(super) async fn continuity_email(
        &self,
        item: &OutboxItem,
        attempts: u32,
    ) -> AppResult<Outcome> {
        let account = item.account;
        let order: ContinuityOrder = serde_json::from_str(&item.payload)
            .map_err(|e| AppError::Internal(format!("a continuity row: {e}").into()))?;
        let mut replies = Vec::new();
        for id in &order.messages {
            if let Some(message) = self.store.message(account, *id).await? {
                let pending = message.delivery_status() == Some(DeliveryStatus::Pending);
                if pending && !message.is_deleted() && message.conversation == order.conversation {
                    replies.push(message);
                }
            }
        }
        let Some(last) = replies.last() else {
            return Ok(Outcome::Done);
        };
        let Some(inbox) = self
            .store
            .inbox(account, order.inbox)
            .await?
            .filter(|inbox| inbox.channel == ChannelKind::Email)
        else {
            tracing::warn!(conversation = %order.conversation, "W7: the continuity inbox is gone or not an email inbox; nothing mailed");
            return Ok(Outcome::Done);
        };
        let Some((adapter, connection)) = self.adapter_of(account, &inbox).await? else {
            tracing::warn!(inbox = %inbox.id, "W7: the continuity inbox is not connected; nothing mailed");
            return Ok(Outcome::Done);
        };
        let recent = self
            .store
            .messages_after(
                account,
                order.conversation,
                last.sequence.saturating_sub(REPLY_SEARCH + 1),
                u32::try_from(REPLY_SEARCH).unwrap_or(u32::MAX),
            )
            .await?;
        // The visitor's latest mail (an earlier email answer), to thread under it.
        let in_reply_to = recent
            .iter()
            .filter(|m| m.direction == Direction::Inbound)
            .filter_map(|m| m.external_id.clone())
            .next_back();
        let subject = match self
            .thread_subject(account, order.conversation, &recent)
            .await?
        {
            Some(subject) => subject,
            None => self.chat_subject(account, order.conversation).await?,
        };
        let delivery = OutboundDelivery {
            message: last.id,
            conversation: order.conversation,
            inbox: inbox.id,
            to: ChannelIdentity {
                inbox: inbox.id,
                external_id: order.to.clone(),
            },
            content: OutboundContent::Text {
                body: mail_text(&replies),
            },
            in_reply_to,
            subject: Some(subject),
        };
        match adapter.send(&connection, &delivery).await {
            Ok(receipt) => {
                let domain = receipt
                    .external_id
                    .split_once('@')
                    .map_or("localhost", |(_, domain)| domain)
                    .to_owned();
                self.record_mailed(account, order.conversation, &replies, &domain)
                    .await?;
                Ok(Outcome::Done)
            }
            Err(DeliveryError::Permanent { reason }) => {
                tracing::warn!(conversation = %order.conversation, %reason, "W7: the continuity email was refused");
                Ok(Outcome::Done)
            }
            Err(DeliveryError::Transient {
                reason,
                retry_after,
            }) => {
                if attempts + 1 >= self.config.delivery.max_attempts {
                    tracing::warn!(conversation = %order.conversation, %reason, "W7: gave up on the continuity email");
                    return Ok(Outcome::Done);
                }
                Ok(Outcome::Retry {
                    after: self.retry_delay(attempts, retry_after),
                    reason,
                })
            }
        }
    }

    /// The subject of a continuity email when the visitor never mailed: it continues the
    /// chat, so it reads as a reply to it.
    async fn chat_subject(
        &self,
        account: AccountId,
        conversation: ConversationId,
    ) -> AppResult<String> {
        let name = match self.store.conversation(account, conversation).await? {
            Some(stored) => self
                .store
                .inbox_with_deleted(account, stored.value.inbox)
                .await?
                .map(|inbox| inbox.name),
            None => None,
        };
        Ok(match name {
            Some(name) => format!("Re: Your chat with {name}"),
            None => "Re: Your chat with us".to_owned(),
        })
    }

    /// M6: the mailed replies become `sent`, each with its own `{id}@{domain}`, in one commit.
    async fn record_mailed(
        &self,
        account: AccountId,
        conversation: ConversationId,
        replies: &[Message],
        domain: &str,
    ) -> AppResult<()> {
        let at = self.now();
        let mut events = Vec::new();
        let mut updates = Vec::new();
        for reply in replies {
            let mut after = reply.clone();
            let moved = after.record_delivery(DeliveryReport::Sent, at);
            let Some(delivery) = after.delivery.clone() else {
                continue;
            };
            if moved == DeliveryChange::Unchanged {
                continue;
            }
            events.push(DomainEvent::MessageDelivery(MessageDeliveryUpdated {
                conversation,
                message: reply.id,
                status: DeliveryStatus::Sent,
                reason: None,
                at,
            }));
            updates.push(MessageUpdate::Delivery {
                message: reply.id,
                delivery,
                external_id: Some(format!("{}@{domain}", reply.id)),
            });
        }
        self.change_conversation(account, conversation, |_| {
            Ok(Plan {
                extra_events: events.clone(),
                message_updates: updates.clone(),
                ..Plan::default()
            })
        })
        .await?;
        Ok(())
    }
}

/// The text of the email: the replies in order, a file named by its name, and how to answer.
fn mail_text(replies: &[Message]) -> String {
    let mut parts: Vec<String> = replies
        .iter()
        .map(|reply| match &reply.attachment {
            Some(file) if reply.body.trim().is_empty() => {
                format!("[file: {}]", file.file_name)
            }
            Some(file) => format!("{}\n[file: {}]", reply.body, file.file_name),
            None => reply.body.clone(),
        })
        .collect();
    parts.push("You can answer this email: your answer reaches us in the same chat.".to_owned());
    parts.join("\n\n")
}
