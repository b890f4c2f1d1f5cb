//! Offline messages: what a visitor leaves with the widget's message form
//! when a group takes no chats (queue offline, nobody online, or the chat
//! waited past the group's queue timeout). Stored durably and listed for
//! the group's staff; the tickets issue turns each into a ticket (`ticket`
//! is left for that).

use super::chat::message_body;
use super::clock::Millis;
use super::ids::ChatId;
use super::ids::{GroupId, OfflineMessageId};
use super::staff::Staff;
use super::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest offline message, characters.
pub const MAX_OFFLINE_CHARS: usize = 4000;

/// What the widget's message form sends.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfflineMessage {
    /// The group it is for.
    pub group: GroupId,
    /// The visitor's name.
    pub name: String,
    /// Their email (required: it is how staff answer).
    pub email: String,
    /// What they want to say.
    pub message: String,
    /// The page they were on.
    #[serde(default)]
    pub page_url: Option<String>,
    /// The visitor token of the chat this message follows, when the form
    /// came up because nobody answered that chat: the message then goes on
    /// the missed chat's ticket instead of making a second one. A token
    /// that opens no ended chat of the group is ignored.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub chat_token: Option<String>,
}

/// An offline message as stored and listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfflineMessage {
    /// Stable id (time-ordered).
    pub id: OfflineMessageId,
    /// The group it is for.
    pub group: GroupId,
    /// The visitor's name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// The message.
    pub message: String,
    /// The page they were on, if known.
    pub page_url: Option<String>,
    /// When it was left, ms since the epoch.
    pub at: Millis,
    /// The chat it follows, when the visitor left it after waiting too
    /// long (its question kept); none from the form alone.
    #[serde(default)]
    pub chat: Option<ChatId>,
}

impl NewOfflineMessage {
    /// Validates the form into a message with a new id.
    pub fn build(&self, now: Millis) -> Result<OfflineMessage, FieldError> {
        let page_url = match self.page_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => Some(validate::text("page_url", u, 1, 2000)?),
        };
        Ok(OfflineMessage {
            id: OfflineMessageId::generate(),
            group: self.group,
            name: validate::text("name", &self.name, 1, 80)?,
            email: validate::email(&self.email)?,
            message: message_body("message", &self.message, MAX_OFFLINE_CHARS)?,
            page_url,
            at: now,
            chat: None,
        })
    }
}

/// Whether `staff` may read offline messages of `group`: admins all, other
/// staff those of their groups (agents follow them up too).
pub fn can_read(staff: &Staff, group: GroupId) -> bool {
    staff.role.is_admin() || staff.in_group(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(email: &str, message: &str) -> NewOfflineMessage {
        NewOfflineMessage {
            group: GroupId::generate(),
            name: " Vera ".into(),
            email: email.into(),
            message: message.into(),
            page_url: Some("".into()),
            chat_token: None,
        }
    }

    #[test]
    fn the_form_needs_an_email_and_a_message() {
        let m = form("vera@example.com", " Call me ")
            .build(5)
            .expect("valid");
        assert_eq!(
            (m.name.as_str(), m.message.as_str(), m.at),
            ("Vera", "Call me", 5)
        );
        assert_eq!(m.page_url, None);
        assert_eq!(form("", "hi").build(0).unwrap_err().field, "email");
        assert_eq!(
            form("vera@example.com", "  ").build(0).unwrap_err().field,
            "message"
        );
        let long = "x".repeat(MAX_OFFLINE_CHARS + 1);
        assert_eq!(
            form("vera@example.com", &long).build(0).unwrap_err().field,
            "message"
        );
    }
}
