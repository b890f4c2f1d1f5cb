use crate::harness::*;
use awc::http::Method;
use serde_json::json;

type Header = (&'static str, &'static str);
const JSON: Header = ("Content-Type", "application/json");

#[actix_web::test]
async fn bad_bodies_get_clear_json_errors() {
    let app = TestApp::start().await;
    let mut owner = app.owner().await;
    // (body, content type, expected status, expected code)
    let cases: Vec<(Vec<u8>, Header, u16, &str)> = vec![
        (b"{not json".to_vec(), JSON, 400, "invalid_json"),
        (b"".to_vec(), JSON, 400, "invalid_json"),
        (br#"{"name": 5}"#.to_vec(), JSON, 400, "invalid_json"),
        // serde would read a struct from an array: every body is an object.
        (br#"["A"]"#.to_vec(), JSON, 400, "invalid_json"),
        (br#"[null, null]"#.to_vec(), JSON, 400, "invalid_json"),
        (br#""A""#.to_vec(), JSON, 400, "invalid_json"),
        (
            br#"{"name": "A", "colour": "x"}"#.to_vec(),
            JSON,
            400,
            "invalid_json",
        ),
        (
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            JSON,
            400,
            "invalid_json",
        ),
        (
            br#"{"name": "A"}"#.to_vec(),
            ("Content-Type", "text/plain"),
            415,
            "expected_json",
        ),
        (
            format!(r#"{{"name": "{}"}}"#, "x".repeat(70_000)).into_bytes(),
            JSON,
            413,
            "body_too_large",
        ),
    ];
    for (body, ct, status, code) in cases {
        let r = owner
            .raw(Method::POST, "/api/groups", Some(body), &[ct])
            .await;
        assert_eq!((r.status, r.code()), (status, code), "{}", r.text);
        assert!(r.json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let r = owner
        .raw(
            Method::POST,
            "/api/groups",
            Some(br#"{"name": "A"}"#.to_vec()),
            &[JSON],
        )
        .await;
    assert_eq!(r.status, 201, "the connection and session still work");
}

#[actix_web::test]
async fn unknown_ids_routes_and_methods_are_json_errors() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let unknown = "0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10";
    assert_eq!(
        owner.get(&format!("/api/staff/{unknown}")).await.code(),
        "staff_not_found"
    );
    assert_eq!(
        owner.get(&format!("/api/groups/{unknown}")).await.code(),
        "group_not_found"
    );
    assert_eq!(
        owner.delete(&format!("/api/groups/{unknown}")).await.code(),
        "group_not_found"
    );
    let r = owner.get("/api/staff/not-a-uuid").await;
    assert_eq!((r.status, r.code()), (400, "invalid_id"));
    let r = owner.get("/api/nothing/here").await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = owner.delete("/api/staff").await;
    assert_eq!((r.status, r.code()), (405, "method_not_allowed"));
    let r = owner.get("/assets/console/nope.js").await;
    assert_eq!(r.status, 404);
}

#[actix_web::test]
async fn the_console_is_served_from_the_binary_with_caching_compression_and_headers() {
    let app = TestApp::start().await;
    let mut c = app.client();
    let r = c.get("/").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(r.text.contains("/assets/console/app.js"));
    let csp = r.header("content-security-policy").expect("csp");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    let etag = r.header("etag").expect("etag");

    let again = c
        .raw(Method::GET, "/", None, &[("If-None-Match", &etag)])
        .await;
    assert_eq!(again.status, 304);
    assert!(again.text.is_empty());

    let js = c
        .raw(
            Method::GET,
            "/assets/console/app.js",
            None,
            &[("Accept-Encoding", "gzip")],
        )
        .await;
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-encoding").as_deref(), Some("gzip"));
    assert!(js
        .header("content-type")
        .is_some_and(|t| t.contains("javascript")));
    let css = c.get("/assets/console/style.css").await;
    assert_eq!(
        css.header("content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(c.get("/setup").await.status, 200);
}

#[actix_web::test]
async fn health_readiness_and_the_openapi_document() {
    let app = TestApp::start().await;
    let c = app.client();
    assert_eq!(c.get("/healthz").await.json, json!({"status": "ok"}));
    assert_eq!(c.get("/readyz").await.json, json!({"status": "ok"}));
    let doc = c.get("/api/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert!(doc.json["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.")));
    let expected = [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/setup", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/me", "get"),
        ("/api/auth/password", "post"),
        ("/api/staff", "get"),
        ("/api/staff", "post"),
        ("/api/staff/{id}", "get"),
        ("/api/staff/{id}", "patch"),
        ("/api/staff/{id}/password", "post"),
        ("/api/staff/{id}/transfer-ownership", "post"),
        ("/api/groups", "get"),
        ("/api/groups", "post"),
        ("/api/groups/{id}", "get"),
        ("/api/groups/{id}", "patch"),
        ("/api/groups/{id}", "delete"),
    ];
    for (path, method) in expected {
        assert!(
            doc.json["paths"][path][method].is_object(),
            "{method} {path} missing from OpenAPI"
        );
    }
    let schemas = &doc.json["components"]["schemas"];
    for s in [
        "Staff",
        "Group",
        "ErrorBody",
        "NewStaff",
        "StaffPatch",
        "GroupPatch",
    ] {
        assert!(schemas[s].is_object(), "schema {s} missing");
    }
}
