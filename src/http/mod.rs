//! The HTTP surface. This file is THE route table; handlers live in
//! `api/` (REST), `ws/` (websockets) and `assets.rs` (embedded files).
//! Request-shape errors (bad JSON, bad ids, oversized bodies, unknown
//! routes) become `AppError`s here so every error has the same JSON shape.

pub mod api;
pub mod assets;
pub mod extract;
pub mod middleware;
pub mod ws;

use crate::error::AppError;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError};
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpRequest, HttpResponse, Resource};

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let e = match &err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            AppError::BodyTooLarge { limit: *limit }
        }
        JsonPayloadError::ContentType => AppError::ExpectedJson,
        JsonPayloadError::Deserialize(d) => AppError::BadRequest {
            code: "invalid_json",
            message: format!("the request body does not fit this endpoint: {d}"),
        },
        other => AppError::BadRequest {
            code: "invalid_json",
            message: format!("the request body could not be read: {other}"),
        },
    };
    e.into()
}

fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::BadRequest {
        code: "invalid_id",
        message: format!("the id in the path is not valid: {err}; ids are UUIDs and ticket numbers whole numbers"),
    }
    .into()
}

fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    AppError::BadRequest {
        code: "invalid_query",
        message: format!("the query string does not fit this endpoint: {err}"),
    }
    .into()
}

async fn no_route(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::no_route(req.method().as_str(), req.path()))
}

/// A JSON 405 with the `Allow` header HTTP asks for. The methods a path
/// takes are read from the OpenAPI document, which a test holds to the
/// route table; pages, assets and websockets outside it take GET.
async fn wrong_method(req: HttpRequest) -> HttpResponse {
    let err = AppError::MethodNotAllowed {
        method: req.method().to_string(),
    };
    let allow = req
        .match_pattern()
        .and_then(|pattern| api::allowed_methods(&pattern))
        .unwrap_or_else(|| "GET".to_string());
    let mut res = actix_web::ResponseError::error_response(&err);
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&allow) {
        res.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    res
}

/// A resource whose unknown methods answer a JSON 405.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(wrong_method))
}

