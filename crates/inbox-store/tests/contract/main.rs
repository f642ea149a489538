//! The store contract suite: every guarantee of the store ports of `conversation-core`,
//! written once and run against both dialects. Each `contract!` test expands to a `sqlite` and
//! a `postgres` test. PostgreSQL comes from `INBOX_TEST_POSTGRES_URL` (the README's test command
//! sets it up); without it the PostgreSQL tests fail with instructions, never skip.
//!
//! One file per role trait; fixtures in `support`. Every test works in its own fresh account,
//! so tests share a database without seeing each other (which is itself A1 at work).

mod support;

mod auth;
mod commit;
mod concurrency;
mod connections;
mod directory;
mod directory_readers;
mod files;
mod group_commit;
mod held;
mod list_totals;
mod lists;
mod readers;
mod reports;
mod reports_months;
mod routing;
mod staff_sms;
mod webhooks;
mod work;
