#![doc = include_str!("realtime.md")]
//!
//! **How a connection runs.** The handler upgrades and waits for the `auth` frame; then a pump
//! task pulls the caller's [`Subscription`] (log catch-up, then the hub's feed) into the
//! connection's bounded send buffer, waiting while it is full: catching up from the log is
//! paced by the client. While the client is live, waiting means it stops taking events from the
//! account's feed, a bounded broadcast channel that overwrites for it and never waits for it;
//! once more than the feed holds went by, the subscription reports [`Delivery::Lagged`], the
//! queued frames are dropped and the client is told to resync (L7). So a slow client costs no
//! memory beyond its buffer and never holds back anyone else. The socket task writes the
//! buffered frames, each within the write timeout (a client that stopped reading is dropped),
//! reads the client's frames (typing and read go to the pump, which checks them against the
//! same visibility), and checks the token again from time to time (S9). Limits come from
//! [`inbox_app::hub::RealtimeSettings`].

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::{IntoResponse, Response};
use conversation_core::DomainError;
use conversation_core::ids::ConversationId;
use inbox_app::hub::RealtimeSettings;
use inbox_app::realtime::{Delivery, Subscription};
use inbox_app::{App, AppError, Caller};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// The largest frame a client may send (S8).
pub const MAX_CLIENT_FRAME: usize = 16 * 1024;

/// B3: the read buffer of a socket (it grows up to [`MAX_CLIENT_FRAME`] when a frame needs it).
const SOCKET_READ_BUFFER: usize = 4 * 1024;

/// B3: frames are written as they come (each is flushed anyway), so no write buffer is kept.
const SOCKET_WRITE_BUFFER: usize = 0;

/// L7: the most a socket's write buffer may hold while writes fail, before the socket errors.
const SOCKET_MAX_WRITE_BUFFER: usize = 1024 * 1024;

/// How many typing and read frames wait for the pump; more are dropped (they are ephemeral).
const COMMAND_BUFFER: usize = 16;

/// Fields of an event a visitor's copy leaves out: routing details of the account.
const INTERNAL_FIELDS: [&str; 5] = ["account", "queue", "bot_flow", "wrap_up", "released"];

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(agents_socket))
        .routes(routes!(widget_socket))
}

/// N1: agents' realtime events over a websocket.
///
/// Authenticate with an agent's session token in the first frame (never in the URL, A3); see
/// the module documentation (and this path's OpenAPI description) for the whole protocol.
#[utoipa::path(get, path = "/api/v1/ws", tag = "realtime", description = include_str!("realtime.md"), responses(
    (status = 101, description = "Switching to the websocket protocol; the first frame must be `auth`."),
    (status = 400, description = "Not a websocket upgrade request.", body = crate::error::Problem),
))]
async fn agents_socket(
    State(state): State<AppState>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    upgrade_to(state.app, upgrade, Endpoint::Agents)
}

/// W6: a widget visitor's realtime events over a websocket.
///
/// Authenticate with the visitor's token in the first frame (never in the URL, A3); see the
/// module documentation (and this path's OpenAPI description) for the whole protocol.
#[utoipa::path(get, path = "/api/v1/widget/ws", tag = "realtime", description = include_str!("realtime.md"), responses(
    (status = 101, description = "Switching to the websocket protocol; the first frame must be `auth`."),
    (status = 400, description = "Not a websocket upgrade request.", body = crate::error::Problem),
))]
async fn widget_socket(
    State(state): State<AppState>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    upgrade_to(state.app, upgrade, Endpoint::Widget)
}

/// Which path a socket came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    /// `/api/v1/ws`: agents.
    Agents,
    /// `/api/v1/widget/ws`: widget visitors.
    Widget,
}

impl Endpoint {
    const fn admits(self, caller: &Caller) -> bool {
        matches!(
            (self, caller),
            (Self::Agents, Caller::Agent { .. }) | (Self::Widget, Caller::Visitor { .. })
        )
    }
}

