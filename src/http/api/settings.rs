//! Desk settings: the wrap-up reasons list, masking, and what the config
//! file says about the sites allowed to embed the widget.

use crate::domain::validate;
use crate::engine::Command;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
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
    #[schema(min_items = 1, max_items = 50)]
    pub reasons: Vec<String>,
    /// Those of `reasons` whose chats become tickets when a chat ends with
    /// them (a new desk: "Follow-up needed"); one not in `reasons` is added
    /// to them (409 `too_many_reasons` past 50 in all). Left out of a PUT:
    /// kept as they were, less any reason no longer listed.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub creates_ticket: Option<Vec<String>>,
}

/// The wrap-up reasons.
#[utoipa::path(get, path = "/api/wrap-up-reasons", tag = "settings", responses(
    (status = 200, body = WrapUpReasons), (status = 401, body = ErrorBody)))]
pub async fn get_wrap_up_reasons(
    state: web::Data<AppState>,
    _who: StaffAuth,
) -> Result<HttpResponse, AppError> {
    let (reasons, tickets) = state
        .read(|s| Ok((s.wrap_up_reasons()?, s.ticket_reasons()?)))
        .await?;
    Ok(HttpResponse::Ok().json(WrapUpReasons {
        reasons,
        creates_ticket: Some(tickets),
    }))
}

/// Replaces the wrap-up reasons (owner and admins).
#[utoipa::path(put, path = "/api/wrap-up-reasons", tag = "settings", request_body = WrapUpReasons, responses(
    (status = 200, body = WrapUpReasons), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put_wrap_up_reasons(
    state: web::Data<AppState>,
    _who: AdminAuth,
    body: Json<WrapUpReasons>,
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
    let listed = |reasons: &[String], r: &str| {
        reasons
            .iter()
            .find(|x| x.eq_ignore_ascii_case(r.trim()))
            .cloned()
    };
    let tickets: Vec<String> = match &body.creates_ticket {
        Some(given) => {
            if given.len() > 50 {
                return Err(AppError::BadRequest {
                    code: "invalid_field",
                    message: "creates_ticket: at most 50 reasons".into(),
                });
            }
            let mut out = Vec::new();
            for r in given {
                // A reason that makes tickets is a reason: one not in
                // `reasons` is added to them.
                let r = validate::text("creates_ticket", r, 1, 80)?;
                let r = match listed(&reasons, &r) {
                    Some(r) => r,
                    None => {
                        reasons.push(r.clone());
                        r
                    }
                };
                if !out.contains(&r) {
                    out.push(r);
                }
            }
            if reasons.len() > 50 {
                return Err(AppError::Conflict {
                    code: "too_many_reasons",
                    message: format!(
                        "reasons and creates_ticket together name {} reasons; at most 50",
                        reasons.len()
                    ),
                });
            }
            out
        }
        None => state
            .read(|s| s.ticket_reasons())
            .await?
            .iter()
            .filter_map(|r| listed(&reasons, r))
            .collect(),
    };
    let (stored, stored_t) = (reasons.clone(), tickets.clone());
    state
        .write(move |s| s.set_wrap_up_reasons_and_tickets(&stored, &stored_t))
        .await?;
    state
        .engine
        .send(Command::WrapUpReasonsChanged(
            reasons.clone(),
            tickets.clone(),
        ))
        .await;
    Ok(HttpResponse::Ok().json(WrapUpReasons {
        reasons,
        creates_ticket: Some(tickets),
    }))
}

/// The desk's settings as admins see them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeskSettings {
    /// Masking of card numbers, IBANs, SSNs, emails and phone numbers in
    /// what staff see, now.
    pub mask_pii: bool,
    /// What the config file says (`[chat] mask_pii`); the console's switch
    /// wins once used.
    pub mask_pii_configured: bool,
    /// `[widget] allowed_origins` from the config file: sites whose pages
    /// may embed every group's widget (read-only here).
    pub allowed_origins: Vec<String>,
    /// The address the desk is reached at (`[server] public_url`).
    pub public_url: String,
}

/// A change of settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// Masking on or off, for every staff screen and socket at once.
    pub mask_pii: Option<bool>,
}

fn desk_settings(state: &AppState) -> DeskSettings {
    DeskSettings {
        mask_pii: state.config.chat.mask_pii.get(),
        mask_pii_configured: state.config.chat.mask_pii.configured,
        allowed_origins: state.config.widget.allowed_origins.clone(),
        public_url: state.config.public_url(),
    }
}

/// The desk's settings (owner and admins).
#[utoipa::path(get, path = "/api/settings", tag = "settings", responses(
    (status = 200, body = DeskSettings), (status = 403, body = ErrorBody)))]
pub async fn get_settings(
    state: web::Data<AppState>,
    _who: AdminAuth,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(desk_settings(&state)))
}

/// Changes settings (owner and admins): masking takes effect at once for
/// new frames, lists and transcripts, and is kept across restarts.
#[utoipa::path(patch, path = "/api/settings", tag = "settings", request_body = SettingsPatch, responses(
    (status = 200, body = DeskSettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn patch_settings(
    state: web::Data<AppState>,
    who: AdminAuth,
    body: Json<SettingsPatch>,
) -> Result<HttpResponse, AppError> {
    if let Some(on) = body.mask_pii {
        state.write(move |s| s.set_mask_setting(on)).await?;
        state.config.chat.mask_pii.set(on);
        tracing::info!(by = %who.0.staff.id, mask_pii = on, "masking switched");
    }
    Ok(HttpResponse::Ok().json(desk_settings(&state)))
}
