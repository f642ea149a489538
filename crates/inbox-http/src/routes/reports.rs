//! Reports (P1, D14, D15): `GET /api/v1/reports/conversations` and `GET /api/v1/reports/dialogs`,
//! as JSON, or as a streamed CSV body with `format=csv` or `Accept: text/csv` (one header line,
//! one line per row, a last `total` line). Every parameter is checked here; a bad one answers
//! 400 `invalid_report_query` with what to send instead. Who may read what is the use case's
//! decision (`inbox_app::reports`); the formulas and the CSV columns are in `docs/reports.md`.

use std::fmt::Write as _;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use conversation_core::dialog::DialogStatusKind;
use conversation_core::ids::{AgentId, ComponentId, InboxId, QueueId, ReasonId, RequestTypeId};
use conversation_core::ports::{Breakdown, DialogBreakdown, Period};
use conversation_core::reports::DurationSummary;
use inbox_app::reports::{
    ConversationReport, ConversationReportRequest, DialogFigures, DialogReport,
    DialogReportRequest, Figures, RatingSummary, ReportRange,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(conversations))
        .routes(routes!(dialogs))
}

/// The default range when `from` is not given: the 30 days up to `to`.
const DEFAULT_DAYS: i64 = 30;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_report_query", detail)
}

fn date(name: &str, value: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    value
        .map(|text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                invalid(format!(
                    "{name}={text:?} is not a date: send a UTC day as YYYY-MM-DD, like 2026-04-01"
                ))
            })
        })
        .transpose()
}

fn id(name: &str, value: Option<&str>) -> ApiResult<Option<Uuid>> {
    value
        .map(|text| {
            Uuid::parse_str(text)
                .map_err(|_| invalid(format!("{name}={text:?} is not an id: send a UUID")))
        })
        .transpose()
}

fn choice<T: Copy>(name: &str, value: Option<&str>, options: &[(&str, T)]) -> ApiResult<Option<T>> {
    let Some(text) = value else {
        return Ok(None);
    };
    options
        .iter()
        .find(|(option, _)| *option == text)
        .map(|(_, value)| Some(*value))
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(option, _)| *option).collect();
            invalid(format!(
                "{name}={text:?} is unknown: send one of {}",
                names.join(", ")
            ))
        })
}

fn range(
    state: &AppState,
    from: Option<&str>,
    to: Option<&str>,
    group_by: Option<&str>,
) -> ApiResult<ReportRange> {
    let to = date("to", to)?.unwrap_or_else(|| state.app.now().date_naive());
    let from = date("from", from)?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    let period = choice(
        "group_by",
        group_by,
        &[
            ("day", Period::Day),
            ("week", Period::Week),
            ("month", Period::Month),
        ],
    )?
    .unwrap_or(Period::Day);
    Ok(ReportRange { from, to, period })
}

/// Whether the answer is CSV: `format=csv`, or `Accept: text/csv` without `format`.
fn wants_csv(format: Option<&str>, headers: &HeaderMap) -> ApiResult<bool> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(invalid(format!(
            "format={other:?} is unknown: send json or csv"
        ))),
        None => Ok(headers
            .get(ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv"))),
    }
}

/// The query's own rejection (an unknown parameter, a repeated one) as a problem document.
fn params<T>(query: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    query.map(|Query(params)| params).map_err(|rejection| {
        invalid(format!(
            "{}: see GET /api/v1/openapi.json for the parameters",
            rejection.body_text()
        ))
    })
}

/// A CSV body streamed line by line (RFC 4180; no field of these reports holds a comma, a
/// quote or a line break, but [`field`] quotes one that would).
fn csv_response(name: &str, lines: Vec<String>) -> Response {
    let stream = futures_util::stream::iter(
        lines
            .into_iter()
            .map(|line| Ok::<_, std::convert::Infallible>(line + "\r\n")),
    );
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}

/// One CSV field, quoted when it needs to be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

/// A duration metric: count, average, median and 90th percentile, in seconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct DurationView {
    /// How many.
    pub count: u64,
    /// The average, in seconds.
    pub avg: Option<f64>,
    /// The nearest-rank median, in seconds.
    pub median: Option<u64>,
    /// The nearest-rank 90th percentile, in seconds.
    pub p90: Option<u64>,
}

