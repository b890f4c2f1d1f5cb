//! The agent workspace in headless Chromium against the real binary: two
//! agents and a manager in three browsers, a visitor over the visitor
//! protocol. Offer pop-up with its countdown, accepted from the keyboard;
//! messages both ways with the visitor's draft; the manager watches
//! statuses and loads live, monitors and whispers (the visitor never sees
//! it); a transfer accepted in the receiver's pop-up; a killed and
//! restarted desk resumed with nothing lost or doubled; an end with a
//! wrap-up; the transcript by its link; the manager sets an agent away and
//! switches a queue off (both told); lists sort and bulk-transfer; markup
//! in every field shows as text; axe-core and screenshots at both sizes.

use crate::browser::*;
use crate::harness::*;
use fantoccini::Client as Browser;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const VISITOR: &str = "Vera <img src=x onerror=window.__xss=1>";
const QUESTION: &str = "<script>window.__xss=1</script>Where is my order?";

/// Screenshots at 1280×800 and 375×667 (`name-wide`, `name-phone`), axe-core on both.
pub(crate) async fn shots(b: &Browser, axe_js: &Option<String>, name: &str) {
    shots_of(b, axe_js, name, None).await;
}

/// [`shots`] with the element `css` scrolled into view at both sizes.
pub(crate) async fn shots_of(b: &Browser, axe_js: &Option<String>, name: &str, css: Option<&str>) {
    let scroll = || async {
        if let Some(css) = css {
            let js = format!("document.querySelector({css:?}).scrollIntoView()");
            b.execute(&js, vec![]).await.expect("scroll into view");
        }
    };
    axe(b, axe_js, name).await;
    scroll().await;
    screenshot(b, &format!("console-{name}-wide")).await;
    b.set_window_size(375, 667).await.expect("phone size");
    actix_web::rt::time::sleep(Duration::from_millis(150)).await;
    scroll().await;
    let width = b
        .execute("return document.documentElement.scrollWidth", vec![])
        .await
        .expect("width");
    assert!(
        width.as_u64().unwrap_or(999) <= 375,
        "{name}: the page is {width} px wide at 375 px"
    );
    screenshot(b, &format!("console-{name}-phone")).await;
    axe(b, axe_js, &format!("{name} (phone)")).await;
    b.set_window_size(1280, 800).await.expect("size");
}

