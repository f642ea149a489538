//! The agent API over real HTTP: signing in (A3, S9), conversations and messages (C4, C5, C9,
//! M2, M3, M5, M8, M10), errors as problem documents with stable codes (S10), unknown fields and
//! other accounts' ids refused (S1, S2), body limits (S8), and the OpenAPI document describing
//! every route served.

use conversation_core::channel::ChannelKind;
use inbox_tests::{OWNER_PASSWORD, TestServer, e2e};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn open_conversation(
    server: &TestServer,
    text: &str,
) -> (String, conversation_core::entities::Inbox) {
    let inbox = server.inbox(ChannelKind::WebChat, None).await;
    let contact = server.contact().await;
    let received = server.inbound(&inbox, contact, text, None).await;
    (received.conversation.to_string(), inbox)
}

e2e!(
    a3_sign_in_gives_a_bearer_token_and_wrong_credentials_get_one_answer,
    |server: TestServer| async move {
        let (status, me) = server.get("/api/v1/me", Some(&server.owner)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["email"], server.owner_email.as_str());
        assert_eq!(me["role"], "owner");
        let wrong_password = server
            .post(
                "/api/v1/auth/sign-in",
                None,
                &json!({"email": server.owner_email, "password": "nope-nope"}),
            )
            .await;
        let unknown_email = server
            .post(
                "/api/v1/auth/sign-in",
                None,
                &json!({"email": "nobody@example.test", "password": "nope-nope"}),
            )
            .await;
        assert_eq!(wrong_password.0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            wrong_password.1, unknown_email.1,
            "S10: the same answer whether the email exists or not"
        );
        assert_eq!(wrong_password.1["code"], "unauthenticated");
        let (status, _) = server.get("/api/v1/me", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = server.get("/api/v1/me", Some("ias_not-a-real-token")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

e2e!(
    s9_changing_the_password_revokes_every_session,
    |server: TestServer| async move {
        let (status, _) = server
            .post(
                "/api/v1/me/password",
                Some(&server.owner),
                &json!({"current": OWNER_PASSWORD, "new": "a-new-password-2"}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = server.get("/api/v1/me", Some(&server.owner)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the old token is revoked");
        let (status, body) = server
            .post(
                "/api/v1/auth/sign-in",
                None,
                &json!({"email": server.owner_email, "password": "a-new-password-2"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = server
            .post(
                "/api/v1/me/password",
                Some(body["token"].as_str().unwrap()),
                &json!({"current": "a-new-password-2", "new": "short"}),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_value"))
        );
    }
);

e2e!(
    c9_c4_c5_m3_a_widget_message_is_listed_answered_and_resolved,
    |server: TestServer| async move {
        let (conversation, _) =
            open_conversation(&server, "my card is 4111 1111 1111 1111, please help").await;
        let (status, page) = server
            .get(
                "/api/v1/conversations?filter=unassigned",
                Some(&server.owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total"], 1);
        assert_eq!(page["rows"][0]["id"], conversation.as_str());
        assert_eq!(page["rows"][0]["channel"], "web_chat");
        let (_, messages) = server
            .get(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(
            messages[0]["body"], "my card is **** **** **** 1111, please help",
            "M3: masked before it is stored"
        );
        let (status, reply) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&server.owner),
                &json!({"body": "Hello! Looking into it.", "client_id": "c-1"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        assert_eq!(
            (reply["sequence"].as_u64(), reply["direction"].as_str()),
            (Some(2), Some("outbound"))
        );
        // M8: the client retries the same message: stored once.
        let (status, again) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&server.owner),
                &json!({"body": "Hello! Looking into it.", "client_id": "c-1"}),
            )
            .await;
        assert_eq!((status, &again["id"]), (StatusCode::CREATED, &reply["id"]));
        let (_, view) = server
            .get(
                &format!("/api/v1/conversations/{conversation}"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(view["waiting_since"], Value::Null, "C8: answered");
        let (status, resolved) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/resolve"),
                Some(&server.owner),
                &json!({"message": "Glad to help!"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{resolved}");
        assert_eq!(resolved["status"], "resolved");
        let (_, messages) = server
            .get(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(
            messages.as_array().unwrap().len(),
            3,
            "send and close wrote the last message"
        );
        let (_, page) = server
            .get("/api/v1/conversations?filter=resolved", Some(&server.owner))
            .await;
        assert_eq!(page["total"], 1);
        let (_, timeline) = server
            .get(
                &format!("/api/v1/conversations/{conversation}/timeline"),
                Some(&server.owner),
            )
            .await;
        let kinds: Vec<&str> = timeline
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"]["type"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            kinds,
            [
                "started",
                "inbound_received",
                "reply_sent",
                "reply_sent",
                "resolved"
            ],
            "C12"
        );
    }
);

e2e!(
    m2_agent_text_rules_answer_problem_documents_with_stable_codes,
    |server: TestServer| async move {
        let (conversation, _) = open_conversation(&server, "hi").await;
        let path = format!("/api/v1/conversations/{conversation}/messages");
        for (body, code) in [("   ", "message_blank"), ("a <b> c", "reserved_character")] {
            let (status, problem) = server
                .post(&path, Some(&server.owner), &json!({"body": body}))
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(problem["code"], code);
            assert_eq!(problem["type"], format!("urn:inbox:problem:{code}"));
        }
        let (_, problem) = server
            .post(
                &path,
                Some(&server.owner),
                &json!({"body": "x".repeat(1001)}),
            )
            .await;
        assert_eq!(problem["code"], "message_too_long");
        // M10: a note may use angle brackets and is internal.
        let (status, note) = server
            .post(
                &path,
                Some(&server.owner),
                &json!({"kind": "note", "body": "<internal> check the order"}),
            )
            .await;
        assert_eq!(
            (status, note["direction"].as_str()),
            (StatusCode::CREATED, Some("internal"))
        );
    }
);

e2e!(
    m5_a_reply_sent_by_mistake_is_deleted_and_leaves_a_tombstone,
    |server: TestServer| async move {
        let (conversation, _) = open_conversation(&server, "hi").await;
        let (_, reply) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&server.owner),
                &json!({"body": "wrong customer, sorry"}),
            )
            .await;
        let path = format!(
            "/api/v1/conversations/{conversation}/messages/{}",
            reply["id"].as_str().unwrap()
        );
        let (status, deleted) = server.delete(&path, Some(&server.owner)).await;
        assert_eq!(status, StatusCode::OK, "{deleted}");
        assert_eq!(deleted["body"], "");
        assert!(deleted["deleted"]["deleted_at"].is_string());
        let (status, again) = server.delete(&path, Some(&server.owner)).await;
        assert_eq!(
            (status, again["code"].as_str()),
            (StatusCode::CONFLICT, Some("message_already_deleted"))
        );
    }
);

e2e!(
    s1_a1_another_accounts_conversation_answers_404_and_nothing_changes,
    |server: TestServer| async move {
        let (conversation, _) = open_conversation(&server, "private matter").await;
        let other_email = format!("other-{}@example.test", uuid::Uuid::new_v4());
        server
            .app
            .bootstrap(&other_email, Some("other-password-1"))
            .await
            .unwrap()
            .unwrap();
        let (_, signed) = server
            .post(
                "/api/v1/auth/sign-in",
                None,
                &json!({"email": other_email, "password": "other-password-1"}),
            )
            .await;
        let other = signed["token"].as_str().unwrap().to_owned();
        for (status, body) in [
            server
                .get(
                    &format!("/api/v1/conversations/{conversation}"),
                    Some(&other),
                )
                .await,
            server
                .get(
                    &format!("/api/v1/conversations/{conversation}/messages"),
                    Some(&other),
                )
                .await,
            server
                .post(
                    &format!("/api/v1/conversations/{conversation}/messages"),
                    Some(&other),
                    &json!({"body": "hijack"}),
                )
                .await,
            server
                .post(
                    &format!("/api/v1/conversations/{conversation}/resolve"),
                    Some(&other),
                    &json!({}),
                )
                .await,
        ] {
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::NOT_FOUND, Some("not_found"))
            );
        }
        let (_, page) = server
            .get("/api/v1/conversations?filter=all", Some(&other))
            .await;
        assert_eq!(page["total"], 0);
        let (_, view) = server
            .get(
                &format!("/api/v1/conversations/{conversation}"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(view["status"], "open", "unchanged");
        let (_, messages) = server
            .get(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(messages.as_array().unwrap().len(), 1);
    }
);

e2e!(
    s2_unknown_fields_are_refused_and_change_nothing,
    |server: TestServer| async move {
        let (conversation, _) = open_conversation(&server, "hi").await;
        let (status, problem) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&server.owner),
                &json!({"body": "hello", "account_id": "00000000-0000-0000-0000-000000000001"}),
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_request"))
        );
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/resolve"),
                Some(&server.owner),
                &json!({"status": "open"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, messages) = server
            .get(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(messages.as_array().unwrap().len(), 1);
        let (_, view) = server
            .get(
                &format!("/api/v1/conversations/{conversation}"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(view["status"], "open");
    }
);

e2e!(
    s8_huge_bodies_answer_413_and_the_server_keeps_serving,
    |server: TestServer| async move {
        let (conversation, _) = open_conversation(&server, "hi").await;
        let (status, problem) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&server.owner),
                &json!({"body": "x".repeat(inbox_http::BODY_LIMIT + 4096)}),
            )
            .await;
        // Just over the limit: a much larger body can be cut off by the server's answer while
        // the client is still writing it, which proves nothing more.
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
        assert_eq!(problem["code"], "payload_too_large");
        let (status, _) = server.get("/api/v1/me", Some(&server.owner)).await;
        assert_eq!(status, StatusCode::OK);
    }
);

e2e!(
    openapi_document_describes_every_route_the_router_serves,
    |server: TestServer| async move {
        let (status, doc) = server.get("/api/v1/openapi.json", None).await;
        assert_eq!(status, StatusCode::OK);
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() >= 8, "{paths:?}");
        let any_id = uuid::Uuid::new_v4().to_string();
        for (path, operations) in paths {
            for method in operations.as_object().unwrap().keys() {
                let concrete = path
                    .split('/')
                    .map(|segment| match segment {
                        "{action}" => "resolve",
                        s if s.starts_with('{') => any_id.as_str(),
                        s => s,
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                let url = format!("{}{concrete}", server.base);
                let request = match method.as_str() {
                    "get" => server.http.get(url),
                    "post" => server.http.post(url).json(&json!({})),
                    "put" => server.http.put(url).json(&json!({})),
                    "patch" => server.http.patch(url).json(&json!({})),
                    "delete" => server.http.delete(url),
                    other => panic!("unexpected method {other} on {path}"),
                };
                let response = request.bearer_auth(&server.owner).send().await.unwrap();
                let status = response.status();
                assert_ne!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is documented but not served"
                );
                if status == StatusCode::NOT_FOUND {
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    assert_eq!(
                        body["code"], "not_found",
                        "{method} {path} is documented but not routed"
                    );
                }
            }
        }
        // And a route that is not documented is not served.
        let (status, body) = server.get("/api/v1/not-a-route", Some(&server.owner)).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, Value::Null));
    }
);

e2e!(
    d1_a_new_account_starts_with_the_request_types_support_and_refund,
    |server: TestServer| async move {
        let account = server.account().await;
        let types = server
            .app
            .store()
            .settings(account, conversation_core::ports::SettingKind::RequestType)
            .await
            .unwrap();
        let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Refund", "Support"]);
    }
);

e2e!(
    w5_the_widget_identity_secret_is_never_returned_by_the_api,
    |server: TestServer| async move {
        let mut inbox = server.inbox(ChannelKind::WebChat, None).await;
        inbox.settings.widget.secret = Some("s3cr3t-widget-key".into());
        server.app.store().save_inbox(&inbox).await.unwrap();
        let (status, view) = server
            .get(
                &format!("/api/v1/inboxes/{}", inbox.id),
                Some(&server.owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert!(!view.to_string().contains("s3cr3t-widget-key"));
        assert_eq!(view["settings"]["widget"]["has_secret"], true);
        let (_, list) = server.get("/api/v1/inboxes", Some(&server.owner)).await;
        assert!(!list.to_string().contains("s3cr3t-widget-key"));
    }
);
