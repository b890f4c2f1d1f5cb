//! Tickets over the real server: offline messages, missed chats, an
//! agent's "create ticket" and ticket-making wrap-up reasons each make
//! exactly one; numbers run on across restarts; changes and notes are in
//! the history with who and when; another group's ticket is 404.

use crate::harness::{test_config, Client, Desk, Ws};
use livedesk::domain::{Clock, ManualClock};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Waits (bounded) until the ticket list of `client` for `query` has
/// `total` tickets, and returns it.
pub async fn tickets_until(client: &Client, query: &str, total: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = client.get(&format!("/api/tickets?{query}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if r.json["total"] == total {
            return r.json;
        }
        assert!(
            Instant::now() < deadline,
            "wanted {total} tickets for {query:?}, have {}",
            r.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client of the desk at `base`, signed in (checked).
async fn signed_in(base: &str, email: &str, password: &str) -> Client {
    let mut c = Client::new(base);
    let r = c.login(email, password).await;
    assert_eq!(r.status, 200, "sign-in of {email}: {}", r.text);
    c
}

/// The owner of the desk at `base`, signed in.
async fn owner_at(base: &str) -> Client {
    signed_in(
        base,
        crate::harness::OWNER_EMAIL,
        crate::harness::OWNER_PASSWORD,
    )
    .await
}

/// A manual-routing group "Support" with agent Ann in it, connected and
/// available (so a visitor's chat waits in the queue and nobody takes it).
/// Returns the group's id and Ann's socket.
async fn manual_group_with_ann_on(owner: &Client, base: &str) -> (String, Ws) {
    let r = owner
        .post(
            "/api/groups",
            json!({"name": "Support", "routing": "manual"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let group = r.json["id"].as_str().expect("id").to_string();
    let r = owner
        .post(
            "/api/staff",
            json!({"email": "ann@example.com", "display_name": "Ann", "role": "agent",
                   "password": "staff password 1", "groups": [group]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let ann = signed_in(base, "ann@example.com", "staff password 1").await;
    let (mut ws, _) = Ws::staff_at(base, &ann).await;
    ws.send(json!({"type": "set_status", "status": "available"}))
        .await;
    ws.expect("done").await;
    (group, ws)
}

fn offline(group: &str, message: &str) -> Value {
    json!({"group": group, "name": "Nils Öberg", "email": "nils@example.com", "message": message})
}

#[actix_web::test]
async fn an_offline_message_makes_exactly_one_ticket_and_numbers_run_on_across_a_restart() {
    let desk = Desk::new("round_robin").await;
    let visitor = desk.app.client();
    let r = visitor
        .post(
            "/api/visitor/offline_messages",
            offline(&desk.group, "My parcel never came\nOrder 5521"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["ticket"], 1001, "the visitor is told its number");
    let list = tickets_until(&desk.owner, "", 1).await;
    let row = &list["tickets"][0];
    assert_eq!(row["number"], 1001);
    assert_eq!(row["source"], "offline_message");
    assert_eq!(row["subject"], "My parcel never came");
    assert_eq!(row["requester_name"], "Nils Öberg");
    assert_eq!(row["requester_email"], "nils@example.com");
    assert_eq!(row["status"], "open");
    assert_eq!(row["group_name"], "Support");
    assert!(row["link"].as_str().unwrap().ends_with("/#/tickets/1001"));
    let t = desk.owner.get("/api/tickets/1001").await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.json["notes"][0]["kind"], "requester");
    assert_eq!(
        t.json["notes"][0]["body"],
        "My parcel never came\nOrder 5521"
    );
    assert_eq!(t.json["history"][0]["field"], "created");
    assert_eq!(t.json["history"][0]["by_name"], "livedesk");

    let r = visitor
        .post(
            "/api/visitor/offline_messages",
            offline(&desk.group, "Second question"),
        )
        .await;
    assert_eq!(r.json["ticket"], 1002);
    let group = desk.group.clone();
    let dir = desk.app.stop().await;

    // After a restart the next ticket is 1003: nothing reused, no gap.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let again = livedesk::app::start(
        test_config(&dir.path().join("data")),
        listener,
        std::sync::Arc::new(ManualClock::starting_now()),
    )
    .await
    .expect("start");
    let base = format!("http://{}", again.addr);
    let owner = owner_at(&base).await;
    let r = Client::new(&base)
        .post(
            "/api/visitor/offline_messages",
            offline(&group, "Third, after the restart"),
        )
        .await;
    assert_eq!(r.json["ticket"], 1003, "{}", r.text);
    let list = tickets_until(&owner, "sort=number&order=asc", 3).await;
    let numbers: Vec<u64> = list["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1001, 1002, 1003]);
    again.stop().await.expect("stop");
}

/// Visitor Vera's chat in `desk` (a manual group) waits past a 60 s queue
/// timeout with agent Ann on and nobody taking it: a missed chat. Returns
/// (chat id, token, Ann's socket) once Vera is told it ended.
pub async fn missed_chat(desk: &Desk, question: &str) -> (String, String, Ws) {
    let r = desk
        .owner
        .patch(
            &format!("/api/groups/{}", desk.group),
            json!({"queue_timeout_secs": 60}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (ann, _) = desk.agent("Ann", 2).await;
    let (chat, token) = desk.start_chat("Vera", question).await;
    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    desk.app.advance(Duration::from_secs(61));
    desk.app.running().state.engine.tick().await;
    vera.until(|f| f["type"] == "chat_ended").await;
    (chat, token, ann)
}

#[actix_web::test]
async fn a_missed_chat_makes_one_ticket_and_the_message_left_after_it_joins_that_ticket() {
    let desk = Desk::new("manual").await;
    let (chat, token, _ann) = missed_chat(&desk, "Is the blue kettle in stock?").await;
    let list = tickets_until(&desk.owner, "source=missed_chat", 1).await;
    let row = &list["tickets"][0];
    assert_eq!(row["subject"], "Is the blue kettle in stock?");
    assert_eq!(row["chat"], chat.as_str());
    assert_eq!(row["assignee"], Value::Null, "nobody took it");
    let number = row["number"].as_u64().unwrap();
    let t = desk.owner.get(&format!("/api/tickets/{number}")).await;
    assert!(t.json["chat_link"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/#/chats/{chat}")));
    assert_eq!(t.json["notes"][0]["body"], "Is the blue kettle in stock?");

    // The widget's message form after the miss sends the chat's token: the
    // message goes on the same ticket.
    let mut form = offline(&desk.group, "Please email me when it is back");
    form["chat_token"] = json!(token);
    let r = desk
        .app
        .client()
        .post("/api/visitor/offline_messages", form)
        .await;
    assert_eq!((r.status, r.json["ticket"].as_u64()), (201, Some(number)));
    tickets_until(&desk.owner, "", 1).await;
    let t = desk.owner.get(&format!("/api/tickets/{number}")).await;
    assert_eq!(
        t.json["notes"][1]["body"],
        "Please email me when it is back"
    );
    assert_eq!(
        t.json["requester_email"], "nils@example.com",
        "the email given on the form"
    );

    // A visitor who leaves the queue is a missed chat too; an engine tick
    // or a second look makes no second ticket.
    let (_, token) = desk.start_chat("Walt", "Hello?").await;
    let mut walt = Ws::visitor(&desk.app, &token, 0).await;
    walt.send(json!({"type": "end"})).await;
    walt.until(|f| f["type"] == "chat_ended").await;
    tickets_until(&desk.owner, "source=missed_chat", 2).await;
    desk.app.running().state.engine.tick().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    tickets_until(&desk.owner, "", 2).await;
}

#[actix_web::test]
async fn create_ticket_from_a_chat_once_and_wrap_up_reasons_that_make_tickets() {
    let desk = Desk::new("round_robin").await;
    let (mut ann, chat, _vera) = desk.owned_chat().await;
    let mut ann_c = desk.app.client();
    assert_eq!(
        ann_c
            .login("ann@example.com", "staff password 1")
            .await
            .status,
        200
    );
    let r = ann_c.post("/api/tickets", json!({"chat": chat})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["source"], "chat");
    assert_eq!(r.json["subject"], "Hi", "prefilled from the question");
    assert_eq!(r.json["assignee_name"], "Ann");
    let number = r.json["number"].as_u64().unwrap();
    let again = ann_c
        .post("/api/tickets", json!({"chat": chat, "subject": "Other"}))
        .await;
    assert_eq!(
        (again.status, again.json["number"].as_u64()),
        (200, Some(number)),
        "a chat has one ticket"
    );
    // Ending it with a ticket-making reason makes no second one.
    ann.send(json!({"type": "end", "chat_id": chat, "wrap_up": "Follow-up needed"}))
        .await;
    ann.until(|f| f["type"] == "done").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    tickets_until(&desk.owner, "", 1).await;

    // The reasons that make tickets are the admin's to choose.
    let r = desk.owner.get("/api/wrap-up-reasons").await;
    assert_eq!(r.json["creates_ticket"], json!(["Follow-up needed"]));
    let r = desk
        .owner
        .put(
            "/api/wrap-up-reasons",
            json!({"reasons": ["Resolved", "Sale", "Call back"], "creates_ticket": ["call BACK"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["creates_ticket"], json!(["Call back"]));
    let bad = desk
        .owner
        .put(
            "/api/wrap-up-reasons",
            json!({"reasons": ["Resolved"], "creates_ticket": [" "]}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_field"));
    assert!(bad.text.contains("creates_ticket"), "{}", bad.text);
    let r = desk
        .owner
        .put(
            "/api/wrap-up-reasons",
            json!({"reasons": ["Resolved", "Sale"], "creates_ticket": ["Call back"]}),
        )
        .await;
    assert_eq!(
        r.json["reasons"],
        json!(["Resolved", "Sale", "Call back"]),
        "a ticket-making reason is a reason"
    );

    for (reason, tickets) in [("Resolved", 1), ("Call back", 2)] {
        let (id, token) = desk.start_chat("Vic", "Call me back please").await;
        ann.until(|f| f["type"] == "offer" && f["chat"]["id"] == id.as_str())
            .await;
        ann.send(json!({"type": "accept", "chat_id": id})).await;
        ann.until(|f| f["type"] == "chat_joined").await;
        let _vic = Ws::visitor(&desk.app, &token, 0).await;
        ann.send(json!({"type": "end", "chat_id": id, "wrap_up": reason}))
            .await;
        ann.until(|f| f["type"] == "done").await;
        let list = tickets_until(&desk.owner, "", tickets).await;
        if tickets == 2 {
            let t = &list["tickets"][0];
            assert_eq!(t["chat"], id.as_str());
            assert_eq!(t["source"], "chat");
            assert_eq!(t["assignee_name"], "Ann", "the agent who wrapped it up");
        }
    }
    // A wrap-up given after the visitor left counts too.
    let (id, token) = desk.start_chat("Val", "One more").await;
    ann.until(|f| f["type"] == "offer" && f["chat"]["id"] == id.as_str())
        .await;
    ann.send(json!({"type": "accept", "chat_id": id})).await;
    ann.until(|f| f["type"] == "chat_joined").await;
    let mut val = Ws::visitor(&desk.app, &token, 0).await;
    val.send(json!({"type": "end"})).await;
    ann.until(|f| f["type"] == "chat_ended" && f["chat_id"] == id.as_str())
        .await;
    ann.send(json!({"type": "wrap_up", "chat_id": id, "reason": "Call back"}))
        .await;
    ann.until(|f| f["type"] == "done").await;
    tickets_until(&desk.owner, "", 3).await;
}

#[actix_web::test]
async fn changes_and_notes_are_in_the_history_and_other_groups_tickets_are_404() {
    let desk = Desk::new("round_robin").await;
    let sales = desk.app.group(&desk.owner, "Sales").await;
    let (mia, mia_id) = desk
        .app
        .staff(
            &desk.owner,
            "mia@example.com",
            "agent",
            &[desk.group.as_str()],
        )
        .await;
    let (olle, olle_id) = desk
        .app
        .staff(&desk.owner, "olle@example.com", "agent", &[sales.as_str()])
        .await;
    let r = mia
        .post(
            "/api/tickets",
            json!({"subject": "Refund for order 5521", "group": desk.group,
                   "requester_name": "Rita", "requester_email": "rita@example.com",
                   "priority": "high", "note": "Called in, wants a refund"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["source"], "manual");
    assert_eq!(r.json["assignee"], mia_id.as_str());
    let n = r.json["number"].as_u64().unwrap();
    let path = format!("/api/tickets/{n}");

    // Changes: each one with who and when.
    let before = desk.app.clock.now_ms();
    desk.app.advance(Duration::from_secs(60));
    let r = mia
        .patch(&path, json!({"status": "pending", "priority": "urgent"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = desk.owner.patch(&path, json!({"assignee": null})).await;
    assert_eq!(r.json["assignee"], Value::Null);
    let r = mia
        .post(
            &format!("{path}/notes"),
            json!({"body": "Refund sent\nref 88"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let h = &r.json["history"];
    let fields: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["created", "status", "priority", "assignee", "note"]
    );
    assert_eq!(h[1]["from"], "open");
    assert_eq!(h[1]["to"], "pending");
    assert_eq!(h[1]["by"], mia_id.as_str());
    assert_eq!(h[1]["by_name"], "mia");
    assert!(h[1]["at"].as_u64().unwrap() >= before + 60_000);
    assert_eq!(h[3]["by_name"], "Olivia Owner");
    assert_eq!(h[3]["from_label"], "mia");
    assert_eq!(h[3]["to"], Value::Null);
    assert_eq!(r.json["notes"][1]["body"], "Refund sent\nref 88");
    assert_eq!(r.json["notes"][1]["by_name"], "mia");
    assert_eq!(r.json["status"], "pending");
    assert_eq!(r.json["priority"], "urgent");

    // An agent of another group: 404 for reading and changing, none listed.
    for resp in [
        olle.get(&path).await,
        olle.patch(&path, json!({"status": "closed"})).await,
        olle.post(&format!("{path}/notes"), json!({"body": "x"}))
            .await,
        olle.get("/api/tickets/999999").await,
    ] {
        assert_eq!(
            (resp.status, resp.code()),
            (404, "ticket_not_found"),
            "{}",
            resp.text
        );
    }
    assert_eq!(olle.get("/api/tickets").await.json["total"], 0);
    // Assigned to them, they see it.
    let r = desk.owner.patch(&path, json!({"assignee": olle_id})).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "invalid_field"),
        "olle is not in the ticket's group: {}",
        r.text
    );
    let r = desk
        .owner
        .patch(&path, json!({"group": sales, "assignee": olle_id}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(olle.get(&path).await.status, 200);
    assert_eq!(mia.get(&path).await.status, 404, "moved out of her group");

    // Filters, search and bad queries.
    let o = &desk.owner;
    assert_eq!(o.get("/api/tickets?status=pending").await.json["total"], 1);
    assert_eq!(
        o.get("/api/tickets?status=open,solved").await.json["total"],
        0
    );
    assert_eq!(o.get("/api/tickets?q=REFUND%205521").await.json["total"], 1);
    assert_eq!(o.get("/api/tickets?q=rita@example").await.json["total"], 1);
    assert_eq!(o.get("/api/tickets?q=kettle").await.json["total"], 0);
    assert_eq!(
        o.get(&format!("/api/tickets?assignee={olle_id}&priority=urgent"))
            .await
            .json["total"],
        1
    );
    assert_eq!(olle.get("/api/tickets?assignee=me").await.json["total"], 1);
    assert_eq!(o.get("/api/tickets?assignee=none").await.json["total"], 0);
    for bad in [
        "status=done",
        "priority=",
        "source=chat,phone",
        "assignee=someone",
        "sort=colour",
        "per_page=201",
        "page=0",
    ] {
        let r = o.get(&format!("/api/tickets?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    for (body, field) in [
        (json!({"status": "done"}), ""),
        (json!({"subject": ""}), "subject"),
        (json!({"colour": "red"}), ""),
    ] {
        let r = o.patch(&path, body).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains(field), "{}", r.text);
    }
    let r = o
        .post(&format!("{path}/notes"), json!({"body": "  "}))
        .await;
    assert_eq!(r.status, 400);
    let r = o.get("/api/tickets/abc").await;
    assert_eq!(r.status, 400);
    let r = mia
        .post(
            "/api/tickets",
            json!({"subject": "S", "group": sales, "requester_name": "R"}),
        )
        .await;
    assert_eq!(r.status, 403, "not her group: {}", r.text);
    let r = mia
        .post(
            "/api/tickets",
            json!({"chat": "0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "chat_not_found"));
    assert_eq!(desk.app.client().get("/api/tickets").await.status, 401);

    // The dashboard's figures.
    let s = o.get("/api/tickets/summary?zone=Europe/Berlin").await;
    assert_eq!(s.status, 200, "{}", s.text);
    assert_eq!(
        s.json["from_chats_today"], 0,
        "a manual ticket is not from a chat"
    );
    assert_eq!(s.json["unsolved"], 1);
    assert_eq!(s.json["recent"][0]["number"], n);
    assert_eq!(s.json["recent"][0]["field"], "assignee");
    assert_eq!(s.json["recent"][1]["field"], "group");
    assert_eq!(
        o.get("/api/tickets/summary?zone=Mars/Olympus").await.status,
        400
    );
}

#[actix_web::test]
async fn tickets_are_masked_for_staff_but_keep_the_reply_address() {
    let desk = Desk::new_with("round_robin", |c| c.chat.mask_pii = true.into()).await;
    let r = desk
        .app
        .client()
        .post(
            "/api/visitor/offline_messages",
            offline(&desk.group, "My card 4111 1111 1111 1111 was charged twice"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let list = tickets_until(&desk.owner, "", 1).await;
    let subject = list["tickets"][0]["subject"].as_str().unwrap();
    assert!(!subject.contains("4111 1111"), "{subject}");
    assert_eq!(list["tickets"][0]["requester_email"], "nils@example.com");
    let t = desk.owner.get("/api/tickets/1001").await;
    assert!(!t.text.contains("4111 1111 1111"), "{}", t.text);
    assert!(t.text.contains("1111"), "the last four stay");
}

/// The real binary, SIGKILLed after a missed chat and before its ticket
/// (the ticket maker held by the fault switch): the restart makes exactly
/// one ticket, a second restart none, and numbers run on.
#[actix_web::test]
async fn a_missed_chat_killed_before_its_ticket_gets_exactly_one_after_restarts() {
    use crate::browser::{desk_with_owner, free_port};
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut desk = desk_with_owner(dir.path(), port, "");
    // Restart with the maker held.
    desk.kill();
    desk.env = vec![("LIVEDESK_FAULT_HOLD_FOLLOW_UPS".into(), "1".into())];
    desk.spawn();
    let owner = owner_at(&base).await;
    let (group, _ann) = manual_group_with_ann_on(&owner, &base).await;
    let r = Client::new(&base)
        .post(
            "/api/visitor/chats",
            json!({"name": "Vera", "group": group, "question": "Anyone?"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.json["token"].as_str().expect("token").to_string();
    let chat = r.json["chat_id"].as_str().expect("chat").to_string();
    let mut vera = Ws::visitor_unsaid(&base).await;
    vera.send(crate::harness::visitor_hello(&token, 0)).await;
    vera.expect("visitor_hello").await;
    vera.send(json!({"type": "end"})).await;
    vera.until(|f| f["type"] == "chat_ended").await;
    let t = owner.get(&format!("/api/chats/{chat}")).await;
    assert_eq!(t.json["chat"]["state"], "ended", "{}", t.text);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        owner.get("/api/tickets").await.json["total"],
        0,
        "held: no ticket yet"
    );

    desk.kill(); // SIGKILL between the miss and its ticket
    desk.env.clear();
    desk.spawn();
    let owner = owner_at(&base).await;
    let list = tickets_until(&owner, "", 1).await;
    assert_eq!(list["tickets"][0]["number"], 1001);
    assert_eq!(list["tickets"][0]["source"], "missed_chat");
    assert_eq!(list["tickets"][0]["chat"], chat.as_str());

    desk.kill();
    desk.spawn();
    let owner = owner_at(&base).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    tickets_until(&owner, "", 1).await;
    let r = Client::new(&base)
        .post("/api/visitor/offline_messages", offline(&group, "Later"))
        .await;
    assert_eq!(r.json["ticket"], 1002, "{}", r.text);
}

/// The console's ticket screens in Chromium: the dashboard's panel, the
/// list with a filter, a ticket's status, assignee and note changes in its
/// history, "create ticket" from a transcript, and a new manual ticket;
/// screenshots at laptop and phone size, axe on each.
#[actix_web::test]
async fn staff_work_tickets_in_the_console() {
    use crate::browser::*;
    use crate::harness::{OWNER_EMAIL, OWNER_PASSWORD};
    use crate::workspace::{choose, shots, shots_of, until_js};
    let Some((driver_path, chromium)) = browser_paths() else {
        return;
    };
    let _turn = ONE_BROWSER_TEST.lock().await;
    let axe_js = axe_source();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let sink = crate::mail::Sink::start();
    let _desk = desk_with_owner(
        dir.path(),
        port,
        &format!(
            "[mail]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"Help desk <help@example.com>\"\n",
            sink.port
        ),
    );
    let owner = owner_at(&base).await;
    let (group, _ann) = manual_group_with_ann_on(&owner, &base).await;
    let visitor = Client::new(&base);
    for (name, message) in [
        ("Nils Öberg", "My parcel never came, order 5521"),
        ("Rita", "Can I change my delivery address?"),
    ] {
        let r = visitor
            .post(
                "/api/visitor/offline_messages",
                json!({"group": group, "name": name, "email": "nils@example.com", "message": message}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    // A chat to follow up: its ticket is made from the transcript (by the
    // owner here, who may see every chat).
    let r = visitor
        .post(
            "/api/visitor/chats",
            json!({"name": "Vera", "group": group, "question": "Do you ship to Norway?"}),
        )
        .await;
    let chat = r.json["chat_id"].as_str().expect("chat").to_string();

    let driver = start_driver(&driver_path);
    let profile = tempfile::tempdir().expect("profile");
    let b = open_browser(&driver, &chromium, profile.path()).await;
    b.set_window_size(1280, 800).await.expect("size");
    sign_in(&b, &base, OWNER_EMAIL, OWNER_PASSWORD).await;
    wait_text(&b, "#tickets-today", "2").await;
    wait_text(&b, "#tickets-unsolved", "2").await;
    shots(&b, &axe_js, "tickets-dashboard").await;

    b.goto(&format!("{base}/#/tickets")).await.expect("tickets");
    wait_text(
        &b,
        "#tickets-table tr[data-number='1001']",
        "My parcel never came",
    )
    .await;
    wait_text(&b, "#ticket-total", "2 tickets").await;
    shots(&b, &axe_js, "tickets-list").await;
    type_into(&b, "#ticket-q", "parcel").await;
    click(&b, "#ticket-filters button[type=submit]").await;
    wait_text(&b, "#ticket-total", "1 ticket").await;

    click(&b, "#tickets-table tr[data-number='1001'] td.subject a").await;
    wait_text(&b, "#ticket h1", "#1001").await;
    wait_text(&b, "#ticket-notes", "order 5521").await;
    choose(&b, "#ticket-set-status", "pending").await;
    wait_text(&b, "#ticket-history", "set status Pending").await;
    choose(
        &b,
        "#ticket-set-assignee",
        &r_id(&owner, "ann@example.com").await,
    )
    .await;
    wait_text(&b, "#ticket-history", "assigned Ann").await;
    type_into(&b, "#ticket-note", "Asked the carrier; waiting").await;
    click(&b, "#ticket-note-form button[type=submit]").await;
    wait_text(&b, "#ticket-notes", "Asked the carrier").await;
    sink.until(2).await;
    b.refresh().await.expect("reload");
    wait_text(&b, "#ticket-mail", "Sent").await;
    wait_text(&b, "#ticket-mail", "Ticket received to nils@example.com").await;
    shots(&b, &axe_js, "ticket-view").await;
    let t = owner.get("/api/tickets/1001").await;
    let fields: Vec<&str> = t.json["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["created", "status", "assignee", "note"]);
    assert_eq!(t.json["history"][1]["by_name"], "Olivia Owner");

    // From a chat's transcript: "Create ticket", twice opens the same one.
    b.goto(&format!("{base}/#/chats/{chat}"))
        .await
        .expect("chat");
    click(&b, "#create-ticket").await;
    wait_text(&b, "#ticket h1", "Do you ship to Norway?").await;
    until_js(&b, "location.hash === '#/tickets/1003'", "ticket 1003 open").await;
    b.goto(&format!("{base}/#/chats/{chat}"))
        .await
        .expect("chat");
    click(&b, "#create-ticket").await;
    until_js(&b, "location.hash === '#/tickets/1003'", "the same ticket").await;

    // A manual ticket.
    b.goto(&format!("{base}/#/tickets")).await.expect("tickets");
    click(&b, "#ticket-new").await;
    type_into(&b, "#nt-subject", "Call back about the invoice").await;
    type_into(&b, "#nt-name", "Ulla").await;
    click(&b, "#ticket-new-form button[type=submit]").await;
    wait_text(&b, "#ticket h1", "#1004").await;

    // Canned responses: a shared one added on the Responses screen.
    b.goto(&format!("{base}/#/responses"))
        .await
        .expect("responses");
    wait_text(&b, "#canned-mine", "None yet").await;
    type_into(&b, "#canned-shortcut", "refund").await;
    type_into(
        &b,
        "#canned-body",
        "Hello {visitor_name}, your refund is on its way.",
    )
    .await;
    click(&b, "#canned-shared").await;
    click(&b, "#canned-save").await;
    wait_text(&b, "#canned-shared-list", "/refund").await;
    shots(&b, &axe_js, "responses").await;
    let r = owner.get("/api/canned").await;
    assert_eq!(r.json[0]["shortcut"], "refund", "{}", r.text);
    assert!(r.json[0]["owner"].is_null(), "shared");

    // The outbox on Settings: a refused mail, sent again from there.
    let r = visitor
        .post(
            "/api/visitor/offline_messages",
            json!({"group": group, "name": "Bo", "email": "bounce@example.com", "message": "Hello?"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let deadline = Instant::now() + Duration::from_secs(15);
    while owner.get("/api/mail?state=failed").await.json["counts"]["failed"] != 1 {
        assert!(Instant::now() < deadline, "the refused mail never failed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.goto(&format!("{base}/#/settings"))
        .await
        .expect("settings");
    wait_text(
        &b,
        "#mail-setup",
        &format!("127.0.0.1:{} (none)", sink.port),
    )
    .await;
    wait_text(&b, "#mail-counts", "1 failed").await;
    wait_text(&b, "#mail-list", "no such mailbox").await;
    shots_of(&b, &axe_js, "mail-settings", Some("#mail-settings")).await;
    click(&b, "#mail-list [data-retry]").await;
    wait_text(
        &b,
        "#toast",
        "Sending the mail to bounce@example.com again.",
    )
    .await;
    b.close().await.expect("close");
}

async fn r_id(owner: &Client, email: &str) -> String {
    let r = owner.get("/api/staff").await;
    r.json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == email)
        .and_then(|s| s["id"].as_str())
        .unwrap()
        .to_string()
}
