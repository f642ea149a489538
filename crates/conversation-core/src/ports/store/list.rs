//! C9 conversation lists: the query, the page, and the rule each filter stands for, written
//! once as a pure predicate ([`ConversationQuery::admits`]) that the SQL of every store must
//! agree with (the contract suite checks it on random data).

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::conversation::{Conversation, ConversationState, ConversationStatus};
use crate::ids::{AccountId, AgentId, ConversationId, InboxId, QueueId};

/// C9: which list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListFilter {
    /// Open, assigned to me.
    Mine,
    /// Open, assigned to nobody (waiting, offered or unassigned).
    Unassigned,
    /// Open, in one of my queues.
    Queue,
    /// Open, with a contact message no agent has answered yet (C8), longest waiting first.
    AwaitingReply,
    /// Open, everything I may see (everything, for those who see all).
    All,
    /// Resolved or dropped, that I may see.
    Resolved,
}

impl ListFilter {
    /// Every filter.
    pub const ALL: [Self; 6] = [
        Self::Mine,
        Self::Unassigned,
        Self::Queue,
        Self::AwaitingReply,
        Self::All,
        Self::Resolved,
    ];
}

/// Who is looking (A2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    /// The agent.
    pub agent: AgentId,
    /// The queues they are a member of.
    pub queues: Vec<QueueId>,
    /// Full access, admin or owner: sees every conversation.
    pub sees_all: bool,
}

/// Where the previous page ended: the sort key and id of its last row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCursor {
    /// The last row's sort key: its last activity, or for `awaiting_reply` its `waiting_since`.
    pub key: Timestamp,
    /// The last row's id.
    pub id: ConversationId,
}

/// One page request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationQuery {
    /// The account.
    pub account: AccountId,
    /// Who is looking.
    pub viewer: Viewer,
    /// Which list.
    pub filter: ListFilter,
    /// Only this inbox, if set.
    pub inbox: Option<InboxId>,
    /// After this row, if set.
    pub after: Option<ListCursor>,
    /// At most this many rows (the store caps it at 100).
    pub limit: u32,
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationPage {
    /// The rows, in list order.
    pub rows: Vec<ListRow>,
    /// The cursor of the next page, when there may be one.
    pub next: Option<ListCursor>,
    /// How many rows the whole list has.
    pub total: u64,
}

/// One row of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRow {
    /// The conversation.
    pub conversation: Conversation,
    /// Its sort key in this list.
    pub key: Timestamp,
}

/// The time a conversation's last activity happened: its last message, or its start.
#[must_use]
pub fn last_activity(conversation: &Conversation) -> Timestamp {
    conversation
        .last_message_at
        .unwrap_or(conversation.created_at)
}

impl ConversationQuery {
    /// The largest page a store returns.
    pub const MAX_LIMIT: u32 = 100;

    /// Whether the conversation belongs to this list, cursor aside (C9, C8, A2).
    #[must_use]
    pub fn admits(&self, conversation: &Conversation) -> bool {
        if conversation.account != self.account
            || self.inbox.is_some_and(|inbox| inbox != conversation.inbox)
        {
            return false;
        }
        let viewer = &self.viewer;
        // A closed conversation keeps the queue and assignee it had (C9 `resolved`).
        let (queue, assignee) = conversation.belongs_to();
        let guest = match conversation.assignment() {
            Some(crate::conversation::Assignment::Conference { guest, .. }) => Some(*guest),
            _ => None,
        };
        let in_my_queue = queue.is_some_and(|q| viewer.queues.contains(&q));
        let visible = viewer.sees_all
            || assignee == Some(viewer.agent)
            || guest == Some(viewer.agent)
            || in_my_queue
            || interrupted_for(conversation, viewer.agent);
        let open = conversation.status() == ConversationStatus::Open;
        match self.filter {
            ListFilter::Mine => open && assignee == Some(viewer.agent),
            ListFilter::Unassigned => open && assignee.is_none() && visible,
            ListFilter::Queue => open && in_my_queue,
            ListFilter::AwaitingReply => open && conversation.waiting_since.is_some() && visible,
            ListFilter::All => open && visible,
            ListFilter::Resolved => conversation.is_closed() && visible,
        }
    }

    /// The conversation's sort key in this list.
    #[must_use]
    pub fn key_of(&self, conversation: &Conversation) -> Timestamp {
        match self.filter {
            ListFilter::AwaitingReply => conversation
                .waiting_since
                .unwrap_or_else(|| last_activity(conversation)),
            _ => last_activity(conversation),
        }
    }

    /// Whether `a` comes before `b` in this list: newest activity first, but longest waiting
    /// first for `awaiting_reply`; ties by id, in the same direction.
    #[must_use]
    pub fn comes_before(
        &self,
        a: (Timestamp, ConversationId),
        b: (Timestamp, ConversationId),
    ) -> bool {
        match self.filter {
            ListFilter::AwaitingReply => a < b,
            _ => a > b,
        }
    }
}

