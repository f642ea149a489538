//! C9 lists (`ConversationStore::list_conversations`): each list holds exactly what
//! `ConversationQuery::admits` says, in `comes_before` order with `key_of` keys, page after page
//! with the total on every page (C9, C8, A2, A1, C7).

use std::cmp::Ordering;
use std::collections::BTreeSet;

use conversation_core::actor::Principal;
use conversation_core::conversation::{
    Assignment, Conversation, ConversationCommand, ConversationState, InterruptCause,
};
use conversation_core::ids::{
    AccountId, AgentId, ConversationId, InboxId, QueueId, WrapUpReasonId,
};
use conversation_core::ports::{
    CommitStore, ConversationQuery, ConversationStore, ListFilter, ListRow, Viewer,
};
use uuid::Uuid;

use crate::commit::command_commit;
use crate::readers::{conversation, other_account, put, replace};
use crate::support::{Fixture, contract, id, t};

/// The list as the core defines it: the admitted conversations in list order.
fn expected<'a>(query: &ConversationQuery, all: &'a [Conversation]) -> Vec<&'a Conversation> {
    let mut rows: Vec<&Conversation> = all.iter().filter(|c| query.admits(c)).collect();
    rows.sort_by(|a, b| {
        let (a, b) = ((query.key_of(a), a.id), (query.key_of(b), b.id));
        if query.comes_before(a, b) {
            Ordering::Less
        } else if query.comes_before(b, a) {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    });
    rows
}

/// Follows every page of the list; returns its rows. Checks on each page: at most `limit` rows
/// (capped at `MAX_LIMIT`), each row's key is its `key_of`, the total is the whole list's.
async fn walk(fx: &Fixture, query: &ConversationQuery, total: usize) -> Vec<ListRow> {
    let mut query = query.clone();
    let cap = usize::try_from(query.limit.min(ConversationQuery::MAX_LIMIT)).unwrap();
    let mut rows = Vec::new();
    for _ in 0..=total + 1 {
        let page = fx.store.list_conversations(&query).await.unwrap();
        assert_eq!(
            page.total,
            u64::try_from(total).unwrap(),
            "total of {query:?}"
        );
        assert!(page.rows.len() <= cap, "page over its limit: {query:?}");
        for row in &page.rows {
            assert_eq!(row.key, query.key_of(&row.conversation), "key of a row");
        }
        rows.extend(page.rows);
        match page.next {
            Some(cursor) => query.after = Some(cursor),
            None => return rows,
        }
    }
    panic!("the list never ended: {query:?}");
}

/// C9, A2: the list agrees with the core's predicate: the same conversations, equal to what was
/// stored, in the same order, each exactly once, over every page.
async fn check(fx: &Fixture, all: &[Conversation], query: &ConversationQuery) {
    let want = expected(query, all);
    let got = walk(fx, query, want.len()).await;
    let got_ids: Vec<ConversationId> = got.iter().map(|r| r.conversation.id).collect();
    let want_ids: Vec<ConversationId> = want.iter().map(|c| c.id).collect();
    assert_eq!(got_ids, want_ids, "rows of {query:?}");
    for (row, want) in got.iter().zip(want) {
        assert_eq!(&row.conversation, want, "a row reads back equal");
    }
}

fn query(
    fx: &Fixture,
    agent: AgentId,
    queues: &[QueueId],
    sees_all: bool,
    filter: ListFilter,
) -> ConversationQuery {
    ConversationQuery {
        account: fx.account,
        viewer: Viewer {
            agent,
            queues: queues.to_vec(),
            sees_all,
        },
        filter,
        inbox: None,
        after: None,
        limit: 25,
    }
}

/// Ids of a whole list, in order.
async fn ids(fx: &Fixture, query: &ConversationQuery) -> Vec<ConversationId> {
    let page = fx.store.list_conversations(query).await.unwrap();
    assert!(page.next.is_none());
    page.rows.iter().map(|r| r.conversation.id).collect()
}

