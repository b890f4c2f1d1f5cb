//! The live desk through real websockets: routing, offers, RONA, limits,
//! durable acknowledged messages, replay without gap or duplicate, ending.

use crate::harness::*;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

#[actix_web::test]
async fn a_visitor_reaches_an_agent_and_messages_flow_both_ways() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, _) = desk.agent("Ann", 3).await;
    let (chat, token) = desk.start_chat("Vera", "Where is my order?").await;
    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    assert_eq!(
        vera.messages_until(1).await,
        vec![(1, "Where is my order?".to_string())]
    );

    let offer = ann.expect("offer").await;
    assert_eq!(offer["chat"]["id"], chat.as_str());
    assert!(offer["chat"]["offer_expires_at"].as_u64().is_some());
    ann.send(json!({"type": "accept", "chat_id": chat})).await;
    ann.expect("done").await;
    let joined = ann.expect("chat_joined").await;
    assert_eq!(joined["chat"]["state"], "active");
    assert_eq!(
        ann.messages_until(2).await,
        vec![
            (1, "Where is my order?".to_string()),
            (2, "Ann joined the chat".to_string())
        ]
    );
    assert_eq!(vera.expect("agent_joined").await["name"], "Ann");
    assert_eq!(
        vera.messages_until(2).await,
        vec![(2, "Ann joined the chat".to_string())]
    );

    vera.send(json!({"type": "message", "client_id": "v1", "body": "Order 77"}))
        .await;
    let ack = vera.expect("ack").await;
    assert_eq!(
        (ack["client_id"].as_str(), ack["seq"].as_u64()),
        (Some("v1"), Some(3))
    );
    assert_eq!(
        ann.messages_until(3).await,
        vec![(3, "Order 77".to_string())]
    );

    ann.send(
        json!({"type": "message", "chat_id": chat, "client_id": "a1", "body": "It ships today."}),
    )
    .await;
    assert_eq!(ann.expect("ack").await["seq"], 4);
    assert_eq!(
        ann.messages_until(4).await,
        vec![(4, "It ships today.".to_string())],
        "own message echoed in order"
    );
    let got = vera.messages_until(4).await;
    assert_eq!(got.last(), Some(&(4, "It ships today.".to_string())));

    // A resend with the same client id is a no-op with the same ack.
    vera.send(json!({"type": "message", "client_id": "v1", "body": "Order 77"}))
        .await;
    assert_eq!(vera.expect("ack").await["seq"], 3);
    assert!(
        ann.quiet(Duration::from_millis(300), |f| f["type"] == "message")
            .await
    );

    // Typing: agents see the visitor's draft as it is typed.
    vera.send(json!({"type": "typing", "text": "One more thi"}))
        .await;
    let typing = ann.expect("typing").await;
    assert_eq!(
        (typing["from"].as_str(), typing["text"].as_str()),
        (Some("visitor"), Some("One more thi"))
    );
}

#[actix_web::test]
async fn a_reconnecting_visitor_gets_exactly_what_it_missed() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, _) = desk.agent("Ann", 3).await;
    let (chat, token) = desk.start_chat("Vera", "Hi").await;
    ann.expect("offer").await;
    ann.send(json!({"type": "accept", "chat_id": chat})).await;
    ann.expect("chat_joined").await;
    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    vera.messages_until(2).await;
    drop(vera);
    for i in 0..5 {
        ann.send(json!({"type": "message", "chat_id": chat, "client_id": format!("a{i}"), "body": format!("m{i}")}))
            .await;
        ann.expect("ack").await;
    }
    let mut again = Ws::visitor(&desk.app, &token, 2).await;
    let got = again.messages_until(7).await;
    let seqs: Vec<u64> = got.iter().map(|m| m.0).collect();
    assert_eq!(seqs, vec![3, 4, 5, 6, 7], "no gap, no duplicate");
    assert!(
        again
            .quiet(Duration::from_millis(300), |f| f["type"] == "message")
            .await
    );
}

/// A message that arrives between an agent's hello and its `resume` must
/// not restart the stream from seq 1 (found by the crash loop).
#[actix_web::test]
async fn a_message_racing_an_agents_resume_is_sent_once() {
    let desk = Desk::new("round_robin").await;
    let (_ann, chat, mut vera) = desk.owned_chat().await;
    let mut c = desk.app.client();
    c.login("Ann@example.com", "staff password 1").await;
    let (mut again, hello) = Ws::staff(&desk.app, &c).await;
    assert_eq!(hello["chats"][0]["id"], chat.as_str());
    // The visitor writes before the new connection says what it has.
    vera.send(json!({"type": "message", "client_id": "v9", "body": "meanwhile"}))
        .await;
    vera.until(|f| f["type"] == "ack").await;
    assert!(
        again
            .quiet(Duration::from_millis(200), |f| f["type"] == "message")
            .await,
        "a message came before the resume"
    );
    again
        .send(json!({"type": "resume", "chat_id": chat, "last_seq": 2}))
        .await;
    let got = again.messages_until(3).await;
    let seqs: Vec<u64> = got.iter().map(|m| m.0).collect();
    assert_eq!(seqs, vec![3], "only what follows seq 2, once");
}

#[actix_web::test]
async fn offline_queues_and_groups_without_agents_answer_offline() {
    let desk = Desk::new("round_robin").await;
    let c = desk.app.client();
    let start = json!({"name": "Vera", "group": desk.group, "question": "Hi"});
    let r = c.post("/api/visitor/chats", start.clone()).await;
    assert_eq!(
        (r.status, r.json["status"].as_str()),
        (200, Some("offline")),
        "no chat-enabled member"
    );
    let (_ann, _) = desk.agent("Ann", 3).await; // online: chats queue
    let r = c.post("/api/visitor/chats", start.clone()).await;
    assert_eq!((r.status, r.json["status"].as_str()), (201, Some("queued")));
    desk.owner
        .patch(
            &format!("/api/groups/{}", desk.group),
            json!({"queue_online": false}),
        )
        .await;
    let r = c.post("/api/visitor/chats", start).await;
    assert_eq!(r.json["status"], "offline", "queue switched offline");
    let r = c
        .post(
            "/api/visitor/chats",
            json!({"name": "V", "group": "0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10", "question": "Hi"}),
        )
        .await;
    assert_eq!(r.code(), "group_not_found");
    let r = c
        .post(
            "/api/visitor/chats",
            json!({"name": "", "group": desk.group, "question": "Hi"}),
        )
        .await;
    assert_eq!(r.code(), "invalid_field");
}

