//! Dialogs (spec section D): create one in a conversation and list the contact's dialogs with
//! the active one, read one dialog and its messages (D7), change it (D9, D10), pause, resume and
//! complete it (D4, D12, D13), and the contact's click on the satisfaction form, under
//! `/api/v1/widget/dialogs/{id}/satisfaction` (D13, S5). What the caller may not see answers
//! 404 (A1, S1).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use conversation_core::dialog::{Dialog, DialogStatus, Satisfaction, Stars};
use conversation_core::ids::{
    AgentId, ComponentId, ConversationId, DialogId, ReasonId, RequestTypeId,
};
use conversation_core::ports::Versioned;
use inbox_app::{Completion, ContactDialogList, DialogChanges, NewDialog};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::extract::{Auth, Body};
use crate::routes::conversations::AfterParams;
use crate::state::AppState;
use crate::views::MessageView;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(messages))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(complete))
        .routes(routes!(satisfaction))
}

fn ids<T: Ord>(uuids: Option<Vec<Uuid>>, make: fn(Uuid) -> T) -> BTreeSet<T> {
    uuids.unwrap_or_default().into_iter().map(make).collect()
}

/// A dialog (D14: both ratings show on it).
#[derive(Debug, Serialize, ToSchema)]
pub struct DialogView {
    /// Its id.
    pub id: Uuid,
    /// The conversation it is handled in.
    pub conversation: Uuid,
    /// The contact.
    pub contact: Uuid,
    /// D1: the title.
    pub title: String,
    /// D1, D10: the request type (an entry of the account's list, possibly archived since).
    pub request_type: Uuid,
    /// D1: the participating agents.
    pub participants: Vec<Uuid>,
    /// D1, D10: the reasons.
    pub reasons: Vec<Uuid>,
    /// D1, D10: the components.
    pub components: Vec<Uuid>,
    /// D4: `active`, `paused` or `completed`.
    pub status: String,
    /// D4: since when it is paused.
    pub paused_since: Option<DateTime<Utc>>,
    /// D4: when it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// D12, D14: the agent's rating of the contact, 1 to 3 stars.
    pub contact_rating: Option<u8>,
    /// D13: when the satisfaction form was sent.
    pub satisfaction_form_sent_at: Option<DateTime<Utc>>,
    /// D13, D14: the contact's rating of the service: 1 (bad), 2 (normal), 3 (excellent).
    pub satisfaction: Option<u8>,
    /// D13: when the contact answered.
    pub satisfaction_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Who created it: `{"type": "agent", "id": ...}`.
    #[schema(value_type = Object)]
    pub created_by: serde_json::Value,
    /// Its version (changes at every change); absent in lists.
    pub version: Option<u64>,
}

impl DialogView {
    fn of(d: &Dialog, version: Option<u64>) -> Self {
        let (paused_since, completed_at) = match &d.status {
            DialogStatus::Active => (None, None),
            DialogStatus::Paused { since } => (Some(*since), None),
            DialogStatus::Completed { at, .. } => (None, Some(*at)),
        };
        let form = d.satisfaction_form();
        Self {
            id: d.id.as_uuid(),
            conversation: d.conversation.as_uuid(),
            contact: d.contact.as_uuid(),
            title: d.title.to_string(),
            request_type: d.request_type.as_uuid(),
            participants: d.participants.iter().map(AgentId::as_uuid).collect(),
            reasons: d.reasons.iter().map(ReasonId::as_uuid).collect(),
            components: d.components.iter().map(ComponentId::as_uuid).collect(),
            status: d.status.kind().as_str().to_owned(),
            paused_since,
            completed_at,
            contact_rating: d.contact_rating().map(Stars::get),
            satisfaction_form_sent_at: form.map(|f| f.sent_at),
            satisfaction: d.satisfaction().map(Satisfaction::value),
            satisfaction_at: form.and_then(|f| f.answer).map(|a| a.at),
            created_at: d.created_at,
            created_by: serde_json::to_value(d.created_by).unwrap_or(serde_json::Value::Null),
            version,
        }
    }
}

impl From<&Versioned<Dialog>> for DialogView {
    fn from(stored: &Versioned<Dialog>) -> Self {
        Self::of(&stored.value, Some(stored.version))
    }
}

/// The contact's dialogs, across their conversations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactDialogsView {
    /// D3: the contact's active dialog (the "active" tab), if any.
    pub active: Option<DialogView>,
    /// Every dialog of the contact the caller may see, newest first.
    pub dialogs: Vec<DialogView>,
}

impl From<&ContactDialogList> for ContactDialogsView {
    fn from(list: &ContactDialogList) -> Self {
        Self {
            active: list.active.as_ref().map(|d| DialogView::of(d, None)),
            dialogs: list
                .dialogs
                .iter()
                .map(|d| DialogView::of(d, None))
                .collect(),
        }
    }
}