/// A small deterministic generator (splitmix64), so that a failure replays from its seed.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let len = u64::try_from(items.len()).unwrap();
        items[usize::try_from(self.below(len)).unwrap()]
    }

    /// A time among few, so that keys tie often and ids break the ties.
    pub fn time(&mut self) -> chrono::DateTime<chrono::Utc> {
        t(i64::try_from(self.below(12)).unwrap())
    }

    pub fn id(&mut self) -> Uuid {
        Uuid::from_u64_pair(self.next(), self.next())
    }
}

/// The agents and queues random conversations are made of.
pub struct World {
    pub agents: Vec<AgentId>,
    pub queues: Vec<QueueId>,
    pub inboxes: Vec<InboxId>,
}

impl World {
    /// Any state a conversation can be in, with consistent data.
    pub fn state(&self, rng: &mut Rng) -> ConversationState {
        let queue = if rng.chance(80) {
            Some(rng.pick(&self.queues))
        } else {
            None
        };
        let agent = rng.pick(&self.agents);
        let other = loop {
            let other = rng.pick(&self.agents);
            if other != agent {
                break other;
            }
        };
        let assignment = match rng.below(12) {
            0 => Assignment::Unassigned,
            1 | 2 => Assignment::Waiting {
                queue: rng.pick(&self.queues),
                since: rng.time(),
            },
            3 => Assignment::Offered {
                queue,
                agent,
                offered_at: rng.time(),
                queued_since: rng.time(),
                deadline: rng.time(),
            },
            4 | 5 => Assignment::Assigned {
                queue,
                agent,
                since: rng.time(),
            },
            6 => Assignment::ConferenceRequested {
                queue,
                agent,
                invitee: other,
                deadline: rng.time(),
            },
            7 => Assignment::Conference {
                queue,
                agent,
                guest: other,
            },
            8 => return ConversationState::Bot { flow: "faq".into() },
            9 => {
                return ConversationState::Interrupted {
                    cause: InterruptCause::QueueDeleted,
                    agents: self
                        .agents
                        .iter()
                        .copied()
                        .filter(|_| rng.chance(40))
                        .collect(),
                };
            }
            // C9: a closed conversation remembers its last queue and agent, or none.
            10 => {
                return ConversationState::Resolved {
                    at: rng.time(),
                    queue,
                    agent: rng.chance(70).then_some(agent),
                };
            }
            _ => {
                return ConversationState::Dropped {
                    at: rng.time(),
                    queue,
                    agent: rng.chance(70).then_some(agent),
                };
            }
        };
        ConversationState::Open { assignment }
    }

    /// A random conversation of the account.
    pub fn conversation(&self, rng: &mut Rng, account: AccountId) -> Conversation {
        let mut c = conversation(
            account,
            rng.pick(&self.inboxes),
            self.state(rng),
            rng.time(),
        );
        // Unique across runs (PostgreSQL keeps earlier runs' rows): mixed with the fresh account.
        c.id = ConversationId::from_uuid(Uuid::from_u128(
            rng.id().as_u128() ^ account.as_uuid().as_u128(),
        ));
        self.retime(rng, &mut c);
        c
    }

    pub fn retime(&self, rng: &mut Rng, c: &mut Conversation) {
        c.last_message_at = rng.chance(70).then(|| rng.time());
        c.last_inbound_at = c.last_message_at;
        c.waiting_since = rng.chance(50).then(|| rng.time());
    }
}

