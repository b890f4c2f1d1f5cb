//! Chat lists and transcripts over REST, scoped by role.

use crate::harness::*;
use serde_json::{json, Value};

fn names(r: &Resp) -> Vec<String> {
    r.json["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .map(|c| c["visitor_name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[actix_web::test]
async fn lists_are_scoped_by_role_sorted_and_paged_and_transcripts_are_complete() {
    let desk = Desk::new("round_robin").await;
    let sales = desk.app.group(&desk.owner, "Sales").await;
    let (mut ann, _) = desk.agent("Ann", 1).await;
    let (mut cid, _) = desk.agent_in("Cid", 1, &[sales.as_str()]).await;

    // Ann: one ended chat (with a whisper), then one active.
    let (done, _) = desk.start_chat("Vera", "first").await;
    ann.expect("offer").await;
    ann.send(json!({"type": "accept", "chat_id": done})).await;
    ann.expect("chat_joined").await;
    ann.send(json!({"type": "message", "chat_id": done, "client_id": "w", "body": "note to self", "whisper": true})).await;
    ann.expect("ack").await;
    ann.send(json!({"type": "end", "chat_id": done, "wrap_up": "Resolved"}))
        .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "end")
        .await;
    let (active, _) = desk.start_chat("Anna", "second").await;
    ann.until(|f| f["type"] == "offer").await;
    ann.send(json!({"type": "accept", "chat_id": active})).await;
    ann.until(|f| f["type"] == "chat_joined").await;
    // Cid in Sales.
    let r = desk
        .app
        .client()
        .post(
            "/api/visitor/chats",
            json!({"name": "Sam", "group": sales, "question": "prices?"}),
        )
        .await;
    let sales_chat = r.json["chat_id"].as_str().expect("id").to_string();
    cid.expect("offer").await;
    cid.send(json!({"type": "accept", "chat_id": sales_chat}))
        .await;
    cid.expect("chat_joined").await;

    let mut ann_api = desk.app.client();
    ann_api.login("ann@example.com", "staff password 1").await;
    assert_eq!(
        names(&ann_api.get("/api/chats").await),
        vec!["Anna"],
        "my active"
    );
    let completed = ann_api.get("/api/chats?state=completed").await;
    assert_eq!(names(&completed), vec!["Vera"], "my completed");
    assert_eq!(completed.json["chats"][0]["wrap_up"], "Resolved");
    assert!(completed.json["chats"][0]["ended_at"].as_u64().is_some());
    let all = ann_api
        .get("/api/chats?scope=all&state=any&sort=visitor&order=asc")
        .await;
    assert_eq!(
        names(&all),
        vec!["Anna", "Vera"],
        "agents see their own only"
    );
    let other = ann_api
        .get(&format!("/api/chats?scope=group&group={sales}&state=any"))
        .await;
    assert_eq!(other.json["total"], 0, "not another group's chats");

    let mut mia = desk.app.client();
    desk.owner
        .post(
            "/api/staff",
            json!({"email": "mia@example.com", "display_name": "Mia", "role": "manager", "password": "staff password 1", "groups": [desk.group]}),
        )
        .await;
    mia.login("mia@example.com", "staff password 1").await;
    let r = mia
        .get("/api/chats?scope=all&state=any&sort=visitor&order=asc")
        .await;
    assert_eq!(names(&r), vec!["Anna", "Vera"], "managers see their groups");
    let r = desk
        .owner
        .get("/api/chats?scope=all&state=any&sort=visitor&order=desc")
        .await;
    assert_eq!(
        names(&r),
        vec!["Vera", "Sam", "Anna"],
        "admins see everything"
    );
    let r = desk
        .owner
        .get("/api/chats?scope=all&state=any&sort=visitor&order=asc&per_page=1&page=2")
        .await;
    assert_eq!(
        (names(&r), r.json["total"].as_u64()),
        (vec!["Sam".to_string()], Some(3))
    );
    let r = desk
        .owner
        .get(&format!("/api/chats?scope=group&group={sales}"))
        .await;
    assert_eq!(names(&r), vec!["Sam"]);
    let row: &Value = &r.json["chats"][0];
    assert_eq!(
        (row["group_name"].as_str(), row["agent_name"].as_str()),
        (Some("Sales"), Some("Cid"))
    );
    assert!(row["idle_secs"].as_u64().is_some() && row["duration_secs"].as_u64().is_some());

    // Transcripts: complete for who may see them, 404 for others.
    let t = ann_api.get(&format!("/api/chats/{done}")).await;
    assert_eq!(t.status, 200, "{}", t.text);
    let bodies: Vec<&str> = t.json["messages"]
        .as_array()
        .expect("m")
        .iter()
        .map(|m| m["body"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        bodies,
        vec![
            "first",
            "Ann joined the chat",
            "note to self",
            "Ann ended the chat"
        ]
    );
    assert!(t.json["chat"]["link"]
        .as_str()
        .is_some_and(|l| l.ends_with(&format!("/#/chats/{done}"))));
    assert!(
        t.json["chat"]["started_at"].as_u64().is_some()
            && t.json["chat"]["ended_at"].as_u64().is_some()
    );
    assert_eq!(
        ann_api
            .get(&format!("/api/chats/{sales_chat}"))
            .await
            .code(),
        "chat_not_found"
    );
    assert_eq!(
        mia.get(&format!("/api/chats/{sales_chat}")).await.code(),
        "chat_not_found"
    );
    assert_eq!(
        desk.owner
            .get(&format!("/api/chats/{sales_chat}"))
            .await
            .status,
        200
    );

    // Bad queries get JSON errors.
    assert_eq!(
        desk.owner.get("/api/chats?sort=bogus").await.code(),
        "invalid_query"
    );
    // Without group= (or agent=) the scope covers every group (agent) I may see.
    let every = desk.owner.get("/api/chats?scope=group&state=any").await;
    assert_eq!((every.status, every.json["total"].as_u64()), (200, Some(3)));
    let mia_groups = mia.get("/api/chats?scope=group&state=any").await;
    assert_eq!(mia_groups.json["total"], 2, "a manager's groups only");
    assert_eq!(
        desk.owner.get("/api/chats?per_page=0").await.code(),
        "invalid_field"
    );
    assert_eq!(
        desk.app.client().get("/api/chats").await.code(),
        "not_signed_in"
    );
}

#[actix_web::test]
async fn bulk_transfer_and_delete() {
    let desk = Desk::new("round_robin").await;
    let sales = desk.app.group(&desk.owner, "Sales").await;
    let (mut ann, _) = desk.agent("Ann", 1).await;
    let (active, token) = desk.start_chat("Vera", "one").await;
    ann.expect("offer").await;
    ann.send(json!({"type": "accept", "chat_id": active})).await;
    ann.expect("chat_joined").await;
    let (waiting, _) = desk.start_chat("Walt", "two").await;
    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    vera.messages_until(2).await;

    let (mut ann_api, mut mia) = (desk.app.client(), desk.app.client());
    ann_api.login("ann@example.com", "staff password 1").await;
    let body = json!({"chat_ids": [active, waiting], "to_group": sales});
    assert_eq!(
        ann_api
            .post("/api/chats/transfer", body.clone())
            .await
            .status,
        403,
        "agents cannot"
    );
    desk.owner
        .post("/api/staff", json!({"email": "mia@example.com", "display_name": "Mia", "role": "manager", "password": "staff password 1", "groups": [sales]}))
        .await;
    mia.login("mia@example.com", "staff password 1").await;
    let r = mia.post("/api/chats/transfer", body.clone()).await;
    let codes: Vec<&str> = r
        .json
        .as_array()
        .expect("results")
        .iter()
        .map(|x| x["error"]["code"].as_str().unwrap_or("ok"))
        .collect();
    assert_eq!(
        codes,
        vec!["forbidden", "forbidden"],
        "a manager of another group cannot move them"
    );

    let (mut cid, _) = desk.agent_in("Cid", 5, &[sales.as_str()]).await;
    let r = desk.owner.post("/api/chats/transfer", body).await;
    assert!(
        r.json
            .as_array()
            .expect("results")
            .iter()
            .all(|x| x["ok"] == true),
        "{}",
        r.json
    );
    ann.expect("chat_left").await;
    let told = vera.messages_until(3).await;
    assert_eq!(told[0].1, "Olivia Owner transferred the chat to Sales");
    let mut offered = vec![
        cid.expect("offer").await["chat"]["id"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        cid.expect("offer").await["chat"]["id"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    ];
    offered.sort();
    let mut both = vec![active.clone(), waiting.clone()];
    both.sort();
    assert_eq!(offered, both);

    // Delete: only ended chats, only admins.
    cid.send(json!({"type": "accept", "chat_id": active})).await;
    cid.expect("chat_joined").await;
    let r = desk
        .owner
        .post("/api/chats/delete", json!({"chat_ids": [active]}))
        .await;
    assert_eq!(r.json[0]["error"]["code"], "chat_open");
    cid.send(json!({"type": "end", "chat_id": active, "wrap_up": "Resolved"}))
        .await;
    cid.until(|f| f["type"] == "done" && f["request"] == "end")
        .await;
    assert_eq!(
        mia.post("/api/chats/delete", json!({"chat_ids": [active]}))
            .await
            .status,
        403
    );
    let r = desk
        .owner
        .post("/api/chats/delete", json!({"chat_ids": [active]}))
        .await;
    assert_eq!(r.json[0]["ok"], true, "{}", r.json);
    assert_eq!(
        desk.owner.get(&format!("/api/chats/{active}")).await.code(),
        "chat_not_found"
    );
    let all = desk.owner.get("/api/chats?scope=all&state=any").await;
    assert_eq!(all.json["total"], 1, "only the other chat is left");
    assert_eq!(
        Ws::visitor_refused(&desk.app.base, &token).await,
        "chat_not_found",
        "the visitor's token opens nothing any more"
    );
    assert_eq!(
        desk.owner
            .post("/api/chats/delete", json!({"chat_ids": []}))
            .await
            .code(),
        "invalid_field"
    );
}

/// Admins switch masking in the console: transcripts, lists and the live
/// socket show visitor data in clear at once, and the choice outlives a
/// restart (over the config file's default). Agents may not.
#[actix_web::test]
async fn an_admin_switches_masking_and_the_choice_is_kept() {
    let desk = Desk::new("round_robin").await;
    let r = desk.owner.get("/api/settings").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        (&r.json["mask_pii"], &r.json["mask_pii_configured"]),
        (&json!(true), &json!(true))
    );
    assert!(r.json["allowed_origins"].is_array());
    let (mut ann, _) = desk.agent("Ann", 3).await;
    let mut agent = desk.app.client();
    agent.login("Ann@example.com", "staff password 1").await;
    assert_eq!(agent.get("/api/settings").await.status, 403);
    assert_eq!(
        agent
            .patch("/api/settings", json!({"mask_pii": false}))
            .await
            .status,
        403
    );

    let r = desk
        .app
        .client()
        .post("/api/visitor/chats", json!({"name": "Vera", "email": "vera@example.com", "group": desk.group, "question": "Card 4111 1111 1111 1111"}))
        .await;
    let chat = r.json["chat_id"].as_str().unwrap().to_string();
    let offer = ann.expect("offer").await;
    assert_eq!(offer["chat"]["visitor"]["email"], "v***@example.com");
    assert_eq!(offer["chat"]["question"], "Card ************1111");

    let r = desk
        .owner
        .patch("/api/settings", json!({"mask_pii": false}))
        .await;
    assert_eq!((r.status, &r.json["mask_pii"]), (200, &json!(false)));
    let t = desk.owner.get(&format!("/api/chats/{chat}")).await;
    assert_eq!(t.json["chat"]["visitor_email"], "vera@example.com");
    assert_eq!(t.json["messages"][0]["body"], "Card 4111 1111 1111 1111");
    assert_eq!(
        desk.owner
            .patch("/api/settings", json!({"mask_pii": "no"}))
            .await
            .status,
        400
    );

    let dir = desk.app.stop().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let clock = std::sync::Arc::new(livedesk::domain::ManualClock::starting_now());
    let again = livedesk::app::start(test_config(&dir.path().join("data")), listener, clock)
        .await
        .expect("start");
    let mut owner = Client::new(&format!("http://{}", again.addr));
    assert_eq!(owner.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
    let r = owner.get("/api/settings").await;
    assert_eq!(
        (&r.json["mask_pii"], &r.json["mask_pii_configured"]),
        (&json!(false), &json!(true)),
        "the console's choice outlives a restart"
    );
    again.stop().await.expect("stop");
}

/// The housekeeping job packs ended chats into the store's history pages
/// (schema 9): what staff and visitors read of them is the same after,
/// and what comes after an end (a rating, a wrap-up's list row, a delete)
/// lands on a packed chat, also across a restart.
#[actix_web::test]
async fn packed_chats_read_the_same_and_take_ratings_and_deletes() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, token) = desk.answered_chat("Where is my order?").await;
    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "a1", "body": "On its way"}))
        .await;
    ann.expect("ack").await;
    ann.send(json!({"type": "end", "chat_id": chat, "wrap_up": "Resolved"}))
        .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "end")
        .await;
    let (other, _) = desk.start_chat("Otto", "Hello?").await;
    let transcript = format!("/api/chats/{chat}");
    let list = "/api/chats?scope=all&state=any&sort=started&order=asc";
    let before = (
        desk.owner.get(&transcript).await.json,
        desk.owner.get(list).await.json,
    );
    assert_eq!(
        before.0["messages"].as_array().map(Vec::len),
        Some(4),
        "{}",
        before.0
    );

    let state = desk.app.running().state.clone();
    let swept = livedesk::jobs::housekeeping::run(&state, state.now())
        .await
        .expect("runs");
    // The ended chat's token and fact; the open chat's token (transcripts
    // stay a key each on redb).
    assert_eq!(swept.packed, 3);
    let after = (
        desk.owner.get(&transcript).await.json,
        desk.owner.get(list).await.json,
    );
    assert_eq!(after, before);

    // The visitor's token still finds the chat: a rating lands on it.
    let r = desk
        .app
        .client()
        .post(
            "/api/visitor/rating",
            json!({"chat_token": token, "score": "good", "comment": "quick"}),
        )
        .await;
    assert_eq!(r.status, 201, "rating: {}", r.text);
    let rated = desk.owner.get(&transcript).await.json;
    assert_eq!(rated["rating"]["score"], "good", "{rated}");

    // Packed again, then a restart: the same.
    livedesk::jobs::housekeeping::run(&state, state.now())
        .await
        .expect("runs");
    drop((ann, state));
    let dir = desk.app.stop().await;
    let (again, owner) = restart_on(&dir.path().join("data")).await;
    // The same but for the link's port.
    let unlinked = |mut v: Value| {
        v["chat"]["link"] = Value::Null;
        v
    };
    assert_eq!(unlinked(owner.get(&transcript).await.json), unlinked(rated));

    // A packed chat deleted is gone; the open one is untouched.
    let r = owner
        .post("/api/chats/delete", json!({"chat_ids": [chat]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(owner.get(&transcript).await.status, 404);
    let ids: Vec<Value> = owner.get(list).await.json["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(other)]);
    again.stop().await.expect("stop");
}
