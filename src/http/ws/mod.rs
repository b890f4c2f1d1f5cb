//! Websocket sessions. One connection = one task with one `select!` loop
//! over client frames, engine output, heartbeat and shutdown. Client frames
//! are serde-tagged enums; a bad one gets an error frame, never a
//! disconnect. The [`Filler`] makes every client see each chat's messages
//! in seq order with no gap and no duplicate: it skips what it already sent
//! and fills gaps from the store (read, then wait for the group commit, so
//! nothing not yet durable is ever shown).

pub mod staff;
pub mod visitor;

use crate::domain::ChatId;
use crate::engine::frames::{visitor_message_frame, visitor_message_json, Answering, ServerFrame};
use crate::engine::{ConnRx, Out};
use crate::state::AppState;
use actix_ws::{CloseCode, CloseReason, Closed, Session};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

pub use staff::staff_socket;

/// Largest frame a client may send; a larger one (up to
/// [`MAX_READ_FRAME_BYTES`]) gets an error frame and the connection stays.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Largest frame read at all; beyond it the connection closes (1009).
pub const MAX_READ_FRAME_BYTES: usize = 256 * 1024;

/// The error frame for a frame over [`MAX_FRAME_BYTES`], or `None`.
pub fn oversize(text: &str) -> Option<String> {
    (text.len() > MAX_FRAME_BYTES).then(|| {
        ServerFrame::error(
            "frame_too_large",
            format!(
                "frames are limited to {MAX_FRAME_BYTES} bytes, this one has {}",
                text.len()
            ),
            None,
        )
        .to_string()
    })
}
/// How often the server pings (and re-checks a staff session).
pub const HEARTBEAT: Duration = Duration::from_secs(20);
/// Messages read from the store per page when filling a gap.
const FILL_PAGE: usize = 500;

/// The close reason when the desk stops.
pub fn going_away() -> CloseReason {
    CloseReason {
        code: CloseCode::Away,
        description: Some("livedesk is stopping; reconnect shortly".into()),
    }
}

/// Why a session loop stops.
pub enum Stop {
    /// The socket is gone.
    Gone,
    /// Close it with this reason.
    Close(CloseReason),
}

impl From<Closed> for Stop {
    fn from(_: Closed) -> Self {
        Stop::Gone
    }
}

/// Per-connection ordering of chat messages.
pub struct Filler {
    state: AppState,
    for_agent: bool,
    sent: HashMap<ChatId, u64>,
    /// Chats the hello listed whose `resume` has not come yet: live
    /// messages wait for it (the resume fills them from the store), so a
    /// message racing the resume cannot start the stream from seq 1.
    awaiting_resume: HashSet<ChatId>,
    /// Visitors: the seq of the last message this client could see, per
    /// chat: the next one's `prev_seq`.
    visible: HashMap<ChatId, u64>,
}

impl Filler {
    /// For an agent (bodies masked when configured) or a visitor (whispers skipped).
    pub fn new(state: AppState, for_agent: bool) -> Self {
        Self {
            state,
            for_agent,
            sent: HashMap::new(),
            awaiting_resume: HashSet::new(),
            visible: HashMap::new(),
        }
    }

    /// The client has seen `chat` up to `last_seq`; sends what follows.
    pub async fn resume(
        &mut self,
        ws: &mut Session,
        chat: ChatId,
        last_seq: u64,
    ) -> Result<(), Stop> {
        self.awaiting_resume.remove(&chat);
        self.sent.insert(chat, last_seq);
        self.visible.insert(chat, last_seq);
        Box::pin(self.fill(ws, chat)).await
    }

    /// Writes one item of engine output.
    pub async fn forward(&mut self, ws: &mut Session, out: Out) -> Result<(), Stop> {
        match out {
            Out::Frame(json) => ws.text(json.to_string()).await?,
            Out::Message(m) if self.awaiting_resume.contains(&m.chat_id) => {}
            Out::Message(m) => {
                let (chat_id, seq) = (m.chat_id, m.seq);
                let sent = *self.sent.entry(chat_id).or_insert(0);
                if seq <= sent {
                    return Ok(());
                }
                if seq > sent + 1 {
                    Box::pin(self.fill(ws, chat_id)).await?;
                    if seq <= self.sent.get(&chat_id).copied().unwrap_or(0) {
                        return Ok(());
                    }
                }
                if self.for_agent {
                    ws.text(m.json.to_string()).await?;
                } else {
                    let prev = self.visible.insert(chat_id, seq).unwrap_or(0);
                    ws.text(visitor_message_frame(&m.json, prev)).await?;
                }
                self.sent.insert(chat_id, seq);
            }
            Out::Hello(hello) => {
                ws.text(hello.json.to_string()).await?;
                self.awaiting_resume.extend(hello.chats.iter().copied());
            }
            Out::Joined(joined) => {
                let chat_id = joined.chat_id;
                self.awaiting_resume.remove(&chat_id);
                ws.text(joined.json.to_string()).await?;
                self.sent.entry(chat_id).or_insert(0);
                Box::pin(self.fill(ws, chat_id)).await?;
            }
            Out::Close(code, reason) => {
                return Err(Stop::Close(CloseReason {
                    code: CloseCode::Other(code),
                    description: Some(reason.into()),
                }))
            }
        }
        Ok(())
    }

