use crate::harness::*;
use serde_json::json;
use std::time::Duration;

fn setup_body(token: &str, email: &str) -> serde_json::Value {
    json!({"token": token, "email": email, "display_name": "First", "password": "a long password"})
}

#[actix_web::test]
async fn the_setup_link_creates_the_owner_once_and_signs_them_in() {
    let app = TestApp::start().await;
    let link = app
        .running()
        .setup_link
        .clone()
        .expect("first start prints a link");
    assert!(link.starts_with(&format!("{}/setup#", app.base)), "{link}");
    let token = app.setup_token();
    assert_eq!(token.len(), 64);

    // The page checks its link before the form is filled in.
    let check = |t: &str| json!({ "token": t });
    assert_eq!(
        app.client()
            .post("/api/setup/check", check(&token))
            .await
            .status,
        204
    );
    let r = app
        .client()
        .post("/api/setup/check", check(&"0".repeat(64)))
        .await;
    assert_eq!((r.status, r.code()), (404, "setup_link_invalid"));

    let mut c = app.client();
    let r = c
        .post_mut("/api/setup", setup_body(&token, "Boss@Example.com"))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["staff"]["role"], "owner");
    assert_eq!(r.json["staff"]["email"], "boss@example.com");
    let me = c.get("/api/auth/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["staff"]["email"], "boss@example.com");

    // Used, the link checks as dead, and is refused for someone else.
    let r = app.client().post("/api/setup/check", check(&token)).await;
    assert_eq!((r.status, r.code()), (404, "setup_link_invalid"));
    let r = app
        .client()
        .post("/api/setup", setup_body(&token, "thief@example.com"))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "setup_link_invalid");
    let mut thief = app.client();
    assert_eq!(
        thief
            .login("thief@example.com", "a long password")
            .await
            .status,
        401
    );
}

#[actix_web::test]
async fn a_wrong_or_expired_token_is_refused_and_bad_fields_are_named() {
    let app = TestApp::start().await;
    let token = app.setup_token();
    let r = app
        .client()
        .post("/api/setup", setup_body(&"0".repeat(64), "a@example.com"))
        .await;
    assert_eq!(r.code(), "setup_link_invalid");

    let mut bad = setup_body(&token, "not-an-email");
    let r = app.client().post("/api/setup", bad.clone()).await;
    assert_eq!((r.status, r.code()), (400, "invalid_field"));
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap_or("")
        .starts_with("email:"));
    bad["email"] = json!("a@example.com");
    bad["password"] = json!("short");
    let r = app.client().post("/api/setup", bad).await;
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap_or("")
        .starts_with("password:"));

    // A refused attempt does not use the link up; time does.
    app.advance(Duration::from_secs(61 * 60));
    let r = app
        .client()
        .post("/api/setup", setup_body(&token, "a@example.com"))
        .await;
    assert_eq!(r.code(), "setup_link_invalid");
}

#[actix_web::test]
async fn a_restart_without_owner_prints_a_new_link_and_with_owner_none() {
    let app = TestApp::start().await;
    let old = app.setup_token();
    let dir = app.stop().await;
    let data = dir.path().join("data");

    let config = test_config(&data);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let clock = std::sync::Arc::new(livedesk::domain::ManualClock::starting_now());
    let second = livedesk::app::start(config.clone(), listener, clock.clone())
        .await
        .expect("start");
    let link = second.setup_link.clone().expect("still no owner: new link");
    let token = link.split_once('#').expect("fragment").1.to_string();
    assert_ne!(token, old);
    let mut c = Client::new(&format!("http://{}", second.addr));
    assert_eq!(
        c.post("/api/setup", setup_body(&old, "a@example.com"))
            .await
            .code(),
        "setup_link_invalid"
    );
    assert_eq!(
        c.post_mut("/api/setup", setup_body(&token, "a@example.com"))
            .await
            .status,
        200
    );
    second.stop().await.expect("stop");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let third = livedesk::app::start(config, listener, clock)
        .await
        .expect("start");
    assert!(third.setup_link.is_none(), "an owner exists: no link");
    third.stop().await.expect("stop");
}
