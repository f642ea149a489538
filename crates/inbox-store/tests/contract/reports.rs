//! `ReportStore` (P1, D15): the catch-up folds the event log into rollups exactly once, also
//! when several catch-ups run at the same time, resumes where it stopped, and the queries group
//! by period and breakdown, scoped to the account (A1). The formulas themselves are proven in
//! the core (`reports`) and end to end (`tests/tests/reports.rs`).

use std::collections::BTreeSet;

use conversation_core::DomainEvent;
use conversation_core::actor::Actor;
use conversation_core::channel::ChannelKind;
use conversation_core::conversation::{
    ConversationEvent, ConversationEventKind as Kind, ReplyKind,
};
use conversation_core::dialog::{
    DialogCreated, DialogEvent, DialogStatusKind, DialogTitle, Satisfaction, Stars,
};
use conversation_core::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, MessageId, QueueId, ReasonId,
    RequestTypeId, WrapUpReasonId,
};
use conversation_core::ports::{
    Breakdown, ConversationReportQuery, DialogBreakdown, DialogReportQuery, Period, ReportStore,
    RollupCell, SpreadCell,
};
use conversation_core::reports::{Metric, day_number};

use crate::readers::other_account;
use crate::support::{Fixture, contract, exec, id, t};

/// Appends events to the account's log directly (as a bulk import would), in order.
pub async fn log(fx: &Fixture, account: AccountId, events: Vec<DomainEvent>) {
    let row = fx
        .store
        .db()
        .fetch_optional(
            "SELECT event_seq FROM accounts WHERE id = $1",
            &[account.into()],
        )
        .await
        .unwrap()
        .expect("account exists");
    let mut seq = row.int("event_seq").unwrap();
    for event in events {
        seq += 1;
        let (kind, aggregate) = match &event {
            DomainEvent::Dialog { dialog, .. } => ("dialog", dialog.as_uuid()),
            other => ("conversation", other.conversation().unwrap().as_uuid()),
        };
        exec(
            fx.store.db(),
            "INSERT INTO events (account_id, seq, aggregate_type, aggregate_id, at, payload) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                account.into(),
                seq.into(),
                kind.into(),
                aggregate.into(),
                event.at().into(),
                serde_json::to_string(&event).unwrap().into(),
            ],
        )
        .await;
    }
    exec(
        fx.store.db(),
        "UPDATE accounts SET event_seq = $2 WHERE id = $1",
        vec![account.into(), seq.into()],
    )
    .await;
}

fn event(conversation: ConversationId, secs: i64, actor: Actor, kind: Kind) -> DomainEvent {
    DomainEvent::Conversation(ConversationEvent {
        conversation,
        at: t(secs),
        actor,
        kind,
    })
}

/// One conversation: starts at `at` in `queue`, the contact writes, `agent` accepts after 10 s,
/// replies after 60 s and resolves after 300 s with `reason`.
fn life(
    inbox: InboxId,
    queue: QueueId,
    agent: AgentId,
    reason: WrapUpReasonId,
    at: i64,
) -> Vec<DomainEvent> {
    life_timed(inbox, (queue, agent), reason, at, [10, 60, 300])
}

/// One conversation: starts at `at` in `queue`, the contact writes, `agent` accepts, replies and
/// resolves with `reason` after the `[accept, reply, close]` seconds. Its facts: first response
/// and reply `reply`, time to close `close`, handle time `close - accept`.
pub fn life_timed(
    inbox: InboxId,
    (queue, agent): (QueueId, AgentId),
    reason: WrapUpReasonId,
    at: i64,
    [accept, reply, close]: [i64; 3],
) -> Vec<DomainEvent> {
    let conversation = ConversationId::from_uuid(id());
    let contact = ContactId::from_uuid(id());
    let by = Actor::Agent(agent);
    vec![
        event(
            conversation,
            at,
            Actor::Contact(contact),
            Kind::Started {
                account: AccountId::from_uuid(id()),
                inbox,
                channel: ChannelKind::WebChat,
                contact,
                queue: Some(queue),
                bot_flow: None,
            },
        ),
        event(
            conversation,
            at,
            Actor::Contact(contact),
            Kind::InboundReceived {
                message: MessageId::from_uuid(id()),
                dialog: None,
            },
        ),
        event(
            conversation,
            at + accept,
            Actor::System,
            Kind::OfferAccepted { agent },
        ),
        event(
            conversation,
            at + reply,
            by,
            Kind::ReplySent {
                message: MessageId::from_uuid(id()),
                kind: ReplyKind::FreeForm,
                dialog: None,
            },
        ),
        event(
            conversation,
            at + close,
            by,
            Kind::Resolved {
                wrap_up: Some(reason),
                released: Some(agent),
            },
        ),
    ]
}

