//! Shifts: who the schedule switches on and off, and when.

use crate::domain::shift::{ShiftRule, StoredShift};
use crate::domain::ShiftId;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
use crate::http::extract::{ManagerAuth, StaffAuth};
use crate::service::shifts;
use crate::state::AppState;
use actix_web::{web, HttpResponse};

/// The shifts the caller may see: admins all, managers those of their
/// groups, everyone those that cover them.
#[utoipa::path(get, path = "/api/shifts", tag = "shifts", responses(
    (status = 200, body = [StoredShift]), (status = 401, body = ErrorBody)))]
pub async fn list_shifts(
    state: web::Data<AppState>,
    who: StaffAuth,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(shifts::list(&state, &who.0).await?))
}

/// Adds a shift (admins; managers for their own groups and agents). The
/// schedule applies it at once.
#[utoipa::path(post, path = "/api/shifts", tag = "shifts", request_body = ShiftRule, responses(
    (status = 201, body = StoredShift), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "An agent or group it names does not exist")))]
pub async fn post_shift(
    state: web::Data<AppState>,
    who: ManagerAuth,
    body: Json<ShiftRule>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(shifts::create(&state, &who.0, body.into_inner()).await?))
}

/// Replaces a shift's rule.
#[utoipa::path(put, path = "/api/shifts/{id}", tag = "shifts", request_body = ShiftRule,
    params(("id" = ShiftId, Path, description = "Shift id")), responses(
    (status = 200, body = StoredShift), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn put_shift(
    state: web::Data<AppState>,
    who: ManagerAuth,
    id: web::Path<ShiftId>,
    body: Json<ShiftRule>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .json(shifts::replace(&state, &who.0, id.into_inner(), body.into_inner()).await?))
}

/// Deletes a shift; its agents are left as they are until they change.
#[utoipa::path(delete, path = "/api/shifts/{id}", tag = "shifts",
    params(("id" = ShiftId, Path, description = "Shift id")), responses(
    (status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_shift(
    state: web::Data<AppState>,
    who: ManagerAuth,
    id: web::Path<ShiftId>,
) -> Result<HttpResponse, AppError> {
    shifts::delete(&state, &who.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A group's own opening hours (for a group no shift lists) and its closed
/// dates, in the group's time zone.
#[utoipa::path(get, path = "/api/groups/{id}/hours", tag = "shifts",
    params(("id" = crate::domain::GroupId, Path, description = "Group id")), responses(
    (status = 200, body = crate::domain::hours::GroupHours), (status = 404, body = ErrorBody)))]
pub async fn get_hours(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<crate::domain::GroupId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(shifts::hours(&state, &who.0, id.into_inner()).await?))
}

/// Replaces a group's own hours and closed dates (admins; managers of the
/// group). The schedule applies them at once.
#[utoipa::path(put, path = "/api/groups/{id}/hours", tag = "shifts", request_body = crate::domain::hours::GroupHours,
    params(("id" = crate::domain::GroupId, Path, description = "Group id")), responses(
    (status = 200, body = crate::domain::hours::GroupHours), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_hours(
    state: web::Data<AppState>,
    who: ManagerAuth,
    id: web::Path<crate::domain::GroupId>,
    body: Json<crate::domain::hours::GroupHours>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .json(shifts::set_hours(&state, &who.0, id.into_inner(), body.into_inner()).await?))
}