#[actix_web::test]
async fn the_limit_makes_an_agent_busy_and_a_freed_slot_available() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, _) = desk.agent("Ann", 1).await;
    let (chat, _) = desk.start_chat("Vera", "Hi").await;
    ann.expect("offer").await;
    ann.until(|f| f["type"] == "status" && f["status"] == "busy")
        .await;
    // (an offer counts toward the limit)
    let (second, _) = desk.start_chat("Walt", "Hello").await;
    assert!(
        ann.quiet(Duration::from_millis(300), |f| f["type"] == "offer")
            .await,
        "no second offer at the limit"
    );
    ann.send(json!({"type": "accept", "chat_id": chat})).await;
    ann.expect("chat_joined").await;
    ann.send(json!({"type": "end", "chat_id": chat, "wrap_up": "Resolved"}))
        .await;
    ann.expect("done").await;
    // The freed slot makes Ann available and the waiting chat is offered at once.
    let offer = ann.expect("offer").await;
    assert_eq!(offer["chat"]["id"], second.as_str());
    // A busy set by hand stays busy when load drops.
    ann.send(json!({"type": "accept", "chat_id": second})).await;
    ann.expect("chat_joined").await;
    ann.send(json!({"type": "set_status", "status": "busy"}))
        .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "set_status")
        .await;
    ann.seen.clear();
    ann.send(json!({"type": "end", "chat_id": second, "wrap_up": "Resolved"}))
        .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "end")
        .await;
    assert!(
        ann.quiet(Duration::from_millis(300), |f| f["type"] == "status"
            && f["status"] == "available")
            .await
    );
}

#[actix_web::test]
async fn rona_sends_the_chat_on_after_the_timeout() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, ann_id) = desk.agent("Ann", 3).await;
    let (chat, _) = desk.start_chat("Vera", "Hi").await;
    let first = ann.expect("offer").await;
    assert_eq!(first["chat"]["id"], chat.as_str());
    let (mut bob, _) = desk.agent("Bob", 3).await;
    assert!(
        bob.quiet(Duration::from_millis(200), |f| f["type"] == "offer")
            .await,
        "offered to one agent only"
    );

    desk.app.advance(Duration::from_secs(29));
    desk.app.running().state.engine.tick().await;
    assert!(
        ann.quiet(Duration::from_millis(200), |f| f["type"]
            == "offer_withdrawn")
            .await,
        "not yet"
    );
    desk.app.advance(Duration::from_secs(2));
    desk.app.running().state.engine.tick().await;
    assert_eq!(ann.expect("offer_withdrawn").await["reason"], "timeout");
    assert_eq!(
        ann.until(|f| f["type"] == "status" && f["status"] == "rona")
            .await["status"],
        "rona"
    );
    assert_eq!(
        bob.expect("offer").await["chat"]["id"],
        chat.as_str(),
        "next eligible agent"
    );
    // Accepting a withdrawn offer fails; Ann comes back only by setting available.
    ann.send(json!({"type": "accept", "chat_id": chat})).await;
    assert_eq!(ann.expect("error").await["code"], "not_offered");
    let _ = ann_id;
    ann.send(json!({"type": "set_status", "status": "available"}))
        .await;
    assert_eq!(
        ann.until(|f| f["type"] == "status").await["status"],
        "available"
    );
}

#[actix_web::test]
async fn round_robin_spreads_chats_evenly_and_least_busy_picks_the_lighter_agent() {
    let desk = Desk::new("round_robin").await;
    let mut agents = Vec::new();
    for name in ["Ann", "Bob", "Cid"] {
        agents.push(desk.agent(name, 10).await.0);
    }
    for i in 0..9 {
        desk.start_chat(&format!("V{i}"), "Hi").await;
    }
    for ws in agents.iter_mut() {
        for _ in 0..3 {
            ws.expect("offer").await;
        }
        assert!(
            ws.quiet(Duration::from_millis(200), |f| f["type"] == "offer")
                .await,
            "exactly three each"
        );
    }

    let desk = Desk::new("least_busy").await;
    let (mut ann, _) = desk.agent("Ann", 5).await;
    let (chat, _) = desk.start_chat("V1", "Hi").await;
    ann.expect("offer").await;
    ann.send(json!({"type": "accept", "chat_id": chat})).await;
    ann.expect("chat_joined").await;
    let (mut bob, _) = desk.agent("Bob", 5).await;
    desk.start_chat("V2", "Hi").await;
    bob.expect("offer").await;
    assert!(
        ann.quiet(Duration::from_millis(200), |f| f["type"] == "offer")
            .await,
        "Ann has one chat, Bob none"
    );
}