    /// Writes the filled ephemeral slots (typing, queue places, queue
    /// views). Frames already queued were made before them, so those go
    /// first: an older queue view never lands after a newer one.
    pub async fn write_latest(&mut self, ws: &mut Session, out: &mut ConnRx) -> Result<(), Stop> {
        while let Ok(o) = out.rx.try_recv() {
            self.forward(ws, o).await?;
        }
        for frame in out.latest.take() {
            ws.text(frame.to_string()).await?;
        }
        Ok(())
    }

    /// Sends every stored message of `chat` after what was sent. Callers
    /// box it: it is rare and its future is large, and a session task is
    /// allocated for its largest await (10,000 visitor sessions).
    async fn fill(&mut self, ws: &mut Session, chat: ChatId) -> Result<(), Stop> {
        loop {
            let after = self.sent.get(&chat).copied().unwrap_or(0);
            let page = match self
                .state
                .read(move |s| s.messages_after(chat, after, FILL_PAGE))
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    let frame = ServerFrame::error(e.code(), e.to_string(), None);
                    ws.text(frame.to_string()).await?;
                    return Ok(());
                }
            };
            // What was read is durable once this returns: never show more.
            if let Err(e) = self.state.store.durable().await {
                let frame = ServerFrame::error("store_unavailable", e.to_string(), None);
                ws.text(frame.to_string()).await?;
                return Ok(());
            }
            let full = page.len() == FILL_PAGE;
            let view = self.state.config.chat.staff_view();
            for message in page {
                let seq = message.seq;
                let visible = self.for_agent || message.kind.visible_to_visitor();
                if visible && self.for_agent {
                    let message = view.message(message);
                    ws.text(ServerFrame::Message { message }.json().to_string())
                        .await?;
                } else if visible {
                    let prev = self.visible.insert(chat, seq).unwrap_or(0);
                    let json = visitor_message_json(&message);
                    ws.text(visitor_message_frame(&json, prev)).await?;
                }
                self.sent.insert(chat, seq);
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// Handles what a client sent, except text: pings, binary frames, close
/// and protocol errors. Returns the text to act on, if any.
pub async fn incoming(
    ws: &mut Session,
    msg: Option<Result<actix_ws::Message, actix_ws::ProtocolError>>,
) -> Result<Option<String>, Stop> {
    use actix_ws::Message;
    match msg {
        Some(Ok(Message::Text(text))) => Ok(Some(text.to_string())),
        Some(Ok(Message::Binary(_))) => {
            let e = ServerFrame::error("bad_frame", "frames are JSON text", None);
            ws.text(e.to_string()).await?;
            Ok(None)
        }
        Some(Ok(Message::Ping(bytes))) => {
            ws.pong(&bytes).await?;
            Ok(None)
        }
        Some(Ok(Message::Close(_))) | None => Err(Stop::Gone),
        Some(Err(e)) => Err(Stop::Close(CloseReason {
            code: CloseCode::Size,
            description: Some(format!("bad frame: {e}")),
        })),
        Some(Ok(_)) => Ok(None),
    }
}

/// Answers a `message` request that was refused before reaching the engine.
pub async fn refuse_message(
    ws: &mut Session,
    chat_id: ChatId,
    client_id: String,
    e: crate::error::AppError,
) -> Result<(), Stop> {
    let frame = ServerFrame::refusal(
        Answering::message(Some(chat_id), client_id),
        e.code(),
        e.to_string(),
    );
    ws.text(frame.to_string()).await.map_err(Stop::from)
}

/// The close for a connection the engine gave up on.
pub fn too_slow() -> Stop {
    Stop::Close(CloseReason {
        code: CloseCode::Other(4000),
        description: Some("too slow; reconnect and resume from your last seq".into()),
    })
}

/// An error frame for a client frame that could not be read: it names the
/// request, chat and client id the frame gave, where it gave them.
pub fn bad_frame(e: &serde_json::Error, text: &str) -> String {
    ServerFrame::refusal(
        Answering::guess(text),
        "bad_frame",
        format!("this frame could not be read: {e}; see docs/protocol.md"),
    )
    .to_string()
}

#[cfg(test)]
mod tests;
