//! The two report routes: their parameters (checked in `query`), the use case, and the answer
//! as JSON (`views`) or as a streamed CSV body (`csv`).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use conversation_core::dialog::DialogStatusKind;
use conversation_core::ids::{AgentId, ComponentId, InboxId, QueueId, ReasonId, RequestTypeId};
use conversation_core::ports::{Breakdown, DialogBreakdown};
use inbox_app::reports::{ConversationReportRequest, DialogReportRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::csv::{conversation_csv, csv_response, dialog_csv};
use super::query::{choice, id, params, range, wants_csv};
use super::views::{ConversationReportView, ConversationRowView, DialogReportView, DialogRowView};
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::state::AppState;

/// The routes of the reports.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(conversations))
        .routes(routes!(dialogs))
}

/// The parameters of the conversation report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConversationParams {
    /// The first UTC day, `YYYY-MM-DD` (default: 29 days before `to`).
    pub from: Option<String>,
    /// The last UTC day, included (default: today).
    pub to: Option<String>,
    /// `day` (default), `week` (Monday to Sunday) or `month`.
    pub group_by: Option<String>,
    /// Only this inbox.
    pub inbox: Option<String>,
    /// Only this queue.
    pub queue: Option<String>,
    /// Only figures credited to this agent (a plain agent always gets their own).
    pub agent: Option<String>,
    /// `inbox`, `queue` or `agent`.
    pub breakdown: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// P1: conversations opened, resolved, dropped, reopened; first response, reply, time to close
/// and handle time (count, average, median, 90th percentile); wrap-up reasons; both ratings;
/// per period and per inbox, queue or agent. `format=csv` streams it as CSV.
#[utoipa::path(get, path = "/api/v1/reports/conversations", tag = "reports", security(("bearer" = [])), params(ConversationParams), responses(
    (status = 200, body = ConversationReportView, description = "JSON, or with format=csv (or Accept: text/csv) a text/csv body"),
    (status = 400, body = crate::error::Problem, description = "invalid_report_query"),
    (status = 403, body = crate::error::Problem, description = "a plain agent asked for another agent's figures"),
))]
async fn conversations(
    State(state): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
    query: Result<Query<ConversationParams>, QueryRejection>,
) -> ApiResult<Response> {
    let p = params(query)?;
    let csv = wants_csv(p.format.as_deref(), &headers)?;
    let range = range(
        &state,
        p.from.as_deref(),
        p.to.as_deref(),
        p.group_by.as_deref(),
    )?;
    let breakdown = choice(
        "breakdown",
        p.breakdown.as_deref(),
        &[
            ("inbox", Breakdown::Inbox),
            ("queue", Breakdown::Queue),
            ("agent", Breakdown::Agent),
        ],
    )?;
    let request = ConversationReportRequest {
        range,
        inbox: id("inbox", p.inbox.as_deref())?.map(InboxId::from_uuid),
        queue: id("queue", p.queue.as_deref())?.map(QueueId::from_uuid),
        agent: id("agent", p.agent.as_deref())?.map(AgentId::from_uuid),
        breakdown,
    };
    let report = state.app.conversation_report(&caller, &request).await?;
    if csv {
        return Ok(csv_response("conversations", conversation_csv(&report)));
    }
    Ok(Json(ConversationReportView {
        from: range.from,
        to: range.to,
        group_by: range.period,
        breakdown,
        rows: report
            .rows
            .iter()
            .map(|row| ConversationRowView {
                period: row.period,
                key: row.key,
                figures: (&row.figures).into(),
            })
            .collect(),
        total: (&report.total).into(),
    })
    .into_response())
}

/// The parameters of the dialog report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DialogParams {
    /// The first UTC day of creation, `YYYY-MM-DD` (default: 29 days before `to`).
    pub from: Option<String>,
    /// The last UTC day, included (default: today).
    pub to: Option<String>,
    /// `day` (default), `week` or `month`.
    pub group_by: Option<String>,
    /// Only this request type.
    pub request_type: Option<String>,
    /// Only dialogs with this reason.
    pub reason: Option<String>,
    /// Only dialogs with this component.
    pub component: Option<String>,
    /// Only dialogs this agent participates in (a plain agent always gets their own).
    pub agent: Option<String>,
    /// `active`, `paused` or `completed`.
    pub status: Option<String>,
    /// `request_type`, `reason`, `component`, `agent` or `status`.
    pub breakdown: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// D14, D15: dialogs by period, request type, reason, component, agent and status, with their
/// average durations and both ratings. `format=csv` streams it as CSV.
#[utoipa::path(get, path = "/api/v1/reports/dialogs", tag = "reports", security(("bearer" = [])), params(DialogParams), responses(
    (status = 200, body = DialogReportView, description = "JSON, or with format=csv (or Accept: text/csv) a text/csv body"),
    (status = 400, body = crate::error::Problem, description = "invalid_report_query"),
    (status = 403, body = crate::error::Problem, description = "a plain agent asked for another agent's figures"),
))]
async fn dialogs(
    State(state): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
    query: Result<Query<DialogParams>, QueryRejection>,
) -> ApiResult<Response> {
    let p = params(query)?;
    let csv = wants_csv(p.format.as_deref(), &headers)?;
    let range = range(
        &state,
        p.from.as_deref(),
        p.to.as_deref(),
        p.group_by.as_deref(),
    )?;
    let breakdown = choice(
        "breakdown",
        p.breakdown.as_deref(),
        &[
            ("request_type", DialogBreakdown::RequestType),
            ("reason", DialogBreakdown::Reason),
            ("component", DialogBreakdown::Component),
            ("agent", DialogBreakdown::Agent),
            ("status", DialogBreakdown::Status),
        ],
    )?;
    let request = DialogReportRequest {
        range,
        request_type: id("request_type", p.request_type.as_deref())?.map(RequestTypeId::from_uuid),
        reason: id("reason", p.reason.as_deref())?.map(ReasonId::from_uuid),
        component: id("component", p.component.as_deref())?.map(ComponentId::from_uuid),
        agent: id("agent", p.agent.as_deref())?.map(AgentId::from_uuid),
        status: choice(
            "status",
            p.status.as_deref(),
            &[
                ("active", DialogStatusKind::Active),
                ("paused", DialogStatusKind::Paused),
                ("completed", DialogStatusKind::Completed),
            ],
        )?,
        breakdown,
    };
    let report = state.app.dialog_report(&caller, &request).await?;
    if csv {
        return Ok(csv_response("dialogs", dialog_csv(&report)));
    }
    Ok(Json(DialogReportView {
        from: range.from,
        to: range.to,
        group_by: range.period,
        breakdown,
        rows: report
            .rows
            .iter()
            .map(|row| DialogRowView {
                period: row.period,
                key: row.key.clone(),
                figures: (&row.figures).into(),
            })
            .collect(),
        total: (&report.total).into(),
    })
    .into_response())
}
