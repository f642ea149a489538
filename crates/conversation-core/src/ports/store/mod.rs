//! The store ports. One transaction per change: a [`Commit`] carries the new state of every
//! aggregate it touches (with the version it was read at), the events, the new messages, the
//! load moves, timers and outbox rows, and [`CommitStore::commit`] writes all of it or nothing.
//! Readers return `Ok(None)` for what does not exist or belongs to another account (A1), never
//! an error. Implementations: `SqliteStore` and `PgStore` in `inbox-store`; one contract suite
//! proves that both keep every guarantee written here. [`Store`] gathers every role trait, for
//! the use cases that need them all as one `Arc<dyn Store>`.

mod auth;
mod commit;
mod connections;
mod directory;
mod doorbell;
mod files;
mod held;
mod list;
mod readers;
mod reports;
mod staff_sms;
mod webhooks;
mod work;

pub use auth::{ApiToken, AuthStore, Session, SessionSubject};
pub use commit::{
    AggregateChange, AggregateId, AggregateState, Commit, CommitReceipt, CommitStore,
    ExpectedVersion, MessageUpdate, StoreError,
};
pub use connections::{ConnectionStore, StoredConnection};
pub use directory::{Dependency, DirectoryStore, SettingKind};
pub use doorbell::{Doorbell, DoorbellListener, Ring, Rung};
pub use files::{FileStore, StoredFile};
pub use held::{HeldMessage, HeldRelease, HeldStore};
pub use list::{
    ConversationPage, ConversationQuery, ListCursor, ListFilter, ListRow, Viewer, last_activity,
};
pub use readers::{
    ConversationStore, DialogStore, EventLog, MessageStore, RoutingStore, StoredEvent, Versioned,
};
pub use reports::{
    Breakdown, ConversationReportCells, ConversationReportQuery, DialogBreakdown, DialogCell,
    DialogReportCells, DialogReportQuery, Period, ReportStore, RollupCell, SpreadCell, date_of,
    day_of,
};
pub use staff_sms::{StaffSmsSettings, StaffSmsStore};
pub use webhooks::{
    WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus, WebhookFanOut, WebhookStore,
    WebhookSubscription,
};
pub use work::{
    ClaimedWork, OutboxItem, OutboxKind, OutboxStore, Timer, TimerChange, TimerKind, TimerStore,
};

/// Every store role in one trait, implemented by each store backend.
pub trait Store:
    CommitStore
    + ConversationStore
    + DialogStore
    + MessageStore
    + EventLog
    + RoutingStore
    + DirectoryStore
    + TimerStore
    + OutboxStore
    + AuthStore
    + FileStore
    + HeldStore
    + Doorbell
    + ReportStore
    + ConnectionStore
    + WebhookStore
    + StaffSmsStore
{
}

impl<T> Store for T where
    T: CommitStore
        + ConversationStore
        + DialogStore
        + MessageStore
        + EventLog
        + RoutingStore
        + DirectoryStore
        + TimerStore
        + OutboxStore
        + AuthStore
        + FileStore
        + HeldStore
        + Doorbell
        + ReportStore
        + ConnectionStore
        + WebhookStore
        + StaffSmsStore
{
}
