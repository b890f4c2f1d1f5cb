//! What outside tests found (issue 13), each over the real server: rights
//! of open sockets follow role and group changes at once, a visitor's flood
//! never closes a staff connection, deleting a group never strands chats,
//! one masking rule for every way staff see visitor data, REST reads show
//! only what is durable, and error frames name their request.

use crate::harness::*;
use serde_json::json;
use std::time::Duration;

/// Connects `email` (created by the desk's owner with `role` and `groups`).
async fn staff_socket(desk: &Desk, email: &str, role: &str, groups: &[&str]) -> (Ws, String) {
    let (client, id) = desk.app.staff(&desk.owner, email, role, groups).await;
    let (ws, _) = Ws::staff(&desk.app, &client).await;
    (ws, id)
}

#[actix_web::test]
async fn a_demoted_admin_loses_monitoring_and_status_rights_on_the_open_socket() {
    let desk = Desk::new("round_robin").await;
    let (_ann, chat, _vera) = desk.owned_chat().await;
    let ann_id = desk
        .owner
        .get("/api/staff")
        .await
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["display_name"] == "Ann")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .expect("Ann");
    let (mut ada, ada_id) = staff_socket(&desk, "ada@example.com", "admin", &[]).await;
    ada.send(json!({"type": "monitor", "chat_id": chat})).await;
    ada.expect("chat_joined").await;

    let r = desk
        .owner
        .patch(&format!("/api/staff/{ada_id}"), json!({"role": "agent"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let left = ada.expect("chat_left").await;
    assert_eq!(
        left["chat_id"],
        chat.as_str(),
        "the chat she may no longer see is left at once"
    );
    ada.seen.clear(); // the history she was sent while allowed

    ada.send(json!({"type": "monitor", "chat_id": chat})).await;
    let e = ada.until(|f| f["type"] == "error").await;
    assert_eq!(e["code"], "forbidden", "{e}");
    ada.send(json!({"type": "set_status", "status": "away", "staff_id": ann_id}))
        .await;
    let e = ada.until(|f| f["type"] == "error").await;
    assert_eq!(e["code"], "forbidden", "{e}");
    assert!(
        ada.quiet(Duration::from_millis(300), |f| f["type"] == "message")
            .await,
        "no message of the chat reaches her after the demotion"
    );
}

#[actix_web::test]
async fn a_manager_removed_from_their_groups_stops_watching_at_once() {
    let desk = Desk::new("round_robin").await;
    let (_ann, chat, mut vera) = desk.owned_chat().await;
    let group = desk.group.clone();
    let (mut mia, mia_id) = staff_socket(&desk, "mia@example.com", "manager", &[&group]).await;
    mia.send(json!({"type": "monitor", "chat_id": chat})).await;
    mia.expect("chat_joined").await;
    let r = desk
        .owner
        .patch(&format!("/api/staff/{mia_id}"), json!({"groups": []}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(mia.expect("chat_left").await["chat_id"], chat.as_str());
    mia.seen.clear(); // the history she was sent while allowed
    vera.send(json!({"type": "message", "client_id": "v", "body": "private"}))
        .await;
    vera.expect("ack").await;
    assert!(
        mia.quiet(Duration::from_millis(300), |f| f["type"] == "message")
            .await,
        "her old group's messages no longer reach her"
    );
    mia.send(json!({"type": "monitor", "chat_id": chat})).await;
    assert_eq!(
        mia.until(|f| f["type"] == "error").await["code"],
        "forbidden"
    );
}

#[actix_web::test]
async fn a_typing_flood_never_closes_the_agent_and_the_visitor_is_limited_then_cut_off() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, mut vera) = desk.owned_chat().await;
    let draft = "x".repeat(1000);
    // 10 bursts of 10,000 typing frames of 1,000 characters (what closed
    // the agent's socket 9 times in 12 s), or until the desk cuts Vera off.
    let mut cut_off = false;
    'bursts: for burst in 0..10 {
        for i in 0..10_000 {
            if !vera
                .try_send(json!({"type": "typing", "text": format!("{burst}-{i}{draft}")}))
                .await
            {
                cut_off = true;
                break 'bursts;
            }
        }
    }
    let limited = vera.seen.iter().any(|f| f["code"] == "rate_limited")
        || vera
            .until_or_closed(|f| f["code"] == "rate_limited")
            .await
            .is_some();
    assert!(limited, "the flooding visitor is told rate_limited");
    assert!(
        cut_off || vera.closes_within(Duration::from_secs(5)).await,
        "past the bound the flooding visitor is disconnected"
    );
    // Ann's socket is still open and works.
    ann.send(
        json!({"type": "message", "chat_id": chat, "client_id": "a-after", "body": "still here"}),
    )
    .await;
    let ack = ann.until(|f| f["type"] == "ack").await;
    assert_eq!(ack["client_id"], "a-after");
    let typing: Vec<_> = ann.seen.iter().filter(|f| f["type"] == "typing").collect();
    assert!(
        typing.len() < 200,
        "typing reached the agent coalesced, not one by one: {}",
        typing.len()
    );
    assert!(
        !typing.is_empty(),
        "the agent still sees the visitor typing"
    );
}

#[actix_web::test]
async fn a_group_with_open_chats_cannot_be_deleted_until_they_are_moved() {
    let desk = Desk::new("manual").await;
    let other = desk.app.group(&desk.owner, "Other").await;
    let (_ann, _) = desk.agent("Ann", 3).await; // someone to queue for
    let (chat, _token) = desk.start_chat("Vera", "Is my parcel lost?").await;
    let r = desk
        .owner
        .delete(&format!("/api/groups/{}", desk.group))
        .await;
    assert_eq!(r.status, 409, "{}", r.json);
    assert_eq!(r.code(), "group_has_open_chats");
    let message = r.json["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("1 open chats") && message.contains("/api/chats/transfer"),
        "names how many and how to move them: {message}"
    );
    assert_eq!(
        desk.owner
            .get(&format!("/api/groups/{}", desk.group))
            .await
            .status,
        200,
        "nothing was deleted"
    );

    let r = desk
        .owner
        .post(
            "/api/chats/transfer",
            json!({"chat_ids": [chat], "to_group": other}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = desk
        .owner
        .delete(&format!("/api/groups/{}", desk.group))
        .await;
    assert_eq!(r.status, 204, "{}", r.json);
    let t = desk.owner.get(&format!("/api/chats/{chat}")).await;
    assert_eq!(t.json["chat"]["group"], other.as_str());
    assert_eq!(t.json["chat"]["group_name"], "Other");
    assert_eq!(t.json["chat"]["state"], "waiting");
}

#[actix_web::test]
async fn rest_rows_and_transcripts_mask_visitor_data_as_the_socket_does() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, ann_id) = desk.agent("Ann", 3).await;
    let r = desk
        .app
        .client()
        .post(
            "/api/visitor/chats",
            json!({"name": "Vera", "email": "vera@example.com", "group": desk.group,
                   "question": "My card 4111 1111 1111 1111 was charged twice",
                   "page_url": "https://shop.example.com/?email=vera@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let chat = r.json["chat_id"].as_str().unwrap().to_string();
    let offer = ann.expect("offer").await;
    let on_socket = offer.to_string();
    assert!(!on_socket.contains("vera@example.com"), "{on_socket}");
    ann.send(json!({"type": "accept", "chat_id": chat})).await;
    ann.expect("chat_joined").await;

    let mut agent = desk.app.client();
    agent.login("Ann@example.com", "staff password 1").await;
    let rows = agent.get("/api/chats?scope=mine").await;
    assert_eq!(rows.status, 200, "{}", rows.json);
    assert_eq!(rows.json["chats"][0]["id"], chat.as_str());
    let transcript = agent.get(&format!("/api/chats/{chat}")).await;
    assert_eq!(transcript.status, 200);
    for (what, body) in [
        ("rows", rows.json.to_string()),
        ("transcript", transcript.json.to_string()),
    ] {
        assert!(
            !body.contains("vera@example.com"),
            "{what} leak the email: {body}"
        );
        assert!(
            !body.contains("4111 1111 1111 1111"),
            "{what} leak the card: {body}"
        );
        assert!(
            body.contains("v***"),
            "{what} show the masked email: {body}"
        );
    }
    assert_eq!(
        rows.json["chats"][0]["visitor_email"], offer["chat"]["visitor"]["email"],
        "the same masked form everywhere"
    );
    let _ = ann_id;
}

#[actix_web::test]
async fn error_frames_name_their_request_and_chat() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, _vera) = desk.owned_chat().await;
    let (mut bob, _) = desk.agent("Bob", 3).await;
    bob.send(json!({"type": "accept", "chat_id": chat})).await;
    let e = bob.until(|f| f["type"] == "error").await;
    assert_eq!(
        (e["request"].as_str(), e["chat_id"].as_str()),
        (Some("accept"), Some(chat.as_str())),
        "{e}"
    );

    bob.send(json!({"type": "message", "chat_id": chat, "client_id": "b1", "body": "hi"}))
        .await;
    let e = bob.until(|f| f["type"] == "error").await;
    assert_eq!(
        (
            e["code"].as_str(),
            e["request"].as_str(),
            e["chat_id"].as_str(),
            e["client_id"].as_str()
        ),
        (
            Some("not_in_chat"),
            Some("message"),
            Some(chat.as_str()),
            Some("b1")
        ),
        "{e}"
    );

    // A frame that cannot be read still says what it was.
    bob.send(json!({"type": "decline"})).await;
    let e = bob.until(|f| f["type"] == "error").await;
    assert_eq!(
        (e["code"].as_str(), e["request"].as_str()),
        (Some("bad_frame"), Some("decline")),
        "{e}"
    );

    // A missing wrap-up is a wrap-up error, listing the choices.
    ann.send(json!({"type": "end", "chat_id": chat})).await;
    let e = ann.until(|f| f["type"] == "error").await;
    assert_eq!(
        (
            e["code"].as_str(),
            e["request"].as_str(),
            e["chat_id"].as_str()
        ),
        (Some("wrap_up_required"), Some("end"), Some(chat.as_str())),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap_or("").contains("Resolved"),
        "{e}"
    );
    ann.send(json!({"type": "transfer", "chat_id": chat, "to_group": desk.group}))
        .await;
    let e = ann.until(|f| f["type"] == "error").await;
    assert_eq!(
        (e["code"].as_str(), e["request"].as_str()),
        (Some("wrap_up_required"), Some("transfer")),
        "{e}"
    );
}

#[actix_web::test]
async fn offers_below_the_limit_send_no_status_frames() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, _) = desk.agent("Ann", 3).await;
    // Her own set_status was answered with one `status` and `done`.
    ann.expect("status").await;
    ann.seen.clear();
    for name in ["Vera", "Walt"] {
        let (chat, _) = desk.start_chat(name, "Hello").await;
        assert_eq!(ann.expect("offer").await["chat"]["id"], chat.as_str());
    }
    assert!(
        ann.quiet(Duration::from_millis(300), |f| f["type"] == "status")
            .await,
        "two offers below a limit of 3 change nothing: {:?}",
        ann.seen
    );
    desk.start_chat("Xena", "Hello").await;
    ann.expect("offer").await;
    assert_eq!(ann.expect("status").await["status"], "busy", "at the limit");
    assert!(
        ann.quiet(Duration::from_millis(300), |f| f["type"] == "status")
            .await,
        "once"
    );
}

