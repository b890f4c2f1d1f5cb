//! `GET /api/ws/visitor`: the visitor's live connection to their one chat.
//! The chat token grants access; a browser page must also be of the desk
//! or of `[widget] allowed_origins` (its Origin is checked). The token travels in the first
//! frame, `{"type":"hello","token":…,"last_seq":N}`, never in the URL,
//! where proxies and access logs would keep it. Whispers and staff-only
//! events never reach this connection.

use super::{
    bad_frame, going_away, incoming, oversize, refuse_message, too_slow, Filler, Stop, HEARTBEAT,
    MAX_READ_FRAME_BYTES,
};
use crate::domain::chat::ChatState;
use crate::domain::ChatId;
use crate::engine::frames::{ServerFrame, VisitorEndedBy};
use crate::engine::{check_body, Command, Conn};
use crate::error::AppError;
use crate::http::extract::client_addr;
use crate::service::auth::token_hash;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Session};
use serde::Deserialize;
use std::time::Duration;

/// How long a new visitor connection has to send its `hello`.
pub const HELLO_WAIT: Duration = Duration::from_secs(10);

/// Frames other than messages (typing, end, unreadable ones) a visitor
/// connection may send per second, on average; a widget sends a typing
/// frame every few hundred ms at most. Messages have their own limit,
/// `chat.visitor_messages_per_minute`.
pub const FRAMES_PER_SEC: f64 = 20.0;
/// Frames a visitor connection may send at once before the rate counts.
pub const FRAME_BURST: f64 = 40.0;
/// Frames dropped without a pause after which the connection is closed.
pub const DROPPED_BEFORE_CLOSE: u32 = 400;

/// A visitor connection's allowance of frames other than messages: a
/// token bucket. Frames over it
/// are dropped (typing from a flood never reaches an agent); the first of
/// each second gets a `rate_limited` error frame, and a visitor who keeps
/// on is disconnected.
struct FrameBudget {
    tokens: f64,
    at: std::time::Instant,
    dropped: u32,
    told_at: Option<std::time::Instant>,
}

/// What to do with one frame.
enum Budget {
    Take,
    /// Drop it; tell the client when `true`.
    Drop(bool),
    Close,
}

impl FrameBudget {
    fn new() -> Self {
        Self {
            tokens: FRAME_BURST,
            at: std::time::Instant::now(),
            dropped: 0,
            told_at: None,
        }
    }

    fn charge(&mut self) -> Budget {
        let now = std::time::Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * FRAMES_PER_SEC;
        self.tokens = (self.tokens + refill).min(FRAME_BURST);
        self.at = now;
        if self.tokens >= FRAME_BURST {
            self.dropped = 0; // a full bucket is a pause
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Budget::Take;
        }
        self.dropped += 1;
        if self.dropped >= DROPPED_BEFORE_CLOSE {
            return Budget::Close;
        }
        let tell = self
            .told_at
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
        if tell {
            self.told_at = Some(now);
        }
        Budget::Drop(tell)
    }
}

/// The first frame a visitor sends: which chat, and what the client has.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum VisitorHello {
    /// Opens the chat the token belongs to.
    Hello {
        /// The chat token from starting the chat.
        token: String,
        /// The last seq the client has (0 or absent: none).
        #[serde(default)]
        last_seq: u64,
    },
}

/// Frames a visitor sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum VisitorFrame {
    /// A message.
    Message {
        /// The client's id for it; a resend with the same id is a no-op.
        client_id: String,
        /// The text.
        body: String,
    },
    /// The draft while typing (agents see it), or null when stopped.
    Typing {
        /// The draft.
        #[serde(default)]
        text: Option<String>,
    },
    /// End the chat.
    End {},
}

/// The visitor's live connection.
pub async fn visitor_socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    if req
        .query_string()
        .split('&')
        .any(|pair| pair.starts_with("token="))
    {
        return Err(AppError::BadRequest {
            code: "token_in_url",
            message: "send the chat token in the socket's first frame, \
                      {\"type\":\"hello\",\"token\":…,\"last_seq\":N}, not in the URL, \
                      where logs keep it"
                .into(),
        });
    }
    // A page on another site may not hold a chat open (browsers always
    // send Origin on websockets; other clients send none).
    if let Some(origin) = req.headers().get(actix_web::http::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default().to_string();
        if !crate::http::middleware::widget_origin_allowed(&req).await {
            return Err(AppError::OriginNotAllowed(origin));
        }
    }
    let (response, session, stream) =
        actix_ws::handle(&req, body).map_err(|e| AppError::BadRequest {
            code: "websocket_expected",
            message: format!("this endpoint speaks websocket only: {e}"),
        })?;
    let stream = stream.max_frame_size(MAX_READ_FRAME_BYTES);
    let state = state.into_inner().as_ref().clone();
    let addr = client_addr(&req);
    actix_web::rt::spawn(run(state, addr, session, stream));
    Ok(response)
}

