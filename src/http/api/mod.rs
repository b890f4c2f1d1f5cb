//! REST handlers, one file per resource. Handlers parse, authorize through
//! their extractor, call a service, and map the result; nothing else.
//! Every handler is listed in [`ApiDoc`], served at `/api/openapi.json`.

pub mod auth;
pub mod backup;
pub mod chats;
pub mod groups;
pub mod health;
pub mod settings;
pub mod setup;
pub mod staff;
pub mod visitor;

use actix_web::{HttpResponse, Responder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

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
        backup::get_backup,
    ),
    components(schemas(
        crate::service::chats::Scope,
        crate::service::chats::StateFilter,
        crate::domain::chat_list::SortKey,
    )),
    modifiers(&CommonErrors),
    tags(
        (name = "health", description = "Process and store health"),
        (name = "auth", description = "Setup, sign-in, sessions"),
        (name = "staff", description = "Staff administration"),
        (name = "groups", description = "Group administration"),
        (name = "settings", description = "Desk settings"),
        (name = "chats", description = "Chat lists and transcripts for staff"),
        (name = "visitor", description = "The chat widget's endpoints"),
        (name = "backup", description = "Backups of the running desk"),
    )
)]
pub struct ApiDoc;

/// The error answers every operation of a kind can give, documented in one
/// place rather than on each handler: a bad path id, a body that is not
/// JSON or too large, no session, a refused CSRF token or Origin, and a
/// store that cannot write.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = !path.starts_with("/api/")
                || path.starts_with("/api/visitor/")
                || path == "/api/setup"
                || path == "/api/auth/login";
            let ops = [
                (false, item.get.as_mut()),
                (true, item.post.as_mut()),
                (true, item.put.as_mut()),
                (true, item.patch.as_mut()),
                (true, item.delete.as_mut()),
            ];
            for (writes, op) in ops {
                if let Some(op) = op {
                    add_errors(op, public, writes);
                }
            }
        }
    }
}

fn add_errors(op: &mut Operation, public: bool, writes: bool) {
    let has_path_id = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let mut add = |status: &str, description: &str| {
        let error = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert(error.into());
    };
    if has_path_id {
        add("400", "`invalid_id`: the id in the path is not a UUID");
    }
    if op.request_body.is_some() {
        add(
            "400",
            "`invalid_json` or `invalid_field`: the body does not fit",
        );
        add("413", "`body_too_large`: over `server.max_body_bytes`");
        add(
            "415",
            "`expected_json`: send Content-Type: application/json",
        );
    }
    if !public {
        add("401", "`not_signed_in` or `session_ended`: sign in");
    }
    if writes && !public {
        add("403", "`csrf_rejected` or `forbidden`");
    }
    if writes {
        add("503", "`store_unavailable`: the store could not write");
        add(
            "507",
            "`disk_full`: the disk is below `storage.min_free_mb`",
        );
    }
}

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> impl Responder {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