#[actix_web::test]
async fn two_hundred_chats_against_ten_agents_never_exceed_the_limit_or_double_book() {
    let desk = Desk::new("round_robin").await;
    let mut agents = Vec::new();
    for i in 0..10 {
        agents.push(desk.agent(&format!("agent{i}"), 3).await.0);
    }
    let starts = (0..200).map(|i| {
        let c = desk.app.client();
        let group = desk.group.clone();
        async move {
            c.post(
                "/api/visitor/chats",
                json!({"name": format!("V{i}"), "group": group, "question": "Hi"}),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(starts).await;
    assert!(results.iter().all(|r| r.status == 201));
    let mut owner_of: HashMap<String, usize> = HashMap::new();
    for (i, ws) in agents.iter_mut().enumerate() {
        for _ in 0..3 {
            let offer = ws.expect("offer").await;
            let chat = offer["chat"]["id"].as_str().expect("id").to_string();
            assert!(
                owner_of.insert(chat, i).is_none(),
                "a chat offered to two agents"
            );
        }
        assert!(
            ws.quiet(Duration::from_millis(100), |f| f["type"] == "offer")
                .await,
            "more than 3 offers"
        );
    }
    assert_eq!(owner_of.len(), 30);
    // The rest wait in arrival order: the queue view counts 170 and lists
    // the oldest 100, oldest first.
    let view = agents[0]
        .until(|f| f["type"] == "queue_view" && f["waiting_total"] == 170)
        .await;
    assert_eq!(view["waiting"].as_array().map(Vec::len), Some(100));
    let taken = view["answered_total"].as_u64().unwrap_or(0)
        + view["unanswered_total"].as_u64().unwrap_or(0);
    assert_eq!(taken, 30, "offered or active: the other 30");
    let waiting: Vec<u64> = view["waiting"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["queued_at"].as_u64().unwrap_or(0))
        .collect();
    assert!(waiting.windows(2).all(|w| w[0] <= w[1]));
    let ids: Vec<&str> = view["waiting"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].as_str().unwrap_or(""))
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "time-ordered ids: arrival order");
}

#[actix_web::test]
async fn whispers_never_reach_the_visitor_and_agents_see_masked_text() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, _) = desk.agent("Ann", 3).await;
    let (chat, token) = desk
        .start_chat("Vera", "Call me on +447966197542 or melissa@gmail.com")
        .await;
    ann.expect("offer").await;
    ann.send(json!({"type": "accept", "chat_id": chat})).await;
    let first = ann.messages_until(1).await;
    assert_eq!(first[0].1, "Call me on *********7542 or m******@gmail.com");
    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    let own = vera.messages_until(2).await;
    assert_eq!(
        own[0].1, "Call me on +447966197542 or melissa@gmail.com",
        "the visitor sees their own text"
    );

    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "w1", "body": "psst, VIP customer", "whisper": true}))
        .await;
    assert_eq!(ann.expect("ack").await["seq"], 3);
    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "a1", "body": "Hello Vera"}))
        .await;
    ann.expect("ack").await;
    let got = vera.messages_until(4).await;
    assert_eq!(
        got,
        vec![(4, "Hello Vera".to_string())],
        "the whisper (seq 3) is skipped"
    );
    let mut again = Ws::visitor(&desk.app, &token, 0).await;
    let replay = again.messages_until(4).await;
    assert!(
        replay.iter().all(|(_, body)| !body.contains("VIP")),
        "not in a replay either"
    );
}

#[actix_web::test]
async fn visitor_end_and_agent_end_with_wrap_up() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, _) = desk.agent("Ann", 3).await;
    let (chat, token) = desk.start_chat("Vera", "Hi").await;
    ann.expect("offer").await;
    ann.send(json!({"type": "accept", "chat_id": chat})).await;
    ann.expect("chat_joined").await;
    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    vera.send(json!({"type": "end"})).await;
    let ended = ann.expect("chat_ended").await;
    assert_eq!(ended["ended_by"]["by"], "visitor");
    let msgs = ann.messages_until(3).await;
    assert_eq!(
        msgs.last().map(|m| m.1.as_str()),
        Some("Customer ended the conversation")
    );
    assert_eq!(vera.expect("chat_ended").await["chat_id"], chat.as_str());
    ann.send(json!({"type": "wrap_up", "chat_id": chat, "reason": "Resolved"}))
        .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "wrap_up")
        .await;
    ann.send(json!({"type": "wrap_up", "chat_id": chat, "reason": "Other"}))
        .await;
    assert_eq!(ann.expect("error").await["code"], "no_wrap_up_due");

    let (chat2, token2) = desk.start_chat("Walt", "Hi").await;
    ann.expect("offer").await;
    ann.send(json!({"type": "accept", "chat_id": chat2})).await;
    ann.expect("chat_joined").await;
    ann.send(json!({"type": "end", "chat_id": chat2, "wrap_up": ""}))
        .await;
    assert_eq!(
        ann.expect("error").await["code"],
        "wrap_up_required",
        "a wrap-up reason is required"
    );
    ann.send(json!({"type": "end", "chat_id": chat2, "wrap_up": "Because"}))
        .await;
    let e = ann.expect("error").await;
    assert_eq!(e["code"], "unknown_wrap_up", "only listed reasons");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("Resolved")),
        "the error lists the choices"
    );
    ann.send(json!({"type": "end", "chat_id": chat2, "wrap_up": "Sale"}))
        .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "end")
        .await;
    let mut walt = Ws::visitor(&desk.app, &token2, 0).await;
    let msgs = walt.messages_until(3).await;
    assert_eq!(
        msgs.last().map(|m| m.1.as_str()),
        Some("Ann ended the chat")
    );
    assert_eq!(walt.expect("chat_ended").await["ended_by"]["by"], "agent");
    walt.send(json!({"type": "message", "client_id": "late", "body": "hello?"}))
        .await;
    assert_eq!(walt.expect("error").await["code"], "chat_ended");
}

