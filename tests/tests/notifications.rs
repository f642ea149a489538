//! N3, N4, D11 end to end on both stores: staff notifications are really sent. N3's
//! offline-message and missed-conversation emails and D11's reminder reach a local SMTP server
//! (`crates/inbox-channels/tests/common/smtp.rs`) through the notification worker, with their
//! recipients and text; an SMTP 4xx is retried and the mail arrives once; two workers at once
//! send each row once. N4: the account's SMS setting over HTTP (validation, permissions, A1),
//! and a visitor's new chat texting each configured number once through a local
//! Twilio-compatible server.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use conversation_core::ids::ConversationId;
use inbox_app::App;
use inbox_app::notifications::Notification;
use inbox_app::notifications::sender::NotificationWorker;
use inbox_channels::email::{SmtpConfig, SmtpTls, StaffNotifier};
use inbox_channels::sms::{SmsClient, SmsSender, TwilioConfig};
use inbox_tests::{TestServer, e2e, e2e_manual};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

mod support;
use support::*;

#[path = "../../crates/inbox-channels/tests/common/smtp.rs"]
mod smtp;
use smtp::{Captured, SmtpServer, Stage};

const FROM: &str = "inbox@notify.example";

/// The server's app sending email through `smtp`.
fn mailing(server: &TestServer, smtp: &SmtpServer) -> App {
    server
        .app
        .clone()
        .with_staff_mailer(Arc::new(StaffNotifier::new(SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp.port,
            tls: SmtpTls::None,
            credentials: None,
            from: FROM.into(),
        })))
}

/// Runs a notification worker of the server's account over `app` once; rows worked.
async fn notify(server: &TestServer, app: &App) -> usize {
    let account = server.account().await;
    NotificationWorker::for_account(
        app.clone(),
        format!("test-notify-{}", Uuid::new_v4()),
        account,
    )
    .run_once()
    .await
    .expect("notifications run")
}

/// The account's notifications not sent yet.
async fn pending(server: &TestServer) -> Vec<Notification> {
    server
        .app
        .pending_notifications(server.account().await)
        .await
        .expect("outbox")
}

/// A captured mail as text, quoted-printable soft breaks joined.
fn raw(mail: &Captured) -> String {
    String::from_utf8_lossy(&mail.data).replace("=\r\n", "")
}

/// An agent's email address.
async fn email_of(server: &TestServer, agent: Uuid) -> String {
    let (status, body) = server
        .get(&format!("/api/v1/agents/{agent}"), Some(&server.owner))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    text(&body["email"])
}

e2e_manual!(
    n3_an_offline_message_email_reaches_the_queues_members_once,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let app = mailing(&server, &smtp);
        let (ann, _) = agent(&server, json!({})).await;
        let queue = queue(&server, "manual", "direct", &[ann]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let contact = server.contact().await;
        let first = server.inbound(&inbox, contact, "anyone?", None).await;
        server.run_timers().await;
        assert_eq!(pending(&server).await.len(), 1);
        // spec: N3: the offline-message email goes out, to the queue's member.
        assert_eq!(notify(&server, &app).await, 1);
        let mails = smtp.captured();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].mail_from, FROM);
        assert_eq!(mails[0].rcpt_to, [email_of(&server, ann).await]);
        let mail = raw(&mails[0]);
        assert!(
            mail.contains("Subject: A message arrived while no agent was online"),
            "{mail}"
        );
        assert!(mail.contains("while no agent was online"), "{mail}");
        assert!(mail.contains(&first.conversation.to_string()), "{mail}");
        assert!(mail.contains("@notify.example>"), "{mail}");
        // Sent rows leave the outbox: nothing is sent twice.
        assert!(pending(&server).await.is_empty());
        server.advance(3600);
        assert_eq!(notify(&server, &app).await, 0);
        assert_eq!(smtp.captured().len(), 1);
    }
);

