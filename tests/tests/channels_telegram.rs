//! A Telegram bot end to end on both stores (H1, H3, A4, S7, L2, M5, M8): updates with the
//! inbox's secret token stored once however often and concurrently Telegram retries them, a
//! wrong or missing token refused with 401, agents' replies sent by the delivery queue to a
//! local Bot API server (the exact `sendMessage` asserted), a 429 waited out for its
//! `retry_after`, a permanent refusal failing the reply with Telegram's words, and an unsent
//! reply deleted with `deleteMessage`.

#[path = "support/channel_e2e.rs"]
mod channel_e2e;
#[path = "../../crates/inbox-channels/tests/common/providers.rs"]
mod providers;

use channel_e2e::*;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use inbox_tests::{TestServer, e2e, e2e_manual};
use providers::{FakeProvider, Reply};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const SECRET: &str = "tg_secret-42";
const CHAT: i64 = 1_111_111;

async fn telegram_inbox(server: &TestServer, bot_api: &str) -> Inbox {
    let inbox = server.inbox(ChannelKind::Telegram, None).await;
    connect(
        server,
        &inbox,
        json!({ "base_url": bot_api }),
        json!({ "bot_token": TOKEN, "secret_token": SECRET }),
    )
    .await;
    inbox
}

fn update(update_id: i64, message_id: i64, text: &str) -> Vec<u8> {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": { "id": CHAT, "is_bot": false, "first_name": "Ana", "last_name": "Lima" },
            "chat": { "id": CHAT, "first_name": "Ana", "type": "private" },
            "date": 1_732_345_200,
            "text": text
        }
    })
    .to_string()
    .into_bytes()
}

fn with_secret(secret: &str) -> Vec<(&'static str, String)> {
    vec![("x-telegram-bot-api-secret-token", secret.to_owned())]
}

fn sent(message_id: i64) -> Reply {
    Reply::json(
        200,
        json!({ "ok": true, "result": {
        "message_id": message_id,
        "from": { "id": 7_000_000_001_i64, "is_bot": true, "first_name": "Support" },
        "chat": { "id": CHAT, "first_name": "Ana", "type": "private" },
        "date": 1_732_345_600, "text": "sent"
    } }),
    )
}

fn send_path() -> String {
    format!("/bot{TOKEN}/sendMessage")
}

e2e!(
    a4_s7_l2_updates_need_the_secret_token_and_are_stored_once,
    |server: TestServer| async move {
        let bot_api = FakeProvider::start().await;
        let inbox = telegram_inbox(&server, &bot_api.base_url).await;
        let body = update(1, 10, "hello");
        for headers in [vec![], with_secret("tg_secret-43"), with_secret("")] {
            let (status, problem) = post_webhook(&server, &inbox, &body, &headers).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
            assert_eq!(problem["code"], "invalid_signature");
        }
        assert_eq!(message_count(&server).await, 0, "nothing stored");
        let bodies = (1..=5)
            .map(|n| (update(n, 10 + n, &format!("text {n}")), with_secret(SECRET)))
            .collect();
        assert_eq!(deliver_concurrently(&server, &inbox, bodies).await, (5, 10));
        let server = server.restart().await;
        let (status, accepted) = post_webhook(
            &server,
            &inbox,
            &update(3, 13, "text 3"),
            &with_secret(SECRET),
        )
        .await;
        assert_eq!(
            (status, &accepted["duplicates"]),
            (StatusCode::OK, &json!(1)),
            "{accepted}"
        );
        assert_eq!(message_count(&server).await, 5);
        assert_eq!(
            events_of_type(&server, "inbound_received").await
                + events_of_type(&server, "started").await,
            5 + 1
        );
        let contact = server
            .app
            .store()
            .contact_by_identity(inbox.account, inbox.id, &CHAT.to_string())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(contact.name.as_deref(), Some("Ana Lima"));
        assert!(bot_api.requests().is_empty());
    }
);

e2e_manual!(
    h3_m5_a_reply_waits_out_a_429_is_sent_once_and_is_deleted_on_unsend,
    |server: TestServer| async move {
        let bot_api = FakeProvider::start().await;
        bot_api.on("POST", &send_path(), Reply::json(429, json!({ "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": { "retry_after": 7 } })));
        bot_api.on("POST", &send_path(), sent(1400));
        bot_api.on(
            "POST",
            &format!("/bot{TOKEN}/deleteMessage"),
            Reply::json(200, json!({ "ok": true, "result": true })),
        );
        let inbox = telegram_inbox(&server, &bot_api.base_url).await;
        let (status, _) = post_webhook(
            &server,
            &inbox,
            &update(1, 1365, "Where is my parcel?"),
            &with_secret(SECRET),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let conversation = conversation_of(&server, &inbox, &format!("{CHAT}:1365")).await;
        let sent_reply = reply(&server, conversation, "It ships today").await;
        assert_eq!(server.run_deliveries().await, 1);
        assert_eq!(
            delivery(&server, conversation, &sent_reply["id"]).await["status"],
            "pending"
        );
        server.advance(4);
        assert_eq!(
            server.run_deliveries().await,
            0,
            "Telegram asked for 7 seconds"
        );
        server.advance(4);
        assert_eq!(server.run_deliveries().await, 1);
        let requests = bot_api.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].path, send_path());
        assert_eq!(
            requests[1].json(),
            json!({ "chat_id": CHAT, "text": "It ships today" })
        );
        assert_eq!(
            delivery(&server, conversation, &sent_reply["id"]).await["status"],
            "sent"
        );
        // M5: the agent deletes it; the queue deletes it on Telegram by "{chat}:{message}".
        let (status, deleted) = server
            .delete(
                &format!(
                    "/api/v1/conversations/{conversation}/messages/{}",
                    sent_reply["id"].as_str().unwrap()
                ),
                Some(&server.owner),
            )
            .await;
        assert!(status.is_success(), "{deleted}");
        assert_eq!(server.run_deliveries().await, 1);
        let requests = bot_api.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[2].path, format!("/bot{TOKEN}/deleteMessage"));
        assert_eq!(
            requests[2].json(),
            json!({ "chat_id": CHAT, "message_id": 1400 })
        );
        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(bot_api.requests().len(), 3, "each sent once");
    }
);

e2e_manual!(
    h3_m6_a_blocked_bot_fails_the_reply_with_telegrams_words,
    |server: TestServer| async move {
        let bot_api = FakeProvider::start().await;
        bot_api.on("POST", &send_path(), Reply::json(403, json!({ "ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user" })));
        let inbox = telegram_inbox(&server, &bot_api.base_url).await;
        post_webhook(
            &server,
            &inbox,
            &update(1, 1365, "hi"),
            &with_secret(SECRET),
        )
        .await;
        let conversation = conversation_of(&server, &inbox, &format!("{CHAT}:1365")).await;
        let sent_reply = reply(&server, conversation, "Hello?").await;
        assert_eq!(server.run_deliveries().await, 1);
        let status: Value = delivery(&server, conversation, &sent_reply["id"]).await;
        assert_eq!(status["status"], "failed", "{status}");
        assert!(
            status["failure_reason"]
                .as_str()
                .unwrap()
                .contains("bot was blocked by the user"),
            "{status}"
        );
        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(bot_api.requests().len(), 1);
    }
);