/// A frame from the client. The token never appears in logs: this type has no `Debug`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ClientFrame {
    /// The first frame.
    Auth {
        token: String,
        #[serde(default)]
        after: u64,
    },
    /// W6: typing started or stopped.
    Typing {
        conversation: Uuid,
        on: bool,
        #[serde(default)]
        private: bool,
    },
    /// W6: read up to a message sequence.
    Read { conversation: Uuid, sequence: u64 },
}

/// A typing or read frame, for the pump.
#[derive(Clone, Copy, Debug)]
enum Command {
    Typing {
        conversation: ConversationId,
        on: bool,
        private: bool,
    },
    Read {
        conversation: ConversationId,
        sequence: u64,
    },
}

/// A frame waiting to be written.
#[derive(Debug)]
struct Out {
    text: String,
    /// The event's sequence, for event frames.
    sequence: Option<u64>,
}

/// Why the pump stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// L7: the client fell behind the live events.
    Behind,
    /// The log could not be read.
    Failed,
}

fn upgrade_to(
    app: App,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    endpoint: Endpoint,
) -> Response {
    match upgrade {
        Err(rejection) => ApiError::new(
            rejection.status(),
            "bad_request",
            "connect with a websocket upgrade request",
        )
        .into_response(),
        Ok(upgrade) => upgrade
            .max_message_size(MAX_CLIENT_FRAME)
            .max_frame_size(MAX_CLIENT_FRAME)
            // B3: tungstenite allocates its read buffer whole for every socket (128 KiB by
            // default); clients send small frames, so a small buffer that grows when needed
            // keeps an idle socket at a few KiB.
            .read_buffer_size(SOCKET_READ_BUFFER)
            .write_buffer_size(SOCKET_WRITE_BUFFER)
            .max_write_buffer_size(SOCKET_MAX_WRITE_BUFFER)
            .on_upgrade(move |socket| connection(app, socket, endpoint)),
    }
}

/// Sends a close frame (within the timeout) and lets the socket drop.
async fn close(mut socket: WebSocket, code: u16, reason: &'static str, timeout: Duration) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    let _ = tokio::time::timeout(timeout, socket.send(frame)).await;
}

/// Writes one frame; `false` when the socket is gone or the write took too long (L7).
async fn write(socket: &mut WebSocket, text: String, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, socket.send(Message::Text(text.into()))).await,
        Ok(Ok(()))
    )
}

/// Waits for the `auth` frame: the token and the sequence to resume after, or the close to send
/// (`None`: the client went away).
async fn auth_frame(
    socket: &mut WebSocket,
    timeout: Duration,
) -> Result<(String, u64), Option<(u16, &'static str)>> {
    let deadline = Instant::now() + timeout;
    loop {
        let frame = match tokio::time::timeout_at(deadline, socket.recv()).await {
            Err(_) => return Err(Some((close_code::POLICY, "authenticate first"))),
            Ok(None | Some(Err(_))) => return Err(None),
            Ok(Some(Ok(frame))) => frame,
        };
        match frame {
            Message::Text(text) => {
                return match serde_json::from_str::<ClientFrame>(text.as_str()) {
                    Ok(ClientFrame::Auth { token, after }) => Ok((token, after)),
                    _ => Err(Some((
                        close_code::POLICY,
                        "the first frame must be {\"type\":\"auth\",...}",
                    ))),
                };
            }
            Message::Binary(_) => {
                return Err(Some((
                    close_code::UNSUPPORTED,
                    "binary frames are not supported",
                )));
            }
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Close(_) => return Err(None),
        }
    }
}

