//! The account's setting lists: `request-types`, `reasons`, `components` (D10:
//! `edit_dialog_settings`) and `wrap-up-reasons` (R10: owners and admins). Listed with a search;
//! deleting archives, so what used an entry keeps it.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use conversation_core::entities::SettingEntry;
use conversation_core::ports::SettingKind;
use inbox_app::directory::SettingChanges;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, archive))
}

const LISTS: &str = "request-types, reasons, components, wrap-up-reasons";

fn kind(list: &str) -> ApiResult<SettingKind> {
    Ok(match list {
        "request-types" => SettingKind::RequestType,
        "reasons" => SettingKind::Reason,
        "components" => SettingKind::Component,
        "wrap-up-reasons" => SettingKind::WrapUpReason,
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no setting list {other:?}: use one of {LISTS}"),
            ));
        }
    })
}

/// An entry of a setting list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingView {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// D10: when it was archived; archived entries stay on what used them.
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<&SettingEntry<Uuid>> for SettingView {
    fn from(e: &SettingEntry<Uuid>) -> Self {
        Self {
            id: e.id,
            name: e.name.clone(),
            archived_at: e.archived_at,
        }
    }
}

/// A search in a list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// R10: only entries whose name contains this text (any case).
    pub q: Option<String>,
    /// Also archived entries (default false).
    pub include_archived: Option<bool>,
}

/// A new entry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSettingRequest {
    /// Its name, unique among the list's live entries.
    pub name: String,
}

/// Changes to an entry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettingRequest {
    /// A new name.
    pub name: Option<String>,
    /// `true` archives it, `false` brings it back.
    pub archived: Option<bool>,
}

/// D10, R10: a setting list, by name, with a search.
#[utoipa::path(get, path = "/api/v1/settings/{list}", tag = "settings", security(("bearer" = [])),
    params(("list" = String, Path, description = "request-types, reasons, components, wrap-up-reasons"), SearchParams),
    responses(
    (status = 200, body = Vec<SettingView>),
    (status = 404, body = crate::error::Problem),
))]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(list): Path<String>,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<Vec<SettingView>>> {
    let entries = state
        .app
        .setting_list(
            &caller,
            kind(&list)?,
            params.q.as_deref(),
            params.include_archived.unwrap_or(false),
        )
        .await?;
    Ok(Json(entries.iter().map(SettingView::from).collect()))
}

/// D10, R10: adds an entry.
#[utoipa::path(post, path = "/api/v1/settings/{list}", tag = "settings", security(("bearer" = [])),
    params(("list" = String, Path, description = "request-types, reasons, components, wrap-up-reasons")),
    request_body = CreateSettingRequest, responses(
    (status = 201, body = SettingView),
    (status = 403, body = crate::error::Problem),
    (status = 409, description = "a live entry has this name", body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(list): Path<String>,
    Body(request): Body<CreateSettingRequest>,
) -> ApiResult<(StatusCode, Json<SettingView>)> {
    let entry = state
        .app
        .create_setting(&caller, kind(&list)?, &request.name)
        .await?;
    Ok((StatusCode::CREATED, Json((&entry).into())))
}

/// D10, R10: renames, archives or brings back an entry.
#[utoipa::path(patch, path = "/api/v1/settings/{list}/{id}", tag = "settings", security(("bearer" = [])),
    params(("list" = String, Path, description = "request-types, reasons, components, wrap-up-reasons"), ("id" = Uuid, Path)),
    request_body = UpdateSettingRequest, responses(
    (status = 200, body = SettingView),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem),
))]
async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((list, id)): Path<(String, Uuid)>,
    Body(request): Body<UpdateSettingRequest>,
) -> ApiResult<Json<SettingView>> {
    let entry = state
        .app
        .update_setting(
            &caller,
            kind(&list)?,
            id,
            SettingChanges {
                name: request.name,
                archived: request.archived,
            },
        )
        .await?;
    Ok(Json((&entry).into()))
}

/// D10: removes an entry from the list by archiving it: what used it keeps it.
#[utoipa::path(delete, path = "/api/v1/settings/{list}/{id}", tag = "settings", security(("bearer" = [])),
    params(("list" = String, Path, description = "request-types, reasons, components, wrap-up-reasons"), ("id" = Uuid, Path)),
    responses(
    (status = 200, body = SettingView),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
))]
async fn archive(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((list, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<SettingView>> {
    let entry = state
        .app
        .update_setting(
            &caller,
            kind(&list)?,
            id,
            SettingChanges {
                name: None,
                archived: Some(true),
            },
        )
        .await?;
    Ok(Json((&entry).into()))
}
