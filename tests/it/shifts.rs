//! Shifts over the real server with a moved clock: the schedule switches
//! agents on and off at the right local time in two zones and across a
//! daylight-saving change, a choice made during a shift lasts until the
//! next boundary, and an agent who connects during their shift starts
//! available.

use crate::harness::*;
use livedesk::domain::{Clock, ManualClock};
use serde_json::{json, Value};
use std::time::Duration;

/// Milliseconds of a UTC date and time.
fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> u64 {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("time")
        .timestamp_millis() as u64
}

async fn desk_at(at: u64) -> (TestApp, Client) {
    let app = TestApp::start_at(ManualClock::starting_at(at), |c| {
        c.auth.session_idle_timeout = Duration::from_secs(40 * 86_400);
        c.auth.session_max_lifetime = Duration::from_secs(40 * 86_400);
    })
    .await;
    let owner = app.owner().await;
    (app, owner)
}

async fn agent(app: &TestApp, owner: &Client, email: &str, groups: &[&str]) -> (Ws, String) {
    let (c, id) = app.staff(owner, email, "agent", groups).await;
    let (ws, _) = Ws::staff(app, &c).await;
    (ws, id)
}

/// Moves the clock to `to` and lets the engine see it.
async fn move_to(app: &TestApp, to: u64) {
    let now = app.clock.now_ms();
    assert!(to >= now, "the clock only moves forward");
    app.advance(Duration::from_millis(to - now));
    app.running().state.engine.tick().await;
}

/// The next `status` frame.
async fn status(ws: &mut Ws) -> Value {
    ws.until(|f| f["type"] == "status").await
}

