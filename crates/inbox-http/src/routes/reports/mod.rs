//! Reports (P1, D14, D15): `GET /api/v1/reports/conversations` and `GET /api/v1/reports/dialogs`,
//! as JSON, or as a streamed CSV body with `format=csv` or `Accept: text/csv` (one header line,
//! one line per row, a last `total` line). Every parameter is checked here (`query`); a bad one
//! answers 400 `invalid_report_query` with what to send instead. Who may read what is the use
//! case's decision (`inbox_app::reports`); the formulas and the CSV columns are in
//! `docs/reports.md`. `handlers` has the two routes, `views` their JSON documents, `csv` their
//! CSV lines.

mod csv;
mod handlers;
mod query;
mod views;

pub use handlers::{ConversationParams, DialogParams, router};
pub use views::{
    ConversationReportView, ConversationRowView, DialogFiguresView, DialogReportView,
    DialogRowView, DurationView, FiguresView, RatingView, WrapUpView,
};
