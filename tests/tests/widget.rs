//! The web chat widget over real HTTP (W1-W5, A3, S5, S6, S8, M8, M10): a visitor solves the
//! proof-of-work challenge, starts a session, writes and reads back; abuse is refused; a
//! visitor token reaches nothing but its own conversation; a typed email never opens another
//! customer's history.

use conversation_core::channel::ChannelKind;
use conversation_core::entities::{Inbox, InboxSettings, PreChatField, WidgetSettings};
use conversation_core::ids::{AccountId, ContactId, InboxId};
use hmac::{Hmac, Mac};
use inbox_app::widget::pow::solve;
use inbox_tests::{TestServer, e2e};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

const CHROME_ON_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const SITE: &str = "https://shop.example";
const SECRET: &str = "the site's widget secret";

async fn account(server: &TestServer) -> AccountId {
    server
        .app
        .store()
        .agent_by_email(&server.owner_email)
        .await
        .expect("store")
        .expect("the owner")
        .account
}

/// A web chat inbox of the account; difficulty 4 keeps the tests' brute force instant.
async fn web_inbox(server: &TestServer, account: AccountId, difficulty: Option<u8>) -> InboxId {
    let id = InboxId::from_uuid(uuid::Uuid::new_v4());
    let inbox = Inbox {
        id,
        account,
        name: "Shop chat".into(),
        channel: ChannelKind::WebChat,
        queue: None,
        settings: InboxSettings {
            widget: WidgetSettings {
                secret: Some(SECRET.into()),
                allowed_origins: vec![SITE.into()],
                logo_url: Some("https://shop.example/logo.png".into()),
                pow_difficulty: difficulty,
                pre_chat_fields: vec![
                    PreChatField {
                        key: "name".into(),
                        label: "Your name".into(),
                        required: true,
                    },
                    PreChatField {
                        key: "company".into(),
                        label: "Company".into(),
                        required: false,
                    },
                ],
                email_continuity: None,
            },
            ..InboxSettings::default()
        },
    };
    server.app.store().save_inbox(&inbox).await.expect("saved");
    id
}