/// An interrupted conversation is visible to the agents it alerted (C7).
fn interrupted_for(conversation: &Conversation, agent: AgentId) -> bool {
    matches!(&conversation.state, ConversationState::Interrupted { agents, .. } if agents.contains(&agent))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::channel::ChannelKind;
    use crate::conversation::{Assignment, ConversationCommand, InterruptCause, StartConversation};
    use crate::ids::{ContactId, MessageId};

    const ME: AgentId = AgentId::from_u128(1);
    const OTHER: AgentId = AgentId::from_u128(2);
    const MY_QUEUE: QueueId = QueueId::from_u128(10);
    const OTHER_QUEUE: QueueId = QueueId::from_u128(11);

    fn at(secs: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    fn conversation(queue: QueueId, assignee: Option<AgentId>) -> Conversation {
        let start = StartConversation {
            id: ConversationId::from_u128(5),
            account: AccountId::from_u128(1),
            inbox: InboxId::from_u128(1),
            channel: ChannelKind::Api,
            contact: ContactId::from_u128(1),
            message: MessageId::from_u128(1),
            queue: Some(queue),
            bot_flow: None,
        };
        let mut c = Conversation::replay(&Conversation::decide_start(&start, at(0))).unwrap();
        if let Some(agent) = assignee {
            for e in c
                .decide(&ConversationCommand::RouteAssign { agent }, at(1))
                .unwrap()
            {
                c.apply(&e);
            }
        }
        c
    }

    fn query(filter: ListFilter, sees_all: bool) -> ConversationQuery {
        ConversationQuery {
            account: AccountId::from_u128(1),
            viewer: Viewer {
                agent: ME,
                queues: vec![MY_QUEUE],
                sees_all,
            },
            filter,
            inbox: None,
            after: None,
            limit: 25,
        }
    }

    #[test]
    fn c9_each_list_admits_what_its_name_says() {
        let mine = conversation(OTHER_QUEUE, Some(ME));
        let waiting_mine = conversation(MY_QUEUE, None);
        let q = |f| query(f, false);
        assert!(q(ListFilter::Mine).admits(&mine));
        assert!(!q(ListFilter::Mine).admits(&waiting_mine));
        assert!(q(ListFilter::Unassigned).admits(&waiting_mine));
        assert!(!q(ListFilter::Unassigned).admits(&mine));
        assert!(q(ListFilter::Queue).admits(&waiting_mine));
        assert!(!q(ListFilter::Queue).admits(&mine));
        assert!(q(ListFilter::AwaitingReply).admits(&mine));
        assert!(q(ListFilter::All).admits(&mine) && q(ListFilter::All).admits(&waiting_mine));
        assert!(!q(ListFilter::Resolved).admits(&mine));
    }

    #[test]
    fn c9_a2_closed_conversations_stay_visible_to_their_last_agent_and_queue() {
        let close = |mut c: Conversation, command: ConversationCommand| {
            for e in c.decide(&command, at(3)).unwrap() {
                c.apply(&e);
            }
            c
        };
        let by = |agent| crate::actor::Principal::agent(agent);
        let resolved_mine = close(
            conversation(OTHER_QUEUE, Some(ME)),
            ConversationCommand::Resolve {
                by: by(ME),
                wrap_up: None,
                closing: None,
                wrap_up_mandatory: false,
            },
        );
        let dropped_in_my_queue = close(
            conversation(MY_QUEUE, Some(OTHER)),
            ConversationCommand::Drop {
                by: by(OTHER),
                member_of_queue: true,
            },
        );
        let resolved_elsewhere = close(
            conversation(OTHER_QUEUE, Some(OTHER)),
            ConversationCommand::Resolve {
                by: by(OTHER),
                wrap_up: None,
                closing: None,
                wrap_up_mandatory: false,
            },
        );
        let resolved = query(ListFilter::Resolved, false);
        assert!(resolved.admits(&resolved_mine));
        assert!(resolved.admits(&dropped_in_my_queue));
        assert!(!resolved.admits(&resolved_elsewhere));
        assert!(query(ListFilter::Resolved, true).admits(&resolved_elsewhere));
        // Closed is never open, mine or unassigned, whatever it remembers.
        for filter in [ListFilter::Mine, ListFilter::Queue, ListFilter::All] {
            assert!(!query(filter, false).admits(&resolved_mine));
            assert!(!query(filter, false).admits(&dropped_in_my_queue));
        }
    }

    #[test]
    fn a2_agents_see_only_their_queues_assignments_and_alerts_unless_they_see_all() {
        let theirs_elsewhere = conversation(OTHER_QUEUE, Some(OTHER));
        assert!(!query(ListFilter::All, false).admits(&theirs_elsewhere));
        assert!(query(ListFilter::All, true).admits(&theirs_elsewhere));
        let mut interrupted = conversation(OTHER_QUEUE, Some(ME));
        for e in interrupted
            .decide(
                &ConversationCommand::Interrupt {
                    cause: InterruptCause::QueueDeleted,
                },
                at(2),
            )
            .unwrap()
        {
            interrupted.apply(&e);
        }
        assert!(query(ListFilter::All, false).admits(&interrupted));
        assert_eq!(interrupted.assignment(), None::<&Assignment>);
    }

    #[test]
    fn c8_awaiting_reply_sorts_longest_waiting_first_and_others_newest_first() {
        let older = (at(1), ConversationId::from_u128(1));
        let newer = (at(2), ConversationId::from_u128(1));
        assert!(query(ListFilter::AwaitingReply, false).comes_before(older, newer));
        assert!(query(ListFilter::All, false).comes_before(newer, older));
    }
}
