//! Contacts: the card (K1), edits (K1, K3), merge (K2) and the contact's conversations.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use conversation_core::entities::Contact;
use conversation_core::ids::{AgentId, ContactId};
use inbox_app::directory::ContactChanges;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::nullable;
use crate::error::ApiResult;
use crate::extract::{Auth, Body};
use crate::state::AppState;
use crate::views::ConversationView;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_one, update))
        .routes(routes!(merge))
        .routes(routes!(conversations))
}

/// K2: how a contact is known on one inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityView {
    /// The inbox.
    pub inbox: Uuid,
    /// The channel's id of the contact (phone number, email address, visitor id).
    pub external_id: String,
}

/// K1: a contact's card.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    /// Its id.
    pub id: Uuid,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Notes visible to all agents.
    pub notes: String,
    /// Custom attributes and external customer data.
    pub attributes: BTreeMap<String, String>,
    /// K3: the account manager.
    pub responsible_agent: Option<Uuid>,
    /// K2: the inboxes where the contact is known.
    pub identities: Vec<IdentityView>,
    /// K2: set when this contact was merged into another.
    pub merged_into: Option<Uuid>,
    /// When the contact was first seen.
    pub created_at: DateTime<Utc>,
    /// M6: when the contact was last seen (widget activity, a read, a message), to within
    /// half a minute.
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl From<&Contact> for ContactView {
    fn from(c: &Contact) -> Self {
        Self {
            id: c.id.as_uuid(),
            name: c.name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            location: c.location.clone(),
            notes: c.notes.clone(),
            attributes: c.attributes.clone(),
            responsible_agent: c.responsible_agent.map(|a| a.as_uuid()),
            identities: c
                .identities
                .iter()
                .map(|i| IdentityView {
                    inbox: i.inbox.as_uuid(),
                    external_id: i.external_id.clone(),
                })
                .collect(),
            merged_into: c.merged_into.map(|m| m.as_uuid()),
            created_at: c.created_at,
            last_seen_at: None,
        }
    }
}

/// The card of a contact the caller was allowed to read, with its last-seen time (M6).
async fn card(state: &AppState, contact: &Contact) -> ApiResult<ContactView> {
    let mut view = ContactView::from(contact);
    view.last_seen_at = state.app.contact_last_seen(contact).await?;
    Ok(view)
}

/// Changes to a contact; absent fields are kept, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContactRequest {
    /// Name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Email.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Phone.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Location.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub location: Option<Option<String>>,
    /// Notes visible to all agents (the whole new text).
    pub notes: Option<String>,
    /// Attributes to set; an attribute given `null` is removed, the others are kept.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<BTreeMap<String, Option<String>>>,
    /// K3: the account manager; `null` removes them.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub responsible_agent: Option<Option<Uuid>>,
}

/// K2: the contact to merge into the one in the path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The contact that is merged (it keeps its history, with `merged_into` set).
    pub contact: Uuid,
}

/// K1: a contact's card.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ContactView),
    (status = 404, body = crate::error::Problem),
))]
async fn get_one(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ContactView>> {
    let contact = state.app.contact(&caller, ContactId::from_uuid(id)).await?;
    Ok(Json(card(&state, &contact).await?))
}

/// K1, K3: edits a contact: name, email, phone, location, notes, attributes, responsible agent.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateContactRequest, responses(
    (status = 200, body = ContactView),
    (status = 400, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<UpdateContactRequest>,
) -> ApiResult<Json<ContactView>> {
    let contact = state
        .app
        .update_contact(
            &caller,
            ContactId::from_uuid(id),
            ContactChanges {
                name: request.name,
                email: request.email,
                phone: request.phone,
                location: request.location,
                notes: request.notes,
                attributes: request.attributes,
                responsible_agent: request.responsible_agent.map(|a| a.map(AgentId::from_uuid)),
            },
        )
        .await?;
    Ok(Json(card(&state, &contact).await?))
}

/// K2: merges another contact into this one (owners, admins, full access): its identities move
/// here, its history stays and is listed with this contact's.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "contacts", security(("bearer" = [])), params(("id" = Uuid, Path, description = "the contact that stays")), request_body = MergeRequest, responses(
    (status = 200, body = ContactView),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn merge(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<MergeRequest>,
) -> ApiResult<Json<ContactView>> {
    let contact = state
        .app
        .merge_contacts(
            &caller,
            ContactId::from_uuid(id),
            ContactId::from_uuid(request.contact),
        )
        .await?;
    Ok(Json(card(&state, &contact).await?))
}

/// K1: the contact's conversations (and those of contacts merged into it) that the caller may
/// see, newest activity first.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/conversations", tag = "contacts", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = Vec<ConversationView>),
    (status = 404, body = crate::error::Problem),
))]
async fn conversations(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<ConversationView>>> {
    let list = state
        .app
        .contact_conversations(&caller, ContactId::from_uuid(id))
        .await?;
    Ok(Json(list.iter().map(ConversationView::from).collect()))
}
