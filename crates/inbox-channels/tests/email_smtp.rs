//! The email adapter's sending (H3, W7, N3) against a local SMTP server written in the tests
//! (`common/smtp.rs`): the captured mail is parsed back with mail-parser and its threading
//! headers, subject, body and attachment checked; SMTP replies and connection failures map to
//! transient or permanent delivery errors.

#[path = "common/smtp.rs"]
mod smtp;

use std::collections::BTreeMap;

use conversation_core::entities::ChannelIdentity;
use conversation_core::ids::{ConversationId, InboxId, MessageId};
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, DeliveryError, OutboundContent, OutboundDelivery,
};
use inbox_channels::email::{EmailAdapter, SmtpConfig, SmtpTls, StaffNotice, StaffNotifier};
use mail_parser::{MessageParser, MimeHeaders};
use smtp::{SmtpServer, Stage};

const MESSAGE: u128 = 0x0190_f6a2_7c1b_7e55_9d3c_2b8f_4a1c_0d77;

fn connection(port: u16) -> ChannelConnection {
    let mut connection = ChannelConnection::default();
    for (key, value) in [
        ("address", "support@shop.example"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_tls", "none"),
    ] {
        connection.settings.insert(key.into(), value.into());
    }
    connection
        .settings
        .insert("smtp_port".into(), port.to_string());
    connection
        .secrets
        .insert("inbound_secret".into(), "secret".into());
    connection
}

fn delivery(content: OutboundContent) -> OutboundDelivery {
    OutboundDelivery {
        message: MessageId::from_u128(MESSAGE),
        conversation: ConversationId::from_u128(7),
        inbox: InboxId::from_u128(1),
        to: ChannelIdentity {
            inbox: InboxId::from_u128(1),
            external_id: "anna.berg@example.org".into(),
        },
        content,
        in_reply_to: Some("CAF1x2y3z4@mail.example.org".into()),
        subject: Some("Where is my order?".into()),
    }
}

fn text(body: &str) -> OutboundContent {
    OutboundContent::Text { body: body.into() }
}

const OUR_ID: &str = "0190f6a2-7c1b-7e55-9d3c-2b8f4a1c0d77@shop.example";

// spec: H3 (the external id is known before sending), W7 (threading headers)
#[tokio::test]
async fn h3_w7_a_reply_goes_out_threaded_with_our_message_id() {
    let server = SmtpServer::start().await;
    let receipt = EmailAdapter::new()
        .send(
            &connection(server.port),
            &delivery(text("Your lamp ships today.\n.A line starting with a dot.")),
        )
        .await
        .unwrap();
    assert_eq!(receipt.external_id, OUR_ID);

    let captured = server.captured();
    assert_eq!(captured.len(), 1);
    let sent = &captured[0];
    assert_eq!(sent.helo, "shop.example");
    assert_eq!(sent.mail_from, "support@shop.example");
    assert_eq!(sent.rcpt_to, ["anna.berg@example.org"]);
    assert_eq!(sent.auth, None);

    let mail = MessageParser::default().parse(&sent.data).unwrap();
    assert_eq!(mail.message_id(), Some(OUR_ID));
    assert_eq!(
        mail.in_reply_to().as_text(),
        Some("CAF1x2y3z4@mail.example.org")
    );
    assert_eq!(
        mail.references().as_text(),
        Some("CAF1x2y3z4@mail.example.org")
    );
    assert_eq!(mail.subject(), Some("Re: Where is my order?"));
    let from = mail.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("support@shop.example"));
    let to = mail.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("anna.berg@example.org"));
    // the dot-stuffed line comes back whole
    assert_eq!(
        mail.body_text(0).unwrap().replace("\r\n", "\n").trim_end(),
        "Your lamp ships today.\n.A line starting with a dot."
    );
    assert!(mail.date().is_some());
}

#[tokio::test]
async fn a_subject_is_not_doubled_and_a_thread_without_one_names_the_conversation() {
    let server = SmtpServer::start().await;
    let adapter = EmailAdapter::new();
    let mut reply = delivery(text("Hello"));
    reply.subject = Some("RE: Where is my order?".into());
    adapter
        .send(&connection(server.port), &reply)
        .await
        .unwrap();
    let mut first = delivery(text("Hello"));
    first.subject = None;
    first.in_reply_to = None;
    adapter
        .send(&connection(server.port), &first)
        .await
        .unwrap();

    let captured = server.captured();
    let reply = MessageParser::default().parse(&captured[0].data).unwrap();
    assert_eq!(reply.subject(), Some("RE: Where is my order?"));
    let first = MessageParser::default().parse(&captured[1].data).unwrap();
    assert_eq!(
        first.subject(),
        Some("Your conversation 00000000-0000-0000-0000-000000000007")
    );
    assert!(first.in_reply_to().is_empty());
    assert!(first.references().is_empty());
}

