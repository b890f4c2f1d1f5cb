//! Mail: the outbox as admins see it, sending a failed mail again, and the
//! widget's "email me the transcript".

use crate::domain::MailId;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
use crate::http::extract::{visitor_start, AdminAuth};
use crate::service::mail::{
    self, MailOutbox, MailQuery, MailView, TranscriptQueued, TranscriptRequest,
};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// Whether mail is set up, how many mails are pending, failed and sent,
/// and the newest mails (admins).
#[utoipa::path(get, path = "/api/mail", tag = "mail", params(MailQuery), responses(
    (status = 200, body = MailOutbox), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_mail(
    state: web::Data<AppState>,
    _who: AdminAuth,
    query: web::Query<MailQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(mail::outbox(&state, query.into_inner()).await?))
}

/// Sends a failed mail again: it is pending, due at once, with its attempts
/// counted anew (admins).
#[utoipa::path(post, path = "/api/mail/{id}/retry", tag = "mail",
    params(("id" = String, Path, format = "uuid", description = "Mail id")),
    responses((status = 200, body = MailView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`mail_not_found`"),
        (status = 409, body = ErrorBody, description = "`mail_not_failed`: it is pending or sent")))]
pub async fn post_retry(
    state: web::Data<AppState>,
    _who: AdminAuth,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: MailId = id.parse().map_err(|_| AppError::BadRequest {
        code: "invalid_id",
        message: format!("not a valid mail id: {id}"),
    })?;
    Ok(HttpResponse::Ok().json(mail::retry(&state, id).await?))
}

/// Mails the transcript of an ended chat to the visitor (201); a chat sends
/// one: asking again answers 200 with the first mail.
#[utoipa::path(post, path = "/api/visitor/transcript", tag = "visitor", request_body = TranscriptRequest, responses(
    (status = 201, body = TranscriptQueued), (status = 200, body = TranscriptQueued, description = "The chat's transcript mail, asked for before"),
    (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "`chat_not_found`: no chat has this token"),
    (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
    (status = 409, body = ErrorBody, description = "`chat_not_ended`, or `mail_not_configured`: this desk sends no mail"),
    (status = 429, body = ErrorBody, description = "Too many from this address; see Retry-After")))]
pub async fn post_transcript(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<TranscriptRequest>,
) -> Result<HttpResponse, AppError> {
    let foreign = visitor_start(&state, &req)?;
    let (queued, new) = mail::transcript(&state, body.into_inner(), foreign).await?;
    Ok(if new {
        HttpResponse::Created().json(queued)
    } else {
        HttpResponse::Ok().json(queued)
    })
}

/// The CORS preflight of the transcript request (as for `/api/visitor/chats`).
#[utoipa::path(options, path = "/api/visitor/transcript", tag = "visitor", responses(
    (status = 204, description = "Allowed; see the Access-Control-* headers"),
    (status = 403, body = ErrorBody, description = "`origin_not_allowed`")))]
pub async fn options_transcript() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Allow", "POST, OPTIONS"))
        .finish()
}
