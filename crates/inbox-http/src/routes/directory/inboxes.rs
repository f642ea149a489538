//! Inboxes: channel kind (H1), queue and settings (C4, M2, R10, C2, R11, C8, M7, D13, W7); deleting
//! one interrupts its live conversations and marks it deleted (C7).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use conversation_core::DomainError;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::{
    DEFAULT_CONTINUITY_AFTER_SECS, EmailContinuity, Inbox, ReplyWindowSetting, SatisfactionForm,
};
use conversation_core::ids::{InboxId, QueueId};
use inbox_app::directory::{InboxChanges, InboxSettingsChanges, NewInbox};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Deleted, json_of, mirror, name_of, nullable};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
}

mirror! {
    /// H1: the kind of channel an inbox is connected to.
    ChannelBody => ChannelKind {
        /// The website chat widget.
        WebChat,
        /// An email address.
        Email,
        /// Facebook Messenger.
        Messenger,
        /// Instagram direct messages.
        Instagram,
        /// WhatsApp.
        Whatsapp,
        /// Twitter/X direct messages.
        Twitter,
        /// A Telegram bot.
        Telegram,
        /// A generic API channel.
        Api,
    }
}

/// C4: which reply window an inbox uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplyWindowKind {
    /// The channel kind's default (WhatsApp 24 h, Messenger 7 days, ...).
    ChannelDefault,
    /// No window: replies are always allowed.
    Unlimited,
    /// A custom window of `seconds`.
    Custom,
}

/// C4: an inbox's reply window, as the inbox's settings show it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyWindowBody {
    /// `channel_default`, `unlimited` or `custom`.
    #[serde(rename = "type")]
    pub kind: ReplyWindowKind,
    /// For `custom`: the window in seconds.
    pub seconds: Option<i64>,
}

impl ReplyWindowBody {
    fn setting(&self) -> ApiResult<ReplyWindowSetting> {
        Ok(match (self.kind, self.seconds) {
            (ReplyWindowKind::ChannelDefault, None) => ReplyWindowSetting::ChannelDefault,
            (ReplyWindowKind::Unlimited, None) => ReplyWindowSetting::Unlimited,
            (ReplyWindowKind::Custom, Some(secs)) => ReplyWindowSetting::Custom(secs),
            (ReplyWindowKind::Custom, None) => {
                return Err(DomainError::MissingField {
                    field: "reply_window.seconds",
                }
                .into());
            }
            (_, Some(_)) => {
                return Err(DomainError::InvalidValue {
                    field: "reply_window.seconds",
                    reason: "only a custom window has seconds",
                }
                .into());
            }
        })
    }
}

/// D13: the satisfaction form's texts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SatisfactionFormBody {
    /// The question.
    pub text: String,
    /// Exactly three labels, for the buttons worth 1, 2 and 3.
    pub labels: Vec<String>,
    /// The answer to the contact's click.
    pub thank_you: String,
}

/// W7: a web chat inbox's email continuity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailContinuityBody {
    /// An email inbox of the same account: its SMTP connection sends the replies the visitor
    /// has not seen, its inbound address receives their answer.
    pub inbox: Uuid,
    /// How long after an agent's reply a visitor not seen since counts as gone, in seconds
    /// (1 to 86400, default 120).
    pub after_secs: Option<u32>,
}

/// Inbox settings to change; absent fields are kept.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxSettingsRequest {
    /// C4: the reply window.
    pub reply_window: Option<ReplyWindowBody>,
    /// M2: the longest agent text, in characters (default 1000).
    pub text_limit: Option<usize>,
    /// R10: ending a live chat needs a wrap-up reason.
    pub wrap_up_mandatory: Option<bool>,
    /// C2: every new conversation starts in a bot flow.
    pub starts_in_bot: Option<bool>,
    /// R11: agents who go offline keep their conversations.
    pub keep_assignments_when_offline: Option<bool>,
    /// R11: the grace period of offline agents, in seconds (default 120).
    pub offline_grace_secs: Option<u32>,
    /// C8: the reply-time target, in seconds; `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    pub reply_time_target_secs: Option<Option<u32>>,
    /// M7: the largest attachment, in bytes (default 20 MB).
    pub attachment_max_bytes: Option<u64>,
    /// D13: the satisfaction form's texts.
    pub satisfaction_form: Option<SatisfactionFormBody>,
    /// W7 (web chat inboxes only): email continuity through an email inbox; `null` turns it
    /// off.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<EmailContinuityBody>)]
    pub email_continuity: Option<Option<EmailContinuityBody>>,
}

impl InboxSettingsRequest {
    fn changes(self) -> ApiResult<InboxSettingsChanges> {
        let satisfaction_form = match self.satisfaction_form {
            None => None,
            Some(form) => {
                let labels: [String; 3] = form.labels.try_into().map_err(|_| {
                    ApiError::from(DomainError::InvalidValue {
                        field: "satisfaction_form.labels",
                        reason: "exactly three labels: Bad, Normal, Excellent (D13)",
                    })
                })?;
                Some(SatisfactionForm {
                    text: form.text,
                    labels,
                    thank_you: form.thank_you,
                })
            }
        };
        Ok(InboxSettingsChanges {
            reply_window: self
                .reply_window
                .as_ref()
                .map(ReplyWindowBody::setting)
                .transpose()?,
            text_limit: self.text_limit,
            wrap_up_mandatory: self.wrap_up_mandatory,
            starts_in_bot: self.starts_in_bot,
            keep_assignments_when_offline: self.keep_assignments_when_offline,
            offline_grace_secs: self.offline_grace_secs,
            reply_time_target_secs: self.reply_time_target_secs,
            attachment_max_bytes: self.attachment_max_bytes,
            satisfaction_form,
            email_continuity: self.email_continuity.map(|continuity| {
                continuity.map(|body| EmailContinuity {
                    inbox: InboxId::from_uuid(body.inbox),
                    after_secs: body.after_secs.unwrap_or(DEFAULT_CONTINUITY_AFTER_SECS),
                })
            }),
        })
    }
}