e2e_manual!(
    n3_a_missed_conversation_email_reaches_the_queues_members,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let app = mailing(&server, &smtp);
        let (ann, ann_token) = agent(&server, json!({})).await;
        available(&server, &ann_token).await;
        let queue = queue(&server, "manual", "direct", &[ann]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let left = write(&server, &inbox).await;
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{left}/drop"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        server.run_timers().await;
        // spec: N3: the visitor left unanswered: one missed-conversation email.
        assert_eq!(notify(&server, &app).await, 1);
        let mails = smtp.captured();
        assert_eq!(
            mails.len(),
            1,
            "someone was online: no offline-message email"
        );
        assert_eq!(mails[0].rcpt_to, [email_of(&server, ann).await]);
        let mail = raw(&mails[0]);
        assert!(mail.contains("Subject: A missed conversation"), "{mail}");
        assert!(mail.contains("left before anyone answered"), "{mail}");
        assert!(mail.contains(&left.to_string()), "{mail}");
    }
);

e2e_manual!(
    n3_h3_an_smtp_4xx_is_retried_and_the_mail_arrives_once_a_5xx_is_not_retried,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let app = mailing(&server, &smtp);
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        write(&server, &inbox).await;
        server.run_timers().await;
        smtp.fail_once(Stage::DataEnd, "451 4.3.0 Try again later");
        // spec: N3, H3: a 4xx reply keeps the row for a retry after its backoff.
        assert_eq!(notify(&server, &app).await, 1);
        assert!(smtp.captured().is_empty());
        assert_eq!(pending(&server).await.len(), 1);
        assert_eq!(notify(&server, &app).await, 0, "not due before its backoff");
        server.advance(60);
        assert_eq!(notify(&server, &app).await, 1);
        let mails = smtp.captured();
        assert_eq!(mails.len(), 1);
        // The owner is told (the inbox has no queue): an owner or admin of the account.
        assert_eq!(mails[0].rcpt_to, [server.owner_email.as_str()]);
        server.advance(3600);
        assert_eq!(notify(&server, &app).await, 0);
        assert_eq!(smtp.captured().len(), 1);
        assert!(pending(&server).await.is_empty());

        // (The first conversation is missed by now: that email goes too.)
        server.run_timers().await;
        assert_eq!(notify(&server, &app).await, 1);
        let before = smtp.captured().len();

        // spec: N3, H3: a 5xx reply is permanent: the row is finished, not retried.
        write(&server, &inbox).await;
        server.run_timers().await;
        smtp.fail_once(Stage::RcptTo, "550 5.1.1 No such user");
        assert_eq!(notify(&server, &app).await, 1);
        assert!(pending(&server).await.is_empty());
        server.advance(60);
        assert_eq!(notify(&server, &app).await, 0);
        assert_eq!(smtp.captured().len(), before);
    }
);

e2e_manual!(
    n3_h3_a_notification_failing_every_attempt_is_given_up_after_the_last,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let app = mailing(&server, &smtp);
        let attempts = server.app.delivery_config().max_attempts;
        for _ in 0..attempts {
            smtp.fail_once(Stage::MailFrom, "421 4.7.0 Busy, try later");
        }
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        write(&server, &inbox).await;
        server.run_timers().await;
        // spec: N3, H3: retried with backoff up to the queue's attempts, then finished.
        for attempt in 1..=attempts {
            assert_eq!(notify(&server, &app).await, 1, "attempt {attempt}");
            let left = pending(&server).await.len();
            assert_eq!(
                left,
                usize::from(attempt < attempts),
                "after attempt {attempt}"
            );
            // The backoff's cap (15 min): the retry is due (timers are not run meanwhile).
            server.advance(900);
        }
        assert!(smtp.captured().is_empty());
        assert_eq!(notify(&server, &app).await, 0);
    }
);

e2e_manual!(
    n3_without_an_smtp_server_the_row_is_finished_not_retried_forever,
    |server: TestServer| async move {
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        write(&server, &inbox).await;
        server.run_timers().await;
        assert_eq!(pending(&server).await.len(), 1);
        // spec: N3: no SMTP configured: dropped with a logged reason.
        assert_eq!(notify(&server, &server.app).await, 1);
        assert!(pending(&server).await.is_empty());
    }
);