#[actix_web::test]
async fn bad_frames_get_error_frames_and_the_connection_stays_usable() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, _) = desk.agent("Ann", 3).await;
    let (chat, token) = desk.start_chat("Vera", "Hi").await;
    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    vera.send_text("{not json").await;
    assert_eq!(vera.expect("error").await["code"], "bad_frame");
    vera.send(json!({"type": "message", "client_id": "e", "body": "   "}))
        .await;
    assert_eq!(vera.expect("error").await["code"], "invalid_field");
    vera.send(json!({"type": "message", "client_id": "o", "body": "é".repeat(1001)}))
        .await;
    let e = vera.expect("error").await;
    assert_eq!(
        (e["code"].as_str(), e["client_id"].as_str()),
        (Some("invalid_field"), Some("o"))
    );
    vera.send(json!({"type": "message", "client_id": "ok", "body": "é".repeat(1000)}))
        .await;
    assert_eq!(
        vera.expect("ack").await["client_id"],
        "ok",
        "exactly at the limit, counted in characters"
    );
    ann.send(json!({"type": "nope"})).await;
    assert_eq!(ann.expect("error").await["code"], "bad_frame");
    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "x", "body": "not mine yet"}))
        .await;
    assert_eq!(ann.expect("error").await["code"], "not_in_chat");
    ann.send(json!({"type": "set_status", "status": "rona"}))
        .await;
    assert_eq!(ann.expect("error").await["code"], "status_refused");
    assert_eq!(
        Ws::visitor_refused(&desk.app.base, "nope").await,
        "chat_not_found",
        "a token opens only its own chat"
    );
}

#[actix_web::test]
async fn a_manager_sets_an_agents_status_and_the_agent_is_told_who() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, ann_id) = desk.agent("Ann", 3).await;
    let r = desk
        .owner
        .post(
            "/api/staff",
            json!({"email": "mia@example.com", "display_name": "Mia", "role": "manager", "password": "staff password 1", "groups": [desk.group]}),
        )
        .await;
    assert_eq!(r.status, 201);
    let mut mia = desk.app.client();
    mia.login("mia@example.com", "staff password 1").await;
    let (mut mia_ws, _) = Ws::staff(&desk.app, &mia).await;
    mia_ws
        .send(json!({"type": "set_status", "status": "away", "staff_id": ann_id}))
        .await;
    mia_ws.until(|f| f["type"] == "done").await;
    let status = ann
        .until(|f| f["type"] == "status" && f["status"] == "away")
        .await;
    assert_eq!(status["by"]["name"], "Mia");
    let (mut other, _) = Desk::agent(&desk, "Bob", 3).await;
    let _ = &mut other;
    // An agent cannot set someone else's status.
    other
        .send(json!({"type": "set_status", "status": "offline", "staff_id": ann_id}))
        .await;
    assert_eq!(other.expect("error").await["code"], "forbidden");
}

#[actix_web::test]
async fn a_password_change_or_disabling_closes_that_staff_members_websockets() {
    let desk = Desk::new("round_robin").await;
    let (mut ann_ws, _) = desk.agent("Ann", 3).await;
    // Ann changes her password from another session: the socket of the old
    // session closes at once.
    let mut laptop = desk.app.client();
    laptop.login("Ann@example.com", "staff password 1").await;
    let (mut laptop_ws, _) = Ws::staff(&desk.app, &laptop).await;
    let r = laptop
        .post(
            "/api/auth/password",
            json!({"current_password": "staff password 1", "new_password": "new password 22"}),
        )
        .await;
    assert_eq!(r.status, 204);
    assert!(
        ann_ws.closes_within(Duration::from_secs(5)).await,
        "other session's socket closed"
    );
    assert!(
        !laptop_ws.closes_within(Duration::from_millis(300)).await,
        "the changing session's socket stays"
    );

    let (mut bob_ws, bob) = desk.agent("Bob", 3).await;
    desk.owner
        .patch(&format!("/api/staff/{bob}"), json!({"disabled": true}))
        .await;
    assert!(
        bob_ws.closes_within(Duration::from_secs(5)).await,
        "a disabled account's socket closes"
    );
}

#[actix_web::test]
async fn a_lost_agent_keeps_chats_through_the_grace_period_then_they_are_requeued_first() {
    let desk = Desk::new("round_robin").await;
    let mut ann_client = desk.app.client();
    let (ann_ws, _) = desk.agent("Ann", 3).await;
    ann_client
        .login("ann@example.com", "staff password 1")
        .await;
    drop(ann_ws);
    let (mut ann_ws, _) = Ws::staff(&desk.app, &ann_client).await;
    ann_ws
        .send(json!({"type": "set_status", "status": "available"}))
        .await;
    ann_ws.expect("done").await;
    let (chat, token) = desk.start_chat("Vera", "Hi").await;
    ann_ws.expect("offer").await;
    ann_ws
        .send(json!({"type": "accept", "chat_id": chat}))
        .await;
    ann_ws.expect("chat_joined").await;
    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    vera.messages_until(2).await;

    // Dropped and back within the grace period: the chat stays hers.
    drop(ann_ws);
    desk.app.advance(Duration::from_secs(30));
    desk.app.running().state.engine.tick().await;
    let (ann_ws, hello) = Ws::staff(&desk.app, &ann_client).await;
    assert_eq!(hello["chats"][0]["id"], chat.as_str());
    assert_eq!(
        hello["status"], "available",
        "status kept through the grace period"
    );
    desk.app.advance(Duration::from_secs(60));
    desk.app.running().state.engine.tick().await;
    assert!(
        vera.quiet(Duration::from_millis(200), |f| f["type"] == "message")
            .await
    );

    // Dropped for longer than the grace period: back to the queue, first.
    drop(ann_ws);
    let (mut bob, _) = desk.agent("Bob", 1).await;
    bob.send(json!({"type": "set_status", "status": "busy"}))
        .await;
    bob.until(|f| f["type"] == "done").await;
    let (newer, _) = desk.start_chat("Walt", "Hi").await;
    desk.app.advance(Duration::from_secs(59));
    desk.app.running().state.engine.tick().await;
    assert!(
        vera.quiet(Duration::from_millis(200), |f| f["type"] == "message")
            .await,
        "not yet"
    );
    desk.app.advance(Duration::from_secs(2));
    desk.app.running().state.engine.tick().await;
    let told = vera.messages_until(3).await;
    assert_eq!(
        told[0].1,
        "Ann lost the connection; you are back at the front of the queue"
    );
    let view = bob
        .until(|f| f["type"] == "queue_view" && f["waiting"].as_array().map(Vec::len) == Some(2))
        .await;
    assert_eq!(
        view["waiting"][0]["id"],
        chat.as_str(),
        "the re-queued chat goes ahead of the newer one"
    );
    assert_eq!(view["waiting"][1]["id"], newer.as_str());
    bob.send(json!({"type": "set_status", "status": "available"}))
        .await;
    let offer = bob.until(|f| f["type"] == "offer").await;
    assert_eq!(offer["chat"]["id"], chat.as_str());
    assert_eq!(offer["chat"]["requeued"], true);
}