fn query(fx: &Fixture, period: Period, breakdown: Option<Breakdown>) -> ConversationReportQuery {
    ConversationReportQuery {
        account: fx.account,
        from_day: day_number(t(0)) - 400,
        to_day: day_number(t(0)) + 400,
        period,
        inbox: None,
        queue: None,
        agent: None,
        breakdown,
    }
}

fn total(cells: &[RollupCell], metric: Metric) -> u64 {
    cells
        .iter()
        .filter(|c| c.metric == metric)
        .map(|c| c.count)
        .sum()
}

fn sum(cells: &[RollupCell], metric: Metric) -> u64 {
    cells
        .iter()
        .filter(|c| c.metric == metric)
        .map(|c| c.sum)
        .sum()
}

contract!(
    p1_catch_up_folds_each_event_once_and_resumes,
    |fx: Fixture| async move {
        let (inbox, queue, agent) = (
            InboxId::from_uuid(id()),
            QueueId::from_uuid(id()),
            AgentId::from_uuid(id()),
        );
        let reason = WrapUpReasonId::from_uuid(id());
        log(&fx, fx.account, life(inbox, queue, agent, reason, 0)).await;
        // What the periodic catch-up works through: accounts whose log is ahead of the cursor.
        let behind = fx.store.report_accounts_behind().await.unwrap();
        assert!(behind.contains(&fx.account));
        assert_eq!(fx.store.catch_up_reports(fx.account).await.unwrap(), 5);
        let behind = fx.store.report_accounts_behind().await.unwrap();
        assert!(!behind.contains(&fx.account), "caught up");
        assert_eq!(
            fx.store.catch_up_reports(fx.account).await.unwrap(),
            0,
            "nothing new"
        );
        let cells = fx
            .store
            .conversation_report(&query(&fx, Period::Day, None))
            .await
            .unwrap()
            .cells;
        assert_eq!(total(&cells, Metric::Opened), 1);
        assert_eq!(total(&cells, Metric::Resolved), 1);
        assert_eq!(sum(&cells, Metric::FirstResponse), 60);
        assert_eq!(sum(&cells, Metric::Reply), 60);
        assert_eq!(sum(&cells, Metric::TimeToClose), 300);
        assert_eq!(sum(&cells, Metric::HandleTime), 290);
        let wrap = cells.iter().find(|c| c.metric == Metric::WrapUp).unwrap();
        assert_eq!((wrap.reason, wrap.count), (Some(reason.as_uuid()), 1));
        let report = fx
            .store
            .conversation_report(&query(&fx, Period::Day, None))
            .await
            .unwrap();
        let ttc = |spreads: &[SpreadCell]| {
            let s = spreads
                .iter()
                .find(|c| c.metric == Metric::TimeToClose)
                .unwrap();
            (s.median, s.p90)
        };
        assert_eq!(ttc(&report.spreads), (Some(300), Some(300)));
        assert_eq!(ttc(&report.total_spreads), (Some(300), Some(300)));

        // Events after the cursor are folded next time, on top of what is there.
        log(&fx, fx.account, life(inbox, queue, agent, reason, 1_000)).await;
        assert_eq!(fx.store.catch_up_reports(fx.account).await.unwrap(), 5);
        let cells = fx
            .store
            .conversation_report(&query(&fx, Period::Month, None))
            .await
            .unwrap()
            .cells;
        assert_eq!(total(&cells, Metric::Opened), 2);
        assert_eq!(sum(&cells, Metric::TimeToClose), 600);

        // A1: another account folds and reads nothing of this one.
        let other = other_account(&fx).await;
        assert_eq!(fx.store.catch_up_reports(other).await.unwrap(), 0);
        let mut theirs = query(&fx, Period::Day, None);
        theirs.account = other;
        assert!(
            fx.store
                .conversation_report(&theirs)
                .await
                .unwrap()
                .cells
                .is_empty()
        );
    }
);

