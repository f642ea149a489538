//! A small local provider server for the adapter tests: it records every request it gets
//! (method, path with query, headers, raw body) and answers each `METHOD /path` with the
//! replies scripted for it, in order, the last one repeating, in the provider's own wire
//! format (success bodies, 429s, 5xx, permanent errors). Unscripted routes answer 404.

#![allow(dead_code, reason = "each test file uses a part of the helper")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use serde_json::Value;

/// One request the server got.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// `GET`, `POST`...
    pub method: String,
    /// The path and query, as sent.
    pub path: String,
    /// The headers, names in lower case.
    pub headers: HashMap<String, String>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }

    /// The body as text (multipart bodies).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A file.
    pub fn bytes(content_type: &str, body: &[u8]) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.to_vec(),
        }
    }

    /// With one more header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Default)]
struct Script {
    requests: Vec<Recorded>,
    /// Per route: its replies, and how many calls it has answered.
    replies: HashMap<String, (Vec<Reply>, usize)>,
}

/// The running server.
pub struct FakeProvider {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    script: Arc<Mutex<Script>>,
}

impl FakeProvider {
    /// Starts a server on a free local port.
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base_url, script }
    }

    /// Scripts one more answer to `method path` (path without query): the route's n-th call
    /// gets its n-th answer, and once they run out the last one again.
    pub fn on(&self, method: &str, path: &str, reply: Reply) {
        self.script
            .lock()
            .unwrap()
            .replies
            .entry(format!("{method} {path}"))
            .or_default()
            .0
            .push(reply);
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.script.lock().unwrap().requests.clone()
    }
}

async fn answer(
    State(script): State<Arc<Mutex<Script>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let mut script = script.lock().unwrap();
    script.requests.push(Recorded {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), ToString::to_string),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.to_vec(),
    });
    let key = format!("{method} {}", uri.path());
    let reply = script.replies.get_mut(&key).and_then(|(replies, served)| {
        let reply = replies.get(*served).or_else(|| replies.last()).cloned();
        *served += 1;
        reply
    });
    let reply = reply.unwrap_or_else(|| {
        Reply::json(
            404,
            serde_json::json!({ "error": format!("no route {key}") }),
        )
    });
    let mut response = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    response.body(Body::from(reply.body)).unwrap()
}
