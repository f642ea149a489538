//! W7 end to end on both stores, on a manual clock: a web chat inbox continues by email through
//! an email inbox connected to the local SMTP server (`crates/inbox-channels/tests/common/smtp.rs`).
//! A visitor who gave an email and left gets the agent replies they have not seen as one email
//! (never a note, M10; retried, never twice, H3); their email answer comes back into the web
//! chat conversation and the widget shows it. A visitor seen since the reply gets nothing. The
//! setting is checked when it is saved.

mod support;

use conversation_core::channel::ChannelKind;
use conversation_core::entities::{Contact, Inbox};
use conversation_core::ids::{ContactId, ConversationId, InboxId};
use conversation_core::ports::{ChannelEvent, Commit, InboundChannelMessage, TimerKind};
use inbox_app::continuity::{ContinuityCheck, continuity_key};
use inbox_app::delivery::DeliveryWorker;
use inbox_channels::email::inbound::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use inbox_channels::email::parse::parse_mail;
use inbox_tests::{TestServer, e2e, e2e_manual};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

#[path = "../../crates/inbox-channels/tests/common/smtp.rs"]
mod smtp;
use smtp::{SmtpServer, Stage};

const SECRET: &str = "email-inbound-secret-0123456789";
const ADDRESS: &str = "support@shop.example";
const VERA: &str = "vera@example.org";

