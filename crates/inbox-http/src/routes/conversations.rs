//! Conversations: the C9 lists, one conversation, its messages and timeline, and every action
//! (C4-C7, C11, R5-R10). What the caller may not see answers 404 (A1, A2, S1).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use base64::Engine as _;
use conversation_core::ids::{
    AgentId, ConversationId, DialogId, MessageId, QueueId, WrapUpReasonId,
};
use conversation_core::ports::{ListCursor, ListFilter};
use inbox_app::{Action, Outgoing, SendMessage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use crate::state::AppState;
use crate::views::{ConversationView, EventView, MessageView};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(messages, send))
        .routes(routes!(delete_message))
        .routes(routes!(timeline))
        .routes(routes!(act))
}

/// Which list and where to start.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// C9: `mine`, `unassigned`, `queue`, `awaiting_reply`, `all` (default) or `resolved`.
    pub filter: Option<String>,
    /// Only this inbox.
    pub inbox: Option<Uuid>,
    /// The `next` cursor of the previous page.
    pub cursor: Option<String>,
    /// Rows per page, 1 to 100 (default 25).
    pub limit: Option<u32>,
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageView {
    /// The rows, newest activity first (`awaiting_reply`: longest waiting first).
    pub rows: Vec<ConversationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next: Option<String>,
    /// How many rows the whole list has.
    pub total: u64,
}

fn parse_filter(filter: Option<&str>) -> ApiResult<ListFilter> {
    let filter = filter.unwrap_or("all");
    serde_json::from_value(serde_json::Value::String(filter.to_owned())).map_err(|_| {
        ApiError::bad_request(format!("unknown filter {filter:?}: use mine, unassigned, queue, awaiting_reply, all or resolved"))
    })
}

fn encode_cursor(cursor: &ListCursor) -> String {
    let text = format!("{}:{}", cursor.key.timestamp_micros(), cursor.id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode_cursor(text: &str) -> ApiResult<ListCursor> {
    let bad = || {
        ApiError::bad_request("the cursor is not one this server returned; start again without it")
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (key, id) = text.split_once(':').ok_or_else(bad)?;
    let key =
        chrono::DateTime::from_timestamp_micros(key.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok(ListCursor {
        key,
        id: id.parse().map_err(|_| bad())?,
    })
}

/// C9: a list of conversations, keyset-paginated, with its total.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])), params(ListParams), responses(
    (status = 200, body = PageView),
    (status = 400, body = crate::error::Problem),
))]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<PageView>> {
    let filter = parse_filter(params.filter.as_deref())?;
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let page = state
        .app
        .list_conversations(
            &caller,
            filter,
            params.inbox.map(conversation_core::ids::InboxId::from_uuid),
            after,
            params.limit.unwrap_or(25),
        )
        .await?;
    Ok(Json(PageView {
        rows: page
            .rows
            .iter()
            .map(|row| {
                ConversationView::from(&conversation_core::ports::Versioned {
                    value: row.conversation.clone(),
                    version: 0,
                })
            })
            .collect(),
        next: page.next.as_ref().map(encode_cursor),
        total: page.total,
    }))
}

/// One conversation.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ConversationView),
    (status = 404, body = crate::error::Problem),
))]
async fn get_one(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(
        (&state
            .app
            .conversation(&caller, ConversationId::from_uuid(id))
            .await?)
            .into(),
    ))
}

/// Where to start reading.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AfterParams {
    /// Only items with a sequence above this one (default 0: from the start).
    pub after: Option<u64>,
    /// At most this many (default 50).
    pub limit: Option<u32>,
}

/// M9: messages of a conversation in sequence order.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "messages", security(("bearer" = [])), params(("id" = Uuid, Path), AfterParams), responses(
    (status = 200, body = Vec<MessageView>),
    (status = 404, body = crate::error::Problem),
))]
async fn messages(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Query(params): Query<AfterParams>,
) -> ApiResult<Json<Vec<MessageView>>> {
    let messages = state
        .app
        .messages(
            &caller,
            ConversationId::from_uuid(id),
            params.after.unwrap_or(0),
            params.limit.unwrap_or(50),
        )
        .await?;
    Ok(Json(messages.iter().map(MessageView::from).collect()))
}

/// What kind of message an agent sends.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutgoingKind {
    /// A free-form reply (C4: inside the reply window).
    Text,
    /// An approved template (C4: also outside the window where the channel has templates).
    Template,
    /// A private note (M10: never reaches the contact).
    Note,
}

impl From<OutgoingKind> for Outgoing {
    fn from(kind: OutgoingKind) -> Self {
        match kind {
            OutgoingKind::Text => Self::Text,
            OutgoingKind::Template => Self::Template,
            OutgoingKind::Note => Self::Note,
        }
    }
}

/// A message to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// `text` (default), `template` or `note` (private, M10).
    pub kind: Option<OutgoingKind>,
    /// The text (M2: at most the inbox's limit; `<` and `>` only in templates).
    pub body: String,
    /// M4: a message of this conversation to quote.
    pub quote: Option<Uuid>,
    /// D5: the dialog to write in.
    pub dialog: Option<Uuid>,
    /// M8: your id of this message; a retry with the same id is stored once.
    pub client_id: Option<String>,
}

