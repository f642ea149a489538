//! Durable timers end to end (R8, R9, R11, C8, D11, and R6 across a restart), over real HTTP on
//! both stores: time moves only on the manual clock, and the test runs the worker once instead
//! of waiting.

use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use conversation_core::ids::QueueId;
use inbox_app::notifications::Notification;
use inbox_tests::{TestServer, e2e_manual};
use reqwest::StatusCode;
use serde_json::json;

mod support;
use support::*;

/// A web-chat inbox routing to `queue`, with its settings changed by `edit`.
async fn inbox_with(
    server: &TestServer,
    queue: QueueId,
    edit: impl FnOnce(&mut conversation_core::entities::InboxSettings),
) -> Inbox {
    let mut inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
    edit(&mut inbox.settings);
    server.app.store().save_inbox(&inbox).await.expect("saved");
    inbox
}

async fn wrap_up(server: &TestServer) -> serde_json::Value {
    let (status, reason) = server
        .post(
            "/api/v1/settings/wrap-up-reasons",
            Some(&server.owner),
            &json!({"name": format!("Reason {}", uuid::Uuid::new_v4())}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reason}");
    reason["id"].clone()
}

e2e_manual!(
    r8_transfer_offer_times_out_and_waits_in_the_target_queue,
    |server: TestServer| async move {
        let (a, a_token) = agent(&server, json!({})).await;
        let (b, b_token) = agent(&server, json!({})).await;
        available(&server, &a_token).await;
        available(&server, &b_token).await;
        let queue = queue(&server, "manual", "direct", &[a, b]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let id = write(&server, &inbox).await;
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{id}/claim"),
                Some(&a_token),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let reason = wrap_up(&server).await;
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{id}/transfer"),
                Some(&a_token),
                &json!({"agent": b, "wrap_up": reason}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["assignment"]["type"], "offered");
        // spec: R8: the target's offer times out (R6): rona, and it waits in the queue.
        server.advance(31);
        assert!(server.run_timers().await >= 1);
        assert_eq!(availability(&server, b).await, "rona");
        let c = conversation(&server, id).await;
        assert_eq!(c["assignment"]["type"], "waiting", "{c}");
        assert_eq!(c["queue"], json!(queue));
    }
);

e2e_manual!(
    r9_conference_invitation_times_out_and_the_assignee_keeps_it,
    |server: TestServer| async move {
        let (a, a_token) = agent(&server, json!({})).await;
        let (b, b_token) = agent(&server, json!({})).await;
        available(&server, &a_token).await;
        available(&server, &b_token).await;
        let queue = queue(&server, "least_loaded", "direct", &[a]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let id = write(&server, &inbox).await;
        assert_eq!(conversation(&server, id).await["assignee"], json!(a));
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{id}/invite"),
                Some(&a_token),
                &json!({"agent": b}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["assignment"]["type"], "conference_requested");
        server.advance(29);
        server.run_timers().await;
        assert_eq!(
            conversation(&server, id).await["assignment"]["type"],
            "conference_requested"
        );
        // spec: R9: unanswered past the timeout, the invitation is declined; A keeps it.
        server.advance(2);
        assert!(server.run_timers().await >= 1);
        let c = conversation(&server, id).await;
        assert_eq!(c["assignment"]["type"], "assigned", "{c}");
        assert_eq!(c["assignee"], json!(a));
        assert!(
            timeline(&server, id)
                .await
                .contains(&"conference_declined".to_owned())
        );
        // Accepting afterwards is refused: there is no invitation any more.
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{id}/accept_conference"),
                Some(&b_token),
                &json!({}),
            )
            .await;
        assert_ne!(status, StatusCode::OK);
    }
);

e2e_manual!(
    r11_offline_agent_keeps_conversations_for_the_grace_period_then_they_move,
    |server: TestServer| async move {
        let (a, a_token) = agent(&server, json!({})).await;
        let (b, b_token) = agent(&server, json!({})).await;
        available(&server, &a_token).await;
        let queue = queue(&server, "least_loaded", "direct", &[a, b]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let id = write(&server, &inbox).await;
        assert_eq!(conversation(&server, id).await["assignee"], json!(a));
        available(&server, &b_token).await;
        set_availability(&server, &a_token, "offline").await;
        // spec: R11: within the 2-minute grace period A keeps it.
        server.advance(119);
        server.run_timers().await;
        assert_eq!(conversation(&server, id).await["assignee"], json!(a));
        // spec: R11: at the end it is routed again, to the available B.
        server.advance(1);
        assert!(server.run_timers().await >= 1);
        assert_eq!(conversation(&server, id).await["assignee"], json!(b));
    }
);

e2e_manual!(
    r11_an_agent_back_in_time_or_a_keeping_inbox_keeps_them,
    |server: TestServer| async move {
        let (a, a_token) = agent(&server, json!({})).await;
        let (b, b_token) = agent(&server, json!({})).await;
        available(&server, &a_token).await;
        let queue = queue(&server, "least_loaded", "direct", &[a, b]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let keeping = inbox_with(&server, queue, |s| s.keep_assignments_when_offline = true).await;
        let back = write(&server, &inbox).await;
        let kept = write(&server, &keeping).await;
        available(&server, &b_token).await;
        // spec: R11: A goes offline and comes back within the grace period: keeps them.
        set_availability(&server, &a_token, "offline").await;
        server.advance(60);
        available(&server, &a_token).await;
        server.advance(120);
        server.run_timers().await;
        assert_eq!(conversation(&server, back).await["assignee"], json!(a));
        // spec: R11: an inbox set to keep them keeps them however long A is away.
        set_availability(&server, &a_token, "offline").await;
        server.advance(600);
        server.run_timers().await;
        assert_eq!(conversation(&server, kept).await["assignee"], json!(a));
        assert_eq!(conversation(&server, back).await["assignee"], json!(b));
    }
);

e2e_manual!(
    c8_awaiting_reply_past_the_target_is_flagged_overdue,
    |server: TestServer| async move {
        let (a, token) = agent(&server, json!({})).await;
        available(&server, &token).await;
        let queue = queue(&server, "least_loaded", "direct", &[a]).await;
        let inbox = inbox_with(&server, queue, |s| s.reply_time_target_secs = Some(60)).await;
        let late = write(&server, &inbox).await;
        let answered = write(&server, &inbox).await;
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{answered}/messages"),
                Some(&token),
                &json!({"body": "On it!", "client_id": "c8-1"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        server.advance(59);
        server.run_timers().await;
        assert!(
            !timeline(&server, late)
                .await
                .contains(&"reply_overdue".to_owned())
        );
        // spec: C8: past the inbox's target, the waiting conversation is flagged overdue.
        server.advance(2);
        server.run_timers().await;
        assert!(
            timeline(&server, late)
                .await
                .contains(&"reply_overdue".to_owned())
        );
        assert!(conversation(&server, late).await["waiting_since"].is_string());
        // The answered one is not: its reply cancelled the target.
        assert!(
            !timeline(&server, answered)
                .await
                .contains(&"reply_overdue".to_owned())
        );
    }
);

e2e_manual!(
    d11_a_dialog_task_is_announced_within_a_minute,
    |server: TestServer| async move {
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        let id = write(&server, &inbox).await;
        let (helper, _) = agent(&server, json!({})).await;
        let (_, types) = server
            .get("/api/v1/settings/request-types", Some(&server.owner))
            .await;
        let support = types
            .as_array()
            .expect("a list")
            .iter()
            .find(|t| t["name"] == "Support")
            .expect("Support")["id"]
            .clone();
        let (status, dialog) = server
            .post(
                &format!("/api/v1/conversations/{id}/dialogs"),
                Some(&server.owner),
                &json!({"title": "Late parcel", "request_type": support, "participants": [helper]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{dialog}");
        let account = server.account().await;
        assert!(
            server
                .app
                .pending_notifications(account)
                .await
                .expect("read")
                .is_empty()
        );
        // spec: D11: within a minute, the notification that the task starts in 5 minutes.
        server.advance(1);
        assert!(server.run_timers().await >= 1);
        // (N3's offline-message email of the conversation may be there too: nobody is online.)
        let notes: Vec<_> = server
            .app
            .pending_notifications(account)
            .await
            .expect("read")
            .into_iter()
            .filter(|n| matches!(n, Notification::TaskStartsSoon { .. }))
            .collect();
        let now = server.app.now();
        match notes.as_slice() {
            [
                Notification::TaskStartsSoon {
                    title, starts_at, ..
                },
            ] => {
                assert_eq!(title, "Late parcel");
                let left = *starts_at - now;
                assert!(
                    left <= chrono::Duration::minutes(5) && left >= chrono::Duration::minutes(4)
                );
            }
            other => panic!("one task notification expected: {other:?}"),
        }
    }
);

e2e_manual!(
    r6_a_pending_offer_timeout_fires_after_a_restart,
    |server: TestServer| async move {
        let (a, a_token) = agent(&server, json!({})).await;
        let (b, b_token) = agent(&server, json!({})).await;
        available(&server, &a_token).await;
        available(&server, &b_token).await;
        let queue = queue(&server, "least_loaded", "offer", &[a, b]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let id = write(&server, &inbox).await;
        let offered = conversation(&server, id).await["assignment"]["agent"].clone();
        // The process stops with the offer pending; a new one starts on the same database.
        let server = server.restart().await;
        server.advance(31);
        // spec: R6, L5: the new process's worker fires the stored timer.
        assert!(server.run_timers().await >= 1);
        let first = uuid::Uuid::parse_str(offered.as_str().expect("an agent")).expect("an id");
        assert_eq!(availability(&server, first).await, "rona");
        let c = conversation(&server, id).await;
        assert_eq!(c["assignment"]["type"], "offered");
        assert_ne!(c["assignment"]["agent"], offered);
    }
);