/// An email inbox connected to the local SMTP server.
async fn email_inbox(server: &TestServer, smtp: &SmtpServer) -> Inbox {
    let inbox = server.inbox(ChannelKind::Email, None).await;
    let (status, view) = server
        .put(
            &format!("/api/v1/inboxes/{}/connection", inbox.id),
            Some(&server.owner),
            &json!({
                "settings": {"address": ADDRESS, "smtp_host": "127.0.0.1",
                             "smtp_port": smtp.port.to_string(), "smtp_tls": "none"},
                "secrets": {"inbound_secret": SECRET},
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    inbox
}

/// A web chat inbox created over the API, continuing by email through `email`.
async fn web_chat(server: &TestServer, email: &Inbox) -> Inbox {
    let (status, view) = server
        .post(
            "/api/v1/inboxes",
            Some(&server.owner),
            &json!({"name": "Shop chat", "channel": "web_chat",
                    "settings": {"email_continuity": {"inbox": email.id}}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    assert_eq!(
        view["settings"]["widget"]["email_continuity"],
        json!({"inbox": email.id, "after_secs": 120})
    );
    let id = InboxId::from_uuid(Uuid::parse_str(view["id"].as_str().unwrap()).unwrap());
    server
        .app
        .store()
        .inbox(email.account, id)
        .await
        .unwrap()
        .unwrap()
}

/// A visitor of the web chat who gave `email` (W1's form fills the card), and their token.
async fn visitor(server: &TestServer, inbox: &Inbox, email: Option<&str>) -> (ContactId, String) {
    let contact = Contact {
        id: ContactId::from_uuid(Uuid::new_v4()),
        account: inbox.account,
        name: Some("Vera".into()),
        email: email.map(str::to_owned),
        phone: None,
        location: None,
        notes: String::new(),
        attributes: std::collections::BTreeMap::new(),
        responsible_agent: None,
        identities: Vec::new(),
        merged_into: None,
        created_at: server.app.now(),
    };
    server.app.store().save_contact(&contact).await.unwrap();
    let token = support::visitor_token(server, inbox, contact.id).await;
    (contact.id, token)
}

/// The visitor writes in the widget; their conversation.
async fn visitor_writes(server: &TestServer, token: &str, body: &str) -> ConversationId {
    let (status, sent) = server
        .post(
            "/api/v1/widget/messages",
            Some(token),
            &json!({"body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let (status, read) = server.get("/api/v1/widget/messages", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    ConversationId::from_uuid(Uuid::parse_str(read["conversation"].as_str().unwrap()).unwrap())
}

/// What the widget shows the visitor (this marks them seen, M6).
async fn widget_bodies(server: &TestServer, token: &str) -> Vec<String> {
    let (status, read) = server.get("/api/v1/widget/messages", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// An agent's message (`text` or `note`) through the API.
async fn agent_writes(
    server: &TestServer,
    conversation: ConversationId,
    kind: &str,
    body: &str,
) -> Value {
    let (status, sent) = server
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&server.owner),
            &json!({"kind": kind, "body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    sent
}

/// The delivery status of one message, as agents see it.
async fn status_of(server: &TestServer, conversation: ConversationId, sent: &Value) -> String {
    let (status, listed) = server
        .get(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&server.owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    listed
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == sent["id"])
        .unwrap_or_else(|| panic!("the message {sent} in {listed}"))["delivery"]["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Schedules the conversation's continuity check again, due now (a second timer for the same
/// unseen run).
async fn check_again(server: &TestServer, conversation: ConversationId, reply: &Value) {
    let account = server.account().await;
    let mut commit = Commit::new(account);
    commit
        .timers
        .push(conversation_core::ports::TimerChange::Schedule(
            conversation_core::ports::Timer {
                account,
                key: continuity_key(conversation),
                kind: TimerKind::ContinuityCheck,
                payload: serde_json::to_string(&ContinuityCheck {
                    conversation,
                    reply: conversation_core::ids::MessageId::from_uuid(
                        Uuid::parse_str(reply["id"].as_str().unwrap()).unwrap(),
                    ),
                })
                .unwrap(),
                due_at: server.app.now(),
            },
        ));
    server.app.store().commit(commit).await.unwrap();
}

/// A captured mail, read back with the adapter's own parser.
fn read_back(data: &[u8]) -> InboundChannelMessage {
    match parse_mail(data) {
        Ok(Some(ChannelEvent::Message(message))) => message,
        other => panic!("{other:?}"),
    }
}

/// Posts a raw mail to the email inbox's webhook, signed.
async fn post_mail(server: &TestServer, inbox: &Inbox, raw: &str) -> (StatusCode, Value) {
    let now = server.app.now().timestamp();
    let response = server
        .http
        .post(format!(
            "{}/api/v1/channels/{}/webhook",
            server.base, inbox.id
        ))
        .header("content-type", "message/rfc822")
        .header(TIMESTAMP_HEADER, now.to_string())
        .header(SIGNATURE_HEADER, sign(SECRET, now, raw.as_bytes()))
        .body(raw.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

e2e_manual!(
    w7_m10_a_visitor_who_left_gets_the_unseen_replies_as_one_email_and_answers_into_the_chat,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let email = email_inbox(&server, &smtp).await;
        let chat = web_chat(&server, &email).await;
        let (vera, token) = visitor(&server, &chat, Some(VERA)).await;
        let conversation = visitor_writes(&server, &token, "Is the lamp in stock?").await;

        // spec: W7, M10
        // The visitor leaves; the agent replies twice, with a private note between (M10).
        server.advance(60);
        let first = agent_writes(&server, conversation, "text", "Yes, 3 left.").await;
        server.advance(5);
        agent_writes(&server, conversation, "note", "private: VIP customer").await;
        server.advance(5);
        let second = agent_writes(&server, conversation, "text", "Shall I reserve one?").await;

        // Not before `after_secs` after the latest reply.
        server.advance(119);
        server.run_timers().await;
        assert_eq!(server.run_deliveries().await, 0);
        assert!(smtp.captured().is_empty());

        // W7: then both replies, as ONE email through the email inbox's SMTP connection.
        server.advance(2);
        assert!(server.run_timers().await >= 1);
        // H3: two delivery workers at once (two processes): one of them sends it.
        let account = server.account().await;
        let workers = [("worker-a", account), ("worker-b", account)].map(|(owner, account)| {
            DeliveryWorker::for_account(server.app.clone(), owner, account)
        });
        let (a, b) = tokio::join!(workers[0].run_once(), workers[1].run_once());
        assert_eq!(a.unwrap() + b.unwrap(), 1);
        let captured = smtp.captured();
        assert_eq!(captured.len(), 1);
        assert_eq!(captured[0].mail_from, ADDRESS);
        assert_eq!(captured[0].rcpt_to, [VERA]);
        let mail = read_back(&captured[0].data);
        let our_id = format!("{}@shop.example", second["id"].as_str().unwrap());
        assert_eq!(
            mail.external_id, our_id,
            "the Message-ID names the last reply"
        );
        assert_eq!(
            mail.subject.as_deref(),
            Some("Re: Your chat with Shop chat")
        );
        assert!(mail.body.contains("Yes, 3 left."), "{}", mail.body);
        assert!(mail.body.contains("Shall I reserve one?"), "{}", mail.body);
        assert!(
            mail.body.find("Yes, 3 left.") < mail.body.find("Shall I reserve one?"),
            "in order"
        );
        assert!(!mail.body.contains("VIP"), "M10: never a note");
        for reply in [&first, &second] {
            assert_eq!(status_of(&server, conversation, reply).await, "sent");
        }

        // Never twice: the worker again, and a second timer for the same run, send nothing.
        assert_eq!(server.run_deliveries().await, 0);
        check_again(&server, conversation, &second).await;
        assert_eq!(server.run_timers().await, 1);
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(smtp.captured().len(), 1);

        // The agent closes the chat meanwhile.
        let (status, resolved) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/resolve"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{resolved}");
        assert_eq!(
            support::conversation(&server, conversation).await["status"],
            "resolved"
        );

        // The visitor answers by email: into the web chat conversation, as theirs, reopening
        // it (C3).
        let answer = format!(
            "From: Vera <{VERA}>\r\n\
             To: {ADDRESS}\r\n\
             Subject: Re: Your chat with Shop chat\r\n\
             Message-ID: <vera-1@example.org>\r\n\
             In-Reply-To: <{our_id}>\r\n\
             References: <{our_id}>\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             Yes please, reserve one.\r\n\
             \r\n\
             On Mon, 2 Mar 2026 at 17:40, Support <{ADDRESS}> wrote:\r\n\
             > Shall I reserve one?\r\n"
        );
        // M8: the mail server delivers it three times at once: stored once.
        let (one, two, three) = tokio::join!(
            post_mail(&server, &email, &answer),
            post_mail(&server, &email, &answer),
            post_mail(&server, &email, &answer)
        );
        let (mut stored, mut duplicates) = (0, 0);
        for (status, accepted) in [one, two, three] {
            assert_eq!(status, StatusCode::OK, "{accepted}");
            stored += accepted["stored"].as_u64().unwrap();
            duplicates += accepted["duplicates"].as_u64().unwrap();
        }
        assert_eq!((stored, duplicates), (1, 2));
        let stored = server
            .app
            .store()
            .message_by_external_id(chat.account, chat.id, "vera-1@example.org")
            .await
            .unwrap()
            .expect("stored in the web chat inbox");
        assert_eq!(stored.conversation, conversation);
        assert_eq!(
            stored.sender,
            conversation_core::actor::Actor::Contact(vera)
        );
        assert_eq!(
            support::conversation(&server, conversation).await["status"],
            "open"
        );
        assert!(
            server
                .app
                .store()
                .contact_by_identity(email.account, email.id, VERA)
                .await
                .unwrap()
                .is_none(),
            "no email conversation was started for the answer"
        );
        // The widget shows it, after the replies, and never the note.
        let shown = widget_bodies(&server, &token).await;
        assert_eq!(
            shown,
            [
                "Is the lamp in stock?",
                "Yes, 3 left.",
                "Shall I reserve one?",
                "Yes please, reserve one."
            ]
        );
    }
);

e2e_manual!(
    w7_a_visitor_seen_since_the_reply_or_without_email_gets_no_email,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let email = email_inbox(&server, &smtp).await;
        let chat = web_chat(&server, &email).await;

        // spec: W7, M10
        // Seen after the reply (M6: the widget fetched the messages): nothing is sent.
        let (_, token) = visitor(&server, &chat, Some(VERA)).await;
        let conversation = visitor_writes(&server, &token, "Hello?").await;
        server.advance(60);
        agent_writes(&server, conversation, "text", "Hello, how can I help?").await;
        server.advance(31);
        widget_bodies(&server, &token).await;
        server.advance(120);
        server.run_timers().await;
        assert_eq!(server.run_deliveries().await, 0);

        // M10: a note alone is never mailed.
        server.advance(60);
        agent_writes(&server, conversation, "note", "private: call them").await;
        server.advance(300);
        server.run_timers().await;
        assert_eq!(server.run_deliveries().await, 0);

        // A visitor who gave no email gets nothing either.
        let (_, anonymous) = visitor(&server, &chat, None).await;
        let other = visitor_writes(&server, &anonymous, "Hi").await;
        server.advance(60);
        agent_writes(&server, other, "text", "Hi there").await;
        server.advance(300);
        server.run_timers().await;
        assert_eq!(server.run_deliveries().await, 0);
        assert!(smtp.captured().is_empty());
    }
);

e2e_manual!(
    w7_h3_a_continuity_email_failing_transiently_is_retried_and_sent_once,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let email = email_inbox(&server, &smtp).await;
        let chat = web_chat(&server, &email).await;
        let (_, token) = visitor(&server, &chat, Some(VERA)).await;
        let conversation = visitor_writes(&server, &token, "Anyone there?").await;
        server.advance(60);
        let reply = agent_writes(&server, conversation, "text", "Yes, sorry for the wait.").await;

        // spec: W7, H3
        smtp.fail_once(
            Stage::DataEnd,
            "451 4.3.0 Mail server temporarily rejected message",
        );
        server.advance(121);
        server.run_timers().await;
        assert_eq!(server.run_deliveries().await, 1);
        assert!(smtp.captured().is_empty());
        assert_eq!(status_of(&server, conversation, &reply).await, "pending");
        // A second timer while the row waits for its retry queues nothing more.
        check_again(&server, conversation, &reply).await;
        assert_eq!(server.run_timers().await, 1);

        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 1, "one row, retried");
        let captured = smtp.captured();
        assert_eq!(captured.len(), 1);
        let our_id = format!("{}@shop.example", reply["id"].as_str().unwrap());
        assert_eq!(read_back(&captured[0].data).external_id, our_id);
        assert_eq!(status_of(&server, conversation, &reply).await, "sent");
        server.advance(3_600);
        server.run_timers().await;
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(smtp.captured().len(), 1, "sent once");
    }
);

e2e!(
    w7_a1_the_continuity_setting_names_an_email_inbox_of_the_account_on_a_web_chat_inbox,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let email = email_inbox(&server, &smtp).await;
        let chat = web_chat(&server, &email).await;
        let path = format!("/api/v1/inboxes/{}", chat.id);
        let set = |inbox: Value| json!({"settings": {"email_continuity": inbox}});

        // spec: W7, A1
        // Naming an inbox that is not an email inbox (itself), or another account's (A1).
        let stranger = server.stranger().await;
        let other = server.app.authenticate(&stranger).await.unwrap().account();
        let foreign = server.inbox_in(other, ChannelKind::Email, None).await;
        for target in [chat.id, foreign.id, InboxId::from_uuid(Uuid::new_v4())] {
            let (status, problem) = server
                .patch(&path, Some(&server.owner), &set(json!({"inbox": target})))
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert_eq!(problem["code"], "invalid_value", "{problem}");
            assert!(
                problem.to_string().contains("email_continuity.inbox"),
                "{problem}"
            );
        }
        // A delay out of range.
        let (status, problem) = server
            .patch(
                &path,
                Some(&server.owner),
                &set(json!({"inbox": email.id, "after_secs": 0})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["code"], "invalid_value");
        // Only a web chat inbox continues by email.
        let (status, problem) = server
            .patch(
                &format!("/api/v1/inboxes/{}", email.id),
                Some(&server.owner),
                &set(json!({"inbox": email.id})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["code"], "invalid_value");
        // Nothing half-written: the setting is as before.
        let (status, view) = server.get(&path, Some(&server.owner)).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(
            view["settings"]["widget"]["email_continuity"],
            json!({"inbox": email.id, "after_secs": 120})
        );
        // A new delay; `null` turns it off.
        let (status, view) = server
            .patch(
                &path,
                Some(&server.owner),
                &set(json!({"inbox": email.id, "after_secs": 300})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(
            view["settings"]["widget"]["email_continuity"]["after_secs"],
            300
        );
        let (status, view) = server
            .patch(&path, Some(&server.owner), &set(Value::Null))
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert!(view["settings"]["widget"]["email_continuity"].is_null());

        // The OpenAPI document describes the setting.
        let (status, doc) = server.get("/api/v1/openapi.json", None).await;
        assert_eq!(status, StatusCode::OK);
        let schemas = &doc["components"]["schemas"];
        assert!(
            schemas["InboxSettingsRequest"]["properties"]["email_continuity"].is_object(),
            "{}",
            schemas["InboxSettingsRequest"]
        );
        assert!(
            schemas["EmailContinuityBody"]["properties"]["after_secs"].is_object(),
            "{}",
            schemas["EmailContinuityBody"]
        );
    }
);