impl From<&DurationSummary> for DurationView {
    fn from(s: &DurationSummary) -> Self {
        Self {
            count: s.count,
            avg: s.avg,
            median: s.median,
            p90: s.p90,
        }
    }
}

/// A rating: how many, the average, and how many of each value (1, 2, 3).
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    /// How many.
    pub count: u64,
    /// The average.
    pub avg: Option<f64>,
    /// How many ratings of 1, 2 and 3.
    pub distribution: Vec<u64>,
}

impl From<&RatingSummary> for RatingView {
    fn from(r: &RatingSummary) -> Self {
        Self {
            count: r.count,
            avg: r.avg,
            distribution: r.distribution.to_vec(),
        }
    }
}

/// How often a wrap-up reason was given.
#[derive(Debug, Serialize, ToSchema)]
pub struct WrapUpView {
    /// The reason.
    pub reason: Uuid,
    /// How often.
    pub count: u64,
}

/// P1: the figures of a row or of the total.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiguresView {
    /// Conversations started.
    pub opened: u64,
    /// Resolutions.
    pub resolved: u64,
    /// Drops.
    pub dropped: u64,
    /// Reopenings.
    pub reopened: u64,
    /// First response time.
    pub first_response: DurationView,
    /// Reply time.
    pub reply: DurationView,
    /// Time to close per open episode.
    pub time_to_close: DurationView,
    /// Handle time per agent segment.
    pub handle_time: DurationView,
    /// Wrap-up reasons, most given first.
    pub wrap_up: Vec<WrapUpView>,
    /// D12: the agents' ratings of contacts.
    pub contact_rating: RatingView,
    /// D13: the contacts' satisfaction.
    pub satisfaction: RatingView,
}

impl From<&Figures> for FiguresView {
    fn from(f: &Figures) -> Self {
        Self {
            opened: f.opened,
            resolved: f.resolved,
            dropped: f.dropped,
            reopened: f.reopened,
            first_response: (&f.first_response).into(),
            reply: (&f.reply).into(),
            time_to_close: (&f.time_to_close).into(),
            handle_time: (&f.handle_time).into(),
            wrap_up: f
                .wrap_up
                .iter()
                .map(|w| WrapUpView {
                    reason: w.reason,
                    count: w.count,
                })
                .collect(),
            contact_rating: (&f.contact_rating).into(),
            satisfaction: (&f.satisfaction).into(),
        }
    }
}

/// One row of the conversation report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationRowView {
    /// The period's first day (UTC).
    pub period: NaiveDate,
    /// The breakdown's value; null without breakdown, or for no queue / no agent.
    pub key: Option<Uuid>,
    /// Its figures.
    pub figures: FiguresView,
}

/// P1: the conversation report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationReportView {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// `day`, `week` or `month`.
    #[schema(value_type = String)]
    pub group_by: Period,
    /// `inbox`, `queue`, `agent` or null.
    #[schema(value_type = Option<String>)]
    pub breakdown: Option<Breakdown>,
    /// The rows with any figure, by period then breakdown value.
    pub rows: Vec<ConversationRowView>,
    /// The whole range (the rows add up to it).
    pub total: FiguresView,
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

const DURATIONS: [&str; 4] = ["first_response", "reply", "time_to_close", "handle_time"];

fn conversation_csv(report: &ConversationReport) -> Vec<String> {
    let mut header = vec![
        "period".to_owned(),
        "key".into(),
        "opened".into(),
        "resolved".into(),
    ];
    header.extend(["dropped".to_owned(), "reopened".into()]);
    for metric in DURATIONS {
        for part in ["count", "avg", "median", "p90"] {
            header.push(format!("{metric}_{part}"));
        }
    }
    for metric in ["contact_rating", "satisfaction"] {
        for part in ["count", "avg", "1", "2", "3"] {
            header.push(format!("{metric}_{part}"));
        }
    }
    header.push("wrap_up".into());
    let line = |period: String, key: String, f: &Figures| {
        let mut cells = vec![period, key];
        cells.extend([f.opened, f.resolved, f.dropped, f.reopened].map(|n| n.to_string()));
        for d in [
            &f.first_response,
            &f.reply,
            &f.time_to_close,
            &f.handle_time,
        ] {
            cells.extend([d.count.to_string(), opt(d.avg), opt(d.median), opt(d.p90)]);
        }
        for r in [&f.contact_rating, &f.satisfaction] {
            cells.extend([r.count.to_string(), opt(r.avg)]);
            cells.extend(r.distribution.map(|n| n.to_string()));
        }
        let mut wrap = String::new();
        for (n, w) in f.wrap_up.iter().enumerate() {
            let sep = if n == 0 { "" } else { ";" };
            let _ = write!(wrap, "{sep}{}={}", w.reason, w.count);
        }
        cells.push(wrap);
        cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",")
    };
    let mut lines = vec![header.join(",")];
    for row in &report.rows {
        lines.push(line(row.period.to_string(), opt(row.key), &row.figures));
    }
    lines.push(line("total".into(), String::new(), &report.total));
    lines
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

