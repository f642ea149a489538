//! The entities of an account: plain data with validated constructors. The state machines that
//! move them live in their own modules ([`conversation`](crate::conversation),
//! [`dialog`](crate::dialog), [`presence`](crate::presence)).

mod account;
mod agent;
mod contact;
mod inbox;
mod order;
mod queue;
mod settings;
mod task;

pub use account::Account;
pub use agent::{Agent, Availability, DEFAULT_CAPACITY};
pub use contact::{ChannelIdentity, Contact};
pub use inbox::{
    DEFAULT_CONTINUITY_AFTER_SECS, DEFAULT_TEXT_LIMIT, EmailContinuity, Inbox, InboxSettings,
    PreChatField, ReplyWindowSetting, WidgetSettings,
};
pub use order::{NewOrder, Order, OrderItem, OrderLine, OrderOrigin};
pub use queue::{DEFAULT_OFFER_TIMEOUT_SECS, DeliveryMode, Queue, RoutingStrategy};
pub use settings::{
    Component, Reason, RequestType, SatisfactionForm, SettingEntry, WrapUpReason,
    default_request_types,
};
pub use task::{Task, TaskSource};

/// The point in time every event and entity carries.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
