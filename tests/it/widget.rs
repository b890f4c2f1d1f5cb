//! The website widget in headless Chromium against the real binary: a
//! shop's pages on a second origin (`localhost`, a different site from the
//! desk's `127.0.0.1`) with hostile global CSS and a strict CSP embed the
//! snippet; a visitor chats with an agent who works over the staff
//! websocket; the chat survives navigation, reload and a killed desk; the
//! offline form, the languages and an unlisted origin; screenshots of every
//! state at 1280×800 and 375×667, and axe-core on every state of the panel.

use crate::browser::*;
use crate::harness::*;
use actix_web::{web, App, HttpResponse, HttpServer};
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::{Client as Browser, Locator};
use serde_json::{json, Value};

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// What the shop's pages embed.
#[derive(Clone)]
struct Shop {
    desk: String,
    support: String,
    night: String,
}

const HOSTILE_CSS: &str = "
* { all: unset; }
div { display: none !important; }
html { font-size: 48px !important; }
body { display: block; font-size: 3em !important; font-family: 'Comic Sans MS', cursive; color: #c00 !important; line-height: 3; }
h1, p { display: block; margin: 20px; }
section.cover { display: block; position: fixed; right: 0; bottom: 0; width: 320px; height: 320px; z-index: 2147483646; background: rgba(200, 0, 0, .25); }
iframe { display: none !important; width: 1px !important; height: 1px !important; }
button { background: lime !important; width: 5px !important; font-size: 60px !important; }
script, head, style, title { display: none; }
";

async fn shop_page(shop: web::Data<Shop>, page: web::Path<String>) -> HttpResponse {
    let page = page.into_inner();
    if page == "hostile.css" {
        return HttpResponse::Ok()
            .content_type("text/css")
            .body(HOSTILE_CSS);
    }
    let (group, extra) = match page.as_str() {
        "night" => (shop.night.clone(), ""),
        "sv" => (shop.support.clone(), " data-language=\"sv\""),
        "nl" => (shop.support.clone(), " data-language=\"nl\""),
        _ => (shop.support.clone(), ""),
    };
    let desk = &shop.desk;
    let ws = desk.replace("http://", "ws://");
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shop {page}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"stylesheet\" href=\"/hostile.css\"></head><body>\
         <section class=\"cover\">z-index war</section><h1>Shop page {page}</h1>\
         <p>Welcome to the shop. <a href=\"/page2\">Next page</a></p><div>hidden div</div>\
         <script src=\"{desk}/widget.js\" data-group=\"{group}\"{extra} async></script></body></html>"
    );
    let csp = format!(
        "default-src 'self'; script-src 'self' {desk}; style-src 'self'; connect-src 'self' {desk} {ws}; \
         frame-src {desk}; img-src 'self'; object-src 'none'; base-uri 'none'"
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", csp))
        .body(html)
}

fn start_shop(port: u16, shop: Shop) {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(shop.clone()))
            .route("/{page}", web::get().to(shop_page))
            .route(
                "/",
                web::get()
                    .to(|s: web::Data<Shop>| shop_page(s, web::Path::from("index".to_string()))),
            )
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .expect("bind the shop")
    .run();
    actix_web::rt::spawn(server);
}

