//! Canned responses: the caller's list, adding, changing and deleting.

use crate::domain::canned::Canned;
use crate::domain::CannedId;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
use crate::http::extract::StaffAuth;
use crate::service::canned::{self, CannedPatch, CannedQuery, NewCanned};
use crate::state::AppState;
use actix_web::{web, HttpResponse};

fn id_of(raw: &str) -> Result<CannedId, AppError> {
    raw.parse().map_err(|_| AppError::BadRequest {
        code: "invalid_id",
        message: format!("not a valid canned response id: {raw}"),
    })
}

/// What the caller can insert: the shared responses and their own (their
/// own hides a shared one with the same shortcut), by shortcut; with
/// `all=true` every one they see.
#[utoipa::path(get, path = "/api/canned", tag = "canned", params(CannedQuery), responses(
    (status = 200, body = [Canned]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_canned(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<CannedQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(canned::list(&state, &who.0, query.into_inner()).await?))
}

/// Adds a personal response, or a shared one (admins).
#[utoipa::path(post, path = "/api/canned", tag = "canned", request_body = NewCanned, responses(
    (status = 201, body = Canned), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "A shared one, by someone who is not an admin"),
    (status = 409, body = ErrorBody, description = "`shortcut_taken` in that scope, or `too_many_canned`")))]
pub async fn post_canned(
    state: web::Data<AppState>,
    who: StaffAuth,
    body: Json<NewCanned>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(canned::create(&state, &who.0, body.into_inner()).await?))
}

/// Changes a response: your own, or a shared one as an admin.
#[utoipa::path(patch, path = "/api/canned/{id}", tag = "canned", request_body = CannedPatch,
    params(("id" = String, Path, format = "uuid", description = "Canned response id")),
    responses((status = 200, body = Canned), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "A shared one, by someone who is not an admin"),
        (status = 404, body = ErrorBody, description = "`canned_not_found`: none, or another's"),
        (status = 409, body = ErrorBody, description = "`shortcut_taken`")))]
pub async fn patch_canned(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<String>,
    body: Json<CannedPatch>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&id)?;
    Ok(HttpResponse::Ok().json(canned::update(&state, &who.0, id, body.into_inner()).await?))
}

/// Deletes a response: your own, or a shared one as an admin.
#[utoipa::path(delete, path = "/api/canned/{id}", tag = "canned",
    params(("id" = String, Path, format = "uuid", description = "Canned response id")),
    responses((status = 204, description = "Deleted"),
        (status = 403, body = ErrorBody, description = "A shared one, by someone who is not an admin"),
        (status = 404, body = ErrorBody, description = "`canned_not_found`")))]
pub async fn delete_canned(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&id)?;
    canned::delete(&state, &who.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
