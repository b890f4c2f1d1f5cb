//! Staff chat lists and transcripts.

use crate::domain::ChatId;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::StaffAuth;
use crate::service::chats::{self, ChatListQuery, ChatPage, Transcript};
use crate::state::AppState;
use actix_web::{web, HttpResponse};

/// Lists chats: mine, by group, by agent or all, each limited to what the
/// caller may see (agents their own, managers their groups, admins
/// everything), sorted by any column with idle time as the tie-breaker.
#[utoipa::path(get, path = "/api/chats", tag = "chats", params(ChatListQuery), responses(
    (status = 200, body = ChatPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_chats(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<ChatListQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(chats::list(&state, &who.0, query.into_inner()).await?))
}

/// A chat's transcript: start and end, every message and event, the link
/// that reopens it in the console.
#[utoipa::path(get, path = "/api/chats/{id}", tag = "chats", params(("id" = String, Path, description = "Chat id")),
    responses((status = 200, body = Transcript), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_chat(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<ChatId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(chats::transcript(&state, &who.0, id.into_inner()).await?))
}
