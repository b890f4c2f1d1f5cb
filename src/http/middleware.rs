//! Middleware: security headers on every response, a same-origin check on
//! every state-changing API request (CSRF defence in depth beside the token
//! and SameSite=Strict), and one tracing line per request.

use crate::error::AppError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HOST, ORIGIN};
use actix_web::http::Method;
use actix_web::middleware::{DefaultHeaders, Next};
use std::time::Instant;

/// The console's content security policy: only our own scripts, styles
/// and connections; never framed.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers every response carries.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CONSOLE_CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
}

/// True when the request has no Origin (not a browser) or its Origin is the
/// desk's own: scheme, host and port. The scheme is the one of
/// `public_url` (https behind a TLS proxy), else http, which is what the
/// desk itself serves; the host and port are those the request was sent to
/// (its Host header), or those of `public_url`.
pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let scheme = if public_url.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    let public_origin = public_url
        .split_once("://")
        .map(|(s, rest)| format!("{s}://{}", rest.split('/').next().unwrap_or("")))
        .unwrap_or_default();
    (!host.is_empty() && origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")))
        || (!public_origin.is_empty() && origin.eq_ignore_ascii_case(&public_origin))
}

/// [`same_origin`] for a request of this desk.
pub fn same_origin_of(req: &actix_web::HttpRequest) -> bool {
    let public_url = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map(|s| s.config.server.public_url.clone())
        .unwrap_or_default();
    same_origin(req.headers(), &public_url)
}

/// The page origin of a request that the desk-wide rules do not let in:
/// none when there is no `Origin` (not a browser page), when it is the
/// desk's own, or when `[widget] allowed_origins` lists it. A group may
/// still list it for its own widget ([`crate::domain::Group::lists_origin`]).
pub fn foreign_origin(req: &actix_web::HttpRequest) -> Option<String> {
    let origin = req
        .headers()
        .get(ORIGIN)?
        .to_str()
        .unwrap_or("")
        .to_string();
    if same_origin_of(req) {
        return None;
    }
    let listed = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_some_and(|s| {
            s.config
                .widget
                .allowed_origins
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&origin))
        });
    (!listed).then_some(origin)
}

/// Whether a page of `origin` may use the visitor API at all: the desk's
/// own pages, those of `[widget] allowed_origins`, and those some group
/// lists for its widget (each endpoint then checks the group it is for).
pub async fn widget_origin_allowed(req: &actix_web::HttpRequest) -> bool {
    let Some(origin) = foreign_origin(req) else {
        return true;
    };
    let Some(state) = req.app_data::<actix_web::web::Data<crate::state::AppState>>() else {
        return false;
    };
    state
        .read(move |s| s.list_groups())
        .await
        .is_ok_and(|groups| groups.iter().any(|g| g.lists_origin(&origin)))
}

/// CORS for the visitor API (`/api/visitor/…`), which pages of the
/// business's own site call: a page of an allowed origin gets the
/// `Access-Control-*` headers (and its preflight an answer), any other
/// page 403 `origin_not_allowed`. Requests without an Origin (not from a
/// browser page) pass as before. No cookies are involved.
pub async fn visitor_cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let origin = req
        .path()
        .starts_with("/api/visitor/")
        .then(|| req.headers().get(ORIGIN).and_then(|v| v.to_str().ok()))
        .flatten()
        .map(str::to_string);
    let Some(origin) = origin else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    if !widget_origin_allowed(req.request()).await {
        // The refusal is readable by the page (its console says what to
        // fix); a refused preflight still fails, so nothing is sent.
        let mut res = req.error_response(AppError::OriginNotAllowed(origin.clone()));
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&origin) {
            res.headers_mut()
                .insert(actix_web::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        return Ok(res.map_into_right_body());
    }
    let preflight = req.method() == Method::OPTIONS;
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(value) {
            h.insert(actix_web::http::header::HeaderName::from_static(name), v);
        }
    };
    set("access-control-allow-origin", &origin);
    set("vary", "Origin");
    if preflight {
        set("access-control-allow-methods", "GET, POST, OPTIONS");
        set("access-control-allow-headers", "Content-Type");
        set("access-control-max-age", "600");
    }
    Ok(res.map_into_left_body())
}

/// Refuses cross-site state-changing API requests.
pub async fn origin_check(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The widget's endpoints carry no cookies and are called from the
    // business's own website.
    let staff_api = req.path().starts_with("/api/") && !req.path().starts_with("/api/visitor/");
    if unsafe_method && staff_api && !same_origin_of(req.request()) {
        let res = req.error_response(AppError::CsrfRejected);
        return Ok(res.map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// One log line per request: method, path (never the query, which may
/// hold tokens), status and time.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_string();
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    let micros = start.elapsed().as_micros() as u64;
    if path == "/healthz" || path == "/readyz" {
        tracing::debug!(%method, %path, status, micros, "request");
    } else {
        tracing::info!(%method, %path, status, micros, "request");
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(origin: Option<&'static str>, host: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static(host));
        if let Some(o) = origin {
            h.insert(ORIGIN, HeaderValue::from_static(o));
        }
        h
    }

    #[test]
    fn origin_must_match_scheme_host_and_port() {
        let h = headers;
        assert!(same_origin(&h(None, "desk:8080"), ""));
        assert!(same_origin(&h(Some("http://desk:8080"), "desk:8080"), ""));
        assert!(
            !same_origin(&h(Some("https://desk:8080"), "desk:8080"), ""),
            "an http desk is not its https twin"
        );
        assert!(!same_origin(&h(Some("http://desk:9090"), "desk:8080"), ""));
        assert!(same_origin(
            &h(Some("https://Chat.Example.com"), "chat.example.com"),
            "https://chat.example.com/"
        ));
        assert!(
            !same_origin(
                &h(Some("http://chat.example.com"), "chat.example.com"),
                "https://chat.example.com"
            ),
            "behind TLS, plain http is another origin"
        );
        assert!(
            same_origin(
                &h(Some("https://chat.example.com"), "127.0.0.1:8080"),
                "https://chat.example.com"
            ),
            "a proxy that rewrites Host"
        );
        assert!(!same_origin(
            &h(Some("https://evil.example"), "desk:8080"),
            ""
        ));
        assert!(!same_origin(&h(Some("null"), "desk:8080"), ""));
    }
}
