//! The web chat widget's API (W1-W5, A3, S5, S6, S8), under `/api/v1/widget`.
//!
//! Public, no token: an inbox's status (W2) and proof-of-work challenge (W3), and starting a
//! visitor session with the solved challenge (W1, W4, W5). With the visitor token the session
//! gives: sending and reading the visitor's messages (M8, M10) and recording the pages they
//! visit (W4). A visitor token reaches only its own contact's conversation on its own inbox;
//! anything else answers 404 (S5).
//!
//! Browsers: every widget route answers CORS only for the origins in the inbox's widget
//! settings ([`cors`]). The inbox is read from the path (`/inboxes/{inbox}/...`) or, on the
//! token routes, from the `inbox` query parameter, which the widget sends so that a preflight
//! (which carries no token) can be answered; when given it must be the token's inbox.
//! Bodies above [`WIDGET_BODY_LIMIT`] answer 413 before they are read (S8); too many calls
//! answer 429 `rate_limited` with `Retry-After` (W3, S8).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use conversation_core::actor::Actor;
use conversation_core::entities::PreChatField;
use conversation_core::ids::InboxId;
use conversation_core::message::{Direction, Message, MessageKind};
use inbox_app::widget::{ClientInfo, SignedIdentity, StartVisitor, visitor_of};
use inbox_app::{App, Caller};
use serde::{Deserialize, Serialize};
use tower::{Layer as _, ServiceExt as _};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// S8: the largest body a widget route reads.
pub const WIDGET_BODY_LIMIT: usize = 64 * 1024;

/// The path every widget route starts with.
pub const WIDGET_PREFIX: &str = "/api/v1/widget/";

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(challenge))
        .routes(routes!(start_session))
        .routes(routes!(send_message, list_messages))
        .routes(routes!(page_view))
        .routes(routes!(queue_position))
        .layer(RequestBodyLimitLayer::new(WIDGET_BODY_LIMIT))
}

/// The client's address: the connection's peer, or, when the server is configured behind a
/// trusted reverse proxy, the last address of `X-Forwarded-For` (the one that proxy saw).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let forwarded = state
            .app
            .widget_config()
            .trusted_proxy
            .then(|| forwarded_for(&parts.headers))
            .flatten();
        if let Some(ip) = forwarded {
            return Ok(Self(ip));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(Self(peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

/// The address the trusted proxy appended to `X-Forwarded-For`: only the last entry, the
/// earlier ones are whatever the client claimed.
fn forwarded_for(headers: &axum::http::HeaderMap) -> Option<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()?
        .to_str()
        .ok()?
        .rsplit(',')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// The inbox a widget request is about, for CORS: from the path, else the `inbox` query.
fn inbox_of(uri: &Uri) -> Option<InboxId> {
    let path = uri.path().strip_prefix(WIDGET_PREFIX)?;
    let from_path = path
        .strip_prefix("inboxes/")
        .and_then(|rest| rest.split('/').next());
    let from_query = || {
        uri.query()?
            .split('&')
            .find_map(|pair| pair.strip_prefix("inbox="))
    };
    from_path
        .or_else(from_query)
        .and_then(|id| id.parse::<Uuid>().ok())
        .map(InboxId::from_uuid)
}

fn cors_layer() -> &'static CorsLayer {
    static CORS: OnceLock<CorsLayer> = OnceLock::new();
    CORS.get_or_init(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::async_predicate(
                |origin: HeaderValue, parts: &Parts| {
                    let app = parts.extensions.get::<App>().cloned();
                    let inbox = inbox_of(&parts.uri);
                    async move {
                        match (app, inbox, origin.to_str()) {
                            (Some(app), Some(inbox), Ok(origin)) => {
                                app.widget_origin_allowed(inbox, origin).await
                            }
                            _ => false,
                        }
                    }
                },
            ))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([AUTHORIZATION, CONTENT_TYPE])
            .expose_headers([RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600))
    })
}

