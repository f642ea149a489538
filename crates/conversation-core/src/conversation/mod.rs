//! The conversation machine (C1-C8, C11, C12) with its assignment part (R6-R10).
//!
//! A [`Conversation`] is created from a [`StartConversation`] by
//! [`Conversation::decide_start`], then moved only by [`Conversation::decide`] (pure: returns
//! the [`ConversationEvent`]s a [`ConversationCommand`] causes, or a refusal) and
//! [`Conversation::apply`] (total: folds one event in). The assignment is a data-carrying
//! [`Assignment`] (waiting in a queue, offered until a deadline, assigned, conference requested,
//! conference); interruption (C7) and the bot flow (C11) are states of their own.
//! Inputs that live outside the conversation (the inbox's reply window, the contact's dialogs,
//! the routing choice) come in with the command, so `decide` never looks anything up.
//! The transition table is in `docs/state-machines.md`.

mod apply;
mod command;
mod decide;
mod event;
mod load;
mod state;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use command::{
    ConversationCommand, Reply, ReplyKind, ReplyPolicy, StartConversation, TransferTarget,
};
pub use event::{ConversationEvent, ConversationEventKind};
pub use load::{CapacityClaim, LoadChange};
pub use state::{Assignment, Conversation, ConversationState, ConversationStatus, InterruptCause};
