//! N1, L8 across processes (PostgreSQL only, like `scale_out.rs`): a websocket client connected
//! to process B receives the events committed through process A, with no gap and no duplicate,
//! through the `LISTEN/NOTIFY` doorbell. SQLite is single-process and has no doorbell.

use std::time::Duration;

use conversation_core::channel::ChannelKind;
use futures_util::{SinkExt, StreamExt};
use inbox_tests::{Backend, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(20);

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("a frame");
        if let Message::Text(text) = frame {
            return serde_json::from_str::<Value>(text.as_str()).expect("JSON");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn n1_l8_events_committed_by_one_process_reach_sockets_of_another_without_gap_or_duplicate() {
    let a = spawn(Backend::Postgres).await;
    let b = a.another_process().await;
    let inbox = a.inbox(ChannelKind::WebChat, None).await;
    let contact = a.contact().await;
    let conversation = a.inbound(&inbox, contact, "first", None).await.conversation;

    // The owner's socket on process B, from the start of the account's log.
    let url = format!("{}/api/v1/ws", b.base.replacen("http://", "ws://", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("opens");
    ws.send(Message::Text(
        json!({"type": "auth", "token": b.owner, "after": 0})
            .to_string()
            .into(),
    ))
    .await
    .expect("sent");

    let mut sequences = Vec::new();
    let mut replies = 0;
    let ready = next(&mut ws).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    // Everything logged so far (the conversation's start) arrives by catching up.
    loop {
        let frame = next(&mut ws).await;
        if frame["type"] == "event" {
            sequences.push(frame["sequence"].as_u64().expect("a sequence"));
            if frame["event"]["type"] == "inbound_received" {
                break;
            }
        }
    }
    // spec: N1: notes written through process A, after B's socket caught up.
    for i in 0..20 {
        let (status, body) = a
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&a.owner),
                &json!({"body": format!("reply {i}"), "kind": "note"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    while replies < 20 {
        let frame = next(&mut ws).await;
        if frame["type"] == "event" {
            sequences.push(frame["sequence"].as_u64().expect("a sequence"));
            if frame["event"]["type"] == "reply_sent" {
                replies += 1;
            }
        }
    }
    // spec: L8: in order, each once, none missing.
    let first = sequences[0];
    let expected: Vec<u64> = (first..first + sequences.len() as u64).collect();
    assert_eq!(sequences, expected);
    drop(b);
}
