//! REST handlers, one file per resource. Handlers parse, authorize through
//! their extractor, call a service, and map the result; nothing else.
//! Every handler is listed in [`ApiDoc`], served at `/api/openapi.json`.

pub mod auth;
pub mod chats;
pub mod groups;
pub mod health;
pub mod settings;
pub mod setup;
pub mod staff;
pub mod visitor;

use actix_web::{HttpResponse, Responder};
use utoipa::OpenApi;

/// The OpenAPI document of every REST endpoint.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "livedesk",
        description = "REST API of livedesk, a live chat help desk. Errors are `{\"error\":{\"code\",\"message\"}}`. Staff sign in with POST /api/auth/login, which sets the `livedesk_session` cookie; state-changing requests must send the returned `csrf_token` in the `X-CSRF-Token` header."
    ),
    paths(
        health::healthz,
        health::readyz,
        setup::post_setup,
        auth::post_login,
        auth::post_logout,
        auth::get_me,
        auth::post_password,
        staff::list_staff,
        staff::post_staff,
        staff::get_staff,
        staff::patch_staff,
        staff::post_staff_password,
        staff::post_transfer_ownership,
        groups::list_groups,
        groups::post_group,
        groups::get_group,
        groups::patch_group,
        groups::delete_group,
        visitor::post_chat,
        chats::list_chats,
        chats::get_chat,
        chats::post_bulk_transfer,
        chats::post_bulk_delete,
        settings::get_wrap_up_reasons,
        settings::put_wrap_up_reasons,
    ),
    tags(
        (name = "health", description = "Process and store health"),
        (name = "auth", description = "Setup, sign-in, sessions"),
        (name = "staff", description = "Staff administration"),
        (name = "groups", description = "Group administration"),
        (name = "settings", description = "Desk settings"),
        (name = "chats", description = "Chat lists and transcripts for staff"),
        (name = "visitor", description = "The chat widget's endpoints"),
    )
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> impl Responder {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
