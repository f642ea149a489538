//! One delivery or unsend: everything the adapter needs is read fresh from the store (the
//! message, its conversation, the inbox's connection, the contact's address on the inbox, the
//! file's bytes, the contact's latest message to reply to, the subject of the thread: the
//! contact's first mail's), the adapter is called, and its answer
//! becomes the message's status (M6) and the row's fate (finish or retry, H3).

use chrono::Duration;
use conversation_core::ids::AccountId;
use conversation_core::message::{DeliveryReport, DeliveryStatus, Direction, Message};
use conversation_core::ports::{
    ChannelConnection, DeliveryError, OutboundContent, OutboundDelivery, OutboxItem,
};

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::messages::DeliveryOrder;

/// What becomes of a claimed row.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Done (sent, failed for good, or nothing left to do): the row is removed.
    Done,
    /// Tried again later.
    Retry {
        /// In how long.
        after: Duration,
        /// The last error, kept on the row.
        reason: String,
    },
}

/// How many earlier messages are searched for the contact's latest one to reply to.
const REPLY_SEARCH: u64 = 200;

/// How many of a conversation's first messages are searched for its subject.
const SUBJECT_SEARCH: u32 = 50;

/// What a row refers to, read fresh.
struct Target {
    message: Message,
    inbox: conversation_core::entities::Inbox,
    contact: conversation_core::ids::ContactId,
}

impl App {
    /// H3: sends one outbound message.
    pub(super) async fn deliver(&self, item: &OutboxItem, attempts: u32) -> AppResult<Outcome> {
        let account = item.account;
        let order: DeliveryOrder = serde_json::from_str(&item.payload)
            .map_err(|e| AppError::Internal(format!("a delivery row: {e}").into()))?;
        let Some(target) = self.target(account, &order).await? else {
            return Ok(Outcome::Done);
        };
        // Sent already (a row claimed again after a crash that followed the commit of `sent`),
        // failed, or deleted before it went out: nothing to send.
        if target.message.delivery_status() != Some(DeliveryStatus::Pending)
            || target.message.is_deleted()
        {
            return Ok(Outcome::Done);
        }
        let prepared = match self.prepare(account, &target).await? {
            Ok(prepared) => prepared,
            Err(reason) => return self.failed(account, &target.message, reason).await,
        };
        let (adapter, connection, delivery) = prepared;
        match adapter.send(&connection, &delivery).await {
            Ok(receipt) => {
                self.record_delivery(
                    account,
                    target.message.id,
                    DeliveryReport::Sent,
                    self.now(),
                    Some(receipt.external_id),
                )
                .await?;
                Ok(Outcome::Done)
            }
            Err(DeliveryError::Permanent { reason }) => {
                self.failed(account, &target.message, reason).await
            }
            Err(DeliveryError::Transient {
                reason,
                retry_after,
            }) => {
                if attempts + 1 >= self.config.delivery.max_attempts {
                    let reason = format!("gave up after {} attempts: {reason}", attempts + 1);
                    return self.failed(account, &target.message, reason).await;
                }
                Ok(Outcome::Retry {
                    after: self.retry_delay(attempts, retry_after),
                    reason,
                })
            }
        }
    }

    /// M5: removes a deleted message on the contact's side, where the channel can.
    pub(super) async fn unsend(&self, item: &OutboxItem, attempts: u32) -> AppResult<Outcome> {
        let account = item.account;
        let order: DeliveryOrder = serde_json::from_str(&item.payload)
            .map_err(|e| AppError::Internal(format!("an unsend row: {e}").into()))?;
        let Some(target) = self.target(account, &order).await? else {
            return Ok(Outcome::Done);
        };
        // Never sent (deleted while pending): the delivery row skips it; nothing to remove.
        let Some(external_id) = target.message.external_id.clone() else {
            return Ok(Outcome::Done);
        };
        let Some((adapter, connection)) = self.adapter_of(account, &target.inbox).await? else {
            return Ok(Outcome::Done);
        };
        if !adapter.capabilities().unsend {
            return Ok(Outcome::Done);
        }
        match adapter.unsend(&connection, &external_id).await {
            Ok(()) => Ok(Outcome::Done),
            Err(DeliveryError::Permanent { reason }) => {
                tracing::warn!(message = %target.message.id, %reason, "the channel refused to unsend");
                Ok(Outcome::Done)
            }
            Err(DeliveryError::Transient {
                reason,
                retry_after,
            }) => {
                if attempts + 1 >= self.config.delivery.max_attempts {
                    tracing::warn!(message = %target.message.id, %reason, "gave up unsending");
                    return Ok(Outcome::Done);
                }
                Ok(Outcome::Retry {
                    after: self.retry_delay(attempts, retry_after),
                    reason,
                })
            }
        }
    }

    pub(super) fn retry_delay(
        &self,
        attempts: u32,
        retry_after: Option<chrono::Duration>,
    ) -> Duration {
        let mut bytes = [0_u8; 8];
        // Without randomness the delay is the window's fixed half: still correct, less spread.
        let _ = getrandom::fill(&mut bytes);
        self.config
            .delivery
            .backoff(attempts, u64::from_le_bytes(bytes), retry_after)
    }

