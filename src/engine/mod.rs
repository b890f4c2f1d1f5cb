//! The live desk: presence, queues, offers and RONA, rooms and fan-out.
//! One owner task holds all live state and handles [`Command`]s in order
//! from a channel, so no two chats ever get the same slot and no lock is
//! held across an await. The owner task never waits on the disk: it
//! decides (seq numbers, routing), applies writes to the store, and hands a
//! commit ticket with the acks and deliveries to the deliverer task, which
//! waits for the group commit and only then sends them, in order.
//! Time comes from the injected clock; `tick` processes deadlines.

pub mod conn;
mod core;
pub use chats::check_body;
mod chats;
pub mod frames;
mod handoff;
mod messages;
mod presence;
mod roster;
mod routing;
mod schedule;

pub use conn::{Conn, ConnId, ConnRx, Out};

use crate::config::ChatConfig;
use crate::domain::chat::{Chat, StartChatRequest};
use crate::domain::status::Status;
use crate::domain::{ChatId, SharedClock, Staff, StaffId};
use crate::error::AppError;
use crate::store::{Store, StoreError, TokenHash};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// How often deadlines (RONA) are checked.
const TICK_EVERY: Duration = Duration::from_millis(250);

type Reply<T> = oneshot::Sender<Result<T, AppError>>;

/// What a visitor's start request came to.
#[derive(Debug)]
pub enum Started {
    /// The chat is queued; the token opens it.
    Queued {
        /// The chat.
        chat: Box<Chat>,
        /// The visitor's secret for this chat.
        token: String,
    },
    /// Nobody can take it: the widget offers a message form instead.
    Offline,
}

/// Where a chat is transferred to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferTo {
    /// Back to a group's queue, ahead of chats that never had an agent.
    Group(crate::domain::GroupId),
    /// To an agent, who must accept.
    Agent(StaffId),
}

/// Everything the engine can be asked.
pub enum Command {
    /// A visitor starts a chat.
    StartChat(StartChatRequest, Reply<Started>),
    /// Whether a chat started with the group now would be queued (the
    /// widget shows the pre-chat form) or answered offline (the message form).
    /// Also the note of a closed date that closes it today, if one does.
    TakesChats(crate::domain::GroupId, Reply<(bool, Option<String>)>),
    /// The shifts changed in the store: reload and apply them.
    ScheduleChanged,
    /// The config file's `[[shifts]]` and `[[closed]]` (sent once at start).
    ConfigSchedule(crate::config::ScheduleConfig),
    /// A visitor connection for a chat.
    AttachVisitor(ChatId, Conn, Reply<Chat>),
    /// A visitor connection went away.
    DetachVisitor(ChatId, ConnId),
    /// A visitor's message.
    VisitorMessage {
        /// The chat.
        chat: ChatId,
        /// The sending connection (gets the ack).
        conn: Conn,
        /// The client's id for the message.
        client_id: String,
        /// The text (validated by the session).
        body: String,
    },
    /// The visitor is typing (with their draft) or stopped (none).
    VisitorTyping(ChatId, Option<String>),
    /// The visitor ends the chat.
    VisitorEnd(ChatId),
    /// A staff connection.
    AttachAgent(Staff, Conn),
    /// A staff connection went away.
    DetachAgent(StaffId, ConnId),
    /// A status change by the agent or, for them, a manager or admin.
    SetStatus {
        /// Who asks.
        actor: Staff,
        /// Whose status.
        target: StaffId,
        /// The new status.
        status: Status,
        /// Done, or why not.
        reply: Reply<Status>,
    },
    /// Accept an offer, or pick a waiting chat (manual routing).
    Accept(StaffId, ChatId, Reply<()>),
    /// Decline an offer.
    Decline(StaffId, ChatId, Reply<()>),
    /// An agent's message or whisper.
    AgentMessage {
        /// Who.
        agent: StaffId,
        /// The chat.
        chat: ChatId,
        /// The sending connection.
        conn: Conn,
        /// The client's id for it.
        client_id: String,
        /// The text.
        body: String,
        /// Staff only.
        whisper: bool,
    },
    /// An agent is typing or stopped.
    AgentTyping(StaffId, ChatId, bool),
    /// The owner ends an active chat with a wrap-up reason.
    EndChat(StaffId, ChatId, String, Reply<()>),
    /// The owner gives the wrap-up reason of a chat the visitor ended.
    WrapUp(StaffId, ChatId, String, Reply<()>),
    /// The owner hands the chat on, giving the wrap-up reason of their part.
    Transfer {
        /// The owner.
        agent: StaffId,
        /// The chat.
        chat: ChatId,
        /// To a group or an agent.
        to: TransferTo,
        /// Wrap-up reason for the part so far.
        wrap_up: String,
        /// Done (to an agent: the request is made), or why not.
        reply: Reply<()>,
    },
    /// The owner invites another agent into the chat (conference).
    Invite(StaffId, ChatId, StaffId, Reply<()>),
    /// A conference agent (or the owner, when others remain) leaves.
    Leave(StaffId, ChatId, Reply<()>),
    /// A manager or admin starts or stops watching a chat, unseen by the visitor.
    Monitor {
        /// Who watches.
        actor: Staff,
        /// The chat.
        chat: ChatId,
        /// Start (true) or stop.
        on: bool,
        /// Done, or why not.
        reply: Reply<()>,
    },
    /// A manager or admin moves a chat to a group's queue (bulk transfer).
    MoveToGroup {
        /// Who.
        actor: Staff,
        /// The chat.
        chat: ChatId,
        /// The group.
        group: crate::domain::GroupId,
        /// Done, or why not.
        reply: Reply<()>,
    },
    /// A staff record changed (limits, groups, chat-enabled, disabled).
    StaffChanged(Staff),
    /// Sessions of a staff member ended: close their connections except
    /// those of `keep`.
    SessionsEnded(StaffId, Option<TokenHash>),
    /// One session was signed out: close its connections.
    SessionClosed(StaffId, TokenHash),
    /// The admin-managed wrap-up reasons changed (all, and those that
    /// make tickets).
    WrapUpReasonsChanged(Vec<String>, Vec<String>),
    /// A group's settings changed (by whom, when a person did it).
    GroupChanged(crate::domain::GroupId, Option<frames::StaffRef>),
    /// Delete a group (the caller checked the right to): refused with
    /// `group_has_open_chats` while any chat of it is open. Decided here,
    /// in order with chat starts, so no chat can start in it meanwhile.
    DeleteGroup(crate::domain::GroupId, Reply<()>),
    /// Process deadlines as of the clock's now.
    Tick(Option<oneshot::Sender<()>>),
}

