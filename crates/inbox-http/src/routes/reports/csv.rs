//! The CSV bodies of the reports (`docs/reports.md`, "CSV"): a header line, one line per row
//! and a last `total` line, each written by the `csv` crate (RFC 4180: CRLF line ends, a field
//! with a comma, a quote or a line break quoted) and streamed one line at a time.

use std::fmt::Write as _;

use axum::body::Body;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use inbox_app::reports::{ConversationReport, DialogFigures, DialogReport, Figures};

/// One line of a CSV body: its fields.
type Record = Vec<String>;

/// One record as an RFC 4180 line (CRLF included).
fn encode(record: &Record) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(record)?;
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

/// A CSV body streamed line by line: each record is encoded when the body asks for it.
pub fn csv_response(name: &str, records: Vec<Record>) -> Response {
    let stream = futures_util::stream::iter(records.into_iter().map(|record| encode(&record)));
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

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

const DURATIONS: [&str; 4] = ["first_response", "reply", "time_to_close", "handle_time"];
const RATINGS: [&str; 2] = ["contact_rating", "satisfaction"];

fn rating_columns(header: &mut Record) {
    for metric in RATINGS {
        for part in ["count", "avg", "1", "2", "3"] {
            header.push(format!("{metric}_{part}"));
        }
    }
}

/// P1: the conversation report's records.
pub fn conversation_csv(report: &ConversationReport) -> Vec<Record> {
    let mut header: Record = ["period", "key", "opened", "resolved", "dropped", "reopened"]
        .map(str::to_owned)
        .to_vec();
    for metric in DURATIONS {
        for part in ["count", "avg", "median", "p90"] {
            header.push(format!("{metric}_{part}"));
        }
    }
    rating_columns(&mut header);
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
        cells
    };
    let mut records = vec![header];
    for row in &report.rows {
        records.push(line(row.period.to_string(), opt(row.key), &row.figures));
    }
    records.push(line("total".into(), String::new(), &report.total));
    records
}

/// D15: the dialog report's records.
pub fn dialog_csv(report: &DialogReport) -> Vec<Record> {
    let mut header: Record = [
        "period",
        "key",
        "dialogs",
        "active",
        "paused",
        "completed",
        "avg_duration_secs",
        "median_duration_secs",
        "p90_duration_secs",
        "avg_active_secs",
        "median_active_secs",
        "p90_active_secs",
    ]
    .map(str::to_owned)
    .to_vec();
    rating_columns(&mut header);
    let line = |period: String, key: String, f: &DialogFigures| {
        let mut cells = vec![period, key];
        cells.extend([f.dialogs, f.active, f.paused, f.completed].map(|n| n.to_string()));
        cells.extend([
            opt(f.avg_duration_secs),
            opt(f.median_duration_secs),
            opt(f.p90_duration_secs),
            opt(f.avg_active_secs),
            opt(f.median_active_secs),
            opt(f.p90_active_secs),
        ]);
        for r in [&f.contact_rating, &f.satisfaction] {
            cells.extend([r.count.to_string(), opt(r.avg)]);
            cells.extend(r.distribution.map(|n| n.to_string()));
        }
        cells
    };
    let mut records = vec![header];
    for row in &report.rows {
        records.push(line(
            row.period.to_string(),
            row.key.clone().unwrap_or_default(),
            &row.figures,
        ));
    }
    records.push(line("total".into(), String::new(), &report.total));
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p1_a_field_with_a_comma_a_quote_or_a_line_break_is_quoted_and_lines_end_with_crlf() {
        let line = encode(&vec![
            "a,b".into(),
            "say \"hi\"".into(),
            "x\ny".into(),
            "plain".into(),
        ])
        .unwrap();
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",plain\r\n"
        );
    }
}
