//! C9 conversation lists in SQL (`ConversationStore::list_conversations`), agreeing exactly with
//! [`ConversationQuery::admits`], [`ConversationQuery::key_of`] and
//! [`ConversationQuery::comes_before`] (the contract suite checks it on random data).
//!
//! A list is a union of *branches*. Each branch is one index range read in list order: a source
//! of visible conversations (everything for those who see all; else the viewer's assignments,
//! their conferences as guest, each of their queues, the interrupted conversations that alerted
//! them), one status, the filter's extra condition, the inbox if asked, and the keyset cursor
//! `(key, id)`. Each branch stops after `limit + 1` rows, so a page reads about
//! `branches x (limit + 1)` index entries however large the account is (plus what a branch
//! skips: in a queue, the viewer's own conversations, which their own branches bring; with an
//! inbox, other inboxes' entries), and sorts that handful. The branches of one list are
//! disjoint by construction (a conversation has one
//! status and one queue; the queue branches leave out what the assignee and guest branches
//! bring), so `UNION ALL` needs no deduplication. The total is summed, in the same statement
//! (one snapshot), from the maintained counters of `conversation_counts` plus the viewer's
//! conferences and alerts counted from their small indexes (see [`total`]), so it costs the
//! number of counter rows the viewer may see, not the length of the list. No message is read.
//!
//! The SQL is built only from the fixed fragments below, chosen by the filter, the dialect and
//! the shape of the query (how many queues, whether an inbox and a cursor are given); every
//! value is bound (S3). Which index serves each branch is written at [`Source::index`].

mod total;

use std::fmt::Write as _;

use conversation_core::conversation::Conversation;
use conversation_core::ids::QueueId;
use conversation_core::ports::{
    ConversationPage, ConversationQuery, ListCursor, ListFilter, ListRow,
};

use crate::error::{OrStoreError, StoreResult};
use crate::sql::{Arg, Db, Dialect};

/// Above this many queues, a viewer's queues are read as one `queue_id IN (...)` branch instead
/// of one branch per queue (which keeps the statement within SQLite's limit on compound
/// selects). Still correct; only the per-branch limit is lost.
const MAX_QUEUE_BRANCHES: usize = 16;

/// Where a branch finds its conversations; [`Source::index`] names the index that serves it.
#[derive(Clone, Copy, Debug)]
enum Source<'q> {
    /// Every conversation of the account (full access, admin, owner).
    Everything,
    /// Assigned to the viewer.
    Assignee,
    /// The viewer is the conference guest (and so not the assignee).
    Guest,
    /// In these queues (one, or more than [`MAX_QUEUE_BRANCHES`] at once). With `others_only`,
    /// leaves out the conversations the viewer is assignee or guest of, which their own
    /// branches bring.
    Queues {
        queues: &'q [QueueId],
        others_only: bool,
    },
    /// Interrupted, and the viewer was alerted (C7): `conversation_alerts_agent`, then each
    /// conversation by primary key, read once for the whole statement (an agent has few
    /// alerts), then filtered and sorted. An interrupted conversation has no assignee, guest nor
    /// queue column, so no other branch brings it.
    Alerted,
}

impl Source<'_> {
    /// The index that serves the branch: its equality columns lead, then the list's sort key,
    /// so the branch is one range read in list order that stops after `limit + 1` rows. With an
    /// inbox, the rows of other inboxes in that range are skipped inside the index (the open-list
    /// indexes end with `inbox_id`); `all` and `resolved` of one inbox, for those who see all,
    /// have `conversations_by_inbox`. SQLite is told the index (`INDEXED BY`): its statistics,
    /// skewed by the many NULL assignee and queue columns, otherwise lead it to sort whole
    /// queues.
    const fn index(self, filter: ListFilter, inbox: bool) -> Option<&'static str> {
        Some(match (self, filter) {
            (Self::Alerted, _) => return None,
            (Self::Assignee, _) => "conversations_by_assignee",
            (Self::Guest, _) => "conversations_by_guest",
            (Self::Queues { .. }, ListFilter::Unassigned) => "conversations_unassigned_by_queue",
            (Self::Queues { .. }, ListFilter::AwaitingReply) => "conversations_awaiting_by_queue",
            (Self::Queues { .. }, _) => "conversations_by_queue",
            (Self::Everything, ListFilter::AwaitingReply) => "conversations_awaiting_open",
            (Self::Everything, ListFilter::Unassigned) => "conversations_unassigned",
            (Self::Everything, _) if inbox => "conversations_by_inbox",
            (Self::Everything, _) => "conversations_by_status",
        })
    }
}

