//! The email channel end to end on both stores (H1, H3, A4, S7, M8, W7's threading): an admin
//! connects an email inbox, a mail server posts signed raw mails to its webhook, an agent's
//! reply goes through the delivery queue to a local SMTP server (the one of
//! `crates/inbox-channels/tests/common/smtp.rs`) with the threading headers, and the contact's
//! answer naming our `Message-ID` lands in the same conversation, whoever sends it; an unknown
//! thread, or another account's message id (A1), is matched by the sender as any mail.

use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use conversation_core::ids::ConversationId;
use conversation_core::ports::{ChannelEvent, InboundChannelMessage};
use inbox_channels::email::inbound::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use inbox_channels::email::parse::parse_mail;
use inbox_tests::{TestServer, e2e, e2e_manual};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[path = "../../crates/inbox-channels/tests/common/smtp.rs"]
mod smtp;
use smtp::{SmtpServer, Stage};

const SECRET: &str = "email-inbound-secret-0123456789";
const ADDRESS: &str = "support@shop.example";
const ANNA: &str = "anna.berg@example.org";

/// The first mail of the thread, as a mail server delivers it.
const FIRST: &str = "From: Anna Berg <Anna.Berg@example.org>\r\n\
To: support@shop.example\r\n\
Subject: Where is my order?\r\n\
Date: Mon, 2 Mar 2026 09:15:00 +0100\r\n\
Message-ID: <CAF1x2y3z4@mail.example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Hello, where is my lamp (order 1042)?\r\n";

/// Connects an email inbox to the local SMTP server.
async fn connect(server: &TestServer, smtp: &SmtpServer) -> Inbox {
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
    assert_eq!(view["kind"], "email");
    assert_eq!(view["secrets_set"], json!(["inbound_secret"]));
    assert!(!view.to_string().contains(SECRET), "never shown back");
    inbox
}

/// What posting needs, cheap to move into a spawned task: the client, the server's address and
/// its clock's time.
#[derive(Clone)]
struct Poster {
    http: reqwest::Client,
    base: String,
    now: i64,
}

impl Poster {
    fn of(server: &TestServer) -> Self {
        Self {
            http: server.http.clone(),
            base: server.base.clone(),
            now: server.app.now().timestamp(),
        }
    }