/// A challenge of the inbox, solved.
async fn solved(server: &TestServer, inbox: InboxId) -> (String, String) {
    let (status, body) = server
        .get(&format!("/api/v1/widget/inboxes/{inbox}/challenge"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let difficulty = u8::try_from(body["difficulty"].as_u64().expect("difficulty")).unwrap();
    let nonce = body["nonce"].as_str().expect("nonce");
    (
        body["challenge"].as_str().expect("challenge").to_owned(),
        solve(nonce, difficulty),
    )
}

/// Starts a session with `extra` fields next to the solved challenge.
async fn start(server: &TestServer, inbox: InboxId, extra: Value) -> (StatusCode, Value) {
    let (challenge, solution) = solved(server, inbox).await;
    let mut body = json!({ "challenge": challenge, "solution": solution });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    server
        .post(
            &format!("/api/v1/widget/inboxes/{inbox}/sessions"),
            None,
            &body,
        )
        .await
}

/// A started visitor: (token, contact).
async fn visitor(server: &TestServer, inbox: InboxId, name: &str) -> (String, String) {
    let (status, body) = start(server, inbox, json!({ "form": { "name": name } })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["token"].as_str().expect("token").to_owned(),
        body["contact"].as_str().expect("contact").to_owned(),
    )
}

async fn say(server: &TestServer, token: &str, text: &str) -> Value {
    let (status, body) = server
        .post(
            "/api/v1/widget/messages",
            Some(token),
            &json!({ "body": text }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn bodies(read: &Value) -> Vec<String> {
    read["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn sign(identifier: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(identifier.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

e2e!(
    w1_w2_w4_m8_m10_a_visitor_starts_writes_and_reads_back,
    |server: TestServer| async move {
        let account = account(&server).await;
        let inbox = web_inbox(&server, account, Some(4)).await;

        // W2: the widget's face, public.
        let (status, face) = server
            .get(&format!("/api/v1/widget/inboxes/{inbox}/status"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{face}");
        assert_eq!(face["name"], "Shop chat");
        assert_eq!(face["online"], false, "nobody is available yet");
        assert_eq!(face["logo_url"], "https://shop.example/logo.png");
        assert_eq!(face["pre_chat_fields"][0]["key"], "name");
        assert!(face.get("secret").is_none() && !face.to_string().contains(SECRET));

        // W1, W4: the pre-chat form, the page and referrer, the browser from the user agent.
        let (challenge, solution) = solved(&server, inbox).await;
        let response = server
            .http
            .post(format!(
                "{}/api/v1/widget/inboxes/{inbox}/sessions",
                server.base
            ))
            .header("user-agent", CHROME_ON_WINDOWS)
            .json(&json!({
                "challenge": challenge,
                "solution": solution,
                "form": { "name": "Ada", "email": "ada@example.com", "company": "ACME" },
                "page_url": "https://shop.example/pricing",
                "referrer": "https://search.example/?q=shop",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let session: Value = response.json().await.unwrap();
        let token = session["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("iav_"));
        assert_eq!(session["inbox"], inbox.to_string());
        assert_eq!(session["verified"], false);
        let contact_id: uuid::Uuid = session["contact"].as_str().unwrap().parse().unwrap();
        let contact = server
            .app
            .store()
            .contact(account, ContactId::from_uuid(contact_id))
            .await
            .unwrap()
            .expect("the contact");
        assert_eq!(contact.name.as_deref(), Some("Ada"));
        assert_eq!(contact.email.as_deref(), Some("ada@example.com"));
        let attribute = |key: &str| contact.attributes.get(key).cloned().unwrap_or_default();
        assert_eq!(attribute("widget.ip"), "127.0.0.1");
        assert_eq!(attribute("widget.browser"), "Chrome 124");
        assert_eq!(attribute("widget.os"), "Windows");
        assert_eq!(
            attribute("widget.start_page"),
            "https://shop.example/pricing"
        );
        assert_eq!(
            attribute("widget.referrer"),
            "https://search.example/?q=shop"
        );
        assert_eq!(attribute("form.company"), "ACME");

        // Nothing yet.
        let (status, read) = server.get("/api/v1/widget/messages", Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{read}");
        assert_eq!(read["messages"], json!([]));
        assert_eq!(read["conversation"], Value::Null);

        // M8: a retry with the same client id is stored once.
        let first = json!({ "body": "Hello, my card is 4111 1111 1111 1111", "client_id": "c-1" });
        let (status, sent) = server
            .post("/api/v1/widget/messages", Some(&token), &first)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{sent}");
        assert_eq!(sent["from"], "visitor");
        assert_eq!(sent["body"], "Hello, my card is **** **** **** 1111");
        let (status, again) = server
            .post("/api/v1/widget/messages", Some(&token), &first)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        assert_eq!(again["id"], sent["id"]);
        let (_, read) = server.get("/api/v1/widget/messages", Some(&token)).await;
        assert_eq!(read["messages"].as_array().unwrap().len(), 1);
        let conversation = read["conversation"].as_str().expect("started").to_owned();

        // M10: an agent's reply reaches the visitor, their private note never does.
        let path = format!("/api/v1/conversations/{conversation}/messages");
        let (status, body) = server
            .post(
                &path,
                Some(&server.owner),
                &json!({ "body": "Hi Ada, how can I help?" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = server
            .post(
                &path,
                Some(&server.owner),
                &json!({ "kind": "note", "body": "private: VIP customer" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, read) = server.get("/api/v1/widget/messages", Some(&token)).await;
        assert_eq!(
            bodies(&read),
            [
                "Hello, my card is **** **** **** 1111",
                "Hi Ada, how can I help?"
            ]
        );
        assert_eq!(read["messages"][1]["from"], "agent");
        assert!(!read.to_string().contains("VIP"));
        // Reading on from `after` gives only what is new.
        let after = read["after"].as_u64().unwrap();
        say(&server, &token, "I need a refund").await;
        let (_, newer) = server
            .get(
                &format!("/api/v1/widget/messages?after={after}"),
                Some(&token),
            )
            .await;
        assert_eq!(bodies(&newer), ["I need a refund"]);

        // W4: pages visited while chatting land on the contact card.
        let (status, body) = server
            .post(
                "/api/v1/widget/page-views",
                Some(&token),
                &json!({ "url": "https://shop.example/refunds", "title": "Refunds" }),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = server
            .post(
                "/api/v1/widget/page-views",
                Some(&token),
                &json!({ "url": "javascript:alert(1)" }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let contact = server
            .app
            .store()
            .contact(account, ContactId::from_uuid(contact_id))
            .await
            .unwrap()
            .unwrap();
        let pages: Value = serde_json::from_str(&contact.attributes["widget.pages"]).unwrap();
        assert_eq!(pages[0]["url"], "https://shop.example/refunds");
        assert_eq!(pages[0]["title"], "Refunds");

        // W1: a required field of the form left empty is refused.
        let (status, body) = start(&server, inbox, json!({ "form": { "email": "x@y.z" } })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "missing_field");
    }
);

e2e!(
    w3_a_wrong_reused_or_foreign_solution_is_refused,
    |server: TestServer| async move {
        let account = account(&server).await;
        // The default difficulty: what a browser solves in about a second.
        let inbox = web_inbox(&server, account, None).await;
        let other = web_inbox(&server, account, Some(4)).await;
        let sessions = format!("/api/v1/widget/inboxes/{inbox}/sessions");
        let (status, issued) = server
            .get(&format!("/api/v1/widget/inboxes/{inbox}/challenge"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(issued["difficulty"], 16);
        assert_eq!(issued["algorithm"], "sha256-leading-zero-bits-v1");
        let challenge = issued["challenge"].as_str().unwrap();
        let nonce = issued["nonce"].as_str().unwrap();
        let solution = solve(nonce, 16);
        let wrong = (0u64..)
            .map(|n| n.to_string())
            .find(|s| !inbox_app::widget::pow::solves(nonce, s, 16))
            .unwrap();
        let form = json!({ "name": "Ada" });

        let (status, body) = server
            .post(
                &sessions,
                None,
                &json!({ "challenge": challenge, "solution": wrong, "form": form }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "invalid_value");
        // Without any challenge the request does not even parse.
        let (status, _) = server.post(&sessions, None, &json!({ "form": form })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // A challenge of another inbox does not open this one.
        let (foreign, foreign_solution) = solved(&server, other).await;
        let (status, _) = server
            .post(
                &sessions,
                None,
                &json!({ "challenge": foreign, "solution": foreign_solution, "form": form }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        let solved_body = json!({ "challenge": challenge, "solution": solution, "form": form });
        let (status, body) = server.post(&sessions, None, &solved_body).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // Single use: the same solved challenge does not open a second session.
        let (status, body) = server.post(&sessions, None, &solved_body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("already used"));

        // Unknown inboxes and inboxes that are not web chats do not exist for the widget.
        let unknown = uuid::Uuid::new_v4();
        let (status, _) = server
            .get(&format!("/api/v1/widget/inboxes/{unknown}/challenge"), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

e2e!(
    w3_s8_flooding_sessions_from_one_ip_answers_429_and_others_are_served,
    |server: TestServer| async move {
        let account = account(&server).await;
        let inbox = web_inbox(&server, account, Some(1)).await;
        // A visitor who started before the flood.
        let (token, _) = visitor(&server, inbox, "Early").await;
        let sessions = format!("{}/api/v1/widget/inboxes/{inbox}/sessions", server.base);
        let garbage = json!({ "challenge": "x.1.1.y", "solution": "0", "form": { "name": "Bot" } });
        let mut limited = None;
        for attempt in 0..50 {
            let response = server
                .http
                .post(&sessions)
                .json(&garbage)
                .send()
                .await
                .unwrap();
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                limited = Some((attempt, response));
                break;
            }
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
        let (attempt, response) = limited.expect("the flood is cut off");
        assert!(
            attempt <= 10,
            "cut off after the burst, not later: {attempt}"
        );
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry_after >= 1);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "rate_limited");
        // Everyone else is served: the visitor already chatting goes on.
        say(&server, &token, "still here").await;
    }
);

e2e!(
    s5_a3_a_visitor_token_reaches_only_its_own_contact_and_inbox,
    |server: TestServer| async move {
        let account = account(&server).await;
        let shop = web_inbox(&server, account, Some(4)).await;
        let other = web_inbox(&server, account, Some(4)).await;
        let (alice, _) = visitor(&server, shop, "Alice").await;
        let (bob, _) = visitor(&server, shop, "Bob").await;
        let (carol, _) = visitor(&server, other, "Carol").await;
        say(&server, &alice, "alice's secret").await;
        say(&server, &carol, "carol's secret").await;

        // Another contact on the same inbox sees none of it.
        let (status, read) = server.get("/api/v1/widget/messages", Some(&bob)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read["messages"], json!([]));
        let (_, read) = server.get("/api/v1/widget/messages", Some(&carol)).await;
        assert_eq!(bodies(&read), ["carol's secret"]);

        // A token used for another inbox answers 404, on every route.
        let (status, body) = server
            .get(
                &format!("/api/v1/widget/messages?inbox={other}"),
                Some(&alice),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, _) = server
            .post(
                &format!("/api/v1/widget/messages?inbox={other}"),
                Some(&alice),
                &json!({ "body": "into the other inbox" }),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = server
            .post(
                &format!("/api/v1/widget/page-views?inbox={other}"),
                Some(&alice),
                &json!({ "url": "https://shop.example/" }),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, read) = server
            .get(
                &format!("/api/v1/widget/messages?inbox={shop}"),
                Some(&alice),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "its own inbox is fine");
        assert_eq!(bodies(&read), ["alice's secret"]);
        let (_, read) = server.get("/api/v1/widget/messages", Some(&carol)).await;
        assert_eq!(bodies(&read), ["carol's secret"], "nothing leaked in");

        // The visitor's token opens nothing of the agents' API on its own conversation.
        let conversation = read["conversation"].as_str().unwrap();
        let (status, _) = server
            .get(
                &format!("/api/v1/conversations/{conversation}"),
                Some(&carol),
            )
            .await;
        assert!(
            matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{status}"
        );
        // An agent's token is not a visitor's: the widget's resources do not exist for it.
        let (status, _) = server
            .get("/api/v1/widget/messages", Some(&server.owner))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = server
            .get("/api/v1/widget/messages", Some("iav_not-a-token"))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

e2e!(
    s6_w5_a_typed_email_never_joins_an_existing_customer,
    |server: TestServer| async move {
        let account = account(&server).await;
        let inbox = web_inbox(&server, account, Some(4)).await;
        let identity = json!({ "identifier": "customer-42", "signature": sign("customer-42") });
        let form = json!({ "name": "Grace", "email": "grace@example.com" });

        // W5: the site signs its customer in; she writes.
        let (status, first) = start(
            &server,
            inbox,
            json!({ "form": form, "identity": identity }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert_eq!(first["verified"], true);
        let grace = first["token"].as_str().unwrap().to_owned();
        say(&server, &grace, "my order 1234 is late").await;

        // S6: someone typing her email without a signature is a new, anonymous contact.
        let (status, impostor) = start(&server, inbox, json!({ "form": form })).await;
        assert_eq!(status, StatusCode::CREATED, "{impostor}");
        assert_eq!(impostor["verified"], false);
        assert_ne!(impostor["contact"], first["contact"]);
        let token = impostor["token"].as_str().unwrap();
        let (_, read) = server.get("/api/v1/widget/messages", Some(token)).await;
        assert_eq!(read["messages"], json!([]), "no history revealed");
        assert_eq!(read["conversation"], Value::Null);

        // A forged signature is refused outright.
        let forged = json!({ "identifier": "customer-42", "signature": sign("customer-43") });
        let (status, body) =
            start(&server, inbox, json!({ "form": form, "identity": forged })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

        // W5: signed again (another device), she is the same contact with her history.
        let (status, again) = start(
            &server,
            inbox,
            json!({ "form": { "name": "Grace" }, "identity": identity }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        assert_eq!(again["contact"], first["contact"]);
        let (_, read) = server
            .get("/api/v1/widget/messages", again["token"].as_str())
            .await;
        assert_eq!(bodies(&read), ["my order 1234 is late"]);
    }
);

/// POSTs a 2 MB body over a raw connection and returns the status the server answers. With
/// `chunked` the body is streamed without a length; otherwise only the headers are sent, with
/// `Content-Length: 2 MB`: the answer must come before any of the body is read. (A client
/// library may report the early answer as a broken pipe; a raw socket sees what the server
/// says.)
async fn post_two_megabytes(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    chunked: bool,
) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    const SIZE: usize = 2 * 1024 * 1024;
    let address = server.base.trim_start_matches("http://").to_owned();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let length = if chunked {
        "Transfer-Encoding: chunked\r\n".to_owned()
    } else {
        format!("Content-Length: {SIZE}\r\n")
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         {auth}{length}Connection: close\r\n\r\n"
    );
    tokio::task::spawn_blocking(move || {
        let stream = std::net::TcpStream::connect(&address).expect("connects");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        writer.write_all(head.as_bytes()).expect("headers sent");
        let streaming = chunked.then(|| {
            std::thread::spawn(move || {
                // The server may stop reading at its limit: write errors end the stream.
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
                for _ in 0..SIZE / (64 * 1024) {
                    if writer.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                }
                let _ = writer.write_all(b"0\r\n\r\n");
            })
        });
        let mut status_line = String::new();
        BufReader::new(stream)
            .read_line(&mut status_line)
            .expect("an answer");
        if let Some(streaming) = streaming {
            let _ = streaming.join();
        }
        status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    })
    .await
    .unwrap()
}

e2e!(s8_huge_bodies_answer_413, |server: TestServer| async move {
    let account = account(&server).await;
    let inbox = web_inbox(&server, account, Some(4)).await;
    let (token, _) = visitor(&server, inbox, "Ada").await;
    let sessions = format!("/api/v1/widget/inboxes/{inbox}/sessions");
    for chunked in [false, true] {
        assert_eq!(
            post_two_megabytes(&server, &sessions, None, chunked).await,
            413,
            "sessions, chunked: {chunked}"
        );
        assert_eq!(
            post_two_megabytes(&server, "/api/v1/widget/messages", Some(&token), chunked).await,
            413,
            "messages, chunked: {chunked}"
        );
    }
    // A long but sane message is refused by its own rule, not by the body limit.
    let (status, body) = server
        .post(
            "/api/v1/widget/messages",
            Some(&token),
            &json!({ "body": "y".repeat(6000) }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "message_too_long");
    // The server goes on serving the visitor.
    say(&server, &token, "still here").await;
});

e2e!(
    w3_cors_answers_only_the_origins_the_inbox_allows,
    |server: TestServer| async move {
        let account = account(&server).await;
        let inbox = web_inbox(&server, account, Some(4)).await;
        let preflight = |path: String, origin: &'static str| {
            server
                .http
                .request(Method::OPTIONS, format!("{}{path}", server.base))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization, content-type",
                )
                .send()
        };
        let allow = |response: &reqwest::Response| {
            response
                .headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let sessions = format!("/api/v1/widget/inboxes/{inbox}/sessions");
        let response = preflight(sessions.clone(), SITE).await.unwrap();
        assert_eq!(allow(&response).as_deref(), Some(SITE));
        let response = preflight(sessions, "https://evil.example").await.unwrap();
        assert_eq!(allow(&response), None);
        // Token routes: the widget names its inbox in the query so the preflight can be answered.
        let messages = format!("/api/v1/widget/messages?inbox={inbox}");
        let response = preflight(messages.clone(), SITE).await.unwrap();
        assert_eq!(allow(&response).as_deref(), Some(SITE));
        let response = preflight(messages, "https://evil.example").await.unwrap();
        assert_eq!(allow(&response), None);
        let response = preflight("/api/v1/widget/messages".into(), SITE)
            .await
            .unwrap();
        assert_eq!(allow(&response), None);
        // Actual requests carry the header too, errors included (the widget reads them).
        let response = server
            .http
            .get(format!(
                "{}/api/v1/widget/inboxes/{inbox}/status",
                server.base
            ))
            .header("origin", SITE)
            .send()
            .await
            .unwrap();
        assert_eq!(allow(&response).as_deref(), Some(SITE));
        // The agents' API has no CORS.
        let response = preflight("/api/v1/conversations".into(), SITE)
            .await
            .unwrap();
        assert_eq!(allow(&response), None);
    }
);

e2e!(
    m6_the_contact_card_shows_when_the_visitor_was_last_seen,
    |server: TestServer| async move {
        let account = account(&server).await;
        let inbox = web_inbox(&server, account, Some(4)).await;
        let (token, contact) = visitor(&server, inbox, "Ada").await;
        let card = format!("/api/v1/contacts/{contact}");
        let (status, before) = server.get(&card, Some(&server.owner)).await;
        assert_eq!(status, StatusCode::OK, "{before}");
        assert_eq!(
            before["last_seen_at"],
            Value::Null,
            "not seen since the start"
        );

        let started = server.app.now();
        say(&server, &token, "anyone there?").await;
        let (_, after) = server.get(&card, Some(&server.owner)).await;
        let seen: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(after["last_seen_at"].clone()).expect("a last-seen time");
        assert!(seen >= started && seen <= server.app.now(), "{after}");
        // The edit of the card keeps it.
        let (status, edited) = server
            .patch(&card, Some(&server.owner), &json!({"notes": "VIP"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(edited["last_seen_at"], after["last_seen_at"]);
    }
);
