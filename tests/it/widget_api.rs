//! The widget's REST side over HTTP: what a page is told about its groups,
//! offline messages (validation, storage, who sees them, masking), the
//! queue timeout that ends a chat as missed, sneak peek off, and the
//! panel's framing policy; the visitor's rating of a chat.

use crate::harness::*;
use serde_json::json;
use std::time::Duration;

#[actix_web::test]
async fn the_widget_is_told_each_groups_look_and_whether_it_takes_chats_now() {
    let desk = Desk::new("round_robin").await;
    let sales = desk
        .owner
        .post(
            "/api/groups",
            json!({"name": "Sales", "sneak_peek": false,
                   "widget": {"title": "Sales chat", "color": "#ffd33d", "greeting": "", "language": "auto", "position": "left"}}),
        )
        .await;
    assert_eq!(sales.status, 201, "{}", sales.text);
    let sales = sales.json["id"].as_str().expect("id").to_string();

    // Nobody online: neither group takes chats.
    let r = desk.app.client().get("/api/visitor/widget").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let names: Vec<&str> = r.json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(
        names,
        vec!["Sales", "Support"],
        "every group, by name, when none is named"
    );
    assert!(r.json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .all(|g| g["open"] == false));
    assert_eq!(r.json["max_message_chars"], 1000);

    let (_ann, _) = desk.agent("Ann", 2).await;
    let r = desk
        .app
        .client()
        .get(&format!(
            "/api/visitor/widget?groups={sales},{}",
            desk.group
        ))
        .await;
    let g = &r.json["groups"];
    assert_eq!(
        (g[0]["name"].as_str(), g[1]["name"].as_str()),
        (Some("Sales"), Some("Support")),
        "in the order asked"
    );
    assert_eq!(g[0]["open"], false, "Ann is not in Sales");
    assert_eq!(g[1]["open"], true, "Ann is online in Support");
    assert_eq!(
        (
            g[0]["text_color"].as_str(),
            g[0]["position"].as_str(),
            g[0]["language"].as_str(),
            g[0]["sneak_peek"].as_bool()
        ),
        (Some("#000000"), Some("left"), Some("auto"), Some(false)),
        "black on yellow; the look as set"
    );
    assert_eq!(g[1]["text_color"], "#ffffff", "white on the default blue");

    let r = desk
        .app
        .client()
        .get("/api/visitor/widget?groups=nope")
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_field"));
    let r = desk
        .app
        .client()
        .get("/api/visitor/widget?groups=0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10")
        .await;
    assert_eq!((r.status, r.code()), (404, "group_not_found"));
}

