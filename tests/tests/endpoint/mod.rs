//! A small local server standing for the customer's side of the generic API channel (and for an
//! integration receiving outgoing webhooks): real HTTP on a random port. It records every
//! request and answers from a script (status, headers, body), then `200 {"id": "api-<n>"}`;
//! `GET /media/<name>` serves a small PNG (a `.html` name: a page that calls itself a PNG). Also: connecting an API inbox and calling its
//! webhook with a signature.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use conversation_core::entities::Inbox;
use inbox_channels::api::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use inbox_tests::TestServer;
use serde_json::{Value, json};

/// The API channel's secret in these tests.
pub const SECRET: &str = "api-channel-secret-0123456789";

/// A PNG's first bytes (what the attachment rules check, M7).
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

/// One request the endpoint received.
#[derive(Clone, Debug)]
pub struct Received {
    /// `POST`, `DELETE`, ...
    pub method: String,
    /// The path.
    pub path: String,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Received {
    /// A header.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Whether it carries a valid signature under `secret` over `"{timestamp}.{body}"`.
    #[must_use]
    pub fn signed_with(&self, secret: &str) -> bool {
        let (Some(timestamp), Some(signature)) =
            (self.header(TIMESTAMP_HEADER), self.header(SIGNATURE_HEADER))
        else {
            return false;
        };
        let Ok(timestamp) = timestamp.parse::<i64>() else {
            return false;
        };
        sign(secret, timestamp, &self.body) == signature
    }
}

/// A scripted answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: String,
}

impl Answer {
    /// An answer with this status and body.
    #[must_use]
    pub fn new(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Answer>>,
}

/// The running endpoint.
#[derive(Clone)]
pub struct Endpoint {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    state: Arc<State>,
}

impl Endpoint {
    /// Starts one.
    pub async fn start() -> Self {
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let router = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = Arc::clone(&shared);
                async move { answer(&state, method, uri, headers, body) }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { base, state }
    }

    /// Answers the next requests with these, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.script.lock().unwrap().extend(answers);
    }

    /// Every request received so far (media downloads included).
    #[must_use]
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// The requests of this method received so far.
    #[must_use]
    pub fn received_of(&self, method: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.method == method)
            .collect()
    }
}

fn answer(state: &State, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let received = Received {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    let n = {
        let mut all = state.received.lock().unwrap();
        all.push(received);
        all.len()
    };
    if method == Method::GET && uri.path().starts_with("/media/") {
        // S4: a page that calls itself an image.
        if uri.path().ends_with(".html") {
            return (
                [("content-type", "image/png")],
                "<html><script>alert(1)</script></html>",
            )
                .into_response();
        }
        return ([("content-type", "image/png")], PNG).into_response();
    }
    let scripted = state.script.lock().unwrap().pop_front();
    match scripted {
        Some(answer) => {
            let mut response = (
                StatusCode::from_u16(answer.status).unwrap(),
                answer.body.clone(),
            )
                .into_response();
            for (name, value) in answer.headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
        None => axum::Json(json!({"id": format!("api-{n}")})).into_response(),
    }
}

/// Connects an API inbox to `url` over the admin API.
pub async fn connect(server: &TestServer, inbox: &Inbox, url: &str) {
    let (status, body) = server
        .put(
            &format!("/api/v1/inboxes/{}/connection", inbox.id),
            Some(&server.owner),
            &json!({"settings": {"url": url}, "secrets": {"secret": SECRET}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The Unix time of the server's clock.
#[must_use]
pub fn unix_now(server: &TestServer) -> i64 {
    server.app.now().timestamp()
}

/// Calls an inbox's webhook with `body`, signed at `timestamp` under `secret` (no signature
/// headers when `secret` is `None`); the status and the body.
pub async fn call_webhook(
    http: &reqwest::Client,
    base: &str,
    inbox: &Inbox,
    body: &str,
    timestamp: i64,
    secret: Option<&str>,
) -> (reqwest::StatusCode, Value) {
    let mut request = http
        .post(format!("{base}/api/v1/channels/{}/webhook", inbox.id))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(secret) = secret {
        request = request
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, sign(secret, timestamp, body.as_bytes()));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Calls the webhook with a valid signature, now.
pub async fn webhook(
    server: &TestServer,
    inbox: &Inbox,
    body: &Value,
) -> (reqwest::StatusCode, Value) {
    call_webhook(
        &server.http,
        &server.base,
        inbox,
        &body.to_string(),
        unix_now(server),
        Some(SECRET),
    )
    .await
}

/// A contact's text message event of the API channel.
#[must_use]
pub fn message(id: &str, from: &str, text: &str) -> Value {
    json!({"type": "message", "id": id, "from": {"id": from, "name": "Ann"}, "text": text})
}
