//! `TimerStore` and `OutboxStore`: claims take only due work, earliest first; a lease keeps an
//! item from every other claimer until it expires (L5: a dead worker's item comes back); only
//! the lease holder finishes or retries; a timer re-scheduled meanwhile survives the old
//! owner's finish; and concurrent claimers never get one item twice and together get all (L4).
//!
//! Claims take the due work of every account, so the tests that claim run one at a time (a
//! lock of this test binary) and in their own span of time, the year 2001, which no other test
//! uses; each first clears that span of what an interrupted earlier run may have left (the
//! PostgreSQL database outlives the run) and last removes its own rows.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use conversation_core::Timestamp;
use conversation_core::ports::{
    ClaimedWork, Commit, CommitStore, OutboxItem, OutboxKind, OutboxStore, Timer, TimerChange,
    TimerKind, TimerStore,
};
use tokio::sync::{Barrier, Mutex, MutexGuard};
use uuid::Uuid;

use crate::directory::other_account;
use crate::support::{Fixture, contract, exec, id};

/// A time in the claim tests' own span: 2001-01-01 plus `secs` seconds.
fn w(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2001, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(secs)
}

/// The end of that span.
fn span_end() -> Timestamp {
    Utc.with_ymd_and_hms(2002, 1, 1, 0, 0, 0).unwrap()
}

static CLAIMS: Mutex<()> = Mutex::const_new(());

/// Takes the claim lock and clears the span of left-overs.
async fn claims_alone(fx: &Fixture) -> MutexGuard<'static, ()> {
    let guard = CLAIMS.lock().await;
    for table in ["timers", "outbox"] {
        exec(
            fx.store.db(),
            &format!("DELETE FROM {table} WHERE due_at < $1"),
            vec![span_end().into()],
        )
        .await;
    }
    guard
}

/// Removes the test's rows.
async fn clean_up(fx: &Fixture) {
    for table in ["timers", "outbox"] {
        exec(
            fx.store.db(),
            &format!("DELETE FROM {table} WHERE account_id = $1"),
            vec![fx.account.into()],
        )
        .await;
    }
}

