//! Realtime over real websockets against the real router (N1, W6, M10, A2, A3, L7, L8, S1, S5,
//! S8): agents on `/api/v1/ws`, widget visitors on `/api/v1/widget/ws`, the token in the first
//! frame. Negative checks ("nothing of X arrives") read the stream up to a later event that does
//! arrive: a socket gets its events in sequence order, so anything forbidden would have come
//! first. No test sleeps: every wait is a bounded wait for a frame.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use conversation_core::actor::Role;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::{
    Agent, Availability, DEFAULT_CAPACITY, DEFAULT_OFFER_TIMEOUT_SECS, DeliveryMode, Inbox, Queue,
    RoutingStrategy,
};
use conversation_core::ids::{AccountId, AgentId, ContactId, ConversationId, QueueId};
use conversation_core::message::MessageKind;
use conversation_core::ports::{Session, SessionSubject};
use futures_util::{SinkExt, StreamExt};
use inbox_app::hub::RealtimeSettings;
use inbox_app::{Caller, Inbound, Received, TokenKind, new_token, token_hash};
use inbox_tests::{TestServer, e2e};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const AGENTS: &str = "/api/v1/ws";
const WIDGET: &str = "/api/v1/widget/ws";

/// The longest wait for one frame.
const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Arranging the account.

async fn me(server: &TestServer, token: &str) -> (AccountId, AgentId) {
    match server.app.authenticate(token).await.expect("a valid token") {
        Caller::Agent { account, principal } => (account, principal.agent),
        other => panic!("not an agent: {other:?}"),
    }
}

async fn session(server: &TestServer, account: AccountId, subject: SessionSubject) -> String {
    let kind = match subject {
        SessionSubject::Agent { .. } => TokenKind::AgentSession,
        SessionSubject::Visitor { .. } => TokenKind::VisitorSession,
    };
    let token = new_token(kind).expect("a token");
    let now = server.app.now();
    server
        .app
        .store()
        .create_session(&Session {
            id: Uuid::new_v4(),
            account,
            subject,
            token_hash: token_hash(&token),
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
            revoked_at: None,
        })
        .await
        .expect("session stored");
    token
}

/// A plain agent (no full access) with a session token.
async fn plain_agent(server: &TestServer, account: AccountId) -> (AgentId, String) {
    let id = AgentId::from_uuid(Uuid::new_v4());
    server
        .app
        .store()
        .save_agent(&Agent {
            id,
            account,
            name: "Agent".into(),
            email: format!("agent-{}@example.test", Uuid::new_v4()),
            role: Role::Agent,
            full_access: false,
            permissions: BTreeSet::new(),
            availability: Availability::Offline,
            capacity: DEFAULT_CAPACITY,
            experience_level: 1,
            cost_tier: 1,
        })
        .await
        .expect("agent stored");
    let token = session(server, account, SessionSubject::Agent { agent: id }).await;
    (id, token)
}

async fn queue(server: &TestServer, account: AccountId, members: Vec<AgentId>) -> QueueId {
    let id = QueueId::from_uuid(Uuid::new_v4());
    server
        .app
        .store()
        .save_queue(&Queue {
            id,
            account,
            name: format!("queue {id}"),
            strategy: RoutingStrategy::Manual,
            delivery: DeliveryMode::Direct,
            offer_timeout_secs: DEFAULT_OFFER_TIMEOUT_SECS,
            members,
        })
        .await
        .expect("queue stored");
    id
}

async fn web_inbox(server: &TestServer, account: AccountId, queue: Option<QueueId>) -> Inbox {
    server.inbox_in(account, ChannelKind::WebChat, queue).await
}

async fn contact(server: &TestServer, account: AccountId) -> ContactId {
    server.contact_in(account).await
}

async fn visitor(server: &TestServer, inbox: &Inbox, contact: ContactId) -> String {
    session(
        server,
        inbox.account,
        SessionSubject::Visitor {
            contact,
            inbox: inbox.id,
        },
    )
    .await
}

/// The contact writes on the inbox; the conversation it went into.
async fn write(
    server: &TestServer,
    inbox: &Inbox,
    contact: ContactId,
    text: &str,
) -> ConversationId {
    inbound(server, inbox, contact, text).await.conversation
}

