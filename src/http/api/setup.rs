//! First-run setup: the one-time link creates the owner.

use super::auth::{signed_in, SignedIn};
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
use crate::service::setup::{self, SetupCheck, SetupRequest};
use crate::state::AppState;
use actix_web::{web, HttpResponse};

/// Creates the owner with the token of the setup link, and signs them in.
#[utoipa::path(post, path = "/api/setup", tag = "auth", request_body = SetupRequest, responses(
    (status = 200, body = SignedIn), (status = 400, body = ErrorBody),
    (status = 404, description = "`setup_link_invalid`: the link is unknown, used or expired", body = ErrorBody),
    (status = 409, body = ErrorBody)))]
pub async fn post_setup(
    state: web::Data<AppState>,
    body: Json<SetupRequest>,
) -> Result<HttpResponse, AppError> {
    let issued = setup::complete(&state, body.into_inner()).await?;
    Ok(signed_in(&state, issued))
}

/// Says whether a setup link still works, before its form is filled in:
/// 204, or 404 `setup_link_invalid` (unknown, used, expired, or the owner
/// exists already).
#[utoipa::path(post, path = "/api/setup/check", tag = "auth", request_body = SetupCheck, responses(
    (status = 204, description = "The link works"), (status = 400, body = ErrorBody),
    (status = 404, description = "`setup_link_invalid`: the link is unknown, used or expired", body = ErrorBody)))]
pub async fn post_setup_check(
    state: web::Data<AppState>,
    body: Json<SetupCheck>,
) -> Result<HttpResponse, AppError> {
    setup::check(&state, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
