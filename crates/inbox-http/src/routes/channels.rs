//! Channels over HTTP (H1, A4, S7): an inbox's connection to its provider (owners and admins;
//! secrets are write-only), and each inbox's webhook, where its provider calls. The webhook has
//! no bearer token: the provider's signature over the raw body is the authentication, checked by
//! the inbox's adapter before anything is read (missing, wrong or stale: 401, nothing stored).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use conversation_core::ids::InboxId;
use conversation_core::ports::WebhookRequest;
use inbox_app::channels::{ConnectionView, SaveConnection, WebhookReply};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// The largest webhook body accepted: providers that put files inline (email) fit, up to the
/// default attachment limit (M7) and its encoding.
pub const WEBHOOK_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    let webhook = OpenApiRouter::new()
        .routes(routes!(webhook_get, webhook_post))
        .layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT));
    OpenApiRouter::new()
        .routes(routes!(get_connection, put_connection))
        .merge(webhook)
}

/// An inbox's connection: settings and the names of the secrets set, never their values.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionResponse {
    /// The inbox.
    pub inbox: Uuid,
    /// Its channel kind (`api`, `whatsapp`, ...).
    pub kind: String,
    /// The settings.
    pub settings: BTreeMap<String, String>,
    /// The names of the secrets that are set.
    pub secrets_set: Vec<String>,
    /// The path of the inbox's webhook, to give the provider.
    pub webhook_path: String,
    /// The webhook's full address as this request reached the server.
    pub webhook_url: String,
    /// When the connection was last saved.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl ConnectionResponse {
    fn of(view: ConnectionView, headers: &HeaderMap) -> Self {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let scheme = headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .filter(|p| matches!(*p, "http" | "https"))
            .unwrap_or("http");
        Self {
            inbox: view.inbox.as_uuid(),
            kind: serde_json::to_value(view.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            webhook_url: format!("{scheme}://{host}{}", view.webhook_path),
            settings: view.settings,
            secrets_set: view.secrets_set,
            webhook_path: view.webhook_path,
            updated_at: view.updated_at,
        }
    }
}

/// A connection to save. Settings replace the stored ones; a secret given replaces the stored
/// one, a secret given empty removes it, one not given keeps its value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutConnectionRequest {
    /// The settings the inbox's channel reads (see `docs/channels.md`).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Secrets (tokens, signing keys): stored, never shown back.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// H1: an inbox's connection (owners and admins); secrets by name only.
#[utoipa::path(get, path = "/api/v1/inboxes/{id}/connection", tag = "channels", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ConnectionResponse),
    (status = 403, body = crate::error::Problem),
    (status = 404, description = "no such inbox, or not connected", body = crate::error::Problem),
))]
async fn get_connection(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Json<ConnectionResponse>> {
    let view = state
        .app
        .connection(&caller, InboxId::from_uuid(id))
        .await?;
    Ok(Json(ConnectionResponse::of(view, &headers)))
}

/// H1: connects an inbox to its provider (owners and admins), checked by the channel's adapter.
#[utoipa::path(put, path = "/api/v1/inboxes/{id}/connection", tag = "channels", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = PutConnectionRequest, responses(
    (status = 200, body = ConnectionResponse),
    (status = 400, body = crate::error::Problem),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 422, description = "`invalid_connection` with the channel's sentence, or `capability_unsupported` for a kind without an adapter", body = crate::error::Problem),
))]
async fn put_connection(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Body(request): Body<PutConnectionRequest>,
) -> ApiResult<Json<ConnectionResponse>> {
    let view = state
        .app
        .save_connection(
            &caller,
            InboxId::from_uuid(id),
            SaveConnection {
                settings: request.settings,
                secrets: request.secrets,
            },
        )
        .await?;
    Ok(Json(ConnectionResponse::of(view, &headers)))
}

/// What the webhook answers to accepted events.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAccepted {
    /// Messages stored now.
    pub stored: usize,
    /// Messages stored before (the provider's retries, M8).
    pub duplicates: usize,
    /// Status reports that moved a message (M6).
    pub statuses: usize,
}

/// A4: a provider's handshake (Meta's verify token, Twitter's CRC), answered by the adapter.
#[utoipa::path(get, path = "/api/v1/channels/{inbox}/webhook", tag = "channels", params(("inbox" = Uuid, Path)), responses(
    (status = 200, description = "the handshake's answer, as the provider expects it"),
    (status = 400, body = crate::error::Problem),
    (status = 401, description = "a missing or wrong verify token or signature", body = crate::error::Problem),
    (status = 404, description = "no such inbox, or not connected", body = crate::error::Problem),
))]
async fn webhook_get(
    State(state): State<AppState>,
    Path(inbox): Path<Uuid>,
    request: Request,
) -> ApiResult<Response> {
    webhook(state, inbox, Method::GET, request).await
}

/// A4, S7, M8, M6: a provider's events: signature checked over the raw body, messages stored
/// once per external id, delivery statuses recorded.
#[utoipa::path(post, path = "/api/v1/channels/{inbox}/webhook", tag = "channels", params(("inbox" = Uuid, Path)), request_body(content = String, description = "the provider's payload, signed", content_type = "application/json"), responses(
    (status = 200, body = WebhookAccepted),
    (status = 400, description = "a verified body that is not the provider's format", body = crate::error::Problem),
    (status = 401, description = "a missing, wrong or stale signature: nothing stored", body = crate::error::Problem),
    (status = 404, description = "no such inbox, or not connected", body = crate::error::Problem),
    (status = 413, body = crate::error::Problem),
    (status = 503, description = "media could not be fetched yet: the provider retries", body = crate::error::Problem),
))]
async fn webhook_post(
    State(state): State<AppState>,
    Path(inbox): Path<Uuid>,
    request: Request,
) -> ApiResult<Response> {
    webhook(state, inbox, Method::POST, request).await
}

async fn webhook(
    state: AppState,
    inbox: Uuid,
    method: Method,
    request: Request,
) -> ApiResult<Response> {
    let query = Query::<Vec<(String, String)>>::try_from_uri(request.uri())
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), WEBHOOK_BODY_LIMIT)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the body is too large",
            )
        })?;
    let request = WebhookRequest {
        method: method.as_str().to_owned(),
        query,
        headers: headers
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    name.as_str().to_ascii_lowercase(),
                    value.to_str().ok()?.to_owned(),
                ))
            })
            .collect(),
        body: body.to_vec(),
    };
    let reply = state
        .app
        .channel_webhook(InboxId::from_uuid(inbox), request)
        .await
        .map_err(ApiError::from)?;
    Ok(match reply {
        WebhookReply::Handshake { content_type, body } => {
            (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        WebhookReply::Accepted {
            stored,
            duplicates,
            statuses,
        } => Json(WebhookAccepted {
            stored,
            duplicates,
            statuses,
        })
        .into_response(),
    })
}