/// One socket, from the upgrade to the close.
async fn connection(app: App, mut socket: WebSocket, endpoint: Endpoint) {
    let settings = app.hub().settings();
    let (token, after) = match auth_frame(&mut socket, settings.auth_timeout).await {
        Ok(auth) => auth,
        Err(Some((code, reason))) => {
            return close(socket, code, reason, settings.write_timeout).await;
        }
        Err(None) => return,
    };
    let caller = match app.authenticate(&token).await {
        Ok(caller) if endpoint.admits(&caller) => caller,
        Ok(_) | Err(AppError::Unauthenticated) => {
            return close(
                socket,
                close_code::POLICY,
                "unauthenticated",
                settings.write_timeout,
            )
            .await;
        }
        Err(error) => {
            tracing::warn!(error = %error, "realtime authentication failed");
            return close(
                socket,
                close_code::ERROR,
                "try again later",
                settings.write_timeout,
            )
            .await;
        }
    };
    let subscription = match app.subscribe(&caller, after) {
        Ok(subscription) => subscription,
        Err(_) => {
            return close(
                socket,
                close_code::POLICY,
                "unauthenticated",
                settings.write_timeout,
            )
            .await;
        }
    };
    let ready = json!({"type": "ready", "after": after}).to_string();
    if !write(&mut socket, ready, settings.write_timeout).await {
        return;
    }
    let session = Session {
        app,
        token,
        caller,
        settings,
        last_sent: after,
    };
    session.run(socket, subscription, endpoint).await;
}

/// An authenticated socket.
struct Session {
    app: App,
    token: String,
    caller: Caller,
    settings: RealtimeSettings,
    /// The sequence of the last event frame written.
    last_sent: u64,
}

/// Aborts the pump when the socket task ends, whatever the way.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Session {
    async fn run(mut self, mut socket: WebSocket, subscription: Subscription, endpoint: Endpoint) {
        let (out_tx, mut out_rx) = mpsc::channel::<Out>(self.settings.client_buffer.max(1));
        let (command_tx, command_rx) = mpsc::channel::<Command>(COMMAND_BUFFER);
        let (end_tx, mut end_rx) = oneshot::channel::<End>();
        let _pump = AbortOnDrop(tokio::spawn(pump(
            subscription,
            endpoint,
            out_tx,
            command_rx,
            end_tx,
        )));
        let period = self.settings.reauth_interval;
        let mut reauth = tokio::time::interval_at(Instant::now() + period, period);
        loop {
            // L7: once the pump gave up, what is still queued is not written.
            match end_rx.try_recv() {
                Ok(end) => return self.finish(socket, end).await,
                Err(oneshot::error::TryRecvError::Closed) => {
                    return self.finish(socket, End::Failed).await;
                }
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            tokio::select! {
                out = out_rx.recv() => {
                    let Some(out) = out else {
                        let end = end_rx.try_recv().unwrap_or(End::Failed);
                        return self.finish(socket, end).await;
                    };
                    if !write(&mut socket, out.text, self.settings.write_timeout).await {
                        return;
                    }
                    if let Some(sequence) = out.sequence {
                        self.last_sent = sequence;
                    }
                }
                frame = socket.recv() => {
                    let text = match frame {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Binary(_))) => {
                            return close(
                                socket,
                                close_code::UNSUPPORTED,
                                "binary frames are not supported",
                                self.settings.write_timeout,
                            )
                            .await;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    };
                    let command = match serde_json::from_str::<ClientFrame>(text.as_str()) {
                        Ok(ClientFrame::Typing { conversation, on, private }) => Command::Typing {
                            conversation: ConversationId::from_uuid(conversation),
                            on,
                            private,
                        },
                        Ok(ClientFrame::Read { conversation, sequence }) => Command::Read {
                            conversation: ConversationId::from_uuid(conversation),
                            sequence,
                        },
                        Ok(ClientFrame::Auth { .. }) | Err(_) => {
                            return close(
                                socket,
                                close_code::POLICY,
                                "unknown frame: send typing or read",
                                self.settings.write_timeout,
                            )
                            .await;
                        }
                    };
                    // A full command buffer drops the indicator: it is ephemeral.
                    let _ = command_tx.try_send(command);
                }
                _ = reauth.tick() => match self.app.authenticate(&self.token).await {
                    Ok(caller) if caller == self.caller => {}
                    Ok(_) | Err(AppError::Unauthenticated) => {
                        // S9: revoked, expired, or the agent's rights changed: sign in again.
                        return close(
                            socket,
                            close_code::POLICY,
                            "unauthenticated",
                            self.settings.write_timeout,
                        )
                        .await;
                    }
                    // The database is away: keep serving, check again at the next tick.
                    Err(_) => {}
                },
            }
        }
    }

    async fn finish(self, mut socket: WebSocket, end: End) {
        match end {
            End::Behind => {
                let resync = json!({"type": "resync", "after": self.last_sent}).to_string();
                if write(&mut socket, resync, self.settings.write_timeout).await {
                    close(
                        socket,
                        close_code::AGAIN,
                        "resync",
                        self.settings.write_timeout,
                    )
                    .await;
                }
            }
            End::Failed => {
                close(
                    socket,
                    close_code::ERROR,
                    "try again later",
                    self.settings.write_timeout,
                )
                .await;
            }
        }
    }
}

