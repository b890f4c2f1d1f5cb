//! A connection as the engine sees it: a bounded outbound queue, a kick,
//! and slots for ephemeral frames. The engine never awaits a socket: it
//! `try_send`s; a client whose queue is full is kicked (its session closes,
//! the client reconnects and resumes from its last seq), so one slow client
//! never stalls the desk. Ephemeral frames (typing, queue places, queue
//! views) never enter that queue: each has a slot per connection where the
//! latest replaces the one not yet written, so no volume of them can fill
//! the queue and kick anyone (a visitor typing 10,000 frames a second once
//! closed the owning agent's socket this way).

use crate::domain::{ChatId, GroupId};
use crate::store::TokenHash;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Frames queued per connection before it counts as too slow.
pub const OUTBOUND_CAPACITY: usize = 512;

/// Identifies a connection within this process.
pub type ConnId = u64;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// What goes out to a connection. JSON is serialized once per fan-out, and
/// whatever is larger than a frame's pointer is shared behind one, so an
/// item is 24 bytes: a queued frame costs its connection that much (48 →
/// 24 bytes a slot was 7.5 MiB at 10,000 visitors, when every queue held
/// 32 slots from the start).
#[derive(Clone, Debug)]
pub enum Out {
    /// Any frame.
    Frame(Arc<str>),
    /// A chat message with its seq: the session skips what it already sent
    /// and fills gaps from the store. To staff the json is the whole
    /// `message` frame; to visitors it is the message alone, which the
    /// session puts in its frame with the connection's `prev_seq`.
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

/// What an ephemeral frame is about: a newer frame for the same slot
/// replaces an older one not yet written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Typing in a chat, by the visitor side (true) or the agent side.
    Typing(ChatId, bool),
    /// A waiting visitor's place in the queue.
    QueuePlace(ChatId),
    /// A group's queue view.
    QueueView(GroupId),
    /// The staff roster.
    Roster,
}

/// Ephemeral frames waiting to be written, at most one per slot.
#[derive(Debug, Default)]
pub struct Latest {
    frames: Mutex<Vec<(Slot, Arc<str>)>>,
    /// Notified when a slot is filled.
    pub ready: Notify,
}

impl Latest {
    fn put(&self, slot: Slot, json: Arc<str>) {
        let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        match frames.iter_mut().find(|(s, _)| *s == slot) {
            Some(entry) => entry.1 = json,
            None => frames.push((slot, json)),
        }
        drop(frames);
        self.ready.notify_one();
    }

    /// Takes every filled slot, oldest slot first.
    pub fn take(&self) -> Vec<Arc<str>> {
        let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *frames)
            .into_iter()
            .map(|(_, f)| f)
            .collect()
    }
}

/// A connection's outbound queue. Not a tokio channel: that allocates its
/// first block of 32 slots and its cache-padded state up front, about
/// 1.3 KB a connection whether anything is queued or not (13 MB at
/// 10,000 idle visitors); this holds what is queued, in a deque that
/// gives its room back once drained.
#[derive(Debug, Default)]
struct Queue {
    items: Mutex<VecDeque<Out>>,
    /// Notified when an item is queued or the last sender goes.
    ready: Notify,
    /// Live [`Conn`] clones; none left ends the session's reads.
    senders: AtomicUsize,
    /// Cleared when the session's side is dropped: pushes then go nowhere.
    open: AtomicBool,
}

/// Room a drained queue keeps (bursts are rare; a burst's room is given back).
const KEPT_SLOTS: usize = 8;

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Out>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pop(&self) -> Option<Out> {
        let mut q = self.lock();
        let item = q.pop_front();
        if q.is_empty() && q.capacity() > KEPT_SLOTS {
            q.shrink_to(KEPT_SLOTS);
        }
        item
    }
}

/// Why [`Receiver::try_recv`] gave nothing.
#[derive(Debug, PartialEq, Eq)]
pub struct Empty;

/// The session's end of the outbound queue.
#[derive(Debug)]
pub struct Receiver(Arc<Queue>);

impl Receiver {
    /// The next frame, waiting for one; `None` once every [`Conn`] clone
    /// is gone and the queue is drained. Cancel-safe: nothing is taken
    /// unless it is returned.
    pub async fn recv(&mut self) -> Option<Out> {
        loop {
            let woken = self.0.ready.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Some(item) = self.0.pop() {
                return Some(item);
            }
            if self.0.senders.load(Ordering::Acquire) == 0 {
                return None;
            }
            woken.await;
        }
    }

    /// The next frame if one is queued.
    pub fn try_recv(&mut self) -> Result<Out, Empty> {
        self.0.pop().ok_or(Empty)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.0.open.store(false, Ordering::Release);
        self.0.lock().clear();
    }
}

/// The engine's side of a connection.
#[derive(Debug)]
pub struct Conn {
    /// Process-unique id.
    pub id: ConnId,
    /// The staff session it belongs to (none for visitors).
    pub session: Option<TokenHash>,
    queue: Arc<Queue>,
    kick: Arc<Notify>,
    latest: Arc<Latest>,
}