/// D15: the figures of a set of dialogs.
#[derive(Debug, Serialize, ToSchema)]
pub struct DialogFiguresView {
    /// Dialogs created.
    pub dialogs: u64,
    /// Of them, active now.
    pub active: u64,
    /// Of them, paused now.
    pub paused: u64,
    /// Of them, completed.
    pub completed: u64,
    /// The completed ones' average seconds from creation to completion.
    pub avg_duration_secs: Option<f64>,
    /// The completed ones' average seconds spent active.
    pub avg_active_secs: Option<f64>,
    /// D12, D14: the agents' ratings of the contacts.
    pub contact_rating: RatingView,
    /// D13, D14: the contacts' satisfaction.
    pub satisfaction: RatingView,
}

impl From<&DialogFigures> for DialogFiguresView {
    fn from(f: &DialogFigures) -> Self {
        Self {
            dialogs: f.dialogs,
            active: f.active,
            paused: f.paused,
            completed: f.completed,
            avg_duration_secs: f.avg_duration_secs,
            avg_active_secs: f.avg_active_secs,
            contact_rating: (&f.contact_rating).into(),
            satisfaction: (&f.satisfaction).into(),
        }
    }
}

/// One row of the dialog report.
#[derive(Debug, Serialize, ToSchema)]
pub struct DialogRowView {
    /// The period's first day (UTC) of the dialogs' creation.
    pub period: NaiveDate,
    /// The breakdown's value (an id, or a status); null without breakdown or for none.
    pub key: Option<String>,
    /// Its figures.
    pub figures: DialogFiguresView,
}

/// D15: the dialog report.
#[derive(Debug, Serialize, ToSchema)]
pub struct DialogReportView {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// `day`, `week` or `month`.
    #[schema(value_type = String)]
    pub group_by: Period,
    /// `request_type`, `reason`, `component`, `agent`, `status` or null.
    #[schema(value_type = Option<String>)]
    pub breakdown: Option<DialogBreakdown>,
    /// The rows, by period then breakdown value.
    pub rows: Vec<DialogRowView>,
    /// The whole range, every dialog once.
    pub total: DialogFiguresView,
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

fn dialog_csv(report: &DialogReport) -> Vec<String> {
    let mut header: Vec<String> = [
        "period",
        "key",
        "dialogs",
        "active",
        "paused",
        "completed",
        "avg_duration_secs",
        "avg_active_secs",
    ]
    .map(str::to_owned)
    .to_vec();
    for metric in ["contact_rating", "satisfaction"] {
        for part in ["count", "avg", "1", "2", "3"] {
            header.push(format!("{metric}_{part}"));
        }
    }
    let line = |period: String, key: String, f: &DialogFigures| {
        let mut cells = vec![period, key];
        cells.extend([f.dialogs, f.active, f.paused, f.completed].map(|n| n.to_string()));
        cells.extend([opt(f.avg_duration_secs), opt(f.avg_active_secs)]);
        for r in [&f.contact_rating, &f.satisfaction] {
            cells.extend([r.count.to_string(), opt(r.avg)]);
            cells.extend(r.distribution.map(|n| n.to_string()));
        }
        cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",")
    };
    let mut lines = vec![header.join(",")];
    for row in &report.rows {
        lines.push(line(
            row.period.to_string(),
            row.key.clone().unwrap_or_default(),
            &row.figures,
        ));
    }
    lines.push(line("total".into(), String::new(), &report.total));
    lines
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
