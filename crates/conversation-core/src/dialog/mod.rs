//! The dialog machine (spec section D): a titled, typed request handled inside a conversation,
//! with at most one active dialog per contact (D3), and the rules of where agents may write
//! while one is active (D5, D6).
//!
//! What lives here: the [`Dialog`] aggregate and its status ([`DialogStatus`]), its commands
//! ([`CreateDialog`], [`DialogCommand`]) and events ([`DialogCreated`], [`DialogEvent`]), the
//! validated values ([`DialogTitle`], [`Stars`], [`Satisfaction`]), the snapshot of a contact's
//! dialogs ([`ContactDialogs`]) through which the caller passes what D3 needs, the write rule
//! ([`check_agent_write`], [`inbound_target`]) and the D10 check of new settings
//! ([`check_setting_choice`]). What does not: tasks and notifications for new participants
//! (D11), the durable holding and release of automated messages (D8, whose rule is
//! [`automated_fate`]), the dialog's message view (D7) and reports (D14, D15) react to these
//! events elsewhere.
//!
//! Use: load the dialog (or [`Dialog::replay`] its events) and the contact's
//! [`ContactDialogs`], call [`Dialog::decide`] (or [`Dialog::decide_create`]), store the
//! events, and fold them with [`Dialog::apply`] (or [`Dialog::from_created`]). To add a
//! command: a variant of [`DialogCommand`], its branch in `decide.rs`, its event in `event.rs`
//! and branch in `aggregate.rs`, a row in `docs/state-machines.md (dialog)` and a test per row.

mod aggregate;
mod automated;
mod command;
mod decide;
mod event;
mod rating;
mod settings_choice;
mod snapshot;
mod status;
mod title;
pub mod write_rule;

#[cfg(test)]
mod properties;

pub use aggregate::Dialog;
pub use automated::{AutomatedFate, AutomatedSource, automated_fate, may_release};
pub use command::{CreateDialog, DialogCommand};
pub use event::{DialogCreated, DialogEvent};
pub use rating::{Satisfaction, Stars};
pub use settings_choice::check_setting_choice;
pub use snapshot::ContactDialogs;
pub use status::{DialogStatus, DialogStatusKind, SatisfactionAnswer, SentSatisfactionForm};
pub use title::DialogTitle;
pub use write_rule::{check_agent_write, inbound_target};
