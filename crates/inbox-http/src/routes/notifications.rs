//! Staff SMS notifications over HTTP (N4): the account's setting, whether a visitor's new chat
//! texts staff and which numbers (E.164). Owners and admins read and replace it; a plain agent
//! gets 403; each account sees only its own (A1).

use axum::Json;
use axum::extract::State;
use conversation_core::ports::StaffSmsSettings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_sms, put_sms))
}

/// N4: the account's staff SMS setting.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsNotifications {
    /// Whether a visitor's new chat texts the numbers.
    pub enabled: bool,
    /// The staff numbers, in E.164 form (`+14155550100`), at most 20; duplicates are dropped.
    pub numbers: Vec<String>,
}

impl From<StaffSmsSettings> for SmsNotifications {
    fn from(settings: StaffSmsSettings) -> Self {
        Self {
            enabled: settings.enabled,
            numbers: settings.numbers,
        }
    }
}

/// N4: the account's staff SMS setting (owners and admins); off with no number until set.
#[utoipa::path(get, path = "/api/v1/account/sms_notifications", tag = "notifications", security(("bearer" = [])), responses(
    (status = 200, body = SmsNotifications),
    (status = 401, body = crate::error::Problem),
    (status = 403, body = crate::error::Problem),
))]
async fn get_sms(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<SmsNotifications>> {
    let settings = state.app.staff_sms_settings(&caller).await?;
    Ok(Json(settings.into()))
}

/// N4: replaces the account's staff SMS setting (owners and admins); answers it as stored.
#[utoipa::path(put, path = "/api/v1/account/sms_notifications", tag = "notifications", security(("bearer" = [])), request_body = SmsNotifications, responses(
    (status = 200, body = SmsNotifications),
    (status = 400, body = crate::error::Problem),
    (status = 401, body = crate::error::Problem),
    (status = 403, body = crate::error::Problem),
    (status = 422, description = "invalid_value (numbers): not E.164, or more than 20", body = crate::error::Problem),
))]
async fn put_sms(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(request): Body<SmsNotifications>,
) -> ApiResult<Json<SmsNotifications>> {
    let settings = state
        .app
        .set_staff_sms_settings(
            &caller,
            StaffSmsSettings {
                enabled: request.enabled,
                numbers: request.numbers,
            },
        )
        .await?;
    Ok(Json(settings.into()))
}
