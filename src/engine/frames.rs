//! Frames the desk sends on websockets (server → client). Serde-tagged by
//! `type`; documented with examples in docs/protocol.md.

use crate::domain::chat::{Chat, EndedBy, Message};
use crate::domain::status::Status;
use crate::domain::{ChatId, Millis, Staff, StaffId};
use serde::Serialize;
use std::sync::Arc;

/// Who someone is, briefly.
#[derive(Clone, Debug, Serialize)]
pub struct StaffRef {
    /// Id.
    pub id: StaffId,
    /// Display name.
    pub name: String,
}

/// A chat as listed to agents.
#[derive(Clone, Debug, Serialize)]
pub struct ChatView {
    /// The chat.
    #[serde(flatten)]
    pub chat: Chat,
    /// When an offer to the receiving agent expires, if offered to them.
    pub offer_expires_at: Option<Millis>,
    /// The visitor's first message (masked like all visitor text), for
    /// the offer pop-up.
    pub question: Option<String>,
}

/// A chat as shown in a queue view: just what the list needs.
#[derive(Clone, Debug, Serialize)]
pub struct QueueEntry {
    /// The chat.
    pub id: ChatId,
    /// The visitor's name (masked when masking is on).
    pub visitor: String,
    /// When it entered the queue.
    pub queued_at: Millis,
    /// Re-queued chats go first.
    pub requeued: bool,
    /// Who it is offered to (unanswered) or who has it (answered).
    pub offered_to: Option<StaffId>,
}

/// Chats listed per list of a queue view. A view goes to every agent of the
/// group on each change (at most every 200 ms): with thousands waiting,
/// whole lists would cost megabytes per agent per publish. The totals say
/// how many there are; the console shows the oldest, which are next.
pub const VIEW_LIMIT: usize = 100;

