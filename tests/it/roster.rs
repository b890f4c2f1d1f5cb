//! The live roster on the staff socket: who is on, their status, load and
//! chats, scoped by role; a manager's status change and queue switch, and
//! who is told.

use crate::harness::*;
use serde_json::{json, Value};

/// The roster entry of `name` in a roster frame.
fn entry<'a>(roster: &'a Value, name: &str) -> Option<&'a Value> {
    roster["staff"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
}

/// Reads roster frames until one satisfies `pred` for `name`.
async fn roster_until(ws: &mut Ws, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
    ws.until(|f| f["type"] == "roster" && entry(f, name).is_some_and(&pred))
        .await
}

#[actix_web::test]
async fn a_manager_sees_statuses_loads_and_chats_change_live_and_agents_see_no_visitors() {
    let desk = Desk::new("round_robin").await;
    let (mgr, _) = desk
        .app
        .staff(&desk.owner, "mia@example.com", "manager", &[&desk.group])
        .await;
    let (mut mia, _) = Ws::staff(&desk.app, &mgr).await;
    let (mut ann, ann_id) = desk.agent("Ann", 2).await;
    let (mut bob, _) = desk.agent("Bob", 2).await;

    let r = roster_until(&mut mia, "Ann", |e| e["status"] == "available").await;
    let ann_entry = entry(&r, "Ann").unwrap();
    assert_eq!(ann_entry["connected"], true);
    assert_eq!(ann_entry["load"], 0);
    assert_eq!(ann_entry["max_chats"], 2);
    assert_eq!(ann_entry["id"], ann_id.as_str());
    assert_eq!(r["groups"][0]["name"], "Support");
    assert_eq!(r["groups"][0]["queue_online"], true);

    // A chat: Ann's load and the visitor's name show to the manager.
    let (chat, _) = desk.start_chat("Vera <b>", "Hi").await;
    let offered = tokio::select! {
        f = ann.expect("offer") => (f, "Ann"),
        f = bob.expect("offer") => (f, "Bob"),
    };
    let who = offered.1;
    let ws = if who == "Ann" { &mut ann } else { &mut bob };
    ws.send(json!({"type": "accept", "chat_id": chat})).await;
    ws.expect("chat_joined").await;
    let r = roster_until(&mut mia, who, |e| e["chats"][0]["visitor"] == "Vera <b>").await;
    let e = entry(&r, who).unwrap();
    assert_eq!(e["load"], 1);
    assert_eq!(e["chats"][0]["id"], chat.as_str());
    assert_eq!(r["groups"][0]["active"], 1);

    // Agents see colleagues' status and load, never visitors' names.
    let r = roster_until(ws, who, |e| e["load"] == 1).await;
    assert!(
        r["staff"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("chats").is_none()),
        "agents get no chats: {r}"
    );

    // The manager sets Ann away: Ann is told who did it, the roster shows it.
    mia.send(json!({"type": "set_status", "status": "away", "staff_id": ann_id}))
        .await;
    mia.expect("done").await;
    let s = ann
        .until(|f| f["type"] == "status" && f["status"] == "away")
        .await;
    assert_eq!(s["by"]["name"], "mia");
    roster_until(&mut mia, "Ann", |e| e["status"] == "away").await;

    // A queue switched off: its agents are told, and by whom.
    let r = mgr
        .patch(
            &format!("/api/groups/{}", desk.group),
            json!({"queue_online": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let n = bob.expect("queue_switched").await;
    assert_eq!(
        (&n["online"], &n["name"], &n["by"]["name"]),
        (&json!(false), &json!("Support"), &json!("mia"))
    );
    ann.expect("queue_switched").await;
    mia.until(|f| f["type"] == "roster" && f["groups"][0]["queue_online"] == false)
        .await;
}

#[actix_web::test]
async fn the_roster_is_scoped_to_the_viewers_groups_and_lists_staff_never_connected() {
    let desk = Desk::new("round_robin").await;
    let other = desk.app.group(&desk.owner, "Sales").await;
    let (_, _) = desk
        .app
        .staff(&desk.owner, "sam@example.com", "agent", &[&other])
        .await;
    let (mut ann, _) = desk.agent("Ann", 2).await;
    let (mut owner_ws, _) = Ws::staff(&desk.app, &desk.owner).await;

    // The owner sees everyone, connected or not, and every group.
    let r = owner_ws
        .until(|f| f["type"] == "roster" && entry(f, "sam").is_some() && entry(f, "Ann").is_some())
        .await;
    assert_eq!(entry(&r, "sam").unwrap()["connected"], false);
    assert_eq!(entry(&r, "sam").unwrap()["status"], "offline");
    assert_eq!(r["groups"].as_array().unwrap().len(), 2);

    // Ann (Support) sees neither Sam (Sales only) nor Sales.
    let r = ann.expect("roster").await;
    assert!(entry(&r, "sam").is_none(), "{r}");
    assert!(entry(&r, "Ann").is_some(), "{r}");
    assert!(
        r["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["name"] != "Sales"),
        "{r}"
    );
}