/// Waits for the visitor's `hello` and finds its chat. A frame that is not
/// a hello gets an error frame and the wait goes on; an unknown token, no
/// hello within [`HELLO_WAIT`] or the desk stopping closes the socket.
/// Boxed by the caller: it runs once.
async fn await_hello(
    state: &AppState,
    ws: &mut Session,
    stream: &mut actix_ws::MessageStream,
) -> Result<(ChatId, u64), Stop> {
    let deadline = tokio::time::sleep(HELLO_WAIT);
    tokio::pin!(deadline);
    let mut shutdown = state.shutdown.clone();
    loop {
        if *shutdown.borrow() {
            return Err(Stop::Close(going_away()));
        }
        let msg = tokio::select! {
            msg = stream.recv() => msg,
            _ = &mut deadline => return Err(policy(format!(
                "no hello within {} s: send {{\"type\":\"hello\",\"token\":…}} first",
                HELLO_WAIT.as_secs()
            ))),
            _ = shutdown.changed() => return Err(Stop::Close(going_away())),
        };
        let Some(text) = incoming(ws, msg).await? else {
            continue;
        };
        if let Some(e) = oversize(&text) {
            ws.text(e).await?;
            continue;
        }
        let (token, last_seq) = match serde_json::from_str(&text) {
            Ok(VisitorHello::Hello { token, last_seq }) => (token, last_seq),
            Err(e) => {
                let e = ServerFrame::error(
                    "hello_expected",
                    format!(
                        "the first frame is {{\"type\":\"hello\",\"token\":…,\"last_seq\":N}}: {e}"
                    ),
                    None,
                );
                ws.text(e.to_string()).await?;
                continue;
            }
        };
        let hash = token_hash(&token);
        let (code, message) = match state.read(move |s| s.chat_id_by_token(&hash)).await {
            Ok(Some(chat_id)) => return Ok((chat_id, last_seq)),
            Ok(None) => (
                "chat_not_found",
                "no chat has this token; start a new chat".to_string(),
            ),
            Err(e) => (e.code(), e.to_string()),
        };
        ws.text(ServerFrame::error(code, message, None).to_string())
            .await?;
        return Err(policy(code.to_string()));
    }
}

/// The error frame for frames over the budget.
fn flooding() -> String {
    ServerFrame::error(
        "rate_limited",
        format!(
            "too many frames: a visitor connection may send {FRAMES_PER_SEC} a second \
             ({FRAME_BURST} at once); frames over it are dropped, and after \
             {DROPPED_BEFORE_CLOSE} dropped the connection closes"
        ),
        None,
    )
    .to_string()
}

fn policy(description: String) -> Stop {
    Stop::Close(CloseReason {
        code: CloseCode::Policy,
        description: Some(description),
    })
}

async fn run(state: AppState, addr: String, mut ws: Session, mut stream: actix_ws::MessageStream) {
    let (chat_id, last_seq) = match Box::pin(await_hello(&state, &mut ws, &mut stream)).await {
        Ok(found) => found,
        Err(stop) => {
            if let Stop::Close(reason) = stop {
                let _ = ws.close(Some(reason)).await;
            }
            return;
        }
    };
    let (conn, mut out) = Conn::new(None);
    let conn_id = conn.id;
    let mut filler = Filler::new(state.clone(), false);
    let start = Box::pin(greet(
        &state,
        chat_id,
        last_seq,
        &conn,
        &mut ws,
        &mut filler,
    ))
    .await;
    let mut shutdown = state.shutdown.clone();
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.tick().await;
    let mut budget = FrameBudget::new();
    let stop = match start {
        Err(stop) => stop,
        Ok(()) => loop {
            if *shutdown.borrow() {
                break Stop::Close(going_away());
            }
            let step = tokio::select! {
                msg = stream.recv() => match incoming(&mut ws, msg).await {
                    Ok(Some(text)) => Box::pin(handle(&state, chat_id, &addr, &conn, &mut ws, &mut budget, &text)).await,
                    Ok(None) => Ok(()),
                    Err(stop) => Err(stop),
                },
                item = out.rx.recv() => match item {
                    Some(o) => filler.forward(&mut ws, o).await,
                    None => Err(Stop::Gone),
                },
                _ = out.latest.ready.notified() => filler.write_latest(&mut ws, &mut out).await,
                _ = out.kick.notified() => Err(too_slow()),
                _ = shutdown.changed() => Err(Stop::Close(going_away())),
                _ = beat.tick() => ws.ping(b"").await.map_err(Stop::from),
            };
            if let Err(stop) = step {
                break stop;
            }
        },
    };
    Box::pin(async move {
        state
            .engine
            .send(Command::DetachVisitor(chat_id, conn_id))
            .await;
        if let Stop::Close(reason) = stop {
            let _ = ws.close(Some(reason)).await;
        }
    })
    .await;
}