contract!(
    c9_a2_a1_lists_agree_with_the_core_predicate_on_random_conversations,
    |fx: Fixture| async move {
        // spec: C9, C8, A2, A1, C7. Random conversations in every state, over two inboxes and
        // three queues, plus another account's conversations on the same agents and queues;
        // then a third of them rewritten into other states (the update path, alerts included).
        // Every list of several viewers, with and without an inbox, page by page, must be the
        // core's `admits` in `comes_before` order.
        let other = other_account(&fx).await;
        // Every conversation of the account so far, with its stored version (each seed adds
        // to the same account, so later lists hold earlier seeds' conversations too).
        let mut all = Vec::new();
        let mut versions = Vec::new();
        for seed in [7_u64, 2026] {
            let mut rng = Rng(seed);
            let world = World {
                agents: (0..4).map(|_| AgentId::from_uuid(rng.id())).collect(),
                queues: (0..3).map(|_| QueueId::from_uuid(rng.id())).collect(),
                inboxes: (0..2).map(|_| InboxId::from_uuid(rng.id())).collect(),
            };
            let me = world.agents[0];
            for _ in 0..48 {
                let c = world.conversation(&mut rng, fx.account);
                put(&fx, &c).await;
                all.push(c);
                versions.push(1);
            }
            for _ in 0..6 {
                let c = world.conversation(&mut rng, other);
                put(&fx, &c).await;
            }
            let foreign_queue = QueueId::from_uuid(rng.id());
            let q = &world.queues;
            let viewers = [
                Viewer {
                    agent: me,
                    queues: vec![q[0]],
                    sees_all: false,
                },
                Viewer {
                    agent: me,
                    queues: vec![q[0], q[1], foreign_queue, q[0]],
                    sees_all: false,
                },
                Viewer {
                    agent: me,
                    queues: Vec::new(),
                    sees_all: false,
                },
                Viewer {
                    agent: world.agents[1],
                    queues: vec![q[1], q[2]],
                    sees_all: false,
                },
                Viewer {
                    agent: me,
                    queues: vec![q[2]],
                    sees_all: true,
                },
            ];
            for phase in 0..2 {
                if phase == 1 {
                    for (c, version) in all.iter_mut().zip(&mut versions) {
                        if !rng.chance(33) {
                            continue;
                        }
                        c.state = world.state(&mut rng);
                        world.retime(&mut rng, c);
                        replace(&fx, c, *version).await;
                        *version += 1;
                    }
                }
                for viewer in &viewers {
                    for filter in ListFilter::ALL {
                        for inbox in [None, Some(world.inboxes[0])] {
                            let query = ConversationQuery {
                                account: fx.account,
                                viewer: viewer.clone(),
                                filter,
                                inbox,
                                after: None,
                                limit: rng.pick(&[1, 2, 3, 5, 8, 100]),
                            };
                            check(&fx, &all, &query).await;
                        }
                    }
                }
            }
        }
    }
);

contract!(
    c9_a2_each_list_holds_what_its_name_says,
    |fx: Fixture| async move {
        let (me, other) = (fx.agent(5).await, fx.agent(5).await);
        let my_queue = fx.queue(&[me, other]).await;
        let other_queue = fx.queue(&[other]).await;
        let inbox = fx.inbox(None).await;
        let mut all = Vec::new();
        // Each conversation through the commands that bring it there; returns its last state.
        let mut run = async |queue: QueueId, commands: Vec<ConversationCommand>| {
            let (mut c, _) = fx.start(inbox, fx.contact().await, Some(queue)).await;
            for (n, command) in commands.iter().enumerate() {
                let (commit, after) =
                    command_commit(&fx, &c, u64::try_from(n + 1).unwrap(), command);
                fx.store.commit(commit).await.unwrap();
                c = after;
            }
            all.push(c.clone());
            c.id
        };
        let waiting = run(my_queue, vec![]).await;
        let mine = run(
            other_queue,
            vec![ConversationCommand::RouteAssign { agent: me }],
        )
        .await;
        let _theirs = run(
            other_queue,
            vec![ConversationCommand::RouteAssign { agent: other }],
        )
        .await;
        let theirs_in_my_queue = run(
            my_queue,
            vec![ConversationCommand::RouteAssign { agent: other }],
        )
        .await;
        let conference = run(
            other_queue,
            vec![
                ConversationCommand::RouteAssign { agent: other },
                ConversationCommand::InviteToConference {
                    by: Principal::agent(other),
                    invitee: me,
                    available: true,
                    deadline: t(40),
                },
                ConversationCommand::AcceptConference { agent: me },
            ],
        )
        .await;
        let interrupted = run(
            other_queue,
            vec![
                ConversationCommand::RouteAssign { agent: me },
                ConversationCommand::Interrupt {
                    cause: InterruptCause::QueueDeleted,
                },
            ],
        )
        .await;
        let resolved = run(
            my_queue,
            vec![
                ConversationCommand::RouteAssign { agent: me },
                ConversationCommand::Resolve {
                    by: Principal::agent(me),
                    wrap_up: None,
                    closing: None,
                    wrap_up_mandatory: false,
                },
            ],
        )
        .await;
        let set = |ids: Vec<ConversationId>| ids.into_iter().collect::<BTreeSet<_>>();
        let my = |filter| query(&fx, me, &[my_queue], false, filter);
        assert_eq!(ids(&fx, &my(ListFilter::Mine)).await, [mine]);
        assert_eq!(
            set(ids(&fx, &my(ListFilter::Unassigned)).await),
            set(vec![waiting, interrupted])
        );
        assert_eq!(
            set(ids(&fx, &my(ListFilter::Queue)).await),
            set(vec![waiting, theirs_in_my_queue])
        );
        let visible = set(vec![
            waiting,
            mine,
            theirs_in_my_queue,
            conference,
            interrupted,
        ]);
        assert_eq!(set(ids(&fx, &my(ListFilter::All)).await), visible);
        // Every one of them started with a contact message nobody answered (C8).
        assert_eq!(set(ids(&fx, &my(ListFilter::AwaitingReply)).await), visible);
        let admin_resolved = query(&fx, other, &[], true, ListFilter::Resolved);
        assert_eq!(ids(&fx, &admin_resolved).await, [resolved]);
        assert_eq!(
            fx.store
                .list_conversations(&query(&fx, me, &[], true, ListFilter::All))
                .await
                .unwrap()
                .total,
            6
        );
        for filter in ListFilter::ALL {
            for sees_all in [false, true] {
                check(&fx, &all, &query(&fx, me, &[my_queue], sees_all, filter)).await;
                check(
                    &fx,
                    &all,
                    &query(&fx, other, &[other_queue], sees_all, filter),
                )
                .await;
            }
        }
    }
);