/// Every server → client frame.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame to an agent connection.
    Hello {
        /// Who is connected.
        staff: Staff,
        /// Their status.
        status: Status,
        /// Chats they own.
        chats: Vec<ChatView>,
        /// Chats offered to them.
        offers: Vec<ChatView>,
    },
    /// First frame to a visitor connection.
    VisitorHello {
        /// Their chat.
        chat_id: ChatId,
        /// Its state.
        state: crate::domain::chat::ChatState,
        /// Its newest seq.
        last_seq: u64,
    },
    /// A request frame was carried out.
    Done {
        /// The request's `type`.
        request: &'static str,
        /// The chat it concerned.
        chat_id: Option<ChatId>,
    },
    /// A message the sender sent is durable with this seq.
    Ack {
        /// The chat.
        chat_id: ChatId,
        /// The sender's id for it.
        client_id: String,
        /// Its seq.
        seq: u64,
    },
    /// A message of a chat.
    Message {
        /// The message.
        message: Message,
    },
    /// Someone is typing; agents see the visitor's text as it is typed.
    Typing {
        /// The chat.
        chat_id: ChatId,
        /// `visitor` or `agent`.
        from: &'static str,
        /// Typing now (true) or stopped (false).
        active: bool,
        /// The visitor's draft (to agents only), or none.
        text: Option<String>,
    },
    /// The receiving agent's status changed.
    Status {
        /// New status.
        status: Status,
        /// Who changed it, when not the agent or the desk.
        by: Option<StaffRef>,
    },
    /// The schedule changed the receiving agent's status (a `status` frame
    /// with `by: null` and the shift that started or ended).
    #[serde(rename = "status")]
    ScheduledStatus {
        /// New status.
        status: Status,
        /// Which shift, and whether it started or ended.
        schedule: crate::domain::shift::ScheduleNote,
    },
    /// A chat is offered to the receiving agent.
    Offer {
        /// The chat and the offer's deadline.
        chat: ChatView,
    },
    /// Another agent asks the receiving agent to take over a chat
    /// (`transfer`) or to join it (`conference`); answer with accept/decline.
    Request {
        /// `transfer` or `conference`.
        request: &'static str,
        /// The chat.
        chat: ChatView,
        /// Who asks.
        from: StaffRef,
        /// Accept before this.
        expires_at: Millis,
    },
    /// A transfer or conference request the receiving agent made was not
    /// accepted: the chat stays as it was.
    RequestDropped {
        /// The chat.
        chat_id: ChatId,
        /// `transfer` or `conference`.
        request: &'static str,
        /// `timeout` or `declined`.
        reason: &'static str,
    },
    /// The receiving agent is no longer in the chat (transferred, left,
    /// stopped monitoring).
    ChatLeft {
        /// The chat.
        chat_id: ChatId,
    },
    /// An offer to the receiving agent was taken back.
    OfferWithdrawn {
        /// The chat.
        chat_id: ChatId,
        /// `timeout`, `declined`, `visitor_left`, `transferred`, `shift_ended`.
        reason: &'static str,
    },
    /// The receiving agent now owns the chat (messages follow).
    ChatJoined {
        /// The chat.
        chat: Chat,
    },
    /// A chat ended.
    ChatEnded {
        /// The chat.
        chat_id: ChatId,
        /// Who ended it.
        ended_by: EndedBy,
    },
    /// A chat ended, as a visitor is told: names, never staff ids.
    #[serde(rename = "chat_ended")]
    VisitorChatEnded {
        /// The chat.
        chat_id: ChatId,
        /// Who ended it.
        ended_by: VisitorEndedBy,
    },
    /// The visitor's place in the queue.
    Queue {
        /// 1 = next.
        position: usize,
        /// Chats waiting in the group.
        waiting: usize,
        /// Rough wait, seconds.
        estimated_wait_secs: u64,
    },
    /// An agent joined the visitor's chat.
    AgentJoined {
        /// The agent's display name.
        name: String,
    },
    /// The group's queue, for its agents.
    QueueView {
        /// The group.
        group: crate::domain::GroupId,
        /// Waiting chats, in order: the first [`VIEW_LIMIT`].
        waiting: Vec<QueueEntry>,
        /// Offered, not yet accepted: the oldest [`VIEW_LIMIT`].
        unanswered: Vec<QueueEntry>,
        /// Active, with an agent: the oldest [`VIEW_LIMIT`].
        answered: Vec<QueueEntry>,
        /// How many chats wait in all.
        waiting_total: usize,
        /// How many offers are open in all.
        unanswered_total: usize,
        /// How many chats are active in all.
        answered_total: usize,
    },
    /// Everyone's status, load and chats, and the groups' queues, as the
    /// receiver may see them (sent on change, at most every tick).
    Roster {
        /// Staff sharing a group with the receiver (admins: everyone).
        staff: Vec<super::roster::RosterEntry>,
        /// The receiver's groups (admins: every group).
        groups: Vec<super::roster::RosterGroup>,
    },
    /// A group's queue was switched on or off.
    QueueSwitched {
        /// The group.
        group: crate::domain::GroupId,
        /// Its name.
        name: String,
        /// On (visitors can start chats) or off (the message form).
        online: bool,
        /// Who switched it.
        by: Option<StaffRef>,
    },
    /// A request could not be done.
    Error {
        /// Stable code.
        code: String,
        /// What to do.
        message: String,
        /// The `type` of the request it answers (`accept`, `message` …),
        /// or none for a frame that is not an answer (a dropped frame, a
        /// store failure while filling a gap).
        request: Option<&'static str>,
        /// The chat the request named, if any.
        chat_id: Option<ChatId>,
        /// The message it concerns, if any.
        client_id: Option<String>,
    },
}

/// Who ended a chat, as a visitor is told.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum VisitorEndedBy {
    /// The visitor.
    Visitor,
    /// An agent, by display name.
    Agent {
        /// Their display name.
        name: String,
    },
    /// Closed for being idle.
    Idle,
    /// Nobody could answer within the group's queue timeout.
    QueueTimeout,
    /// The group closed while the chat waited.
    Closed,
}

