//! Transcript search over the real server: ended chats found by their
//! words (a typo forgiven), scoped by role as the lists are, masked as
//! transcripts are (and found by masked data once masking is off), gone
//! when deleted, rebuilt after the index is lost.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Searches as `client` until `want(answer)` holds (the index is written
/// by a job, moments after the chat ends).
async fn search_until(client: &Client, q: &str, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = client
            .get(&format!("/api/chats/search?q={}", q.replace(' ', "%20")))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        if want(&r.json) {
            return r.json;
        }
        assert!(
            Instant::now() < deadline,
            "search {q:?} never matched; last: {}",
            r.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ids(v: &Value) -> Vec<String> {
    v["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// `agent` (its socket) takes a chat of `group` from visitor `name`, says
/// `reply`, and ends it with a wrap-up. Returns the chat id.
async fn chat(
    desk: &Desk,
    agent: &mut Ws,
    group: &str,
    name: &str,
    question: &str,
    reply: &str,
) -> String {
    let r = desk
        .app
        .client()
        .post(
            "/api/visitor/chats",
            json!({"name": name, "group": group, "question": question}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["chat_id"].as_str().unwrap().to_string();
    agent
        .until(|f| f["type"] == "offer" && f["chat"]["id"] == id.as_str())
        .await;
    agent.send(json!({"type": "accept", "chat_id": id})).await;
    agent
        .until(|f| f["type"] == "chat_joined" && f["chat"]["id"] == id.as_str())
        .await;
    agent
        .send(json!({"type": "message", "chat_id": id, "client_id": "r1", "body": reply}))
        .await;
    agent.until(|f| f["type"] == "ack").await;
    agent
        .send(json!({"type": "end", "chat_id": id, "wrap_up": "Resolved"}))
        .await;
    agent
        .until(|f| f["type"] == "done" && f["request"] == "end")
        .await;
    id
}

#[actix_web::test]
async fn transcripts_are_found_by_their_words_as_each_role_may_see_them_and_masked() {
    let desk = Desk::new("round_robin").await;
    let sales = desk.app.group(&desk.owner, "Sales").await;
    let r = desk
        .owner
        .patch(
            &format!("/api/groups/{sales}"),
            json!({"routing": "round_robin"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let support = desk.group.clone();
    let (mut ann, _) = desk.agent_in("Ann", 3, &[&support]).await;
    let (mut bob, _) = desk.agent_in("Bob", 3, &[&sales]).await;
    let kettle = chat(
        &desk,
        &mut ann,
        &support,
        "Vera",
        "My kettle is broken",
        "Please send us the receipt",
    )
    .await;
    let invoice = chat(
        &desk,
        &mut bob,
        &sales,
        "Walt",
        "Invoice 4417 is missing",
        "I will resend the invoice",
    )
    .await;
    let card = chat(
        &desk,
        &mut ann,
        &support,
        "Xena",
        "My card 4111 1111 1111 1111 was charged twice, write to xena@example.com",
        "Sorry about that",
    )
    .await;

    // The owner finds each by its words, a typo forgiven.
    let found = search_until(&desk.owner, "recipt kettle", |v| v["total"] == 1).await;
    assert_eq!(ids(&found), vec![kettle.clone()]);
    let row = &found["chats"][0];
    assert_eq!(row["visitor_name"], "Vera");
    let snippet = row["snippet"].as_str().unwrap();
    let marked: Vec<&str> = row["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &snippet[h[0].as_u64().unwrap() as usize..h[1].as_u64().unwrap() as usize])
        .collect();
    assert!(
        marked.iter().any(|w| w.eq_ignore_ascii_case("kettle")),
        "{marked:?} in {snippet}"
    );
    assert_eq!(
        ids(&search_until(&desk.owner, "invoice", |v| v["total"] == 1).await),
        vec![invoice.clone()]
    );

    // Agents their own chats, managers their groups'.
    let (ann_c, _) = desk
        .app
        .staff(&desk.owner, "ann2@example.com", "agent", &[&support])
        .await;
    let mut ann_api = desk.app.client();
    assert_eq!(
        ann_api
            .login("Ann@example.com", "staff password 1")
            .await
            .status,
        200
    );
    assert_eq!(
        ids(&search_until(&ann_api, "receipt", |v| v["total"] == 1).await),
        vec![kettle.clone()]
    );
    assert_eq!(
        search_until(&ann_api, "invoice", |_| true).await["total"],
        0,
        "Bob's chat"
    );
    assert_eq!(
        search_until(&ann_c, "receipt", |_| true).await["total"],
        0,
        "a colleague's chat"
    );
    let (mia, _) = desk
        .app
        .staff(&desk.owner, "mia@example.com", "manager", &[&sales])
        .await;
    assert_eq!(
        ids(&search_until(&mia, "invoice", |_| true).await),
        vec![invoice.clone()]
    );
    assert_eq!(search_until(&mia, "receipt", |_| true).await["total"], 0);

    // Masked as transcripts are: the card number and email are not there...
    let charged = search_until(&desk.owner, "charged twice", |v| v["total"] == 1).await;
    let snippet = charged["chats"][0]["snippet"].as_str().unwrap().to_string();
    assert!(
        !snippet.contains("4111 1111") && !snippet.contains("xena@example.com"),
        "{snippet}"
    );
    assert_eq!(
        search_until(&desk.owner, "4111", |_| true).await["total"],
        0
    );
    // ...until an admin turns masking off: the index is rewritten.
    let r = desk
        .owner
        .patch("/api/settings", json!({"mask_pii": false}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        ids(&search_until(&desk.owner, "4111", |v| v["total"] == 1).await),
        vec![card.clone()]
    );

    // A deleted chat is gone from the search.
    let r = desk
        .owner
        .post("/api/chats/delete", json!({"chat_ids": [kettle]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    search_until(&desk.owner, "receipt", |v| v["total"] == 0).await;

    // Bad input says what to fix.
    for bad in ["q=", "q=x&page=51", "q=x&per_page=0", "page=1"] {
        let r = desk.owner.get(&format!("/api/chats/search?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    assert_eq!(
        desk.app.client().get("/api/chats/search?q=x").await.status,
        401
    );

    // A lost index is rebuilt from the store at the next start.
    let dir = desk.app.stop().await;
    let data = dir.path().join("data");
    std::fs::remove_dir_all(data.join("search-transcripts")).unwrap();
    let (again, owner) = restart_on(&data).await;
    assert_eq!(
        ids(&search_until(&owner, "invoice", |v| v["total"] == 1).await),
        [invoice]
    );
    again.stop().await.expect("stop");
}

#[actix_web::test]
async fn the_history_screen_searches_transcripts_and_marks_the_words() {
    use crate::browser::*;
    use crate::workspace::shots;
    let Some((driver_path, chromium)) = browser_paths() else {
        return;
    };
    let _turn = ONE_BROWSER_TEST.lock().await;
    let axe_js = axe_source();
    let desk = Desk::new("round_robin").await;
    let support = desk.group.clone();
    let (mut ann, _) = desk.agent_in("Ann", 3, &[&support]).await;
    chat(
        &desk,
        &mut ann,
        &support,
        "Vera <b>V</b>",
        "My kettle is broken",
        "Please send us the receipt",
    )
    .await;
    search_until(&desk.owner, "receipt", |v| v["total"] == 1).await;
    let (_driver, _profile, b) = headless(&driver_path, &chromium).await;
    sign_in(&b, &desk.app.base, OWNER_EMAIL, OWNER_PASSWORD).await;
    click(&b, "#nav a[data-view=lists]").await;
    // A typo finds it (the start of the chat shown), the word marks it.
    type_into(&b, "#chat-search", "recipt").await;
    wait_text(&b, "#chat-search-results .hit", "Vera <b>V</b>").await;
    wait_text(&b, "#chat-search-results .snippet-text", "kettle").await;
    b.execute("const i = document.querySelector('#chat-search'); i.value = ''; i.dispatchEvent(new Event('input'));", vec![]).await.unwrap();
    type_into(&b, "#chat-search", "receipt").await;
    wait_text(&b, "#chat-search-results .hit mark", "receipt").await;
    wait_text(&b, "#chat-search-count", "1 chat found").await;
    let bold = b
        .execute(
            "return document.querySelectorAll('#chat-search-results b').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(bold, json!(0), "names show as text");
    shots(&b, &axe_js, "history-search").await;
    click(&b, "#chat-search-results .hit a").await;
    wait_text(&b, "#view", "Please send us the receipt").await;
    let _ = b.close().await;
}