e2e_manual!(
    n3_two_workers_at_once_send_each_notification_once,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let app = mailing(&server, &smtp);
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        let mut conversations = Vec::new();
        for _ in 0..6 {
            conversations.push(write(&server, &inbox).await);
        }
        server.run_timers().await;
        assert_eq!(pending(&server).await.len(), 6);
        // spec: N3: the lease keeps a second worker off a row while the first sends it.
        let (a, b) = tokio::join!(notify(&server, &app), notify(&server, &app));
        assert_eq!(a + b, 6);
        let mails = smtp.captured();
        assert_eq!(mails.len(), 6);
        let mut ids: Vec<String> = mails
            .iter()
            .map(|mail| {
                raw(mail)
                    .lines()
                    .find(|line| line.starts_with("Message-ID:"))
                    .expect("a Message-ID")
                    .to_owned()
            })
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 6);
        for id in conversations {
            assert!(mails.iter().any(|mail| raw(mail).contains(&id.to_string())));
        }
    }
);

e2e_manual!(
    d11_the_task_reminder_is_emailed_to_the_tasks_agent,
    |server: TestServer| async move {
        let smtp = SmtpServer::start().await;
        let app = mailing(&server, &smtp);
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
        server.advance(1);
        server.run_timers().await;
        notify(&server, &app).await;
        // spec: D11: "your task starts soon" reaches the task's agent by email.
        let reminders: Vec<String> = smtp
            .captured()
            .iter()
            .filter(|mail| raw(mail).contains("Subject: Your task starts soon"))
            .map(|mail| {
                assert_eq!(mail.rcpt_to.len(), 1);
                mail.rcpt_to[0].clone()
            })
            .collect();
        assert_eq!(reminders, [email_of(&server, helper).await]);
        let mail = smtp
            .captured()
            .iter()
            .map(raw)
            .find(|mail| mail.contains("Subject: Your task starts soon"))
            .expect("the reminder");
        assert!(mail.contains("Late parcel"), "{mail}");
    }
);

// ---- N4: staff texts ----

/// A text's form fields.
type Form = Vec<(String, String)>;

/// A local Twilio-compatible server: records each text's form, answers 201, or a scripted
/// status first.
#[derive(Clone, Default)]
struct Twilio {
    texts: Arc<Mutex<Vec<Form>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Twilio {
    async fn start() -> (Self, String) {
        let twilio = Self::default();
        let router = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Messages.json",
                post(twilio_message),
            )
            .with_state(twilio.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serves");
        });
        (twilio, base)
    }

    /// `(To, Body)` of each text accepted.
    fn texts(&self) -> Vec<(String, String)> {
        self.texts
            .lock()
            .unwrap()
            .iter()
            .map(|form| {
                let field = |name: &str| {
                    form.iter()
                        .find(|(key, _)| key == name)
                        .map(|(_, value)| value.clone())
                        .unwrap_or_default()
                };
                (field("To"), field("Body"))
            })
            .collect()
    }
}

async fn twilio_message(State(twilio): State<Twilio>, body: String) -> Response {
    if let Some(status) = twilio.script.lock().unwrap().pop_front() {
        let status = AxumStatus::from_u16(status).expect("a status");
        return (
            status,
            [("content-type", "application/json")],
            r#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#,
        )
            .into_response();
    }
    let form = form_decode(&body);
    let mut texts = twilio.texts.lock().unwrap();
    texts.push(form);
    (
        AxumStatus::CREATED,
        [("content-type", "application/json")],
        format!(r#"{{"sid":"SM{:032x}","status":"queued"}}"#, texts.len()),
    )
        .into_response()
}

/// `application/x-www-form-urlencoded`, decoded.
fn form_decode(body: &str) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let bytes = text.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("UTF-8")
    };
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// The server's app texting through the local gateway.
fn texting(server: &TestServer, base: &str) -> App {
    let client = SmsClient::new(
        TwilioConfig::new(
            "AC0123456789abcdef".into(),
            "test-token".into(),
            SmsSender::Number("+15550000000".into()),
        )
        .with_base_url(base),
    )
    .expect("a client");
    server.app.clone().with_staff_texter(Arc::new(client))
}

const SMS: &str = "/api/v1/account/sms_notifications";

