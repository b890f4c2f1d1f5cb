//! Staff chat lists and transcripts.

use crate::domain::chat::ChatState;
use crate::domain::{ChatId, GroupId};
use crate::engine::Command;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
use crate::http::extract::StaffAuth;
use crate::http::extract::{AdminAuth, ManagerAuth};
use crate::service::chats::{self, ChatListQuery, ChatPage, Transcript};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

/// Ended chats found by the words of their transcript (and the visitor's
/// name and email), best match first, limited to what the caller may see
/// as the lists are; masked as transcripts are when masking is on.
#[utoipa::path(get, path = "/api/chats/search", tag = "chats", params(chats::ChatSearchQuery), responses(
    (status = 200, body = chats::ChatSearchPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn search_chats(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<chats::ChatSearchQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(chats::search(&state, &who.0, query.into_inner()).await?))
}

/// A chat's transcript: start and end, every message and event, the link
/// that reopens it in the console.
#[utoipa::path(get, path = "/api/chats/{id}", tag = "chats", params(("id" = ChatId, Path, description = "Chat id")),
    responses((status = 200, body = Transcript), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_chat(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<ChatId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(chats::transcript(&state, &who.0, id.into_inner()).await?))
}

/// Chats to act on together.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkTransfer {
    /// The chats (1 to 200).
    pub chat_ids: Vec<ChatId>,
    /// The group whose queue they go to, ahead of newer chats.
    pub to_group: GroupId,
}

/// Chats to delete.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDelete {
    /// The chats (1 to 200), all ended.
    pub chat_ids: Vec<ChatId>,
}

/// What happened to each chat of a bulk action.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkResult {
    /// The chat.
    pub chat_id: ChatId,
    /// Done.
    pub ok: bool,
    /// Why not, when not: `{code, message}`.
    pub error: Option<crate::error::ErrorDetail>,
}

fn bulk_size(n: usize) -> Result<(), AppError> {
    if (1..=200).contains(&n) {
        Ok(())
    } else {
        Err(AppError::BadRequest {
            code: "invalid_field",
            message: "chat_ids: give 1 to 200 chats".into(),
        })
    }
}

fn result(chat_id: ChatId, r: Result<(), AppError>) -> BulkResult {
    match r {
        Ok(()) => BulkResult {
            chat_id,
            ok: true,
            error: None,
        },
        Err(e) => BulkResult {
            chat_id,
            ok: false,
            error: Some(crate::error::ErrorDetail {
                code: e.code().to_string(),
                message: e.to_string(),
            }),
        },
    }
}

/// Moves open chats to a group's queue (managers of the chats' groups, admins).
#[utoipa::path(post, path = "/api/chats/transfer", tag = "chats", request_body = BulkTransfer, responses(
    (status = 200, body = Vec<BulkResult>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn post_bulk_transfer(
    state: web::Data<AppState>,
    who: ManagerAuth,
    body: Json<BulkTransfer>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    bulk_size(body.chat_ids.len())?;
    let mut out = Vec::with_capacity(body.chat_ids.len());
    for chat in body.chat_ids {
        let actor = who.0.staff.clone();
        let group = body.to_group;
        let r = state
            .engine
            .ask(|reply| Command::MoveToGroup {
                actor,
                chat,
                group,
                reply,
            })
            .await;
        out.push(result(chat, r));
    }
    Ok(HttpResponse::Ok().json(out))
}

/// Deletes ended chats with their transcripts (owner and admins).
#[utoipa::path(post, path = "/api/chats/delete", tag = "chats", request_body = BulkDelete, responses(
    (status = 200, body = Vec<BulkResult>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn post_bulk_delete(
    state: web::Data<AppState>,
    _who: AdminAuth,
    body: Json<BulkDelete>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    bulk_size(body.chat_ids.len())?;
    let mut out = Vec::with_capacity(body.chat_ids.len());
    for id in body.chat_ids {
        let found = state.read(move |s| s.chat(id)).await?;
        let r = match found {
            None => Err(AppError::NotFound {
                code: "chat_not_found",
                message: format!("no chat {id}"),
            }),
            Some(c) if c.state != ChatState::Ended => Err(AppError::Conflict {
                code: "chat_open",
                message: "end the chat before deleting it".into(),
            }),
            Some(_) => state.write(move |s| s.delete_chat(id)).await,
        };
        out.push(result(id, r));
    }
    Ok(HttpResponse::Ok().json(out))
}