contract!(
    c9_pages_visit_every_row_once_and_carry_the_total,
    |fx: Fixture| async move {
        let inbox = InboxId::from_uuid(id());
        let agent = AgentId::from_uuid(id());
        let mut all = Vec::new();
        // 23 conversations over 4 distinct activity times: most keys tie, ids order them.
        for n in 0..23_i64 {
            let mut c = conversation(
                fx.account,
                inbox,
                ConversationState::Open {
                    assignment: Assignment::Unassigned,
                },
                t(n % 4),
            );
            c.waiting_since = (n % 3 != 0).then(|| t(n % 5));
            put(&fx, &c).await;
            all.push(c);
        }
        for filter in [
            ListFilter::All,
            ListFilter::Unassigned,
            ListFilter::AwaitingReply,
        ] {
            for limit in [1, 4, 23, 24] {
                let mut q = query(&fx, agent, &[], true, filter);
                q.limit = limit;
                let want = expected(&q, &all);
                let rows = walk(&fx, &q, want.len()).await;
                let seen: BTreeSet<ConversationId> =
                    rows.iter().map(|r| r.conversation.id).collect();
                assert_eq!(seen.len(), rows.len(), "no row twice");
                assert_eq!(rows.len(), want.len(), "every row");
                check(&fx, &all, &q).await;
            }
        }
        // A limit of 0 reads only the total.
        let mut q = query(&fx, agent, &[], true, ListFilter::All);
        q.limit = 0;
        let page = fx.store.list_conversations(&q).await.unwrap();
        assert_eq!((page.rows.len(), page.next, page.total), (0, None, 23));
    }
);

contract!(
    c9_a_page_holds_at_most_max_limit_rows,
    |fx: Fixture| async move {
        let inbox = InboxId::from_uuid(id());
        let count = ConversationQuery::MAX_LIMIT + 3;
        for n in 0..count {
            let c = conversation(
                fx.account,
                inbox,
                ConversationState::Resolved {
                    at: t(1),
                    queue: None,
                    agent: None,
                },
                t(i64::from(n)),
            );
            put(&fx, &c).await;
        }
        let mut q = query(
            &fx,
            AgentId::from_uuid(id()),
            &[],
            true,
            ListFilter::Resolved,
        );
        q.limit = 10_000;
        let page = fx.store.list_conversations(&q).await.unwrap();
        assert_eq!(page.rows.len(), 100);
        assert_eq!(page.total, u64::from(count));
        // Newest activity first.
        assert_eq!(page.rows[0].key, t(i64::from(count - 1)));
        q.after = page.next;
        let rest = fx.store.list_conversations(&q).await.unwrap();
        assert_eq!((rest.rows.len(), rest.next), (3, None));
        assert_eq!(rest.rows[2].key, t(0));
    }
);

