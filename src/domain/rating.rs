//! Satisfaction: the visitor's rating of a chat an agent answered, good or
//! bad with an optional comment, given once after the chat ends.

use super::chat::{Chat, ChatState};
use super::clock::Millis;
use super::ids::{ChatId, GroupId, StaffId};
use super::validate::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest comment, characters.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// Good or bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Score {
    /// The visitor was helped.
    Good,
    /// They were not.
    Bad,
}

/// A chat's rating, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rating {
    /// The chat.
    pub chat: ChatId,
    /// Good or bad.
    pub score: Score,
    /// What the visitor added, if anything.
    pub comment: Option<String>,
    /// When.
    pub at: Millis,
    /// The chat's group then.
    pub group: GroupId,
    /// The agent who had the chat.
    pub agent: Option<StaffId>,
}

/// Why a chat cannot be rated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRatable {
    /// It still runs.
    NotEnded,
    /// No agent answered it (a missed chat: its ticket follows it up).
    NotAnswered,
}

/// The rating of `chat` with `score` and `comment` (trimmed; empty: none),
/// or why it cannot be rated.
pub fn rate(
    chat: &Chat,
    score: Score,
    comment: Option<&str>,
    now: Millis,
) -> Result<Result<Rating, NotRatable>, FieldError> {
    // The limit counts what was sent, as the API document's maxLength does.
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(FieldError {
            field: "comment",
            message: format!("must be at most {MAX_COMMENT_CHARS} characters"),
        });
    }
    let comment = match comment.map(str::trim) {
        None | Some("") => None,
        Some(c) => Some(c.to_string()),
    };
    if chat.state != ChatState::Ended {
        return Ok(Err(NotRatable::NotEnded));
    }
    if chat.answered_at.is_none() {
        return Ok(Err(NotRatable::NotAnswered));
    }
    Ok(Ok(Rating {
        chat: chat.id,
        score,
        comment,
        at: now,
        group: chat.group,
        agent: chat.owner,
    }))
}

/// Whether `staff` sees `r` in figures: admins all; managers their
/// groups' and their own; agents their own.
pub fn counts_for(staff: &super::staff::Staff, r: &Rating) -> bool {
    super::report::visible_to(staff, r.group, r.agent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chat::Visitor;

    fn chat() -> Chat {
        Chat::waiting(
            GroupId::generate(),
            Visitor {
                name: "Vera".into(),
                email: None,
                page_url: None,
            },
            1,
        )
    }

    #[test]
    fn only_an_answered_ended_chat_is_rated_and_the_comment_is_checked() {
        let mut c = chat();
        assert_eq!(
            rate(&c, Score::Good, None, 2),
            Ok(Err(NotRatable::NotEnded))
        );
        c.state = ChatState::Ended;
        assert_eq!(
            rate(&c, Score::Good, None, 2),
            Ok(Err(NotRatable::NotAnswered))
        );
        c.answered_at = Some(2);
        c.owner = Some(StaffId::generate());
        let r = rate(&c, Score::Bad, Some("  slow  "), 3)
            .expect("ok")
            .expect("rated");
        assert_eq!(
            (r.score, r.comment.as_deref(), r.agent),
            (Score::Bad, Some("slow"), c.owner)
        );
        let r = rate(&c, Score::Good, Some("   "), 3)
            .expect("ok")
            .expect("rated");
        assert_eq!(r.comment, None);
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(
            rate(&c, Score::Good, Some(&long), 3).map_err(|e| e.field),
            Err("comment")
        );
    }
}