/// CORS for the widget routes: a page may call them from a browser only from an origin the
/// inbox allows. Other paths pass through untouched (the agents' API has no CORS).
pub async fn cors(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(WIDGET_PREFIX) {
        return next.run(request).await;
    }
    request.extensions_mut().insert(state.app.clone());
    match cors_layer().clone().layer(next).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// S5: the `inbox` query of the token routes, when given, must be the token's inbox.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VisitorParams {
    /// The widget's inbox (lets browsers' CORS preflights be answered); when given, it must be
    /// the inbox of the token, else 404.
    pub inbox: Option<Uuid>,
}

pub(crate) fn check_inbox(caller: &Caller, inbox: Option<Uuid>) -> ApiResult<()> {
    let (_, _, bound) = visitor_of(caller)?;
    match inbox {
        Some(asked) if asked != bound.as_uuid() => Err(ApiError::not_found()),
        _ => Ok(()),
    }
}

/// W2: what the widget shows before the chat.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    /// The inbox's name.
    pub name: String,
    /// Whether an agent of the inbox's team is available now; otherwise the team answers later.
    pub online: bool,
    /// The avatar: the company logo.
    pub logo_url: Option<String>,
    /// The name of an available agent.
    pub agent_name: Option<String>,
    /// W1: the pre-chat form to fill before the first message.
    pub pre_chat_fields: Vec<PreChatFieldView>,
}

/// W1: one field of the pre-chat form.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreChatFieldView {
    /// The key to send it under in `form` (`name`, `email`, `phone` or a custom key).
    pub key: String,
    /// The label to show.
    pub label: String,
    /// Whether it must be filled.
    pub required: bool,
}

impl From<PreChatField> for PreChatFieldView {
    fn from(field: PreChatField) -> Self {
        Self {
            key: field.key,
            label: field.label,
            required: field.required,
        }
    }
}

/// W2: the widget's avatar, whether the team is online now, and the pre-chat form. Public.
#[utoipa::path(get, path = "/api/v1/widget/inboxes/{inbox}/status", tag = "widget", params(("inbox" = Uuid, Path)), responses(
    (status = 200, body = StatusView),
    (status = 404, body = crate::error::Problem),
    (status = 429, description = "rate_limited, with Retry-After", body = crate::error::Problem),
))]
async fn status(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(inbox): Path<Uuid>,
) -> ApiResult<Json<StatusView>> {
    let status = state
        .app
        .widget_status(InboxId::from_uuid(inbox), ip)
        .await?;
    Ok(Json(StatusView {
        name: status.name,
        online: status.online,
        logo_url: status.logo_url,
        agent_name: status.agent_name,
        pre_chat_fields: status.pre_chat_fields.into_iter().map(Into::into).collect(),
    }))
}

/// W3: a proof-of-work challenge.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeView {
    /// Send it back unchanged as `challenge` when starting the session:
    /// `"{nonce}.{expires}.{difficulty}.{mac}"`, signed by the server.
    pub challenge: String,
    /// Find a `solution` (1 to 32 characters of `[0-9A-Za-z_-]`, such as a decimal counter)
    /// such that `SHA-256(nonce + solution)`, over the UTF-8 bytes of both, starts with
    /// `difficulty` zero bits.
    pub nonce: String,
    /// The leading zero bits the hash needs (about `2^difficulty` tries).
    pub difficulty: u8,
    /// After this the challenge is refused: ask for a new one.
    pub expires_at: DateTime<Utc>,
    /// The scheme: `sha256-leading-zero-bits-v1`.
    pub algorithm: String,
}

