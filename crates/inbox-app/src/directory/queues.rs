//! Queues (teams): routing strategy and delivery mode (R3), offer timeout (R6), members; and
//! their deletion, which interrupts the live conversations that went through them (C7).

use conversation_core::DomainError;
use conversation_core::conversation::InterruptCause;
use conversation_core::entities::{
    DEFAULT_OFFER_TIMEOUT_SECS, DeliveryMode, Queue, RoutingStrategy,
};
use conversation_core::ids::{AgentId, QueueId};
use conversation_core::ports::Dependency;

use super::{manager_of, required, within};
use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::AppResult;

/// The longest offer timeout, in seconds (R6).
const MAX_OFFER_TIMEOUT_SECS: u32 = 3600;

/// A new queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewQueue {
    /// Display name, shown on offers.
    pub name: String,
    /// R3: how an agent is chosen (default `least_loaded`).
    pub strategy: Option<RoutingStrategy>,
    /// R3: how the chosen agent gets it (default `direct`).
    pub delivery: Option<DeliveryMode>,
    /// R6: seconds an offer stays open (default 30).
    pub offer_timeout_secs: Option<u32>,
    /// The team's agents.
    pub members: Vec<AgentId>,
}

/// Changes to a queue; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueChanges {
    /// Display name.
    pub name: Option<String>,
    /// R3: strategy.
    pub strategy: Option<RoutingStrategy>,
    /// R3: delivery mode.
    pub delivery: Option<DeliveryMode>,
    /// R6: offer timeout.
    pub offer_timeout_secs: Option<u32>,
    /// The whole new list of members.
    pub members: Option<Vec<AgentId>>,
}

fn offer_timeout(secs: u32) -> AppResult<u32> {
    within(
        "offer_timeout_secs",
        secs,
        1,
        MAX_OFFER_TIMEOUT_SECS,
        "must be between 1 and 3600 seconds",
    )
}

impl App {
    /// The account's queues, by name.
    ///
    /// # Errors
    /// `forbidden` for callers that are not agents.
    pub async fn queues(&self, caller: &Caller) -> AppResult<Vec<Queue>> {
        let (account, _) = agent_of(caller)?;
        Ok(self.store.queues(account).await?)
    }

    /// One queue with its members.
    ///
    /// # Errors
    /// `not_found` (S1).
    pub async fn queue(&self, caller: &Caller, id: QueueId) -> AppResult<Queue> {
        let (account, _) = agent_of(caller)?;
        Ok(self
            .store
            .queue(account, id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// R3, R6: creates a queue (owners and admins).
    ///
    /// # Errors
    /// `forbidden`; `missing_field`, `invalid_value`; `not_found` when a member is not an agent
    /// of the account (S1).
    pub async fn create_queue(&self, caller: &Caller, new: NewQueue) -> AppResult<Queue> {
        let (account, _) = manager_of(caller, "create queues")?;
        let queue = Queue {
            id: QueueId::from_uuid(self.new_id()),
            account,
            name: required("name", &new.name)?,
            strategy: new.strategy.unwrap_or_default(),
            delivery: new.delivery.unwrap_or_default(),
            offer_timeout_secs: offer_timeout(
                new.offer_timeout_secs.unwrap_or(DEFAULT_OFFER_TIMEOUT_SECS),
            )?,
            members: new.members,
        };
        self.store.save_queue(&queue).await?;
        Ok(self
            .store
            .queue(account, queue.id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// R3, R6: changes a queue (owners and admins).
    ///
    /// # Errors
    /// As [`App::create_queue`]; `not_found` for a queue of another account.
    pub async fn update_queue(
        &self,
        caller: &Caller,
        id: QueueId,
        changes: QueueChanges,
    ) -> AppResult<Queue> {
        let (account, _) = manager_of(caller, "change queues")?;
        let mut queue = self
            .store
            .queue(account, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if let Some(name) = changes.name {
            queue.name = required("name", &name)?;
        }
        if let Some(strategy) = changes.strategy {
            queue.strategy = strategy;
        }
        if let Some(delivery) = changes.delivery {
            queue.delivery = delivery;
        }
        if let Some(secs) = changes.offer_timeout_secs {
            queue.offer_timeout_secs = offer_timeout(secs)?;
        }
        if let Some(members) = changes.members {
            queue.members = members;
        }
        self.store.save_queue(&queue).await?;
        Ok(self
            .store
            .queue(account, id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// C7: deletes a queue (owners and admins). Its live conversations are interrupted first
    /// (their agents are alerted; they can only be ended with a wrap-up reason), inboxes that
    /// routed to it route to no queue, nothing stored is deleted but the queue and its
    /// membership. Conversations that reached it while it was being deleted are interrupted
    /// too. Returns how many conversations were interrupted.
    ///
    /// # Errors
    /// `forbidden`; `not_found` (S1).
    pub async fn delete_queue(&self, caller: &Caller, id: QueueId) -> AppResult<usize> {
        let (account, _) = manager_of(caller, "delete queues")?;
        self.store
            .queue(account, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let dependency = Dependency::Queue(id);
        let cause = InterruptCause::QueueDeleted;
        let mut interrupted = self
            .interrupt_dependents(account, dependency, cause)
            .await?;
        if !self.store.delete_queue(account, id).await? {
            return Err(DomainError::NotFound.into());
        }
        interrupted += self
            .interrupt_dependents(account, dependency, cause)
            .await?;
        Ok(interrupted)
    }
}
