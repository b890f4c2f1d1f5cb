//! The visitor's rating of an answered chat, once, after it ended; staff
//! see it on the transcript.

use crate::domain::rating::{self, NotRatable, Rating, Score};
use crate::error::AppError;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the widget sends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// The visitor token of the ended chat.
    #[schema(min_length = 1, max_length = 100)]
    pub chat_token: String,
    /// `good` or `bad`.
    pub score: Score,
    /// What the visitor adds (up to 1,000 characters; empty: none).
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

/// A rating as shown (to the visitor who gave it, and to staff: the
/// comment masked as chat text is).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RatingView {
    /// `good` or `bad`.
    pub score: Score,
    /// The comment, if any.
    pub comment: Option<String>,
    /// When it was given (ms).
    pub at: crate::domain::Millis,
}

/// The view of `r`, its comment through `view`.
pub fn shown(r: Rating, view: crate::domain::masking::StaffView) -> RatingView {
    RatingView {
        score: r.score,
        comment: r.comment.map(|c| view.text(&c)),
        at: r.at,
    }
}

/// Stores the visitor's rating of the chat their token opens.
pub async fn rate(
    state: &AppState,
    req: RatingRequest,
    foreign: Option<String>,
) -> Result<RatingView, AppError> {
    let chat = super::widget::visitor_chat(state, &req.chat_token, foreign).await?;
    let r = match rating::rate(&chat, req.score, req.comment.as_deref(), state.now())? {
        Ok(r) => r,
        Err(NotRatable::NotEnded) => {
            return Err(AppError::Conflict {
                code: "chat_not_ended",
                message: "a chat is rated once it has ended".into(),
            })
        }
        Err(NotRatable::NotAnswered) => {
            return Err(AppError::Conflict {
                code: "chat_not_answered",
                message: "nobody answered this chat, so there is nothing to rate".into(),
            })
        }
    };
    let stored = r.clone();
    match state.write(move |s| s.rate_chat(&stored)).await? {
        Ok(()) => {
            tracing::info!(chat = %r.chat, score = ?r.score, "chat rated");
            Ok(shown(r, crate::domain::masking::StaffView::new(false)))
        }
        Err(_) => Err(AppError::Conflict {
            code: "already_rated",
            message: "this chat was rated already; a chat is rated once".into(),
        }),
    }
}
