//! D8: automated messages of integrations (bot flows, broadcasts, the AI assistant) to a
//! conversation's contact, with an API token. While the contact has an active dialog, flow
//! messages and broadcasts are held and delivered in order once it is paused or completed; AI
//! messages are discarded (`inbox_app::Automated`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use conversation_core::dialog::AutomatedSource;
use conversation_core::ids::ConversationId;
use inbox_app::{Automated, AutomatedMessage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::extract::{Auth, Body};
use crate::state::AppState;
use crate::views::MessageView;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(send_automated))
}

/// Where an automated message comes from.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A bot flow.
    Flow,
    /// A broadcast.
    Broadcast,
    /// The AI assistant.
    Ai,
}

impl From<Source> for AutomatedSource {
    fn from(source: Source) -> Self {
        match source {
            Source::Flow => Self::Flow,
            Source::Broadcast => Self::Broadcast,
            Source::Ai => Self::Ai,
        }
    }
}

/// An automated message to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomatedRequest {
    /// `flow`, `broadcast` or `ai`.
    pub source: Source,
    /// The text (M2: at most the inbox's limit).
    pub body: String,
    /// M8: your id of this message; a retry with the same id answers what the first did.
    pub client_id: Option<String>,
}

/// What became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AutomatedView {
    /// `sent` (201), `held` (202: waits for the contact's active dialog to end; `released`
    /// once it went out) or `discarded` (200: an AI message while a dialog is active; never
    /// delivered).
    pub outcome: String,
    /// The message's id: stored when sent; the id it gets (or got) when a held one is released;
    /// for a discarded one, the id its `automated_message_discarded` event carries.
    pub message: Uuid,
    /// The message, when sent.
    pub sent: Option<MessageView>,
    /// The active dialog it was held or discarded for.
    pub dialog: Option<Uuid>,
    /// For a held message: whether it went out already.
    pub released: bool,
}

/// D8: sends a bot flow's, a broadcast's or the AI assistant's message to the conversation's
/// contact (API tokens only).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/automated-messages", tag = "messages", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = AutomatedRequest, responses(
    (status = 201, description = "sent", body = AutomatedView),
    (status = 202, description = "held until the contact's active dialog is paused or completed", body = AutomatedView),
    (status = 200, description = "discarded (an AI message while a dialog is active)", body = AutomatedView),
    (status = 403, description = "forbidden: agents cannot send automated messages", body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 422, description = "message_too_long, ...", body = crate::error::Problem),
))]
async fn send_automated(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<AutomatedRequest>,
) -> ApiResult<(StatusCode, Json<AutomatedView>)> {
    let result = state
        .app
        .send_automated(
            &caller,
            ConversationId::from_uuid(id),
            AutomatedMessage {
                source: request.source.into(),
                body: request.body,
                client_id: request.client_id,
            },
        )
        .await?;
    Ok(match result {
        Automated::Sent(message) => (
            StatusCode::CREATED,
            Json(AutomatedView {
                outcome: "sent".into(),
                message: message.id.as_uuid(),
                sent: Some((&*message).into()),
                dialog: None,
                released: false,
            }),
        ),
        Automated::Held(held) => (
            StatusCode::ACCEPTED,
            Json(AutomatedView {
                outcome: "held".into(),
                message: held.id.as_uuid(),
                sent: None,
                dialog: Some(held.dialog.as_uuid()),
                released: held.released_at.is_some(),
            }),
        ),
        Automated::Discarded { message, dialog } => (
            StatusCode::OK,
            Json(AutomatedView {
                outcome: "discarded".into(),
                message: message.as_uuid(),
                sent: None,
                dialog: Some(dialog.as_uuid()),
                released: false,
            }),
        ),
    })
}