    /// H3, M6: the message becomes `failed` with the reason.
    async fn failed(
        &self,
        account: AccountId,
        message: &Message,
        reason: String,
    ) -> AppResult<Outcome> {
        self.record_delivery(
            account,
            message.id,
            DeliveryReport::Failed { reason },
            self.now(),
            None,
        )
        .await?;
        Ok(Outcome::Done)
    }

    async fn target(&self, account: AccountId, order: &DeliveryOrder) -> AppResult<Option<Target>> {
        let Some(message) = self.store.message(account, order.message).await? else {
            return Ok(None);
        };
        let Some(conversation) = self.store.conversation(account, order.conversation).await? else {
            return Ok(None);
        };
        let Some(inbox) = self
            .store
            .inbox_with_deleted(account, conversation.value.inbox)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Target {
            message,
            inbox,
            contact: conversation.value.contact,
        }))
    }

    pub(super) async fn adapter_of(
        &self,
        account: AccountId,
        inbox: &conversation_core::entities::Inbox,
    ) -> AppResult<
        Option<(
            std::sync::Arc<dyn conversation_core::ports::ChannelAdapter>,
            ChannelConnection,
        )>,
    > {
        let Some(adapter) = self.adapters.get(inbox.channel) else {
            return Ok(None);
        };
        let Some(stored) = self.store.connection(account, inbox.id).await? else {
            return Ok(None);
        };
        Ok(Some((std::sync::Arc::clone(adapter), stored.connection)))
    }

    /// The subject of a conversation's thread (email): the first inbound mail's, else the
    /// latest one's among `recent` messages; `None` when no mail of the contact had one.
    pub(crate) async fn thread_subject(
        &self,
        account: AccountId,
        conversation: conversation_core::ids::ConversationId,
        recent: &[Message],
    ) -> AppResult<Option<String>> {
        let with_subject = |m: &&Message| m.direction == Direction::Inbound && m.subject.is_some();
        let first = self
            .store
            .messages_after(account, conversation, 0, SUBJECT_SEARCH)
            .await?;
        Ok(first
            .iter()
            .find(with_subject)
            .or_else(|| recent.iter().rev().find(with_subject))
            .and_then(|m| m.subject.clone()))
    }

    /// Everything the adapter needs, or why the message can never be sent.
    #[allow(clippy::type_complexity, reason = "a private triple, named by its use")]
    async fn prepare(
        &self,
        account: AccountId,
        target: &Target,
    ) -> AppResult<
        Result<
            (
                std::sync::Arc<dyn conversation_core::ports::ChannelAdapter>,
                ChannelConnection,
                OutboundDelivery,
            ),
            String,
        >,
    > {
        let Some((adapter, connection)) = self.adapter_of(account, &target.inbox).await? else {
            return Ok(Err("the inbox is not connected to its channel".into()));
        };
        let Some(contact) = self.store.contact(account, target.contact).await? else {
            return Ok(Err("the contact no longer exists".into()));
        };
        let Some(to) = contact
            .identities
            .iter()
            .find(|identity| identity.inbox == target.inbox.id)
            .cloned()
        else {
            return Ok(Err("the contact has no address on this inbox".into()));
        };
        let message = &target.message;
        let content = match &message.attachment {
            Some(attachment) => {
                let Some(file) = self.store.file(account, &attachment.storage_key).await? else {
                    return Ok(Err("the message's file is gone".into()));
                };
                OutboundContent::Media {
                    attachment: attachment.storage_key.clone(),
                    content_type: attachment.content_type.clone(),
                    file_name: attachment.file_name.clone(),
                    caption: Some(message.body.clone()).filter(|body| !body.is_empty()),
                    bytes: file.bytes.to_vec(),
                }
            }
            None => OutboundContent::Text {
                body: message.body.clone(),
            },
        };
        let earlier = self
            .store
            .messages_after(
                account,
                message.conversation,
                message.sequence.saturating_sub(REPLY_SEARCH + 1),
                u32::try_from(REPLY_SEARCH).unwrap_or(u32::MAX),
            )
            .await?;
        let in_reply_to = earlier
            .iter()
            .filter(|m| m.sequence < message.sequence && m.direction == Direction::Inbound)
            .filter_map(|m| m.external_id.clone())
            .next_back();
        // Only email threads have subjects: no other channel pays for the search.
        let subject = match target.inbox.channel {
            conversation_core::channel::ChannelKind::Email => {
                self.thread_subject(account, message.conversation, &earlier)
                    .await?
            }
            _ => None,
        };
        Ok(Ok((
            adapter,
            connection,
            OutboundDelivery {
                message: message.id,
                conversation: message.conversation,
                inbox: target.inbox.id,
                to,
                content,
                in_reply_to,
                subject,
            },
        )))
    }
}