/// An inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxView {
    /// Its id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// H1: `web_chat`, `email`, `messenger`, `instagram`, `whatsapp`, `twitter`, `telegram`,
    /// `api`.
    pub channel: String,
    /// The queue its conversations enter.
    pub queue: Option<Uuid>,
    /// C4: the reply window in force, in seconds; absent when replies are always allowed.
    pub reply_window_secs: Option<i64>,
    /// Its settings: `reply_window`, `text_limit`, `wrap_up_mandatory`, `starts_in_bot`,
    /// `keep_assignments_when_offline`, `offline_grace_secs`, `reply_time_target_secs`,
    /// `attachment_max_bytes`, `satisfaction_form`, `widget` (its `email_continuity`, W7).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
}

impl From<&Inbox> for InboxView {
    fn from(i: &Inbox) -> Self {
        Self {
            id: i.id.as_uuid(),
            name: i.name.clone(),
            channel: name_of(&i.channel),
            queue: i.queue.map(|q| q.as_uuid()),
            reply_window_secs: i.reply_window().map(|w| w.num_seconds()),
            settings: redacted_settings(i),
        }
    }
}

/// The settings as agents see them: the widget's identity secret (W5) is never returned, only
/// whether one is set.
fn redacted_settings(inbox: &Inbox) -> serde_json::Value {
    let mut settings = json_of(&inbox.settings);
    if let Some(widget) = settings
        .get_mut("widget")
        .and_then(serde_json::Value::as_object_mut)
    {
        let has_secret = widget
            .remove("secret")
            .is_some_and(|secret| !secret.is_null());
        widget.insert("has_secret".into(), serde_json::Value::Bool(has_secret));
    }
    settings
}

/// A new inbox.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInboxRequest {
    /// Display name.
    pub name: String,
    /// H1: the channel kind.
    pub channel: ChannelBody,
    /// The queue its conversations enter.
    pub queue: Option<Uuid>,
    /// Settings that differ from the defaults.
    pub settings: Option<InboxSettingsRequest>,
}

/// Changes to an inbox; absent fields are kept. The channel kind never changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInboxRequest {
    /// Display name.
    pub name: Option<String>,
    /// The queue its conversations enter; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub queue: Option<Option<Uuid>>,
    /// Settings to change.
    pub settings: Option<InboxSettingsRequest>,
}

/// The account's inboxes, by name.
#[utoipa::path(get, path = "/api/v1/inboxes", tag = "inboxes", security(("bearer" = [])), responses(
    (status = 200, body = Vec<InboxView>),
))]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Vec<InboxView>>> {
    let inboxes = state.app.inboxes(&caller).await?;
    Ok(Json(inboxes.iter().map(InboxView::from).collect()))
}

/// H1: creates an inbox (owners and admins).
#[utoipa::path(post, path = "/api/v1/inboxes", tag = "inboxes", security(("bearer" = [])), request_body = CreateInboxRequest, responses(
    (status = 201, body = InboxView),
    (status = 400, body = crate::error::Problem),
    (status = 403, body = crate::error::Problem),
    (status = 404, description = "the queue is not one of the account", body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(request): Body<CreateInboxRequest>,
) -> ApiResult<(StatusCode, Json<InboxView>)> {
    let inbox = state
        .app
        .create_inbox(
            &caller,
            NewInbox {
                name: request.name,
                channel: request.channel.into(),
                queue: request.queue.map(QueueId::from_uuid),
                settings: request.settings.unwrap_or_default().changes()?,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json((&inbox).into())))
}

/// One inbox.
#[utoipa::path(get, path = "/api/v1/inboxes/{id}", tag = "inboxes", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = InboxView),
    (status = 404, body = crate::error::Problem),
))]
async fn get_one(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<InboxView>> {
    let inbox = state.app.inbox(&caller, InboxId::from_uuid(id)).await?;
    Ok(Json((&inbox).into()))
}

/// Changes an inbox's name, queue or settings (owners and admins).
#[utoipa::path(patch, path = "/api/v1/inboxes/{id}", tag = "inboxes", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateInboxRequest, responses(
    (status = 200, body = InboxView),
    (status = 400, body = crate::error::Problem),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<UpdateInboxRequest>,
) -> ApiResult<Json<InboxView>> {
    let inbox = state
        .app
        .update_inbox(
            &caller,
            InboxId::from_uuid(id),
            InboxChanges {
                name: request.name,
                queue: request.queue.map(|q| q.map(QueueId::from_uuid)),
                settings: request.settings.unwrap_or_default().changes()?,
            },
        )
        .await?;
    Ok(Json((&inbox).into()))
}

/// C7: deletes an inbox (owners and admins): its live conversations are interrupted, the inbox
/// is marked deleted, nothing stored is deleted.
#[utoipa::path(delete, path = "/api/v1/inboxes/{id}", tag = "inboxes", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = Deleted),
    (status = 403, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
))]
async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Deleted>> {
    let interrupted = state
        .app
        .delete_inbox(&caller, InboxId::from_uuid(id))
        .await?;
    Ok(Json(Deleted { interrupted }))
}
