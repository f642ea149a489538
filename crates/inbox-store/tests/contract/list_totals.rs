//! C9 list totals from the maintained counters (`conversation_counts`): after random changes of
//! every kind (not only inserts), and after concurrent commits, the counters equal a fresh count
//! of the conversations, and every list's total equals the number of conversations
//! `ConversationQuery::admits` (C9, C8, A2, C7).

use std::collections::BTreeMap;
use std::sync::Arc;

use conversation_core::actor::Principal;
use conversation_core::conversation::{Conversation, ConversationCommand};
use conversation_core::ids::{AgentId, InboxId, QueueId};
use conversation_core::ports::{
    CommitStore, ConversationQuery, ConversationStore, ListFilter, StoreError, Viewer,
};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::commit::command_commit;
use crate::lists::{Rng, World};
use crate::readers::{other_account, put, replace};
use crate::support::{Fixture, contract, t};

/// One combination of the list columns and its count.
type Counts = BTreeMap<(String, Uuid, Option<Uuid>, Option<Uuid>, bool), u64>;

/// The account's counters as stored, without the rows that fell to zero.
async fn stored_counts(fx: &Fixture) -> Counts {
    let rows = fx
        .store
        .db()
        .fetch_all(
            "SELECT status, inbox_id, queue_key, assignee_key, awaiting, n \
             FROM conversation_counts WHERE account_id = $1 AND n > 0",
            &[fx.account.into()],
        )
        .await
        .unwrap();
    let some = |id: Uuid| (!id.is_nil()).then_some(id);
    rows.iter()
        .map(|row| {
            (
                (
                    row.text("status").unwrap(),
                    row.uuid("inbox_id").unwrap(),
                    some(row.uuid("queue_key").unwrap()),
                    some(row.uuid("assignee_key").unwrap()),
                    row.bool("awaiting").unwrap(),
                ),
                row.count("n").unwrap(),
            )
        })
        .collect()
}

/// The same, counted afresh from the conversation rows.
async fn counted(fx: &Fixture) -> Counts {
    let rows = fx
        .store
        .db()
        .fetch_all(
            "SELECT status, inbox_id, queue_id, assignee_id, waiting_since FROM conversations \
             WHERE account_id = $1",
            &[fx.account.into()],
        )
        .await
        .unwrap();
    let mut counts = Counts::new();
    for row in &rows {
        let key = (
            row.text("status").unwrap(),
            row.uuid("inbox_id").unwrap(),
            row.opt_uuid("queue_id").unwrap(),
            row.opt_uuid("assignee_id").unwrap(),
            row.opt_int("waiting_since").unwrap().is_some(),
        );
        *counts.entry(key).or_default() += 1;
    }
    counts
}

/// The account's conversations as stored.
async fn stored(fx: &Fixture) -> Vec<Conversation> {
    fx.store
        .db()
        .fetch_all(
            "SELECT state FROM conversations WHERE account_id = $1",
            &[fx.account.into()],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.json("state").unwrap())
        .collect()
}

/// Every list of every viewer, with and without an inbox: its total (read alone, with a limit
/// of 0) is the number of conversations the core admits.
async fn check_totals(fx: &Fixture, all: &[Conversation], viewers: &[Viewer], inbox: InboxId) {
    for viewer in viewers {
        for filter in ListFilter::ALL {
            for inbox in [None, Some(inbox)] {
                let query = ConversationQuery {
                    account: fx.account,
                    viewer: viewer.clone(),
                    filter,
                    inbox,
                    after: None,
                    limit: 0,
                };
                let want = all.iter().filter(|c| query.admits(c)).count();
                let page = fx.store.list_conversations(&query).await.unwrap();
                assert_eq!(
                    page.total,
                    u64::try_from(want).unwrap(),
                    "total of {query:?}"
                );
            }
        }
    }
}

fn viewers(agents: &[AgentId], queues: &[QueueId]) -> Vec<Viewer> {
    vec![
        Viewer {
            agent: agents[0],
            queues: vec![queues[0]],
            sees_all: false,
        },
        Viewer {
            agent: agents[1],
            queues: queues.to_vec(),
            sees_all: false,
        },
        Viewer {
            agent: agents[2],
            queues: Vec::new(),
            sees_all: false,
        },
        Viewer {
            agent: agents[0],
            queues: vec![queues[1]],
            sees_all: true,
        },
    ]
}

