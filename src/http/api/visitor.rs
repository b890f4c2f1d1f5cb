//! Visitor endpoints (the widget's): start a chat. Authorized by nothing
//! but rate limits now and the chat token afterwards; no cookies. Pages of
//! the desk and of `[widget] allowed_origins` may call them (CORS, in
//! `middleware::visitor_cors`); pages of other sites are refused.

use crate::domain::chat::StartChatRequest;
use crate::domain::ChatId;
use crate::engine::{Command, Started};
use crate::error::{AppError, ErrorBody};
use crate::http::extract::visitor_start;
use crate::http::extract::Json;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The answer to starting a chat.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct StartChatResponse {
    /// `queued`, or `offline` when nobody can take chats of that group now
    /// (the widget then offers a message form).
    pub status: String,
    /// The chat, when queued.
    pub chat_id: Option<ChatId>,
    /// The visitor's secret for this chat (the `hello` frame of websocket `/api/ws/visitor`), when queued.
    pub token: Option<String>,
}

/// The CORS preflight of a page that embeds the widget: 204 with the
/// `Access-Control-*` headers for an allowed origin, 403
/// `origin_not_allowed` for another.
#[utoipa::path(options, path = "/api/visitor/chats", tag = "visitor", responses(
    (status = 204, description = "Allowed; see the Access-Control-* headers"),
    (status = 403, body = ErrorBody, description = "`origin_not_allowed`: the page's site is not in [widget] allowed_origins")))]
pub async fn options_chats() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Allow", "POST, OPTIONS"))
        .finish()
}

/// Starts a chat with a group.
#[utoipa::path(post, path = "/api/visitor/chats", tag = "visitor", request_body = StartChatRequest, responses(
    (status = 201, body = StartChatResponse, description = "Queued"),
    (status = 200, body = StartChatResponse, description = "Offline: nobody can take it"),
    (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`origin_not_allowed`: the page's site is not in [widget] allowed_origins"),
    (status = 429, body = ErrorBody, description = "Too many chats started from this address; see Retry-After")))]
pub async fn post_chat(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<StartChatRequest>,
) -> Result<HttpResponse, AppError> {
    let foreign = visitor_start(&state, &req)?;
    let req = body.into_inner();
    if foreign.is_some() {
        let id = req.group;
        if let Some(g) = state.read(move |s| s.group(id)).await? {
            crate::service::widget::check_site(&g, foreign.as_deref())?;
        }
    }
    match state
        .engine
        .ask(|reply| Command::StartChat(req, reply))
        .await?
    {
        Started::Queued { chat, token } => Ok(HttpResponse::Created().json(StartChatResponse {
            status: "queued".into(),
            chat_id: Some(chat.id),
            token: Some(token),
        })),
        Started::Offline => Ok(HttpResponse::Ok().json(StartChatResponse {
            status: "offline".into(),
            chat_id: None,
            token: None,
        })),
    }
}