/// Waits until `js` (an expression) is truthy in the page.
pub(crate) async fn until_js(b: &Browser, js: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v = b
            .execute(&format!("return !!({js})"), vec![])
            .await
            .unwrap_or(json!(false));
        if v == json!(true) {
            return;
        }
        if Instant::now() > deadline {
            let body = b.source().await.unwrap_or_default();
            panic!(
                "{what} never happened; page: {}",
                &body[..body.len().min(3000)]
            );
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Picks `value` in the select `css` as a person would (change event).
pub(crate) async fn choose(b: &Browser, css: &str, value: &str) {
    el(b, css).await;
    b.execute(
        "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![json!(css), json!(value)],
    )
    .await
    .expect("choose");
}

/// The seqs shown in the thread, in order.
async fn seqs(b: &Browser) -> Vec<u64> {
    let v = b
        .execute(
            "return [...document.querySelectorAll('#thread li[data-seq]')].map(e => Number(e.dataset.seq))",
            vec![],
        )
        .await
        .expect("seqs");
    serde_json::from_value(v).unwrap_or_default()
}

async fn no_script_ran(b: &Browser) {
    let ran = b
        .execute("return window.__xss === 1 || !!document.querySelector('#view img, #view script, #offer-layer img')", vec![])
        .await
        .expect("xss check");
    assert_eq!(ran, json!(false), "markup in data ran or became elements");
}

#[actix_web::test]
async fn two_agents_and_a_manager_run_a_chat_end_to_end_in_the_console() {
    let Some((driver_path, chromium)) = browser_paths() else {
        return;
    };
    let _turn = ONE_BROWSER_TEST.lock().await;
    let axe_js = axe_source();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut desk = desk_with_owner(dir.path(), port, "[chat]\nreconnect_grace = \"2m\"\n");

    let mut owner = Client::new(&base);
    assert_eq!(owner.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
    let r = owner
        .post(
            "/api/groups",
            json!({"name": "Support <b>", "routing": "round_robin", "rona_timeout_secs": 120}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let support = r.json["id"].as_str().expect("id").to_string();
    let r = owner
        .post(
            "/api/canned",
            json!({"shortcut": "thanks", "body": "Thanks for waiting, {visitor_first_name}! {agent_name} here.", "shared": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = owner
        .post(
            "/api/groups",
            json!({"name": "Sales", "offline_when_nobody_online": false}),
        )
        .await;
    let sales = r.json["id"].as_str().expect("id").to_string();
    for (email, name, role, chats) in [
        ("ann@example.com", "Ann", "agent", true),
        ("bob@example.com", "Bob", "agent", true),
        ("mia@example.com", "Mia", "manager", false),
    ] {
        // Mia manages both groups; Sales has nobody who takes chats.
        let groups = if role == "manager" {
            vec![support.clone(), sales.clone()]
        } else {
            vec![support.clone()]
        };
        let r = owner
            .post(
                "/api/staff",
                json!({"email": email, "display_name": name, "role": role, "password": "staff password 1",
                       "groups": groups, "chat_enabled": chats, "max_concurrent_chats": 3}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
    }

    let driver = start_driver(&driver_path);
    let profiles: Vec<_> = (0..3)
        .map(|_| tempfile::tempdir().expect("profile"))
        .collect();
    let ann = open_browser(&driver, &chromium, profiles[0].path()).await;
    let bob = open_browser(&driver, &chromium, profiles[1].path()).await;
    let mia = open_browser(&driver, &chromium, profiles[2].path()).await;
    for b in [&ann, &bob, &mia] {
        b.set_window_size(1280, 800).await.expect("size");
    }

    // Ann signs in: the dashboard tells her to go available.
    sign_in(&ann, &base, "ann@example.com", "staff password 1").await;
    wait_text(&ann, "#go-available", "no chats are offered").await;
    wait_text(&ann, "#conn-state", "Connected").await;
    let nav_hidden_before = ann
        .execute("return document.querySelector('#nav').hidden", vec![])
        .await
        .expect("nav");
    assert_eq!(nav_hidden_before, json!(false));
    shots(&ann, &axe_js, "01-dashboard").await;
    click(&ann, "#go-available-btn").await;
    until_js(
        &ann,
        "document.querySelector('#status-switch').value === 'available'",
        "Ann available",
    )
    .await;
    wait_text(&ann, "#my-load", "0 / 3 chats").await;

    sign_in(&bob, &base, "bob@example.com", "staff password 1").await;
    wait_text(&bob, "#conn-state", "Connected").await;
    sign_in(&mia, &base, "mia@example.com", "staff password 1").await;
    wait_text(&mia, "#conn-state", "Connected").await;
    mia.goto(&format!("{base}/#/manager"))
        .await
        .expect("manager");
    wait_text(&mia, "#manager-agents tr[data-agent='Ann']", "Available").await;
    wait_text(&mia, "#manager-agents tr[data-agent='Bob']", "Offline").await;

    // A visitor starts a chat: Ann's pop-up shows who, what, and a countdown.
    let visitor = Client::new(&base);
    let r = visitor
        .post("/api/visitor/chats", json!({"name": VISITOR, "email": "vera@example.com", "group": support,
                                            "question": QUESTION, "page_url": "https://shop.example.com/orders?<b>"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let chat = r.json["chat_id"].as_str().expect("chat").to_string();
    let token = r.json["token"].as_str().expect("token").to_string();
    let mut vera = Ws::visitor_unsaid(&base).await;
    vera.send(visitor_hello(&token, 0)).await;
    vera.expect("visitor_hello").await;

    wait_text(&ann, "#offer", VISITOR).await;
    wait_text(&ann, "#offer-question", QUESTION).await;
    wait_text(&ann, "#offer-countdown", " s").await;
    let first = el(&ann, "#offer-countdown")
        .await
        .text()
        .await
        .expect("text");
    actix_web::rt::time::sleep(Duration::from_millis(1300)).await;
    let later = el(&ann, "#offer-countdown")
        .await
        .text()
        .await
        .expect("text");
    assert_ne!(first, later, "the countdown counts down");
    until_js(
        &ann,
        "document.title === '(1) livedesk'",
        "the count in the title",
    )
    .await;
    no_script_ran(&ann).await;
    shots(&ann, &axe_js, "02-offer").await;
    // Accepted from the keyboard: focus is on Accept, Enter takes it.
    let focused = ann
        .execute("return document.activeElement.id", vec![])
        .await
        .expect("focus");
    assert_eq!(focused, json!("offer-accept"));
    ann.active_element()
        .await
        .expect("active")
        .send_keys("\u{E007}")
        .await
        .expect("enter");
    wait_text(&ann, "#chat-title", VISITOR).await;
    wait_text(&ann, "#thread", QUESTION).await;
    wait_text(&ann, "#thread", "Ann joined the chat").await;
    // Masking is on by default: the email shows as masked.
    wait_text(&ann, "#chat-details", "v***@example.com").await;
    wait_text(&ann, "#chat-details", "shop.example.com/orders?<b>").await;
    vera.expect("agent_joined").await;

    // Messages both ways; Ann sees Vera's draft as she types.
    vera.send(json!({"type": "typing", "text": "Order 7<b>"}))
        .await;
    wait_text(&ann, "#visitor-draft", "Order 7<b>").await;
    vera.send(json!({"type": "message", "client_id": "v-1", "body": "Order 77 <i>soon</i>"}))
        .await;
    vera.expect("ack").await;
    wait_text(&ann, "#thread", "Order 77 <i>soon</i>").await;
    type_into(&ann, "#compose", "It ships today.").await;
    wait_text(&ann, "#compose-counter", "15 / 1000").await;
    el(&ann, "#compose")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("enter");
    let m = vera
        .until(|f| f["type"] == "message" && f["message"]["body"] == "It ships today.")
        .await;
    assert_eq!(m["message"]["kind"], "agent");
    wait_text(&ann, "#thread", "It ships today.").await;

    // A canned response: "/tha" opens the picker, Enter inserts it with
    // the placeholders filled in, Enter again sends it.
    type_into(&ann, "#compose", "/tha").await;
    wait_text(&ann, ".canned-list", "/thanks").await;
    shots_of(&ann, &axe_js, "04b-canned-picker", Some("#compose-form")).await;
    el(&ann, "#compose")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("enter");
    until_js(
        &ann,
        "document.getElementById('compose').value === 'Thanks for waiting, Vera! Ann here.'",
        "the response inserted with the names",
    )
    .await;
    el(&ann, "#compose")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("enter");
    vera.until(|f| {
        f["type"] == "message" && f["message"]["body"] == "Thanks for waiting, Vera! Ann here."
    })
    .await;
    until_js(
        &ann,
        "!document.querySelector('#thread .pending')",
        "the message acknowledged",
    )
    .await;
    no_script_ran(&ann).await;
    shots(&ann, &axe_js, "03-chat").await;

    // The manager sees Ann's load and visitor, monitors and whispers.
    wait_text(&mia, "#manager-agents tr[data-agent='Ann'] .load", "1 / 3").await;
    wait_text(&mia, "#manager-agents tr[data-agent='Ann']", VISITOR).await;
    wait_text(&mia, "#manager-groups", "Support <b>").await;
    no_script_ran(&mia).await;
    shots(&mia, &axe_js, "04-manager").await;
    click(&mia, "#manager-agents tr[data-agent='Ann'] button").await;
    wait_text(&mia, "#thread", "It ships today.").await;
    type_into(&mia, "#compose", "Offer her free shipping").await;
    el(&mia, "#compose")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("enter");
    wait_text(&ann, "#thread .msg.whisper", "Offer her free shipping").await;
    shots(&mia, &axe_js, "05-monitor").await;
    assert!(
        vera.quiet(Duration::from_millis(800), |f| f
            .to_string()
            .contains("free shipping"))
            .await,
        "the visitor never sees a whisper"
    );
    click(&mia, "#unmonitor").await;
    mia.goto(&format!("{base}/#/manager"))
        .await
        .expect("manager");

    // Bob goes available from the header; the manager sees it live.
    choose(&bob, "#status-switch", "available").await;
    wait_text(&mia, "#manager-agents tr[data-agent='Bob']", "Available").await;

    // Ann transfers to Bob, who accepts in his pop-up.
    click(&ann, "#transfer-chat").await;
    type_into(&ann, "#transfer-filter", "bo").await;
    shots(&ann, &axe_js, "06-transfer").await;
    click(&ann, "#transfer-dialog input[value^='s:']").await;
    click(&ann, "#transfer-submit").await;
    wait_text(&bob, "#offer", "Ann transfers a chat to you").await;
    click(&bob, "#offer-accept").await;
    wait_text(&bob, "#chat-title", VISITOR).await;
    wait_text(&bob, "#thread", "It ships today.").await;
    until_js(
        &ann,
        "![...document.querySelectorAll('#chat-tabs .chat-tab')].length",
        "Ann's tab gone",
    )
    .await;
    wait_text(&mia, "#manager-agents tr[data-agent='Bob'] .load", "1 / 3").await;
    wait_text(&mia, "#manager-agents tr[data-agent='Ann'] .load", "0 / 3").await;

    // The desk is killed and restarted: Bob's console shows the banner,
    // a message written meanwhile goes once, nothing shows twice.
    let before = seqs(&bob).await;
    desk.kill();
    wait_text(&bob, "#conn-state", "Offline").await;
    type_into(&bob, "#compose", "Still here, one moment.").await;
    el(&bob, "#compose")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("enter");
    wait_text(&bob, "#thread .pending", "Still here, one moment.").await;
    until_js(
        &bob,
        "!document.querySelector('#conn-banner').hidden",
        "the banner",
    )
    .await;
    screenshot(&bob, "console-07-dropped-wide").await;
    desk.spawn();
    wait_text(&bob, "#conn-state", "Connected").await;
    until_js(
        &bob,
        "!document.querySelector('#thread .pending')",
        "the pending message sent",
    )
    .await;
    let after = seqs(&bob).await;
    let mut unique = after.clone();
    unique.dedup();
    assert_eq!(after, unique, "no seq shown twice");
    assert!(
        after.len() == before.len() + 1 && after.starts_with(&before),
        "{before:?} then {after:?}"
    );
    let mut vera = Ws::visitor_unsaid(&base).await;
    vera.send(visitor_hello(&token, 0)).await;
    vera.expect("visitor_hello").await;
    let mine: Vec<Value> = {
        let mut v = Vec::new();
        while let Some(f) = vera.until_or_closed(|f| f["type"] == "message").await {
            let done = f["message"]["body"] == "Still here, one moment.";
            v.push(f);
            if done {
                break;
            }
        }
        v
    };
    assert_eq!(
        mine.iter()
            .filter(|f| f["message"]["body"] == "Still here, one moment.")
            .count(),
        1,
        "the message written offline arrives once"
    );

    // Bob ends with a wrap-up reason, found by typing.
    click(&bob, "#end-chat").await;
    type_into(&bob, "#wrapup-filter", "reso").await;
    shots(&bob, &axe_js, "08-wrap-up").await;
    click(&bob, "#wrapup-submit").await;
    vera.expect("chat_ended").await;
    wait_text(&bob, "#ended-note", "Wrap-up: Resolved").await;
    let r = visitor
        .post(
            "/api/visitor/rating",
            json!({"chat_token": token, "score": "bad", "comment": "Took a while"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // The transcript by its stable link shows it all, the rating too.
    bob.goto(&format!("{base}/#/chats/{chat}"))
        .await
        .expect("transcript");
    wait_text(&bob, "#transcript-messages", QUESTION).await;
    wait_text(&bob, "#transcript-messages", "Offer her free shipping").await;
    wait_text(&bob, "#transcript-messages", "Still here, one moment.").await;
    wait_text(&bob, "#handoffs", "Ann → Bob").await;
    wait_text(&bob, "#handoffs", "Transferred").await;
    wait_text(&bob, "#transcript", "Resolved").await;
    wait_text(&bob, "#transcript-rating", "Bad “Took a while”").await;
    no_script_ran(&bob).await;
    shots(&bob, &axe_js, "09-transcript").await;

    // Bob's dashboard counts the rating of his chat.
    bob.goto(&format!("{base}/#/dashboard"))
        .await
        .expect("dashboard");
    wait_text(
        &bob,
        "#satisfaction",
        "0 % good · 0 good, 1 bad in the last 7 days",
    )
    .await;
    wait_text(&bob, "#ratings-recent", "Took a while").await;
    shots_of(
        &bob,
        &axe_js,
        "09b-dashboard-satisfaction",
        Some("#satisfaction"),
    )
    .await;

    // Lists: two more chats, offered to Ann; sorted by visitor, selected
    // all, moved to Sales in bulk by the manager (Ann's offers withdrawn).
    // (A restarted desk starts everyone offline: Ann goes available again.)
    wait_text(&ann, "#conn-state", "Connected").await;
    choose(&ann, "#status-switch", "available").await;
    wait_text(&mia, "#manager-agents tr[data-agent='Ann']", "Available").await;
    for name in ["Zed", "Adam"] {
        let r = visitor
            .post(
                "/api/visitor/chats",
                json!({"name": name, "group": support, "question": "Hi"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
    }
    wait_text(&ann, "#offer", "").await;
    mia.goto(&format!("{base}/#/lists")).await.expect("lists");
    click(&mia, "#tab-group").await;
    wait_text(&mia, "#chats-table", "Zed").await;
    click(&mia, "#chats-table button[data-sort='visitor']").await;
    until_js(
        &mia,
        "document.querySelector('#chats-table tbody tr td:nth-child(2)').textContent === 'Adam'",
        "sorted by visitor",
    )
    .await;
    click(&mia, "#chats-table button[data-sort='visitor']").await;
    until_js(
        &mia,
        "document.querySelector('#chats-table tbody tr td:nth-child(2)').textContent === 'Zed'",
        "sorted descending",
    )
    .await;
    no_script_ran(&mia).await;
    shots(&mia, &axe_js, "10-lists").await;
    click(&mia, "#select-all").await;
    wait_text(&mia, "#selected-count", "3 selected").await;
    choose(&mia, "#bulk-group", &sales).await;
    click(&mia, "#bulk-transfer").await;
    wait_text(&mia, "#toast", "2 moved; 1 not").await;
    until_js(
        &ann,
        "!document.querySelector('#offer')",
        "Ann's offers withdrawn",
    )
    .await;
    until_js(
        &bob,
        "!document.querySelector('#offer')",
        "Bob's offers withdrawn",
    )
    .await;

    // The manager sets Ann away (she is told who) and switches the queue off.
    mia.goto(&format!("{base}/#/manager"))
        .await
        .expect("manager");
    choose(
        &mia,
        "#manager-agents select[data-set-status='Ann']",
        "away",
    )
    .await;
    wait_text(&ann, "#toast", "Mia set your status to away").await;
    until_js(
        &ann,
        "document.querySelector('#status-switch').value === 'away'",
        "Ann away",
    )
    .await;
    wait_text(&mia, "#manager-agents tr[data-agent='Ann']", "Away").await;
    click(
        &mia,
        "#manager-groups tr[data-group='Support <b>'] input[role='switch']",
    )
    .await;
    wait_text(&ann, "#toast", "switched offline by Mia").await;
    wait_text(&bob, "#toast", "switched offline by Mia").await;

    // The other screens, each looked at.
    for (b, route, wait, name) in [
        (
            &ann,
            "#/queue",
            "#queue-screen section[data-group='Support <b>'] .badge.off",
            "11-queue-offline",
        ),
        (
            &mia,
            "#/queue",
            "#queue-screen section[data-group='Sales'] tr[data-chat]",
            "11-queue-waiting",
        ),
        (&ann, "#/workspace", "#workspace", "12-workspace-empty"),
        (&mia, "#/staff", "#staff-table", "13-staff"),
        (&mia, "#/groups", "#groups-table", "14-groups"),
        (&ann, "#/account", "main", "15-account"),
        (&mia, "#/messages", "#messages-screen, main", "16-messages"),
    ] {
        b.goto(&format!("{base}/{route}")).await.expect("route");
        el(b, wait).await;
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        no_script_ran(b).await;
        shots(b, &axe_js, name).await;
    }
    // The shortcuts list, by its key.
    ann.goto(&format!("{base}/#/dashboard"))
        .await
        .expect("dash");
    el(&ann, "#dashboard").await;
    el(&ann, "body").await.send_keys("?").await.expect("?");
    el(&ann, "#shortcuts").await;
    shots(&ann, &axe_js, "17-shortcuts").await;

    // The owner's settings: masking switched off shows data in clear at once;
    // a group's widget look is previewed live as it is edited.
    click(&mia, "#signout").await;
    sign_in(&mia, &base, OWNER_EMAIL, OWNER_PASSWORD).await;
    wait_text(&mia, "#whoami", "Olivia Owner").await;
    mia.goto(&format!("{base}/#/settings"))
        .await
        .expect("settings");
    wait_text(&mia, "#masking-settings", "The config file says on").await;
    wait_text(&mia, "#sites-settings", "None yet").await;
    shots(&mia, &axe_js, "18-settings").await;
    click(&mia, "#mask-pii").await;
    wait_text(&mia, "#mask-state", "Off").await;
    let r = owner.get(&format!("/api/chats/{chat}")).await;
    assert_eq!(
        r.json["chat"]["visitor_email"], "vera@example.com",
        "masking off at once"
    );
    mia.goto(&format!("{base}/#/groups")).await.expect("groups");
    click(&mia, "#groups-table tr[data-name='Sales'] button").await;
    el(&mia, "#edit-widget-preview").await;
    choose(&mia, "#edit-group-color", "#ffd600").await;
    mia.execute(
        "const t = document.querySelector('#edit-group-title'); t.value = 'Talk to <b>Sales</b>'; t.dispatchEvent(new Event('input'));",
        vec![],
    )
    .await
    .expect("title");
    let shown = mia
        .execute(
            "const h = document.querySelector('#edit-widget-preview .pv-head'); return [h.textContent, getComputedStyle(h).backgroundColor, getComputedStyle(h).color]",
            vec![],
        )
        .await
        .expect("preview");
    assert_eq!(
        shown,
        json!(["Talk to <b>Sales</b>", "rgb(255, 214, 0)", "rgb(0, 0, 0)"]),
        "the preview follows the form, dark text on a light colour"
    );
    shots(&mia, &axe_js, "19-group-preview").await;

    // Shifts: the editor names a bad field by the field; a shift shows as a
    // band with its agent; a closed date marks its day in the week view.
    mia.goto(&format!("{base}/#/shifts")).await.expect("shifts");
    wait_text(
        &mia,
        "#shifts-screen .week[data-group='Sales']",
        "always open",
    )
    .await;
    click(&mia, "#add-shift").await;
    type_into(&mia, "#shift-name", "Morning <b>").await;
    let set = |css: &'static str, v: &'static str| {
        let b = mia.clone();
        async move {
            b.execute(
                "const e = document.querySelector(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('input', {bubbles: true}));",
                vec![json!(css), json!(v)],
            )
            .await
            .expect("set");
        }
    };
    set("#shift-start", "08:00").await;
    set("#shift-end", "16:00").await;
    set("#shift-zone", "Mars/Base").await;
    click(&mia, "#shift-agents input[data-name='Ann']").await;
    click(&mia, "#shift-save").await;
    wait_text(&mia, "#shift-zone-error", "is not a time zone").await;
    shots(&mia, &axe_js, "20-shift-editor").await;
    set("#shift-zone", "Europe/Stockholm").await;
    click(&mia, "#shift-save").await;
    wait_text(
        &mia,
        "#shifts-screen .week[data-group='Support <b>']",
        "Morning <b> 08:00–16:00 · Ann",
    )
    .await;
    mia.execute(
        "document.querySelector(\".week[data-group='Sales'] button[data-hours]\").click()",
        vec![],
    )
    .await
    .expect("hours");
    click(&mia, "#add-closed").await;
    let today = mia
        .execute(
            "const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`",
            vec![],
        )
        .await
        .expect("today");
    mia.execute(
        "document.querySelector('#hours-closed .c-date').value = arguments[0]; document.querySelector('#hours-closed .c-note').value = 'Stocktaking <i>';",
        vec![today],
    )
    .await
    .expect("closed date");
    click(&mia, "#hours-save").await;
    wait_text(
        &mia,
        "#shifts-screen .week[data-group='Sales']",
        "Closed: Stocktaking <i>",
    )
    .await;
    no_script_ran(&mia).await;
    shots(&mia, &axe_js, "21-shifts-week").await;
    let w = visitor
        .get(&format!("/api/visitor/widget?groups={sales}"))
        .await;
    assert_eq!(w.json["groups"][0]["closed_note"], "Stocktaking <i>");
    mia.goto(&format!("{base}/#/manager"))
        .await
        .expect("manager");
    wait_text(&mia, "#manager-groups tr[data-group='Sales']", "closed").await;
    for b in [ann, bob, mia] {
        let _ = b.close().await;
    }
}

/// UI.md's budget: every console asset together at most 150 KB as served
/// (gzip). Every file under assets/console and assets/shared counts.
#[actix_web::test]
async fn the_console_fits_its_size_budget() {
    let app = TestApp::start().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let mut total = crate::widget::served_gzip(&app.base, "/").await;
    let mut files = 0;
    for dir in ["console", "shared"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("assets") {
            let name = entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("utf8");
            total += crate::widget::served_gzip(&app.base, &format!("/assets/{dir}/{name}")).await;
            files += 1;
        }
    }
    println!("console size (gzip): {total} B in {files} files and the page (limit 153600)");
    assert!(files >= 15, "every console module counted ({files})");
    assert!(total <= 150 * 1024, "console {total} B over 150 KB");
}
