//! Agents (A2, R1-R3) and availability through the presence machine (R1).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use conversation_core::actor::{Permission, Role};
use conversation_core::entities::Agent;
use conversation_core::ids::AgentId;
use inbox_app::directory::{AgentProfile, NewAgent, SetAvailability};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{mirror, name_of};
use crate::error::ApiResult;
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(set_availability))
        .routes(routes!(set_my_availability))
}

mirror! {
    /// A2: the role given to an agent (the one owner is made at the first start).
    RoleBody => Role {
        /// Every right on conversations and settings.
        Admin,
        /// Rights from flags and permissions.
        Agent,
    }
}

mirror! {
    /// A2: a permission that can be granted.
    PermissionBody => Permission {
        /// D10: edit request types, reasons and components.
        EditDialogSettings,
        /// R7: assign conversations by hand.
        AssignConversations,
    }
}

mirror! {
    /// R1: an availability an agent can ask for (`rona` is set by the system only).
    AvailabilityBody => SetAvailability {
        /// Ready for offers and assignments; the only way out of `rona`.
        Available,
        /// Signed in, keeps their work, takes nothing new.
        Busy,
        /// Away or signed out.
        Offline,
    }
}

fn permissions(list: Vec<PermissionBody>) -> BTreeSet<Permission> {
    list.into_iter().map(Permission::from).collect()
}

/// An agent with their presence.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    /// Their id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Sign-in email.
    pub email: String,
    /// `owner`, `admin` or `agent`.
    pub role: String,
    /// A2: sees every conversation.
    pub full_access: bool,
    /// A2: extra permissions (`edit_dialog_settings`, `assign_conversations`).
    pub permissions: Vec<String>,
    /// R1: `offline`, `available`, `busy` or `rona`.
    pub availability: String,
    /// R1: shown green (available) or red (offline, busy, rona).
    pub green: bool,
    /// R2: maximum concurrent open conversations.
    pub capacity: u32,
    /// R3: experience level (higher is more experienced).
    pub experience_level: u8,
    /// R3: cost tier (lower is cheaper).
    pub cost_tier: u8,
}

impl From<&Agent> for AgentView {
    fn from(a: &Agent) -> Self {
        Self {
            id: a.id.as_uuid(),
            name: a.name.clone(),
            email: a.email.clone(),
            role: name_of(&a.role),
            full_access: a.full_access,
            permissions: a.permissions.iter().map(name_of).collect(),
            availability: name_of(&a.availability),
            green: a.availability.shows_green(),
            capacity: a.capacity,
            experience_level: a.experience_level,
            cost_tier: a.cost_tier,
        }
    }
}

/// A new agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentRequest {
    /// Display name.
    pub name: String,
    /// Sign-in email (unique).
    pub email: String,
    /// `admin` or `agent` (default).
    pub role: Option<RoleBody>,
    /// A2: sees every conversation (default false).
    pub full_access: Option<bool>,
    /// A2: extra permissions.
    pub permissions: Option<Vec<PermissionBody>>,
    /// R2: maximum concurrent open conversations (default 5).
    pub capacity: Option<u32>,
    /// R3: experience level (default 1).
    pub experience_level: Option<u8>,
    /// R3: cost tier (default 1).
    pub cost_tier: Option<u8>,
    /// The initial password, at least 8 characters.
    pub password: String,
}

/// Changes to an agent's profile; absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentRequest {
    /// Display name.
    pub name: Option<String>,
    /// Sign-in email.
    pub email: Option<String>,
    /// `admin` or `agent`.
    pub role: Option<RoleBody>,
    /// A2: sees every conversation.
    pub full_access: Option<bool>,
    /// A2: the whole set of extra permissions.
    pub permissions: Option<Vec<PermissionBody>>,
    /// R2: maximum concurrent open conversations.
    pub capacity: Option<u32>,
    /// R3: experience level.
    pub experience_level: Option<u8>,
    /// R3: cost tier.
    pub cost_tier: Option<u8>,
}

/// An availability to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityRequest {
    /// R1: `available`, `busy` or `offline`.
    pub availability: AvailabilityBody,
}

/// R1: the account's agents, by name, with their presence.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", security(("bearer" = [])), responses(
    (status = 200, body = Vec<AgentView>),
    (status = 401, body = crate::error::Problem),
))]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Vec<AgentView>>> {
    let agents = state.app.agents(&caller).await?;
    Ok(Json(agents.iter().map(AgentView::from).collect()))
}

/// A2, R2, R3: creates an agent (owners and admins). The agent starts offline.
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", security(("bearer" = [])), request_body = CreateAgentRequest, responses(
    (status = 201, body = AgentView),
    (status = 400, description = "unknown field or value", body = crate::error::Problem),
    (status = 403, body = crate::error::Problem),
    (status = 409, description = "the email is used", body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(request): Body<CreateAgentRequest>,
) -> ApiResult<(StatusCode, Json<AgentView>)> {
    let agent = state
        .app
        .create_agent(
            &caller,
            NewAgent {
                name: request.name,
                email: request.email,
                role: request.role.map_or(Role::Agent, Role::from),
                full_access: request.full_access.unwrap_or(false),
                permissions: permissions(request.permissions.unwrap_or_default()),
                capacity: request.capacity,
                experience_level: request.experience_level,
                cost_tier: request.cost_tier,
                password: request.password,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json((&agent).into())))
}

/// One agent of the account.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = AgentView),
    (status = 404, body = crate::error::Problem),
))]
async fn get_one(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<AgentView>> {
    let agent = state.app.agent(&caller, AgentId::from_uuid(id)).await?;
    Ok(Json((&agent).into()))
}

/// A2, R2, R3: changes an agent's profile (owners and admins).
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "agents", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateAgentRequest, responses(
    (status = 200, body = AgentView),
    (status = 400, body = crate::error::Problem),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<UpdateAgentRequest>,
) -> ApiResult<Json<AgentView>> {
    let agent = state
        .app
        .update_agent(
            &caller,
            AgentId::from_uuid(id),
            AgentProfile {
                name: request.name,
                email: request.email,
                role: request.role.map(Role::from),
                full_access: request.full_access,
                permissions: request.permissions.map(permissions),
                capacity: request.capacity,
                experience_level: request.experience_level,
                cost_tier: request.cost_tier,
            },
        )
        .await?;
    Ok(Json((&agent).into()))
}

/// R1: sets an agent's availability (owners and admins).
#[utoipa::path(put, path = "/api/v1/agents/{id}/availability", tag = "agents", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = AvailabilityRequest, responses(
    (status = 200, body = AgentView),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 409, description = "invalid_transition: out of `rona` only `available`", body = crate::error::Problem),
))]
async fn set_availability(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<AvailabilityRequest>,
) -> ApiResult<Json<AgentView>> {
    let agent = state
        .app
        .set_availability(
            &caller,
            Some(AgentId::from_uuid(id)),
            request.availability.into(),
        )
        .await?;
    Ok(Json((&agent).into()))
}

/// R1: sets the signed-in agent's own availability.
#[utoipa::path(put, path = "/api/v1/me/availability", tag = "agents", security(("bearer" = [])), request_body = AvailabilityRequest, responses(
    (status = 200, body = AgentView),
    (status = 409, description = "invalid_transition: out of `rona` only `available`", body = crate::error::Problem),
))]
async fn set_my_availability(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(request): Body<AvailabilityRequest>,
) -> ApiResult<Json<AgentView>> {
    let agent = state
        .app
        .set_availability(&caller, None, request.availability.into())
        .await?;
    Ok(Json((&agent).into()))
}