#[actix_web::test]
async fn the_rest_transcript_lists_the_handoffs_with_their_wrap_up() {
    let desk = Desk::new("round_robin").await;
    let other = desk.app.group(&desk.owner, "Billing").await;
    let (mut ann, chat, _vera) = desk.owned_chat().await;
    ann.send(json!({"type": "transfer", "chat_id": chat, "to_group": other, "wrap_up": "Follow-up needed"}))
        .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "transfer")
        .await;
    let t = desk.owner.get(&format!("/api/chats/{chat}")).await;
    assert_eq!(t.status, 200, "{}", t.json);
    let handoffs = t.json["handoffs"].as_array().expect("handoffs");
    assert_eq!(handoffs.len(), 1, "{}", t.json);
    let h = &handoffs[0];
    assert_eq!(h["to"], other.as_str());
    assert_eq!(h["reason"], "Follow-up needed");
    assert!(
        h["from"].as_str().is_some() && h["at"].as_u64().is_some(),
        "{h}"
    );
    assert_eq!(t.json["chat"]["wrap_up"], "Follow-up needed");
}

#[actix_web::test]
async fn a_short_idle_timeout_never_ends_a_session_in_use() {
    let app = TestApp::start_with(|c| c.auth.session_idle_timeout = Duration::from_secs(8)).await;
    let owner = app.owner().await;
    for _ in 0..15 {
        app.advance(Duration::from_secs(2));
        let r = owner.get("/api/staff").await;
        assert_eq!(
            r.status, 200,
            "used every 2 s with an 8 s idle timeout: {}",
            r.text
        );
    }
    app.advance(Duration::from_secs(9));
    assert_eq!(owner.get("/api/staff").await.status, 401, "idle for 9 s");
}