    /// Posts a raw mail to the inbox's webhook, signed under `secret` (unsigned for `None`).
    async fn mail(&self, inbox: &Inbox, raw: &str, secret: Option<&str>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(format!(
                "{}/api/v1/channels/{}/webhook",
                self.base, inbox.id
            ))
            .header("content-type", "message/rfc822")
            .header(TIMESTAMP_HEADER, self.now.to_string())
            .body(raw.to_owned());
        if let Some(secret) = secret {
            request = request.header(SIGNATURE_HEADER, sign(secret, self.now, raw.as_bytes()));
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// Posts a raw mail now.
async fn post_mail(
    server: &TestServer,
    inbox: &Inbox,
    raw: &str,
    secret: Option<&str>,
) -> (StatusCode, Value) {
    Poster::of(server).mail(inbox, raw, secret).await
}

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

/// An agent's reply through the API.
async fn reply(server: &TestServer, conversation: ConversationId, body: &str) -> Value {
    let (status, reply) = server
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&server.owner),
            &json!({"body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    reply
}

/// The delivery of one message of a conversation.
async fn delivery(server: &TestServer, conversation: ConversationId, id: &Value) -> Value {
    messages(server, conversation)
        .await
        .into_iter()
        .find(|m| &m["id"] == id)
        .expect("the message")["delivery"]
        .clone()
}

/// A mail the SMTP server captured, read back with the adapter's own parser.
fn read_back(data: &[u8]) -> InboundChannelMessage {
    match parse_mail(data) {
        Ok(Some(ChannelEvent::Message(message))) => message,
        other => panic!("{other:?}"),
    }
}

e2e!(
    w7_m8_a4_an_email_thread_goes_both_ways_in_one_conversation,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let inbox = connect(&server, &smtp).await;

        // The contact's first mail opens a conversation.
        let (status, accepted) = post_mail(&server, &inbox, FIRST, Some(SECRET)).await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
        assert_eq!(accepted["stored"], 1);
        let conversation = conversation_of(&server, &inbox, "CAF1x2y3z4@mail.example.org").await;
        let contact = server
            .app
            .store()
            .contact_by_identity(inbox.account, inbox.id, ANNA)
            .await
            .unwrap()
            .expect("the contact, by their address");
        assert_eq!(
            (contact.name.as_deref(), contact.email.as_deref()),
            (Some("Anna Berg"), Some(ANNA))
        );
        let listed = messages(&server, conversation).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["body"], "Hello, where is my lamp (order 1042)?");

        // H3, W7: the agent answers; the queue sends it to the SMTP server, threaded.
        let sent = reply(
            &server,
            conversation,
            "It ships today.\n.Tracking: 00340434",
        )
        .await;
        assert_eq!(sent["delivery"]["status"], "pending");
        assert_eq!(server.run_deliveries().await, 1);
        let captured = smtp.captured();
        assert_eq!(captured.len(), 1);
        assert_eq!(captured[0].mail_from, ADDRESS);
        assert_eq!(captured[0].rcpt_to, [ANNA]);
        let raw = String::from_utf8_lossy(&captured[0].data).into_owned();
        let our_id = format!("{}@shop.example", sent["id"].as_str().unwrap());
        assert!(raw.contains(&format!("Message-ID: <{our_id}>")), "{raw}");
        assert!(
            raw.contains("In-Reply-To: <CAF1x2y3z4@mail.example.org>"),
            "{raw}"
        );
        assert!(
            raw.contains("References: <CAF1x2y3z4@mail.example.org>"),
            "{raw}"
        );
        let mail = read_back(&captured[0].data);
        assert_eq!(mail.external_id, our_id);
        assert_eq!(mail.thread, ["CAF1x2y3z4@mail.example.org"]);
        assert_eq!(mail.from.external_id, ADDRESS);
        assert_eq!(mail.body, "It ships today.\n.Tracking: 00340434");
        // The thread's subject is the contact's first mail's, as a reply.
        assert_eq!(mail.subject.as_deref(), Some("Re: Where is my order?"));
        let status = delivery(&server, conversation, &sent["id"]).await;
        assert_eq!(status["status"], "sent", "{status}");
        assert_eq!(server.run_deliveries().await, 0, "sent once");

        // W7: the contact answers our mail, quoting it: the same conversation, quote stripped.
        let answer = format!(
            "From: Anna Berg <anna.berg@example.org>\r\n\
             To: support@shop.example\r\n\
             Subject: Re: Your conversation\r\n\
             Message-ID: <answer-1@mail.example.org>\r\n\
             In-Reply-To: <{our_id}>\r\n\
             References: <CAF1x2y3z4@mail.example.org> <{our_id}>\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             Great, thank you!\r\n\
             \r\n\
             On Mon, 2 Mar 2026 at 17:40, Support <support@shop.example> wrote:\r\n\
             > It ships today.\r\n"
        );
        // M8: the mail server delivers it three times, at once: stored once.
        let mut posts = Vec::new();
        for _ in 0..3 {
            let (poster, inbox, answer) = (Poster::of(&server), inbox.clone(), answer.clone());
            posts.push(tokio::spawn(async move {
                poster.mail(&inbox, &answer, Some(SECRET)).await
            }));
        }
        let (mut stored, mut duplicates) = (0, 0);
        for post in posts {
            let (status, accepted) = post.await.unwrap();
            assert_eq!(status, StatusCode::OK, "{accepted}");
            stored += accepted["stored"].as_u64().unwrap();
            duplicates += accepted["duplicates"].as_u64().unwrap();
        }
        assert_eq!((stored, duplicates), (1, 2));
        assert_eq!(
            conversation_of(&server, &inbox, "answer-1@mail.example.org").await,
            conversation
        );
        let listed = messages(&server, conversation).await;
        assert_eq!(listed.len(), 3, "{listed:?}");
        assert_eq!(listed[2]["body"], "Great, thank you!");

        // Auto-replies are not conversations: accepted, nothing stored.
        let auto = FIRST.replace("<CAF1x2y3z4@", "<ooo-1@").replace(
            "MIME-Version",
            "Auto-Submitted: auto-replied\r\nMIME-Version",
        );
        let (status, accepted) = post_mail(&server, &inbox, &auto, Some(SECRET)).await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
        assert_eq!(accepted["stored"], 0);
        assert_eq!(messages(&server, conversation).await.len(), 3);
    }
);

e2e!(
    a4_s7_an_unsigned_or_wrongly_signed_mail_is_refused_with_401_and_nothing_is_stored,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let inbox = connect(&server, &smtp).await;
        for secret in [None, Some("another-secret-000000000000")] {
            let (status, problem) = post_mail(&server, &inbox, FIRST, secret).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
            assert_eq!(problem["code"], "invalid_signature");
        }
        // A signature over another body: the mail was changed on the way.
        let now = server.app.now().timestamp();
        let response = server
            .http
            .post(format!(
                "{}/api/v1/channels/{}/webhook",
                server.base, inbox.id
            ))
            .header("content-type", "message/rfc822")
            .header(TIMESTAMP_HEADER, now.to_string())
            .header(
                SIGNATURE_HEADER,
                sign(SECRET, now, FIRST.replace("1042", "1043").as_bytes()),
            )
            .body(FIRST)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        // Nothing stored: no message, no contact.
        let store = server.app.store();
        assert!(
            store
                .message_by_external_id(inbox.account, inbox.id, "CAF1x2y3z4@mail.example.org")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .contact_by_identity(inbox.account, inbox.id, ANNA)
                .await
                .unwrap()
                .is_none()
        );
        // The same mail, signed: stored. A verified body that is not a mail: 400.
        let (status, accepted) = post_mail(&server, &inbox, FIRST, Some(SECRET)).await;
        assert_eq!((status, &accepted["stored"]), (StatusCode::OK, &json!(1)));
        let (status, _) = post_mail(&server, &inbox, "no mail here", Some(SECRET)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
);

e2e_manual!(
    h3_an_smtp_4xx_is_retried_with_the_same_message_id_and_a_5xx_fails_with_the_servers_words,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let inbox = connect(&server, &smtp).await;
        let (status, _) = post_mail(&server, &inbox, FIRST, Some(SECRET)).await;
        assert_eq!(status, StatusCode::OK);
        let conversation = conversation_of(&server, &inbox, "CAF1x2y3z4@mail.example.org").await;

        smtp.fail_once(
            Stage::DataEnd,
            "451 4.3.0 Mail server temporarily rejected message",
        );
        let first = reply(&server, conversation, "one").await;
        assert_eq!(server.run_deliveries().await, 1);
        assert!(smtp.captured().is_empty());
        assert_eq!(
            delivery(&server, conversation, &first["id"]).await["status"],
            "pending"
        );
        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 1);
        let captured = smtp.captured();
        assert_eq!(captured.len(), 1);
        let our_id = format!("{}@shop.example", first["id"].as_str().unwrap());
        assert_eq!(read_back(&captured[0].data).external_id, our_id);
        assert_eq!(
            delivery(&server, conversation, &first["id"]).await["status"],
            "sent"
        );

        smtp.fail_once(
            Stage::RcptTo,
            "550 5.1.1 <anna.berg@example.org>: Recipient address rejected: User unknown",
        );
        let second = reply(&server, conversation, "two").await;
        assert_eq!(server.run_deliveries().await, 1);
        let status = delivery(&server, conversation, &second["id"]).await;
        assert_eq!(status["status"], "failed", "{status}");
        let reason = status["failure_reason"].as_str().unwrap();
        assert!(reason.contains("550"), "{status}");
        assert!(reason.contains("User unknown"), "{status}");
        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 0, "never retried");
        assert_eq!(smtp.captured().len(), 1);
    }
);

