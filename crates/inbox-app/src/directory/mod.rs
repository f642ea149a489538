//! The account's directory, as its administrators and agents work on it: agents and their
//! presence (R1, R2, R3, A2), queues (R3, R6, C7), inboxes (C4, M2, M7, R10, R11, C2, C8, D13,
//! C7), contacts (K1-K3), the setting lists (D10, R10), personal tasks (N2) and orders (C10).
//!
//! Who may do what: reads are for every agent of the account; agents, queues, inboxes and
//! wrap-up reasons are changed by owners and admins (`permissions::can_manage_account`);
//! request types, reasons and components need `edit_dialog_settings` (D10). Anything of another
//! account reads as absent (A1, S1: `not_found`, nothing changed).
//!
//! To add a use case of the directory: a method on [`App`](crate::App) in the submodule of its
//! entity, authorised first with [`manager_of`] or [`crate::agent_of`], validated with the
//! helpers at the bottom of this file, committed through the store.

mod agents;
mod contacts;
mod inboxes;
mod orders;
mod queues;
mod settings;
mod tasks;

use conversation_core::DomainError;
use conversation_core::actor::Principal;
use conversation_core::conversation::{ConversationCommand, InterruptCause};
use conversation_core::ids::AccountId;
use conversation_core::permissions;
use conversation_core::ports::Dependency;

pub use agents::{AgentProfile, NewAgent, SetAvailability};
pub use contacts::ContactChanges;
pub use inboxes::{InboxChanges, InboxSettingsChanges, NewInbox};
pub use orders::CreateOrder;
pub use queues::{NewQueue, QueueChanges};
pub use settings::SettingChanges;

use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::AppResult;
use crate::pipeline::Plan;

/// The agent behind a caller, who must be an owner or admin (A2).
///
/// # Errors
/// `forbidden` for anyone else.
pub fn manager_of<'a>(
    caller: &'a Caller,
    action: &'static str,
) -> AppResult<(AccountId, &'a Principal)> {
    let (account, principal) = agent_of(caller)?;
    if !permissions::can_manage_account(principal) {
        return Err(DomainError::Forbidden { action }.into());
    }
    Ok((account, principal))
}

/// A required, trimmed, non-blank text.
pub(crate) fn required(field: &'static str, value: &str) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::MissingField { field }.into());
    }
    Ok(value.to_owned())
}

/// An optional text: trimmed, blank reads as absent.
pub(crate) fn optional(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// An email address: trimmed, with an `@` between two non-empty parts.
pub(crate) fn email(field: &'static str, value: &str) -> AppResult<String> {
    let value = value.trim();
    match value.split_once('@') {
        Some((user, host)) if !user.is_empty() && !host.is_empty() && !value.contains(' ') => {
            Ok(value.to_owned())
        }
        _ => Err(DomainError::InvalidValue {
            field,
            reason: "must be an email address",
        }
        .into()),
    }
}

/// A number inside `min..=max`.
pub(crate) fn within<T: PartialOrd>(
    field: &'static str,
    value: T,
    min: T,
    max: T,
    reason: &'static str,
) -> AppResult<T> {
    if value < min || value > max {
        return Err(DomainError::InvalidValue { field, reason }.into());
    }
    Ok(value)
}

impl App {
    /// C7: interrupts every live conversation that depends on a deleted inbox or queue, each
    /// through the pipeline (alerting its agents). Interrupting twice changes nothing, so a
    /// failed deletion can simply be asked again. Returns how many were interrupted.
    pub(crate) async fn interrupt_dependents(
        &self,
        account: AccountId,
        dependency: Dependency,
        cause: InterruptCause,
    ) -> AppResult<usize> {
        let live = self
            .store
            .live_conversations_of(account, dependency)
            .await?;
        let mut interrupted = 0;
        for id in live {
            let changed = self
                .change_conversation(account, id, |_| {
                    Ok(Plan::command(ConversationCommand::Interrupt { cause }))
                })
                .await?;
            if matches!(
                changed.conversation.value.state,
                conversation_core::conversation::ConversationState::Interrupted { .. }
            ) {
                interrupted += 1;
            }
        }
        Ok(interrupted)
    }
}