/// A handle on the engine, cheap to clone.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::Sender<Command>,
}

/// Work the deliverer runs once the writes of `ticket` are durable (or
/// could not be made so).
pub(crate) struct Delivery {
    pub ticket: u64,
    pub then: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
}

fn gone() -> AppError {
    AppError::Unavailable("the live desk is stopping; try again in a moment".into())
}

impl Engine {
    /// Rebuilds the live state from the store and starts the owner task,
    /// the deliverer and the ticker, which all end when `shutdown` turns
    /// true. Await the returned [`EngineTasks`] before closing the store.
    pub fn spawn(
        store: Arc<Store>,
        clock: SharedClock,
        config: ChatConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(Engine, EngineTasks), StoreError> {
        let (tx, rx) = mpsc::channel(64 * 1024);
        let (deliver_tx, deliver_rx) = mpsc::unbounded_channel();
        let core = core::Core::rebuild(store.clone(), clock, config, deliver_tx)?;
        let owner = tokio::spawn(core.run(rx, shutdown.clone()));
        // Its own thread: handing frames to sessions wakes their threads,
        // which is a third of a message's cost; here it runs beside the
        // owner task instead of after it (docs/performance.md).
        let cannot =
            |e: std::io::Error| StoreError::Io(format!("cannot start the delivery thread: {e}"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(cannot)?;
        let (deliver_done, deliver) = oneshot::channel();
        std::thread::Builder::new()
            .name("livedesk-deliver".into())
            .spawn(move || {
                rt.block_on(deliverer(store, deliver_rx));
                let _ = deliver_done.send(());
            })
            .map_err(cannot)?;
        let ticker = tx.clone();
        let mut stop = shutdown;
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => {
                        if ticker.send(Command::Tick(None)).await.is_err() {
                            break;
                        }
                    }
                    _ = stop.changed() => break,
                }
            }
        });
        Ok((Engine { tx }, EngineTasks { owner, deliver }))
    }

    /// Sends a command that needs no answer.
    pub async fn send(&self, cmd: Command) {
        let _ = self.tx.send(cmd).await;
    }

    /// Sends a command and waits for its answer.
    pub async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, AppError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Processes deadlines now (tests move the clock, then tick).
    pub async fn tick(&self) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Command::Tick(Some(done))).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// The engine's tasks, to await at shutdown.
pub struct EngineTasks {
    owner: JoinHandle<()>,
    /// Says when the delivery thread has run every pending delivery.
    deliver: oneshot::Receiver<()>,
}

impl EngineTasks {
    /// Waits until the owner task stopped and every pending delivery ran.
    pub async fn join(self) {
        let _ = self.owner.await;
        let _ = self.deliver.await;
    }
}

#[cfg(test)]
mod tests;

async fn deliverer(store: Arc<Store>, mut rx: mpsc::UnboundedReceiver<Delivery>) {
    // Tickets arrive in increasing order and are waited for in that order,
    // so deliveries keep the engine's order.
    while let Some(d) = rx.recv().await {
        let result = store.wait_durable(d.ticket).await;
        (d.then)(result);
    }
}
