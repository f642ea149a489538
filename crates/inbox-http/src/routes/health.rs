//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
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
    state.app.ready().await?;
    Ok(StatusCode::OK)
}