/// Ann owns a chat with Vera; returns (ann, chat id, vera).
#[actix_web::test]
async fn transfer_to_an_agent_is_accepted_or_dropped() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, mut vera) = desk.owned_chat().await;
    let (mut bob, bob_id) = desk.agent("Bob", 3).await;

    // Declined: dropped, the chat stays with Ann.
    ann.send(json!({"type": "transfer", "chat_id": chat, "to_staff": bob_id, "wrap_up": "Follow-up needed"})).await;
    ann.until(|f| f["type"] == "done" && f["request"] == "transfer")
        .await;
    let request = bob.expect("request").await;
    assert_eq!(
        (
            request["request"].as_str(),
            request["from"]["name"].as_str()
        ),
        (Some("transfer"), Some("Ann"))
    );
    bob.send(json!({"type": "decline", "chat_id": chat})).await;
    assert_eq!(ann.expect("request_dropped").await["reason"], "declined");
    assert_eq!(bob.expect("offer_withdrawn").await["reason"], "declined");

    // Not answered in time: dropped too.
    ann.send(json!({"type": "transfer", "chat_id": chat, "to_staff": bob_id, "wrap_up": "Follow-up needed"})).await;
    bob.expect("request").await;
    desk.app.advance(Duration::from_secs(31));
    desk.app.running().state.engine.tick().await;
    assert_eq!(ann.expect("request_dropped").await["reason"], "timeout");
    assert_eq!(bob.expect("offer_withdrawn").await["reason"], "timeout");
    ann.send(
        json!({"type": "message", "chat_id": chat, "client_id": "still", "body": "Still here"}),
    )
    .await;
    assert_eq!(
        ann.expect("ack").await["client_id"],
        "still",
        "the chat stayed with Ann"
    );
    // A wrap-up reason is asked on transfer.
    ann.send(json!({"type": "transfer", "chat_id": chat, "to_staff": bob_id, "wrap_up": ""}))
        .await;
    assert_eq!(ann.expect("error").await["code"], "wrap_up_required");
    ann.send(
        json!({"type": "transfer", "chat_id": chat, "to_staff": bob_id, "wrap_up": "Because"}),
    )
    .await;
    assert_eq!(ann.expect("error").await["code"], "unknown_wrap_up");

    // Accepted: Bob owns it with its history, Ann is out, Vera is told.
    ann.send(json!({"type": "transfer", "chat_id": chat, "to_staff": bob_id, "wrap_up": "Follow-up needed"})).await;
    bob.expect("request").await;
    bob.send(json!({"type": "accept", "chat_id": chat})).await;
    let joined = bob.expect("chat_joined").await;
    assert_eq!(joined["chat"]["handoffs"][0]["reason"], "Follow-up needed");
    let history = bob.messages_until(4).await;
    assert_eq!(
        history.first().map(|m| m.0),
        Some(1),
        "Bob gets the whole history"
    );
    assert_eq!(
        history.last().map(|m| m.1.as_str()),
        Some("Ann transferred the chat to Bob")
    );
    ann.expect("chat_left").await;
    assert_eq!(vera.expect("agent_joined").await["name"], "Bob");
    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "late", "body": "x"}))
        .await;
    assert_eq!(ann.expect("error").await["code"], "not_in_chat");
    bob.send(json!({"type": "message", "chat_id": chat, "client_id": "b1", "body": "Bob here"}))
        .await;
    bob.expect("ack").await;
    let got = vera.messages_until(5).await;
    assert_eq!(got.last().map(|m| m.1.as_str()), Some("Bob here"));
}

#[actix_web::test]
async fn transfer_to_a_group_requeues_the_chat_for_that_group() {
    let desk = Desk::new("round_robin").await;
    let sales = desk.app.group(&desk.owner, "Sales").await;
    let (mut ann, chat, mut vera) = desk.owned_chat().await;
    let (mut cid, _) = desk.agent_in("Cid", 3, &[sales.as_str()]).await;
    ann.send(
        json!({"type": "transfer", "chat_id": chat, "to_group": sales, "wrap_up": "Transferred"}),
    )
    .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "transfer")
        .await;
    ann.expect("chat_left").await;
    let offer = cid.expect("offer").await;
    assert_eq!(offer["chat"]["id"], chat.as_str());
    assert_eq!(offer["chat"]["group"], sales.as_str());
    assert_eq!(
        offer["chat"]["requeued"], true,
        "ahead of chats that never had an agent"
    );
    let told = vera.messages_until(3).await;
    assert_eq!(told[0].1, "Ann transferred the chat to Sales");
}

