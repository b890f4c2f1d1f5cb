//! Canned responses over REST: personal for everyone, shared by admins,
//! each person's list (their own wins over a shared one of the same
//! shortcut), who may change what, and clear errors.

use crate::harness::{Client, Desk};
use serde_json::json;

async fn staff_client(desk: &Desk, name: &str) -> Client {
    desk.agent(name, 2).await;
    let mut c = desk.app.client();
    let r = c
        .login(&format!("{name}@example.com"), "staff password 1")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    c
}

fn shortcuts(list: &serde_json::Value) -> Vec<(String, bool)> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            (
                c["shortcut"].as_str().expect("shortcut").to_string(),
                c["owner"].is_null(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn shared_and_personal_responses_with_their_rights() {
    let desk = Desk::new("round_robin").await;
    let ann = staff_client(&desk, "Ann").await;
    let bob = staff_client(&desk, "Bob").await;

    let r = desk
        .owner
        .post("/api/canned", json!({"shortcut": "/Greet", "body": "Hello {visitor_first_name}, I am {agent_name}.", "shared": true}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (r.json["shortcut"].as_str(), r.json["owner"].is_null()),
        (Some("greet"), true)
    );
    let shared_id = r.json["id"].as_str().expect("id").to_string();
    let r = desk
        .owner
        .post(
            "/api/canned",
            json!({"shortcut": "bye", "body": "Thanks for chatting!", "shared": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // An agent may not write shared ones, but keeps their own; theirs wins.
    let r = ann
        .post(
            "/api/canned",
            json!({"shortcut": "x", "body": "y", "shared": true}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = ann
        .post(
            "/api/canned",
            json!({"shortcut": "greet", "body": "Hi {visitor_name}! Ann here."}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let ann_greet = r.json["id"].as_str().expect("id").to_string();
    let r = ann
        .post("/api/canned", json!({"shortcut": "GREET", "body": "again"}))
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (409, Some("shortcut_taken"))
    );
    let list = ann.get("/api/canned").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(
        shortcuts(&list.json),
        [("bye".into(), true), ("greet".into(), false)]
    );
    assert_eq!(list.json[1]["body"], "Hi {visitor_name}! Ann here.");
    let list = bob.get("/api/canned").await;
    assert_eq!(
        shortcuts(&list.json),
        [("bye".into(), true), ("greet".into(), true)],
        "Ann's is hers"
    );

    // Who may change what.
    let r = bob
        .patch(
            &format!("/api/canned/{ann_greet}"),
            json!({"body": "mine now"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (404, Some("canned_not_found"))
    );
    let r = ann
        .patch(&format!("/api/canned/{shared_id}"), json!({"body": "no"}))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = ann
        .patch(
            &format!("/api/canned/{ann_greet}"),
            json!({"shortcut": "hi", "body": "Hi {visitor_name}!"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["shortcut"].as_str()),
        (200, Some("hi")),
        "{}",
        r.text
    );
    let r = desk
        .owner
        .patch(
            &format!("/api/canned/{shared_id}"),
            json!({"shortcut": "bye"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (409, Some("shortcut_taken"))
    );

    // Bad input says what to fix.
    for (body, field) in [
        (json!({"shortcut": "two words", "body": "x"}), "shortcut"),
        (json!({"shortcut": "ok", "body": "   "}), "body"),
        (json!({"shortcut": "ok", "body": "x".repeat(2001)}), "body"),
    ] {
        let r = ann.post("/api/canned", body).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(
            r.json["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(field)),
            "{}",
            r.text
        );
    }
    assert_eq!(ann.patch("/api/canned/nope", json!({})).await.status, 400);
    // A patch as an array is no patch (serde alone would read one from it).
    let r = ann
        .patch(&format!("/api/canned/{ann_greet}"), json!([null, null]))
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (400, Some("invalid_json")),
        "{}",
        r.text
    );

    // Deleting: own yes, shared only by admins.
    assert_eq!(
        bob.delete(&format!("/api/canned/{shared_id}")).await.status,
        403
    );
    assert_eq!(
        ann.delete(&format!("/api/canned/{ann_greet}")).await.status,
        204
    );
    assert_eq!(
        ann.delete(&format!("/api/canned/{ann_greet}")).await.status,
        404
    );
    assert_eq!(
        desk.owner
            .delete(&format!("/api/canned/{shared_id}"))
            .await
            .status,
        204
    );
    let list = ann.get("/api/canned").await;
    assert_eq!(shortcuts(&list.json), [("bye".into(), true)]);
}
