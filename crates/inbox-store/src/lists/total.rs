//! C9: the total of a list, from the maintained counters (`conversation_counts`, kept by
//! `crate::list_counts`) instead of counting the list, so that it costs the number of counter
//! rows the viewer may see (combinations of status, inbox, queue, assignee and awaiting), not
//! the number of conversations. It agrees exactly with [`ConversationQuery::admits`]:
//!
//! - those who see all, and `mine` and `queue` for anyone: one sum of counter rows (by status,
//!   awaiting, unassigned, the viewer as assignee, or the viewer's queues; and the inbox);
//! - a plain agent's `all`, `awaiting_reply` and `resolved`: the counter rows of their
//!   assignments or their queues (one sum: each conversation is in exactly one counter row, so
//!   one that is both theirs and in their queue is counted once), plus their conferences as
//!   guest outside those (neither theirs nor in their queues), plus the interrupted
//!   conversations that alerted them (which have no queue nor assignee, so no counter row of
//!   theirs holds them); the last two counted from their small per-agent indexes, as the
//!   page's branches read them;
//! - a plain agent's `unassigned`: the unassigned counter rows of their queues, plus their
//!   alerts (a conference always has an assignee).
//!
//! [`ConversationQuery::admits`]: conversation_core::ports::ConversationQuery::admits

use std::fmt::Write as _;

use conversation_core::ids::QueueId;
use conversation_core::ports::ListFilter;

use super::{Binder, Param, Part, Plan, Source};

/// Which counter rows the viewer sees.
enum Counted {
    /// Every row (sees all).
    Everything,
    /// The viewer as assignee.
    Assignee,
    /// The viewer's queues.
    Queues,
    /// The viewer as assignee, or the viewer's queues.
    AssigneeOrQueues,
}

/// The expression of the total, to be selected in the page's statement (it reads the
/// `alerted` common table expression when the plan has alerted branches).
pub(super) fn sql(binder: &mut Binder<'_>, plan: &Plan<'_>, queues: &[QueueId]) -> String {
    let sees_all = binder.query.viewer.sees_all;
    let counted = match plan.filter {
        ListFilter::Mine => Some(Counted::Assignee),
        ListFilter::Queue => (!queues.is_empty()).then_some(Counted::Queues),
        _ if sees_all => Some(Counted::Everything),
        ListFilter::Unassigned => (!queues.is_empty()).then_some(Counted::Queues),
        ListFilter::AwaitingReply | ListFilter::All | ListFilter::Resolved => {
            Some(if queues.is_empty() {
                Counted::Assignee
            } else {
                Counted::AssigneeOrQueues
            })
        }
    };
    let mut parts = Vec::new();
    if let Some(counted) = counted {
        parts.push(counters(binder, plan.filter, &counted, queues));
    }
    // The viewer's conferences and alerts, from the plan's own branches, without the cursor.
    for source in &plan.sources {
        if matches!(source, Source::Guest | Source::Alerted) {
            for status in plan.statuses {
                let outside = if matches!(source, Source::Guest) {
                    queues
                } else {
                    &[]
                };
                let from_where = binder.branch(plan, *source, status, Part::Count { outside });
                parts.push(format!("(SELECT COUNT(*) {from_where})"));
            }
        }
    }
    if parts.is_empty() {
        "0".to_owned()
    } else {
        parts.join(" + ")
    }
}

/// The sum of the counter rows of the list that the viewer sees.
fn counters(
    binder: &mut Binder<'_>,
    filter: ListFilter,
    counted: &Counted,
    queues: &[QueueId],
) -> String {
    let account = binder.bind(Param::Account);
    let mut sql = format!(
        "(SELECT CAST(COALESCE(SUM(c.n), 0) AS BIGINT) FROM conversation_counts c \
         WHERE c.account_id = {account}"
    );
    sql.push_str(match filter {
        ListFilter::Resolved => " AND c.status IN ('resolved', 'dropped')",
        _ => " AND c.status = 'open'",
    });
    match filter {
        ListFilter::Unassigned => {
            let nil = binder.bind(Param::Nil);
            let _ = write!(sql, " AND c.assignee_key = {nil}");
        }
        ListFilter::AwaitingReply => sql.push_str(" AND c.awaiting"),
        _ => {}
    }
    match counted {
        Counted::Everything => {}
        Counted::Assignee => {
            let agent = binder.bind(Param::Agent);
            let _ = write!(sql, " AND c.assignee_key = {agent}");
        }
        Counted::Queues => {
            let queues = binder.one_of(queues);
            let _ = write!(sql, " AND c.queue_key {queues}");
        }
        Counted::AssigneeOrQueues => {
            let agent = binder.bind(Param::Agent);
            let queues = binder.one_of(queues);
            let _ = write!(
                sql,
                " AND (c.assignee_key = {agent} OR c.queue_key {queues})"
            );
        }
    }
    if binder.query.inbox.is_some() {
        let inbox = binder.bind(Param::Inbox);
        let _ = write!(sql, " AND c.inbox_id = {inbox}");
    }
    sql.push(')');
    sql
}
