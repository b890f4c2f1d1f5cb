//! Chats and messages: the lifecycle `waiting → offered → active → ended`
//! of ENGINE.md, who may be in a chat, and what a message is. Pure types and
//! checks; the engine drives the transitions.

use super::clock::Millis;
use super::ids::{ChatId, GroupId, StaffId};
use super::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a chat is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatState {
    /// In its group's queue.
    Waiting,
    /// Offered to one agent, who must accept before the RONA timeout.
    Offered,
    /// An agent owns it.
    Active,
    /// Over; the transcript stays.
    Ended,
}

/// Who ended a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum EndedBy {
    /// The visitor ended it (or left the queue).
    Visitor,
    /// An agent ended it.
    Agent {
        /// Which agent.
        staff: StaffId,
    },
    /// Closed for being idle.
    Idle,
    /// Nobody accepted it within the group's queue timeout (a missed chat).
    QueueTimeout,
    /// Its group closed (business hours) while it waited (a missed chat).
    Closed,
}

/// The visitor as they introduced themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Visitor {
    /// Name they gave.
    pub name: String,
    /// Email they gave, if any.
    pub email: Option<String>,
    /// Page they started from, if known.
    pub page_url: Option<String>,
}

/// A chat as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Chat {
    /// Stable id.
    pub id: ChatId,
    /// The group whose queue it is in or came from.
    pub group: GroupId,
    /// Who is chatting.
    pub visitor: Visitor,
    /// Lifecycle state.
    pub state: ChatState,
    /// The owning agent while active (and after, for the record).
    pub owner: Option<StaffId>,
    /// When the visitor started it.
    pub started_at: Millis,
    /// When it entered its current queue (FIFO order).
    pub queued_at: Millis,
    /// Re-queued chats (transfer, lost agent) go ahead of new ones.
    pub requeued: bool,
    /// When an agent first accepted it.
    pub answered_at: Option<Millis>,
    /// When an agent first wrote to the visitor (for reports).
    #[serde(default)]
    pub first_response_at: Option<Millis>,
    /// When it ended.
    pub ended_at: Option<Millis>,
    /// Who ended it.
    pub ended_by: Option<EndedBy>,
    /// The wrap-up reason the agent chose.
    pub wrap_up: Option<String>,
    /// Highest message sequence number so far.
    pub last_seq: u64,
    /// The visitor's last message or typing.
    pub visitor_active_at: Millis,
    /// An agent's last message.
    pub agent_active_at: Millis,
    /// Agents invited into the chat besides its owner (a conference).
    #[serde(default)]
    pub conference: Vec<StaffId>,
    /// Transfers so far, each with the wrap-up reason its agent gave.
    #[serde(default)]
    pub handoffs: Vec<Handoff>,
    /// Groups the chat was moved out of, oldest first.
    #[serde(default)]
    pub past_groups: Vec<GroupId>,
    /// The ticket this chat needs, decided when it ended (a missed chat, a
    /// wrap-up reason that makes tickets); the store queues it for the
    /// ticket maker in the transaction that ends the chat.
    #[serde(default)]
    pub follow_up: Option<super::ticket::Source>,
}

impl Chat {
    /// A visitor's new chat in `group`'s queue at `now`; its question is
    /// message 1.
    pub fn waiting(group: GroupId, visitor: Visitor, now: Millis) -> Self {
        Chat {
            id: ChatId::generate(),
            group,
            visitor,
            state: ChatState::Waiting,
            owner: None,
            started_at: now,
            queued_at: now,
            requeued: false,
            answered_at: None,
            first_response_at: None,
            ended_at: None,
            ended_by: None,
            wrap_up: None,
            last_seq: 1,
            visitor_active_at: now,
            agent_active_at: 0,
            conference: Vec::new(),
            handoffs: Vec::new(),
            past_groups: Vec::new(),
            follow_up: None,
        }
    }
}

/// One transfer of a chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Handoff {
    /// The agent who handed it on.
    pub from: StaffId,
    /// To whom: an agent's id or a group's id.
    pub to: String,
    /// The wrap-up reason for the part before the transfer.
    pub reason: String,
    /// When.
    pub at: Millis,
}

/// Kinds of message in a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Written by the visitor.
    Visitor,
    /// Written by an agent; the visitor sees it.
    Agent,
    /// Staff only; never sent to the visitor.
    Whisper,
    /// An event worded by the desk ("Customer ended the conversation").
    System,
}

impl MessageKind {
    /// Whether the visitor's connection may receive it.
    pub fn visible_to_visitor(self) -> bool {
        !matches!(self, MessageKind::Whisper)
    }
}