fn timer(fx: &Fixture, key: &str, kind: TimerKind, due: i64) -> Timer {
    Timer {
        account: fx.account,
        key: key.into(),
        kind,
        payload: format!(r#"{{"key":"{key}","due":{due}}}"#),
        due_at: w(due),
    }
}

/// Schedules the timers through a commit, as use cases do.
async fn schedule(fx: &Fixture, timers: &[Timer]) {
    let mut commit = Commit::new(fx.account);
    commit.timers = timers.iter().cloned().map(TimerChange::Schedule).collect();
    fx.store.commit(commit).await.unwrap();
}

fn item(fx: &Fixture, kind: OutboxKind, due: i64) -> OutboxItem {
    OutboxItem {
        id: id(),
        account: fx.account,
        kind,
        payload: format!(r#"{{"due":{due}}}"#),
        due_at: w(due),
    }
}

/// Writes the outbox items through a commit, as use cases do.
async fn enqueue(fx: &Fixture, items: &[OutboxItem]) {
    let mut commit = Commit::new(fx.account);
    commit.outbox = items.to_vec();
    fx.store.commit(commit).await.unwrap();
}

fn first_claim<T>(items: &[T]) -> Vec<ClaimedWork<T>>
where
    T: Clone,
{
    items
        .iter()
        .cloned()
        .map(|item| ClaimedWork { item, attempts: 0 })
        .collect()
}

/// The lease columns of one of the test's timers.
async fn timer_lease(fx: &Fixture, key: &str) -> (Option<String>, Option<Timestamp>, i64) {
    let row = fx
        .store
        .db()
        .fetch_optional(
            "SELECT lease_owner, lease_until, attempts FROM timers WHERE account_id = $1 AND key = $2",
            &[fx.account.into(), key.into()],
        )
        .await
        .unwrap()
        .expect("the timer exists");
    (
        row.opt_text("lease_owner").unwrap(),
        row.opt_time("lease_until").unwrap(),
        row.int("attempts").unwrap(),
    )
}

contract!(
    r6_timers_are_claimed_only_when_due_earliest_first,
    |fx: Fixture| async move {
        let _alone = claims_alone(&fx).await;
        let late = timer(&fx, "reply-target", TimerKind::ReplyTarget, 30);
        let first = timer(&fx, "offer", TimerKind::OfferTimeout, 10);
        let second = timer(&fx, "grace", TimerKind::OfflineGrace, 20);
        let future = timer(&fx, "reminder", TimerKind::TaskReminder, 100);
        let cancelled = timer(&fx, "conference", TimerKind::ConferenceTimeout, 5);
        schedule(
            &fx,
            &[
                late.clone(),
                first.clone(),
                second.clone(),
                future.clone(),
                cancelled,
            ],
        )
        .await;
        let mut cancel = Commit::new(fx.account);
        cancel.timers.push(TimerChange::Cancel {
            key: "conference".into(),
        });
        fx.store.commit(cancel).await.unwrap();

        assert_eq!(
            fx.store
                .claim_due_timers(w(50), "w1", w(500), 0)
                .await
                .unwrap(),
            []
        );
        assert_eq!(
            fx.store
                .claim_due_timers(w(50), "w1", w(500), 2)
                .await
                .unwrap(),
            first_claim(&[first, second])
        );
        assert_eq!(
            timer_lease(&fx, "offer").await,
            (Some("w1".to_owned()), Some(w(500)), 1)
        );
        assert_eq!(
            fx.store
                .claim_due_timers(w(50), "w1", w(500), 10)
                .await
                .unwrap(),
            first_claim(&[late])
        );
        // The rest is not due yet, and what is leased is not claimed again.
        assert_eq!(
            fx.store
                .claim_due_timers(w(99), "w2", w(500), 10)
                .await
                .unwrap(),
            []
        );
        assert_eq!(
            fx.store
                .claim_due_timers(w(100), "w2", w(500), 10)
                .await
                .unwrap(),
            first_claim(&[future])
        );
        clean_up(&fx).await;
    }
);

contract!(
    l5_a_leased_timer_is_claimed_again_only_when_its_lease_expires,
    |fx: Fixture| async move {
        let _alone = claims_alone(&fx).await;
        let offer = timer(&fx, "offer", TimerKind::OfferTimeout, 10);
        schedule(&fx, std::slice::from_ref(&offer)).await;
        assert_eq!(
            fx.store
                .claim_due_timers(w(10), "w1", w(40), 10)
                .await
                .unwrap(),
            first_claim(std::slice::from_ref(&offer))
        );
        assert_eq!(
            fx.store
                .claim_due_timers(w(39), "w2", w(70), 10)
                .await
                .unwrap(),
            []
        );
        // w1 died: its lease ran out and w2 takes the timer, counting the attempt.
        assert_eq!(
            fx.store
                .claim_due_timers(w(40), "w2", w(70), 10)
                .await
                .unwrap(),
            [ClaimedWork {
                item: offer.clone(),
                attempts: 1
            }]
        );
        assert!(
            !fx.store
                .finish_timer(fx.account, "offer", "w1")
                .await
                .unwrap()
        );
        assert_eq!(
            fx.store
                .claim_due_timers(w(50), "w3", w(80), 10)
                .await
                .unwrap(),
            []
        );
        // A1: finishing is scoped to the timer's account.
        let other = other_account(&fx).await;
        assert!(!fx.store.finish_timer(other, "offer", "w2").await.unwrap());
        assert!(
            fx.store
                .finish_timer(fx.account, "offer", "w2")
                .await
                .unwrap()
        );
        assert!(
            !fx.store
                .finish_timer(fx.account, "offer", "w2")
                .await
                .unwrap()
        );
        assert_eq!(
            fx.store
                .claim_due_timers(w(1000), "w3", w(2000), 10)
                .await
                .unwrap(),
            []
        );
        clean_up(&fx).await;
    }
);

contract!(
    r11_a_rescheduled_timer_survives_the_old_owners_finish,
    |fx: Fixture| async move {
        let _alone = claims_alone(&fx).await;
        let grace = timer(&fx, "grace", TimerKind::OfflineGrace, 10);
        schedule(&fx, std::slice::from_ref(&grace)).await;
        assert_eq!(
            fx.store
                .claim_due_timers(w(10), "w1", w(100), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        // While w1 works, a commit moves the timer (the agent went offline again).
        let moved = Timer {
            payload: r#"{"moved":true}"#.into(),
            ..timer(&fx, "grace", TimerKind::OfflineGrace, 60)
        };
        schedule(&fx, std::slice::from_ref(&moved)).await;
        assert!(
            !fx.store
                .finish_timer(fx.account, "grace", "w1")
                .await
                .unwrap()
        );
        assert_eq!(
            fx.store
                .claim_due_timers(w(59), "w2", w(100), 10)
                .await
                .unwrap(),
            []
        );
        assert_eq!(
            fx.store
                .claim_due_timers(w(60), "w2", w(100), 10)
                .await
                .unwrap(),
            first_claim(std::slice::from_ref(&moved))
        );
        assert!(
            fx.store
                .finish_timer(fx.account, "grace", "w2")
                .await
                .unwrap()
        );
        clean_up(&fx).await;
    }
);

contract!(
    h3_outbox_items_are_claimed_when_due_earliest_first_and_finished_once,
    |fx: Fixture| async move {
        let _alone = claims_alone(&fx).await;
        let delivery = item(&fx, OutboxKind::Delivery, 10);
        let webhook = item(&fx, OutboxKind::Webhook, 5);
        let notification = item(&fx, OutboxKind::Notification, 100);
        let unsend = item(&fx, OutboxKind::Unsend, 8);
        enqueue(
            &fx,
            &[
                delivery.clone(),
                webhook.clone(),
                notification.clone(),
                unsend.clone(),
            ],
        )
        .await;

        assert_eq!(
            fx.store.claim_outbox(w(50), "w1", w(500), 2).await.unwrap(),
            first_claim(&[webhook.clone(), unsend.clone()])
        );
        assert_eq!(
            fx.store
                .claim_outbox(w(50), "w2", w(500), 10)
                .await
                .unwrap(),
            first_claim(std::slice::from_ref(&delivery))
        );
        assert_eq!(
            fx.store
                .claim_outbox(w(50), "w3", w(500), 10)
                .await
                .unwrap(),
            []
        );
        // Only the holder finishes, once.
        assert!(!fx.store.finish_outbox(webhook.id, "w2").await.unwrap());
        assert!(fx.store.finish_outbox(webhook.id, "w1").await.unwrap());
        assert!(!fx.store.finish_outbox(webhook.id, "w1").await.unwrap());
        assert!(fx.store.finish_outbox(delivery.id, "w2").await.unwrap());
        assert!(
            !fx.store
                .finish_outbox(Uuid::from_u128(7), "w2")
                .await
                .unwrap()
        );
        assert_eq!(
            fx.store
                .claim_outbox(w(100), "w3", w(500), 10)
                .await
                .unwrap(),
            first_claim(std::slice::from_ref(&notification))
        );
        clean_up(&fx).await;
    }
);

contract!(
    n5_h3_a_failed_delivery_is_retried_at_its_new_time_with_its_error,
    |fx: Fixture| async move {
        let _alone = claims_alone(&fx).await;
        let webhook = item(&fx, OutboxKind::Webhook, 10);
        enqueue(&fx, std::slice::from_ref(&webhook)).await;
        assert_eq!(
            fx.store
                .claim_outbox(w(10), "w1", w(500), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            !fx.store
                .retry_outbox(webhook.id, "w2", w(200), "not mine")
                .await
                .unwrap()
        );
        assert!(
            fx.store
                .retry_outbox(webhook.id, "w1", w(200), "HTTP 503")
                .await
                .unwrap()
        );
        let row = fx
            .store
            .db()
            .fetch_optional(
                "SELECT due_at, last_error, lease_owner, lease_until FROM outbox WHERE id = $1",
                &[webhook.id.into()],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                row.time("due_at").unwrap(),
                row.opt_text("last_error").unwrap(),
                row.opt_text("lease_owner").unwrap(),
                row.opt_time("lease_until").unwrap()
            ),
            (w(200), Some("HTTP 503".to_owned()), None, None)
        );
        // Backoff: not before its new time, then with the attempt counted.
        assert_eq!(
            fx.store
                .claim_outbox(w(199), "w2", w(500), 10)
                .await
                .unwrap(),
            []
        );
        assert_eq!(
            fx.store
                .claim_outbox(w(200), "w2", w(500), 10)
                .await
                .unwrap(),
            [ClaimedWork {
                item: OutboxItem {
                    due_at: w(200),
                    ..webhook.clone()
                },
                attempts: 1
            }]
        );
        assert!(
            !fx.store
                .retry_outbox(webhook.id, "w1", w(300), "stale")
                .await
                .unwrap()
        );
        assert!(fx.store.finish_outbox(webhook.id, "w2").await.unwrap());
        clean_up(&fx).await;
    }
);

contract!(
    l5_a_leased_outbox_item_is_claimed_again_only_when_its_lease_expires,
    |fx: Fixture| async move {
        let _alone = claims_alone(&fx).await;
        let delivery = item(&fx, OutboxKind::Delivery, 10);
        enqueue(&fx, std::slice::from_ref(&delivery)).await;
        assert_eq!(
            fx.store.claim_outbox(w(10), "w1", w(40), 10).await.unwrap(),
            first_claim(std::slice::from_ref(&delivery))
        );
        assert_eq!(
            fx.store.claim_outbox(w(39), "w2", w(70), 10).await.unwrap(),
            []
        );
        assert_eq!(
            fx.store.claim_outbox(w(40), "w2", w(70), 10).await.unwrap(),
            [ClaimedWork {
                item: delivery.clone(),
                attempts: 1
            }]
        );
        // H3: the worker that lost its lease cannot finish or retry it.
        assert!(!fx.store.finish_outbox(delivery.id, "w1").await.unwrap());
        assert!(
            !fx.store
                .retry_outbox(delivery.id, "w1", w(90), "late")
                .await
                .unwrap()
        );
        assert!(fx.store.finish_outbox(delivery.id, "w2").await.unwrap());
        clean_up(&fx).await;
    }
);

const ITEMS: usize = 200;
const CLAIMERS: usize = 8;

/// Runs `CLAIMERS` concurrent claimers, each claiming small batches until none is left, and
/// returns every claim's key with its attempts.
async fn claim_concurrently<F, Fut>(claim: F) -> Vec<(String, u32)>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<(String, u32)>> + Send,
{
    let claim = Arc::new(claim);
    let start = Arc::new(Barrier::new(CLAIMERS));
    let mut workers = tokio::task::JoinSet::new();
    for n in 0..CLAIMERS {
        let (claim, start) = (Arc::clone(&claim), Arc::clone(&start));
        workers.spawn(async move {
            let owner = format!("worker-{n}");
            start.wait().await;
            let mut mine = Vec::new();
            loop {
                let batch = claim(owner.clone()).await;
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch);
            }
        });
    }
    let mut all = Vec::new();
    while let Some(mine) = workers.join_next().await {
        all.extend(mine.expect("claimer finished"));
    }
    all
}

fn assert_each_once(claimed: &[(String, u32)], expected: &BTreeSet<String>) {
    let keys: BTreeSet<String> = claimed.iter().map(|(key, _)| key.clone()).collect();
    assert_eq!(claimed.len(), expected.len(), "an item was claimed twice");
    assert_eq!(&keys, expected, "an item was never claimed");
    assert!(claimed.iter().all(|(_, attempts)| *attempts == 0));
}

contract!(
    l4_concurrent_timer_claimers_never_share_an_item_and_miss_none,
    |fx: Fixture| async move {
        let _alone = claims_alone(&fx).await;
        let timers: Vec<Timer> = (0..ITEMS)
            .map(|i| {
                let due = i64::try_from(i % 50).unwrap();
                timer(&fx, &format!("timer-{i}"), TimerKind::OfferTimeout, due)
            })
            .collect();
        schedule(&fx, &timers).await;
        let store = Arc::clone(&fx.store);
        let claimed = claim_concurrently(move |owner| {
            let store = Arc::clone(&store);
            async move {
                store
                    .claim_due_timers(w(100), &owner, w(10_000), 7)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|work| (work.item.key, work.attempts))
                    .collect()
            }
        })
        .await;
        assert_each_once(&claimed, &timers.iter().map(|t| t.key.clone()).collect());
        // The leases still run: nothing is claimed again.
        assert_eq!(
            fx.store
                .claim_due_timers(w(200), "late", w(300), 1000)
                .await
                .unwrap(),
            []
        );
        clean_up(&fx).await;
    }
);

contract!(
    l4_concurrent_outbox_claimers_never_share_an_item_and_miss_none,
    |fx: Fixture| async move {
        let _alone = claims_alone(&fx).await;
        let items: Vec<OutboxItem> = (0..ITEMS)
            .map(|i| item(&fx, OutboxKind::Delivery, i64::try_from(i % 50).unwrap()))
            .collect();
        enqueue(&fx, &items).await;
        let store = Arc::clone(&fx.store);
        let claimed = claim_concurrently(move |owner| {
            let store = Arc::clone(&store);
            async move {
                store
                    .claim_outbox(w(100), &owner, w(10_000), 7)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|work| (work.item.id.to_string(), work.attempts))
                    .collect()
            }
        })
        .await;
        assert_each_once(&claimed, &items.iter().map(|i| i.id.to_string()).collect());
        assert_eq!(
            fx.store
                .claim_outbox(w(200), "late", w(300), 1000)
                .await
                .unwrap(),
            []
        );
        clean_up(&fx).await;
    }
);

contract!(
    h3_n5_a_scoped_claim_takes_only_its_kinds_of_its_account,
    |fx: Fixture| async move {
        let _alone = claims_alone(&fx).await;
        let other = crate::directory::other_account(&fx).await;
        let delivery = item(&fx, OutboxKind::Delivery, 1);
        let unsend = item(&fx, OutboxKind::Unsend, 2);
        let webhook = item(&fx, OutboxKind::Webhook, 3);
        let notification = item(&fx, OutboxKind::Notification, 4);
        enqueue(
            &fx,
            &[
                delivery.clone(),
                unsend.clone(),
                webhook.clone(),
                notification.clone(),
            ],
        )
        .await;
        let foreign = OutboxItem {
            account: other,
            ..item(&fx, OutboxKind::Delivery, 1)
        };
        let mut commit = Commit::new(other);
        commit.outbox = vec![foreign.clone()];
        fx.store.commit(commit).await.unwrap();

        let now = w(10);
        let lease = now + Duration::seconds(60);
        let kinds = [OutboxKind::Delivery, OutboxKind::Unsend];
        let claimed = fx
            .store
            .claim_outbox_of(&kinds, Some(fx.account), now, "a", lease, 10)
            .await
            .unwrap();
        let ids: Vec<Uuid> = claimed.iter().map(|c| c.item.id).collect();
        assert_eq!(
            ids,
            [delivery.id, unsend.id],
            "earliest due first, its kinds only"
        );
        // Leased: a second claimer gets nothing of them.
        let again = fx
            .store
            .claim_outbox_of(&kinds, Some(fx.account), now, "b", lease, 10)
            .await
            .unwrap();
        assert!(again.is_empty());
        let webhooks = fx
            .store
            .claim_outbox_of(
                &[OutboxKind::Webhook],
                Some(fx.account),
                now,
                "c",
                lease,
                10,
            )
            .await
            .unwrap();
        assert_eq!(webhooks.len(), 1);
        assert_eq!(webhooks[0].item, webhook);
        // The other account's delivery is its own.
        let theirs = fx
            .store
            .claim_outbox_of(&kinds, Some(other), now, "d", lease, 10)
            .await
            .unwrap();
        assert_eq!(theirs.len(), 1);
        assert_eq!(theirs[0].item.id, foreign.id);
        clean_up(&fx).await;
        exec(
            fx.store.db(),
            "DELETE FROM outbox WHERE account_id = $1",
            vec![other.into()],
        )
        .await;
    }
);
