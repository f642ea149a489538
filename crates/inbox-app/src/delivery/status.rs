//! M6: moving an outbound message's delivery status, from the dispatcher (`sent`, `failed`) and
//! from the providers' reports (`delivered`, `read`, `failed`). The core's
//! `Delivery::record` decides (stale, repeated and backward reports change nothing); the change
//! is written with a `MessageDeliveryUpdated` event through the conversation's pipeline, so two
//! reports racing on one message are serialized by the conversation's version: the loser reads
//! the message again and decides again, and no report is lost.

use conversation_core::DomainEvent;
use conversation_core::Timestamp;
use conversation_core::events::MessageDeliveryUpdated;
use conversation_core::ids::{AccountId, MessageId};
use conversation_core::message::{DeliveryChange, DeliveryReport};
use conversation_core::ports::MessageUpdate;

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::pipeline::Plan;

/// How many times a lost race is decided again on a fresh read of the message.
const RACES: u32 = 16;

impl App {
    /// M6: records a delivery report on an outbound message, with the provider's id of it once
    /// known; answers whether the status moved (`false` for a stale or repeated report, or a
    /// message that is not outbound).
    ///
    /// # Errors
    /// `not_found` for an unknown message; storage failures.
    pub(crate) async fn record_delivery(
        &self,
        account: AccountId,
        message: MessageId,
        report: DeliveryReport,
        at: Timestamp,
        external_id: Option<String>,
    ) -> AppResult<bool> {
        for _ in 0..RACES {
            let stored = self
                .store
                .message(account, message)
                .await?
                .ok_or(conversation_core::DomainError::NotFound)?;
            let mut after = stored.clone();
            let status = report.status();
            if after.record_delivery(report.clone(), at) == DeliveryChange::Unchanged {
                return Ok(false);
            }
            let Some(delivery) = after.delivery.clone() else {
                return Ok(false);
            };
            let reason = match &report {
                DeliveryReport::Failed { reason } => Some(reason.clone()),
                _ => None,
            };
            let mut calls = 0;
            let result = self
                .change_conversation(account, stored.conversation, |_| {
                    calls += 1;
                    if calls > 1 {
                        // Another change won the race: read the message again.
                        return Err(AppError::Domain(conversation_core::DomainError::Conflict {
                            what: "the message's delivery",
                        }));
                    }
                    Ok(Plan {
                        extra_events: vec![DomainEvent::MessageDelivery(MessageDeliveryUpdated {
                            conversation: stored.conversation,
                            message,
                            status,
                            reason: reason.clone(),
                            at,
                        })],
                        message_updates: vec![MessageUpdate::Delivery {
                            message,
                            delivery: delivery.clone(),
                            external_id: external_id.clone(),
                        }],
                        ..Plan::default()
                    })
                })
                .await;
            match result {
                Ok(_) => return Ok(true),
                Err(AppError::Domain(conversation_core::DomainError::Conflict { .. })) => {}
                Err(error) => return Err(error),
            }
        }
        Err(conversation_core::DomainError::Conflict {
            what: "the message's delivery",
        }
        .into())
    }
}
