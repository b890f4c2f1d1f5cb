//! What a visitor connection is told: every message names the seq of the
//! one before it that the visitor could see (`prev_seq`), so a client can
//! check for gaps although whispers take seqs; and names, never staff ids.

use crate::harness::*;
use serde_json::{json, Value};

/// (seq, prev_seq) of every message frame in `frames`.
fn chain(frames: &[Value]) -> Vec<(u64, u64)> {
    frames
        .iter()
        .filter(|f| f["type"] == "message")
        .map(|f| {
            (
                f["message"]["seq"].as_u64().expect("seq"),
                f["prev_seq"].as_u64().expect("prev_seq"),
            )
        })
        .collect()
}

#[actix_web::test]
async fn a_visitor_can_check_for_gaps_across_whispers_and_sees_no_staff_ids() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, mut vera) = desk.owned_chat().await;
    // seq 1 question, 2 "Ann joined"; 3 a whisper; 4 Ann; 5 a whisper; 6 Ann.
    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "w1", "body": "note to self", "whisper": true}))
        .await;
    ann.until(|f| f["type"] == "ack" && f["client_id"] == "w1")
        .await;
    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "a1", "body": "Hello Vera"}))
        .await;
    ann.until(|f| f["type"] == "ack" && f["client_id"] == "a1")
        .await;
    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "w2", "body": "another note", "whisper": true}))
        .await;
    ann.until(|f| f["type"] == "ack" && f["client_id"] == "w2")
        .await;
    ann.send(
        json!({"type": "message", "chat_id": chat, "client_id": "a2", "body": "Anything else?"}),
    )
    .await;
    ann.until(|f| f["type"] == "ack" && f["client_id"] == "a2")
        .await;

    // Live: 4 follows 2, 6 follows 4.
    let mut live = Vec::new();
    while chain(&live).last().map(|c| c.0) != Some(6) {
        live.push(vera.until(|f| f["type"] == "message").await);
    }
    assert_eq!(chain(&live), vec![(4, 2), (6, 4)]);
    let shown = serde_json::to_string(&live).unwrap();
    assert!(!shown.contains("note"), "no whisper reaches the visitor");
    for f in &live {
        assert!(f["message"]["author"].is_null(), "no staff id: {f}");
        assert_eq!(f["message"]["author_name"], "Ann");
    }

    // Replay from scratch (a new visitor's first connection): the chain
    // starts at 0, and the hello's last_seq is the last message the
    // visitor can see.
    let (chat2, token2) = desk.start_chat("Walt", "Hi").await;
    let offer = ann.until(|f| f["type"] == "offer").await;
    assert_eq!(offer["chat"]["id"], chat2.as_str());
    ann.send(json!({"type": "accept", "chat_id": chat2})).await;
    ann.until(|f| f["type"] == "chat_joined" && f["chat"]["id"] == chat2.as_str())
        .await;
    ann.send(json!({"type": "message", "chat_id": chat2, "client_id": "w3", "body": "whisper last", "whisper": true}))
        .await;
    ann.until(|f| f["type"] == "ack" && f["client_id"] == "w3")
        .await;
    let mut walt = Ws::visitor_unsaid(&desk.app.base).await;
    walt.send(visitor_hello(&token2, 0)).await;
    let hello = walt.expect("visitor_hello").await;
    assert_eq!(hello["last_seq"], 2, "seq 3 is a whisper: {hello}");
    let mut replay = Vec::new();
    while chain(&replay).last().map(|c| c.0) != Some(2) {
        replay.push(walt.until(|f| f["type"] == "message").await);
    }
    assert_eq!(chain(&replay), vec![(1, 0), (2, 1)]);

    // Ended by the agent: the visitor is told who by name, not by id.
    ann.send(json!({"type": "end", "chat_id": chat, "wrap_up": "Resolved"}))
        .await;
    let ended = vera.until(|f| f["type"] == "chat_ended").await;
    assert_eq!(
        ended["ended_by"],
        json!({"by": "agent", "name": "Ann"}),
        "{ended}"
    );
    // Reconnecting to a chat that ended says the same.
    ann.send(json!({"type": "end", "chat_id": chat2, "wrap_up": "Resolved"}))
        .await;
    walt.until(|f| f["type"] == "chat_ended").await;
    let mut back = Ws::visitor_unsaid(&desk.app.base).await;
    back.send(visitor_hello(&token2, 3)).await;
    let ended = back.until(|f| f["type"] == "chat_ended").await;
    assert_eq!(
        ended["ended_by"],
        json!({"by": "agent", "name": "Ann"}),
        "{ended}"
    );
}
