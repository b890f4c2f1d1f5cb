//! The widget's information and offline-message endpoints, and the staff
//! list of offline messages.

use crate::domain::offline::NewOfflineMessage;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
use crate::http::extract::{visitor_start, StaffAuth};
use crate::http::middleware::foreign_origin;
use crate::service::ratings::{self, RatingRequest, RatingView};
use crate::service::widget::{
    self, OfflineLeft, OfflinePage, OfflineQuery, WidgetInfo, WidgetQuery,
};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// What the widget shows for its groups: look, language, sneak peek, and
/// whether each takes chats now (`open`; false: the message form).
#[utoipa::path(get, path = "/api/visitor/widget", tag = "visitor", params(WidgetQuery), responses(
    (status = 200, body = WidgetInfo), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`origin_not_allowed`: the page's site is not in [widget] allowed_origins")))]
pub async fn get_widget(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<WidgetQuery>,
) -> Result<HttpResponse, AppError> {
    let foreign = foreign_origin(&req);
    Ok(HttpResponse::Ok().json(widget::info(&state, query.into_inner(), foreign).await?))
}

/// Leaves an offline message for a group (the widget's message form). It
/// is on disk when this answers.
#[utoipa::path(post, path = "/api/visitor/offline_messages", tag = "visitor", request_body = NewOfflineMessage, responses(
    (status = 201, body = OfflineLeft), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`origin_not_allowed`: the page's site is not in [widget] allowed_origins"),
    (status = 429, body = ErrorBody, description = "Too many from this address; see Retry-After"),
    (status = 507, body = ErrorBody, description = "`disk_full`: try again later")))]
pub async fn post_offline_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<NewOfflineMessage>,
) -> Result<HttpResponse, AppError> {
    let foreign = visitor_start(&state, &req)?;
    Ok(HttpResponse::Created().json(widget::leave(&state, body.into_inner(), foreign).await?))
}

/// Rates an ended chat an agent answered, once (the widget asks when the
/// chat ends).
#[utoipa::path(post, path = "/api/visitor/rating", tag = "visitor", request_body = RatingRequest, responses(
    (status = 201, body = RatingView), (status = 400, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`chat_not_found`: no chat has this token"),
    (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
    (status = 409, body = ErrorBody, description = "`already_rated`, `chat_not_ended`, or `chat_not_answered` (a missed chat)"),
    (status = 429, body = ErrorBody, description = "Too many from this address; see Retry-After")))]
pub async fn post_rating(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<RatingRequest>,
) -> Result<HttpResponse, AppError> {
    let foreign = visitor_start(&state, &req)?;
    Ok(HttpResponse::Created().json(ratings::rate(&state, body.into_inner(), foreign).await?))
}

/// Satisfaction over the last days: good and bad ratings and the latest
/// comments (admins: every chat; managers: their groups' and their own;
/// agents: their own).
#[utoipa::path(get, path = "/api/ratings/summary", tag = "chats", params(ratings::SummaryQuery), responses(
    (status = 200, body = ratings::RatingSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn get_rating_summary(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<ratings::SummaryQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(ratings::summary(&state, &who.0, query.into_inner()).await?))
}

/// The CORS preflight of the rating (as for `/api/visitor/chats`).
#[utoipa::path(options, path = "/api/visitor/rating", tag = "visitor", responses(
    (status = 204, description = "Allowed; see the Access-Control-* headers"),
    (status = 403, body = ErrorBody, description = "`origin_not_allowed`")))]
pub async fn options_rating() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Allow", "POST, OPTIONS"))
        .finish()
}

/// The CORS preflight of the message form (as for `/api/visitor/chats`).
#[utoipa::path(options, path = "/api/visitor/offline_messages", tag = "visitor", responses(
    (status = 204, description = "Allowed; see the Access-Control-* headers"),
    (status = 403, body = ErrorBody, description = "`origin_not_allowed`")))]
pub async fn options_offline_messages() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Allow", "POST, OPTIONS"))
        .finish()
}

/// Offline messages of the caller's groups (admins: all), newest first.
#[utoipa::path(get, path = "/api/offline_messages", tag = "chats", params(OfflineQuery), responses(
    (status = 200, body = OfflinePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_offline_messages(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<OfflineQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(widget::list(&state, &who.0, query.into_inner()).await?))
}
