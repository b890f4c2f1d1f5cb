//! `/healthz` (the process answers) and `/readyz` (the store is open and
//! its last flush succeeded).

use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

/// Health answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
}

/// Process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Store is open and writable.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, body = Health), (status = 503, body = Health)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.clone();
    let ready = crate::state::blocking(move || store.is_ready())
        .await
        .unwrap_or(false);
    if ready {
        HttpResponse::Ok().json(Health { status: "ok" })
    } else {
        HttpResponse::ServiceUnavailable().json(Health {
            status: "unavailable",
        })
    }
}