/// Attaches the connection and sends the hello and what the visitor
/// missed. Boxed by the caller: a session task is allocated for its
/// largest await, and this one runs once.
async fn greet(
    state: &AppState,
    chat_id: ChatId,
    last_seq: u64,
    conn: &Conn,
    ws: &mut Session,
    filler: &mut Filler,
) -> Result<(), Stop> {
    let attached = state
        .engine
        .ask(|reply| Command::AttachVisitor(chat_id, conn.clone(), reply))
        .await;
    match attached {
        Ok(chat) => {
            // The last seq this visitor can see, so a client checks the
            // replay's `prev_seq` chain against it.
            let newest_visible = match state.read(move |s| s.last_visible_seq(chat_id)).await {
                Ok(seq) => seq,
                Err(e) => {
                    return Err(Stop::Close(CloseReason {
                        code: CloseCode::Error,
                        description: Some(e.to_string()),
                    }))
                }
            };
            let hello = ServerFrame::VisitorHello {
                chat_id,
                state: chat.state,
                last_seq: newest_visible,
            }
            .json();
            let mut r = ws.text(hello.to_string()).await.map_err(Stop::from);
            if r.is_ok() {
                r = filler.resume(ws, chat_id, last_seq).await;
            }
            if r.is_ok() && chat.state == ChatState::Ended {
                if let Some(by) = chat.ended_by {
                    let name = match by {
                        crate::domain::chat::EndedBy::Agent { staff } => state
                            .read(move |s| s.staff(staff))
                            .await
                            .ok()
                            .flatten()
                            .map(|r| r.staff.display_name),
                        _ => None,
                    };
                    let ended = ServerFrame::VisitorChatEnded {
                        chat_id,
                        ended_by: VisitorEndedBy::new(by, |_| name),
                    }
                    .json();
                    r = ws.text(ended.to_string()).await.map_err(Stop::from);
                }
            }
            r
        }
        Err(e) => Err(Stop::Close(CloseReason {
            code: CloseCode::Policy,
            description: Some(e.to_string()),
        })),
    }
}

async fn handle(
    state: &AppState,
    chat_id: ChatId,
    addr: &str,
    conn: &Conn,
    ws: &mut Session,
    budget: &mut FrameBudget,
    text: &str,
) -> Result<(), Stop> {
    // Messages have their own (configurable) limit; every other frame,
    // unreadable ones included, is charged to the frame budget.
    let frame = match oversize(text) {
        Some(e) => Err(e),
        None => serde_json::from_str::<VisitorFrame>(text).map_err(|e| bad_frame(&e, text)),
    };
    if !matches!(frame, Ok(VisitorFrame::Message { .. })) {
        match budget.charge() {
            Budget::Take => {}
            Budget::Drop(false) => return Ok(()),
            Budget::Drop(true) => return ws.text(flooding()).await.map_err(Stop::from),
            Budget::Close => {
                return Err(policy(format!(
                    "more than {DROPPED_BEFORE_CLOSE} frames over the limit of {FRAMES_PER_SEC} a second; reconnect and send less"
                )))
            }
        }
    }
    let frame = match frame {
        Ok(f) => f,
        Err(e) => return ws.text(e).await.map_err(Stop::from),
    };
    let max = state.config.chat.max_message_chars;
    match frame {
        VisitorFrame::Message { client_id, body } => {
            let limited = state
                .visitor_limits
                .message(&chat_id.to_string(), addr, state.now())
                .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs });
            let checked = limited
                .and_then(|_| crate::domain::chat::client_id(&client_id).map_err(AppError::from))
                .and_then(|_| check_body(&body, max));
            match checked {
                Ok(body) => {
                    state
                        .engine
                        .send(Command::VisitorMessage {
                            chat: chat_id,
                            conn: conn.clone(),
                            client_id,
                            body,
                        })
                        .await;
                    Ok(())
                }
                Err(e) => refuse_message(ws, chat_id, client_id, e).await,
            }
        }
        VisitorFrame::Typing { text } => {
            let text = text.map(|t| t.chars().take(max).collect());
            state
                .engine
                .send(Command::VisitorTyping(chat_id, text))
                .await;
            Ok(())
        }
        VisitorFrame::End {} => {
            state.engine.send(Command::VisitorEnd(chat_id)).await;
            Ok(())
        }
    }
}