#[actix_web::test]
async fn a_conference_agent_joins_on_accept_and_either_can_leave() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, mut vera) = desk.owned_chat().await;
    let (mut bob, bob_id) = desk.agent("Bob", 3).await;
    ann.send(json!({"type": "leave", "chat_id": chat})).await;
    assert_eq!(ann.expect("error").await["code"], "last_agent");
    ann.send(json!({"type": "invite", "chat_id": chat, "staff_id": bob_id}))
        .await;
    assert_eq!(bob.expect("request").await["request"], "conference");
    bob.send(json!({"type": "accept", "chat_id": chat})).await;
    bob.expect("chat_joined").await;
    bob.messages_until(3).await;
    assert_eq!(
        ann.messages_until(3).await.last().map(|m| m.1.as_str()),
        Some("Bob joined the conversation")
    );
    assert_eq!(vera.expect("agent_joined").await["name"], "Bob");
    vera.send(json!({"type": "message", "client_id": "v", "body": "Two of you!"}))
        .await;
    assert_eq!(
        ann.messages_until(4).await.last().map(|m| m.1.as_str()),
        Some("Two of you!")
    );
    assert_eq!(
        bob.messages_until(4).await.last().map(|m| m.1.as_str()),
        Some("Two of you!")
    );
    bob.send(json!({"type": "message", "chat_id": chat, "client_id": "b", "body": "Hi, Bob from billing"})).await;
    bob.expect("ack").await;
    assert_eq!(
        vera.messages_until(5).await.last().map(|m| m.1.as_str()),
        Some("Hi, Bob from billing")
    );
    bob.send(json!({"type": "leave", "chat_id": chat})).await;
    bob.expect("chat_left").await;
    assert_eq!(
        ann.messages_until(6).await.last().map(|m| m.1.as_str()),
        Some("Bob left the conversation")
    );
    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "a", "body": "Back to me"}))
        .await;
    assert_eq!(ann.expect("ack").await["client_id"], "a");
}

#[actix_web::test]
async fn a_monitor_watches_unseen_and_can_only_whisper() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, mut vera) = desk.owned_chat().await;
    let r = desk
        .owner
        .post(
            "/api/staff",
            json!({"email": "mia@example.com", "display_name": "Mia", "role": "manager", "password": "staff password 1", "groups": [desk.group]}),
        )
        .await;
    assert_eq!(r.status, 201);
    let mut mia = desk.app.client();
    mia.login("mia@example.com", "staff password 1").await;
    let (mut mia_ws, _) = Ws::staff(&desk.app, &mia).await;
    let (mut bob, _) = desk.agent("Bob", 3).await;
    bob.send(json!({"type": "monitor", "chat_id": chat})).await;
    assert_eq!(
        bob.expect("error").await["code"],
        "forbidden",
        "agents do not monitor"
    );

    mia_ws
        .send(json!({"type": "monitor", "chat_id": chat}))
        .await;
    mia_ws.expect("chat_joined").await;
    assert_eq!(mia_ws.messages_until(2).await.len(), 2, "history");
    vera.send(json!({"type": "message", "client_id": "v", "body": "Is anyone watching?"}))
        .await;
    assert_eq!(
        mia_ws.messages_until(3).await.last().map(|m| m.1.as_str()),
        Some("Is anyone watching?")
    );
    mia_ws
        .send(
            json!({"type": "message", "chat_id": chat, "client_id": "m1", "body": "hello visitor"}),
        )
        .await;
    assert_eq!(
        mia_ws.expect("error").await["code"],
        "not_in_chat",
        "monitors only whisper"
    );
    mia_ws.send(json!({"type": "message", "chat_id": chat, "client_id": "m2", "body": "offer the discount", "whisper": true}))
        .await;
    mia_ws.expect("ack").await;
    let seen_by_ann = ann.messages_until(4).await;
    assert_eq!(
        seen_by_ann.last().map(|m| m.1.as_str()),
        Some("offer the discount")
    );
    ann.send(
        json!({"type": "message", "chat_id": chat, "client_id": "a", "body": "Here is 10% off"}),
    )
    .await;
    ann.expect("ack").await;
    let visitor_saw = vera.messages_until(5).await;
    let everything: Vec<&str> = visitor_saw.iter().map(|m| m.1.as_str()).collect();
    assert_eq!(
        everything,
        vec!["Is anyone watching?", "Here is 10% off"],
        "no whisper, no trace of Mia"
    );
    let leftovers = serde_json::to_string(&vera.seen).unwrap_or_default();
    assert!(!leftovers.contains("Mia"), "{leftovers}");
    mia_ws
        .send(json!({"type": "unmonitor", "chat_id": chat}))
        .await;
    mia_ws.expect("chat_left").await;
}