/// D1: a dialog to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDialogRequest {
    /// The title (required, at most 200 characters).
    pub title: String,
    /// The request type (required): a current entry of the account's request types.
    pub request_type: Uuid,
    /// Other participating agents; you are added anyway. Each gets a task (D11).
    pub participants: Option<Vec<Uuid>>,
    /// Reasons (optional): current entries of the account's reasons.
    pub reasons: Option<Vec<Uuid>>,
    /// Components (optional): current entries of the account's components.
    pub components: Option<Vec<Uuid>>,
}

/// The contact of a conversation: their dialogs across all their conversations, and the
/// active one (D3).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/dialogs", tag = "dialogs", security(("bearer" = [])), params(("id" = Uuid, Path, description = "a conversation of the contact")), responses(
    (status = 200, body = ContactDialogsView),
    (status = 404, body = crate::error::Problem),
))]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ContactDialogsView>> {
    let list = state
        .app
        .dialogs_of_contact(&caller, ConversationId::from_uuid(id))
        .await?;
    Ok(Json((&list).into()))
}

/// D1-D3, D11: creates a dialog in a conversation; it is active. A contact has at most one
/// active dialog (`dialog_already_active`).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/dialogs", tag = "dialogs", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CreateDialogRequest, responses(
    (status = 201, body = DialogView),
    (status = 404, body = crate::error::Problem),
    (status = 409, description = "dialog_already_active", body = crate::error::Problem),
    (status = 422, description = "missing_field, invalid_value (an archived setting)", body = crate::error::Problem),
))]
async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<CreateDialogRequest>,
) -> ApiResult<(StatusCode, Json<DialogView>)> {
    let dialog = state
        .app
        .create_dialog(
            &caller,
            ConversationId::from_uuid(id),
            NewDialog {
                title: request.title,
                request_type: RequestTypeId::from_uuid(request.request_type),
                participants: ids(request.participants, AgentId::from_uuid),
                reasons: ids(request.reasons, ReasonId::from_uuid),
                components: ids(request.components, ComponentId::from_uuid),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json((&dialog).into())))
}

/// One dialog, with both ratings (D14).
#[utoipa::path(get, path = "/api/v1/dialogs/{id}", tag = "dialogs", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = DialogView),
    (status = 404, body = crate::error::Problem),
))]
async fn get_one(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<DialogView>> {
    let dialog = state.app.dialog(&caller, DialogId::from_uuid(id)).await?;
    Ok(Json((&dialog).into()))
}

/// D9: what to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDialogRequest {
    /// A new title.
    pub title: Option<String>,
    /// A new request type (a current entry of the list).
    pub request_type: Option<Uuid>,
    /// Agents to add; each gets a task (D11).
    pub add_participants: Option<Vec<Uuid>>,
    /// Agents to remove (the last participant stays).
    pub remove_participants: Option<Vec<Uuid>>,
    /// The whole new set of reasons (`[]` clears them). Archived ones the dialog holds are
    /// kept (D10).
    pub reasons: Option<Vec<Uuid>>,
    /// The whole new set of components (`[]` clears them). Archived ones the dialog holds are
    /// kept (D10).
    pub components: Option<Vec<Uuid>>,
}

/// D9, D10: changes the title, request type, participants, reasons and components of a dialog
/// that is not completed; each change is recorded as an event.
#[utoipa::path(patch, path = "/api/v1/dialogs/{id}", tag = "dialogs", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateDialogRequest, responses(
    (status = 200, body = DialogView),
    (status = 404, body = crate::error::Problem),
    (status = 409, description = "dialog_completed", body = crate::error::Problem),
    (status = 422, description = "missing_field, invalid_value", body = crate::error::Problem),
))]
async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<UpdateDialogRequest>,
) -> ApiResult<Json<DialogView>> {
    let changes = DialogChanges {
        title: request.title,
        request_type: request.request_type.map(RequestTypeId::from_uuid),
        add_participants: ids(request.add_participants, AgentId::from_uuid),
        remove_participants: ids(request.remove_participants, AgentId::from_uuid),
        reasons: request.reasons.map(|r| ids(Some(r), ReasonId::from_uuid)),
        components: request
            .components
            .map(|c| ids(Some(c), ComponentId::from_uuid)),
    };
    let dialog = state
        .app
        .update_dialog(&caller, DialogId::from_uuid(id), changes)
        .await?;
    Ok(Json((&dialog).into()))
}

/// D7: the messages sent and received within the dialog, in sequence order.
#[utoipa::path(get, path = "/api/v1/dialogs/{id}/messages", tag = "dialogs", security(("bearer" = [])), params(("id" = Uuid, Path), AfterParams), responses(
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
        .dialog_messages(
            &caller,
            DialogId::from_uuid(id),
            params.after.unwrap_or(0),
            params.limit.unwrap_or(50),
        )
        .await?;
    Ok(Json(messages.iter().map(MessageView::from).collect()))
}