impl VisitorEndedBy {
    /// `by` as a visitor is told it; `name` finds the agent's display name
    /// ("An agent" when the account is gone).
    pub fn new(by: EndedBy, name: impl FnOnce(StaffId) -> Option<String>) -> Self {
        match by {
            EndedBy::Visitor => VisitorEndedBy::Visitor,
            EndedBy::Agent { staff } => VisitorEndedBy::Agent {
                name: name(staff).unwrap_or_else(|| "An agent".to_string()),
            },
            EndedBy::Idle => VisitorEndedBy::Idle,
            EndedBy::QueueTimeout => VisitorEndedBy::QueueTimeout,
            EndedBy::Closed => VisitorEndedBy::Closed,
        }
    }
}

/// A message's JSON as visitors get it: without the author's staff id
/// (their name stays). Agents get the whole message.
pub fn visitor_message_json(message: &Message) -> String {
    let mut m = message.clone();
    m.author = None;
    serde_json::to_string(&m).unwrap_or_default()
}

/// The `message` frame of a visitor connection: the message and
/// `prev_seq`, the seq of the message before it that this visitor could
/// see (0: none). Whispers take seqs the visitor never sees, so a client
/// checks `prev_seq` against the last seq it has, not `seq - 1`.
pub fn visitor_message_frame(message_json: &str, prev_seq: u64) -> String {
    format!("{{\"type\":\"message\",\"message\":{message_json},\"prev_seq\":{prev_seq}}}")
}

/// Every request `type` a client may send, on either socket: an error
/// frame names one of these, never an echo of arbitrary client text.
pub const REQUESTS: &[&str] = &[
    "hello",
    "set_status",
    "accept",
    "decline",
    "message",
    "typing",
    "end",
    "wrap_up",
    "transfer",
    "invite",
    "leave",
    "monitor",
    "unmonitor",
    "resume",
];

/// What an error frame answers: the request and the chat and message it
/// named.
#[derive(Clone, Debug, Default)]
pub struct Answering {
    /// The request's `type`.
    pub request: Option<&'static str>,
    /// Its chat.
    pub chat_id: Option<ChatId>,
    /// Its message's client id.
    pub client_id: Option<String>,
}

impl Answering {
    /// An answer to `request` about `chat_id`.
    pub fn new(request: &'static str, chat_id: Option<ChatId>) -> Self {
        Self {
            request: Some(request),
            chat_id,
            client_id: None,
        }
    }

    /// An answer to a `message` request.
    pub fn message(chat_id: Option<ChatId>, client_id: String) -> Self {
        Self {
            request: Some("message"),
            chat_id,
            client_id: Some(client_id),
        }
    }

    /// What a frame that could not be read still tells: its `type`, when
    /// it is a known request, and its `chat_id` and `client_id`.
    pub fn guess(text: &str) -> Self {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
            return Self::default();
        };
        let request = v["type"]
            .as_str()
            .and_then(|t| REQUESTS.iter().find(|r| **r == t).copied());
        let chat_id = v["chat_id"].as_str().and_then(|c| c.parse().ok());
        let client_id = v["client_id"]
            .as_str()
            .filter(|c| crate::domain::chat::client_id(c).is_ok())
            .map(str::to_string);
        Self {
            request,
            chat_id,
            client_id,
        }
    }
}

impl ServerFrame {
    /// Serializes once for any number of receivers.
    pub fn json(&self) -> Arc<str> {
        Arc::from(serde_json::to_string(self).unwrap_or_default())
    }

    /// An error frame that answers no request.
    pub fn error(code: &str, message: impl Into<String>, client_id: Option<String>) -> Arc<str> {
        ServerFrame::refusal(
            Answering {
                client_id,
                ..Answering::default()
            },
            code,
            message,
        )
    }

    /// An error frame answering a request.
    pub fn refusal(to: Answering, code: &str, message: impl Into<String>) -> Arc<str> {
        ServerFrame::Error {
            code: code.to_string(),
            message: message.into(),
            request: to.request,
            chat_id: to.chat_id,
            client_id: to.client_id,
        }
        .json()
    }
}
