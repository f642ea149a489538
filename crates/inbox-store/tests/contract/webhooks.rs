//! `WebhookStore` (N5, A1): the cursor starts at the end of the account's log; a fan-out moves
//! it only from where it was read (a concurrent fan-out writes nothing); a delivery is written
//! once per (subscription, event id) with its outbox row; attempts are logged in order; another
//! account reads nothing.

use conversation_core::ids::AccountId;
use conversation_core::ports::{
    OutboxItem, OutboxKind, OutboxStore, WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus,
    WebhookFanOut, WebhookStore, WebhookSubscription,
};
use uuid::Uuid;

use crate::directory::other_account;
use crate::support::{Fixture, contract, id, t};

fn subscription(account: AccountId) -> WebhookSubscription {
    WebhookSubscription {
        id: id(),
        account,
        url: "http://hooks.test/in".into(),
        secret: "whsec_x".into(),
        events: vec!["order.created".into()],
        created_at: t(0),
        deleted_at: None,
    }
}

fn delivery(fx: &Fixture, subscription: Uuid, event: &str) -> (WebhookDelivery, OutboxItem) {
    let delivery = WebhookDelivery {
        id: id(),
        account: fx.account,
        subscription,
        event_id: event.into(),
        event_type: "order.created".into(),
        body: "{}".into(),
        status: WebhookDeliveryStatus::Pending,
        attempts: 0,
        last_status_code: None,
        last_error: None,
        created_at: t(1),
        last_attempt_at: None,
        delivered_at: None,
    };
    let item = OutboxItem {
        id: id(),
        account: fx.account,
        kind: OutboxKind::Webhook,
        payload: format!(r#"{{"delivery":"{}"}}"#, delivery.id),
        due_at: t(1),
    };
    (delivery, item)
}

contract!(
    n5_fan_out_moves_the_cursor_once_and_writes_each_delivery_once,
    |fx: Fixture| async move {
        // The cursor starts at the end of the log: the fixture's start wrote events.
        let inbox = fx.inbox(None).await;
        let contact = fx.contact().await;
        fx.start(inbox, contact, None).await;
        let start = fx.store.webhook_cursor(fx.account).await.unwrap();
        assert!(start > 0);
        assert_eq!(fx.store.webhook_cursor(fx.account).await.unwrap(), start);

        let sub = subscription(fx.account);
        fx.store.save_subscription(&sub).await.unwrap();
        assert_eq!(
            fx.store.subscriptions(fx.account).await.unwrap(),
            std::slice::from_ref(&sub)
        );
        assert!(
            fx.store
                .webhook_accounts()
                .await
                .unwrap()
                .contains(&fx.account)
        );

        let first = delivery(&fx, sub.id, "e-1");
        let fan_out = WebhookFanOut {
            account: fx.account,
            cursor: Some((start, start + 5)),
            deliveries: vec![first.clone()],
        };
        assert!(fx.store.fan_out_webhooks(&fan_out).await.unwrap());
        assert_eq!(
            fx.store.webhook_cursor(fx.account).await.unwrap(),
            start + 5
        );
        // The same fan-out again (another process read the same cursor): nothing written.
        let again = WebhookFanOut {
            deliveries: vec![delivery(&fx, sub.id, "e-2")],
            ..fan_out.clone()
        };
        assert!(!fx.store.fan_out_webhooks(&again).await.unwrap());
        // Without a cursor (an order's row fanned out twice): the same event id writes once.
        let twice = WebhookFanOut {
            account: fx.account,
            cursor: None,
            deliveries: vec![delivery(&fx, sub.id, "e-1")],
        };
        assert!(fx.store.fan_out_webhooks(&twice).await.unwrap());
        let log = fx
            .store
            .webhook_deliveries(fx.account, sub.id, 10)
            .await
            .unwrap();
        assert_eq!(log, std::slice::from_ref(&first.0));
        let rows = fx
            .store
            .pending_outbox(fx.account, OutboxKind::Webhook, 10)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "one outbox row per delivery written");
        assert_eq!(rows[0].id, first.1.id);

        // Attempts, in order, and the delivery's summary.
        let failed = WebhookAttempt {
            attempt: 1,
            at: t(2),
            status_code: Some(500),
            error: Some("500".into()),
        };
        let ok = WebhookAttempt {
            attempt: 2,
            at: t(3),
            status_code: Some(200),
            error: None,
        };
        fx.store
            .record_webhook_attempt(
                fx.account,
                first.0.id,
                &failed,
                WebhookDeliveryStatus::Pending,
            )
            .await
            .unwrap();
        fx.store
            .record_webhook_attempt(
                fx.account,
                first.0.id,
                &ok,
                WebhookDeliveryStatus::Delivered,
            )
            .await
            .unwrap();
        assert_eq!(
            fx.store
                .webhook_attempts(fx.account, first.0.id)
                .await
                .unwrap(),
            [failed, ok]
        );
        let summary = fx
            .store
            .webhook_delivery(fx.account, first.0.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(summary.status, WebhookDeliveryStatus::Delivered);
        assert_eq!((summary.attempts, summary.last_status_code), (2, Some(200)));
        assert_eq!(
            (summary.last_error, summary.delivered_at),
            (None, Some(t(3)))
        );

        // A1: another account reads nothing of it and cannot log on it.
        let other = other_account(&fx).await;
        assert!(fx.store.subscriptions(other).await.unwrap().is_empty());
        assert_eq!(
            fx.store.webhook_delivery(other, first.0.id).await.unwrap(),
            None
        );
        assert!(
            fx.store
                .webhook_attempts(other, first.0.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            fx.store
                .webhook_deliveries(other, sub.id, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let foreign = WebhookAttempt {
            attempt: 3,
            at: t(4),
            status_code: None,
            error: None,
        };
        fx.store
            .record_webhook_attempt(other, first.0.id, &foreign, WebhookDeliveryStatus::Failed)
            .await
            .unwrap();
        assert_eq!(
            fx.store
                .webhook_attempts(fx.account, first.0.id)
                .await
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            fx.store
                .webhook_delivery(fx.account, first.0.id)
                .await
                .unwrap()
                .unwrap()
                .status,
            WebhookDeliveryStatus::Delivered
        );
        // A deleted subscription: its account is no longer fanned out.
        let deleted = WebhookSubscription {
            deleted_at: Some(t(5)),
            ..sub
        };
        fx.store.save_subscription(&deleted).await.unwrap();
        assert!(
            !fx.store
                .webhook_accounts()
                .await
                .unwrap()
                .contains(&fx.account)
        );
    }
);