#[actix_web::test]
async fn shifts_switch_agents_at_local_time_in_two_zones_across_the_spring_change() {
    // Friday 2026-0327: Stockholm is UTC+1 until Sunday 03-29, New York
    // already UTC-4 (since 03-08).
    let (app, owner) = desk_at(utc(2026, 3, 27, 6, 0)).await;
    let support = app.group(&owner, "Support").await;
    let (mut ann, ann_id) = agent(&app, &owner, "ann@example.com", &[&support]).await;
    let (mut bo, bo_id) = agent(&app, &owner, "bo@example.com", &[&support]).await;
    let all = json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
    for (name, zone, who) in [
        ("Stockholm day", "Europe/Stockholm", &ann_id),
        ("New York day", "America/New_York", &bo_id),
    ] {
        let r = owner
            .post(
                "/api/shifts",
                json!({"name": name, "days": all, "start": "09:00", "end": "17:00", "zone": zone, "agents": [who]}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    // 07:00 in Stockholm, 02:00 in New York: both off; nothing to change
    // for offline agents.
    move_to(&app, utc(2026, 3, 27, 7, 59)).await;
    assert!(
        ann.quiet(Duration::from_millis(200), |f| f["type"] == "status")
            .await
    );
    move_to(&app, utc(2026, 3, 27, 8, 0)).await; // 09:00 CET
    let s = status(&mut ann).await;
    assert_eq!(
        (
            s["status"].as_str(),
            s["schedule"]["shift"].as_str(),
            s["schedule"]["on"].as_bool()
        ),
        (Some("available"), Some("Stockholm day"), Some(true)),
        "{s}"
    );
    assert!(
        bo.quiet(Duration::from_millis(200), |f| f["type"] == "status")
            .await,
        "New York is still asleep"
    );
    move_to(&app, utc(2026, 3, 27, 13, 0)).await; // 09:00 EDT
    assert_eq!(status(&mut bo).await["status"], "available");
    move_to(&app, utc(2026, 3, 27, 16, 0)).await; // 17:00 CET
    let s = status(&mut ann).await;
    assert_eq!(
        (
            s["status"].as_str(),
            s["schedule"]["on"].as_bool(),
            s["schedule"]["shift"].as_str()
        ),
        (Some("offline"), Some(false), Some("Stockholm day"))
    );
    move_to(&app, utc(2026, 3, 27, 21, 0)).await; // 17:00 EDT
    assert_eq!(status(&mut bo).await["status"], "offline");

    // Sunday 03-29 Stockholm moved to UTC+2: 09:00 is now 07:00 UTC.
    move_to(&app, utc(2026, 3, 29, 6, 59)).await;
    assert!(
        ann.quiet(Duration::from_millis(200), |f| f["type"] == "status"
            && f["status"] == "available")
            .await
    );
    move_to(&app, utc(2026, 3, 29, 7, 0)).await;
    assert_eq!(status(&mut ann).await["status"], "available", "09:00 CEST");
    move_to(&app, utc(2026, 3, 29, 15, 0)).await;
    assert_eq!(status(&mut ann).await["status"], "offline", "17:00 CEST");
}

#[actix_web::test]
async fn a_choice_during_a_shift_lasts_until_the_next_boundary_and_connecting_on_shift_starts_available(
) {
    let (app, owner) = desk_at(utc(2026, 11, 2, 8, 0)).await;
    let support = app.group(&owner, "Support").await;
    let (mut ann, _) = agent(&app, &owner, "ann@example.com", &[&support]).await;
    // A night shift of the whole group, 22:00 to 06:00 in New York (EST,
    // UTC-5, after the autumn change of 11-01).
    let r = owner
        .post(
            "/api/shifts",
            json!({"name": "Night", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "22:00", "end": "06:00",
                   "zone": "America/New_York", "groups": [support]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["zone"], "America/New_York");
    assert_eq!(
        owner.get("/api/shifts").await.json.as_array().map(Vec::len),
        Some(1)
    );
    move_to(&app, utc(2026, 11, 3, 3, 0)).await; // Monday 22:00 EST
    assert_eq!(status(&mut ann).await["status"], "available");
    // Ann steps away at midnight: it holds, also across a reconnect ...
    move_to(&app, utc(2026, 11, 3, 5, 0)).await;
    ann.send(json!({"type": "set_status", "status": "away"}))
        .await;
    ann.until(|f| f["type"] == "done").await;
    drop(ann);
    let mut c = app.client();
    c.login("ann@example.com", "staff password 1").await;
    let (mut ann, hello) = Ws::staff(&app, &c).await;
    assert_eq!(hello["status"], "away");
    assert!(
        ann.quiet(Duration::from_millis(300), |f| f["type"] == "status")
            .await,
        "the choice holds"
    );
    // ... until the shift's end, 06:00 EST = 11:00 UTC, when the schedule rules again.
    move_to(&app, utc(2026, 11, 3, 10, 59)).await;
    assert!(
        ann.quiet(Duration::from_millis(200), |f| f["type"] == "status")
            .await
    );
    move_to(&app, utc(2026, 11, 3, 11, 0)).await;
    let s = status(&mut ann).await;
    assert_eq!(
        (s["status"].as_str(), s["schedule"]["shift"].as_str()),
        (Some("offline"), Some("Night")),
        "{s}"
    );

    // A member who connects during the next night starts available.
    move_to(&app, utc(2026, 11, 4, 4, 0)).await; // Tuesday 23:00 EST
    status(&mut ann).await;
    let (bo_client, _) = app
        .staff(&owner, "bo@example.com", "agent", &[&support])
        .await;
    let (mut bo, _) = Ws::staff(&app, &bo_client).await;
    let s = status(&mut bo).await;
    assert_eq!(
        (s["status"].as_str(), s["schedule"]["on"].as_bool()),
        (Some("available"), Some(true))
    );

    // Bad rules are refused with the field named; unknown people are 404.
    let bad = owner
        .post(
            "/api/shifts",
            json!({"name": "X", "days": ["mon"], "start": "25:00", "end": "06:00", "zone": "UTC"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (400, "invalid_field"),
        "{}",
        bad.text
    );
    let bad = owner
        .post("/api/shifts", json!({"name": "X", "days": ["mon"], "start": "09:00", "end": "17:00", "zone": "Mars/Base"}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    let bad = owner
        .post(
            "/api/shifts",
            json!({"name": "X", "days": ["mon"], "start": "09:00", "end": "17:00", "zone": "UTC",
                                    "agents": ["0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10"]}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (404, "staff_not_found"));
    // An agent may not manage shifts.
    let r = bo_client
        .post("/api/shifts", json!({"name": "Mine", "days": ["mon"], "start": "09:00", "end": "17:00", "zone": "UTC"}))
        .await;
    assert_eq!(r.status, 403);
}

#[actix_web::test]
async fn a_group_takes_chats_in_its_hours_only_and_tells_waiting_visitors_when_it_closes() {
    let (app, owner) = desk_at(utc(2026, 6, 1, 8, 0)).await; // Monday 08:00 UTC
    let r = owner
        .post(
            "/api/groups",
            json!({"name": "Support", "routing": "manual"}),
        )
        .await;
    let support = r.json["id"].as_str().expect("id").to_string();
    let (mut ann, _) = agent(&app, &owner, "ann@example.com", &[&support]).await;
    let r = owner
        .post(
            "/api/shifts",
            json!({"name": "Office", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00",
                   "zone": "UTC", "groups": [support]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let visitor = app.client();
    let start = json!({"name": "Vera", "group": support, "question": "Open yet?"});
    let widget = format!("/api/visitor/widget?groups={support}");
    let r = visitor.post("/api/visitor/chats", start.clone()).await;
    assert_eq!(
        (r.status, r.json["status"].as_str()),
        (200, Some("offline")),
        "closed before 09:00"
    );
    assert_eq!(visitor.get(&widget).await.json["groups"][0]["open"], false);

    move_to(&app, utc(2026, 6, 1, 9, 0)).await;
    assert_eq!(status(&mut ann).await["status"], "available");
    assert_eq!(visitor.get(&widget).await.json["groups"][0]["open"], true);
    let r = visitor.post("/api/visitor/chats", start.clone()).await;
    assert_eq!(r.status, 201, "open at 09:00: {}", r.text);
    let mut vera = Ws::visitor(&app, r.json["token"].as_str().expect("token"), 0).await;

    // 17:00: the group closes; Vera, still waiting, is told.
    move_to(&app, utc(2026, 6, 1, 17, 0)).await;
    let ended = vera.until(|f| f["type"] == "chat_ended").await;
    assert_eq!(ended["ended_by"], json!({"by": "closed"}));
    assert_eq!(visitor.get(&widget).await.json["groups"][0]["open"], false);
    let r = visitor.post("/api/visitor/chats", start).await;
    assert_eq!(r.json["status"], "offline", "closed after 17:00");
}

#[actix_web::test]
async fn own_hours_and_closed_dates_open_and_close_a_group_and_a_restart_keeps_them() {
    // Wednesday 2026-12-23, 08:00 in New York (13:00 UTC).
    let (app, owner) = desk_at(utc(2026, 12, 23, 13, 0)).await;
    let support = app.group(&owner, "Support").await;
    // Nobody needs to be online: the hours alone decide (someone who
    // takes chats is in the group).
    app.staff(&owner, "ann@example.com", "agent", &[&support])
        .await;
    let r = owner
        .patch(
            &format!("/api/groups/{support}"),
            json!({"offline_when_nobody_online": false}),
        )
        .await;
    assert_eq!(r.status, 200);
    let widget = |app: &TestApp| {
        let c = app.client();
        let g = support.clone();
        async move { c.get(&format!("/api/visitor/widget?groups={g}")).await.json["groups"][0].clone() }
    };
    assert_eq!(widget(&app).await["open"], true, "no hours: always open");

    let bad = owner
        .call(
            "PUT",
            &format!("/api/groups/{support}/hours"),
            json!({"zone": "America/New_York", "closed": [{"date": "2026-02-30"}]}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_field"));
    assert!(bad.text.contains("date"), "{}", bad.text);
    let r = owner
        .call(
            "PUT",
            &format!("/api/groups/{support}/hours"),
            json!({"zone": "America/New_York",
                   "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "9:00", "end": "17:00"}],
                   "closed": [{"date": "2026-12-24", "note": "Closed for Christmas Eve"}, {"date": "2026-12-25"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["hours"][0]["start"], "09:00");
    let (mut ws, _) = Ws::staff(&app, &owner).await;

    // 08:00 local: closed until 09:00.
    let w = widget(&app).await;
    assert_eq!(
        (&w["open"], &w["closed_note"]),
        (&json!(false), &Value::Null)
    );
    let roster = ws
        .until(|f| f["type"] == "roster" && f["groups"][0]["open"] == false)
        .await;
    assert_eq!(roster["groups"][0]["opens_at"], utc(2026, 12, 23, 14, 0));
    let start = app
        .client()
        .post(
            "/api/visitor/chats",
            json!({"name": "Vera", "group": support, "question": "Hi"}),
        )
        .await;
    assert_eq!(start.json["status"], "offline");

    move_to(&app, utc(2026, 12, 23, 14, 0)).await; // 09:00
    assert_eq!(widget(&app).await["open"], true);
    ws.until(|f| f["type"] == "roster" && f["groups"][0]["open"] == true)
        .await;

    // Christmas Eve, a Thursday inside the hours: closed all day, with the note.
    move_to(&app, utc(2026, 12, 24, 17, 0)).await; // 12:00
    let w = widget(&app).await;
    assert_eq!(
        (&w["open"], &w["closed_note"]),
        (&json!(false), &json!("Closed for Christmas Eve"))
    );
    let r = ws
        .until(|f| f["type"] == "roster" && f["groups"][0]["open"] == false)
        .await;
    assert_eq!(
        r["groups"][0]["opens_at"],
        utc(2026, 12, 28, 14, 0),
        "closed the 24th and 25th, a weekend, then Monday 09:00"
    );
    move_to(&app, utc(2026, 12, 25, 17, 0)).await;
    assert_eq!(
        widget(&app).await["closed_note"],
        "",
        "a closed date without a note"
    );

    // A restart in the closed time keeps it closed; Monday opens it.
    let dir = app.stop().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let clock = std::sync::Arc::new(ManualClock::starting_at(utc(2026, 12, 26, 15, 0)));
    let again = livedesk::app::start(
        test_config(&dir.path().join("data")),
        listener,
        clock.clone(),
    )
    .await
    .expect("start");
    let c = Client::new(&format!("http://{}", again.addr));
    let g = c
        .get(&format!("/api/visitor/widget?groups={support}"))
        .await;
    assert_eq!(
        g.json["groups"][0]["open"], false,
        "Saturday after a restart: closed"
    );
    clock.advance(Duration::from_millis(
        utc(2026, 12, 28, 14, 0) - utc(2026, 12, 26, 15, 0),
    ));
    again.state.engine.tick().await;
    let g = c
        .get(&format!("/api/visitor/widget?groups={support}"))
        .await;
    assert_eq!(g.json["groups"][0]["open"], true, "Monday 09:00: open");
    again.stop().await.expect("stop");
}

#[actix_web::test]
async fn shifts_and_closed_dates_from_the_config_file_run_and_are_read_only() {
    use livedesk::config::{ConfigClosed, ConfigShift};
    use livedesk::domain::hours::ClosedDate;
    use livedesk::domain::shift::{Day, ShiftRule};
    // Monday 2026-12-07 07:00 UTC = 08:00 in Stockholm.
    let app = TestApp::start_at(ManualClock::starting_at(utc(2026, 12, 7, 7, 0)), |c| {
        c.auth.session_idle_timeout = Duration::from_secs(40 * 86_400);
        c.auth.session_max_lifetime = Duration::from_secs(40 * 86_400);
        c.schedule.shifts.push(ConfigShift {
            rule: ShiftRule {
                name: "File morning".into(),
                days: vec![Day::Mon, Day::Tue],
                start: "09:00".into(),
                end: "12:00".into(),
                zone: "Europe/Stockholm".into(),
                agents: vec![],
                groups: vec![],
            },
            agents: vec!["ann@example.com".into()],
            groups: vec![],
            at: "livedesk.toml:40".into(),
        });
        c.schedule.closed.push(ConfigClosed {
            group: "Support".into(),
            date: ClosedDate {
                date: "2026-12-08".into(),
                note: Some("Inventory".into()),
            },
            zone: Some("Europe/Stockholm".into()),
            at: "livedesk.toml:50".into(),
        });
    })
    .await;
    let owner = app.owner().await;
    let support = app.group(&owner, "Support").await;
    let (mut ann, _) = agent(&app, &owner, "ann@example.com", &[&support]).await;

    let list = owner.get("/api/shifts").await;
    let file = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["from_config"] == true)
        .expect("listed")
        .clone();
    assert_eq!(file["name"], "File morning");
    let r = owner
        .delete(&format!("/api/shifts/{}", file["id"].as_str().unwrap()))
        .await;
    assert_eq!((r.status, r.code()), (409, "from_config"));

    move_to(&app, utc(2026, 12, 7, 8, 0)).await; // 09:00 Stockholm
    let s = status(&mut ann).await;
    assert_eq!(
        (&s["status"], &s["schedule"]["shift"]),
        (&json!("available"), &json!("File morning"))
    );

    move_to(&app, utc(2026, 12, 8, 9, 0)).await; // Tuesday 10:00: closed by the file
    let w = app
        .client()
        .get(&format!("/api/visitor/widget?groups={support}"))
        .await;
    assert_eq!(
        (
            &w.json["groups"][0]["open"],
            &w.json["groups"][0]["closed_note"]
        ),
        (&json!(false), &json!("Inventory"))
    );
}
