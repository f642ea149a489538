//! D8 (held automated messages) and N3 (offline-message and missed-conversation emails), end
//! to end over HTTP on both stores, with the manual clock; the held messages' release under
//! concurrency and across a restart.

use conversation_core::channel::ChannelKind;
use conversation_core::ids::{ContactId, ConversationId};
use conversation_core::ports::SettingKind;
use inbox_app::notifications::Notification;
use inbox_tests::{TestServer, e2e_manual};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod support;
use support::*;

/// A web conversation of a new contact, and its contact.
async fn chat(server: &TestServer) -> (ConversationId, ContactId) {
    let inbox = server.inbox(ChannelKind::WebChat, None).await;
    let contact = server.contact().await;
    let received = server.inbound(&inbox, contact, "hello", None).await;
    (received.conversation, contact)
}

/// D1: a new active dialog in the conversation; its id.
async fn dialog(server: &TestServer, conversation: ConversationId) -> String {
    let account = server.account().await;
    let support = server
        .app
        .store()
        .settings(account, SettingKind::RequestType)
        .await
        .expect("settings")
        .into_iter()
        .next()
        .expect("a default request type")
        .id;
    let (status, body) = server
        .post(
            &format!("/api/v1/conversations/{conversation}/dialogs"),
            Some(&server.owner),
            &json!({"title": "Refund", "request_type": support}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    text(&body["id"])
}

async fn automated(
    server: &TestServer,
    token: &str,
    conversation: ConversationId,
    source: &str,
    body: &str,
    client_id: &str,
) -> (StatusCode, Value) {
    server
        .post(
            &format!("/api/v1/conversations/{conversation}/automated-messages"),
            Some(token),
            &json!({"source": source, "body": body, "client_id": client_id}),
        )
        .await
}

/// The bodies of the conversation's `bot` messages, in sequence order.
async fn bot_messages(server: &TestServer, conversation: ConversationId) -> Vec<String> {
    let (status, body) = server
        .get(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&server.owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = body
        .as_array()
        .or_else(|| body["rows"].as_array())
        .expect("a list of messages");
    rows.iter()
        .filter(|m| m["kind"] == "bot")
        .map(|m| text(&m["body"]))
        .collect()
}

async fn dialog_action(server: &TestServer, dialog: &str, action: &str) {
    let (status, body) = server
        .post(
            &format!("/api/v1/dialogs/{dialog}/{action}"),
            Some(&server.owner),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
}

e2e_manual!(
    d8_flow_and_broadcast_wait_for_the_dialog_and_go_in_order_ai_is_discarded,
    |server: TestServer| async move {
        let token = server.api_token(&server.owner).await;
        let (conversation, _) = chat(&server).await;
        let dialog = dialog(&server, conversation).await;

        // spec: D8: held while the dialog is active; the AI message is discarded.
        let (status, first) = automated(&server, &token, conversation, "flow", "one", "c1").await;
        assert_eq!(
            (status, text(&first["outcome"])),
            (StatusCode::ACCEPTED, "held".into()),
            "{first}"
        );
        server.advance(1);
        let (status, _) = automated(&server, &token, conversation, "broadcast", "two", "c2").await;
        assert_eq!(status, StatusCode::ACCEPTED);
        server.advance(1);
        let (status, ai) = automated(&server, &token, conversation, "ai", "guess", "c3").await;
        assert_eq!(
            (status, text(&ai["outcome"])),
            (StatusCode::OK, "discarded".into()),
            "{ai}"
        );
        server.advance(1);
        let (status, _) = automated(&server, &token, conversation, "flow", "three", "c4").await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert!(bot_messages(&server, conversation).await.is_empty());
        // M8: a retry answers what the first attempt did and holds nothing more.
        let (status, again) = automated(&server, &token, conversation, "flow", "one", "c1").await;
        assert_eq!(
            (status, &again["message"]),
            (StatusCode::ACCEPTED, &first["message"])
        );
        // Agents cannot send automated messages.
        let (status, _) = automated(&server, &server.owner, conversation, "flow", "x", "c9").await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Paused: released in the order held, once, the AI message never.
        dialog_action(&server, &dialog, "pause").await;
        server.run_timers().await;
        assert_eq!(
            bot_messages(&server, conversation).await,
            ["one", "two", "three"]
        );
        server.run_timers().await;
        assert_eq!(bot_messages(&server, conversation).await.len(), 3);
        let types = timeline(&server, conversation).await;
        assert!(
            types.contains(&"automated_message_discarded".to_owned()),
            "{types:?}"
        );
        assert_eq!(
            types
                .iter()
                .filter(|t| *t == "automated_message_released")
                .count(),
            3
        );
        let (status, again) = automated(&server, &token, conversation, "flow", "one", "c1").await;
        assert_eq!(
            (status, again["released"].as_bool()),
            (StatusCode::ACCEPTED, Some(true))
        );

        // No active dialog: sent at once, AI included.
        let (status, sent) = automated(&server, &token, conversation, "ai", "hi", "c5").await;
        assert_eq!(
            (status, text(&sent["outcome"])),
            (StatusCode::CREATED, "sent".into())
        );
        assert_eq!(
            bot_messages(&server, conversation).await,
            ["one", "two", "three", "hi"]
        );

        // Resumed, held again; completed, released.
        dialog_action(&server, &dialog, "resume").await;
        let (status, _) = automated(&server, &token, conversation, "broadcast", "four", "c6").await;
        assert_eq!(status, StatusCode::ACCEPTED);
        dialog_action(&server, &dialog, "complete").await;
        server.run_timers().await;
        assert_eq!(
            bot_messages(&server, conversation)
                .await
                .last()
                .map(String::as_str),
            Some("four")
        );
    }
);

e2e_manual!(
    d8_a_dialog_resumed_before_the_release_keeps_the_messages_waiting,
    |server: TestServer| async move {
        let token = server.api_token(&server.owner).await;
        let (conversation, _) = chat(&server).await;
        let dialog = dialog(&server, conversation).await;
        automated(&server, &token, conversation, "flow", "later", "k1").await;
        dialog_action(&server, &dialog, "pause").await;
        dialog_action(&server, &dialog, "resume").await;
        // spec: D8: the release timer fires while the dialog is active again: nothing goes.
        server.run_timers().await;
        assert!(bot_messages(&server, conversation).await.is_empty());
        dialog_action(&server, &dialog, "complete").await;
        server.run_timers().await;
        assert_eq!(bot_messages(&server, conversation).await, ["later"]);
    }
);

e2e_manual!(
    d8_held_messages_survive_a_restart,
    |server: TestServer| async move {
        let token = server.api_token(&server.owner).await;
        let (conversation, _) = chat(&server).await;
        let dialog = dialog(&server, conversation).await;
        automated(&server, &token, conversation, "flow", "kept", "r1").await;
        // spec: D8: held rows and the release timer are durable.
        let server = server.restart().await;
        dialog_action(&server, &dialog, "complete").await;
        let server = server.restart().await;
        server.run_timers().await;
        assert_eq!(bot_messages(&server, conversation).await, ["kept"]);
    }
);

e2e_manual!(
    d8_messages_sent_while_the_dialog_pauses_are_delivered_exactly_once,
    |server: TestServer| async move {
        let token = server.api_token(&server.owner).await;
        let (conversation, _) = chat(&server).await;
        let dialog = dialog(&server, conversation).await;
        // spec: D8 under concurrency: 30 sends race the pause; each is either sent at once or
        // held and released, never lost, never doubled.
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..30 {
            let (http, base, token) = (server.http.clone(), server.base.clone(), token.clone());
            tasks.spawn(async move {
                // A lost race answers 409; the client retries with the same client id (M8).
                loop {
                    let response = http
                        .post(format!("{base}/api/v1/conversations/{conversation}/automated-messages"))
                        .bearer_auth(&token)
                        .json(&json!({"source": "flow", "body": format!("m{i}"), "client_id": format!("x{i}")}))
                        .send()
                        .await
                        .expect("the server answers");
                    if response.status() != StatusCode::CONFLICT {
                        assert!(response.status().is_success(), "{}", response.status());
                        break;
                    }
                }
            });
        }
        let pause = {
            let (http, base, owner) = (
                server.http.clone(),
                server.base.clone(),
                server.owner.clone(),
            );
            tokio::spawn(async move {
                let response = http
                    .post(format!("{base}/api/v1/dialogs/{dialog}/pause"))
                    .bearer_auth(&owner)
                    .json(&json!({}))
                    .send()
                    .await
                    .expect("the server answers");
                assert!(response.status().is_success());
            })
        };
        while let Some(done) = tasks.join_next().await {
            done.expect("a send");
        }
        pause.await.expect("the pause");
        server.run_timers().await;
        let mut bodies = bot_messages(&server, conversation).await;
        bodies.sort();
        let mut expected: Vec<String> = (0..30).map(|i| format!("m{i}")).collect();
        expected.sort();
        assert_eq!(bodies, expected);
        let account = server.account().await;
        let contact = conversation_contact(&server, conversation).await;
        assert!(
            server
                .app
                .store()
                .held_messages(account, contact, 100)
                .await
                .expect("read")
                .is_empty()
        );
    }
);

async fn conversation_contact(server: &TestServer, id: ConversationId) -> ContactId {
    server
        .app
        .store()
        .conversation(server.account().await, id)
        .await
        .expect("read")
        .expect("a conversation")
        .value
        .contact
}

/// The account's N3 notifications.
async fn n3(server: &TestServer) -> Vec<Notification> {
    server
        .app
        .pending_notifications(server.account().await)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|n| !matches!(n, Notification::TaskStartsSoon { .. }))
        .collect()
}

e2e_manual!(
    n3_a_message_while_no_agent_is_online_notifies_the_queue_once_per_unanswered_run,
    |server: TestServer| async move {
        let (ann, ann_token) = agent(&server, json!({})).await;
        let queue = queue(&server, "manual", "direct", &[ann]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let contact = server.contact().await;
        let first = server.inbound(&inbox, contact, "anyone?", None).await;
        server.inbound(&inbox, contact, "hello??", None).await;
        server.run_timers().await;
        // spec: N3: one offline-message email to the queue's members.
        let notes = n3(&server).await;
        assert_eq!(notes.len(), 1, "{notes:?}");
        match &notes[0] {
            Notification::OfflineMessage {
                conversation,
                message,
                recipients,
                text,
            } => {
                assert_eq!(
                    (*conversation, *message),
                    (first.conversation, first.message)
                );
                assert_eq!(recipients.len(), 1);
                assert!(recipients[0].starts_with("agent-"), "{recipients:?}");
                assert!(text.contains(&first.conversation.to_string()));
            }
            other => panic!("{other:?}"),
        }
        // Someone online: a new contact's message is no offline message.
        available(&server, &ann_token).await;
        let other = server.contact().await;
        server.inbound(&inbox, other, "hi", None).await;
        server.run_timers().await;
        assert_eq!(n3(&server).await.len(), 1);
    }
);

e2e_manual!(
    n3_a_conversation_unanswered_for_ten_minutes_or_closed_unanswered_is_missed,
    |server: TestServer| async move {
        let (ann, ann_token) = agent(&server, json!({})).await;
        available(&server, &ann_token).await;
        let queue = queue(&server, "manual", "direct", &[ann]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let waited = write(&server, &inbox).await;
        let answered = write(&server, &inbox).await;
        let closed = write(&server, &inbox).await;
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{answered}/messages"),
                Some(&server.owner),
                &json!({"body": "on it"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{closed}/drop"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        server.run_timers().await;
        // spec: N3: closed unanswered: missed at once.
        let missed = |notes: Vec<Notification>| -> Vec<ConversationId> {
            notes
                .into_iter()
                .filter_map(|n| match n {
                    Notification::MissedConversation {
                        conversation,
                        recipients,
                        ..
                    } => {
                        assert!(!recipients.is_empty());
                        Some(conversation)
                    }
                    _ => None,
                })
                .collect()
        };
        assert_eq!(missed(n3(&server).await), [closed]);
        server.advance(599);
        server.run_timers().await;
        assert_eq!(missed(n3(&server).await), [closed]);
        // Ten minutes unanswered: missed; the answered one never.
        server.advance(1);
        server.run_timers().await;
        assert_eq!(missed(n3(&server).await), [closed, waited]);
        server.advance(3600);
        server.run_timers().await;
        assert_eq!(missed(n3(&server).await), [closed, waited]);
    }
);