/// W3: a proof-of-work challenge to solve before starting a session. Public. The scheme:
/// find `solution` with `SHA-256(nonce + solution)` starting with `difficulty` zero bits,
/// then send `challenge` and `solution` to `POST .../sessions`; each challenge opens one
/// session and expires at `expires_at`.
#[utoipa::path(get, path = "/api/v1/widget/inboxes/{inbox}/challenge", tag = "widget", params(("inbox" = Uuid, Path)), responses(
    (status = 200, body = ChallengeView),
    (status = 404, body = crate::error::Problem),
    (status = 429, description = "rate_limited, with Retry-After", body = crate::error::Problem),
))]
async fn challenge(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(inbox): Path<Uuid>,
) -> ApiResult<Json<ChallengeView>> {
    let issued = state
        .app
        .widget_challenge(InboxId::from_uuid(inbox), ip)
        .await?;
    Ok(Json(ChallengeView {
        challenge: issued.challenge,
        nonce: issued.nonce,
        difficulty: issued.difficulty,
        expires_at: issued.expires_at,
        algorithm: "sha256-leading-zero-bits-v1".into(),
    }))
}

/// W5: an identity signed by the company's site.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityRequest {
    /// The site's id of its signed-in customer.
    pub identifier: String,
    /// Hex of `HMAC-SHA256(inbox widget secret, identifier)`, computed by the site's server.
    pub signature: String,
}

/// What the widget sends to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSessionRequest {
    /// W3: the `challenge` received, unchanged.
    pub challenge: String,
    /// W3: its solution.
    pub solution: String,
    /// W1: the pre-chat form: `name`, `email`, `phone` and the inbox's custom fields.
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// W4: the page the chat starts on (http or https).
    pub page_url: Option<String>,
    /// W4: that page's referrer.
    pub referrer: Option<String>,
    /// W5: the customer as the site knows them. Without it, or without a valid signature,
    /// the visitor is a new anonymous contact whatever email the form says (S6).
    pub identity: Option<IdentityRequest>,
}

/// A visitor session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// The visitor token: send it as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    /// The contact the token is bound to.
    pub contact: Uuid,
    /// The inbox the token is bound to.
    pub inbox: Uuid,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// W5: the contact is the verified customer of the signed identity.
    pub verified: bool,
}

/// W1, W3-W5, A3: starts a visitor session with a solved challenge. Public.
#[utoipa::path(post, path = "/api/v1/widget/inboxes/{inbox}/sessions", tag = "widget", params(("inbox" = Uuid, Path)), request_body = StartSessionRequest, responses(
    (status = 201, body = SessionView),
    (status = 404, body = crate::error::Problem),
    (status = 413, description = "body too large"),
    (status = 422, description = "invalid_value (challenge unsolved, expired or used; identity signature; form), missing_field", body = crate::error::Problem),
    (status = 429, description = "rate_limited, with Retry-After", body = crate::error::Problem),
))]
async fn start_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(inbox): Path<Uuid>,
    headers: axum::http::HeaderMap,
    Body(request): Body<StartSessionRequest>,
) -> ApiResult<(StatusCode, Json<SessionView>)> {
    let client = ClientInfo {
        ip,
        user_agent: headers
            .get(USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.chars().take(512).collect()),
    };
    let session = state
        .app
        .start_visitor_session(
            InboxId::from_uuid(inbox),
            StartVisitor {
                challenge: request.challenge,
                solution: request.solution,
                form: request.form,
                page_url: request.page_url,
                referrer: request.referrer,
                identity: request.identity.map(|identity| SignedIdentity {
                    identifier: identity.identifier,
                    signature: identity.signature,
                }),
            },
            &client,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionView {
            token: session.token,
            contact: session.contact.as_uuid(),
            inbox: session.inbox.as_uuid(),
            expires_at: session.expires_at,
            verified: session.verified,
        }),
    ))
}

/// A message as the visitor sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetMessageView {
    /// Its id.
    pub id: Uuid,
    /// M9: its place in the conversation.
    pub sequence: u64,
    /// `text`, `media`, `template`, `csat_request`, `csat_response`, `bot`, `system`.
    pub kind: String,
    /// Who wrote it: `visitor`, `agent`, `bot` or `system`.
    pub from: String,
    /// Its text, card numbers masked (M3); empty once deleted (M5).
    pub body: String,
    /// The dialog it belongs to (D13: the satisfaction form names it).
    pub dialog: Option<Uuid>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// M8: the id the widget gave it.
    pub client_id: Option<String>,
    /// M5: an agent deleted it.
    pub deleted: bool,
    /// M7: its file, downloaded from `/api/v1/widget/messages/{message}/attachment`.
    pub attachment: Option<crate::views::AttachmentView>,
}