contract!(
    a2_an_agent_in_many_queues_sees_each_of_them_once,
    |fx: Fixture| async move {
        // More queues than the store reads as separate branches: one `IN` branch instead.
        let me = AgentId::from_uuid(id());
        let other = AgentId::from_uuid(id());
        let queues: Vec<QueueId> = (0..20).map(|_| QueueId::from_uuid(id())).collect();
        let inbox = InboxId::from_uuid(id());
        let mut all = Vec::new();
        for (n, queue) in queues.iter().enumerate() {
            let n = i64::try_from(n).unwrap();
            for assignment in [
                Assignment::Waiting {
                    queue: *queue,
                    since: t(n),
                },
                Assignment::Assigned {
                    queue: Some(*queue),
                    agent: me,
                    since: t(n),
                },
                Assignment::Assigned {
                    queue: Some(*queue),
                    agent: other,
                    since: t(n),
                },
                Assignment::Conference {
                    queue: Some(*queue),
                    agent: other,
                    guest: me,
                },
            ] {
                let mut c = conversation(
                    fx.account,
                    inbox,
                    ConversationState::Open { assignment },
                    t(n % 7),
                );
                c.waiting_since = (n % 2 == 0).then(|| t(n % 5));
                put(&fx, &c).await;
                all.push(c);
            }
        }
        for filter in ListFilter::ALL {
            for viewed in [&queues[..], &queues[..17], &queues[..3]] {
                let mut q = query(&fx, me, viewed, false, filter);
                q.limit = 7;
                check(&fx, &all, &q).await;
            }
        }
        let all_list = query(&fx, me, &queues, false, ListFilter::All);
        assert_eq!(
            fx.store.list_conversations(&all_list).await.unwrap().total,
            80
        );
    }
);

contract!(
    c7_alerted_agents_see_an_interrupted_conversation_until_it_is_ended,
    |fx: Fixture| async move {
        let me = fx.agent(5).await;
        let queue = fx.queue(&[me]).await;
        let inbox = fx.inbox(Some(queue)).await;
        let (c, _) = fx.start(inbox, fx.contact().await, Some(queue)).await;
        let (commit, assigned) =
            command_commit(&fx, &c, 1, &ConversationCommand::RouteAssign { agent: me });
        fx.store.commit(commit).await.unwrap();
        let interrupt = ConversationCommand::Interrupt {
            cause: InterruptCause::QueueDeleted,
        };
        let (commit, interrupted) = command_commit(&fx, &assigned, 2, &interrupt);
        fx.store.commit(commit).await.unwrap();
        // In no queue and with nobody now; still on the lists of the agent it alerted.
        let mine = |filter| query(&fx, me, &[], false, filter);
        assert_eq!(ids(&fx, &mine(ListFilter::All)).await, [c.id]);
        assert_eq!(ids(&fx, &mine(ListFilter::Unassigned)).await, [c.id]);
        assert_eq!(ids(&fx, &mine(ListFilter::AwaitingReply)).await, [c.id]);
        assert!(ids(&fx, &mine(ListFilter::Mine)).await.is_empty());
        let stranger = query(
            &fx,
            AgentId::from_uuid(id()),
            &[queue],
            false,
            ListFilter::All,
        );
        assert!(ids(&fx, &stranger).await.is_empty());
        // Ended with a wrap-up reason: off the agent's open lists, and its alert rows gone.
        let end = ConversationCommand::Resolve {
            by: Principal::agent(me),
            wrap_up: Some(WrapUpReasonId::from_uuid(id())),
            closing: None,
            wrap_up_mandatory: false,
        };
        let (commit, ended) = command_commit(&fx, &interrupted, 3, &end);
        fx.store.commit(commit).await.unwrap();
        assert!(ids(&fx, &mine(ListFilter::All)).await.is_empty());
        let alerts = fx
            .store
            .db()
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM conversation_alerts WHERE conversation_id = $1",
                &[c.id.into()],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(alerts.int("n").unwrap(), 0);
        check(
            &fx,
            &[ended],
            &query(&fx, me, &[queue], true, ListFilter::Resolved),
        )
        .await;
    }
);