/// Sends a reply, a template or a private note.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messages", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = SendRequest, responses(
    (status = 201, body = MessageView),
    (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem),
    (status = 422, description = "reply_window_closed, message_too_long, reserved_character, write_inside_active_dialog, ...", body = crate::error::Problem),
))]
async fn send(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<SendRequest>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let message = state
        .app
        .send_message(
            &caller,
            ConversationId::from_uuid(id),
            SendMessage {
                kind: request.kind.map_or(Outgoing::Text, Outgoing::from),
                body: request.body,
                quote: request.quote.map(MessageId::from_uuid),
                dialog: request.dialog.map(DialogId::from_uuid),
                client_id: request.client_id,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json((&message).into())))
}

/// M5: deletes a reply sent by mistake; a tombstone stays.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/messages/{message}", tag = "messages", security(("bearer" = [])), params(("id" = Uuid, Path), ("message" = Uuid, Path)), responses(
    (status = 200, body = MessageView),
    (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem),
))]
async fn delete_message(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, message)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<MessageView>> {
    let deleted = state
        .app
        .delete_message(
            &caller,
            ConversationId::from_uuid(id),
            MessageId::from_uuid(message),
        )
        .await?;
    Ok(Json((&deleted).into()))
}

/// C12: the conversation's timeline: every change with who did it and when.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/timeline", tag = "conversations", security(("bearer" = [])), params(("id" = Uuid, Path), AfterParams), responses(
    (status = 200, body = Vec<EventView>),
    (status = 404, body = crate::error::Problem),
))]
async fn timeline(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Query(params): Query<AfterParams>,
) -> ApiResult<Json<Vec<EventView>>> {
    let events = state
        .app
        .timeline(
            &caller,
            ConversationId::from_uuid(id),
            params.after.unwrap_or(0),
            params.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(events.iter().map(EventView::from).collect()))
}

/// An action and its inputs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// A wrap-up reason (R10): for `resolve` (when the inbox requires it), `transfer` and
    /// `leave_conference`.
    pub wrap_up: Option<Uuid>,
    /// `resolve`: a last message to send before closing ("send and close").
    pub message: Option<String>,
    /// `assign`, `transfer`, `invite`: the agent.
    pub agent: Option<Uuid>,
    /// `assign`, `transfer`: the queue; `hand_back`: the queue it waits in (default: its
    /// inbox's queue).
    pub queue: Option<Uuid>,
    /// `hand_to_bot`: the flow's name.
    pub flow: Option<String>,
}

/// The actions of `POST /api/v1/conversations/{id}/{action}`.
const ACTIONS: &str = "resolve, drop, reopen, assign, claim, accept_offer, decline_offer, transfer, invite, accept_conference, decline_conference, leave_conference, hand_to_bot, hand_back";

fn action(name: &str, request: ActionRequest) -> ApiResult<Action> {
    let wrap_up = request.wrap_up.map(WrapUpReasonId::from_uuid);
    let agent = request.agent.map(AgentId::from_uuid);
    let queue = request.queue.map(QueueId::from_uuid);
    let need = |field: &'static str| {
        ApiError::from(conversation_core::DomainError::MissingField { field })
    };
    Ok(match name {
        "resolve" => Action::Resolve {
            wrap_up,
            closing_text: request.message,
        },
        "drop" => Action::Drop,
        "reopen" => Action::Reopen,
        "assign" => match (agent, queue) {
            (Some(agent), None) => Action::AssignAgent { agent },
            (None, Some(queue)) => Action::AssignQueue { queue },
            _ => return Err(ApiError::bad_request("give either `agent` or `queue`")),
        },
        "claim" => Action::Claim,
        "accept_offer" => Action::AcceptOffer,
        "decline_offer" => Action::DeclineOffer,
        "transfer" => match (agent, queue) {
            (Some(agent), None) => Action::TransferToAgent { agent, wrap_up },
            (None, Some(queue)) => Action::TransferToQueue { queue, wrap_up },
            _ => return Err(ApiError::bad_request("give either `agent` or `queue`")),
        },
        "invite" => Action::InviteToConference {
            agent: agent.ok_or_else(|| need("agent"))?,
        },
        "accept_conference" => Action::AcceptConference,
        "decline_conference" => Action::DeclineConference,
        "leave_conference" => Action::LeaveConference { wrap_up },
        "hand_to_bot" => Action::HandToBot {
            flow: request.flow.ok_or_else(|| need("flow"))?,
        },
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no action {other:?}: use one of {ACTIONS}"),
            ));
        }
    })
}

/// Does an action: `resolve`, `drop`, `reopen`, `assign`, `claim`, `accept_offer`,
/// `decline_offer`, `transfer`, `invite`, `accept_conference`, `decline_conference`,
/// `leave_conference`, `hand_to_bot`; and `hand_back` (C11), which only the bot flow's
/// integration does, with its API token.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/{action}", tag = "conversations", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("action" = String, Path, description = "resolve, drop, reopen, assign, claim, accept_offer, decline_offer, transfer, invite, accept_conference, decline_conference, leave_conference, hand_to_bot, hand_back (API tokens only)")),
    request_body = ActionRequest, responses(
    (status = 200, body = ConversationView),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn act(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, name)): Path<(Uuid, String)>,
    Body(request): Body<ActionRequest>,
) -> ApiResult<Json<ConversationView>> {
    let id = ConversationId::from_uuid(id);
    if name == "hand_back" {
        if request.wrap_up.is_some()
            || request.message.is_some()
            || request.agent.is_some()
            || request.flow.is_some()
        {
            return Err(ApiError::bad_request("`hand_back` takes only `queue`"));
        }
        let queue = request.queue.map(QueueId::from_uuid);
        return Ok(Json(
            (&state.app.hand_back(&caller, id, queue).await?).into(),
        ));
    }
    let action = action(&name, request)?;
    Ok(Json((&state.app.act(&caller, id, action).await?).into()))
}
