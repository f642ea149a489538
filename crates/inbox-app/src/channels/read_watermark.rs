//! M6: a read watermark ("the contact has read everything we sent up to this time", which is
//! what Messenger's `read` event says, naming no message) moves to `read` every message we
//! sent the contact in their latest conversation on the inbox that went out at or before the
//! watermark and is `sent` or `delivered`. Each move is the same recorded delivery report as a
//! status naming the message, so repeats and stale watermarks change nothing.

use conversation_core::entities::Inbox;
use conversation_core::message::{DeliveryReport, DeliveryStatus, Message};
use conversation_core::ports::ReadWatermark;

use crate::app::App;
use crate::error::AppResult;

/// How many messages one read of the conversation takes.
const PAGE: u32 = 500;

/// Whether the watermark reads this message: one of ours, not deleted, out to the contact
/// (`sent` or `delivered`) at or before the watermark.
fn read_by(message: &Message, watermark: &ReadWatermark) -> bool {
    let Some(delivery) = &message.delivery else {
        return false;
    };
    message.deleted.is_none()
        && matches!(
            delivery.status(),
            DeliveryStatus::Sent | DeliveryStatus::Delivered
        )
        && delivery
            .at(DeliveryStatus::Sent)
            .is_some_and(|sent| sent <= watermark.up_to)
}

impl App {
    /// M6: applies a read watermark; answers how many messages it moved to `read`.
    pub(super) async fn channel_read_up_to(
        &self,
        inbox: &Inbox,
        watermark: &ReadWatermark,
    ) -> AppResult<usize> {
        let account = inbox.account;
        let Some(contact) = self
            .store
            .contact_by_identity(account, inbox.id, &watermark.contact_external_id)
            .await?
        else {
            return Ok(0);
        };
        let Some(conversation) = self
            .store
            .latest_conversation(account, inbox.id, contact.id)
            .await?
        else {
            return Ok(0);
        };
        let conversation = conversation.value.id;
        let (mut after, mut moved) = (0, 0);
        loop {
            let page = self
                .store
                .messages_after(account, conversation, after, PAGE)
                .await?;
            for message in page.iter().filter(|m| read_by(m, watermark)) {
                if self
                    .record_delivery(
                        account,
                        message.id,
                        DeliveryReport::Read,
                        watermark.up_to,
                        None,
                    )
                    .await?
                {
                    moved += 1;
                }
            }
            match page.last() {
                Some(last) if page.len() == PAGE as usize => after = last.sequence,
                _ => return Ok(moved),
            }
        }
    }
}