/// Article bodies are longer than anything else a client sends: 50,000
/// characters, each up to 12 bytes as JSON escapes, whatever
/// `max_body_bytes` says.
fn article_json() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(crate::domain::article::MAX_BODY_CHARS * 12 + 8192)
        .error_handler(json_error)
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use api::{auth, groups, health, setup, staff};
    use web::{delete, get, patch, post};
    cfg.service(resource("/healthz").route(get().to(health::healthz)))
        .service(resource("/readyz").route(get().to(health::readyz)))
        .service(resource("/").route(get().to(assets::console)))
        .service(resource("/setup").route(get().to(assets::setup_page)))
        .service(resource("/widget.js").route(get().to(assets::widget_loader)))
        .service(resource("/widget/panel").route(get().to(assets::widget_panel)))
        .service(resource("/chat").route(get().to(assets::widget_panel)))
        .service(resource("/assets/{path:.*}").route(get().to(assets::asset)))
        .service(resource("/kb/{id}").route(get().to(api::articles::article_page)))
        .service(
            web::scope("/api")
                .service(resource("/openapi.json").route(get().to(api::openapi_json)))
                .service(resource("/setup").route(post().to(setup::post_setup)))
                .service(resource("/setup/check").route(post().to(setup::post_setup_check)))
                .service(resource("/auth/login").route(post().to(auth::post_login)))
                .service(resource("/auth/logout").route(post().to(auth::post_logout)))
                .service(resource("/auth/me").route(get().to(auth::get_me)))
                .service(resource("/auth/password").route(post().to(auth::post_password)))
                .service(
                    resource("/staff")
                        .route(get().to(staff::list_staff))
                        .route(post().to(staff::post_staff)),
                )
                .service(
                    resource("/staff/{id}")
                        .route(get().to(staff::get_staff))
                        .route(patch().to(staff::patch_staff)),
                )
                .service(
                    resource("/staff/{id}/password").route(post().to(staff::post_staff_password)),
                )
                .service(
                    resource("/staff/{id}/transfer-ownership")
                        .route(post().to(staff::post_transfer_ownership)),
                )
                .service(
                    resource("/groups")
                        .route(get().to(groups::list_groups))
                        .route(post().to(groups::post_group)),
                )
                .service(
                    resource("/groups/{id}")
                        .route(get().to(groups::get_group))
                        .route(patch().to(groups::patch_group))
                        .route(delete().to(groups::delete_group)),
                )
                .service(
                    resource("/tickets")
                        .route(get().to(api::tickets::list_tickets))
                        .route(post().to(api::tickets::post_ticket)),
                )
                .service(resource("/tickets/summary").route(get().to(api::tickets::get_summary)))
                .service(
                    resource("/tickets/{number}")
                        .route(get().to(api::tickets::get_ticket))
                        .route(patch().to(api::tickets::patch_ticket)),
                )
                .service(
                    resource("/tickets/{number}/notes").route(post().to(api::tickets::post_note)),
                )
                .service(
                    resource("/wrap-up-reasons")
                        .route(get().to(api::settings::get_wrap_up_reasons))
                        .route(web::put().to(api::settings::put_wrap_up_reasons)),
                )
                .service(
                    resource("/settings")
                        .route(get().to(api::settings::get_settings))
                        .route(patch().to(api::settings::patch_settings)),
                )
                .service(resource("/backup").route(get().to(api::backup::get_backup)))
                .service(
                    resource("/shifts")
                        .route(get().to(api::shifts::list_shifts))
                        .route(post().to(api::shifts::post_shift)),
                )
                .service(
                    resource("/shifts/{id}")
                        .route(web::put().to(api::shifts::put_shift))
                        .route(delete().to(api::shifts::delete_shift)),
                )
                .service(
                    resource("/groups/{id}/hours")
                        .route(get().to(api::shifts::get_hours))
                        .route(web::put().to(api::shifts::put_hours)),
                )
                .service(resource("/chats").route(get().to(api::chats::list_chats)))
                .service(
                    resource("/chats/transfer").route(post().to(api::chats::post_bulk_transfer)),
                )
                .service(resource("/chats/delete").route(post().to(api::chats::post_bulk_delete)))
                .service(resource("/chats/search").route(get().to(api::chats::search_chats)))
                .service(resource("/chats/{id}").route(get().to(api::chats::get_chat)))
                .service(
                    resource("/visitor/chats")
                        .route(post().to(api::visitor::post_chat))
                        .route(
                            web::method(actix_web::http::Method::OPTIONS)
                                .to(api::visitor::options_chats),
                        ),
                )
                .service(resource("/visitor/widget").route(get().to(api::widget::get_widget)))
                .service(
                    resource("/visitor/offline_messages")
                        .route(post().to(api::widget::post_offline_message))
                        .route(
                            web::method(actix_web::http::Method::OPTIONS)
                                .to(api::widget::options_offline_messages),
                        ),
                )
                .service(
                    resource("/visitor/rating")
                        .route(post().to(api::widget::post_rating))
                        .route(
                            web::method(actix_web::http::Method::OPTIONS)
                                .to(api::widget::options_rating),
                        ),
                )
                .service(
                    resource("/visitor/transcript")
                        .route(post().to(api::mail::post_transcript))
                        .route(
                            web::method(actix_web::http::Method::OPTIONS)
                                .to(api::mail::options_transcript),
                        ),
                )
                .service(
                    resource("/canned")
                        .route(get().to(api::canned::list_canned))
                        .route(post().to(api::canned::post_canned)),
                )
                .service(
                    resource("/canned/{id}")
                        .route(patch().to(api::canned::patch_canned))
                        .route(delete().to(api::canned::delete_canned)),
                )
                .service(resource("/mail").route(get().to(api::mail::get_mail)))
                .service(
                    resource("/articles")
                        .app_data(article_json())
                        .route(get().to(api::articles::list_articles))
                        .route(post().to(api::articles::post_article)),
                )
                .service(
                    resource("/articles/preview")
                        .app_data(article_json())
                        .route(post().to(api::articles::post_preview)),
                )
                .service(
                    resource("/articles/{id}")
                        .app_data(article_json())
                        .route(get().to(api::articles::get_article))
                        .route(patch().to(api::articles::patch_article))
                        .route(delete().to(api::articles::delete_article)),
                )
                .service(
                    resource("/visitor/articles").route(get().to(api::articles::get_suggestions)),
                )
                .service(
                    resource("/visitor/articles/{id}")
                        .route(get().to(api::articles::get_public_article)),
                )
                .service(
                    resource("/visitor/articles/{id}/solved")
                        .route(post().to(api::articles::post_solved))
                        .route(
                            web::method(actix_web::http::Method::OPTIONS)
                                .to(api::articles::options_solved),
                        ),
                )
                .service(resource("/reports").route(get().to(api::reports::get_report)))
                .service(resource("/reports/chats").route(get().to(api::reports::get_report_chats)))
                .service(resource("/reports/csv").route(get().to(api::reports::get_report_csv)))
                .service(
                    resource("/ratings/summary").route(get().to(api::widget::get_rating_summary)),
                )
                .service(resource("/mail/{id}/retry").route(post().to(api::mail::post_retry)))
                .service(
                    resource("/offline_messages")
                        .route(get().to(api::widget::list_offline_messages)),
                )
                .service(resource("/ws/staff").route(get().to(ws::staff_socket)))
                .service(resource("/ws/visitor").route(get().to(ws::visitor::visitor_socket))),
        );
}

/// The application for one worker. `state` is shared by all workers.
pub fn build(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.config.server.max_body_bytes;
    App::new()
        .app_data(web::Data::new(state))
        .app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(json_error),
        )
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PayloadConfig::new(limit))
        .wrap(from_fn(middleware::origin_check))
        .wrap(from_fn(middleware::visitor_cors))
        .wrap(middleware::security_headers())
        .wrap(Compress::default())
        .wrap(from_fn(middleware::request_log))
        .configure(routes)
        .default_service(web::to(no_route))
}