/// The sort of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// Newest activity first (`activity_at`, then id, descending).
    NewestActivity,
    /// C8: longest waiting first (`waiting_since`, then id, ascending).
    LongestWaiting,
}

impl Order {
    const fn column(self) -> &'static str {
        match self {
            Self::NewestActivity => "c.activity_at",
            Self::LongestWaiting => "c.waiting_since",
        }
    }

    const fn direction(self) -> &'static str {
        match self {
            Self::NewestActivity => "DESC",
            Self::LongestWaiting => "ASC",
        }
    }

    /// The comparison that keeps the rows after the cursor.
    const fn after(self) -> &'static str {
        match self {
            Self::NewestActivity => "<",
            Self::LongestWaiting => ">",
        }
    }
}

/// The status clauses, literal so that partial indexes on `status = 'open'` apply.
const OPEN: &str = " AND c.status = 'open'";
const RESOLVED: &str = " AND c.status = 'resolved'";
const DROPPED: &str = " AND c.status = 'dropped'";

/// Everything a list's SQL is built from.
struct Plan<'q> {
    filter: ListFilter,
    sources: Vec<Source<'q>>,
    statuses: &'static [&'static str],
    /// The filter's own condition.
    extra: &'static str,
    order: Order,
}

impl<'q> Plan<'q> {
    /// C9, C8, A2: the branches of the list, as `ConversationQuery::admits` defines it.
    fn new(query: &ConversationQuery, queues: &'q [QueueId]) -> Self {
        let queue_sources = |others_only: bool| -> Vec<Source<'q>> {
            if queues.len() > MAX_QUEUE_BRANCHES {
                vec![Source::Queues {
                    queues,
                    others_only,
                }]
            } else {
                queues
                    .chunks(1)
                    .map(|queues| Source::Queues {
                        queues,
                        others_only,
                    })
                    .collect()
            }
        };
        let sources = match query.filter {
            ListFilter::Mine => vec![Source::Assignee],
            ListFilter::Queue => queue_sources(false),
            _ if query.viewer.sees_all => vec![Source::Everything],
            // No assignee: neither the viewer's assignments nor their conferences (a
            // conference always has its assignee).
            ListFilter::Unassigned => {
                let mut sources = queue_sources(false);
                sources.push(Source::Alerted);
                sources
            }
            ListFilter::AwaitingReply | ListFilter::All | ListFilter::Resolved => {
                let mut sources = vec![Source::Assignee, Source::Guest];
                sources.extend(queue_sources(true));
                sources.push(Source::Alerted);
                sources
            }
        };
        Self {
            filter: query.filter,
            sources,
            statuses: match query.filter {
                ListFilter::Resolved => &[RESOLVED, DROPPED],
                _ => &[OPEN],
            },
            extra: match query.filter {
                ListFilter::Unassigned => " AND c.assignee_id IS NULL",
                ListFilter::AwaitingReply => " AND c.waiting_since IS NOT NULL",
                _ => "",
            },
            order: match query.filter {
                ListFilter::AwaitingReply => Order::LongestWaiting,
                _ => Order::NewestActivity,
            },
        }
    }
}

/// A bound value, by what it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Param {
    Account,
    Agent,
    Inbox,
    CursorKey,
    CursorId,
    Fetch,
    Queue(QueueId),
    /// The nil UUID: no queue or no assignee in `conversation_counts`.
    Nil,
}

/// Which statement a branch is written for.
#[derive(Clone, Copy, Debug)]
enum Part<'q> {
    /// The page: after the cursor, queue branches without the viewer's own conversations.
    Page,
    /// Part of the total (see [`total`]): every row of the branch that is in none of these
    /// queues (the counters already hold those).
    Count { outside: &'q [QueueId] },
}

/// Binds each value once and hands out its `$N`.
struct Binder<'q> {
    query: &'q ConversationQuery,
    dialect: Dialect,
    fetch: i64,
    args: Vec<Arg>,
    bound: Vec<Param>,
}