impl From<&Message> for WidgetMessageView {
    fn from(m: &Message) -> Self {
        let kind = serde_json::to_value(m.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let from = match (m.direction, m.kind, m.sender) {
            (Direction::Inbound, _, _) => "visitor",
            (_, MessageKind::Bot, _) | (_, _, Actor::Integration) => "bot",
            (_, _, Actor::Agent(_)) => "agent",
            _ => "system",
        };
        Self {
            id: m.id.as_uuid(),
            sequence: m.sequence,
            kind,
            from: from.into(),
            body: m.body.clone(),
            dialog: m.dialog.map(|d| d.as_uuid()),
            created_at: m.created_at,
            client_id: m.client_id.clone(),
            deleted: m.deleted.is_some(),
            attachment: m.attachment.as_ref().map(Into::into),
        }
    }
}

/// What the visitor writes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorSendRequest {
    /// The text (not blank, at most 5000 characters).
    pub body: String,
    /// M8: the widget's id of this message; a retry with the same id is stored once.
    pub client_id: Option<String>,
}

/// W1, C2, C3, M8: the visitor writes in their conversation (the first message starts it; a
/// closed one reopens). A retry with the same `client_id` answers the stored message.
#[utoipa::path(post, path = "/api/v1/widget/messages", tag = "widget", security(("bearer" = [])), params(VisitorParams), request_body = VisitorSendRequest, responses(
    (status = 201, body = WidgetMessageView),
    (status = 401, body = crate::error::Problem),
    (status = 404, description = "not a visitor token, or not this token's inbox (S5)", body = crate::error::Problem),
    (status = 422, description = "message_blank, message_too_long", body = crate::error::Problem),
    (status = 429, description = "rate_limited, with Retry-After", body = crate::error::Problem),
))]
async fn send_message(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(params): Query<VisitorParams>,
    Body(request): Body<VisitorSendRequest>,
) -> ApiResult<(StatusCode, Json<WidgetMessageView>)> {
    check_inbox(&caller, params.inbox)?;
    let message = state
        .app
        .visitor_send(&caller, &request.body, request.client_id)
        .await?;
    Ok((StatusCode::CREATED, Json((&message).into())))
}

/// Where to start reading.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VisitorReadParams {
    /// Only messages with a sequence above this one (default 0: from the start).
    pub after: Option<u64>,
    /// At most this many read (default 50, at most 200).
    pub limit: Option<u32>,
    /// As for the other token routes: when given, the token's inbox.
    pub inbox: Option<Uuid>,
}

/// The visitor's messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetMessagesView {
    /// What the visitor may see (M10: never private notes), in sequence order.
    pub messages: Vec<WidgetMessageView>,
    /// Pass as `after` next time.
    pub after: u64,
    /// The visitor's conversation, once the first message started it.
    pub conversation: Option<Uuid>,
}

/// M9, M10: the visitor's conversation, after a sequence number; private notes never appear.
#[utoipa::path(get, path = "/api/v1/widget/messages", tag = "widget", security(("bearer" = [])), params(VisitorReadParams), responses(
    (status = 200, body = WidgetMessagesView),
    (status = 401, body = crate::error::Problem),
    (status = 404, description = "not a visitor token, or not this token's inbox (S5)", body = crate::error::Problem),
))]
async fn list_messages(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(params): Query<VisitorReadParams>,
) -> ApiResult<Json<WidgetMessagesView>> {
    check_inbox(&caller, params.inbox)?;
    let read = state
        .app
        .visitor_messages(
            &caller,
            params.after.unwrap_or(0),
            params.limit.unwrap_or(50),
        )
        .await?;
    Ok(Json(WidgetMessagesView {
        messages: read.messages.iter().map(Into::into).collect(),
        after: read.after,
        conversation: read.conversation.map(|c| c.as_uuid()),
    }))
}