/// D4, D6: pauses an active dialog; the general chat opens again.
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/pause", tag = "dialogs", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = DialogView),
    (status = 404, body = crate::error::Problem),
    (status = 409, description = "invalid_transition, dialog_completed", body = crate::error::Problem),
))]
async fn pause(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<DialogView>> {
    let dialog = state
        .app
        .pause_dialog(&caller, DialogId::from_uuid(id))
        .await?;
    Ok(Json((&dialog).into()))
}

/// D3, D4: resumes a paused dialog, unless the contact has another active dialog.
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/resume", tag = "dialogs", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = DialogView),
    (status = 404, body = crate::error::Problem),
    (status = 409, description = "dialog_already_active, invalid_transition, dialog_completed", body = crate::error::Problem),
))]
async fn resume(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<DialogView>> {
    let dialog = state
        .app
        .resume_dialog(&caller, DialogId::from_uuid(id))
        .await?;
    Ok(Json((&dialog).into()))
}

/// D12, D13: how to complete a dialog.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteDialogRequest {
    /// D12: your rating of the contact, 1 to 3 stars.
    pub contact_rating: Option<u8>,
    /// D13: send the inbox's satisfaction form to the contact (default false).
    pub send_satisfaction_form: Option<bool>,
}

/// D4, D12, D13: completes a dialog (final), with your rating of the contact and, when asked,
/// the satisfaction form sent to the contact as one `csat_request` message.
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/complete", tag = "dialogs", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CompleteDialogRequest, responses(
    (status = 200, body = DialogView),
    (status = 404, body = crate::error::Problem),
    (status = 409, description = "dialog_completed", body = crate::error::Problem),
    (status = 422, description = "invalid_value (a rating outside 1-3)", body = crate::error::Problem),
))]
async fn complete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<CompleteDialogRequest>,
) -> ApiResult<Json<DialogView>> {
    let completion = Completion {
        contact_rating: request.contact_rating.map(Stars::new).transpose()?,
        send_satisfaction_form: request.send_satisfaction_form.unwrap_or(false),
    };
    let dialog = state
        .app
        .complete_dialog(&caller, DialogId::from_uuid(id), completion)
        .await?;
    Ok(Json((&dialog).into()))
}

/// D13: the button the contact clicked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SatisfactionRequest {
    /// 1 (bad), 2 (normal) or 3 (excellent).
    pub value: u8,
}

/// D13: what the click did.
#[derive(Debug, Serialize, ToSchema)]
pub struct SatisfactionView {
    /// Whether this click was recorded: only the first one counts.
    pub recorded: bool,
    /// The rating the dialog holds (the first click's).
    pub satisfaction: Option<u8>,
    /// The thank-you message the contact is answered with.
    pub thank_you: String,
}

/// D13: the contact answers the satisfaction form of their dialog (visitor token). The first
/// click is recorded; every click is answered with the thank-you message.
#[utoipa::path(post, path = "/api/v1/widget/dialogs/{id}/satisfaction", tag = "widget", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = SatisfactionRequest, responses(
    (status = 200, body = SatisfactionView),
    (status = 404, description = "not a dialog of this visitor (S5)", body = crate::error::Problem),
    (status = 409, description = "invalid_transition: no form was sent", body = crate::error::Problem),
    (status = 422, description = "invalid_value: not 1, 2 or 3", body = crate::error::Problem),
))]
async fn satisfaction(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<SatisfactionRequest>,
) -> ApiResult<Json<SatisfactionView>> {
    let value = Satisfaction::from_value(request.value)?;
    let answered = state
        .app
        .answer_satisfaction(&caller, DialogId::from_uuid(id), value)
        .await?;
    Ok(Json(SatisfactionView {
        recorded: answered.recorded,
        satisfaction: answered.dialog.satisfaction().map(Satisfaction::value),
        thank_you: answered.thank_you,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_openapi_document_lists_every_dialog_route_next_to_the_conversation_actions() {
        let (_router, doc) = crate::api();
        for (path, methods) in [
            ("/api/v1/conversations/{id}/dialogs", 2),
            ("/api/v1/dialogs/{id}", 2),
            ("/api/v1/dialogs/{id}/messages", 1),
            ("/api/v1/dialogs/{id}/pause", 1),
            ("/api/v1/dialogs/{id}/resume", 1),
            ("/api/v1/dialogs/{id}/complete", 1),
            ("/api/v1/widget/dialogs/{id}/satisfaction", 1),
        ] {
            let item = doc
                .paths
                .paths
                .get(path)
                .unwrap_or_else(|| panic!("{path}"));
            let count = [&item.get, &item.post, &item.patch]
                .iter()
                .filter(|operation| operation.is_some())
                .count();
            assert_eq!(count, methods, "{path}");
        }
    }
}