/// A mail from `from`, answering `in_reply_to` (with `references`), with this Message-ID.
fn answer_mail(from: &str, message_id: &str, in_reply_to: &str, references: &str) -> String {
    format!(
        "From: {from}\r\n\
         To: support@shop.example\r\n\
         Subject: Re: Where is my order?\r\n\
         Message-ID: <{message_id}>\r\n\
         In-Reply-To: <{in_reply_to}>\r\n\
         References: {references}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Answer from {from}\r\n"
    )
}

e2e!(
    w7_email_threading_replies_say_re_subject_and_a_thread_names_the_conversation_whoever_writes,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let inbox = connect(&server, &smtp).await;
        let (status, _) = post_mail(&server, &inbox, FIRST, Some(SECRET)).await;
        assert_eq!(status, StatusCode::OK);
        let conversation = conversation_of(&server, &inbox, "CAF1x2y3z4@mail.example.org").await;
        let anna = server
            .app
            .store()
            .contact_by_identity(inbox.account, inbox.id, ANNA)
            .await
            .unwrap()
            .expect("Anna");

        // spec: W7 (email threading)
        // The reply: `Re:` the first mail's subject, threaded under it.
        let sent = reply(&server, conversation, "Tomorrow.").await;
        assert_eq!(server.run_deliveries().await, 1);
        let our_id = format!("{}@shop.example", sent["id"].as_str().unwrap());
        let first = read_back(&smtp.captured()[0].data);
        assert_eq!(first.subject.as_deref(), Some("Re: Where is my order?"));
        assert_eq!(first.thread, ["CAF1x2y3z4@mail.example.org"]);

        // A colleague answers from another address, naming our Message-ID: Anna's conversation.
        let colleague = answer_mail(
            "Carl <carl@example.org>",
            "carl-1@mail.example.org",
            &our_id,
            &format!("<CAF1x2y3z4@mail.example.org> <{our_id}>"),
        );
        let (status, accepted) = post_mail(&server, &inbox, &colleague, Some(SECRET)).await;
        assert_eq!((status, &accepted["stored"]), (StatusCode::OK, &json!(1)));
        assert_eq!(
            conversation_of(&server, &inbox, "carl-1@mail.example.org").await,
            conversation
        );
        let listed = messages(&server, conversation).await;
        assert_eq!(listed.len(), 3, "{listed:?}");
        assert_eq!(listed[2]["body"], "Answer from Carl <carl@example.org>");
        assert!(
            server
                .app
                .store()
                .contact_by_identity(inbox.account, inbox.id, "carl@example.org")
                .await
                .unwrap()
                .is_none(),
            "a threaded mail is the conversation's contact's: no contact made for Carl"
        );
        let stored = server
            .app
            .store()
            .message_by_external_id(inbox.account, inbox.id, "carl-1@mail.example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.sender,
            conversation_core::actor::Actor::Contact(anna.id)
        );

        // The next reply threads under the latest mail, the subject not doubled.
        reply(&server, conversation, "You are welcome.").await;
        assert_eq!(server.run_deliveries().await, 1);
        let second = read_back(&smtp.captured()[1].data);
        assert_eq!(second.subject.as_deref(), Some("Re: Where is my order?"));
        assert_eq!(second.thread, ["carl-1@mail.example.org"]);

        // An unknown thread joins nothing: Ben's mail is his own new conversation.
        let ben = answer_mail(
            "Ben <ben@example.org>",
            "ben-1@mail.example.org",
            "unknown-1@elsewhere.example",
            "<unknown-1@elsewhere.example>",
        );
        let (status, _) = post_mail(&server, &inbox, &ben, Some(SECRET)).await;
        assert_eq!(status, StatusCode::OK);
        let bens = conversation_of(&server, &inbox, "ben-1@mail.example.org").await;
        assert_ne!(bens, conversation);
        assert_eq!(messages(&server, conversation).await.len(), 4);
    }
);

