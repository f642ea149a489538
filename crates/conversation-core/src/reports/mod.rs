//! P1, D14, D15: reports as pure formulas over the event log. A report is never computed from
//! the current state of conversations: it folds the log, event by event, into *facts*
//! ([`Fact`]: a count or a duration in seconds with its time and dimensions), so every view of
//! a number comes from the same events and agrees with every other view.
//!
//! - [`ConversationFold`]: one conversation's events (and its dialogs' ratings) in log order into
//!   the facts of P1. Its state is serializable, so a store keeps it between catch-ups and folds
//!   new events where it stopped: folding in chunks equals folding in one go (property-tested).
//! - [`DialogFold`]: one dialog's events into its report row ([`DialogRow`], D14, D15).
//! - [`histogram`]: the sparse histogram that daily rollups keep for medians and percentiles.
//!
//! Every formula is written down in `docs/reports.md`.

mod conversation_fold;
mod dialog_fold;
mod fact;
pub mod histogram;
#[cfg(test)]
mod proptests;
mod summary;
#[cfg(test)]
mod tests;

pub use conversation_fold::ConversationFold;
pub use dialog_fold::{DialogFold, DialogRow};
pub use fact::{Fact, Metric};
pub use summary::{DurationSummary, day_number, seconds_between};