contract!(
    c9_totals_follow_random_changes_of_every_kind,
    |fx: Fixture| async move {
        // spec: C9, C8, A2, C7. Random conversations, then five rounds in which half of them
        // move to another random state (open in any assignment, conference, bot, interrupted,
        // resolved, dropped, and back: reopening), with new activity and waiting times. After
        // each round the counters equal a fresh count and every total equals `admits`.
        let other = other_account(&fx).await;
        let mut rng = Rng(9);
        let world = World {
            agents: (0..4).map(|_| AgentId::from_uuid(rng.id())).collect(),
            queues: (0..3).map(|_| QueueId::from_uuid(rng.id())).collect(),
            inboxes: (0..2).map(|_| InboxId::from_uuid(rng.id())).collect(),
        };
        let mut all = Vec::new();
        for _ in 0..40 {
            let c = world.conversation(&mut rng, fx.account);
            put(&fx, &c).await;
            all.push((c, 1));
        }
        // Another account's conversations on the same agents, queues and inboxes count nowhere.
        for _ in 0..8 {
            put(&fx, &world.conversation(&mut rng, other)).await;
        }
        let viewers = viewers(&world.agents, &world.queues);
        for round in 0..6 {
            if round > 0 {
                for (c, version) in &mut all {
                    if rng.chance(50) {
                        c.state = world.state(&mut rng);
                        world.retime(&mut rng, c);
                        replace(&fx, c, *version).await;
                        *version += 1;
                    }
                }
            }
            assert_eq!(
                stored_counts(&fx).await,
                counted(&fx).await,
                "round {round}"
            );
            let conversations: Vec<Conversation> = all.iter().map(|(c, _)| c.clone()).collect();
            check_totals(&fx, &conversations, &viewers, world.inboxes[0]).await;
        }
    }
);

/// The commands one client runs on its own conversation: assigned, resolved, reopened into a
/// queue, assigned again, dropped; it stops after `steps` of them.
fn lifecycle(agent: AgentId, queue: QueueId, steps: usize) -> Vec<ConversationCommand> {
    let by = Principal::agent(agent);
    let resolve = ConversationCommand::Resolve {
        by: by.clone(),
        wrap_up: None,
        closing: None,
        wrap_up_mandatory: false,
    };
    let mut commands = vec![
        ConversationCommand::RouteAssign { agent },
        resolve,
        ConversationCommand::Reopen {
            by: by.clone(),
            reply_window: None,
            queue: Some(queue),
        },
        ConversationCommand::RouteAssign { agent },
        ConversationCommand::Drop {
            by,
            member_of_queue: true,
        },
    ];
    commands.truncate(steps);
    commands
}

contract!(
    c9_counters_stay_exact_under_concurrent_commits,
    |fx: Fixture| async move {
        // spec: C9. 24 clients at once, each starting conversations and taking them through
        // assign, resolve, reopen, assign and drop (stopping at different steps), all on the
        // same few agents, queues and inboxes, so that concurrent commits move the same counter
        // rows. Then the counters equal a fresh count, and the totals equal `admits`.
        let fx = Arc::new(fx);
        let agents = vec![
            fx.agent(10_000).await,
            fx.agent(10_000).await,
            fx.agent(10_000).await,
        ];
        let queues = vec![fx.queue(&agents).await, fx.queue(&agents).await];
        let inboxes = vec![
            fx.inbox(Some(queues[0])).await,
            fx.inbox(Some(queues[1])).await,
        ];
        let mut clients = JoinSet::new();
        for client in 0..24_usize {
            let fx = Arc::clone(&fx);
            let (agents, queues, inboxes) = (agents.clone(), queues.clone(), inboxes.clone());
            clients.spawn(async move {
                let mut rng = Rng(u64::try_from(client).unwrap());
                for _ in 0..4 {
                    let queue = rng.pick(&queues);
                    let contact = fx.contact().await;
                    let (commit, mut c) =
                        fx.start_commit(rng.pick(&inboxes), contact, Some(queue), None, t(1));
                    fx.store.commit(commit).await.expect("started");
                    let steps = usize::try_from(rng.below(6)).unwrap();
                    let agent = rng.pick(&agents);
                    for (n, command) in lifecycle(agent, rng.pick(&queues), steps)
                        .iter()
                        .enumerate()
                    {
                        let (commit, after) =
                            command_commit(&fx, &c, u64::try_from(n + 1).unwrap(), command);
                        match fx.store.commit(commit).await {
                            Ok(_) => c = after,
                            // PostgreSQL may end a lock wait as a deadlock or serialization
                            // failure: a conflict, which a use case retries; so does this
                            // client.
                            Err(StoreError::Domain(e)) if e.code() == "conflict" => {
                                let (commit, after) =
                                    command_commit(&fx, &c, u64::try_from(n + 1).unwrap(), command);
                                fx.store.commit(commit).await.expect("retried");
                                c = after;
                            }
                            Err(other) => panic!("unexpected: {other:?}"),
                        }
                    }
                }
            });
        }
        while let Some(result) = clients.join_next().await {
            result.unwrap();
        }
        let counts = counted(&fx).await;
        assert_eq!(
            counts.values().sum::<u64>(),
            96,
            "every conversation stored"
        );
        assert_eq!(stored_counts(&fx).await, counts);
        let all = stored(&fx).await;
        check_totals(&fx, &all, &viewers(&agents, &queues), inboxes[0]).await;
    }
);