e2e!(
    a1_a_thread_naming_another_accounts_message_is_never_followed,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let inbox = connect(&server, &smtp).await;
        // spec: A1, W7
        // Another account, with an email conversation and a message of its own.
        let stranger = server.stranger().await;
        let other = server.app.authenticate(&stranger).await.unwrap().account();
        let other_inbox = server.inbox_in(other, ChannelKind::Email, None).await;
        let other_contact = server.contact_in(other).await;
        let theirs = server
            .inbound(
                &other_inbox,
                other_contact,
                "theirs",
                Some("theirs-1@mail.example.org"),
            )
            .await;

        // A mail to our inbox naming their message as ours and by its provider id.
        let mail = answer_mail(
            "Dora <dora@example.org>",
            "dora-1@mail.example.org",
            &format!("{}@shop.example", theirs.message),
            "<theirs-1@mail.example.org>",
        );
        let (status, accepted) = post_mail(&server, &inbox, &mail, Some(SECRET)).await;
        assert_eq!((status, &accepted["stored"]), (StatusCode::OK, &json!(1)));
        let doras = conversation_of(&server, &inbox, "dora-1@mail.example.org").await;
        assert_ne!(doras, theirs.conversation);
        let stored = server
            .app
            .store()
            .conversation(inbox.account, doras)
            .await
            .unwrap()
            .expect("a conversation of our account");
        assert_eq!(stored.value.inbox, inbox.id);
        let untouched = server
            .app
            .store()
            .messages_after(other, theirs.conversation, 0, 10)
            .await
            .unwrap();
        assert_eq!(
            untouched.len(),
            1,
            "nothing joined the other account's conversation"
        );
    }
);
