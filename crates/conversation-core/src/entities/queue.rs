use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, AgentId, QueueId};

/// R6: the default offer timeout, in seconds.
pub const DEFAULT_OFFER_TIMEOUT_SECS: u32 = 30;

/// How a queue chooses an agent (R3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingStrategy {
    /// Lowest load/capacity ratio, ties to the agent idle longest.
    #[default]
    LeastLoaded,
    /// Members in turn, after the last one chosen.
    RoundRobin,
    /// Highest experience level with free capacity.
    MostExperiencedFirst,
    /// Lowest cost tier with free capacity.
    CheapestFirst,
    /// Nobody is chosen: agents pick from the queue.
    Manual,
}

/// How a chosen agent gets the conversation (R3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    /// Assigned at once.
    #[default]
    Direct,
    /// Offered; the agent must accept within the offer timeout (R6).
    Offer,
}

/// A team's shared line of waiting conversations, with its routing rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    /// Its id.
    pub id: QueueId,
    /// The account.
    pub account: AccountId,
    /// Display name, shown on offers.
    pub name: String,
    /// How an agent is chosen.
    pub strategy: RoutingStrategy,
    /// How the chosen agent gets it.
    pub delivery: DeliveryMode,
    /// Seconds an offer stays open (R6).
    pub offer_timeout_secs: u32,
    /// The agents of the team.
    pub members: Vec<AgentId>,
}