/// What the pump got: something to send, or nothing.
enum Pumped {
    Frame(Out),
    Nothing,
    Stop(Option<End>),
}

/// Pulls the subscription and runs the client's typing and read frames; pushes frames into the
/// connection's buffer, waiting while it is full (see the module doc, L7).
async fn pump(
    mut subscription: Subscription,
    endpoint: Endpoint,
    out: mpsc::Sender<Out>,
    mut commands: mpsc::Receiver<Command>,
    end: oneshot::Sender<End>,
) {
    loop {
        let next = tokio::select! {
            delivery = subscription.next() => Ok(delivery),
            command = commands.recv() => Err(command),
        };
        let pumped = match next {
            Ok(Ok(Delivery::Lagged)) => Pumped::Stop(Some(End::Behind)),
            Ok(Ok(delivery)) => Pumped::Frame(frame_of(&delivery, endpoint)),
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "realtime stream failed");
                Pumped::Stop(Some(End::Failed))
            }
            Err(None) => Pumped::Stop(None),
            Err(Some(command)) => run_command(&mut subscription, command).await,
        };
        let frame = match pumped {
            Pumped::Frame(frame) => frame,
            Pumped::Nothing => continue,
            Pumped::Stop(reason) => {
                if let Some(reason) = reason {
                    let _ = end.send(reason);
                }
                return;
            }
        };
        if out.send(frame).await.is_err() {
            return;
        }
    }
}

async fn run_command(subscription: &mut Subscription, command: Command) -> Pumped {
    let (conversation, result) = match command {
        Command::Typing {
            conversation,
            on,
            private,
        } => (
            conversation,
            subscription.typing(conversation, on, private).await,
        ),
        Command::Read {
            conversation,
            sequence,
        } => (
            conversation,
            subscription.read(conversation, sequence).await,
        ),
    };
    let code = match result {
        Ok(()) => return Pumped::Nothing,
        Err(AppError::Domain(DomainError::NotFound)) => "not_found",
        Err(AppError::RateLimited { .. }) => "rate_limited",
        Err(error) => {
            tracing::warn!(error = %error, "realtime indicator failed");
            "unavailable"
        }
    };
    Pumped::Frame(Out {
        text: json!({"type": "error", "code": code, "conversation": conversation.as_uuid()})
            .to_string(),
        sequence: None,
    })
}

/// The frame of a delivery, as the endpoint's caller sees it.
fn frame_of(delivery: &Delivery, endpoint: Endpoint) -> Out {
    match delivery {
        Delivery::Event(stored) => {
            let mut event = serde_json::to_value(&stored.event).unwrap_or(Value::Null);
            if endpoint == Endpoint::Widget {
                if let Some(fields) = event.as_object_mut() {
                    for field in INTERNAL_FIELDS {
                        fields.remove(field);
                    }
                }
            }
            Out {
                text: json!({"type": "event", "sequence": stored.sequence, "event": event})
                    .to_string(),
                sequence: Some(stored.sequence),
            }
        }
        Delivery::Signal(signal) => Out {
            text: serde_json::to_string(signal.as_ref()).unwrap_or_default(),
            sequence: None,
        },
        Delivery::Lagged => Out {
            text: json!({"type": "resync"}).to_string(),
            sequence: None,
        },
    }
}