impl Binder<'_> {
    fn bind(&mut self, param: Param) -> String {
        let index = if let Some(index) = self.bound.iter().position(|p| *p == param) {
            index
        } else {
            let arg = match param {
                Param::Account => Arg::from(self.query.account),
                Param::Agent => Arg::from(self.query.viewer.agent),
                Param::Inbox => Arg::from(self.query.inbox),
                Param::CursorKey => Arg::from(self.query.after.map(|cursor| cursor.key)),
                Param::CursorId => Arg::from(self.query.after.map(|cursor| cursor.id)),
                Param::Fetch => Arg::from(self.fetch),
                Param::Queue(queue) => Arg::from(queue),
                Param::Nil => Arg::from(uuid::Uuid::nil()),
            };
            self.args.push(arg);
            self.bound.push(param);
            self.bound.len() - 1
        };
        format!("${}", index + 1)
    }

    /// ` AND c.queue_id ...` for these queues.
    fn in_queues(&mut self, sql: &mut String, queues: &[QueueId]) {
        let _ = write!(sql, " AND c.queue_id {}", self.one_of(queues));
    }

    /// `= $N` or `IN ($N, ...)` for these queues (at least one).
    fn one_of(&mut self, queues: &[QueueId]) -> String {
        let placeholders: Vec<String> = queues
            .iter()
            .map(|queue| self.bind(Param::Queue(*queue)))
            .collect();
        if let [one] = placeholders.as_slice() {
            format!("= {one}")
        } else {
            format!("IN ({})", placeholders.join(", "))
        }
    }

    /// `FROM ... WHERE ...` of one branch.
    fn branch(
        &mut self,
        plan: &Plan<'_>,
        source: Source<'_>,
        status: &str,
        part: Part<'_>,
    ) -> String {
        let mut sql = String::with_capacity(256);
        if let Source::Alerted = source {
            sql.push_str("FROM alerted c WHERE c.interrupted");
        } else {
            sql.push_str("FROM conversations c");
            if let (Dialect::Sqlite, Some(index)) = (
                self.dialect,
                source.index(plan.filter, self.query.inbox.is_some()),
            ) {
                let _ = write!(sql, " INDEXED BY {index}");
            }
            let account = self.bind(Param::Account);
            let _ = write!(sql, " WHERE c.account_id = {account}");
        }
        match source {
            Source::Everything | Source::Alerted => {}
            Source::Assignee => {
                let agent = self.bind(Param::Agent);
                let _ = write!(sql, " AND c.assignee_id = {agent}");
            }
            Source::Guest => {
                let agent = self.bind(Param::Agent);
                let _ = write!(
                    sql,
                    " AND c.guest_id = {agent} AND c.assignee_id <> {agent}"
                );
            }
            Source::Queues {
                queues,
                others_only,
            } => {
                self.in_queues(&mut sql, queues);
                if others_only && matches!(part, Part::Page) {
                    let agent = self.bind(Param::Agent);
                    let _ = write!(
                        sql,
                        " AND (c.assignee_id IS NULL OR c.assignee_id <> {agent}) \
                         AND (c.guest_id IS NULL OR c.guest_id <> {agent})"
                    );
                }
            }
        }
        sql.push_str(status);
        sql.push_str(plan.extra);
        if self.query.inbox.is_some() {
            let inbox = self.bind(Param::Inbox);
            let _ = write!(sql, " AND c.inbox_id = {inbox}");
        }
        if let Part::Count { outside } = part {
            if !outside.is_empty() {
                let queues = self.one_of(outside);
                let _ = write!(
                    sql,
                    " AND (c.queue_id IS NULL OR NOT (c.queue_id {queues}))"
                );
            }
        }
        if matches!(part, Part::Page) && self.query.after.is_some() {
            let (key, id) = (self.bind(Param::CursorKey), self.bind(Param::CursorId));
            let _ = write!(
                sql,
                " AND ({}, c.id) {} ({key}, {id})",
                plan.order.column(),
                plan.order.after()
            );
        }
        sql
    }
}

