//! The store methods routing and its timers added: a worker's claim scoped to one account, the
//! round-robin cursor of a queue (R3), one agent as a routing candidate (R4), and the pending
//! notifications of an account (the seam D11 uses and N3 will). Each on both backends.

use chrono::Duration;
use conversation_core::ports::{
    ClaimedWork, Commit, CommitStore, OutboxItem, OutboxKind, OutboxStore, RoutingStore, Timer,
    TimerChange, TimerKind, TimerStore,
};

use crate::directory::other_account;
use crate::support::{Fixture, contract, id, t};

contract!(
    r6_a_scoped_claim_takes_only_its_accounts_due_timers,
    |fx: Fixture| async move {
        let other = other_account(&fx).await;
        // Far in the future, so no other test's claim of "everything due" takes them.
        let due = t(0) + Duration::days(365 * 200);
        let mine = Timer {
            account: fx.account,
            key: format!("offer:{}", id()),
            kind: TimerKind::OfferTimeout,
            payload: "{}".into(),
            due_at: due,
        };
        let theirs = Timer {
            account: other,
            key: mine.key.clone(),
            ..mine.clone()
        };
        for timer in [&mine, &theirs] {
            let mut commit = Commit::new(timer.account);
            commit.timers.push(TimerChange::Schedule(timer.clone()));
            fx.store.commit(commit).await.unwrap();
        }
        let lease = due + Duration::seconds(60);
        assert_eq!(
            fx.store
                .claim_due_timers_of(fx.account, due - Duration::seconds(1), "w", lease, 10)
                .await
                .unwrap(),
            []
        );
        assert_eq!(
            fx.store
                .claim_due_timers_of(fx.account, due, "w", lease, 10)
                .await
                .unwrap(),
            vec![ClaimedWork {
                item: mine.clone(),
                attempts: 0
            }]
        );
        // Leased: not claimed again; the other account's timer was never touched.
        assert_eq!(
            fx.store
                .claim_due_timers_of(fx.account, due, "w2", lease, 10)
                .await
                .unwrap(),
            []
        );
        assert_eq!(
            fx.store
                .claim_due_timers_of(other, due, "w3", lease, 10)
                .await
                .unwrap(),
            vec![ClaimedWork {
                item: theirs.clone(),
                attempts: 0
            }]
        );
        assert!(
            fx.store
                .finish_timer(fx.account, &mine.key, "w")
                .await
                .unwrap()
        );
        assert!(
            fx.store
                .finish_timer(other, &theirs.key, "w3")
                .await
                .unwrap()
        );
    }
);

contract!(
    r3_the_round_robin_cursor_is_kept_per_queue_and_account,
    |fx: Fixture| async move {
        let a = fx.agent(5).await;
        let b = fx.agent(5).await;
        let queue = fx.queue(&[a, b]).await;
        assert_eq!(
            fx.store.route_cursor(fx.account, queue).await.unwrap(),
            None
        );
        fx.store
            .set_route_cursor(fx.account, queue, b)
            .await
            .unwrap();
        assert_eq!(
            fx.store.route_cursor(fx.account, queue).await.unwrap(),
            Some(b)
        );
        // A1: another account neither reads nor moves it.
        let other = other_account(&fx).await;
        assert_eq!(fx.store.route_cursor(other, queue).await.unwrap(), None);
        fx.store.set_route_cursor(other, queue, a).await.unwrap();
        assert_eq!(
            fx.store.route_cursor(fx.account, queue).await.unwrap(),
            Some(b)
        );
    }
);

contract!(
    r4_an_agent_reads_as_a_candidate_like_a_queue_member,
    |fx: Fixture| async move {
        let a = fx.agent(4).await;
        let queue = fx.queue(&[a]).await;
        let member = fx.store.candidates(fx.account, queue).await.unwrap();
        let alone = fx.store.agent_candidate(fx.account, a).await.unwrap();
        assert_eq!(alone.as_ref(), member.first());
        assert_eq!(alone.map(|c| c.load.capacity), Some(4));
        let other = other_account(&fx).await;
        assert_eq!(fx.store.agent_candidate(other, a).await.unwrap(), None);
    }
);

contract!(
    notification_seam_reads_pending_items_per_account_and_kind,
    |fx: Fixture| async move {
        let item = |kind, secs| OutboxItem {
            id: id(),
            account: fx.account,
            kind,
            payload: format!("{{\"n\":{secs}}}"),
            due_at: t(secs),
        };
        let second = item(OutboxKind::Notification, 20);
        let first = item(OutboxKind::Notification, 10);
        let delivery = item(OutboxKind::Delivery, 5);
        let mut commit = Commit::new(fx.account);
        commit.outbox = vec![second.clone(), first.clone(), delivery];
        fx.store.commit(commit).await.unwrap();
        assert_eq!(
            fx.store
                .pending_outbox(fx.account, OutboxKind::Notification, 10)
                .await
                .unwrap(),
            vec![first, second]
        );
        let other = other_account(&fx).await;
        assert_eq!(
            fx.store
                .pending_outbox(other, OutboxKind::Notification, 10)
                .await
                .unwrap(),
            []
        );
        crate::support::exec(
            fx.store.db(),
            "DELETE FROM outbox WHERE account_id = $1",
            vec![fx.account.into()],
        )
        .await;
    }
);
