//! `conversation-core`: the whole domain of the inbox as pure code.
//!
//! What belongs here: ids, entities, the state machines (conversation with its assignment,
//! dialog, agent presence), the routing choice functions, validation of what agents write,
//! permissions, the domain events and the port traits that adapters implement. What does not:
//! anything that does I/O or reads the clock. Time and ids always come in as arguments, so every
//! rule can be proven by fast unit tests and property tests (`cargo test -p conversation-core`).
//!
//! Every state machine has the same shape: `decide(&self, command, now)` returns the events a
//! command causes or a [`DomainError`] with a stable machine code, and never mutates;
//! `apply(&mut self, &event)` folds one event into the state and never fails. Replaying the
//! events of `decide` with `apply` rebuilds the state. To add a rule: add a command variant, its
//! branch in `decide`, the event and its branch in `apply`, a row in
//! `docs/state-machines.md`, and a test named after the rule id of `shared/spec/domain.md`.

pub mod actor;
pub mod channel;
pub mod conversation;
pub mod dialog;
pub mod entities;
pub mod error;
pub mod events;
pub mod ids;
pub mod message;
pub mod permissions;
pub mod ports;
pub mod presence;
pub mod reports;
pub mod routing;

pub use entities::Timestamp;
pub use error::{DomainError, DomainResult};
pub use events::DomainEvent;
