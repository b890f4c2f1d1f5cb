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

/// What goes out to a connection. JSON is serialized once per fan-out.
#[derive(Clone, Debug)]
pub enum Out {
    /// Any frame.
    Frame(Arc<str>),
    /// A chat message with its seq: the session skips what it already sent
    /// and fills gaps from the store.
    Message {
        /// The chat.
        chat_id: ChatId,
        /// Its seq.
        seq: u64,
        /// The serialized frame.
        json: Arc<str>,
    },
    /// This connection's staff member joined a chat: send the frame, then
    /// the chat's messages up to `last_seq` from the store.
    Joined {
        /// The chat.
        chat_id: ChatId,
        /// Its newest durable seq.
        last_seq: u64,
        /// The serialized frame.
        json: Arc<str>,
    },
    /// The staff hello: send the frame; the chats it lists get messages only
    /// after the client's `resume` says what it has.
    Hello {
        /// The chats the agent is in.
        chats: Vec<ChatId>,
        /// The serialized frame.
        json: Arc<str>,
    },
    /// Close with a websocket close code and reason.
    Close(u16, &'static str),
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
