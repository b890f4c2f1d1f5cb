//! Desk settings: the wrap-up reasons list.

use crate::domain::validate;
use crate::engine::Command;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::{AdminAuth, StaffAuth};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The wrap-up reasons agents choose from when ending or transferring a chat.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WrapUpReasons {
    /// 1 to 50 reasons, each 1 to 80 characters; one given twice
    /// (ignoring case) is kept once.
    pub reasons: Vec<String>,
}

/// The wrap-up reasons.
#[utoipa::path(get, path = "/api/wrap-up-reasons", tag = "settings", responses(
    (status = 200, body = WrapUpReasons), (status = 401, body = ErrorBody)))]
pub async fn get_wrap_up_reasons(
    state: web::Data<AppState>,
    _who: StaffAuth,
) -> Result<HttpResponse, AppError> {
    let reasons = state.read(|s| s.wrap_up_reasons()).await?;
    Ok(HttpResponse::Ok().json(WrapUpReasons { reasons }))
}

/// Replaces the wrap-up reasons (owner and admins).
#[utoipa::path(put, path = "/api/wrap-up-reasons", tag = "settings", request_body = WrapUpReasons, responses(
    (status = 200, body = WrapUpReasons), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put_wrap_up_reasons(
    state: web::Data<AppState>,
    _who: AdminAuth,
    body: web::Json<WrapUpReasons>,
) -> Result<HttpResponse, AppError> {
    // The list as sent counts (as the document's maxItems says), before
    // repeats are merged.
    if body.reasons.is_empty() || body.reasons.len() > 50 {
        return Err(AppError::BadRequest {
            code: "invalid_field",
            message: format!("reasons: give 1 to 50 reasons, got {}", body.reasons.len()),
        });
    }
    let mut reasons = Vec::new();
    for r in &body.reasons {
        let r = validate::text("reasons", r, 1, 80)?;
        // A reason given twice (ignoring case) is kept once, the first.
        if !reasons.iter().any(|x: &String| x.eq_ignore_ascii_case(&r)) {
            reasons.push(r);
        }
    }
    let stored = reasons.clone();
    state.write(move |s| s.set_wrap_up_reasons(&stored)).await?;
    state
        .engine
        .send(Command::WrapUpReasonsChanged(reasons.clone()))
        .await;
    Ok(HttpResponse::Ok().json(WrapUpReasons { reasons }))
}