impl Clone for Conn {
    fn clone(&self) -> Self {
        self.queue.senders.fetch_add(1, Ordering::AcqRel);
        Conn {
            id: self.id,
            session: self.session,
            queue: self.queue.clone(),
            kick: self.kick.clone(),
            latest: self.latest.clone(),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.queue.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.queue.ready.notify_one();
        }
    }
}

/// The session's side: frames to write, the kick, and the ephemeral slots.
pub struct ConnRx {
    /// Frames to write, in order.
    pub rx: Receiver,
    /// Notified when the engine gave up on this connection.
    pub kick: Arc<Notify>,
    /// The latest ephemeral frames; write them when `latest.ready` fires.
    pub latest: Arc<Latest>,
}

impl Conn {
    /// A new connection pair.
    pub fn new(session: Option<TokenHash>) -> (Conn, ConnRx) {
        let queue = Arc::new(Queue {
            senders: AtomicUsize::new(1),
            open: AtomicBool::new(true),
            ..Queue::default()
        });
        let kick = Arc::new(Notify::new());
        let latest = Arc::new(Latest::default());
        let conn = Conn {
            id: NEXT_CONN.fetch_add(1, Ordering::Relaxed),
            session,
            queue: queue.clone(),
            kick: kick.clone(),
            latest: latest.clone(),
        };
        let rx = Receiver(queue);
        (conn, ConnRx { rx, kick, latest })
    }

    /// Puts an ephemeral frame in its slot, replacing one not yet written.
    /// Never queues, never kicks.
    pub fn ephemeral(&self, slot: Slot, json: &Arc<str>) {
        self.latest.put(slot, json.clone());
    }

    /// Queues `out` without waiting; a full queue kicks the connection.
    pub fn push(&self, out: Out) {
        let mut q = self.queue.lock();
        // Read under the lock: the session's drop clears the queue under
        // it after closing, so nothing pushed can outlive that clear.
        if !self.queue.open.load(Ordering::Acquire) {
            return;
        }
        if q.len() >= OUTBOUND_CAPACITY {
            drop(q);
            tracing::warn!(
                conn = self.id,
                "connection too slow; closing it so it resumes"
            );
            self.kick.notify_one();
            return;
        }
        q.push_back(out);
        drop(q);
        self.queue.ready.notify_one();
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
            "every queued frame is one of these: {} bytes",
            std::mem::size_of::<Out>()
        );
    }

    #[tokio::test]
    async fn ephemeral_frames_keep_only_the_latest_per_slot_and_never_kick() {
        let (conn, rx) = Conn::new(None);
        let chat = ChatId::generate();
        for i in 0..(OUTBOUND_CAPACITY * 4) {
            conn.ephemeral(Slot::Typing(chat, true), &Arc::from(format!("t{i}")));
        }
        conn.ephemeral(Slot::QueuePlace(chat), &Arc::from("q"));
        let kicked =
            tokio::time::timeout(std::time::Duration::from_millis(50), rx.kick.notified()).await;
        assert!(kicked.is_err(), "ephemeral frames never kick");
        let ready = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            rx.latest.ready.notified(),
        )
        .await;
        assert!(ready.is_ok(), "the session is woken");
        let last = format!("t{}", OUTBOUND_CAPACITY * 4 - 1);
        let got: Vec<String> = rx.latest.take().iter().map(|f| f.to_string()).collect();
        assert_eq!(got, vec![last, "q".to_string()]);
        assert!(rx.latest.take().is_empty());
    }

    #[tokio::test]
    async fn the_queue_gives_frames_in_order_and_ends_when_the_engine_lets_go() {
        let (conn, mut rx) = Conn::new(None);
        let copy = conn.clone();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(Out::Frame(f)) = rx.rx.recv().await {
                got.push(f.to_string());
            }
            got
        });
        for i in 0..100 {
            conn.frame(&Arc::from(format!("f{i}")));
            if i % 10 == 0 {
                tokio::task::yield_now().await;
            }
        }
        drop(conn);
        copy.frame(&Arc::from("last"));
        drop(copy);
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), reader)
            .await
            .expect("the reader ends once every clone is gone")
            .expect("reader");
        let mut want: Vec<String> = (0..100).map(|i| format!("f{i}")).collect();
        want.push("last".into());
        assert_eq!(got, want);
    }

    #[test]
    fn nothing_is_held_for_a_session_that_is_gone() {
        let (conn, rx) = Conn::new(None);
        conn.frame(&Arc::from("before"));
        drop(rx);
        assert!(conn.queue.lock().is_empty(), "the session's drop clears it");
        for _ in 0..10 {
            conn.frame(&Arc::from("after"));
        }
        assert!(conn.queue.lock().is_empty(), "pushes after it go nowhere");
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
