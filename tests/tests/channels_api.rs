//! The generic API channel end to end on both stores (H1, A4, S7, M4, M6, M7, M8, L2): the
//! admin connects an inbox (secrets never shown back), the customer's service calls the
//! inbox's webhook with signed events, and the contact's replies go out to a small local server
//! standing for the customer's endpoint, signed, with an idempotency key; statuses come back.

use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use conversation_core::ids::ConversationId;
use inbox_tests::{TestServer, e2e, e2e_manual};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod endpoint;
use endpoint::*;

/// The conversation of the message with this external id.
async fn conversation_of(server: &TestServer, inbox: &Inbox, external_id: &str) -> ConversationId {
    server
        .app
        .store()
        .message_by_external_id(inbox.account, inbox.id, external_id)
        .await
        .unwrap()
        .expect("the message is stored")
        .conversation
}

/// The messages of a conversation, as the API shows them.
async fn messages(server: &TestServer, conversation: ConversationId) -> Vec<Value> {
    let (status, body) = server
        .get(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&server.owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

/// How many events of the account's log have this type (their JSON `type`).
async fn events_of_type(server: &TestServer, kind: &str) -> usize {
    let account = server.account().await;
    let events = server
        .app
        .store()
        .events_after(account, 0, 10_000)
        .await
        .unwrap();
    events
        .iter()
        .filter(|e| {
            let value = serde_json::to_value(&e.event).unwrap();
            value.to_string().contains(&format!("\"{kind}\""))
        })
        .count()
}

/// Every message of the account, over the store (conversations of every contact).
async fn message_count(server: &TestServer) -> usize {
    let (status, page) = server
        .get(
            "/api/v1/conversations?filter=all&limit=100",
            Some(&server.owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut total = 0;
    for row in page["rows"].as_array().unwrap() {
        let id: ConversationId = row["id"].as_str().unwrap().parse().unwrap();
        total += messages(server, id).await.len();
    }
    total
}

e2e!(
    h1_a4_the_connection_is_checked_by_its_adapter_and_never_shows_a_secret,
    |server: TestServer| async move {
        let inbox = server.inbox(ChannelKind::Api, None).await;
        let path = format!("/api/v1/inboxes/{}/connection", inbox.id);
        // Not connected yet.
        assert_eq!(
            server.get(&path, Some(&server.owner)).await.0,
            StatusCode::NOT_FOUND
        );
        // The adapter's sentence, with a stable code.
        let (status, problem) = server
            .put(
                &path,
                Some(&server.owner),
                &json!({"settings": {"url": "http://x.test/in"}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["code"], "invalid_connection");
        assert!(
            problem["detail"].as_str().unwrap().contains("secret"),
            "{problem}"
        );
        let (status, problem) = server
            .put(
                &path,
                Some(&server.owner),
                &json!({"settings": {"url": "not a url"}, "secrets": {"secret": SECRET}}),
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_connection"))
        );
        // Unknown fields are refused (S2).
        let (status, _) = server
            .put(
                &path,
                Some(&server.owner),
                &json!({"settings": {}, "token": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let (status, view) = server
            .put(
                &path,
                Some(&server.owner),
                &json!({"settings": {"url": "http://x.test/in"}, "secrets": {"secret": SECRET}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["kind"], "api");
        assert_eq!(view["settings"]["url"], "http://x.test/in");
        assert_eq!(view["secrets_set"], json!(["secret"]));
        assert_eq!(
            view["webhook_path"],
            format!("/api/v1/channels/{}/webhook", inbox.id)
        );
        assert!(
            view["webhook_url"]
                .as_str()
                .unwrap()
                .ends_with(view["webhook_path"].as_str().unwrap())
        );
        assert!(
            !view.to_string().contains(SECRET),
            "a secret is never shown back"
        );
        // A setting changes; the secret not given is kept.
        let (status, view) = server
            .put(
                &path,
                Some(&server.owner),
                &json!({"settings": {"url": "http://y.test/in"}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["secrets_set"], json!(["secret"]));
        let (status, read) = server.get(&path, Some(&server.owner)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read["settings"]["url"], "http://y.test/in");
        assert!(!read.to_string().contains(SECRET));

        // A2: agents may not; A1: another account sees nothing.
        let (_, agent) = server.new_agent("Ann").await;
        assert_eq!(
            server.get(&path, Some(&agent)).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            server
                .put(&path, Some(&agent), &json!({"settings": {}}))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        let stranger = server.stranger().await;
        assert_eq!(
            server.get(&path, Some(&stranger)).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            server
                .put(
                    &path,
                    Some(&stranger),
                    &json!({"settings": {"url": "http://z.test"}, "secrets": {"secret": SECRET}})
                )
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        // The web chat has no adapter to connect.
        let web = server.inbox(ChannelKind::WebChat, None).await;
        let (status, problem) = server
            .put(
                &format!("/api/v1/inboxes/{}/connection", web.id),
                Some(&server.owner),
                &json!({"settings": {}}),
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("capability_unsupported")
            )
        );
    }
);

e2e!(
    a4_s7_missing_wrong_and_stale_signatures_are_refused_with_401_and_nothing_is_stored,
    |server: TestServer| async move {
        let inbox = server.inbox(ChannelKind::Api, None).await;
        connect(&server, &inbox, "http://127.0.0.1:9/in").await;
        let body = message("m-1", "c-1", "Hello").to_string();
        let now = unix_now(&server);
        let events_before = events_of_type(&server, "inbound_received").await;
        for (timestamp, secret) in [
            (now, None),
            (now, Some("a-wrong-secret-0000000000")),
            (now - 301, Some(SECRET)),
            (now + 301, Some(SECRET)),
        ] {
            let (status, problem) =
                call_webhook(&server.http, &server.base, &inbox, &body, timestamp, secret).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
            assert_eq!(problem["code"], "invalid_signature");
        }
        // A signature over another body (the body was changed on the way).
        let other = message("m-1", "c-1", "Hellp").to_string();
        let response = server
            .http
            .post(format!(
                "{}/api/v1/channels/{}/webhook",
                server.base, inbox.id
            ))
            .header(inbox_channels::api::TIMESTAMP_HEADER, now.to_string())
            .header(
                inbox_channels::api::SIGNATURE_HEADER,
                inbox_channels::api::sign(SECRET, now, other.as_bytes()),
            )
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(message_count(&server).await, 0, "nothing stored");
        assert_eq!(
            events_of_type(&server, "inbound_received").await,
            events_before
        );
        assert!(
            server
                .app
                .store()
                .contact_by_identity(inbox.account, inbox.id, "c-1")
                .await
                .unwrap()
                .is_none(),
            "no contact created"
        );
        // The same body, signed: stored.
        let (status, accepted) =
            call_webhook(&server.http, &server.base, &inbox, &body, now, Some(SECRET)).await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
        assert_eq!(accepted["stored"], 1);
        assert_eq!(message_count(&server).await, 1);
        // A verified body that is not an event: 400. An unknown inbox: 404.
        let (status, _) = call_webhook(
            &server.http,
            &server.base,
            &inbox,
            "{\"x\":1}",
            now,
            Some(SECRET),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let unconnected = server.inbox(ChannelKind::Api, None).await;
        let (status, _) = call_webhook(
            &server.http,
            &server.base,
            &unconnected,
            &body,
            now,
            Some(SECRET),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

e2e!(
    l2_m8_each_webhook_delivered_1_to_5_times_concurrently_and_after_a_restart_is_stored_once,
    |server: TestServer| async move {
        let inbox = server.inbox(ChannelKind::Api, None).await;
        connect(&server, &inbox, "http://127.0.0.1:9/in").await;
        // Five contacts, the first new to us: external ids m-1..m-5 delivered 1..5 times, all
        // copies of one id at once, every id at once.
        let mut calls = Vec::new();
        for n in 1..=5_usize {
            let body = json!({"events": [message(&format!("m-{n}"), &format!("c-{}", n % 2), &format!("text {n}"))]});
            for _ in 0..n {
                let (http, base, inbox, body) = (
                    server.http.clone(),
                    server.base.clone(),
                    inbox.clone(),
                    body.to_string(),
                );
                let now = unix_now(&server);
                calls.push(tokio::spawn(async move {
                    call_webhook(&http, &base, &inbox, &body, now, Some(SECRET)).await
                }));
            }
        }
        let mut stored = 0;
        let mut duplicates = 0;
        for call in calls {
            let (status, accepted) = call.await.unwrap();
            assert_eq!(status, StatusCode::OK, "{accepted}");
            stored += accepted["stored"].as_u64().unwrap();
            duplicates += accepted["duplicates"].as_u64().unwrap();
        }
        assert_eq!((stored, duplicates), (5, 10), "one store per external id");
        // After a restart, the provider retries each once more.
        let server = server.restart().await;
        for n in 1..=5 {
            let (status, accepted) = webhook(
                &server,
                &inbox,
                &message(
                    &format!("m-{n}"),
                    &format!("c-{}", n % 2),
                    &format!("text {n}"),
                ),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{accepted}");
            assert_eq!(accepted["duplicates"], 1);
        }
        assert_eq!(
            message_count(&server).await,
            5,
            "exactly one message per external id"
        );
        assert_eq!(
            events_of_type(&server, "inbound_received").await
                + events_of_type(&server, "started").await,
            5 + 2,
            "one event per external id (and one start per contact)"
        );
        // Two contacts, one each, created once (K2).
        let store = server.app.store();
        for contact in ["c-0", "c-1"] {
            assert!(
                store
                    .contact_by_identity(inbox.account, inbox.id, contact)
                    .await
                    .unwrap()
                    .is_some()
            );
        }
    }
);

e2e_manual!(
    h3_m4_m5_m6_m7_a_reply_goes_out_signed_and_statuses_come_back,
    |server: TestServer| async move {
        let endpoint = Endpoint::start().await;
        let inbox = server.inbox(ChannelKind::Api, None).await;
        connect(&server, &inbox, &format!("{}/inbox", endpoint.base)).await;
        // The contact writes with a picture (M7: fetched, checked, stored).
        let (status, accepted) = webhook(
            &server,
            &inbox,
            &json!({"type": "message", "id": "m-1", "from": {"id": "c-1", "name": "Ann", "email": "ann@example.test"},
                    "text": "see this", "media": [{"url": format!("{}/media/shot.png", endpoint.base), "file_name": "shot.png"}]}),
        )
        .await;
        assert_eq!(
            (status, &accepted["stored"]),
            (StatusCode::OK, &json!(1)),
            "{accepted}"
        );
        let media_get = &endpoint.received_of("GET")[0];
        assert!(
            media_get.signed_with(SECRET),
            "media downloads are signed too"
        );
        let conversation = conversation_of(&server, &inbox, "m-1").await;
        let listed = messages(&server, conversation).await;
        assert_eq!(listed[0]["kind"], "media");
        assert_eq!(listed[0]["attachment"]["content_type"], "image/png");
        let contact = server
            .app
            .store()
            .contact_by_identity(inbox.account, inbox.id, "c-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (contact.name.as_deref(), contact.email.as_deref()),
            (Some("Ann"), Some("ann@example.test"))
        );

        // The agent answers; the queue sends it.
        let (status, reply) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&server.owner),
                &json!({"body": "Thanks, looking at it."}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        assert_eq!(reply["delivery"]["status"], "pending");
        assert_eq!(server.run_deliveries().await, 1);
        let sent = endpoint.received_of("POST");
        assert_eq!(sent.len(), 1);
        assert!(sent[0].signed_with(SECRET), "H3: signed");
        assert_eq!(sent[0].header("idempotency-key"), reply["id"].as_str());
        let body = sent[0].json();
        assert_eq!(body["text"], "Thanks, looking at it.");
        assert_eq!(body["to"]["id"], "c-1");
        assert_eq!(body["in_reply_to"], "m-1");
        let listed = messages(&server, conversation).await;
        let ours = listed
            .iter()
            .find(|m| m["id"] == reply["id"])
            .unwrap()
            .clone();
        assert_eq!(ours["delivery"]["status"], "sent");
        let external = "api-2"; // the endpoint's id: its second request.
        // Nothing more to send.
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(endpoint.received_of("POST").len(), 1);

        // M6: statuses by the endpoint's id, out of order and repeated.
        for status in ["read", "delivered", "read"] {
            let (code, _) = webhook(
                &server,
                &inbox,
                &json!({"type": "status", "id": external, "status": status}),
            )
            .await;
            assert_eq!(code, StatusCode::OK);
        }
        let listed = messages(&server, conversation).await;
        let ours = listed
            .iter()
            .find(|m| m["id"] == reply["id"])
            .unwrap()
            .clone();
        assert_eq!(ours["delivery"]["status"], "read", "{ours}");
        assert_eq!(
            events_of_type(&server, "message_delivery").await,
            2,
            "sent, read: one event each"
        );

        // M4: the contact quotes our reply.
        let (status, _) = webhook(
            &server,
            &inbox,
            &json!({"type": "message", "id": "m-2", "from": {"id": "c-1"}, "text": "ok!", "quote": external}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let listed = messages(&server, conversation).await;
        let quoting = listed.iter().find(|m| m["body"] == "ok!").unwrap();
        assert_eq!(quoting["quote"], reply["id"]);

        // M5: the agent deletes the reply: unsent on the endpoint.
        let (status, deleted) = server
            .delete(
                &format!(
                    "/api/v1/conversations/{conversation}/messages/{}",
                    reply["id"].as_str().unwrap()
                ),
                Some(&server.owner),
            )
            .await;
        assert!(status.is_success(), "{deleted}");
        assert_eq!(server.run_deliveries().await, 1);
        let unsent = endpoint.received_of("DELETE");
        assert_eq!(unsent.len(), 1);
        assert_eq!(unsent[0].path, format!("/inbox/{external}"));
        assert!(unsent[0].signed_with(SECRET));
    }
);

e2e!(
    m7_s4_a_disguised_file_is_refused_and_the_message_kept_with_a_note,
    |server: TestServer| async move {
        let endpoint = Endpoint::start().await;
        let inbox = server.inbox(ChannelKind::Api, None).await;
        connect(&server, &inbox, &format!("{}/inbox", endpoint.base)).await;
        let (status, accepted) = webhook(
            &server,
            &inbox,
            &json!({"type": "message", "id": "m-1", "from": {"id": "c-1"}, "text": "my photo",
                    "media": [{"url": format!("{}/media/photo.html", endpoint.base), "content_type": "image/png"}]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
        assert_eq!(accepted["stored"], 1);
        let conversation = conversation_of(&server, &inbox, "m-1").await;
        let listed = messages(&server, conversation).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["kind"], "text");
        assert_eq!(listed[0]["attachment"], Value::Null, "nothing of it stored");
        let body = listed[0]["body"].as_str().unwrap();
        assert!(
            body.starts_with("my photo\n[attachment not accepted: "),
            "{body}"
        );
    }
);