/// The loader's state on the page: `ready`, `refused` or none yet.
async fn loader_state(b: &Browser) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v = b
            .execute(
                "const s = document.querySelector('script[src$=\"/widget.js\"]'); return s ? (s.dataset.livedeskState || '') : '';",
                vec![],
            )
            .await
            .unwrap_or(Value::Null);
        if let Some(s) = v.as_str().filter(|s| !s.is_empty()) {
            return s.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the widget loader never said its state"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks where a person sees the launcher: the bottom-right corner.
async fn click_launcher(b: &Browser) {
    let size = b
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await
        .expect("viewport");
    let (w, h) = (
        size[0].as_f64().unwrap_or(0.0),
        size[1].as_f64().unwrap_or(0.0),
    );
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo {
            duration: None,
            x: w - 50.0,
            y: h - 50.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.perform_actions(mouse).await.expect("click the launcher");
    b.release_actions().await.expect("release");
}

/// Enters the panel's iframe (in the launcher's shadow root) and waits
/// until it has drawn.
async fn enter_panel(b: &Browser) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let _ = b.enter_parent_frame().await;
        if let Ok(host) = b.find(Locator::Css("livedesk-widget")).await {
            if let Ok(root) = host.shadow_root().await {
                if let Ok(frame) = root.find(Locator::Css("iframe")).await {
                    if frame.enter_frame().await.is_ok() {
                        let ready = b
                            .execute(
                                "return !!document.body && document.body.dataset.ready === 'true'",
                                vec![],
                            )
                            .await
                            .unwrap_or(Value::Bool(false));
                        if ready == Value::Bool(true) {
                            return;
                        }
                    }
                }
            }
        }
        if Instant::now() > deadline {
            let _ = b.enter_parent_frame().await;
            screenshot(b, "widget-failed-panel").await;
            panic!("the panel never became ready");
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The texts of the thread's bubbles, in order.
async fn thread(b: &Browser) -> Vec<String> {
    let v = b
        .execute(
            "return [...document.querySelectorAll('#thread .msg .body')].map(e => e.textContent)",
            vec![],
        )
        .await
        .expect("thread");
    serde_json::from_value(v).unwrap_or_default()
}

async fn wait_thread(b: &Browser, want: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = thread(b).await;
        let pending = b
            .execute(
                "return document.querySelectorAll('#thread .pending').length",
                vec![],
            )
            .await
            .unwrap_or(json!(1));
        if got == want && pending == json!(0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "thread {got:?} (pending {pending}) never became {want:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_visitor_on_a_hostile_shop_page_chats_through_navigation_reload_and_a_desk_restart() {
    let Some((driver_path, chromium)) = browser_paths() else {
        return;
    };
    let _turn = ONE_BROWSER_TEST.lock().await;
    let axe_js = axe_source();
    let dir = tempfile::tempdir().expect("tempdir");
    let (desk_port, shop_port, other_port) = (free_port(), free_port(), free_port());
    let desk_base = format!("http://127.0.0.1:{desk_port}");
    let shop_base = format!("http://localhost:{shop_port}");
    let sink = crate::mail::Sink::start();
    let mut desk = desk_with_owner(
        dir.path(),
        desk_port,
        &format!(
            "[widget]\nallowed_origins = [\"{shop_base}\"]\n\n[mail]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"Shop help <help@example.com>\"\n",
            sink.port
        ),
    );

    let mut owner = Client::new(&desk_base);
    assert_eq!(owner.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
    let support = owner
        .post(
            "/api/groups",
            json!({"name": "Support", "routing": "manual",
                   "widget": {"title": "Shop help", "color": "#ffd33d", "greeting": "Hi! Ask us anything.", "language": "en"}}),
        )
        .await;
    assert_eq!(support.status, 201, "{}", support.text);
    let support = support.json["id"].as_str().expect("id").to_string();
    let night = owner
        .post(
            "/api/groups",
            json!({"name": "Night", "queue_online": false}),
        )
        .await;
    let night = night.json["id"].as_str().expect("id").to_string();
    let ann = owner
        .post(
            "/api/staff",
            json!({"email": "ann@example.com", "display_name": "Ann", "role": "agent",
                   "password": "staff password 1", "groups": [support]}),
        )
        .await;
    assert_eq!(ann.status, 201, "{}", ann.text);
    let mut ann_api = Client::new(&desk_base);
    assert_eq!(
        ann_api
            .login("ann@example.com", "staff password 1")
            .await
            .status,
        200
    );
    let (mut ann, _) = Ws::staff_at(&desk_base, &ann_api).await;
    ann.send(json!({"type": "set_status", "status": "available"}))
        .await;
    ann.expect("done").await;

    let shop = Shop {
        desk: desk_base.clone(),
        support: support.clone(),
        night: night.clone(),
    };
    start_shop(shop_port, shop.clone());
    start_shop(other_port, shop);

    let driver = start_driver(&driver_path);
    let profile = tempfile::tempdir().expect("profile");
    let b = open_browser(&driver, &chromium, profile.path()).await;
    b.set_window_size(1280, 800).await.expect("size");

    // The launcher is drawn above the z-index war, whatever the host's CSS.
    b.goto(&format!("{shop_base}/")).await.expect("shop");
    assert_eq!(loader_state(&b).await, "ready");
    let on_top = b
        .execute(
            "const e = document.elementFromPoint(innerWidth - 50, innerHeight - 50); return e && e.localName",
            vec![],
        )
        .await
        .expect("hit test");
    assert_eq!(on_top, json!("livedesk-widget"), "the launcher is on top");
    let drawn = b
        .execute(
            "const s = document.querySelector('script[src$=\"/widget.js\"]');
             const t = performance.getEntriesByName(s.src)[0];
             return [t ? t.responseEnd : null, Number(s.dataset.livedeskDrawnAt)]",
            vec![],
        )
        .await
        .expect("timings");
    screenshot(&b, "widget-01-launcher").await;

    // The form, in the iframe: the host's CSS cannot reach it.
    let clicked = Instant::now();
    click_launcher(&b).await;
    enter_panel(&b).await;
    el(&b, "#f-name").await;
    println!(
        "widget timings (headless Chromium, loopback): script loaded at {:.0} ms, launcher drawn at {:.0} ms (after the page started); click to a usable form {} ms (with WebDriver's round trips)",
        drawn[0].as_f64().unwrap_or(f64::NAN),
        drawn[1].as_f64().unwrap_or(f64::NAN),
        clicked.elapsed().as_millis()
    );
    wait_text(&b, "#prechat", "Hi! Ask us anything.").await;
    let font = b
        .execute(
            "return getComputedStyle(document.querySelector('#f-name')).fontSize",
            vec![],
        )
        .await
        .expect("font");
    assert_eq!(font, json!("16px"), "inputs are 16 px");
    axe(&b, &axe_js, "pre-chat form").await;
    click(&b, "#f-start").await; // empty: told what to fill in
    wait_text(&b, "#prechat", "Please fill this in.").await;
    type_into(&b, "#f-name", "Vera").await;
    type_into(&b, "#f-email", "not an email").await;
    type_into(&b, "#f-question", "Where is my order?").await;
    click(&b, "#f-start").await;
    wait_text(&b, "#prechat", "like name@example.com").await;
    type_into(&b, "#f-email", "vera@example.com").await;
    wait_text(&b, "#prechat", "982 characters left").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-02-form").await;
    enter_panel(&b).await;
    click(&b, "#f-start").await;

    // Waiting, with the queue position.
    wait_text(&b, "#status", "You are number 1 in the queue.").await;
    axe(&b, &axe_js, "waiting").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-03-waiting").await;

    // Ann picks the chat over the staff websocket; messages go both ways.
    let view = ann
        .until(|f| f["type"] == "queue_view" && f["waiting_total"] == 1)
        .await;
    let chat_id = view["waiting"][0]["id"]
        .as_str()
        .expect("chat id")
        .to_string();
    ann.send(json!({"type": "accept", "chat_id": chat_id}))
        .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "accept")
        .await;
    enter_panel(&b).await;
    wait_text(&b, "#thread", "Ann joined the chat").await;
    ann.send(json!({"type": "message", "chat_id": chat_id, "client_id": "a-1", "body": "Hello Vera, let me look."}))
        .await;
    wait_thread(&b, &["Where is my order?", "Hello Vera, let me look."]).await;
    let initials = b
        .execute(
            "return document.querySelector('#thread .msg.agent .initials').textContent",
            vec![],
        )
        .await
        .expect("initials");
    assert_eq!(
        initials,
        json!("A"),
        "the agent's initials beside their name"
    );
    ann.send(json!({"type": "typing", "chat_id": chat_id, "active": true}))
        .await;
    wait_text(&b, "#typing", "Ann is typing").await;
    type_into(&b, "#c-input", "Order 77").await;
    let draft = ann
        .until(|f| f["type"] == "typing" && f["text"] == "Order 77")
        .await;
    assert_eq!(draft["from"], "visitor", "sneak peek: Ann sees the draft");
    wait_text(&b, "#peek", "sees what you type").await;
    click(&b, "#c-send").await;
    let got = ann
        .until(|f| f["type"] == "message" && f["message"]["body"] == "Order 77")
        .await;
    assert_eq!(got["message"]["kind"], "visitor");
    wait_thread(
        &b,
        &["Where is my order?", "Hello Vera, let me look.", "Order 77"],
    )
    .await;
    axe(&b, &axe_js, "chatting").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-04-chatting").await;

    // Minimised, an agent message is counted on the launcher.
    enter_panel(&b).await;
    click(&b, "#close").await;
    b.enter_parent_frame().await.expect("parent");
    // The message must come after the panel is closed, not race the close.
    let deadline = Instant::now() + Duration::from_secs(15);
    while b
        .execute(
            "return document.querySelector('livedesk-widget').shadowRoot.querySelector('iframe').style.display",
            vec![],
        )
        .await
        .expect("iframe")
        != json!("none")
    {
        assert!(Instant::now() < deadline, "the panel never closed");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    ann.send(json!({"type": "message", "chat_id": chat_id, "client_id": "a-2", "body": "Found it: <img src=x onerror=window.__xss=1> ships <b>today</b>."}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let badge = b
            .execute(
                "const r = document.querySelector('livedesk-widget').shadowRoot; const s = r.querySelector('button span');
                 return [s.textContent, getComputedStyle(s).display, r.querySelector('iframe').style.display]",
                vec![],
            )
            .await
            .expect("badge");
        if badge == json!(["1", "block", "none"]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no unread count on the launcher: {badge}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    screenshot(&b, "widget-04b-unread").await;
    click_launcher(&b).await;
    enter_panel(&b).await;

    // Another page of the shop, then a reload: the thread is intact, once.
    let all = [
        "Where is my order?",
        "Hello Vera, let me look.",
        "Order 77",
        "Found it: <img src=x onerror=window.__xss=1> ships <b>today</b>.",
    ];
    wait_thread(&b, &all).await;
    // Markup from data is text: the agent's message shows as written.
    let ran = b
        .execute(
            "return [window.__xss === undefined, document.querySelectorAll('#thread img, #thread b').length]",
            vec![],
        )
        .await
        .expect("markup");
    assert_eq!(
        ran,
        json!([true, 0]),
        "a message's markup neither ran nor became elements"
    );
    b.enter_parent_frame().await.expect("parent");
    click(&b, "a[href='/page2']").await;
    assert_eq!(loader_state(&b).await, "ready");
    enter_panel(&b).await;
    wait_thread(&b, &all).await;
    b.enter_parent_frame().await.expect("parent");
    b.refresh().await.expect("reload");
    assert_eq!(loader_state(&b).await, "ready");
    enter_panel(&b).await;
    wait_thread(&b, &all).await;

    // The tab is closed and the shop opened again in a new one: the chat
    // resumes when Vera opens the launcher.
    let first = b.window().await.expect("window");
    let second = b.new_window(true).await.expect("new tab").handle;
    b.switch_to_window(first).await.expect("first tab");
    b.close_window().await.expect("close the tab");
    b.switch_to_window(second).await.expect("second tab");
    b.goto(&format!("{shop_base}/page2"))
        .await
        .expect("shop again");
    assert_eq!(loader_state(&b).await, "ready");
    click_launcher(&b).await;
    enter_panel(&b).await;
    wait_thread(&b, &all).await;

    // The desk is killed mid-chat; what Vera types meanwhile is pending,
    // then arrives once after the restart.
    desk.kill();
    wait_text(&b, "#banner", "Reconnecting").await;
    type_into(&b, "#c-input", "Typed while you were away").await;
    click(&b, "#c-send").await;
    wait_text(&b, "#thread .pending", "Typed while you were away").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-05-reconnecting").await;
    desk.spawn();
    enter_panel(&b).await;
    let after: Vec<&str> = all
        .iter()
        .copied()
        .chain(["Typed while you were away"])
        .collect();
    wait_thread(&b, &after).await;
    let banner_hidden = b
        .execute("return document.getElementById('banner').hidden", vec![])
        .await
        .expect("banner");
    assert_eq!(banner_hidden, json!(true), "the banner goes once connected");
    let transcript = ann_api.get(&format!("/api/chats/{chat_id}")).await;
    let bodies: Vec<&str> = transcript.json["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["kind"] == "visitor")
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(
        bodies,
        vec![
            "Where is my order?",
            "Order 77",
            "Typed while you were away"
        ]
    );

    // Ann's socket went with the desk; she comes back and hears it once.
    let (mut ann, hello) = Ws::staff_at(&desk_base, &ann_api).await;
    assert!(hello["chats"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["id"] == chat_id.as_str())));
    let typed_seq = transcript.json["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["body"] == "Typed while you were away")
        .and_then(|m| m["seq"].as_u64())
        .expect("seq");
    ann.send(json!({"type": "resume", "chat_id": chat_id, "last_seq": typed_seq - 1}))
        .await;
    let m = ann.until(|f| f["type"] == "message").await;
    assert_eq!(m["message"]["body"], "Typed while you were away");

    // Vera ends the chat, with a confirm.
    click(&b, "#c-end").await;
    wait_text(&b, "#confirm", "End this chat?").await;
    axe(&b, &axe_js, "confirm end").await;
    click(&b, "#end-yes").await;
    wait_text(&b, "#ended", "You ended the chat.").await;
    ann.until(|f| f["type"] == "chat_ended").await;
    axe(&b, &axe_js, "ended").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-06-ended").await;

    // The rating: good, with a comment; Ann's transcript shows it.
    enter_panel(&b).await;
    click(&b, "#rate-good").await;
    type_into(&b, "#rate-comment", "Quick and kind").await;
    click(&b, "#rate-send").await;
    wait_text(&b, "#rate-thanks", "Thank you for your rating!").await;
    let rated = ann_api.get(&format!("/api/chats/{chat_id}")).await;
    assert_eq!(rated.json["rating"]["score"], "good", "{}", rated.text);
    assert_eq!(rated.json["rating"]["comment"], "Quick and kind");

    // The transcript by email, to the address given at the start.
    let prefilled = b
        .execute("return document.getElementById('t-email').value", vec![])
        .await
        .expect("email field");
    assert_eq!(prefilled, json!("vera@example.com"));
    click(&b, "#t-send").await;
    wait_text(&b, "#t-sent", "on its way to vera@example.com").await;
    let mails = sink.until(1).await;
    assert_eq!(mails[0].to, ["vera@example.com"]);
    assert!(
        mails[0].body().contains("Vera: Where is my order?"),
        "{}",
        mails[0].body()
    );
    axe(&b, &axe_js, "transcript sent").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-06b-transcript-sent").await;
    b.set_window_size(375, 667).await.expect("phone size");
    tokio::time::sleep(Duration::from_millis(300)).await;
    screenshot(&b, "widget-06b-transcript-sent-phone").await;
    b.set_window_size(1280, 800).await.expect("size");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The offline form: a group whose queue is offline.
    b.goto(&format!("{shop_base}/night"))
        .await
        .expect("night page");
    assert_eq!(loader_state(&b).await, "ready");
    click_launcher(&b).await;
    enter_panel(&b).await;
    wait_text(&b, "#offline", "Leave a message").await;
    axe(&b, &axe_js, "offline form").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-07-offline").await;
    enter_panel(&b).await;
    type_into(&b, "#o-name", "Nils").await;
    type_into(&b, "#o-email", "nils@example.com").await;
    type_into(&b, "#o-message", "Please call me tomorrow.").await;
    click(&b, "#o-send").await;
    wait_text(&b, "#offline-sent", "Thank you!").await;
    let left = owner.get("/api/offline_messages").await;
    assert_eq!(left.json["total"], 1, "{}", left.text);
    assert_eq!(
        left.json["messages"][0]["message"],
        "Please call me tomorrow."
    );
    assert_eq!(left.json["messages"][0]["group"], night.as_str());

    // Nobody online in Support: the message form, not a queue for nobody.
    drop(ann);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    b.goto(&format!("{shop_base}/")).await.expect("shop");
    assert_eq!(loader_state(&b).await, "ready");
    click_launcher(&b).await;
    enter_panel(&b).await;
    wait_text(&b, "#offline", "We are not online right now").await;

    // Live, without a reload: the group opens (nobody need be online now)
    // and the panel turns to the chat form; a closed date of today turns it
    // back to the message form, with the business's note on top.
    let recheck = "document.dispatchEvent(new Event('visibilitychange'))";
    let r = owner
        .patch(
            &format!("/api/groups/{support}"),
            json!({"offline_when_nobody_online": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    b.execute(recheck, vec![]).await.expect("recheck");
    el(&b, "#prechat").await;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let hours = format!("/api/groups/{support}/hours");
    let r = owner
        .put(&hours, json!({"zone": "UTC", "closed": [{"date": today, "note": "Closed for stocktaking <b>"}]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    b.execute(recheck, vec![]).await.expect("recheck");
    wait_text(&b, "#o-closed-note", "Closed for stocktaking <b>").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-closed-date").await;
    enter_panel(&b).await;
    assert_eq!(owner.put(&hours, json!({"zone": "UTC"})).await.status, 200);
    let r = owner
        .patch(
            &format!("/api/groups/{support}"),
            json!({"offline_when_nobody_online": true}),
        )
        .await;
    assert_eq!(r.status, 200);

    // Swedish and Dutch.
    for (page, words) in [
        ("sv", "Lämna ett meddelande"),
        ("nl", "Laat een bericht achter"),
    ] {
        b.goto(&format!("{shop_base}/{page}")).await.expect("page");
        assert_eq!(loader_state(&b).await, "ready");
        click_launcher(&b).await;
        enter_panel(&b).await;
        wait_text(&b, "#offline", words).await;
        let lang = b
            .execute("return document.documentElement.lang", vec![])
            .await
            .expect("lang");
        assert_eq!(lang, json!(page));
        b.enter_parent_frame().await.expect("parent");
        screenshot(&b, &format!("widget-08-{page}")).await;
    }

    // Phone size: the open panel is the whole screen.
    // An open form follows the group: Ann comes online and the message
    // form turns into the chat form, what was typed kept (the panel asks
    // again every 30 s and when the tab becomes visible; the test makes
    // it visible again).
    enter_panel(&b).await;
    type_into(&b, "#o-name", "Nils").await;
    let (mut ann2, _) = Ws::staff_at(&desk_base, &ann_api).await;
    ann2.send(json!({"type": "set_status", "status": "available"}))
        .await;
    ann2.until(|f| f["type"] == "done").await;
    b.execute(
        "document.dispatchEvent(new Event('visibilitychange'))",
        vec![],
    )
    .await
    .expect("visible again");
    el(&b, "#prechat").await;
    let kept = b
        .execute("return document.getElementById('f-name').value", vec![])
        .await
        .expect("kept");
    assert_eq!(kept, json!("Nils"), "what was typed is kept");
    b.enter_parent_frame().await.expect("parent");
    b.set_window_size(375, 667).await.expect("phone size");
    b.goto(&format!("{shop_base}/")).await.expect("shop");
    assert_eq!(loader_state(&b).await, "ready");
    screenshot(&b, "widget-phone-01-launcher").await;
    let page = b
        .execute(
            "return [document.documentElement.clientWidth, document.documentElement.clientHeight]",
            vec![],
        )
        .await
        .expect("page size");
    click_launcher(&b).await;
    enter_panel(&b).await;
    el(&b, "#offline, #prechat").await;
    let panel = b
        .execute("return [innerWidth, innerHeight, top === self]", vec![])
        .await
        .expect("size");
    assert_eq!(
        (&panel[0], &panel[1], &panel[2]),
        (&page[0], &page[1], &json!(false)),
        "on a phone the open panel fills the page's viewport"
    );
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-phone-02-form").await;
    enter_panel(&b).await;
    type_into(&b, "#f-name", "Pia").await;
    type_into(&b, "#f-question", "Do you ship to Norway?").await;
    click(&b, "#f-start").await;
    wait_text(&b, "#status", "number 1").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-phone-03-waiting").await;
    let view = ann2
        .until(|f| f["type"] == "queue_view" && f["waiting_total"] == 1)
        .await;
    let phone_chat = view["waiting"][0]["id"]
        .as_str()
        .expect("chat id")
        .to_string();
    ann2.send(json!({"type": "accept", "chat_id": phone_chat}))
        .await;
    ann2.until(|f| f["type"] == "done" && f["request"] == "accept")
        .await;
    ann2.send(json!({"type": "message", "chat_id": phone_chat, "client_id": "p-1", "body": "Yes, in 3 days."}))
        .await;
    enter_panel(&b).await;
    wait_thread(&b, &["Do you ship to Norway?", "Yes, in 3 days."]).await;
    let tap = b
        .execute(
            "return [...document.querySelectorAll('button')].filter(e => e.offsetParent)
               .map(e => e.getBoundingClientRect()).every(r => r.height >= 44 && r.width >= 44)",
            vec![],
        )
        .await
        .expect("tap targets");
    assert_eq!(tap, json!(true), "tap targets are at least 44 px");
    axe(&b, &axe_js, "phone chatting").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-phone-04-chatting").await;

    // While the page is hidden (another tab), the title counts unread
    // agent messages. Headless Chromium is never hidden, so the test says
    // it is, to both documents.
    let hide = "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true})";
    b.execute(hide, vec![]).await.expect("host hidden");
    enter_panel(&b).await;
    b.execute(hide, vec![]).await.expect("panel hidden");
    b.enter_parent_frame().await.expect("parent");
    ann2.send(json!({"type": "message", "chat_id": phone_chat, "client_id": "p-2", "body": "Still there?"}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let title = b
            .execute("return document.title", vec![])
            .await
            .expect("title");
        if title == json!("(1) Shop index") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the title never counted the unread message: {title}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    ann2.send(json!({"type": "end", "chat_id": phone_chat, "wrap_up": "Resolved"}))
        .await;
    enter_panel(&b).await;
    wait_text(&b, "#ended", "Ann ended the chat.").await;
    b.enter_parent_frame().await.expect("parent");
    screenshot(&b, "widget-phone-05-ended").await;
    b.set_window_size(1280, 800).await.expect("size");

    // The plain link with no group: the visitor picks the department; a
    // closed one turns the form into the message form, the words kept.
    b.goto(&format!("{desk_base}/chat"))
        .await
        .expect("chat link");
    el(&b, "#f-group")
        .await
        .select_by_label("Night")
        .await
        .expect("pick Night");
    type_into(&b, "#f-name", "Pia").await;
    type_into(&b, "#f-question", "Open on Sunday?").await;
    click(&b, "#f-start").await;
    wait_text(&b, "#offline", "Leave a message").await;
    let kept = b
        .execute("return [document.getElementById('o-name').value, document.getElementById('o-message').value]", vec![])
        .await
        .expect("kept");
    assert_eq!(kept, json!(["Pia", "Open on Sunday?"]));
    axe(&b, &axe_js, "full-page message form").await;
    screenshot(&b, "widget-09-chat-link").await;

    // A page of an origin the desk does not list cannot start a chat.
    b.goto(&format!("http://localhost:{other_port}/"))
        .await
        .expect("other site");
    assert_eq!(loader_state(&b).await, "refused");
    let drawn = b
        .execute(
            "return document.querySelector('livedesk-widget') !== null",
            vec![],
        )
        .await
        .expect("drawn");
    assert_eq!(drawn, json!(false), "no launcher on an unlisted site");
    let start = b
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0] + '/api/visitor/chats', {method: 'POST', headers: {'Content-Type': 'application/json'},
               body: JSON.stringify({name: 'Eve', group: arguments[1], question: 'hi'})})
               .then(r => done('status ' + r.status), e => done('blocked'));",
            vec![json!(desk_base), json!(support)],
        )
        .await
        .expect("fetch");
    assert_eq!(
        start,
        json!("blocked"),
        "the browser may not start a chat from there"
    );

    // Staff read the offline messages in the console.
    sign_in(&b, &desk_base, OWNER_EMAIL, OWNER_PASSWORD).await;
    wait_text(&b, "#whoami", "Olivia Owner").await;
    click(&b, "a[href='#/messages']").await;
    wait_text(&b, "#messages-table", "Please call me tomorrow.").await;
    wait_text(&b, "#messages-table", "nils@example.com").await;
    wait_text(&b, "#messages-table", "Night").await;
    let text = b
        .execute(
            "return document.getElementById('messages-screen').innerText",
            vec![],
        )
        .await
        .expect("text");
    assert!(!text.as_str().unwrap_or("").contains("null"), "{text}");
    axe(&b, &axe_js, "console offline messages").await;
    screenshot(&b, "widget-10-console-messages").await;
    b.close().await.expect("close browser");
}

/// Gzipped size of a path as the desk serves it.
pub(crate) async fn served_gzip(base: &str, path: &str) -> usize {
    let mut res = awc::Client::new()
        .get(format!("{base}{path}"))
        .insert_header(("Accept-Encoding", "gzip"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200, "{path}");
    assert_eq!(
        res.headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip"),
        "{path} is served gzipped"
    );
    res.body().limit(4 << 20).await.expect("body").len()
}

/// The size budgets of UI.md, as served (gzip): the launcher at most
/// 10 KB with its CSS, the whole widget with one language at most 50 KB.
#[actix_web::test]
async fn the_widget_fits_its_size_budgets() {
    let app = TestApp::start().await;
    let launcher = served_gzip(&app.base, "/widget.js").await;
    let mut whole = launcher;
    for path in [
        "/widget/panel",
        "/assets/widget/panel.css",
        "/assets/widget/panel.js",
        "/assets/widget/link.js",
        "/assets/widget/suggest.js",
        "/assets/shared/chatlog.js",
        "/assets/shared/dom.js",
        "/assets/widget/strings/en.js",
    ] {
        whole += served_gzip(&app.base, path).await;
    }
    let mut largest_language = 0;
    for lang in ["en", "sv", "nl"] {
        largest_language = largest_language
            .max(served_gzip(&app.base, &format!("/assets/widget/strings/{lang}.js")).await);
    }
    println!("widget sizes (gzip): launcher {launcher} B (limit 10240), whole widget with English {whole} B (limit 51200), largest language table {largest_language} B");
    assert!(launcher <= 10 * 1024, "launcher {launcher} B over 10 KB");
    assert!(whole <= 50 * 1024, "widget {whole} B over 50 KB");
}

/// The JavaScript unit tests (`tests/js/`, Node's built-in runner) of the
/// shared modules: chat log merge, gaps, pending sends, backoff.
#[test]
fn the_javascript_unit_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = match Command::new("node")
        .arg("--test")
        .arg(root.join("tests/js"))
        .current_dir(root)
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            let msg = "JAVASCRIPT UNIT TESTS SKIPPED: node not found. Install it with `sudo apt-get install nodejs`.";
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "{msg} Under CI a missing node is a failure."
            );
            eprintln!("\n=== {msg} ===\n");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test tests/js failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("# fail 0"), "{text}");
}
