//! Embedded web assets (`assets/`, compiled into the binary by rust-embed):
//! correct content types, strong ETags from the embedded SHA-256, 304 on
//! a matching If-None-Match, and revalidation on every load so a new
//! binary's assets are picked up at once. Compression is the Compress
//! middleware's job.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

fn content_type(mime: &str) -> String {
    let textual =
        mime.starts_with("text/") || mime == "application/javascript" || mime == "application/json";
    if textual {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

/// Serves one embedded file, or a JSON 404.
pub fn serve(req: &HttpRequest, path: &str) -> HttpResponse {
    let Some(file) = Assets::get(path) else {
        return actix_web::ResponseError::error_response(&crate::error::AppError::NotFound {
            code: "not_found",
            message: format!("no such file: /{path}"),
        });
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    if matches {
        return res.finish();
    }
    res.content_type(content_type(file.metadata.mimetype()))
        .body(file.data.into_owned())
}

/// `GET /`: the staff console.
pub async fn console(req: HttpRequest) -> HttpResponse {
    serve(&req, "console/index.html")
}

/// `GET /setup`: the first-run setup page.
pub async fn setup_page(req: HttpRequest) -> HttpResponse {
    serve(&req, "console/setup.html")
}

/// `GET /assets/{path}`: any embedded file.
pub async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    serve(&req, &path)
}

/// `GET /widget.js`: the widget loader a host page includes.
pub async fn widget_loader(req: HttpRequest) -> HttpResponse {
    serve(&req, "widget/widget.js")
}

/// The content security policy of the widget's panel: the console's, but
/// it may be framed by the desk itself and by `[widget] allowed_origins`.
pub fn panel_csp(allowed_origins: &[String]) -> String {
    let mut ancestors = String::from("'self'");
    for o in allowed_origins {
        ancestors.push(' ');
        ancestors.push_str(o);
    }
    super::middleware::CONSOLE_CSP.replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {ancestors}"),
    )
}

/// `GET /widget/panel` (inside the loader's iframe) and `GET /chat` (the
/// full-page chat for links): the widget's chat panel.
pub async fn widget_panel(
    req: HttpRequest,
    state: web::Data<crate::state::AppState>,
) -> HttpResponse {
    let mut res = serve(&req, "widget/panel.html");
    // Framed by the desk-wide sites and those the named groups (or, with
    // none named, any group) list for their widget.
    let named: Vec<String> =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("groups").or_else(|| q.get("group")).cloned())
            .map(|l| l.split(',').map(|s| s.trim().to_lowercase()).collect())
            .unwrap_or_default();
    let groups = state.read(|s| s.list_groups()).await.unwrap_or_default();
    let mut origins = state.config.widget.allowed_origins.clone();
    for g in groups {
        if named.is_empty() || named.contains(&g.id.to_string()) {
            for o in g.allowed_origins {
                if !origins.contains(&o) {
                    origins.push(o);
                }
            }
        }
    }
    let csp = panel_csp(&origins);
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    // frame-ancestors decides who may frame the panel; an X-Frame-Options
    // DENY from the default headers would forbid every frame.
    res.headers_mut().insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("ALLOWALL"),
    );
    res
}