contract!(
    p1_breakdowns_and_filters_split_the_same_facts,
    |fx: Fixture| async move {
        let (inbox, queues, agents) = (
            InboxId::from_uuid(id()),
            [QueueId::from_uuid(id()), QueueId::from_uuid(id())],
            [
                AgentId::from_uuid(id()),
                AgentId::from_uuid(id()),
                AgentId::from_uuid(id()),
            ],
        );
        let reason = WrapUpReasonId::from_uuid(id());
        let mut events = Vec::new();
        for n in 0..9usize {
            // One conversation every 5 days, so they fall on different days, weeks and months.
            let at = i64::try_from(n).unwrap() * 5 * 86_400;
            events.extend(life(inbox, queues[n % 2], agents[n % 3], reason, at));
        }
        log(&fx, fx.account, events).await;
        fx.store.catch_up_reports(fx.account).await.unwrap();
        let overall = fx
            .store
            .conversation_report(&query(&fx, Period::Month, None))
            .await
            .unwrap()
            .cells;
        assert_eq!(total(&overall, Metric::Opened), 9);
        for period in [Period::Day, Period::Week, Period::Month] {
            for breakdown in [
                None,
                Some(Breakdown::Inbox),
                Some(Breakdown::Queue),
                Some(Breakdown::Agent),
            ] {
                let cells = fx
                    .store
                    .conversation_report(&query(&fx, period, breakdown))
                    .await
                    .unwrap()
                    .cells;
                for metric in Metric::ALL {
                    assert_eq!(
                        total(&cells, metric),
                        total(&overall, metric),
                        "{period:?} {breakdown:?} {metric:?}"
                    );
                    assert_eq!(
                        sum(&cells, metric),
                        sum(&overall, metric),
                        "{period:?} {breakdown:?} {metric:?}"
                    );
                }
            }
        }
        let by_day = fx
            .store
            .conversation_report(&query(&fx, Period::Day, None))
            .await
            .unwrap()
            .cells;
        let days: BTreeSet<i64> = by_day.iter().map(|c| c.period_start).collect();
        assert_eq!(days.len(), 9);
        let by_agent = fx
            .store
            .conversation_report(&query(&fx, Period::Month, Some(Breakdown::Agent)))
            .await
            .unwrap();
        let resolved_by = |agent: AgentId| -> u64 {
            by_agent
                .cells
                .iter()
                .filter(|c| c.metric == Metric::Resolved && c.key == Some(agent.as_uuid()))
                .map(|c| c.count)
                .sum()
        };
        assert_eq!(
            [
                resolved_by(agents[0]),
                resolved_by(agents[1]),
                resolved_by(agents[2])
            ],
            [3, 3, 3]
        );
        let mut only = query(&fx, Period::Month, None);
        only.queue = Some(queues[0]);
        let cells = fx.store.conversation_report(&only).await.unwrap().cells;
        assert_eq!(total(&cells, Metric::Opened), 5);
        only.agent = Some(agents[0]);
        let cells = fx.store.conversation_report(&only).await.unwrap().cells;
        // Agent 0 handles conversations 0, 3, 6; of them 0 and 6 are in queue 0.
        assert_eq!(total(&cells, Metric::Resolved), 2);
    }
);

contract!(
    p1_concurrent_catch_ups_count_each_event_once,
    |fx: Fixture| async move {
        let (inbox, queue, agent) = (
            InboxId::from_uuid(id()),
            QueueId::from_uuid(id()),
            AgentId::from_uuid(id()),
        );
        let reason = WrapUpReasonId::from_uuid(id());
        let mut events = Vec::new();
        for n in 0..500 {
            events.extend(life(inbox, queue, agent, reason, n * 7));
        }
        log(&fx, fx.account, events).await;
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let store = fx.store.clone();
                let account = fx.account;
                tokio::spawn(async move { store.catch_up_reports(account).await.unwrap() })
            })
            .collect();
        let mut folded = 0;
        for run in runs {
            folded += run.await.unwrap();
        }
        assert_eq!(folded, 2_500, "each event folded by exactly one catch-up");
        let cells = fx
            .store
            .conversation_report(&query(&fx, Period::Month, None))
            .await
            .unwrap()
            .cells;
        assert_eq!(total(&cells, Metric::Opened), 500);
        assert_eq!(total(&cells, Metric::HandleTime), 500);
        assert_eq!(sum(&cells, Metric::TimeToClose), 500 * 300);
    }
);

