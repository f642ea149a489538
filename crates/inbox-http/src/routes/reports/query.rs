//! The checks of the report parameters shared by both reports: dates, ids, choices from a
//! list, the range and its grouping, JSON or CSV. A bad one answers 400 `invalid_report_query`
//! with what to send instead.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use chrono::{Duration, NaiveDate};
use conversation_core::ports::Period;
use inbox_app::reports::ReportRange;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

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

/// An optional id parameter.
pub fn id(name: &str, value: Option<&str>) -> ApiResult<Option<Uuid>> {
    value
        .map(|text| {
            Uuid::parse_str(text)
                .map_err(|_| invalid(format!("{name}={text:?} is not an id: send a UUID")))
        })
        .transpose()
}

/// An optional parameter that must be one of `options`.
pub fn choice<T: Copy>(
    name: &str,
    value: Option<&str>,
    options: &[(&str, T)],
) -> ApiResult<Option<T>> {
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

/// The default range when `from` is not given: the 30 days up to `to`.
const DEFAULT_DAYS: i64 = 30;

/// The days asked for and their grouping (default: the 30 days up to today, by day).
pub fn range(
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
pub fn wants_csv(format: Option<&str>, headers: &HeaderMap) -> ApiResult<bool> {
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
pub fn params<T>(query: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    query.map(|Query(params)| params).map_err(|rejection| {
        invalid(format!(
            "{}: see GET /api/v1/openapi.json for the parameters",
            rejection.body_text()
        ))
    })
}