#[actix_web::test]
async fn offline_messages_are_stored_checked_and_listed_for_the_groups_staff_masked() {
    let desk = Desk::new_with("round_robin", |c| c.chat.mask_pii = true.into()).await;
    let visitor = desk.app.client();
    let form = |email: &str, message: &str| json!({"group": desk.group, "name": "Nils", "email": email, "message": message, "page_url": "https://shop.example.com/"});
    let cases = [
        (form("", "hi"), "email"),
        (form("nils@example.com", "   "), "message"),
        (form("nils@example.com", &"x".repeat(4001)), "message"),
    ];
    for (body, field) in cases {
        let r = visitor.post("/api/visitor/offline_messages", body).await;
        assert_eq!((r.status, r.code()), (400, "invalid_field"), "{}", r.text);
        assert!(r.text.contains(field), "{}", r.text);
    }
    let r = visitor
        .post(
            "/api/visitor/offline_messages",
            json!({"group": "0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10", "name": "N", "email": "n@example.com", "message": "m"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "group_not_found"));
    let r = visitor
        .post(
            "/api/visitor/offline_messages",
            form("nils@example.com", "Call me on 0701234567 please"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();

    // Admins see it; masking applies to staff views.
    let list = desk.owner.get("/api/offline_messages").await;
    assert_eq!(list.json["total"], 1, "{}", list.text);
    let m = &list.json["messages"][0];
    assert_eq!(m["id"], id.as_str());
    assert!(
        !m["message"].as_str().unwrap_or("").contains("0701234567"),
        "masked: {m}"
    );
    assert_eq!(
        m["email"], "nils@example.com",
        "the reply address stays in clear"
    );

    // An agent of another group sees none; one of the group sees it.
    let other = desk.app.group(&desk.owner, "Sales").await;
    let (outsider, _) = desk
        .app
        .staff(&desk.owner, "olle@example.com", "agent", &[other.as_str()])
        .await;
    assert_eq!(outsider.get("/api/offline_messages").await.json["total"], 0);
    let (member, _) = desk
        .app
        .staff(
            &desk.owner,
            "mia@example.com",
            "agent",
            &[desk.group.as_str()],
        )
        .await;
    assert_eq!(member.get("/api/offline_messages").await.json["total"], 1);
    assert_eq!(
        member
            .get(&format!("/api/offline_messages?group={other}"))
            .await
            .json["total"],
        0
    );
    assert_eq!(
        desk.app.client().get("/api/offline_messages").await.status,
        401
    );
    assert_eq!(
        desk.owner
            .get("/api/offline_messages?per_page=0")
            .await
            .status,
        400
    );
}

#[actix_web::test]
async fn a_chat_nobody_answers_within_the_queue_timeout_ends_as_missed() {
    let desk = Desk::new("manual").await;
    let r = desk
        .owner
        .patch(
            &format!("/api/groups/{}", desk.group),
            json!({"queue_timeout_secs": 120}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["queue_timeout_secs"].as_u64()),
        (200, Some(120)),
        "{}",
        r.text
    );
    assert_eq!(
        desk.owner
            .patch(
                &format!("/api/groups/{}", desk.group),
                json!({"queue_timeout_secs": 90000})
            )
            .await
            .code(),
        "invalid_field"
    );
    let (mut ann, _) = desk.agent("Ann", 2).await;
    let (chat, token) = desk.start_chat("Vera", "Anyone there?").await;
    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    desk.app.advance(Duration::from_secs(119));
    desk.app.running().state.engine.tick().await;
    assert!(
        vera.quiet(Duration::from_millis(300), |f| f["type"] == "chat_ended")
            .await,
        "not before the timeout"
    );
    desk.app.advance(Duration::from_secs(2));
    desk.app.running().state.engine.tick().await;
    let ended = vera.until(|f| f["type"] == "chat_ended").await;
    assert_eq!(ended["ended_by"], json!({"by": "queue_timeout"}));
    ann.until(|f| f["type"] == "queue_view" && f["waiting_total"] == 0)
        .await;
    let t = desk.owner.get(&format!("/api/chats/{chat}")).await;
    assert_eq!(t.json["chat"]["state"], "ended", "{}", t.text);
    let last = t.json["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        last["event"],
        json!({"type": "ended"}),
        "system messages carry their event"
    );
}

#[actix_web::test]
async fn without_sneak_peek_agents_see_that_the_visitor_types_but_not_what() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, mut vera) = desk.owned_chat().await;
    vera.send(json!({"type": "typing", "text": "Order 7"}))
        .await;
    let t = ann.until(|f| f["type"] == "typing").await;
    assert_eq!(
        (t["text"].as_str(), t["active"].as_bool()),
        (Some("Order 7"), Some(true))
    );
    let r = desk
        .owner
        .patch(
            &format!("/api/groups/{}", desk.group),
            json!({"sneak_peek": false}),
        )
        .await;
    assert_eq!(r.json["sneak_peek"], false, "{}", r.text);
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    vera.send(json!({"type": "typing", "text": "Order 77"}))
        .await;
    let t = ann
        .until(|f| f["type"] == "typing" && f["chat_id"] == chat.as_str() && f["text"] != "Order 7")
        .await;
    assert_eq!(
        (t["text"].clone(), t["active"].as_bool()),
        (json!(null), Some(true))
    );
}

#[actix_web::test]
async fn the_panel_may_be_framed_by_the_listed_sites_only_and_the_loader_is_served() {
    let app =
        TestApp::start_with(|c| c.widget.allowed_origins = vec!["https://shop.example.com".into()])
            .await;
    let c = app.client();
    let panel = c.get("/widget/panel").await;
    assert_eq!(panel.status, 200);
    let csp = panel.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'self' https://shop.example.com"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let page = c.get("/chat?group=x").await;
    assert!(page.text.contains("panel.js"));
    let console = c.get("/").await;
    assert!(console
        .header("content-security-policy")
        .unwrap_or_default()
        .contains("frame-ancestors 'none'"));
    let loader = c.get("/widget.js").await;
    assert_eq!(loader.status, 200);
    assert!(loader
        .header("content-type")
        .unwrap_or_default()
        .contains("javascript"));
}

#[actix_web::test]
async fn a_group_may_list_its_own_sites_for_its_widget() {
    let desk = Desk::new_with("round_robin", |c| {
        c.widget.allowed_origins = vec!["https://shop.example.com".into()];
        c.chat.visitor_starts_per_minute = 1000;
    })
    .await;
    let sales = desk
        .owner
        .post(
            "/api/groups",
            json!({"name": "Sales", "allowed_origins": ["HTTPS://Sales.Example.com", "https://sales.example.com"]}),
        )
        .await;
    assert_eq!(sales.status, 201, "{}", sales.text);
    assert_eq!(
        sales.json["allowed_origins"],
        json!(["https://sales.example.com"]),
        "checked, lower-cased, once"
    );
    let sales = sales.json["id"].as_str().expect("id").to_string();
    let bad = desk
        .owner
        .patch(
            &format!("/api/groups/{sales}"),
            json!({"allowed_origins": ["sales.example.com/shop"]}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (400, "invalid_field"),
        "{}",
        bad.text
    );

    let page = desk.app.client();
    let from = |origin: &'static str| [("Content-Type", "application/json"), ("Origin", origin)];
    let call =
        |method: awc::http::Method, path: String, body: serde_json::Value, origin: &'static str| {
            let mut c = page.clone();
            async move {
                c.raw(
                    method,
                    &path,
                    Some(body.to_string().into_bytes()),
                    &from(origin),
                )
                .await
            }
        };
    use awc::http::Method;
    let sales_site = "https://sales.example.com";
    // The widget info shows that site only the groups that list it.
    let info = call(
        Method::GET,
        "/api/visitor/widget".into(),
        json!(null),
        sales_site,
    )
    .await;
    assert_eq!(info.status, 200, "{}", info.text);
    let names: Vec<&str> = info.json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Sales"]);
    let other = call(
        Method::GET,
        format!("/api/visitor/widget?groups={}", desk.group),
        json!(null),
        sales_site,
    )
    .await;
    assert_eq!((other.status, other.code()), (403, "origin_not_allowed"));
    // Starting a chat and leaving a message: Sales yes, Support no.
    let start = |group: &str| json!({"name": "Vera", "group": group, "question": "hi"});
    let r = call(
        Method::POST,
        "/api/visitor/chats".into(),
        start(&sales),
        sales_site,
    )
    .await;
    assert!(r.status == 200 || r.status == 201, "{}", r.text);
    let r = call(
        Method::POST,
        "/api/visitor/chats".into(),
        start(&desk.group),
        sales_site,
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (403, "origin_not_allowed"),
        "{}",
        r.text
    );
    let msg = |group: &str| json!({"group": group, "name": "N", "email": "n@example.com", "message": "m"});
    let r = call(
        Method::POST,
        "/api/visitor/offline_messages".into(),
        msg(&sales),
        sales_site,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = call(
        Method::POST,
        "/api/visitor/offline_messages".into(),
        msg(&desk.group),
        sales_site,
    )
    .await;
    assert_eq!((r.status, r.code()), (403, "origin_not_allowed"));
    let pre = call(
        Method::OPTIONS,
        "/api/visitor/chats".into(),
        json!(null),
        sales_site,
    )
    .await;
    assert_eq!(pre.status, 204);
    // The desk-wide site may use every group; an unlisted one none.
    let r = call(
        Method::POST,
        "/api/visitor/chats".into(),
        start(&sales),
        "https://shop.example.com",
    )
    .await;
    assert!(r.status == 200 || r.status == 201, "{}", r.text);
    let r = call(
        Method::GET,
        "/api/visitor/widget".into(),
        json!(null),
        "https://evil.example",
    )
    .await;
    assert_eq!((r.status, r.code()), (403, "origin_not_allowed"));
    // The panel may be framed there for Sales only.
    let csp = |q: String| {
        let c = page.clone();
        async move {
            c.get(&format!("/widget/panel?groups={q}"))
                .await
                .header("content-security-policy")
                .unwrap_or_default()
        }
    };
    assert!(csp(sales.clone()).await.contains(sales_site));
    assert!(!csp(desk.group.clone()).await.contains(sales_site));
}

#[actix_web::test]
async fn a_visitor_rates_an_answered_chat_once_and_staff_see_it_masked() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, token) = desk.answered_chat("Hi").await;
    let visitor = desk.app.client();
    let rate = |score: &str, comment: &str| json!({"chat_token": token, "score": score, "comment": comment});
    let r = visitor.post("/api/visitor/rating", rate("good", "")).await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (409, Some("chat_not_ended")),
        "{}",
        r.text
    );

    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    vera.send(json!({"type": "end"})).await;
    ann.expect("chat_ended").await;
    let r = visitor.post("/api/visitor/rating", rate("meh", "")).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = visitor
        .post("/api/visitor/rating", rate("good", &"x".repeat(1001)))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = visitor
        .post(
            "/api/visitor/rating",
            json!({"chat_token": "nope", "score": "good"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (404, Some("chat_not_found"))
    );
    let r = visitor
        .post(
            "/api/visitor/rating",
            rate("good", "  Quick help, call me on +447966197542  "),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["score"], "good");
    assert_eq!(
        r.json["comment"], "Quick help, call me on +447966197542",
        "their own words, trimmed"
    );
    let r = visitor
        .post("/api/visitor/rating", rate("bad", "changed my mind"))
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (409, Some("already_rated"))
    );

    // Ann sees it on the transcript, the number masked.
    let mut ann_c = desk.app.client();
    ann_c.login("ann@example.com", "staff password 1").await;
    let t = ann_c.get(&format!("/api/chats/{chat}")).await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.json["rating"]["score"], "good");
    assert_eq!(
        t.json["rating"]["comment"],
        "Quick help, call me on *********7542"
    );
    assert_eq!(t.json["chat"]["rating"], "good");
    let list = ann_c.get("/api/chats?scope=mine&state=completed").await;
    assert_eq!(list.json["chats"][0]["rating"], "good", "{}", list.text);
    // The dashboard's figures: Ann's own, everyone's for the owner, none
    // for another agent.
    let sum = ann_c.get("/api/ratings/summary").await;
    assert_eq!(sum.status, 200, "{}", sum.text);
    assert_eq!(
        (
            sum.json["days"].as_u64(),
            sum.json["good"].as_u64(),
            sum.json["bad"].as_u64()
        ),
        (Some(7), Some(1), Some(0))
    );
    assert_eq!(sum.json["recent"][0]["chat"], chat.as_str());
    assert_eq!(
        sum.json["recent"][0]["comment"],
        "Quick help, call me on *********7542"
    );
    let sum = desk.owner.get("/api/ratings/summary?days=1").await;
    assert_eq!(sum.json["good"], 1, "{}", sum.text);
    desk.agent("Bob", 2).await;
    let mut bob = desk.app.client();
    bob.login("Bob@example.com", "staff password 1").await;
    let sum = bob.get("/api/ratings/summary").await;
    assert_eq!(
        (sum.json["good"].as_u64(), sum.json["bad"].as_u64()),
        (Some(0), Some(0)),
        "{}",
        sum.text
    );
    assert_eq!(
        desk.owner.get("/api/ratings/summary?days=0").await.status,
        400
    );
    // A chat nobody rated says so.
    let (other, _) = desk.start_chat("Walt", "Hello").await;
    let t = desk.owner.get(&format!("/api/chats/{other}")).await;
    assert!(t.json["rating"].is_null(), "{}", t.text);
}

#[actix_web::test]
async fn a_missed_chat_cannot_be_rated() {
    let desk = Desk::new("manual").await;
    let (_chat, token, _ann) = crate::tickets::missed_chat(&desk, "Anyone?").await;
    let r = desk
        .app
        .client()
        .post(
            "/api/visitor/rating",
            json!({"chat_token": token, "score": "bad"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (409, Some("chat_not_answered")),
        "{}",
        r.text
    );
}