/// The contact writes on the inbox.
async fn inbound(server: &TestServer, inbox: &Inbox, contact: ContactId, text: &str) -> Received {
    server
        .app
        .receive_inbound(
            inbox,
            contact,
            Inbound {
                kind: MessageKind::Text,
                body: text.into(),
                attachment: None,
                external_id: None,
                client_id: None,
            },
        )
        .await
        .expect("inbound stored")
}

/// An agent sends a message through the REST API; its id.
async fn reply(
    server: &TestServer,
    token: &str,
    conversation: ConversationId,
    kind: &str,
    body: &str,
) -> String {
    let (status, message) = server
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(token),
            &json!({"kind": kind, "body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    message["id"].as_str().expect("message id").to_owned()
}

/// The sequence of the last event of the account's log.
async fn head(server: &TestServer, account: AccountId) -> u64 {
    let mut last = 0;
    loop {
        let page = server
            .app
            .store()
            .events_after(account, last, 500)
            .await
            .expect("log read");
        match page.last() {
            Some(event) => last = event.sequence,
            None => return last,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Websocket clients.

fn ws_url(server: &TestServer, path: &str) -> String {
    format!("{}{path}", server.base.replacen("http://", "ws://", 1))
}

async fn open(server: &TestServer, path: &str) -> Ws {
    tokio_tungstenite::connect_async(ws_url(server, path))
        .await
        .expect("the websocket opens")
        .0
}

async fn send(ws: &mut Ws, frame: &Value) {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .expect("frame sent");
}

/// What the server did next.
#[derive(Debug)]
enum Frame {
    /// A text frame.
    Json(Value),
    /// A close frame, with its code.
    Closed(Option<u16>),
    /// The connection ended without a close frame.
    Gone,
}

async fn next_frame(ws: &mut Ws) -> Frame {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("the server answers in time");
        match frame {
            Some(Ok(Message::Text(text))) => {
                return Frame::Json(serde_json::from_str(text.as_str()).expect("JSON frames"));
            }
            Some(Ok(Message::Close(close))) => {
                return Frame::Closed(close.map(|close| u16::from(close.code)));
            }
            Some(Ok(Message::Binary(_))) => panic!("the server sends text frames only"),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Frame::Gone,
        }
    }
}

async fn next_json(ws: &mut Ws) -> Value {
    match next_frame(ws).await {
        Frame::Json(value) => value,
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// Opens, authenticates, and waits for `ready`.
async fn connect(server: &TestServer, path: &str, token: &str, after: u64) -> Ws {
    let mut ws = open(server, path).await;
    send(
        &mut ws,
        &json!({"type": "auth", "token": token, "after": after}),
    )
    .await;
    let ready = next_json(&mut ws).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    ws
}

/// Reads frames until one matches; all the frames read, the match last.
async fn until(ws: &mut Ws, matches: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = next_json(ws).await;
        let found = matches(&frame);
        frames.push(frame);
        if found {
            return frames;
        }
    }
}

/// Whether the frame is an event of this type in this conversation.
fn event(frame: &Value, kind: &str, conversation: ConversationId) -> bool {
    frame["type"] == "event"
        && frame["event"]["type"] == kind
        && frame["event"]["conversation"] == conversation.to_string()
}

/// The conversation a frame is about, if any.
fn about(frame: &Value) -> Option<String> {
    let id = if frame["type"] == "event" {
        &frame["event"]["conversation"]
    } else {
        &frame["conversation"]
    };
    id.as_str().map(str::to_owned)
}

fn sequences(frames: &[Value]) -> Vec<u64> {
    frames
        .iter()
        .filter(|frame| frame["type"] == "event")
        .map(|frame| frame["sequence"].as_u64().expect("a sequence"))
        .collect()
}

async fn expect_close(ws: &mut Ws, code: u16, what: &str) {
    match next_frame(ws).await {
        Frame::Closed(Some(got)) => assert_eq!(got, code, "{what}"),
        other => panic!("{what}: expected a close with {code}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// N1, A2.

e2e!(
    n1_a2_agents_receive_replies_in_conversations_they_may_see,
    |server: TestServer| async move {
        let (account, owner) = me(&server, &server.owner).await;
        let (alice, alice_token) = plain_agent(&server, account).await;
        let (bob, bob_token) = plain_agent(&server, account).await;
        let alices = queue(&server, account, vec![alice]).await;
        let bobs = queue(&server, account, vec![bob]).await;
        let alice_inbox = web_inbox(&server, account, Some(alices)).await;
        let bob_inbox = web_inbox(&server, account, Some(bobs)).await;
        let mut alice_ws = connect(&server, AGENTS, &alice_token, 0).await;
        let mut bob_ws = connect(&server, AGENTS, &bob_token, 0).await;
        let mut owner_ws = connect(&server, AGENTS, &server.owner, 0).await;

        let x = write(
            &server,
            &alice_inbox,
            contact(&server, account).await,
            "hello",
        )
        .await;
        let message = reply(&server, &server.owner, x, "text", "Hi, how can I help?").await;

        // N1: Alice, in the conversation's queue, receives the other agent's reply.
        let frames = until(&mut alice_ws, |f| event(f, "reply_sent", x)).await;
        let created = frames.last().expect("the reply");
        assert_eq!(created["event"]["message"], message.as_str());
        assert_eq!(created["event"]["actor"]["type"], "agent");
        assert_eq!(created["event"]["actor"]["id"], owner.to_string());
        assert!(frames.iter().any(|f| event(f, "started", x)), "{frames:?}");

        // A2: Bob, in another queue, receives nothing of it; his first events are his queue's.
        let y = write(&server, &bob_inbox, contact(&server, account).await, "hi").await;
        let frames = until(&mut bob_ws, |f| event(f, "inbound_received", y)).await;
        let x_id = x.to_string();
        assert!(
            frames.iter().all(|f| about(f).as_deref() != Some(&x_id)),
            "A2: Bob sees nothing of a conversation outside his queues: {frames:?}"
        );

        // ... nor does Alice receive Bob's conversation.
        reply(&server, &server.owner, x, "text", "Anything else?").await;
        let frames = until(&mut alice_ws, |f| event(f, "reply_sent", x)).await;
        let y_id = y.to_string();
        assert!(
            frames.iter().all(|f| about(f).as_deref() != Some(&y_id)),
            "A2: {frames:?}"
        );

        // The owner (sees all) receives both, in sequence order.
        let frames = until(&mut owner_ws, |f| event(f, "inbound_received", y)).await;
        assert!(frames.iter().any(|f| event(f, "reply_sent", x)));
        let seen = sequences(&frames);
        assert!(
            seen.windows(2).all(|w| w[1] == w[0] + 1),
            "gap-free: {seen:?}"
        );
    }
);

// ---------------------------------------------------------------------------------------------
// M10, W6.

e2e!(
    m10_a_note_never_reaches_the_visitor_while_the_reply_does,
    |server: TestServer| async move {
        let (account, _) = me(&server, &server.owner).await;
        let line = queue(&server, account, Vec::new()).await;
        let inbox = web_inbox(&server, account, Some(line)).await;
        let someone = contact(&server, account).await;
        let z = write(&server, &inbox, someone, "hello").await;
        let mut visitor_ws =
            connect(&server, WIDGET, &visitor(&server, &inbox, someone).await, 0).await;
        let mut owner_ws = connect(&server, AGENTS, &server.owner, 0).await;

        let note = reply(&server, &server.owner, z, "note", "VIP, handle with care").await;
        let answer = reply(&server, &server.owner, z, "text", "Hello! How can I help?").await;

        let frames = until(&mut visitor_ws, |f| event(f, "reply_sent", z)).await;
        let last = frames.last().expect("the reply");
        assert_eq!(last["event"]["message"], answer.as_str());
        assert_eq!(last["event"]["kind"], "free_form");
        let text = serde_json::to_string(&frames).expect("JSON");
        assert!(
            !text.contains(&note),
            "M10: the note's id never reaches the visitor"
        );
        assert!(!text.contains("\"note\""), "M10: no note event: {text}");
        let started = frames
            .iter()
            .find(|f| event(f, "started", z))
            .expect("the visitor sees their conversation start");
        assert!(
            started["event"].get("queue").is_none() && started["event"].get("account").is_none(),
            "the visitor's copy carries no routing detail: {started}"
        );
        assert!(
            frames
                .iter()
                .all(|f| about(f).as_deref() == Some(z.to_string().as_str())),
            "{frames:?}"
        );

        // The agents' stream has both.
        let frames = until(&mut owner_ws, |f| {
            event(f, "reply_sent", z) && f["event"]["kind"] == "free_form"
        })
        .await;
        assert!(
            frames
                .iter()
                .any(|f| event(f, "reply_sent", z) && f["event"]["message"] == note.as_str())
        );
    }
);

e2e!(
    w6_typing_and_read_indicators_go_both_ways_never_a_private_note,
    |server: TestServer| async move {
        let (account, owner) = me(&server, &server.owner).await;
        let inbox = web_inbox(&server, account, None).await;
        let someone = contact(&server, account).await;
        let z = write(&server, &inbox, someone, "hello").await;
        let mut visitor_ws =
            connect(&server, WIDGET, &visitor(&server, &inbox, someone).await, 0).await;
        let mut owner_ws = connect(&server, AGENTS, &server.owner, 0).await;
        let typing = |f: &Value| f["type"] == "typing";

        // M10: typing a private note is shown to agents only; typing a reply reaches the visitor.
        send(
            &mut owner_ws,
            &json!({"type": "typing", "conversation": z, "on": true, "private": true}),
        )
        .await;
        send(
            &mut owner_ws,
            &json!({"type": "typing", "conversation": z, "on": true}),
        )
        .await;
        let frames = until(&mut visitor_ws, typing).await;
        let shown = frames.last().expect("typing");
        assert_eq!(shown["private"], false, "{shown}");
        assert_eq!(shown["on"], true);
        assert_eq!(shown["conversation"], z.to_string());
        assert_eq!(shown["from"], json!({"type": "agent", "id": owner}));

        // The visitor's typing and read reach the agents, never echoed to the sender.
        send(
            &mut visitor_ws,
            &json!({"type": "typing", "conversation": z, "on": true}),
        )
        .await;
        send(
            &mut visitor_ws,
            &json!({"type": "read", "conversation": z, "sequence": 1}),
        )
        .await;
        let frames = until(&mut owner_ws, |f| f["type"] == "read").await;
        let signals: Vec<&Value> = frames
            .iter()
            .filter(|f| f["type"] == "typing" || f["type"] == "read")
            .collect();
        assert_eq!(
            signals.len(),
            2,
            "no echo of the owner's own typing: {signals:?}"
        );
        assert_eq!(
            signals[0]["from"],
            json!({"type": "contact", "id": someone})
        );
        assert_eq!(signals[1]["sequence"], 1);

        // The agent's read reaches the visitor.
        send(
            &mut owner_ws,
            &json!({"type": "read", "conversation": z, "sequence": 1}),
        )
        .await;
        let frames = until(&mut visitor_ws, |f| f["type"] == "read").await;
        assert_eq!(
            frames.last().expect("read")["from"],
            json!({"type": "agent", "id": owner})
        );
        assert!(
            frames.iter().all(|f| f["type"] != "typing"),
            "the visitor's own typing is not echoed: {frames:?}"
        );
    }
);

// ---------------------------------------------------------------------------------------------
// L8.

e2e!(
    l8_reconnecting_with_the_last_sequence_has_no_gap_and_no_duplicate,
    |server: TestServer| async move {
        let (account, _) = me(&server, &server.owner).await;
        let inbox = web_inbox(&server, account, None).await;
        let someone = contact(&server, account).await;
        let mut ws = connect(&server, AGENTS, &server.owner, 0).await;
        for i in 0..3 {
            write(&server, &inbox, someone, &format!("first {i}")).await;
        }
        let first_head = head(&server, account).await;
        let frames = until(&mut ws, |f| f["sequence"] == first_head).await;
        let seen = sequences(&frames);
        assert_eq!(seen, (1..=first_head).collect::<Vec<_>>());
        // Resume from the middle of what was seen, as a client that lost its last frames.
        let last = seen[seen.len() - 2];
        drop(ws);

        for i in 0..3 {
            write(&server, &inbox, someone, &format!("while away {i}")).await;
        }
        // More events commit while the client reconnects and catches up.
        let writer = {
            let app = server.app.clone();
            let inbox = inbox.clone();
            tokio::spawn(async move {
                for i in 0..10 {
                    app.receive_inbound(
                        &inbox,
                        someone,
                        Inbound {
                            kind: MessageKind::Text,
                            body: format!("during {i}"),
                            attachment: None,
                            external_id: None,
                            client_id: None,
                        },
                    )
                    .await
                    .expect("inbound stored");
                }
            })
        };
        let mut ws = connect(&server, AGENTS, &server.owner, last).await;
        writer.await.expect("the writer finishes");
        let final_head = head(&server, account).await;
        let frames = until(&mut ws, |f| f["sequence"] == final_head).await;
        assert_eq!(
            sequences(&frames),
            (last + 1..=final_head).collect::<Vec<_>>(),
            "L8: every event after `after`, once, in order"
        );
    }
);

// ---------------------------------------------------------------------------------------------
// L7.

/// A second listener on the same application whose accepted sockets have a tiny send buffer,
/// so that a client that does not read fills it after a few frames.
async fn tiny_buffer_listener(server: &TestServer) -> SocketAddr {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_send_buffer_size(4096).expect("SO_SNDBUF");
    socket
        .bind("127.0.0.1:0".parse().expect("address"))
        .expect("bind");
    let listener = socket.listen(16).expect("listen");
    let address = listener.local_addr().expect("address");
    let router = inbox_http::router(server.app.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serves");
    });
    address
}

/// A client with a tiny receive buffer, authenticated (it read `ready`, so the server has
/// taken the settings of its connection).
async fn sluggish_client(address: SocketAddr, token: &str) -> Ws {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let stream = socket.connect(address).await.expect("connects");
    let (mut ws, _) = tokio_tungstenite::client_async(
        format!("ws://{address}{AGENTS}"),
        MaybeTlsStream::Plain(stream),
    )
    .await
    .expect("the websocket opens");
    send(
        &mut ws,
        &json!({"type": "auth", "token": token, "after": 0}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "ready");
    ws
}

/// Reads what a cut-off client still gets: its events, the resync frame if any, and how it
/// ended (the close code, `None` when dropped without a close frame).
async fn drain(ws: &mut Ws) -> (Vec<Value>, Option<Value>, Option<u16>) {
    let mut events = Vec::new();
    let mut resync = None;
    loop {
        match next_frame(ws).await {
            Frame::Json(frame) if frame["type"] == "resync" => resync = Some(frame),
            Frame::Json(frame) => {
                assert!(resync.is_none(), "nothing after resync: {frame}");
                events.push(frame);
            }
            Frame::Closed(code) => return (events, resync, code),
            Frame::Gone => return (events, resync, None),
        }
    }
}

/// The events a cut-off client got are a gap-free prefix of the log; the last one's sequence.
fn prefix(events: &[Value], final_head: u64) -> u64 {
    let seen = sequences(events);
    let last = seen.last().copied().unwrap_or(0);
    assert_eq!(seen, (1..=last).collect::<Vec<_>>(), "in order, no gap");
    assert!(
        last < final_head,
        "L7: cut off before the end ({last} of {final_head})"
    );
    last
}

e2e!(
    l7_slow_clients_are_told_to_resync_or_closed_while_others_keep_receiving,
    |server: TestServer| async move {
        let (account, _) = me(&server, &server.owner).await;
        let inbox = web_inbox(&server, account, None).await;
        let someone = contact(&server, account).await;
        let address = tiny_buffer_listener(&server).await;
        let tiny = RealtimeSettings {
            feed_capacity: 16,
            client_buffer: 4,
            ..RealtimeSettings::default()
        };
        // A client that never reads: dropped once a write has waited a second.
        server.app.hub().configure(RealtimeSettings {
            write_timeout: Duration::from_secs(1),
            ..tiny
        });
        let mut deaf = sluggish_client(address, &server.owner).await;
        // A client that reads, very slowly: its writes may wait, it falls behind the feed.
        server.app.hub().configure(RealtimeSettings {
            write_timeout: Duration::from_secs(120),
            ..tiny
        });
        let mut slow = sluggish_client(address, &server.owner).await;
        let mut fast = connect(&server, AGENTS, &server.owner, 0).await;

        // The fast client receives every event as it commits, whatever the slow ones do.
        let mut slow_read = Vec::new();
        for i in 0..200 {
            let message = inbound(&server, &inbox, someone, &format!("message {i}"))
                .await
                .message
                .to_string();
            let frames = until(&mut fast, |f| f["event"]["message"] == message.as_str()).await;
            assert!(
                frames.iter().all(|f| f["type"] == "event"),
                "L7: the fast client is never told to resync: {frames:?}"
            );
            if i % 20 == 19 {
                slow_read.push(next_json(&mut slow).await);
            }
        }
        let final_head = head(&server, account).await;

        // The deaf client got a gap-free prefix, then was disconnected (or told to resync).
        let (events, resync, code) = drain(&mut deaf).await;
        let deaf_last = prefix(&events, final_head);
        if let Some(resync) = resync {
            assert_eq!(
                resync["after"], deaf_last,
                "resync names the last event sent"
            );
            assert_eq!(code, Some(1013));
        }

        // The slow one was told to resync after the last event it was sent.
        let (events, resync, code) = drain(&mut slow).await;
        slow_read.extend(events);
        let slow_last = prefix(&slow_read, final_head);
        let resync = resync.expect("L7: the slow client is told to resync");
        assert_eq!(
            resync["after"], slow_last,
            "resync names the last event sent"
        );
        assert_eq!(code, Some(1013), "closed with try-again-later");

        // Both resume where they were cut off (L8).
        for last in [deaf_last, slow_last] {
            let mut again = connect(&server, AGENTS, &server.owner, last).await;
            let frames = until(&mut again, |f| f["sequence"] == final_head).await;
            assert_eq!(
                sequences(&frames),
                (last + 1..=final_head).collect::<Vec<_>>()
            );
        }
    }
);

// ---------------------------------------------------------------------------------------------
// S8, A3: bad frames and bad authentication close only that socket.

e2e!(
    s8_garbage_frames_close_only_that_socket,
    |server: TestServer| async move {
        let (account, _) = me(&server, &server.owner).await;
        let inbox = web_inbox(&server, account, None).await;
        let mut healthy = connect(&server, AGENTS, &server.owner, 0).await;

        let mut ws = connect(&server, AGENTS, &server.owner, 0).await;
        ws.send(Message::Text("this is not JSON {".into()))
            .await
            .expect("sent");
        expect_close(&mut ws, 1008, "S8: not JSON").await;

        let mut ws = connect(&server, AGENTS, &server.owner, 0).await;
        ws.send(Message::Binary(vec![0, 159, 146, 150].into()))
            .await
            .expect("sent");
        expect_close(&mut ws, 1003, "S8: binary frame").await;

        let mut ws = connect(&server, AGENTS, &server.owner, 0).await;
        send(
            &mut ws,
            &json!({"type": "subscribe", "account": Uuid::new_v4()}),
        )
        .await;
        expect_close(&mut ws, 1008, "S8: unknown type").await;

        let mut ws = connect(&server, AGENTS, &server.owner, 0).await;
        send(
            &mut ws,
            &json!({"type": "typing", "conversation": Uuid::new_v4(), "on": true, "account": Uuid::new_v4()}),
        )
        .await;
        expect_close(&mut ws, 1008, "S8: unknown field").await;

        let mut ws = connect(&server, AGENTS, &server.owner, 0).await;
        send(
            &mut ws,
            &json!({"type": "auth", "token": server.owner, "after": 0}),
        )
        .await;
        expect_close(&mut ws, 1008, "S8: a second auth").await;

        let mut ws = connect(&server, AGENTS, &server.owner, 0).await;
        let _ = ws.send(Message::Text("x".repeat(64 * 1024).into())).await;
        assert!(
            matches!(next_frame(&mut ws).await, Frame::Closed(_) | Frame::Gone),
            "S8: a frame over the limit closes the socket"
        );

        // Everyone else is served.
        let z = write(
            &server,
            &inbox,
            contact(&server, account).await,
            "still there?",
        )
        .await;
        until(&mut healthy, |f| event(f, "inbound_received", z)).await;
    }
);

e2e!(
    a3_the_auth_frame_is_required_and_a_token_in_the_url_is_ignored,
    |server: TestServer| async move {
        server.app.hub().configure(RealtimeSettings {
            auth_timeout: Duration::from_millis(300),
            ..RealtimeSettings::default()
        });
        let (account, _) = me(&server, &server.owner).await;
        let inbox = web_inbox(&server, account, None).await;
        let someone = contact(&server, account).await;
        let visitor_token = visitor(&server, &inbox, someone).await;

        // No auth frame in time.
        let mut ws = open(&server, AGENTS).await;
        expect_close(&mut ws, 1008, "no auth frame").await;

        // A3: a token in the query string authenticates nothing.
        let mut ws = open(&server, &format!("{AGENTS}?token={}", server.owner)).await;
        expect_close(&mut ws, 1008, "A3: token in the URL, no auth frame").await;
        let mut ws = open(&server, &format!("{WIDGET}?token={visitor_token}")).await;
        send(
            &mut ws,
            &json!({"type": "typing", "conversation": Uuid::new_v4(), "on": true}),
        )
        .await;
        expect_close(&mut ws, 1008, "A3: token in the URL, typing first").await;

        // Wrong tokens.
        for token in [
            "not-a-token".to_owned(),
            new_token(TokenKind::AgentSession).expect("token"),
            String::new(),
        ] {
            let mut ws = open(&server, AGENTS).await;
            send(
                &mut ws,
                &json!({"type": "auth", "token": token, "after": 0}),
            )
            .await;
            expect_close(&mut ws, 1008, "a wrong token").await;
        }
        // An auth frame without a token.
        let mut ws = open(&server, AGENTS).await;
        send(&mut ws, &json!({"type": "auth"})).await;
        expect_close(&mut ws, 1008, "no token").await;

        // Each endpoint takes its own kind of token only.
        let mut ws = open(&server, AGENTS).await;
        send(&mut ws, &json!({"type": "auth", "token": visitor_token})).await;
        expect_close(&mut ws, 1008, "a visitor token on the agents' socket").await;
        let mut ws = open(&server, WIDGET).await;
        send(&mut ws, &json!({"type": "auth", "token": server.owner})).await;
        expect_close(&mut ws, 1008, "an agent token on the widget socket").await;

        // The right frame works, on both.
        connect(&server, AGENTS, &server.owner, 0).await;
        connect(&server, WIDGET, &visitor_token, 0).await;

        // Not a websocket upgrade: a problem document.
        let (status, body) = server.get(AGENTS, None).await;
        assert!(status.is_client_error(), "{status}");
        assert_eq!(body["code"], "bad_request", "{body}");

        // The protocol is in the OpenAPI description of both paths.
        let (status, doc) = server.get("/api/v1/openapi.json", None).await;
        assert_eq!(status, StatusCode::OK);
        for path in [AGENTS, WIDGET] {
            let description = doc["paths"][path]["get"]["description"]
                .as_str()
                .unwrap_or_default();
            for needle in [r#""type": "auth""#, "resync", "1008", "after"] {
                assert!(
                    description.contains(needle),
                    "{path}: {needle} in {description}"
                );
            }
        }
    }
);

// ---------------------------------------------------------------------------------------------
// S1, S5.

/// Typing and read on this conversation answer exactly as for an unknown id: `not_found`.
async fn refused(ws: &mut Ws, forbidden: ConversationId) {
    let unknown = ConversationId::from_uuid(Uuid::new_v4());
    for conversation in [forbidden, unknown] {
        send(
            ws,
            &json!({"type": "typing", "conversation": conversation, "on": true}),
        )
        .await;
        let answer = until(ws, |f| f["type"] == "error").await;
        assert_eq!(
            answer.last().expect("error"),
            &json!({"type": "error", "code": "not_found", "conversation": conversation})
        );
        send(
            ws,
            &json!({"type": "read", "conversation": conversation, "sequence": 1}),
        )
        .await;
        let answer = until(ws, |f| f["type"] == "error").await;
        assert_eq!(
            answer.last().expect("error"),
            &json!({"type": "error", "code": "not_found", "conversation": conversation})
        );
    }
}

e2e!(
    s1_s5_nothing_of_another_account_or_another_visitor_is_received,
    |server: TestServer| async move {
        let (account, _) = me(&server, &server.owner).await;
        // Another account, with its owner signed in.
        let other_email = format!("other-{}@example.test", Uuid::new_v4());
        let other = server
            .app
            .bootstrap(&other_email, Some("other-password-1"))
            .await
            .expect("bootstrap")
            .expect("a new account")
            .account;
        let other_owner = server
            .app
            .store()
            .agent_by_email(&other_email)
            .await
            .expect("read")
            .expect("the other owner")
            .id;
        let other_token =
            session(&server, other, SessionSubject::Agent { agent: other_owner }).await;

        let inbox = web_inbox(&server, account, None).await;
        let other_inbox = web_inbox(&server, other, None).await;
        let mine = contact(&server, account).await;
        let neighbour = contact(&server, account).await;
        let stranger = contact(&server, other).await;
        let mine_token = visitor(&server, &inbox, mine).await;
        let neighbour_token = visitor(&server, &inbox, neighbour).await;

        let mut owner_ws = connect(&server, AGENTS, &server.owner, 0).await;
        let mut other_ws = connect(&server, AGENTS, &other_token, 0).await;
        let mut mine_ws = connect(&server, WIDGET, &mine_token, 0).await;
        let mut neighbour_ws = connect(&server, WIDGET, &neighbour_token, 0).await;

        let theirs = write(&server, &other_inbox, stranger, "other account").await;
        let next_door = write(&server, &inbox, neighbour, "another visitor").await;
        let own = write(&server, &inbox, mine, "my own").await;

        // S5: the visitor receives their own conversation only.
        let frames = until(&mut mine_ws, |f| event(f, "inbound_received", own)).await;
        assert!(
            frames
                .iter()
                .all(|f| f["type"] != "event"
                    || about(f).as_deref() == Some(own.to_string().as_str())),
            "S5: {frames:?}"
        );
        // S1: the owner receives nothing of the other account.
        let frames = until(&mut owner_ws, |f| event(f, "inbound_received", own)).await;
        assert!(
            frames
                .iter()
                .any(|f| event(f, "inbound_received", next_door))
        );
        let theirs_id = theirs.to_string();
        assert!(
            frames
                .iter()
                .all(|f| about(f).as_deref() != Some(&theirs_id)),
            "S1: {frames:?}"
        );
        // ... and the other account nothing of this one.
        write(&server, &other_inbox, stranger, "again").await;
        let frames = until(&mut other_ws, |f| {
            event(f, "inbound_received", theirs) && f["sequence"].as_u64() > Some(2)
        })
        .await;
        assert!(
            frames
                .iter()
                .all(|f| about(f).as_deref() == Some(theirs_id.as_str())),
            "S1: {frames:?}"
        );

        // S1, S5: naming a conversation one may not see answers as for one that does not
        // exist, and signals nothing.
        refused(&mut owner_ws, theirs).await;
        refused(&mut mine_ws, next_door).await;
        refused(&mut mine_ws, theirs).await;

        // Only the visitor's own conversation takes their indicators; the neighbour's socket
        // and the other account receive none of them.
        send(
            &mut mine_ws,
            &json!({"type": "typing", "conversation": own, "on": true}),
        )
        .await;
        let frames = until(&mut owner_ws, |f| f["type"] == "typing").await;
        assert_eq!(
            frames.last().expect("typing")["conversation"],
            own.to_string()
        );
        send(
            &mut owner_ws,
            &json!({"type": "typing", "conversation": next_door, "on": true}),
        )
        .await;
        let frames = until(&mut neighbour_ws, |f| f["type"] == "typing").await;
        let next_door_id = next_door.to_string();
        assert!(
            frames
                .iter()
                .all(|f| about(f).as_deref() == Some(next_door_id.as_str())),
            "S5: {frames:?}"
        );
        // The other account's socket got no indicator: its next frame is the answer to its own
        // probe.
        let probe = ConversationId::from_uuid(Uuid::new_v4());
        send(
            &mut other_ws,
            &json!({"type": "typing", "conversation": probe, "on": true}),
        )
        .await;
        let frames = until(&mut other_ws, |f| f["type"] == "error").await;
        assert!(
            frames.iter().all(|f| f["type"] != "typing"),
            "S1: no indicator crosses accounts: {frames:?}"
        );
    }
);
