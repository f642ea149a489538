//! The bare websocket broadcast that B3 compares with: an axum server (run as a child process of
//! the tool, `inbox-bench ws-baseline`, so that its memory is its own) whose sockets join one of
//! `groups` tokio broadcast channels; `POST /start?rate=..&count=..` then sends `count` frames at
//! `rate` per second, round robin over the groups, each serialized once and shared by every
//! socket of its group. The frames have the shape of the server's event frames
//! (`{"type": "event", "sequence": n, "event": {"at": ...}}`), so the same client reads both.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use conversation_core::ports::Clock;
use inbox_app::system::SystemClock;
use tokio::sync::broadcast;

use crate::BenchResult;

#[derive(Clone)]
struct Groups(Arc<Vec<broadcast::Sender<Utf8Bytes>>>);

#[derive(serde::Deserialize)]
struct Start {
    rate: u64,
    count: u64,
}

/// Serves until killed; prints `listening <port>` on stdout once bound.
///
/// # Errors
/// When it cannot bind.
pub async fn serve(groups: usize) -> BenchResult<()> {
    let senders = (0..groups.max(1))
        .map(|_| broadcast::channel(1024).0)
        .collect::<Vec<_>>();
    let state = Groups(Arc::new(senders));
    let router = Router::new()
        .route("/ws/{group}", get(socket))
        .route("/start", post(start))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening {}", listener.local_addr()?.port());
    axum::serve(listener, router).await?;
    Ok(())
}

async fn socket(
    State(groups): State<Groups>,
    Path(group): Path<usize>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let receiver = groups.0[group % groups.0.len()].subscribe();
    upgrade.on_upgrade(move |socket| forward(socket, receiver))
}

async fn forward(mut socket: WebSocket, mut receiver: broadcast::Receiver<Utf8Bytes>) {
    while let Ok(frame) = receiver.recv().await {
        if socket.send(Message::Text(frame)).await.is_err() {
            break;
        }
    }
}

async fn start(State(groups): State<Groups>, Query(start): Query<Start>) -> &'static str {
    tokio::spawn(async move {
        let clock = SystemClock::default();
        let mut ticker =
            tokio::time::interval(Duration::from_secs_f64(1.0 / start.rate.max(1) as f64));
        let mut sequences = vec![0_u64; groups.0.len()];
        for n in 0..start.count {
            ticker.tick().await;
            let group = usize::try_from(n).unwrap_or(0) % groups.0.len();
            sequences[group] += 1;
            let frame = serde_json::json!({
                "type": "event",
                "sequence": sequences[group],
                "event": {"at": clock.now()},
            });
            let _ = groups.0[group].send(Utf8Bytes::from(frame.to_string()));
        }
    });
    "started"
}