/// One message of a chat; `seq` is 1, 2, 3 … with no gap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// The chat.
    pub chat_id: ChatId,
    /// Position in the chat.
    pub seq: u64,
    /// What kind.
    pub kind: MessageKind,
    /// The staff member who wrote it (agent and whisper).
    pub author: Option<StaffId>,
    /// Name shown beside it.
    pub author_name: String,
    /// The text.
    pub body: String,
    /// The sender's id for it, which makes a resend a no-op.
    pub client_id: Option<String>,
    /// When the desk accepted it.
    pub at: Millis,
    /// What a system message records, for clients that word it themselves
    /// (the widget, in the visitor's language); absent on other messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<SystemEvent>,
}

/// The event a system message records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum SystemEvent {
    /// An agent took the chat or joined it in conference.
    Joined {
        /// The agent's display name.
        name: String,
    },
    /// An agent left a conference.
    Left {
        /// The agent's display name.
        name: String,
    },
    /// The chat was handed to another group or agent.
    Transferred {
        /// The group's or agent's name.
        to: String,
    },
    /// The owning agent lost the connection; the chat is back at the front
    /// of the queue.
    Requeued {
        /// The agent's display name.
        name: String,
    },
    /// The chat ended (who: see the chat's `ended_by`).
    Ended,
}

/// What the widget sends to start a chat.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartChatRequest {
    /// The visitor's name.
    pub name: String,
    /// Their email, optional.
    #[serde(default)]
    pub email: Option<String>,
    /// The group to chat with.
    pub group: GroupId,
    /// Their first question.
    pub question: String,
    /// The page they are on.
    #[serde(default)]
    pub page_url: Option<String>,
}

impl StartChatRequest {
    /// Validates the request; the question's limit is `max_chars` characters.
    pub fn visitor(&self, max_chars: usize) -> Result<(Visitor, String), FieldError> {
        let email = match self.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) => Some(validate::email(e)?),
        };
        let page_url = match self.page_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => Some(validate::text("page_url", u, 1, 2000)?),
        };
        Ok((
            Visitor {
                name: validate::text("name", &self.name, 1, 80)?,
                email,
                page_url,
            },
            message_body("question", &self.question, max_chars)?,
        ))
    }
}

/// [`message_body`] for REST fields, whose limit counts what was sent, as
/// the OpenAPI document's `maxLength` does (spaces around included).
pub fn sent_body(field: &'static str, body: &str, max_chars: usize) -> Result<String, FieldError> {
    let sent = body.chars().count();
    if sent > max_chars {
        return Err(FieldError {
            field,
            message: format!("must have at most {max_chars} characters, got {sent}"),
        });
    }
    message_body(field, body, max_chars)
}

/// Checks a message body: not empty after trimming, at most `max_chars`
/// Unicode characters. Newlines are allowed; other control characters not.
pub fn message_body(
    field: &'static str,
    body: &str,
    max_chars: usize,
) -> Result<String, FieldError> {
    let trimmed = body.trim();
    let n = trimmed.chars().count();
    let err = |message: String| FieldError { field, message };
    if n == 0 {
        return Err(err("must not be empty".into()));
    }
    if n > max_chars {
        return Err(err(format!(
            "must have at most {max_chars} characters, got {n}"
        )));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(err("must not contain control characters".into()));
    }
    Ok(trimmed.to_string())
}

/// A client's id for a message: 1 to 64 visible ASCII characters.
pub fn client_id(value: &str) -> Result<String, FieldError> {
    let ok = (1..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(value.to_string())
    } else {
        Err(FieldError {
            field: "client_id",
            message: "must be 1 to 64 visible ASCII characters, unique per message of this chat"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_counted_in_characters_and_must_not_be_empty() {
        assert_eq!(message_body("b", "  hej  ", 3).as_deref(), Ok("hej"));
        assert!(message_body("b", "åäöü", 3).is_err());
        assert!(message_body("b", "åäö", 3).is_ok());
        assert!(message_body("b", "   ", 3).is_err());
        assert!(message_body("b", "a\nb", 3).is_ok());
        assert!(message_body("b", "a\u{0}b", 3).is_err());
    }

    #[test]
    fn start_requests_are_validated() {
        let req = |email: Option<&str>, q: &str| StartChatRequest {
            name: " Vera ".into(),
            email: email.map(Into::into),
            group: GroupId::generate(),
            question: q.into(),
            page_url: Some("".into()),
        };
        let (v, q) = req(Some(""), "Hi").visitor(10).expect("valid");
        assert_eq!(
            (v.name.as_str(), v.email, v.page_url, q.as_str()),
            ("Vera", None, None, "Hi")
        );
        assert_eq!(
            req(Some("bad"), "Hi").visitor(10).unwrap_err().field,
            "email"
        );
        assert_eq!(req(None, "").visitor(10).unwrap_err().field, "question");
    }

    #[test]
    fn client_ids_are_bounded() {
        assert!(client_id("m-1").is_ok());
        assert!(client_id("").is_err());
        assert!(client_id(&"x".repeat(65)).is_err());
        assert!(client_id("a b").is_err());
        assert!(!MessageKind::Whisper.visible_to_visitor());
    }
}