async fn set_sms(server: &TestServer, token: &str, body: &Value) -> (StatusCode, Value) {
    server.put(SMS, Some(token), body).await
}

/// A visitor of a web chat inbox writes their first message over the widget's API.
async fn visitor_chat(server: &TestServer, inbox: &Inbox) -> (ConversationId, String) {
    let contact = server.contact().await;
    let token = visitor_token(server, inbox, contact).await;
    let (status, body) = server
        .post(
            &format!("/api/v1/widget/messages?inbox={}", inbox.id),
            Some(&token),
            &json!({"body": "hello, anyone?"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let conversation = server
        .app
        .store()
        .latest_conversation(inbox.account, inbox.id, contact)
        .await
        .expect("read")
        .expect("a conversation")
        .value
        .id;
    (conversation, token)
}

fn texts_pending(notes: &[Notification]) -> Vec<(ConversationId, String)> {
    notes
        .iter()
        .filter_map(|note| match note {
            Notification::StaffSms {
                conversation, to, ..
            } => Some((*conversation, to.clone())),
            _ => None,
        })
        .collect()
}

e2e!(
    n4_a_visitors_new_chat_texts_each_configured_number_once,
    |server: TestServer| async move {
        let (twilio, base) = Twilio::start().await;
        let app = texting(&server, &base);
        let (status, body) = set_sms(
            &server,
            &server.owner,
            &json!({"enabled": true, "numbers": ["+14155550100", "+33612345678"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        let (conversation, visitor) = visitor_chat(&server, &inbox).await;
        // spec: N4: the start's commit wrote one text per number.
        let mut written = texts_pending(&pending(&server).await);
        written.sort();
        assert_eq!(
            written,
            [
                (conversation, "+14155550100".to_owned()),
                (conversation, "+33612345678".to_owned())
            ]
        );
        // The visitor's next message starts nothing: no more texts.
        let (status, body) = server
            .post(
                &format!("/api/v1/widget/messages?inbox={}", inbox.id),
                Some(&visitor),
                &json!({"body": "still there?"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(texts_pending(&pending(&server).await).len(), 2);
        // spec: N4: the worker sends one SMS per number to the gateway.
        notify(&server, &app).await;
        let mut sent = twilio.texts();
        sent.sort();
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert_eq!(sent[0].0, "+14155550100");
        assert_eq!(sent[1].0, "+33612345678");
        for (_, body) in &sent {
            assert!(
                body.contains("A visitor started a chat on Test inbox"),
                "{body}"
            );
            assert!(body.contains(&conversation.to_string()), "{body}");
        }
        assert!(texts_pending(&pending(&server).await).is_empty());
        notify(&server, &app).await;
        assert_eq!(twilio.texts().len(), 2);
    }
);

e2e_manual!(
    n4_h3_a_gateways_429_is_retried_and_the_text_sent_once,
    |server: TestServer| async move {
        let (twilio, base) = Twilio::start().await;
        let app = texting(&server, &base);
        let (status, body) = set_sms(
            &server,
            &server.owner,
            &json!({"enabled": true, "numbers": ["+14155550100"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        visitor_chat(&server, &inbox).await;
        twilio.script.lock().unwrap().push_back(429);
        // spec: N4, H3: a transient answer keeps the text for a retry.
        notify(&server, &app).await;
        assert!(twilio.texts().is_empty());
        assert_eq!(texts_pending(&pending(&server).await).len(), 1);
        server.advance(60);
        notify(&server, &app).await;
        server.advance(3600);
        notify(&server, &app).await;
        assert_eq!(twilio.texts().len(), 1);
        assert!(texts_pending(&pending(&server).await).is_empty());
    }
);

e2e!(
    n4_no_text_when_disabled_or_without_numbers_or_for_another_channel,
    |server: TestServer| async move {
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        // Never set: off.
        visitor_chat(&server, &inbox).await;
        // spec: N4: disabled: no text, whatever the numbers.
        let (status, _) = set_sms(
            &server,
            &server.owner,
            &json!({"enabled": false, "numbers": ["+14155550100"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        visitor_chat(&server, &inbox).await;
        // Enabled without numbers: no text either.
        let (status, _) = set_sms(
            &server,
            &server.owner,
            &json!({"enabled": true, "numbers": []}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        visitor_chat(&server, &inbox).await;
        // Enabled with a number, but a contact writing on another channel: no text.
        let (status, _) = set_sms(
            &server,
            &server.owner,
            &json!({"enabled": true, "numbers": ["+14155550100"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let api = server.inbox(ChannelKind::Api, None).await;
        write(&server, &api).await;
        assert!(texts_pending(&pending(&server).await).is_empty());
    }
);

e2e!(
    n4_two_first_messages_at_once_start_one_chat_and_text_once,
    |server: TestServer| async move {
        let (status, _) = set_sms(
            &server,
            &server.owner,
            &json!({"enabled": true, "numbers": ["+14155550100"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        let contact = server.contact().await;
        let token = visitor_token(&server, &inbox, contact).await;
        let path = format!("/api/v1/widget/messages?inbox={}", inbox.id);
        // spec: N4: racing first messages start one conversation (C1): one text.
        let (one, two) = (json!({"body": "one"}), json!({"body": "two"}));
        let (a, b) = tokio::join!(
            server.post(&path, Some(&token), &one),
            server.post(&path, Some(&token), &two),
        );
        assert_eq!((a.0, b.0), (StatusCode::CREATED, StatusCode::CREATED));
        assert_eq!(texts_pending(&pending(&server).await).len(), 1);
    }
);

e2e!(
    n4_a1_the_sms_setting_is_validated_and_only_owners_and_admins_of_the_account_use_it,
    |server: TestServer| async move {
        // Never set: off, no number.
        let (status, body) = server.get(SMS, Some(&server.owner)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({"enabled": false, "numbers": []}));
        let (status, body) = set_sms(
            &server,
            &server.owner,
            &json!({"enabled": true, "numbers": [" +14155550100", "+14155550100", "+33612345678"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let stored = json!({"enabled": true, "numbers": ["+14155550100", "+33612345678"]});
        assert_eq!(body, stored);
        // spec: N4: a number that is not E.164 is refused with a stable code; nothing changes.
        for numbers in [
            json!(["4155550100"]),
            json!(["+1 415 555 0100"]),
            json!(["+12"]),
        ] {
            let (status, body) = set_sms(
                &server,
                &server.owner,
                &json!({"enabled": true, "numbers": numbers}),
            )
            .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(body["code"], "invalid_value", "{body}");
        }
        let too_many: Vec<String> = (0..21).map(|i| format!("+1415555{i:04}")).collect();
        let (status, body) = set_sms(
            &server,
            &server.owner,
            &json!({"enabled": true, "numbers": too_many}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        // Unknown fields are refused (S2).
        let (status, _) = set_sms(
            &server,
            &server.owner,
            &json!({"enabled": true, "numbers": [], "account_id": Uuid::new_v4()}),
        )
        .await;
        assert!(status.is_client_error());
        assert_eq!(server.get(SMS, Some(&server.owner)).await.1, stored);
        // spec: N4: a plain agent may neither read nor change it.
        let (_, agent_token) = server.new_agent("Plain").await;
        assert_eq!(
            server.get(SMS, Some(&agent_token)).await.0,
            StatusCode::FORBIDDEN
        );
        let (status, _) = set_sms(
            &server,
            &agent_token,
            &json!({"enabled": false, "numbers": []}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(server.get(SMS, None).await.0, StatusCode::UNAUTHORIZED);
        // An admin may.
        let (_, admin_token) = agent(&server, json!({"role": "admin"})).await;
        assert_eq!(server.get(SMS, Some(&admin_token)).await.1, stored);
        // spec: A1: another account sees its own setting, never this one, and changes only its own.
        let stranger = server.stranger().await;
        assert_eq!(
            server.get(SMS, Some(&stranger)).await.1,
            json!({"enabled": false, "numbers": []})
        );
        let (status, _) = set_sms(
            &server,
            &stranger,
            &json!({"enabled": true, "numbers": ["+4915112345678"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(server.get(SMS, Some(&server.owner)).await.1, stored);
    }
);