// spec: H3 (a retried send carries the same Message-ID)
#[tokio::test]
async fn h3_a_retry_after_a_transient_failure_carries_the_same_message_id() {
    let server = SmtpServer::start().await;
    server.fail_once(
        Stage::DataEnd,
        "451 4.3.0 Mail server temporarily rejected message",
    );
    let adapter = EmailAdapter::new();
    let first = adapter
        .send(&connection(server.port), &delivery(text("Hello")))
        .await;
    match first {
        Err(DeliveryError::Transient { reason, .. }) => {
            assert!(reason.contains("451"), "{reason}");
            assert!(reason.contains("temporarily rejected"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(server.captured().is_empty());
    let second = adapter
        .send(&connection(server.port), &delivery(text("Hello")))
        .await
        .unwrap();
    assert_eq!(second.external_id, OUR_ID);
    let mail = MessageParser::default()
        .parse(&server.captured()[0].data)
        .unwrap()
        .into_owned();
    assert_eq!(mail.message_id(), Some(OUR_ID));
}

// spec: H3 (5xx is permanent with the server's words; 4xx at any stage is transient)
#[tokio::test]
async fn h3_smtp_replies_map_to_transient_and_permanent() {
    let server = SmtpServer::start().await;
    let adapter = EmailAdapter::new();
    let cases = [
        (
            Stage::RcptTo,
            "550 5.1.1 <anna.berg@example.org>: Recipient address rejected: User unknown",
            false,
        ),
        (
            Stage::MailFrom,
            "553 5.7.1 Sender address rejected: not owned by user",
            false,
        ),
        (Stage::DataEnd, "554 5.7.1 Message rejected as spam", false),
        (
            Stage::RcptTo,
            "450 4.2.0 Recipient greylisted, try again",
            true,
        ),
        (Stage::MailFrom, "421 4.7.0 Too many connections", true),
    ];
    for (stage, reply, transient) in cases {
        server.fail_once(stage, reply);
        let result = adapter
            .send(&connection(server.port), &delivery(text("Hello")))
            .await;
        let words = &reply[10..];
        match (result, transient) {
            (Err(DeliveryError::Transient { reason, .. }), true)
            | (Err(DeliveryError::Permanent { reason }), false) => {
                assert!(reason.contains(&reply[..3]), "{reason} / {reply}");
                assert!(reason.contains(words), "{reason} / {reply}");
            }
            (other, _) => panic!("{reply}: {other:?}"),
        }
    }
    assert!(server.captured().is_empty());
}

// spec: H3 (a server that cannot be reached is a transient failure)
#[tokio::test]
async fn h3_a_refused_connection_is_transient() {
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let result = EmailAdapter::new()
        .send(&connection(port), &delivery(text("Hello")))
        .await;
    assert!(
        matches!(result, Err(DeliveryError::Transient { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn starttls_is_required_when_asked_for_and_nothing_goes_out_in_plain_text() {
    let server = SmtpServer::start().await;
    let mut connection = connection(server.port);
    connection
        .settings
        .insert("smtp_tls".into(), "starttls".into());
    let result = EmailAdapter::new()
        .send(&connection, &delivery(text("Hello")))
        .await;
    assert!(
        matches!(result, Err(DeliveryError::Transient { .. })),
        "{result:?}"
    );
    assert_eq!(server.connections(), 1);
    assert!(server.captured().is_empty());

    connection.settings.insert("smtp_tls".into(), "tls".into());
    let result = EmailAdapter::new()
        .send(&connection, &delivery(text("Hello")))
        .await;
    assert!(
        matches!(result, Err(DeliveryError::Transient { .. })),
        "{result:?}"
    );
    assert!(server.captured().is_empty());
}

#[tokio::test]
async fn credentials_are_sent_with_auth_plain() {
    let server = SmtpServer::start().await;
    let mut connection = connection(server.port);
    connection
        .secrets
        .insert("smtp_username".into(), "support@shop.example".into());
    connection
        .secrets
        .insert("smtp_password".into(), "app-password".into());
    EmailAdapter::new()
        .send(&connection, &delivery(text("Hello")))
        .await
        .unwrap();
    assert_eq!(
        server.captured()[0].auth,
        Some(("support@shop.example".into(), "app-password".into()))
    );
}

// spec: H2 (email carries media), M7
#[tokio::test]
async fn h2_media_goes_as_an_attachment_with_the_caption_as_text() {
    let server = SmtpServer::start().await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let content = OutboundContent::Media {
        attachment: "att-1".into(),
        content_type: "application/pdf".into(),
        file_name: "invoice 1042.pdf".into(),
        caption: Some("Your invoice".into()),
        bytes: bytes.clone(),
    };
    EmailAdapter::new()
        .send(&connection(server.port), &delivery(content))
        .await
        .unwrap();
    let data = server.captured()[0].data.clone();
    let mail = MessageParser::default().parse(&data).unwrap();
    assert_eq!(mail.body_text(0).unwrap().trim(), "Your invoice");
    assert_eq!(mail.attachment_count(), 1);
    let attachment = mail.attachment(0).unwrap();
    assert_eq!(attachment.attachment_name(), Some("invoice 1042.pdf"));
    assert!(attachment.is_content_type("application", "pdf"));
    assert_eq!(attachment.contents(), bytes.as_slice());
    assert_eq!(mail.message_id(), Some(OUR_ID));
}

// spec: H2 (email has no templates and no unsend)
#[tokio::test]
async fn h2_templates_and_unsend_are_permanent_failures() {
    let server = SmtpServer::start().await;
    let adapter = EmailAdapter::new();
    let template = OutboundContent::Template {
        name: "shipping_update".into(),
        parameters: BTreeMap::new(),
    };
    let result = adapter
        .send(&connection(server.port), &delivery(template))
        .await;
    assert!(
        matches!(result, Err(DeliveryError::Permanent { .. })),
        "{result:?}"
    );
    assert_eq!(server.connections(), 0);
    match adapter.unsend(&connection(server.port), OUR_ID).await {
        Err(DeliveryError::Permanent { reason }) => {
            assert_eq!(reason, "email cannot be unsent");
        }
        other => panic!("{other:?}"),
    }
    assert!(!adapter.capabilities().unsend);
    assert!(!adapter.capabilities().templates);
    assert!(adapter.capabilities().media);
}

#[tokio::test]
async fn a_contact_address_that_is_not_one_is_permanent() {
    let server = SmtpServer::start().await;
    let mut bad = delivery(text("Hello"));
    bad.to.external_id = "not an address".into();
    let result = EmailAdapter::new()
        .send(&connection(server.port), &bad)
        .await;
    assert!(
        matches!(result, Err(DeliveryError::Permanent { .. })),
        "{result:?}"
    );
    assert_eq!(server.connections(), 0);
}

// spec: N3 (staff notifications by email over a server-level SMTP configuration)
#[tokio::test]
async fn n3_a_staff_notice_goes_to_every_recipient_in_one_mail() {
    let server = SmtpServer::start().await;
    let notifier = StaffNotifier::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: server.port,
        tls: SmtpTls::None,
        credentials: Some(("notify".into(), "pw".into())),
        from: "inbox@shop.example".into(),
    });
    let notice = StaffNotice {
        id: "0190f6a2-0000-7000-8000-000000000001".into(),
        recipients: vec!["ann@shop.example".into(), "bob@shop.example".into()],
        subject: "A message arrived while no agent was online".into(),
        text: "A message arrived on Web while no agent was online. Conversation 42.".into(),
    };
    let id = notifier.send(&notice).await.unwrap();
    assert_eq!(id, "0190f6a2-0000-7000-8000-000000000001@shop.example");
    let captured = server.captured();
    assert_eq!(captured.len(), 1);
    assert_eq!(
        captured[0].rcpt_to,
        ["ann@shop.example", "bob@shop.example"]
    );
    assert_eq!(captured[0].auth, Some(("notify".into(), "pw".into())));
    let mail = MessageParser::default().parse(&captured[0].data).unwrap();
    assert_eq!(mail.message_id(), Some(id.as_str()));
    assert_eq!(mail.subject(), Some(notice.subject.as_str()));
    assert_eq!(mail.body_text(0).unwrap().trim(), notice.text);
    assert_eq!(mail.to().unwrap().iter().count(), 2);

    server.fail_once(Stage::RcptTo, "452 4.5.3 Too many recipients");
    assert!(matches!(
        notifier.send(&notice).await,
        Err(DeliveryError::Transient { .. })
    ));
    let nobody = StaffNotice {
        recipients: Vec::new(),
        ..notice
    };
    assert!(matches!(
        notifier.send(&nobody).await,
        Err(DeliveryError::Permanent { .. })
    ));
}

// spec: S9 (passwords never in logs): an inbox's SMTP connection and the server's notifier
// print their user but never the password.
#[test]
fn s9_an_smtp_configuration_never_prints_its_password() {
    let smtp = SmtpConfig {
        host: "smtp.shop.example".into(),
        port: 587,
        tls: SmtpTls::StartTls,
        credentials: Some(("notify".into(), "s3cret-pw".into())),
        from: "inbox@shop.example".into(),
    };
    for printed in [
        format!("{smtp:?}"),
        format!("{:?}", StaffNotifier::new(smtp.clone())),
    ] {
        assert!(printed.contains("notify"), "{printed}");
        assert!(!printed.contains("s3cret-pw"), "{printed}");
    }
}