#[actix_web::test]
async fn the_origin_check_compares_scheme_host_and_port() {
    let app = TestApp::start().await;
    let mut owner = app.owner().await;
    let https_twin = app.base.replace("http://", "https://");
    for (origin, allowed) in [(app.base.clone(), true), (https_twin.clone(), false)] {
        let r = owner
            .raw(
                awc::http::Method::POST,
                "/api/groups",
                Some(
                    json!({"name": format!("G {allowed}")})
                        .to_string()
                        .into_bytes(),
                ),
                &[
                    ("Content-Type", "application/json"),
                    ("Origin", origin.as_str()),
                ],
            )
            .await;
        let want = if allowed { 201 } else { 403 };
        assert_eq!(r.status, want, "Origin {origin}: {}", r.text);
    }
    let refused = awc::Client::new()
        .ws(format!("{}/api/ws/staff", app.base.replace("http", "ws")))
        .origin(https_twin.as_str())
        .header("Cookie", owner.cookie.clone().expect("signed in"))
        .connect()
        .await;
    assert!(refused.is_err(), "the staff socket refuses the https twin");
}

#[actix_web::test]
async fn the_openapi_document_states_what_the_server_enforces() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let doc = owner.get("/api/openapi.json").await.json;
    // Query parameters are in the query and optional.
    let params = doc["paths"]["/api/chats"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    assert!(!params.is_empty());
    for p in params {
        assert_eq!(
            (p["in"].as_str(), p["required"].as_bool()),
            (Some("query"), Some(false)),
            "{p}"
        );
    }
    let per_page = params
        .iter()
        .find(|p| p["name"] == "per_page")
        .expect("per_page");
    assert_eq!(
        (
            per_page["schema"]["minimum"].as_u64(),
            per_page["schema"]["maximum"].as_u64()
        ),
        (Some(1), Some(200))
    );
    // Path ids are UUIDs.
    let id = &doc["paths"]["/api/chats/{id}"]["get"]["parameters"][0]["schema"];
    let reference = id["$ref"].as_str().expect("a schema reference");
    let name = reference.rsplit('/').next().unwrap();
    assert_eq!(doc["components"]["schemas"][name]["format"], "uuid");
    // Lengths and ranges the server checks are stated.
    let new_staff = &doc["components"]["schemas"]["NewStaff"]["properties"];
    assert_eq!(new_staff["password"]["minLength"], 8);
    assert_eq!(new_staff["display_name"]["maxLength"], 80);
    assert_eq!(new_staff["max_concurrent_chats"]["maximum"], 50);
    // And the server refuses what the document refuses.
    for bad in [
        "page=0",
        "per_page=0",
        "per_page=201",
        "scope=bogus",
        "order=up",
    ] {
        let r = owner.get(&format!("/api/chats?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    // 405 names what is allowed.
    let mut c = owner.clone();
    let r = c
        .raw(
            awc::http::Method::from_bytes(b"TRACE").unwrap(),
            "/api/staff",
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
    // A whole number written 30.0 is a whole number.
    let r = owner
        .post(
            "/api/groups",
            json!({"name": "Floats", "rona_timeout_secs": 30.0}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = owner
        .post(
            "/api/groups",
            json!({"name": "Fractions", "rona_timeout_secs": 30.5}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[actix_web::test]
async fn only_allowed_sites_may_start_or_hold_a_chat() {
    let desk = Desk::new_with("round_robin", |c| {
        c.chat.visitor_starts_per_minute = 100_000;
        c.widget.allowed_origins = vec!["https://shop.example.com".into()];
    })
    .await;
    let (_ann, _) = desk.agent("Ann", 3).await;
    let start = json!({"name": "Vera", "group": desk.group, "question": "Hello"});
    let mut c = desk.app.client();
    // The preflight of an allowed site, and its request, carry CORS headers.
    let pre = c
        .raw(
            awc::http::Method::OPTIONS,
            "/api/visitor/chats",
            None,
            &[
                ("Origin", "https://shop.example.com"),
                ("Access-Control-Request-Method", "POST"),
            ],
        )
        .await;
    assert_eq!(pre.status, 204, "{}", pre.text);
    assert_eq!(
        pre.header("access-control-allow-origin").as_deref(),
        Some("https://shop.example.com")
    );
    assert!(pre
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .contains("POST"));
    assert!(pre
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .contains("Content-Type"));
    let body = start.to_string().into_bytes();
    let ok = c
        .raw(
            awc::http::Method::POST,
            "/api/visitor/chats",
            Some(body.clone()),
            &[
                ("Content-Type", "application/json"),
                ("Origin", "https://shop.example.com"),
            ],
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some("https://shop.example.com")
    );
    // Another site: refused, clearly, preflight and request alike.
    for method in [awc::http::Method::OPTIONS, awc::http::Method::POST] {
        let r = c
            .raw(
                method.clone(),
                "/api/visitor/chats",
                Some(body.clone()),
                &[
                    ("Content-Type", "application/json"),
                    ("Origin", "https://evil.example"),
                ],
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (403, "origin_not_allowed"),
            "{method}: {}",
            r.text
        );
        // The refusal is readable by the page (its console says what to
        // fix); a 403 preflight still stops the browser from sending.
        assert!(r.header("access-control-allow-methods").is_none());
        assert!(r.json["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("allowed_origins"));
    }
    // The desk's own pages always may.
    let own = c
        .raw(
            awc::http::Method::POST,
            "/api/visitor/chats",
            Some(body.clone()),
            &[
                ("Content-Type", "application/json"),
                ("Origin", desk.app.base.as_str()),
            ],
        )
        .await;
    assert_eq!(own.status, 201, "{}", own.text);
    // The visitor socket checks the page's origin too.
    let token = ok.json["token"].as_str().unwrap().to_string();
    let ws = |origin: &'static str| {
        awc::Client::new()
            .ws(format!(
                "{}/api/ws/visitor",
                desk.app.base.replace("http", "ws")
            ))
            .origin(origin)
            .connect()
    };
    assert!(
        ws("https://evil.example").await.is_err(),
        "another site cannot hold the chat open"
    );
    let (_, socket) = ws("https://shop.example.com").await.expect("allowed site");
    let mut v = Ws::from_socket(socket);
    v.send(visitor_hello(&token, 0)).await;
    v.expect("visitor_hello").await;
}

#[actix_web::test]
async fn nobody_online_means_the_message_form_not_a_queue_for_nobody() {
    let desk = Desk::new("round_robin").await;
    let start = json!({"name": "Vera", "group": desk.group, "question": "Anyone?"});
    let (mut ann, _) = desk.agent("Ann", 3).await;
    ann.send(json!({"type": "set_status", "status": "away"}))
        .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "set_status")
        .await;
    let r = desk
        .app
        .client()
        .post("/api/visitor/chats", start.clone())
        .await;
    assert_eq!(
        (r.status, r.json["status"].as_str()),
        (200, Some("offline")),
        "Ann is away: {}",
        r.text
    );
    drop(ann); // and then not connected at all
    let r = desk
        .app
        .client()
        .post("/api/visitor/chats", start.clone())
        .await;
    assert_eq!(r.json["status"], "offline");
    // A group may choose to queue for whoever comes online.
    let g = desk
        .owner
        .patch(
            &format!("/api/groups/{}", desk.group),
            json!({"offline_when_nobody_online": false}),
        )
        .await;
    assert_eq!(g.json["offline_when_nobody_online"], false);
    let r = desk
        .app
        .client()
        .post("/api/visitor/chats", start.clone())
        .await;
    assert_eq!(
        (r.status, r.json["status"].as_str()),
        (201, Some("queued")),
        "{}",
        r.text
    );
    // An agent at their limit is busy, still online: chats queue for them.
    let desk = Desk::new("round_robin").await;
    let (mut bob, _) = desk.agent("Bob", 1).await;
    desk.start_chat("Walt", "first").await;
    bob.expect("offer").await;
    let r = desk
        .app
        .client()
        .post(
            "/api/visitor/chats",
            json!({"name": "Xena", "group": desk.group, "question": "second"}),
        )
        .await;
    assert_eq!(r.json["status"], "queued", "{}", r.text);
}