/// The statement of one page and its total, with its arguments.
///
/// Each branch is its own `MATERIALIZED` common table expression, so that the planner plans it
/// alone, as the small ordered index read it is. Inlined into one merge of all branches,
/// PostgreSQL's generic plans (every estimate about one row) chose paths by their start-up cost
/// and could read a whole account-wide index with a filter for a branch that a narrower index
/// answers at once. For the same reason the viewer's alerts are read once, in `alerted`, joined
/// to their conversations by primary key only; the alerted branches filter that small set.
fn page_sql(
    dialect: Dialect,
    query: &ConversationQuery,
    plan: &Plan<'_>,
    queues: &[QueueId],
    fetch: i64,
) -> (String, Vec<Arg>) {
    let mut binder = Binder {
        query,
        dialect,
        fetch,
        args: Vec::new(),
        bound: Vec::new(),
    };
    let (column, direction) = (plan.order.column(), plan.order.direction());
    let mut branches = Vec::new();
    let mut page = Vec::new();
    for source in &plan.sources {
        for status in plan.statuses {
            let from_where = binder.branch(plan, *source, status, Part::Page);
            let fetch = binder.bind(Param::Fetch);
            let name = format!("b{}", page.len());
            page.push(format!("SELECT id, k FROM {name}"));
            branches.push(format!(
                "{name} AS MATERIALIZED (SELECT c.id AS id, {column} AS k {from_where} \
                 ORDER BY {column} {direction}, c.id {direction} LIMIT {fetch})"
            ));
        }
    }
    let total = total::sql(&mut binder, plan, queues);
    if plan
        .sources
        .iter()
        .any(|source| matches!(source, Source::Alerted))
    {
        let (account, agent) = (binder.bind(Param::Account), binder.bind(Param::Agent));
        branches.insert(
            0,
            format!(
                "alerted AS MATERIALIZED (SELECT c.id, c.status, c.interrupted, c.inbox_id, \
                 c.assignee_id, c.activity_at, c.waiting_since FROM conversation_alerts al \
                 JOIN conversations c ON c.id = al.conversation_id \
                 WHERE al.account_id = {account} AND al.agent_id = {agent} AND c.account_id = {account})"
            ),
        );
    }
    let fetch = binder.bind(Param::Fetch);
    let sql = format!(
        "WITH {}, \
         page AS (SELECT u.id AS id, u.k AS k FROM ({}) AS u \
         ORDER BY u.k {direction}, u.id {direction} LIMIT {fetch}), \
         total AS (SELECT {total} AS n) \
         SELECT total.n AS total, page.k AS k, c.state AS state \
         FROM total LEFT JOIN page ON 1 = 1 LEFT JOIN conversations c ON c.id = page.id \
         ORDER BY page.k {direction}, page.id {direction}",
        branches.join(", "),
        page.join(" UNION ALL "),
    );
    (sql, binder.args)
}

/// C9: one page of a list and its total (see the module's documentation).
///
/// `limit` is capped at [`ConversationQuery::MAX_LIMIT`]; a limit of 0 reads only the total.
///
/// # Errors
/// Storage failures and corrupt rows.
pub async fn list(db: &Db, query: &ConversationQuery) -> StoreResult<ConversationPage> {
    let mut queues = query.viewer.queues.clone();
    queues.sort_unstable();
    queues.dedup();
    let plan = Plan::new(query, &queues);
    if plan.sources.is_empty() {
        // `queue` for a viewer in no queue.
        return Ok(ConversationPage {
            rows: Vec::new(),
            next: None,
            total: 0,
        });
    }
    let limit = query.limit.min(ConversationQuery::MAX_LIMIT);
    let fetch = i64::from(limit) + 1;
    let (sql, args) = page_sql(db.dialect(), query, &plan, &queues, fetch);
    let result = db.fetch_all(&sql, &args).await.store()?;
    let mut total = 0;
    let mut rows = Vec::with_capacity(result.len());
    for row in &result {
        total = row.count("total").store()?;
        let Some(key) = row.opt_time("k").store()? else {
            continue;
        };
        let conversation: Conversation = row.json("state").store()?;
        rows.push(ListRow { conversation, key });
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|row| ListCursor {
            key: row.key,
            id: row.conversation.id,
        })
    } else {
        None
    };
    Ok(ConversationPage { rows, next, total })
}
