//! Role-typed extractors: a handler's signature says who may call it.
//! `StaffAuth` is any signed-in staff member, `ManagerAuth` a manager or
//! above, `AdminAuth` the owner or an admin. State-changing requests must
//! also carry the session's CSRF token in `X-CSRF-Token`. Finer rules (own
//! groups, the owner) live in `domain::permissions`.

use crate::domain::Role;
use crate::error::AppError;
use crate::service::auth::{self, AuthContext};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "livedesk_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, AppError>>>>;

/// Any signed-in staff member.
pub struct StaffAuth(pub AuthContext);
/// A manager, admin or the owner.
pub struct ManagerAuth(pub AuthContext);
/// An admin or the owner.
pub struct AdminAuth(pub AuthContext);

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn authenticate(req: &HttpRequest) -> Fut<AuthContext> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
    let csrf = (!is_safe(req.method())).then(|| {
        req.headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    });
    Box::pin(async move {
        let state = state.ok_or_else(|| AppError::Internal("state missing".into()))?;
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(AppError::NotSignedIn)?;
        let ctx = auth::resolve(&state, &token).await?;
        if let Some(sent) = csrf {
            if !auth::same_secret(&sent, &ctx.csrf_token) {
                return Err(AppError::CsrfRejected);
            }
        }
        Ok(ctx)
    })
}

impl FromRequest for StaffAuth {
    type Error = AppError;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = authenticate(req);
        Box::pin(async move { Ok(StaffAuth(fut.await?)) })
    }
}

/// Authenticates, then admits only roles that `allowed` accepts.
fn gate(req: &HttpRequest, allowed: fn(Role) -> bool, refusal: &'static str) -> Fut<AuthContext> {
    let fut = authenticate(req);
    Box::pin(async move {
        let ctx = fut.await?;
        if allowed(ctx.staff.role) {
            Ok(ctx)
        } else {
            Err(AppError::Forbidden(refusal.into()))
        }
    })
}

impl FromRequest for ManagerAuth {
    type Error = AppError;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = gate(
            req,
            |r| r.is_admin() || r == Role::Manager,
            "this needs a manager, an admin or the owner",
        );
        Box::pin(async move { Ok(ManagerAuth(fut.await?)) })
    }
}

impl FromRequest for AdminAuth {
    type Error = AppError;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = gate(req, Role::is_admin, "this needs an admin or the owner");
        Box::pin(async move { Ok(AdminAuth(fut.await?)) })
    }
}

/// A visitor's request that starts something (a chat, an offline message,
/// a transcript mail): taken from its address's start limit (429 past it),
/// and the page's origin when it is another site's.
pub fn visitor_start(state: &AppState, req: &HttpRequest) -> Result<Option<String>, AppError> {
    state
        .visitor_limits
        .starts
        .take(&client_addr(req), state.now())
        .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
    Ok(crate::http::middleware::foreign_origin(req))
}

/// The client's address as seen on the socket (never a forwarded header,
/// which a client could forge to dodge sign-in limiting).
pub fn client_addr(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A JSON request body that must be an object, read as `T`. serde reads a
/// struct from an array too (`[null, null]` as a patch of two fields);
/// every body of this API is an object, and the document says so, so
/// anything else answers 400 `invalid_json`.
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = body.await?.into_inner();
            if !value.is_object() {
                return Err(AppError::BadRequest {
                    code: "invalid_json",
                    message: "the request body must be a JSON object ({\"field\": value, …})"
                        .into(),
                }
                .into());
            }
            serde_json::from_value(value).map(Json).map_err(|d| {
                AppError::BadRequest {
                    code: "invalid_json",
                    message: format!("the request body does not fit this endpoint: {d}"),
                }
                .into()
            })
        })
    }
}
