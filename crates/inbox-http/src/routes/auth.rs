//! Signing in, the signed-in agent, passwords and API tokens (A3, S9).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(create_api_token))
}

/// Email and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The agent's email.
    pub email: String,
    /// Their password.
    pub password: String,
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignInResponse {
    /// The bearer token: send it as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The agent.
    pub agent: AgentSummary,
}

/// An agent, as the signed-in agent sees themselves.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentSummary {
    /// Their id.
    pub id: Uuid,
    /// Their account.
    pub account: Uuid,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// `owner`, `admin` or `agent`.
    pub role: String,
    /// A2: sees every conversation.
    pub full_access: bool,
    /// R1: `offline`, `available`, `busy` or `rona`.
    pub availability: String,
}

impl From<&conversation_core::entities::Agent> for AgentSummary {
    fn from(a: &conversation_core::entities::Agent) -> Self {
        let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        Self {
            id: a.id.as_uuid(),
            account: a.account.as_uuid(),
            name: a.name.clone(),
            email: a.email.clone(),
            role: name(serde_json::to_value(a.role).unwrap_or_default()),
            full_access: a.full_access,
            availability: name(serde_json::to_value(a.availability).unwrap_or_default()),
        }
    }
}

/// A3: signs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/sign-in", tag = "auth", request_body = SignInRequest, responses(
    (status = 200, body = SignInResponse),
    (status = 401, description = "wrong email or password", body = crate::error::Problem),
))]
async fn sign_in(
    State(state): State<AppState>,
    Body(request): Body<SignInRequest>,
) -> ApiResult<Json<SignInResponse>> {
    let signed = state.app.sign_in(&request.email, &request.password).await?;
    Ok(Json(SignInResponse {
        token: signed.token,
        expires_at: signed.expires_at,
        agent: (&signed.agent).into(),
    }))
}

/// The signed-in agent.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = AgentSummary),
    (status = 401, body = crate::error::Problem),
))]
async fn me(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<AgentSummary>> {
    let agent = state.app.me(&caller).await?;
    Ok(Json((&agent).into()))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password.
    pub current: String,
    /// The new one (at least 8 characters).
    pub new: String,
}

/// S9: changes the password and revokes every session of the agent (sign in again).
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", security(("bearer" = [])), request_body = ChangePasswordRequest, responses(
    (status = 204, description = "changed; all sessions revoked"),
    (status = 401, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn change_password(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(request): Body<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    state
        .app
        .change_password(&caller, &request.current, &request.new)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new API token's name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiTokenRequest {
    /// A name to recognise it by.
    pub name: String,
}

/// A new API token.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreateApiTokenResponse {
    /// Its id.
    pub id: Uuid,
    /// The token: shown once, store it safely.
    pub token: String,
}

/// A3: creates an API token for an integration (owners and admins).
#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "auth", security(("bearer" = [])), request_body = CreateApiTokenRequest, responses(
    (status = 201, body = CreateApiTokenResponse),
    (status = 403, body = crate::error::Problem),
))]
async fn create_api_token(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(request): Body<CreateApiTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreateApiTokenResponse>)> {
    let (record, token) = state.app.create_api_token(&caller, &request.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateApiTokenResponse {
            id: record.id,
            token,
        }),
    ))
}
