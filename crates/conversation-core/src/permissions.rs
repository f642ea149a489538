//! Who may do what (C5, A2, D10, R7, R8, R9) as pure functions of the principal's role, flags
//! and permissions and of the conversation's assignment. The state machines call these; the HTTP
//! layer calls them too for reads (lists, visibility), so a rule is written once.

use crate::actor::{Permission, Principal};
use crate::ids::AgentId;

/// What a principal's view of one conversation depends on (A2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConversationAccess {
    /// The agent it is assigned to (or offered to), if any.
    pub assignee: Option<AgentId>,
    /// Whether the principal is a member of the conversation's queue.
    pub member_of_queue: bool,
    /// Whether the principal participates (conference guest, dialog participant).
    pub participant: bool,
}

/// A2: owners, admins and agents with full access see every conversation of the account.
#[must_use]
pub fn can_see_all(principal: &Principal) -> bool {
    principal.role.is_administrator() || principal.full_access
}

/// A2: an agent sees the conversations of their queues, those assigned to them and those they
/// participate in; full access sees all.
#[must_use]
pub fn can_see_conversation(principal: &Principal, access: ConversationAccess) -> bool {
    can_see_all(principal)
        || access.assignee == Some(principal.agent)
        || access.member_of_queue
        || access.participant
}

/// C5: resolving (and send-and-close) is allowed to the assignee, to agents with full access,
/// and to admins and the owner.
#[must_use]
pub fn can_resolve(principal: &Principal, assignee: Option<AgentId>) -> bool {
    can_see_all(principal) || assignee == Some(principal.agent)
}

/// C6: dropping is allowed to the assignee, to members of the conversation's queue, and to
/// those who see all.
#[must_use]
pub fn can_drop(principal: &Principal, access: ConversationAccess) -> bool {
    can_see_all(principal) || access.assignee == Some(principal.agent) || access.member_of_queue
}

/// R7: manual assignment to an agent or a queue needs the `assign_conversations` permission
/// (owners and admins hold every permission) or full access.
#[must_use]
pub fn can_assign(principal: &Principal) -> bool {
    principal.full_access || principal.has(Permission::AssignConversations)
}

/// D10: request types, reasons and components are changed only with `edit_dialog_settings`.
#[must_use]
pub fn can_edit_dialog_settings(principal: &Principal) -> bool {
    principal.has(Permission::EditDialogSettings)
}

/// Wrap-up reasons, inboxes, queues and agents are account settings for owners and admins.
#[must_use]
pub fn can_manage_account(principal: &Principal) -> bool {
    principal.role.is_administrator()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Role;

    const ME: AgentId = AgentId::from_u128(1);
    const OTHER: AgentId = AgentId::from_u128(2);

    fn access(
        assignee: Option<AgentId>,
        member_of_queue: bool,
        participant: bool,
    ) -> ConversationAccess {
        ConversationAccess {
            assignee,
            member_of_queue,
            participant,
        }
    }

    #[test]
    fn c5_resolve_is_for_assignee_full_access_admin_and_owner() {
        let agent = Principal::agent(ME);
        assert!(can_resolve(&agent, Some(ME)));
        assert!(!can_resolve(&agent, Some(OTHER)));
        assert!(!can_resolve(&agent, None));
        assert!(can_resolve(&agent.clone().with_full_access(), Some(OTHER)));
        assert!(can_resolve(
            &agent.clone().with_role(Role::Admin),
            Some(OTHER)
        ));
        assert!(can_resolve(&agent.with_role(Role::Owner), None));
    }

    #[test]
    fn a2_agent_sees_own_queue_and_participating_conversations_only() {
        let agent = Principal::agent(ME);
        assert!(can_see_conversation(&agent, access(Some(ME), false, false)));
        assert!(can_see_conversation(&agent, access(None, true, false)));
        assert!(can_see_conversation(
            &agent,
            access(Some(OTHER), false, true)
        ));
        assert!(!can_see_conversation(
            &agent,
            access(Some(OTHER), false, false)
        ));
        assert!(!can_see_conversation(&agent, access(None, false, false)));
        assert!(can_see_conversation(
            &agent.clone().with_full_access(),
            access(None, false, false)
        ));
        assert!(can_see_conversation(
            &agent.with_role(Role::Admin),
            access(None, false, false)
        ));
    }

    #[test]
    fn a2_d10_dialog_settings_need_the_permission() {
        let agent = Principal::agent(ME);
        assert!(!can_edit_dialog_settings(&agent));
        assert!(!can_edit_dialog_settings(&agent.clone().with_full_access()));
        assert!(can_edit_dialog_settings(
            &agent
                .clone()
                .with_permission(Permission::EditDialogSettings)
        ));
        assert!(can_edit_dialog_settings(&agent.with_role(Role::Admin)));
    }

    #[test]
    fn r7_assigning_needs_the_permission_or_full_access() {
        let agent = Principal::agent(ME);
        assert!(!can_assign(&agent));
        assert!(can_assign(
            &agent
                .clone()
                .with_permission(Permission::AssignConversations)
        ));
        assert!(can_assign(&agent.clone().with_full_access()));
        assert!(can_assign(&agent.with_role(Role::Owner)));
    }

    #[test]
    fn c6_drop_is_for_assignee_queue_members_and_supervisors() {
        let agent = Principal::agent(ME);
        assert!(can_drop(&agent, access(Some(ME), false, false)));
        assert!(can_drop(&agent, access(None, true, false)));
        assert!(!can_drop(&agent, access(Some(OTHER), false, true)));
        assert!(can_drop(
            &agent.with_role(Role::Admin),
            access(Some(OTHER), false, false)
        ));
    }

    #[test]
    fn a2_account_settings_are_for_owner_and_admin() {
        assert!(!can_manage_account(
            &Principal::agent(ME).with_full_access()
        ));
        assert!(can_manage_account(
            &Principal::agent(ME).with_role(Role::Admin)
        ));
    }
}
