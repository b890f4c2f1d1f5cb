use crate::harness::*;
use awc::http::Method;
use serde_json::json;
use std::time::Duration;

#[actix_web::test]
async fn sign_in_succeeds_and_failures_never_say_whether_the_email_exists() {
    let app = TestApp::start().await;
    let _owner = app.owner().await;
    let mut c = app.client();
    let wrong_password = c.login(OWNER_EMAIL, "wrong password").await;
    let unknown_email = c.login("nobody@example.com", "wrong password").await;
    let not_an_email = c.login("nobody", "wrong password").await;
    for r in [&wrong_password, &unknown_email, &not_an_email] {
        assert_eq!(r.status, 401);
        assert_eq!(r.json, wrong_password.json, "identical bodies");
    }
    assert!(c.cookie.is_none());
    let ok = c.login(&OWNER_EMAIL.to_uppercase(), OWNER_PASSWORD).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let cookie = ok.header("set-cookie").expect("cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http public URL: {cookie}"
    );
    assert_eq!(c.get("/api/auth/me").await.json["staff"]["role"], "owner");
    assert_eq!(
        app.client().get("/api/auth/me").await.code(),
        "not_signed_in"
    );
}

#[actix_web::test]
async fn repeated_failures_are_delayed_more_and_more_per_account() {
    let app = TestApp::start().await;
    let _owner = app.owner().await;
    let mut c = app.client();
    for _ in 0..5 {
        assert_eq!(c.login(OWNER_EMAIL, "guess").await.status, 401);
    }
    let r = c.login(OWNER_EMAIL, "guess").await;
    assert_eq!(
        r.status, 401,
        "the sixth failure is counted, then delays start"
    );
    let r = c.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(
        (r.status, r.code()),
        (429, "too_many_attempts"),
        "even the right password waits"
    );
    assert_eq!(r.header("retry-after").as_deref(), Some("2"));
    // An unknown email is limited the same way, so limiting reveals nothing.
    for _ in 0..6 {
        c.login("ghost@example.com", "guess").await;
    }
    assert_eq!(c.login("ghost@example.com", "guess").await.status, 429);

    app.advance(Duration::from_secs(2));
    assert_eq!(c.login(OWNER_EMAIL, "guess").await.status, 401);
    let r = c.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(
        r.header("retry-after").as_deref(),
        Some("4"),
        "the delay doubled"
    );
    app.advance(Duration::from_secs(4));
    assert_eq!(c.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
}

#[actix_web::test]
async fn a_burst_from_one_address_is_limited_across_accounts() {
    let app = TestApp::start().await;
    let _owner = app.owner().await;
    let mut c = app.client();
    let mut limited = 0;
    for i in 0..30 {
        if c.login(&format!("user{i}@example.com"), "guess")
            .await
            .status
            == 429
        {
            limited += 1;
        }
    }
    assert!(
        limited >= 9,
        "per-address limit after 20 failures, got {limited} refusals"
    );
}

/// Guesses sent at once all arrive before any has failed: the ones still
/// being checked count, so a concurrent burst gets no more password checks
/// than the free allowance (5 per account), however many are sent.
#[actix_web::test]
async fn a_concurrent_burst_gets_no_more_checks_than_the_allowance() {
    let app = TestApp::start().await;
    let _owner = app.owner().await;
    let guesses = (0..30).map(|i| {
        let mut c = app.client();
        async move { c.login(OWNER_EMAIL, &format!("guess {i}")).await.status }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(checked + refused, 30, "{statuses:?}");
    assert!(
        (1..=5).contains(&checked),
        "at most the 5 free attempts were checked, got {checked}: {statuses:?}"
    );
}

#[actix_web::test]
async fn sessions_expire_when_idle_and_at_their_maximum_age() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    app.advance(Duration::from_secs(119 * 60));
    assert_eq!(
        owner.get("/api/auth/me").await.status,
        200,
        "used within 2h keeps it"
    );
    app.advance(Duration::from_secs(121 * 60));
    let r = owner.get("/api/auth/me").await;
    assert_eq!(
        (r.status, r.code()),
        (401, "session_ended"),
        "idle for over 2h"
    );

    let mut c = app.client();
    c.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    for _ in 0..11 {
        app.advance(Duration::from_secs(3600));
        assert_eq!(c.get("/api/auth/me").await.status, 200);
    }
    app.advance(Duration::from_secs(3600));
    assert_eq!(
        c.get("/api/auth/me").await.code(),
        "session_ended",
        "12h maximum"
    );
}

#[actix_web::test]
async fn logout_ends_the_session() {
    let app = TestApp::start().await;
    let mut owner = app.owner().await;
    let kept = owner.clone();
    let r = owner.post_mut("/api/auth/logout", json!(null)).await;
    assert_eq!(r.status, 204);
    assert!(owner.cookie.is_none(), "cookie cleared");
    assert_eq!(
        kept.get("/api/auth/me").await.code(),
        "session_ended",
        "the token itself is dead"
    );
}

#[actix_web::test]
async fn a_password_change_ends_the_other_sessions_only() {
    let app = TestApp::start().await;
    let laptop = app.owner().await;
    let mut phone = app.client();
    phone.login(OWNER_EMAIL, OWNER_PASSWORD).await;

    let r = laptop
        .post(
            "/api/auth/password",
            json!({"current_password": "nope", "new_password": "brand new password"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = laptop
        .post(
            "/api/auth/password",
            json!({"current_password": OWNER_PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(r.code(), "invalid_field");
    let r = laptop
        .post(
            "/api/auth/password",
            json!({"current_password": OWNER_PASSWORD, "new_password": "brand new password"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    assert_eq!(
        laptop.get("/api/auth/me").await.status,
        200,
        "this session stays"
    );
    assert_eq!(
        phone.get("/api/auth/me").await.code(),
        "session_ended",
        "the other one ends"
    );
    let mut c = app.client();
    assert_eq!(c.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 401);
    assert_eq!(c.login(OWNER_EMAIL, "brand new password").await.status, 200);
    // The kept session still changes things (its CSRF token still holds).
    let r = laptop
        .post("/api/groups", json!({"name": "After change"}))
        .await;
    assert_eq!(r.status, 201);
}

#[actix_web::test]
async fn disabling_an_account_ends_its_sessions_and_sign_in() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let (agent, id) = app.staff(&owner, "ann@example.com", "agent", &[]).await;
    let r = owner
        .patch(&format!("/api/staff/{id}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(agent.get("/api/auth/me").await.code(), "session_ended");
    let mut c = app.client();
    let r = c.login("ann@example.com", "staff password 1").await;
    assert_eq!((r.status, r.code()), (401, "account_disabled"));
    assert_eq!(
        c.login("ann@example.com", "wrong").await.code(),
        "invalid_credentials"
    );
    owner
        .patch(&format!("/api/staff/{id}"), json!({"disabled": false}))
        .await;
    assert_eq!(
        c.login("ann@example.com", "staff password 1").await.status,
        200
    );
}

#[actix_web::test]
async fn state_changes_need_the_csrf_token_and_the_same_origin() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let mut no_token = owner.clone();
    no_token.csrf = None;
    let body = Some(json!({"name": "Sneaky"}).to_string().into_bytes());
    let json_ct = ("Content-Type", "application/json");
    let r = no_token
        .raw(Method::POST, "/api/groups", body.clone(), &[json_ct])
        .await;
    assert_eq!((r.status, r.code()), (403, "csrf_rejected"));
    let mut wrong = owner.clone();
    wrong.csrf = Some("0".repeat(32));
    let r = wrong
        .raw(Method::POST, "/api/groups", body.clone(), &[json_ct])
        .await;
    assert_eq!(r.code(), "csrf_rejected");
    let mut foreign = owner.clone();
    let r = foreign
        .raw(
            Method::POST,
            "/api/groups",
            body.clone(),
            &[json_ct, ("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(r.code(), "csrf_rejected");
    let r = app
        .client()
        .raw(
            Method::POST,
            "/api/auth/login",
            Some(
                json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
                    .to_string()
                    .into_bytes(),
            ),
            &[json_ct, ("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(r.code(), "csrf_rejected", "login CSRF is refused too");
    assert_eq!(
        owner.get("/api/groups").await.json.as_array().map(Vec::len),
        Some(0)
    );
}

#[actix_web::test]
async fn housekeeping_purges_expired_sessions() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let state = app.running().state.clone();
    app.advance(Duration::from_secs(13 * 3600));
    let swept = livedesk::jobs::housekeeping::run(&state, state.now())
        .await
        .expect("runs");
    assert_eq!(swept.sessions, 1);
    assert_eq!(owner.get("/api/auth/me").await.code(), "session_ended");
}

#[actix_web::test]
async fn cookies_are_secure_when_the_public_url_is_https() {
    let app =
        TestApp::start_with(|c| c.server.public_url = "https://chat.example.com".into()).await;
    let mut c = app.client();
    let r = c
        .post_mut(
            "/api/setup",
            json!({"token": app.setup_token(), "email": OWNER_EMAIL, "display_name": "O", "password": OWNER_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200);
    let cookie = r.header("set-cookie").expect("cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(app
        .running()
        .setup_link
        .as_deref()
        .is_some_and(|l| l.starts_with("https://chat.example.com/setup#")));
}

/// A desk upgraded from a release that hashed with 19 MiB, t=2: the owner's
/// old hash still signs in, and that sign-in stores a hash with the current
/// parameters.
#[actix_web::test]
async fn an_older_releases_password_hash_signs_in_and_is_replaced() {
    const OLDER_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$r3hkefTWxQ1FxC39HCvrIA$LzHG6sFmcMYcr68fYKhfjLiPKagabmQ8wIAz7AJDgQU";
    let app = TestApp::start().await;
    let _owner = app.owner().await;
    let dir = app.stop().await;
    let data = dir.path().join("data");
    let stored_hash = || {
        let store = livedesk::store::Store::open(&data, 8 << 20, 0).expect("store");
        let row = store
            .staff_by_email(OWNER_EMAIL)
            .expect("read")
            .expect("owner");
        (store, row)
    };
    {
        let (store, row) = stored_hash();
        assert!(row
            .password_hash
            .starts_with("$argon2id$v=19$m=7168,t=5,p=1$"));
        let mut older = row.clone();
        older.password_hash = OLDER_HASH.into();
        store.put_staff(&row, &older).expect("write the older hash");
        store.flush_now().expect("flush");
    }

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let clock = std::sync::Arc::new(livedesk::domain::ManualClock::starting_now());
    let again = livedesk::app::start(test_config(&data), listener, clock)
        .await
        .expect("start");
    let mut c = Client::new(&format!("http://{}", again.addr));
    assert_eq!(c.login(OWNER_EMAIL, "wrong password").await.status, 401);
    let r = c.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(r.status, 200, "the older hash signs in: {}", r.json);
    assert_eq!(c.get("/api/auth/me").await.status, 200);
    again.stop().await.expect("stop");

    let (_store, row) = stored_hash();
    assert!(
        row.password_hash
            .starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
        "replaced at sign-in: {}",
        row.password_hash
    );
}
