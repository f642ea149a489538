//! `inbox-store`: the store ports of `conversation-core` on SQLite and PostgreSQL.
//!
//! What belongs here: the schema (one migrations folder per dialect, embedded and applied at
//! start), [`SqlStore`] implementing every store role trait of the core, and the one mapping
//! from driver errors to store errors. What does not: any rule of the domain (the core decides;
//! the database only makes the invariants that concurrency can break true: D3, C1, M8, M9, R2,
//! optimistic versions) and anything about HTTP.
//!
//! SQLite is the embedded default (a file under the data directory, created on first start,
//! WAL, one writer); a `postgres://` URL selects PostgreSQL, which several server processes can
//! share. The logic is written once over [`sql::Db`]; what differs between the dialects is in
//! [`sql::Dialect`] and the two migration folders. To add a query: write it once with `$N`
//! placeholders in the module of its role trait, and cover it in the contract suite
//! (`tests/contract`), which runs against both dialects. `docs/storage.md` describes the schema.

mod auth;
mod commit;
mod commit_batch;
mod connections;
mod directory;
mod doorbell;
mod error;
mod files;
mod group_commit;
mod held;
pub mod list_counts;
mod lists;
mod open;
mod readers;
mod reports;
mod reports_dialogs;
mod reports_histograms;
mod reports_query;
mod rows;
pub mod sql;
mod staff_sms;
mod webhooks;
mod work;

pub use doorbell::DOORBELL_CHANNEL;
pub use error::{Violation, violation};
pub use open::{OpenError, SqlStore, StoreOptions};
