//! Group administration endpoints.

use crate::domain::{Group, GroupId, GroupPatch, NewGroup};
use crate::engine::Command;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
use crate::http::extract::{AdminAuth, ManagerAuth, StaffAuth};
use crate::service::groups;
use crate::state::AppState;
use actix_web::{web, HttpResponse};

/// The groups the caller may see: all for admins, their own otherwise.
#[utoipa::path(get, path = "/api/groups", tag = "groups", responses(
    (status = 200, body = Vec<Group>), (status = 401, body = ErrorBody)))]
pub async fn list_groups(
    state: web::Data<AppState>,
    who: StaffAuth,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(groups::list(&state, &who.0).await?))
}

/// Creates a group (owner and admins).
#[utoipa::path(post, path = "/api/groups", tag = "groups", request_body = NewGroup, responses(
    (status = 201, body = Group), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_group(
    state: web::Data<AppState>,
    who: AdminAuth,
    body: Json<NewGroup>,
) -> Result<HttpResponse, AppError> {
    let group = groups::create(&state, &who.0, body.into_inner()).await?;
    state
        .engine
        .send(Command::GroupChanged(group.id, None))
        .await;
    Ok(HttpResponse::Created().json(group))
}

/// One group (404 when not visible to the caller).
#[utoipa::path(get, path = "/api/groups/{id}", tag = "groups", params(("id" = GroupId, Path, description = "Group id")),
    responses((status = 200, body = Group), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_group(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<GroupId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(groups::get(&state, &who.0, id.into_inner()).await?))
}

/// Edits a group's settings (admins; managers of that group).
#[utoipa::path(patch, path = "/api/groups/{id}", tag = "groups", params(("id" = GroupId, Path, description = "Group id")),
    request_body = GroupPatch, responses((status = 200, body = Group), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn patch_group(
    state: web::Data<AppState>,
    who: ManagerAuth,
    id: web::Path<GroupId>,
    body: Json<GroupPatch>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let group = groups::update(&state, &who.0, id, body.into_inner()).await?;
    let by = crate::engine::frames::StaffRef {
        id: who.0.staff.id,
        name: who.0.staff.display_name.clone(),
    };
    state.engine.send(Command::GroupChanged(id, Some(by))).await;
    Ok(HttpResponse::Ok().json(group))
}

/// Deletes a group; its members leave it (owner and admins). Refused with
/// 409 `group_has_open_chats` while any chat of the group is waiting,
/// offered or active: move those first.
#[utoipa::path(delete, path = "/api/groups/{id}", tag = "groups", params(("id" = GroupId, Path, description = "Group id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "The group has open chats (`group_has_open_chats`)", body = ErrorBody)))]
pub async fn delete_group(
    state: web::Data<AppState>,
    who: AdminAuth,
    id: web::Path<GroupId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    groups::check_delete(&state, &who.0, id).await?;
    state
        .engine
        .ask(|reply| Command::DeleteGroup(id, reply))
        .await?;
    tracing::info!(actor = %who.0.staff.id, group = %id, "group deleted");
    Ok(HttpResponse::NoContent().finish())
}
