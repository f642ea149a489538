//! Outgoing webhooks over HTTP (N5): subscriptions of the account (owners and admins; the
//! signing secret is shown once, at creation) and each subscription's delivery log. Another
//! account's subscription answers 404 (A1, S1).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use conversation_core::ports::{WebhookAttempt, WebhookSubscription};
use inbox_app::webhooks::{DeliveryLog, NewWebhook};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
        .routes(routes!(deliveries))
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where deliveries are posted (`http` or `https`).
    pub url: String,
    /// Event types: `conversation.created`, `conversation.resolved`, `message.created`,
    /// `order.created`.
    pub events: Vec<String>,
}

/// A subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// Its id.
    pub id: Uuid,
    /// Where deliveries are posted.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The signing secret: only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookView {
    fn of(s: WebhookSubscription, with_secret: bool) -> Self {
        Self {
            id: s.id,
            url: s.url,
            events: s.events,
            created_at: s.created_at,
            secret: with_secret.then_some(s.secret),
        }
    }
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    /// Its number, from 1.
    pub attempt: u32,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The receiver's status code, if it answered.
    pub status_code: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

impl From<WebhookAttempt> for AttemptView {
    fn from(a: WebhookAttempt) -> Self {
        Self {
            attempt: a.attempt,
            at: a.at,
            status_code: a.status_code,
            error: a.error,
        }
    }
}

/// One delivery of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Its id (the receiver's `X-Inbox-Delivery` and `Idempotency-Key`).
    pub id: Uuid,
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: u32,
    /// The last answer's status code.
    pub last_status_code: Option<u16>,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was fanned out.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was last tried.
    pub last_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The JSON body posted.
    pub body: serde_json::Value,
    /// Every attempt, in order.
    pub attempt_log: Vec<AttemptView>,
}

impl From<DeliveryLog> for DeliveryView {
    fn from(log: DeliveryLog) -> Self {
        let d = log.delivery;
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: serde_json::to_value(d.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            last_attempt_at: d.last_attempt_at,
            delivered_at: d.delivered_at,
            body: serde_json::from_str(&d.body).unwrap_or(serde_json::Value::Null),
            attempt_log: log.attempts.into_iter().map(AttemptView::from).collect(),
        }
    }
}

/// Paging of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// How many deliveries, newest first (default 50, at most 200).
    pub limit: Option<u32>,
}

/// N5: the account's webhook subscriptions (owners and admins), without their secrets.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])), responses(
    (status = 200, body = Vec<WebhookView>),
    (status = 403, body = crate::error::Problem),
))]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Vec<WebhookView>>> {
    let all = state.app.webhooks(&caller).await?;
    Ok(Json(
        all.into_iter().map(|s| WebhookView::of(s, false)).collect(),
    ))
}

/// N5: subscribes a URL to event types (owners and admins); the answer shows the signing
/// secret, once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = CreateWebhookRequest, responses(
    (status = 201, body = WebhookView),
    (status = 400, body = crate::error::Problem),
    (status = 403, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(request): Body<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let created = state
        .app
        .create_webhook(
            &caller,
            NewWebhook {
                url: request.url,
                events: request.events,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(WebhookView::of(created, true))))
}

/// N5: deletes a subscription (owners and admins).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
))]
async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.app.delete_webhook(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// N5: a subscription's delivery log, newest first, with every attempt (owners and admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])), params(("id" = Uuid, Path), LogParams), responses(
    (status = 200, body = Vec<DeliveryView>),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
))]
async fn deliveries(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Query(params): Query<LogParams>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    let log = state
        .app
        .webhook_log(&caller, id, params.limit.unwrap_or(50))
        .await?;
    Ok(Json(log.into_iter().map(DeliveryView::from).collect()))
}