contract!(
    d15_dialog_rows_with_dimensions_durations_and_both_ratings,
    |fx: Fixture| async move {
        let conversation = ConversationId::from_uuid(id());
        let (alice, bob) = (AgentId::from_uuid(id()), AgentId::from_uuid(id()));
        let (refund, support) = (
            RequestTypeId::from_uuid(id()),
            RequestTypeId::from_uuid(id()),
        );
        let (late, broken) = (ReasonId::from_uuid(id()), ReasonId::from_uuid(id()));
        let dialog = |dialog: DialogId, event: DialogEvent| DomainEvent::Dialog {
            dialog,
            conversation,
            event,
        };
        let created = |d: DialogId, request_type, reasons: &[ReasonId], secs| {
            dialog(
                d,
                DialogEvent::Created(DialogCreated {
                    at: t(secs),
                    by: Actor::Agent(alice),
                    dialog: d,
                    account: fx.account,
                    conversation,
                    contact: ContactId::from_uuid(id()),
                    title: DialogTitle::parse("Order").unwrap(),
                    request_type,
                    participants: BTreeSet::from([alice]),
                    reasons: reasons.iter().copied().collect(),
                    components: BTreeSet::new(),
                }),
            )
        };
        let (one, two) = (DialogId::from_uuid(id()), DialogId::from_uuid(id()));
        log(
            &fx,
            fx.account,
            vec![
                created(one, refund, &[late, broken], 0),
                dialog(
                    one,
                    DialogEvent::Paused {
                        at: t(100),
                        by: Actor::Agent(alice),
                    },
                ),
                dialog(
                    one,
                    DialogEvent::Resumed {
                        at: t(400),
                        by: Actor::Agent(alice),
                    },
                ),
                dialog(
                    one,
                    DialogEvent::ParticipantAdded {
                        at: t(450),
                        by: Actor::Agent(alice),
                        agent: bob,
                    },
                ),
                dialog(
                    one,
                    DialogEvent::Completed {
                        at: t(500),
                        by: Actor::Agent(alice),
                        contact_rating: Some(Stars::new(3).unwrap()),
                    },
                ),
                dialog(
                    one,
                    DialogEvent::SatisfactionRecorded {
                        at: t(600),
                        by: Actor::System,
                        value: Satisfaction::Normal,
                        thank_you: "Thanks".into(),
                    },
                ),
                created(two, support, &[], 700),
            ],
        )
        .await;
        fx.store.catch_up_reports(fx.account).await.unwrap();
        let query = |breakdown| DialogReportQuery {
            account: fx.account,
            from_day: day_number(t(0)),
            to_day: day_number(t(0)),
            period: Period::Day,
            request_type: None,
            reason: None,
            component: None,
            agent: None,
            status: None,
            breakdown,
        };
        let all = fx.store.dialog_report(&query(None)).await.unwrap().cells;
        assert_eq!(all.len(), 1);
        let cell = &all[0];
        // Dialog one: 500 s from creation to completion, 100 + 100 s of it active.
        assert_eq!(
            (cell.dialogs, cell.active, cell.paused, cell.completed),
            (2, 1, 0, 1)
        );
        assert_eq!((cell.duration_sum, cell.active_sum), (500, 200));
        // spec: D15 (one completed dialog: its duration and active time are every percentile).
        assert_eq!(
            (cell.median_duration, cell.p90_duration),
            (Some(500), Some(500))
        );
        assert_eq!(
            (cell.median_active, cell.p90_active),
            (Some(200), Some(200))
        );
        assert_eq!(
            (cell.contact_ratings, cell.satisfaction),
            ([0, 0, 1], [0, 1, 0])
        );

        let by_reason = fx
            .store
            .dialog_report(&query(Some(DialogBreakdown::Reason)))
            .await
            .unwrap();
        let keys: BTreeSet<Option<String>> =
            by_reason.cells.iter().map(|c| c.key.clone()).collect();
        // The whole range counts each dialog once, whatever the breakdown.
        assert_eq!(
            (by_reason.total.dialogs, by_reason.total.median_duration),
            (2, Some(500))
        );
        assert_eq!(
            keys,
            BTreeSet::from([None, Some(late.to_string()), Some(broken.to_string())])
        );
        let by_agent = fx
            .store
            .dialog_report(&query(Some(DialogBreakdown::Agent)))
            .await
            .unwrap();
        let bobs = by_agent
            .cells
            .iter()
            .find(|c| c.key == Some(bob.to_string()))
            .unwrap();
        assert_eq!(bobs.dialogs, 1);
        let by_status = fx
            .store
            .dialog_report(&query(Some(DialogBreakdown::Status)))
            .await
            .unwrap();
        let statuses: Vec<(Option<String>, u64)> = by_status
            .cells
            .iter()
            .map(|c| (c.key.clone(), c.dialogs))
            .collect();
        assert_eq!(
            statuses,
            vec![(Some("active".into()), 1), (Some("completed".into()), 1)]
        );
        let mut filtered = query(Some(DialogBreakdown::RequestType));
        filtered.reason = Some(late);
        let cells = fx.store.dialog_report(&filtered).await.unwrap().cells;
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].key, Some(refund.to_string()));
        filtered.reason = None;
        filtered.status = Some(DialogStatusKind::Active);
        let cells = fx.store.dialog_report(&filtered).await.unwrap().cells;
        assert_eq!(
            (cells.len(), cells[0].key.clone()),
            (1, Some(support.to_string()))
        );
    }
);
