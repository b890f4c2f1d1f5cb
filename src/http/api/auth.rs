//! Sign-in, sign-out, who am I, and changing one's own password.

use crate::domain::Staff;
use crate::engine::Command;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
use crate::http::extract::{client_addr, StaffAuth, SESSION_COOKIE};
use crate::service::auth::{self, IssuedSession};
use crate::state::AppState;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Sign-in form.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Sign-in email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Who is signed in, and the token to echo in `X-CSRF-Token`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SignedIn {
    /// The signed-in staff member.
    pub staff: Staff,
    /// Send in the `X-CSRF-Token` header of every POST, PATCH and DELETE.
    pub csrf_token: String,
}

/// Own password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password now.
    pub current_password: String,
    /// The new password (8 to 256 characters).
    pub new_password: String,
}

/// The session cookie for a new session.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let lifetime = state.config.auth.session_max_lifetime.as_secs() as i64;
    Cookie::build(SESSION_COOKIE, token)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.cookies_secure())
        .path("/")
        .max_age(time::Duration::seconds(lifetime))
        .finish()
}

/// The response of a successful sign-in or setup.
pub fn signed_in(state: &AppState, issued: IssuedSession) -> HttpResponse {
    HttpResponse::Ok()
        .cookie(session_cookie(state, issued.token))
        .json(SignedIn {
            staff: issued.staff,
            csrf_token: issued.csrf_token,
        })
}

/// Signs in. The error never says whether the email exists.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = SignedIn, description = "Signed in; sets the session cookie"),
    (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 429, body = ErrorBody, description = "Too many failures; see Retry-After")))]
pub async fn post_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let issued = auth::sign_in(&state, &body.email, body.password, &client_addr(&req)).await?;
    Ok(signed_in(&state, issued))
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses(
    (status = 204, description = "Signed out"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn post_logout(
    state: web::Data<AppState>,
    who: StaffAuth,
) -> Result<HttpResponse, AppError> {
    auth::sign_out(&state, &who.0).await?;
    state
        .engine
        .send(Command::SessionClosed(who.0.staff.id, who.0.token_hash))
        .await;
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

/// The signed-in staff member.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses(
    (status = 200, body = SignedIn), (status = 401, body = ErrorBody)))]
pub async fn get_me(who: StaffAuth) -> HttpResponse {
    HttpResponse::Ok().json(SignedIn {
        staff: who.0.staff,
        csrf_token: who.0.csrf_token,
    })
}

/// Changes one's own password; every other session of theirs ends.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", request_body = ChangePasswordRequest, responses(
    (status = 204, description = "Changed"), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn post_password(
    state: web::Data<AppState>,
    who: StaffAuth,
    body: Json<ChangePasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    auth::change_own_password(&state, &who.0, body.current_password, body.new_password).await?;
    let keep = Some(who.0.token_hash);
    state
        .engine
        .send(Command::SessionsEnded(who.0.staff.id, keep))
        .await;
    Ok(HttpResponse::NoContent().finish())
}
