//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use conversation_core::ids::AccountId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "alive")))]
async fn healthz() -> StatusCode {
    StatusCode::OK
}

/// The process can serve: its database answers.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "ready"),
    (status = 503, description = "the database does not answer", body = crate::error::Problem),
))]
async fn readyz(State(state): State<AppState>) -> ApiResult<StatusCode> {
    state
        .app
        .store()
        .account(AccountId::from_u128(0))
        .await
        .map_err(|e| ApiError::from(inbox_app::AppError::from(e)))?;
    Ok(StatusCode::OK)
}
