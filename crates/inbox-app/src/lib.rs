//! `inbox-app`: the use cases of the inbox.
//!
//! What belongs here: each thing a user of the product can do, as a method of [`App`]: load
//! what the rule needs through the store ports, let `conversation-core` decide, commit state,
//! events, messages and outbox in one transaction, publish the events to realtime subscribers
//! ([`hub::Hub`]). The one system clock and id generator live in [`system`]. What does not:
//! rules (they are the core's), SQL (the store's), HTTP (the `inbox-http` crate's).
//!
//! To add a use case: a method in the module of its area that authorises the [`Caller`], builds
//! the core's command, and for conversations goes through the pipeline
//! (`App::change_conversation`), which retries lost races on fresh state.

mod app;
mod attachments;
mod auth;
mod automated;
mod caller;
pub mod channels;
pub mod continuity;
mod conversations;
pub mod delivery;
mod dialogs;
pub mod directory;
mod doorbell;
mod error;
pub mod hub;
mod inbound;
mod last_seen;
mod messages;
pub mod notifications;
mod pipeline;
mod polling;
mod queue_turns;
pub mod realtime;
pub mod reports;
mod routing;
mod secrets;
pub mod system;
pub mod timers;
pub mod webhooks;
pub mod widget;
pub mod worker;

pub use app::{App, AppConfig};
pub use attachments::SendAttachment;
pub use auth::{Bootstrapped, SignedIn, agent_of};
pub use automated::{Automated, AutomatedMessage};
pub use caller::Caller;
pub use conversations::Action;
pub use dialogs::{Completion, ContactDialogList, DialogChanges, NewDialog, SatisfactionAnswered};
pub use error::{AppError, AppResult};
pub use inbound::{Inbound, Received};
pub use messages::{DeliveryOrder, Outgoing, SendMessage};
pub use secrets::{TokenKind, hash_password, new_token, token_hash, verify_password};