#[actix_web::test]
async fn the_stored_chat_catches_up_with_its_messages_within_seconds() {
    // Messages are written without their chat record, which the engine
    // rewrites once a second: lists sort by idle time from that record.
    let desk = Desk::new("round_robin").await;
    let (_ann, chat, mut vera) = desk.owned_chat().await;
    desk.app.advance(Duration::from_secs(300));
    let idle = || async {
        desk.owner.get(&format!("/api/chats/{chat}")).await.json["chat"]["idle_secs"].as_u64()
    };
    assert_eq!(idle().await, Some(300));
    vera.send(json!({"type": "message", "client_id": "v", "body": "hello again"}))
        .await;
    vera.expect("ack").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while idle().await != Some(0) {
        assert!(
            std::time::Instant::now() < deadline,
            "the chat's activity was not stored within 5 s"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn an_idle_chat_is_closed_with_a_system_message() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, mut vera) = desk.owned_chat().await;
    desk.app.advance(Duration::from_secs(20 * 60));
    vera.send(json!({"type": "message", "client_id": "v", "body": "still there?"}))
        .await;
    vera.expect("ack").await;
    desk.app.advance(Duration::from_secs(20 * 60));
    desk.app.running().state.engine.tick().await;
    assert!(
        ann.quiet(Duration::from_millis(200), |f| f["type"] == "chat_ended")
            .await,
        "activity 20 min ago"
    );
    desk.app.advance(Duration::from_secs(11 * 60));
    desk.app.running().state.engine.tick().await;
    assert_eq!(ann.expect("chat_ended").await["ended_by"]["by"], "idle");
    let msgs = vera.messages_until(4).await;
    assert_eq!(
        msgs.last().map(|m| m.1.as_str()),
        Some("The chat was closed after 30 minutes without messages")
    );
    assert_eq!(vera.expect("chat_ended").await["chat_id"], chat.as_str());
}

#[actix_web::test]
async fn an_agent_of_another_group_cannot_read_join_or_pick_a_chat() {
    let desk = Desk::new("manual").await;
    let other = desk.app.group(&desk.owner, "Other").await;
    let (mut outsider, _) = desk.agent_in("Olle", 3, &[other.as_str()]).await;
    let (mut ann, _) = desk.agent("Ann", 3).await;
    let (chat, _) = desk.start_chat("Vera", "secret question").await;
    outsider
        .send(json!({"type": "accept", "chat_id": chat}))
        .await;
    assert_eq!(outsider.expect("error").await["code"], "forbidden");
    outsider
        .send(json!({"type": "resume", "chat_id": chat, "last_seq": 0}))
        .await;
    assert_eq!(outsider.expect("error").await["code"], "chat_not_found");
    outsider
        .send(json!({"type": "monitor", "chat_id": chat}))
        .await;
    assert_eq!(outsider.expect("error").await["code"], "forbidden");
    let leaked = serde_json::to_string(&outsider.seen).unwrap_or_default();
    assert!(
        !leaked.contains("secret question") && !leaked.contains(&chat),
        "nothing of the chat reached them"
    );
    // Manual routing: no offer is made; a member of the group picks it.
    assert!(
        ann.quiet(Duration::from_millis(200), |f| f["type"] == "offer")
            .await
    );
    let view = ann
        .until(|f| f["type"] == "queue_view" && f["waiting"].as_array().map(Vec::len) == Some(1))
        .await;
    assert_eq!(view["waiting"][0]["id"], chat.as_str());
    ann.send(json!({"type": "accept", "chat_id": chat})).await;
    ann.expect("chat_joined").await;
    assert_eq!(ann.messages_until(2).await[0].1, "secret question");
}

#[actix_web::test]
async fn visitors_are_rate_limited_with_clear_errors() {
    let desk = Desk::new_with("round_robin", |c| {
        c.chat.visitor_starts_per_minute = 10;
        c.chat.visitor_messages_per_minute = 60;
    })
    .await;
    let (_ann, _) = desk.agent("Ann", 50).await; // online, so chats queue
    let c = desk.app.client();
    let start = json!({"name": "Vera", "group": desk.group, "question": "Hi"});
    let mut token = String::new();
    for i in 0..10 {
        let r = c.post("/api/visitor/chats", start.clone()).await;
        assert_eq!(r.status, 201, "start {i}: {}", r.json);
        token = r.json["token"].as_str().expect("token").to_string();
    }
    let r = c.post("/api/visitor/chats", start.clone()).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    assert_eq!(r.header("retry-after").as_deref(), Some("6"));
    desk.app.advance(Duration::from_secs(6));
    assert_eq!(c.post("/api/visitor/chats", start).await.status, 201);

    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    for i in 0..60 {
        vera.send(json!({"type": "message", "client_id": format!("m{i}"), "body": "spam"}))
            .await;
        vera.expect("ack").await;
    }
    vera.send(json!({"type": "message", "client_id": "m60", "body": "spam"}))
        .await;
    let e = vera.expect("error").await;
    assert_eq!(
        (e["code"].as_str(), e["client_id"].as_str()),
        (Some("rate_limited"), Some("m60"))
    );
    desk.app.advance(Duration::from_secs(1));
    vera.send(json!({"type": "message", "client_id": "m60", "body": "spam"}))
        .await;
    assert_eq!(
        vera.expect("ack").await["client_id"],
        "m60",
        "usable again after the wait"
    );
}

#[actix_web::test]
async fn wrap_up_reasons_come_from_the_admin_managed_list() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, _vera) = desk.owned_chat().await;
    let mut ann_api = desk.app.client();
    ann_api.login("ann@example.com", "staff password 1").await;
    let r = ann_api.get("/api/wrap-up-reasons").await;
    assert_eq!(
        r.json["reasons"][0], "Resolved",
        "a default list until an admin sets one"
    );
    let r = ann_api
        .raw(
            awc::http::Method::PUT,
            "/api/wrap-up-reasons",
            Some(json!({"reasons": ["x"]}).to_string().into_bytes()),
            &[("Content-Type", "application/json")],
        )
        .await;
    assert_eq!(r.status, 403, "agents cannot change it");
    let mut owner = desk.owner.clone();
    let put = |reasons: serde_json::Value| json!({"reasons": reasons}).to_string().into_bytes();
    let json_ct = [("Content-Type", "application/json")];
    let r = owner
        .raw(
            awc::http::Method::PUT,
            "/api/wrap-up-reasons",
            Some(put(json!(["Refund", "refund"]))),
            &json_ct,
        )
        .await;
    assert_eq!(
        (r.status, r.json["reasons"].clone()),
        (200, json!(["Refund"])),
        "a reason given twice (ignoring case) is kept once"
    );
    let r = owner
        .raw(
            awc::http::Method::PUT,
            "/api/wrap-up-reasons",
            Some(put(json!([]))),
            &json_ct,
        )
        .await;
    assert_eq!(r.code(), "invalid_field", "an empty list refused");
    let r = owner
        .raw(
            awc::http::Method::PUT,
            "/api/wrap-up-reasons",
            Some(put(json!(["Refund", "Shipping"]))),
            &json_ct,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    ann.send(json!({"type": "end", "chat_id": chat, "wrap_up": "Resolved"}))
        .await;
    assert_eq!(
        ann.expect("error").await["code"],
        "unknown_wrap_up",
        "the old default is gone"
    );
    ann.send(json!({"type": "end", "chat_id": chat, "wrap_up": "shipping"}))
        .await;
    ann.until(|f| f["type"] == "done" && f["request"] == "end")
        .await;
    let t = desk.owner.get(&format!("/api/chats/{chat}")).await;
    assert_eq!(t.json["chat"]["wrap_up"], "Shipping", "stored as listed");
}

