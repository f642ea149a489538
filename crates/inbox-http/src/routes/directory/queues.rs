//! Queues: strategy and delivery mode (R3), offer timeout (R6), members; deleting one
//! interrupts its live conversations (C7).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use conversation_core::entities::{DeliveryMode, Queue, RoutingStrategy};
use conversation_core::ids::{AgentId, QueueId};
use inbox_app::directory::{NewQueue, QueueChanges};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Deleted, mirror, name_of};
use crate::error::ApiResult;
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
}

mirror! {
    /// R3: how a queue chooses an agent.
    StrategyBody => RoutingStrategy {
        /// Lowest load/capacity ratio, ties to the agent idle longest (default).
        LeastLoaded,
        /// Members in turn.
        RoundRobin,
        /// Highest experience level with free capacity.
        MostExperiencedFirst,
        /// Lowest cost tier with free capacity.
        CheapestFirst,
        /// Nobody is chosen: agents pick from the queue.
        Manual,
    }
}

mirror! {
    /// R3: how the chosen agent gets the conversation.
    DeliveryBody => DeliveryMode {
        /// Assigned at once (default).
        Direct,
        /// Offered; must be accepted within the offer timeout (R6).
        Offer,
    }
}

/// A queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    /// Its id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// R3: `least_loaded`, `round_robin`, `most_experienced_first`, `cheapest_first`, `manual`.
    pub strategy: String,
    /// R3: `direct` or `offer`.
    pub delivery: String,
    /// R6: seconds an offer stays open.
    pub offer_timeout_secs: u32,
    /// The team's agents.
    pub members: Vec<Uuid>,
}

impl From<&Queue> for QueueView {
    fn from(q: &Queue) -> Self {
        Self {
            id: q.id.as_uuid(),
            name: q.name.clone(),
            strategy: name_of(&q.strategy),
            delivery: name_of(&q.delivery),
            offer_timeout_secs: q.offer_timeout_secs,
            members: q.members.iter().map(AgentId::as_uuid).collect(),
        }
    }
}

/// A new queue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateQueueRequest {
    /// Display name, shown on offers.
    pub name: String,
    /// R3: default `least_loaded`.
    pub strategy: Option<StrategyBody>,
    /// R3: default `direct`.
    pub delivery: Option<DeliveryBody>,
    /// R6: default 30 seconds.
    pub offer_timeout_secs: Option<u32>,
    /// Agents of the account.
    pub members: Option<Vec<Uuid>>,
}

/// Changes to a queue; absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateQueueRequest {
    /// Display name.
    pub name: Option<String>,
    /// R3: strategy.
    pub strategy: Option<StrategyBody>,
    /// R3: delivery mode.
    pub delivery: Option<DeliveryBody>,
    /// R6: offer timeout in seconds.
    pub offer_timeout_secs: Option<u32>,
    /// The whole new list of members.
    pub members: Option<Vec<Uuid>>,
}

fn agents(ids: Vec<Uuid>) -> Vec<AgentId> {
    ids.into_iter().map(AgentId::from_uuid).collect()
}

/// The account's queues, by name.
#[utoipa::path(get, path = "/api/v1/queues", tag = "queues", security(("bearer" = [])), responses(
    (status = 200, body = Vec<QueueView>),
))]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Vec<QueueView>>> {
    let queues = state.app.queues(&caller).await?;
    Ok(Json(queues.iter().map(QueueView::from).collect()))
}

/// R3, R6: creates a queue (owners and admins).
#[utoipa::path(post, path = "/api/v1/queues", tag = "queues", security(("bearer" = [])), request_body = CreateQueueRequest, responses(
    (status = 201, body = QueueView),
    (status = 400, body = crate::error::Problem),
    (status = 403, body = crate::error::Problem),
    (status = 404, description = "a member is not an agent of the account", body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(request): Body<CreateQueueRequest>,
) -> ApiResult<(StatusCode, Json<QueueView>)> {
    let queue = state
        .app
        .create_queue(
            &caller,
            NewQueue {
                name: request.name,
                strategy: request.strategy.map(Into::into),
                delivery: request.delivery.map(Into::into),
                offer_timeout_secs: request.offer_timeout_secs,
                members: agents(request.members.unwrap_or_default()),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json((&queue).into())))
}

/// One queue with its members.
#[utoipa::path(get, path = "/api/v1/queues/{id}", tag = "queues", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = QueueView),
    (status = 404, body = crate::error::Problem),
))]
async fn get_one(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<QueueView>> {
    let queue = state.app.queue(&caller, QueueId::from_uuid(id)).await?;
    Ok(Json((&queue).into()))
}

/// R3, R6: changes a queue (owners and admins).
#[utoipa::path(patch, path = "/api/v1/queues/{id}", tag = "queues", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateQueueRequest, responses(
    (status = 200, body = QueueView),
    (status = 400, body = crate::error::Problem),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<UpdateQueueRequest>,
) -> ApiResult<Json<QueueView>> {
    let queue = state
        .app
        .update_queue(
            &caller,
            QueueId::from_uuid(id),
            QueueChanges {
                name: request.name,
                strategy: request.strategy.map(Into::into),
                delivery: request.delivery.map(Into::into),
                offer_timeout_secs: request.offer_timeout_secs,
                members: request.members.map(agents),
            },
        )
        .await?;
    Ok(Json((&queue).into()))
}

/// C7: deletes a queue (owners and admins); its live conversations are interrupted.
#[utoipa::path(delete, path = "/api/v1/queues/{id}", tag = "queues", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = Deleted),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
))]
async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Deleted>> {
    let interrupted = state
        .app
        .delete_queue(&caller, QueueId::from_uuid(id))
        .await?;
    Ok(Json(Deleted { interrupted }))
}