/// R5: where the visitor stands in the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePositionView {
    /// The visitor's conversation, once the first message started it.
    pub conversation: Option<Uuid>,
    /// Its 1-based place among the conversations waiting in its queue (1 = next), oldest
    /// first; `null` when it does not wait (an agent has or is offered it).
    pub position: Option<usize>,
}

/// R5: the visitor's position in the queue, to tell them how many are ahead.
#[utoipa::path(get, path = "/api/v1/widget/queue-position", tag = "widget", security(("bearer" = [])), params(VisitorParams), responses(
    (status = 200, body = QueuePositionView),
    (status = 401, body = crate::error::Problem),
    (status = 404, description = "not a visitor token, or not this token's inbox (S5)", body = crate::error::Problem),
))]
async fn queue_position(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(params): Query<VisitorParams>,
) -> ApiResult<Json<QueuePositionView>> {
    check_inbox(&caller, params.inbox)?;
    let (conversation, position) = state.app.visitor_queue_position(&caller).await?;
    Ok(Json(QueuePositionView {
        conversation: conversation.map(|c| c.as_uuid()),
        position,
    }))
}

/// W4: a page the visitor opened.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageViewRequest {
    /// Its address (http or https).
    pub url: String,
    /// Its title.
    pub title: Option<String>,
}

/// W4: records a page the visitor opened while chatting (kept on the contact's card).
#[utoipa::path(post, path = "/api/v1/widget/page-views", tag = "widget", security(("bearer" = [])), params(VisitorParams), request_body = PageViewRequest, responses(
    (status = 204, description = "recorded"),
    (status = 401, body = crate::error::Problem),
    (status = 404, description = "not a visitor token, or not this token's inbox (S5)", body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
    (status = 429, description = "rate_limited, with Retry-After", body = crate::error::Problem),
))]
async fn page_view(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(params): Query<VisitorParams>,
    Body(request): Body<PageViewRequest>,
) -> ApiResult<StatusCode> {
    check_inbox(&caller, params.inbox)?;
    state
        .app
        .visitor_page_view(&caller, &request.url, request.title.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s8_behind_a_trusted_proxy_only_its_own_entry_counts() {
        let mut headers = axum::http::HeaderMap::new();
        assert_eq!(forwarded_for(&headers), None);
        headers.append("x-forwarded-for", "10.9.9.9, 203.0.113.5".parse().unwrap());
        assert_eq!(forwarded_for(&headers), "203.0.113.5".parse().ok());
        headers.append("x-forwarded-for", "198.51.100.7".parse().unwrap());
        assert_eq!(forwarded_for(&headers), "198.51.100.7".parse().ok());
        headers.append("x-forwarded-for", "1.2.3.4, garbage".parse().unwrap());
        assert_eq!(
            forwarded_for(&headers),
            None,
            "never an earlier, client-chosen entry"
        );
    }

    #[test]
    fn cors_finds_the_inbox_in_the_path_or_the_query() {
        let id = Uuid::from_u128(5);
        let uri: Uri = format!("/api/v1/widget/inboxes/{id}/challenge")
            .parse()
            .unwrap();
        assert_eq!(inbox_of(&uri), Some(InboxId::from_uuid(id)));
        let uri: Uri = format!("/api/v1/widget/messages?after=3&inbox={id}")
            .parse()
            .unwrap();
        assert_eq!(inbox_of(&uri), Some(InboxId::from_uuid(id)));
        let uri: Uri = "/api/v1/widget/messages?after=3".parse().unwrap();
        assert_eq!(inbox_of(&uri), None);
        let uri: Uri = format!("/api/v1/conversations?inbox={id}").parse().unwrap();
        assert_eq!(inbox_of(&uri), None, "only widget routes");
    }
}