#[actix_web::test]
async fn waiting_visitors_see_their_place_in_the_queue() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, _) = desk.agent("Ann", 1).await;
    ann.send(json!({"type": "set_status", "status": "away"}))
        .await;
    ann.until(|f| f["type"] == "done").await;
    // Nobody online: this group queues chats anyway.
    let r = desk
        .owner
        .patch(
            &format!("/api/groups/{}", desk.group),
            json!({"offline_when_nobody_online": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, first) = desk.start_chat("Vera", "Hi").await;
    let (_, second) = desk.start_chat("Walt", "Hi").await;
    let mut walt = Ws::visitor(&desk.app, &second, 0).await;
    let q = walt.expect("queue").await;
    assert_eq!(
        (q["position"].as_u64(), q["waiting"].as_u64()),
        (Some(2), Some(2))
    );
    assert!(q["estimated_wait_secs"].as_u64().is_some_and(|s| s > 0));
    let mut vera = Ws::visitor(&desk.app, &first, 0).await;
    assert_eq!(vera.expect("queue").await["position"], 1);
    vera.send(json!({"type": "end"})).await;
    let q = walt
        .until(|f| f["type"] == "queue" && f["position"] == 1)
        .await;
    assert_eq!(q["waiting"], 1, "the one ahead left: now first");
}

#[actix_web::test]
async fn with_store_masked_the_unmasked_text_is_never_written() {
    let desk = Desk::new_with("round_robin", |c| {
        c.chat.store_masked = true;
        c.chat.visitor_starts_per_minute = 1000;
    })
    .await;
    let (mut ann, _) = desk.agent("Ann", 3).await;
    let (chat, token) = desk.start_chat("Vera", "card 4111 1111 1111 1111").await;
    ann.expect("offer").await;
    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    assert_eq!(
        vera.messages_until(1).await[0].1,
        "card ************1111",
        "stored masked: the replay too"
    );
    let t = desk.owner.get(&format!("/api/chats/{chat}")).await;
    assert_eq!(t.json["messages"][0]["body"], "card ************1111");
}

#[actix_web::test]
async fn an_oversize_frame_gets_an_error_and_the_connection_stays_usable() {
    let desk = Desk::new("round_robin").await;
    let (_ann, _) = desk.agent("Ann", 3).await;
    let (_, token) = desk.start_chat("Vera", "Hi").await;
    let (_, socket) = awc::Client::new()
        .ws(format!(
            "{}/api/ws/visitor",
            desk.app.base.replace("http", "ws")
        ))
        .max_frame_size(16 << 20)
        .connect()
        .await
        .expect("ws");
    let mut vera = Ws::from_socket(socket);
    vera.send(visitor_hello(&token, 0)).await;
    vera.expect("visitor_hello").await;
    vera.send_text(&format!(
        r#"{{"type":"message","client_id":"big","body":"{}"}}"#,
        "x".repeat(100_000)
    ))
    .await;
    assert_eq!(vera.expect("error").await["code"], "frame_too_large");
    vera.send(json!({"type": "message", "client_id": "small", "body": "ok?"}))
        .await;
    assert_eq!(vera.expect("ack").await["client_id"], "small");
    vera.send_text(&"y".repeat(300_000)).await;
    assert!(
        vera.closes_within(Duration::from_secs(5)).await,
        "beyond 256 KiB the connection closes"
    );
}

#[actix_web::test]
async fn the_queue_view_shows_waiting_unanswered_and_answered_chats() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, ann_id) = desk.agent("Ann", 1).await;
    let (first, _) = desk.start_chat("Vera", "Hi").await;
    ann.expect("offer").await;
    let (second, _) = desk.start_chat("Walt", "Hi").await;
    let view = ann
        .until(|f| {
            f["type"] == "queue_view"
                && f["waiting"].as_array().map(Vec::len) == Some(1)
                && f["unanswered"].as_array().map(Vec::len) == Some(1)
        })
        .await;
    assert_eq!(
        (
            view["unanswered"][0]["id"].as_str(),
            view["waiting"][0]["id"].as_str()
        ),
        (Some(first.as_str()), Some(second.as_str()))
    );
    ann.send(json!({"type": "accept", "chat_id": first})).await;
    let view = ann
        .until(|f| f["type"] == "queue_view" && f["answered"].as_array().map(Vec::len) == Some(1))
        .await;
    assert_eq!(view["answered"][0]["id"], first.as_str());
    assert_eq!(view["answered"][0]["offered_to"], ann_id.as_str());
}

#[actix_web::test]
async fn after_a_restart_waiting_chats_wait_again_in_order_and_offers_return_to_waiting() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, _) = desk.agent("Ann", 1).await;
    let mut ann_client = desk.app.client();
    ann_client
        .login("ann@example.com", "staff password 1")
        .await;
    let (offered, _) = desk.start_chat("First", "Hi").await;
    ann.expect("offer").await;
    let (second, _) = desk.start_chat("Second", "Hi").await;
    let (third, _) = desk.start_chat("Third", "Hi").await;
    drop(ann);
    let dir = desk.app.stop().await;

    let mut config = test_config(&dir.path().join("data"));
    config.chat.visitor_starts_per_minute = 1000;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let clock = std::sync::Arc::new(livedesk::domain::ManualClock::starting_now());
    let running = livedesk::app::start(config, listener, clock.clone())
        .await
        .expect("restart");
    let app = TestApp {
        addr: running.addr,
        base: format!("http://{}", running.addr),
        clock,
        app: Some(running),
        dir,
    };
    ann_client.base = app.base.clone();
    let (mut ann, hello) = Ws::staff(&app, &ann_client).await;
    assert_eq!(
        hello["offers"].as_array().map(Vec::len),
        Some(0),
        "the offer in flight returned to waiting"
    );
    let view = ann.expect("queue_view").await;
    let order: Vec<&str> = view["waiting"]
        .as_array()
        .expect("waiting")
        .iter()
        .map(|c| c["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        order,
        vec![offered.as_str(), second.as_str(), third.as_str()],
        "same order as before"
    );
    ann.send(json!({"type": "set_status", "status": "available"}))
        .await;
    assert_eq!(
        ann.until(|f| f["type"] == "offer").await["chat"]["id"],
        offered.as_str(),
        "oldest first"
    );
}
