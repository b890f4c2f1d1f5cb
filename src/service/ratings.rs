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

/// Query of `GET /api/ratings/summary`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// Over the last this many days (1 to 90, default 7).
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<u32>,
}

/// Satisfaction over some days, as the caller may see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RatingSummary {
    /// The days counted.
    pub days: u32,
    /// Good ratings.
    pub good: usize,
    /// Bad ratings.
    pub bad: usize,
    /// The five latest ratings with a comment, newest first.
    pub recent: Vec<RecentRating>,
}

/// A rating with a comment, for the dashboard.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecentRating {
    /// The chat (its transcript: `#/chats/{chat}`).
    pub chat: crate::domain::ChatId,
    /// The rating (the comment masked as chat text is).
    #[serde(flatten)]
    pub rating: RatingView,
}

/// Ratings given in the last `days` days: admins all, managers their
/// groups' and their own, agents their own.
pub async fn summary(
    state: &AppState,
    ctx: &super::auth::AuthContext,
    q: SummaryQuery,
) -> Result<RatingSummary, AppError> {
    let days = q.days.unwrap_or(7);
    if !(1..=90).contains(&days) {
        return Err(AppError::BadRequest {
            code: "invalid_field",
            message: "days: must be between 1 and 90".into(),
        });
    }
    let since = state.now().saturating_sub(u64::from(days) * 86_400_000);
    // A chat is rated after it ends: chats started a day before the window
    // can hold ratings inside it.
    let from = since.saturating_sub(86_400_000);
    let mut seen: Vec<Rating> = state
        .read(move |s| s.ratings_of_chats_since(from))
        .await?
        .into_iter()
        .filter(|r| r.at >= since && rating::counts_for(&ctx.staff, r))
        .collect();
    let good = seen.iter().filter(|r| r.score == Score::Good).count();
    let bad = seen.len() - good;
    seen.retain(|r| r.comment.is_some());
    seen.sort_by_key(|r| std::cmp::Reverse(r.at));
    let view = state.config.chat.staff_view();
    let recent = seen
        .into_iter()
        .take(5)
        .map(|r| RecentRating {
            chat: r.chat,
            rating: shown(r, view),
        })
        .collect();
    Ok(RatingSummary {
        days,
        good,
        bad,
        recent,
    })
}
