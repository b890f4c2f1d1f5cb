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

/// True when the request has no Origin (not a browser) or its Origin names
/// the host the request was sent to.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
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
    if unsafe_method && staff_api && !same_origin(req.headers()) {
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
    fn origin_must_match_host_when_present() {
        assert!(same_origin(&headers(None, "desk:8080")));
        assert!(same_origin(&headers(Some("http://desk:8080"), "desk:8080")));
        assert!(same_origin(&headers(
            Some("https://Chat.Example.com"),
            "chat.example.com"
        )));
        assert!(!same_origin(&headers(
            Some("https://evil.example"),
            "desk:8080"
        )));
        assert!(!same_origin(&headers(Some("null"), "desk:8080")));
    }
}
