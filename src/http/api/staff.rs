//! Staff administration endpoints.

use crate::domain::{NewStaff, Staff, StaffId, StaffPatch};
use crate::engine::Command;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
use crate::http::extract::{AdminAuth, StaffAuth};
use crate::service::staff;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

/// A new password set by an administrator.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordRequest {
    /// The new password (8 to 256 characters).
    pub password: String,
}

/// The staff the caller may see: everyone for admins, the members of their
/// groups for managers, themselves for agents.
#[utoipa::path(get, path = "/api/staff", tag = "staff", responses(
    (status = 200, body = Vec<Staff>), (status = 401, body = ErrorBody)))]
pub async fn list_staff(
    state: web::Data<AppState>,
    who: StaffAuth,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(staff::list(&state, &who.0).await?))
}

/// Creates a staff member (owner and admins).
#[utoipa::path(post, path = "/api/staff", tag = "staff", request_body = NewStaff, responses(
    (status = 201, body = Staff), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_staff(
    state: web::Data<AppState>,
    who: AdminAuth,
    body: Json<NewStaff>,
) -> Result<HttpResponse, AppError> {
    let created = staff::create(&state, &who.0, body.into_inner()).await?;
    state
        .engine
        .send(Command::StaffChanged(created.clone()))
        .await;
    Ok(HttpResponse::Created().json(created))
}

/// One staff member (404 when not visible to the caller).
#[utoipa::path(get, path = "/api/staff/{id}", tag = "staff", params(("id" = StaffId, Path, description = "Staff id")),
    responses((status = 200, body = Staff), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_staff(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<StaffId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(staff::get(&state, &who.0, id.into_inner()).await?))
}

/// Edits a staff member; `disabled: true` ends their sessions.
#[utoipa::path(patch, path = "/api/staff/{id}", tag = "staff", params(("id" = StaffId, Path, description = "Staff id")),
    request_body = StaffPatch, responses((status = 200, body = Staff), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn patch_staff(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<StaffId>,
    body: Json<StaffPatch>,
) -> Result<HttpResponse, AppError> {
    let updated = staff::update(&state, &who.0, id.into_inner(), body.into_inner()).await?;
    state
        .engine
        .send(Command::StaffChanged(updated.clone()))
        .await;
    Ok(HttpResponse::Ok().json(updated))
}

/// Sets another staff member's password (owner and admins); their sessions end.
#[utoipa::path(post, path = "/api/staff/{id}/password", tag = "staff", params(("id" = StaffId, Path, description = "Staff id")),
    request_body = SetPasswordRequest, responses((status = 204, description = "Set"), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn post_staff_password(
    state: web::Data<AppState>,
    who: AdminAuth,
    id: web::Path<StaffId>,
    body: Json<SetPasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    staff::reset_password(&state, &who.0, id, body.into_inner().password).await?;
    state.engine.send(Command::SessionsEnded(id, None)).await;
    Ok(HttpResponse::NoContent().finish())
}

/// The owner hands ownership to an admin and becomes an admin.
#[utoipa::path(post, path = "/api/staff/{id}/transfer-ownership", tag = "staff", params(("id" = StaffId, Path, description = "Id of the admin who becomes owner")),
    responses((status = 200, body = Staff), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn post_transfer_ownership(
    state: web::Data<AppState>,
    who: AdminAuth,
    id: web::Path<StaffId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(staff::transfer_ownership(&state, &who.0, id.into_inner()).await?))
}
