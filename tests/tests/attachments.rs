//! Attachments end to end (M7, S4, and with them M5, M8, M10, S1, S5): an agent uploads a file
//! as `multipart/form-data`, agents and the conversation's visitor download it, always as an
//! attachment that no browser renders or sniffs. Every test runs on SQLite and PostgreSQL
//! against the real server.

use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use conversation_core::ids::{ContactId, MessageId};
use conversation_core::ports::{Session, SessionSubject};
use inbox_app::{TokenKind, new_token, token_hash};
use inbox_tests::{TestServer, e2e};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use uuid::Uuid;

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// One part of a multipart form.
struct Part<'a> {
    name: &'a str,
    file: Option<(&'a str, &'a str)>,
    bytes: &'a [u8],
}

fn file<'a>(file_name: &'a str, content_type: &'a str, bytes: &'a [u8]) -> Part<'a> {
    Part {
        name: "file",
        file: Some((file_name, content_type)),
        bytes,
    }
}

fn text<'a>(name: &'a str, value: &'a str) -> Part<'a> {
    Part {
        name,
        file: None,
        bytes: value.as_bytes(),
    }
}

/// The form, written by hand so that names and content types go out exactly as given.
fn form(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("----inbox-test-{}", Uuid::new_v4().simple());
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part.file {
            Some((file_name, content_type)) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{file_name}\"\r\n\
                     Content-Type: {content_type}\r\n\r\n",
                    part.name
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                    part.name
                )
                .as_bytes(),
            ),
        }
        body.extend_from_slice(part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    server: &TestServer,
    token: &str,
    conversation: &str,
    parts: &[Part<'_>],
) -> (StatusCode, Value) {
    let (content_type, body) = form(parts);
    let response = server
        .http
        .post(format!(
            "{}/api/v1/conversations/{conversation}/attachments",
            server.base
        ))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// GET returning the status, the headers and the raw body.
async fn fetch(server: &TestServer, path: &str, token: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = server
        .http
        .get(format!("{}{path}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn agent_file(conversation: &str, message: &Value) -> String {
    format!(
        "/api/v1/conversations/{conversation}/messages/{}/attachment",
        message["id"].as_str().expect("message id")
    )
}

fn widget_file(message: &Value) -> String {
    format!(
        "/api/v1/widget/messages/{}/attachment",
        message["id"].as_str().expect("message id")
    )
}

/// A web-chat conversation started by a contact: (inbox, contact, conversation id).
async fn start_conversation(server: &TestServer) -> (Inbox, ContactId, String) {
    let inbox = server.inbox(ChannelKind::WebChat, None).await;
    let contact = server.contact().await;
    let received = server.inbound(&inbox, contact, "hello", None).await;
    (inbox, contact, received.conversation.to_string())
}

/// A widget visitor token bound to the contact on the inbox (A3), as a session start makes.
async fn visitor(server: &TestServer, inbox: &Inbox, contact: ContactId) -> String {
    let token = new_token(TokenKind::VisitorSession).unwrap();
    let now = server.app.now();
    server
        .app
        .store()
        .create_session(&Session {
            id: Uuid::new_v4(),
            account: inbox.account,
            subject: SessionSubject::Visitor {
                contact,
                inbox: inbox.id,
            },
            token_hash: token_hash(&token),
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
            revoked_at: None,
        })
        .await
        .expect("session stored");
    token
}

async fn message_count(server: &TestServer, conversation: &str) -> usize {
    let (status, messages) = server
        .get(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&server.owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{messages}");
    messages.as_array().expect("messages").len()
}

fn assert_never_rendered(headers: &HeaderMap, content_type: &str, disposition: &str) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("content-type"), Some(content_type));
    assert_eq!(header("content-disposition"), Some(disposition));
    assert_eq!(header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        header("content-security-policy"),
        Some("default-src 'none'; sandbox")
    );
    assert_eq!(header("cache-control"), Some("private, no-store"));
}

e2e!(
    m7_s4_a_file_round_trips_and_is_served_only_as_an_attachment,
    |server: TestServer| async move {
        let (_, _, conversation) = start_conversation(&server).await;
        let (status, message) = upload(
            &server,
            &server.owner,
            &conversation,
            &[
                text("caption", "Your label"),
                file("label.png", "image/png", PNG),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{message}");
        assert_eq!(message["kind"], "media");
        assert_eq!(message["direction"], "outbound");
        assert_eq!(message["body"], "Your label");
        assert_eq!(
            message["attachment"],
            json!({"file_name": "label.png", "content_type": "image/png", "size_bytes": PNG.len()})
        );

        let (status, headers, bytes) =
            fetch(&server, &agent_file(&conversation, &message), &server.owner).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bytes, PNG);
        assert_never_rendered(
            &headers,
            "image/png",
            "attachment; filename=\"label.png\"; filename*=UTF-8''label.png",
        );

        // A PDF, declared with parameters and capitals: stored as the allow-listed essence.
        let pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\n";
        let (status, message) = upload(
            &server,
            &server.owner,
            &conversation,
            &[file(
                "Facture été.pdf",
                "Application/PDF; charset=binary",
                pdf,
            )],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{message}");
        assert_eq!(message["body"], "", "the caption is optional");
        let (status, headers, bytes) =
            fetch(&server, &agent_file(&conversation, &message), &server.owner).await;
        assert_eq!((status, bytes.as_slice()), (StatusCode::OK, &pdf[..]));
        assert_never_rendered(
            &headers,
            "application/pdf",
            "attachment; filename=\"Facture _t_.pdf\"; filename*=UTF-8''Facture%20%C3%A9t%C3%A9.pdf",
        );
    }
);

e2e!(
    m7_a_file_above_the_inbox_limit_answers_413_attachment_too_large,
    |server: TestServer| async move {
        let (mut inbox, _, conversation) = start_conversation(&server).await;
        inbox.settings.attachment_max_bytes = 1024;
        server.app.store().save_inbox(&inbox).await.unwrap();
        let mut big = PNG.to_vec();
        big.resize(2048, 0);
        let (status, problem) = upload(
            &server,
            &server.owner,
            &conversation,
            &[file("big.png", "image/png", &big)],
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
        assert_eq!(problem["code"], "attachment_too_large");
        assert!(problem["detail"].as_str().unwrap().contains("1024"));
        big.truncate(1024);
        let (status, message) = upload(
            &server,
            &server.owner,
            &conversation,
            &[file("fits.png", "image/png", &big)],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{message}");
        assert_eq!(message_count(&server, &conversation).await, 2);

        // The upload route reads more than the API's 256 KiB body limit, up to the inbox's.
        inbox.settings.attachment_max_bytes = 20 * 1024 * 1024;
        server.app.store().save_inbox(&inbox).await.unwrap();
        big.resize(600 * 1024, 7);
        let (status, message) = upload(
            &server,
            &server.owner,
            &conversation,
            &[file("large.png", "image/png", &big)],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{message}");
        let (status, _, bytes) =
            fetch(&server, &agent_file(&conversation, &message), &server.owner).await;
        assert_eq!((status, bytes.len()), (StatusCode::OK, big.len()));
        assert_eq!(bytes, big);

        // M7: no inbox may allow more than the ceiling.
        let (status, problem) = server
            .patch(
                &format!("/api/v1/inboxes/{}", inbox.id),
                Some(&server.owner),
                &json!({"settings": {"attachment_max_bytes": 50 * 1024 * 1024 + 1}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["code"], "invalid_value");
    }
);

e2e!(
    s4_svg_html_and_scripts_are_refused_with_415,
    |server: TestServer| async move {
        let (_, _, conversation) = start_conversation(&server).await;
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
        for content_type in [
            "image/svg+xml; x",
            "image/svg+xml",
            "text/html",
            "application/javascript",
            "",
        ] {
            let (status, problem) = upload(
                &server,
                &server.owner,
                &conversation,
                &[file("cat.png", content_type, svg)],
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{content_type}: {problem}"
            );
            assert_eq!(problem["code"], "attachment_type_not_allowed");
            assert_eq!(
                problem["type"],
                "urn:inbox:problem:attachment_type_not_allowed"
            );
        }
        assert_eq!(message_count(&server, &conversation).await, 1);
    }
);

e2e!(
    s4_html_disguised_as_an_image_or_text_is_refused,
    |server: TestServer| async move {
        let (_, _, conversation) = start_conversation(&server).await;
        let html = b"<html><body><script>alert(document.cookie)</script></body></html>";
        for (name, content_type) in [
            ("cat.png", "image/png"),
            ("cat.jpg", "image/jpeg"),
            ("doc.pdf", "application/pdf"),
            ("notes.txt", "text/plain"),
        ] {
            let (status, problem) = upload(
                &server,
                &server.owner,
                &conversation,
                &[file(name, content_type, html)],
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{content_type}: {problem}"
            );
            assert_eq!(problem["code"], "attachment_content_mismatch");
        }
        assert_eq!(message_count(&server, &conversation).await, 1);
    }
);

e2e!(
    s4_odd_file_names_are_kept_sanitized_and_never_name_the_stored_file,
    |server: TestServer| async move {
        let (inbox, _, conversation) = start_conversation(&server).await;
        let (status, message) = upload(
            &server,
            &server.owner,
            &conversation,
            &[file("../../etc/passwd'; x.png", "image/png", PNG)],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{message}");
        assert_eq!(message["attachment"]["file_name"], "passwd; x.png");
        let (status, headers, _) =
            fetch(&server, &agent_file(&conversation, &message), &server.owner).await;
        assert_eq!(status, StatusCode::OK);
        assert_never_rendered(
            &headers,
            "image/png",
            "attachment; filename=\"passwd; x.png\"; filename*=UTF-8''passwd%3B%20x.png",
        );
        let id = MessageId::from_uuid(message["id"].as_str().unwrap().parse().unwrap());
        let stored = server
            .app
            .store()
            .message(inbox.account, id)
            .await
            .unwrap()
            .unwrap();
        let key = stored.attachment.unwrap().storage_key;
        assert!(
            Uuid::parse_str(&key).is_ok(),
            "a generated id, not the name: {key}"
        );

        let (status, message) = upload(
            &server,
            &server.owner,
            &conversation,
            &[file("..", "text/plain", b"plain words")],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{message}");
        assert_eq!(message["attachment"]["file_name"], "attachment");
    }
);

e2e!(
    s1_another_accounts_owner_gets_404_for_upload_and_download,
    |server: TestServer| async move {
        let (_, _, conversation) = start_conversation(&server).await;
        let (_, message) = upload(
            &server,
            &server.owner,
            &conversation,
            &[file("a.png", "image/png", PNG)],
        )
        .await;
        let stranger = &server.stranger().await;

        let (status, headers, body) =
            fetch(&server, &agent_file(&conversation, &message), stranger).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            headers.get("content-type").unwrap(),
            "application/problem+json"
        );
        assert_ne!(body, PNG);
        let (status, problem) = upload(
            &server,
            stranger,
            &conversation,
            &[file("b.png", "image/png", PNG)],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
        assert_eq!(problem["code"], "not_found");
        assert_eq!(message_count(&server, &conversation).await, 2);

        // A message of another conversation through this one's path: 404 too.
        let (_, _, other) = start_conversation(&server).await;
        let (status, _, _) = fetch(&server, &agent_file(&other, &message), &server.owner).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

e2e!(
    m10_s5_the_visitor_gets_a_replys_file_never_a_notes_nor_another_conversations,
    |server: TestServer| async move {
        let (inbox, contact, conversation) = start_conversation(&server).await;
        let visitor_token = visitor(&server, &inbox, contact).await;
        let (status, reply) = upload(
            &server,
            &server.owner,
            &conversation,
            &[file("invoice.pdf", "application/pdf", b"%PDF-1.4 reply")],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        let (status, note) = upload(
            &server,
            &server.owner,
            &conversation,
            &[
                text("kind", "note"),
                text("caption", "internal scan"),
                file("scan.pdf", "application/pdf", b"%PDF-1.4 private"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{note}");
        assert_eq!(
            (note["kind"].as_str(), note["direction"].as_str()),
            (Some("note"), Some("internal"))
        );

        let (status, headers, bytes) = fetch(&server, &widget_file(&reply), &visitor_token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bytes, b"%PDF-1.4 reply");
        assert_never_rendered(
            &headers,
            "application/pdf",
            "attachment; filename=\"invoice.pdf\"; filename*=UTF-8''invoice.pdf",
        );
        let (status, read) = server
            .get("/api/v1/widget/messages", Some(&visitor_token))
            .await;
        assert_eq!(status, StatusCode::OK, "{read}");
        let shown: Vec<&Value> = read["messages"].as_array().unwrap().iter().collect();
        assert!(
            shown
                .iter()
                .any(|m| m["id"] == reply["id"] && m["attachment"]["file_name"] == "invoice.pdf")
        );
        assert!(
            !shown.iter().any(|m| m["id"] == note["id"]),
            "M10: the note is not listed"
        );

        // M10: the note's file never reaches the contact.
        let (status, _, bytes) = fetch(&server, &widget_file(&note), &visitor_token).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!String::from_utf8_lossy(&bytes).contains("private"));
        // The agents still have it.
        let (status, _, bytes) =
            fetch(&server, &agent_file(&conversation, &note), &server.owner).await;
        assert_eq!(
            (status, bytes.as_slice()),
            (StatusCode::OK, &b"%PDF-1.4 private"[..])
        );

        // S5: another visitor of the same inbox reaches nothing of this conversation.
        let other_contact = server.contact().await;
        server.inbound(&inbox, other_contact, "me too", None).await;
        let other_visitor = visitor(&server, &inbox, other_contact).await;
        let (status, _, _) = fetch(&server, &widget_file(&reply), &other_visitor).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // A visitor token on the agents' route, and an agent token on the widget's: 404.
        let (status, _, _) =
            fetch(&server, &agent_file(&conversation, &reply), &visitor_token).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = fetch(&server, &widget_file(&reply), &server.owner).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

e2e!(
    m5_a_deleted_messages_file_answers_404,
    |server: TestServer| async move {
        let (inbox, contact, conversation) = start_conversation(&server).await;
        let visitor_token = visitor(&server, &inbox, contact).await;
        let (_, message) = upload(
            &server,
            &server.owner,
            &conversation,
            &[file("oops.png", "image/png", PNG)],
        )
        .await;
        let path = agent_file(&conversation, &message);
        assert_eq!(fetch(&server, &path, &server.owner).await.0, StatusCode::OK);
        let (status, deleted) = server
            .delete(
                &format!(
                    "/api/v1/conversations/{conversation}/messages/{}",
                    message["id"].as_str().unwrap()
                ),
                Some(&server.owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{deleted}");
        assert_eq!(deleted["attachment"], Value::Null);
        assert_eq!(deleted["body"], "");
        assert_eq!(
            fetch(&server, &path, &server.owner).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            fetch(&server, &widget_file(&message), &visitor_token)
                .await
                .0,
            StatusCode::NOT_FOUND
        );
    }
);

e2e!(
    m8_a_retried_upload_with_the_same_client_id_stores_one_message,
    |server: TestServer| async move {
        let (_, _, conversation) = start_conversation(&server).await;
        let parts = [text("client_id", "up-1"), file("a.png", "image/png", PNG)];
        let (status, first) = upload(&server, &server.owner, &conversation, &parts).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        let (status, again) = upload(&server, &server.owner, &conversation, &parts).await;
        assert!(status.is_success(), "{again}");
        assert_eq!(again["id"], first["id"]);
        assert_eq!(message_count(&server, &conversation).await, 2);
        let (status, _, bytes) =
            fetch(&server, &agent_file(&conversation, &first), &server.owner).await;
        assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PNG));
    }
);

e2e!(
    m7_malformed_forms_answer_400_with_a_problem,
    |server: TestServer| async move {
        let (_, _, conversation) = start_conversation(&server).await;
        let (status, problem) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/attachments"),
                Some(&server.owner),
                &json!({"file": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(problem["code"], "bad_request");
        let (status, problem) = upload(
            &server,
            &server.owner,
            &conversation,
            &[text("caption", "no file")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        let (status, problem) = upload(
            &server,
            &server.owner,
            &conversation,
            &[text("account_id", "x"), file("a.png", "image/png", PNG)],
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "S2: unknown parts refused: {problem}"
        );
        assert_eq!(message_count(&server, &conversation).await, 1);
    }
);
