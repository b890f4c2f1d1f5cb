//! A connection as the engine sees it: a bounded outbound queue and a kick.
//! The engine never awaits a socket: it `try_send`s; a client whose queue is
//! full is kicked (its session closes, the client reconnects and resumes
//! from its last seq), so one slow client never stalls the desk.

use crate::domain::ChatId;
use crate::store::TokenHash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Notify};

/// Frames queued per connection before it counts as too slow.
pub const OUTBOUND_CAPACITY: usize = 512;

/// Identifies a connection within this process.
pub type ConnId = u64;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// What goes out to a connection. JSON is serialized once per fan-out, and
/// whatever is larger than a frame's pointer is shared behind one, so an
/// item is 24 bytes: every connection's queue holds its first 32 slots from
/// the start, so this is memory per connection (48 → 24 bytes a slot was
/// 7.5 MiB at 10,000 visitors).
#[derive(Clone, Debug)]
pub enum Out {
    /// Any frame.
    Frame(Arc<str>),
    /// A chat message with its seq: the session skips what it already sent
    /// and fills gaps from the store.
    Message(Arc<ChatFrame>),
    /// This connection's staff member joined a chat: send the frame, then
    /// the chat's messages up to `seq` (its newest durable seq) from the store.
    Joined(Arc<ChatFrame>),
    /// The staff hello: send the frame; the chats it lists get messages only
    /// after the client's `resume` says what it has.
    Hello(Arc<HelloFrame>),
    /// Close with a websocket close code and reason.
    Close(u16, &'static str),
}

/// A frame about one chat at one seq.
#[derive(Debug)]
pub struct ChatFrame {
    /// The chat.
    pub chat_id: ChatId,
    /// The message's seq, or for a join the chat's newest durable seq.
    pub seq: u64,
    /// The serialized frame.
    pub json: Arc<str>,
}

/// The staff hello and the chats it lists.
#[derive(Debug)]
pub struct HelloFrame {
    /// The chats the agent is in.
    pub chats: Vec<ChatId>,
    /// The serialized frame.
    pub json: Arc<str>,
}

impl Out {
    /// A chat message with its seq.
    pub fn message(chat_id: ChatId, seq: u64, json: Arc<str>) -> Out {
        Out::Message(Arc::new(ChatFrame { chat_id, seq, json }))
    }

    /// The staff hello listing the chats the agent is in.
    pub fn hello(chats: Vec<ChatId>, json: Arc<str>) -> Out {
        Out::Hello(Arc::new(HelloFrame { chats, json }))
    }

    /// A join of a chat whose newest durable seq is `last_seq`.
    pub fn joined(chat_id: ChatId, last_seq: u64, json: Arc<str>) -> Out {
        Out::Joined(Arc::new(ChatFrame {
            chat_id,
            seq: last_seq,
            json,
        }))
    }
}

/// The engine's side of a connection.
#[derive(Clone, Debug)]
pub struct Conn {
    /// Process-unique id.
    pub id: ConnId,
    /// The staff session it belongs to (none for visitors).
    pub session: Option<TokenHash>,
    tx: mpsc::Sender<Out>,
    kick: Arc<Notify>,
}

/// The session's side: frames to write, and the kick.
pub struct ConnRx {
    /// Frames to write, in order.
    pub rx: mpsc::Receiver<Out>,
    /// Notified when the engine gave up on this connection.
    pub kick: Arc<Notify>,
}

impl Conn {
    /// A new connection pair.
    pub fn new(session: Option<TokenHash>) -> (Conn, ConnRx) {
        let (tx, rx) = mpsc::channel(OUTBOUND_CAPACITY);
        let kick = Arc::new(Notify::new());
        let conn = Conn {
            id: NEXT_CONN.fetch_add(1, Ordering::Relaxed),
            session,
            tx,
            kick: kick.clone(),
        };
        (conn, ConnRx { rx, kick })
    }

    /// Queues `out` without waiting; a full queue kicks the connection.
    pub fn push(&self, out: Out) {
        match self.tx.try_send(out) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    conn = self.id,
                    "connection too slow; closing it so it resumes"
                );
                self.kick.notify_one();
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Queues a serialized frame.
    pub fn frame(&self, json: &Arc<str>) {
        self.push(Out::Frame(json.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outbound_item_stays_small() {
        assert!(
            std::mem::size_of::<Out>() <= 24,
            "each connection's queue holds 32 of these from the start: {} bytes",
            std::mem::size_of::<Out>()
        );
    }

    #[tokio::test]
    async fn a_full_queue_kicks_the_connection_instead_of_waiting() {
        let (conn, mut rx) = Conn::new(None);
        let frame: Arc<str> = Arc::from("{}");
        for _ in 0..OUTBOUND_CAPACITY {
            conn.frame(&frame);
        }
        let kicked =
            tokio::time::timeout(std::time::Duration::from_millis(50), rx.kick.notified()).await;
        assert!(kicked.is_err(), "not kicked while the queue has room");
        conn.frame(&frame);
        let kicked =
            tokio::time::timeout(std::time::Duration::from_millis(50), rx.kick.notified()).await;
        assert!(
            kicked.is_ok(),
            "kicked when the queue overflows; push never blocked"
        );
        assert!(
            rx.rx.try_recv().is_ok(),
            "what was queued is still there to send"
        );
    }
}
