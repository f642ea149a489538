//! N2: the signed-in agent's personal task list: read it, write a task down, tick one off.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use conversation_core::entities::Task;
use conversation_core::ids::TaskId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::json_of;
use crate::error::ApiResult;
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_tasks, create))
        .routes(routes!(update))
}

/// A personal task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    /// Its id.
    pub id: Uuid,
    /// What to do.
    pub title: String,
    /// Where it came from: `{"type": "dialog", "dialog": ...}` (D11),
    /// `{"type": "returning_contact", "contact": ..., "conversation": ...}` (R4) or
    /// `{"type": "personal"}` (written by the agent).
    #[schema(value_type = Object)]
    pub source: serde_json::Value,
    /// When it starts or is due.
    pub due_at: DateTime<Utc>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was done.
    pub done_at: Option<DateTime<Utc>>,
}

impl From<&Task> for TaskView {
    fn from(t: &Task) -> Self {
        Self {
            id: t.id.as_uuid(),
            title: t.title.clone(),
            source: json_of(&t.source),
            due_at: t.due_at,
            created_at: t.created_at,
            done_at: t.done_at,
        }
    }
}

/// A task the agent writes down.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskRequest {
    /// What to do (up to 500 characters).
    pub title: String,
    /// When it is due.
    pub due_at: DateTime<Utc>,
}

/// A change to a task.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskRequest {
    /// Done (ticked off) or not.
    pub done: bool,
}

/// N2: the signed-in agent's tasks, by due time.
#[utoipa::path(get, path = "/api/v1/me/tasks", tag = "agents", security(("bearer" = [])), responses(
    (status = 200, body = Vec<TaskView>),
))]
async fn my_tasks(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Vec<TaskView>>> {
    let tasks = state.app.my_tasks(&caller).await?;
    Ok(Json(tasks.iter().map(TaskView::from).collect()))
}

/// N2: writes a task on the signed-in agent's list.
#[utoipa::path(post, path = "/api/v1/me/tasks", tag = "agents", security(("bearer" = [])), request_body = CreateTaskRequest, responses(
    (status = 201, body = TaskView),
    (status = 422, body = crate::error::Problem),
))]
async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(request): Body<CreateTaskRequest>,
) -> ApiResult<(StatusCode, Json<TaskView>)> {
    let task = state
        .app
        .create_my_task(&caller, &request.title, request.due_at)
        .await?;
    Ok((StatusCode::CREATED, Json((&task).into())))
}

/// N2: ticks one of the signed-in agent's tasks off, or on again.
#[utoipa::path(patch, path = "/api/v1/me/tasks/{id}", tag = "agents", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateTaskRequest, responses(
    (status = 200, body = TaskView),
    (status = 404, body = crate::error::Problem),
))]
async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<UpdateTaskRequest>,
) -> ApiResult<Json<TaskView>> {
    let task = state
        .app
        .set_my_task_done(&caller, TaskId::from_uuid(id), request.done)
        .await?;
    Ok(Json((&task).into()))
}
