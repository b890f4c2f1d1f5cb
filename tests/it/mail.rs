//! Mail over the real server and a local SMTP sink started by the test:
//! the requester is mailed once when their ticket is made and once when it
//! is solved; mail waits while the relay is down and goes once after a
//! restart; a refused mail fails and an admin sends it again; a visitor
//! gets one transcript of an ended chat; without `[mail]` nothing is queued.

use crate::harness::{test_config, Client, Desk, Ws};
use livedesk::config::{Config, MailTls};
use livedesk::domain::ManualClock;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A mail the sink took.
#[derive(Clone, Debug)]
pub struct Received {
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The message as sent (headers and body, dot-stuffing undone).
    pub data: String,
}

impl Received {
    /// A header's value (first occurrence).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let prefix = format!("{}:", name.to_lowercase());
        head.split("\r\n")
            .find(|l| l.to_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }
    /// The body.
    pub fn body(&self) -> String {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.replace("\r\n", "\n"))
            .unwrap_or_default()
    }
}

/// A small SMTP server on 127.0.0.1: takes every mail, but refuses (550)
/// recipients whose address contains "bounce". It stops when dropped.
pub struct Sink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

impl Sink {
    /// A sink on a free port.
    pub fn start() -> Sink {
        Self::on(TcpListener::bind("127.0.0.1:0").expect("bind the sink"))
    }

    /// A sink on `port` (one a test reserved and let go).
    pub fn start_on(port: u16) -> Sink {
        Self::on(TcpListener::bind(("127.0.0.1", port)).expect("bind the sink's port"))
    }

    fn on(listener: TcpListener) -> Sink {
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (mails.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let m = m.clone();
                        std::thread::spawn(move || {
                            let _ = serve(conn, &m);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Sink { port, mails, stop }
    }

    /// The mails taken so far.
    pub fn mails(&self) -> Vec<Received> {
        self.mails.lock().expect("lock").clone()
    }

    /// Waits (bounded) until `n` mails have come, and returns them.
    pub async fn until(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.mails();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "wanted {n} mails, the sink has {}: {got:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One SMTP session.
fn serve(conn: TcpStream, mails: &Mutex<Vec<Received>>) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut out = conn.try_clone()?;
    let mut lines = BufReader::new(conn);
    out.write_all(b"220 sink ESMTP\r\n")?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM") {
            to.clear();
            b"250 2.1.0 ok\r\n"
        } else if upper.starts_with("RCPT TO") {
            if upper.contains("BOUNCE") {
                b"550 5.1.1 no such mailbox here\r\n"
            } else {
                let addr = line[8..].trim().trim_start_matches(':').trim();
                to.push(addr.trim_matches(|c| c == '<' || c == '>').to_string());
                b"250 2.1.5 ok\r\n"
            }
        } else if upper.starts_with("DATA") {
            out.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            mails.lock().expect("lock").push(Received {
                to: std::mem::take(&mut to),
                data,
            });
            b"250 2.0.0 queued\r\n"
        } else if upper.starts_with("QUIT") {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
            b"250 ok\r\n"
        } else {
            b"502 5.5.2 not here\r\n"
        };
        out.write_all(reply)?;
    }
}

/// Mail through the sink on `port`.
pub fn mail_to(c: &mut Config, port: u16) {
    c.mail.host = "127.0.0.1".into();
    c.mail.port = port;
    c.mail.tls = MailTls::None;
    c.mail.from = "Help desk <help@example.com>".into();
    c.mail.reply_to = "answers@example.com".into();
}

fn no_limits(c: &mut Config) {
    c.chat.visitor_starts_per_minute = 100_000;
    c.chat.visitor_messages_per_minute = 100_000;
}

fn offline(group: &str, email: &str, message: &str) -> Value {
    json!({"group": group, "name": "Nils Oberg", "email": email, "message": message})
}

/// Visitor Nils leaves an offline message from `email` in `desk`'s group
/// (checked): its ticket mails him.
async fn leave_message(desk: &Desk, email: &str, message: &str) {
    let r = desk
        .app
        .client()
        .post(
            "/api/visitor/offline_messages",
            offline(&desk.group, email, message),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Waits (bounded) until `GET /api/mail` satisfies `ok`, and returns it.
async fn outbox_until(owner: &Client, query: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = owner.get(&format!("/api/mail{query}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if ok(&r.json) {
            return r.json;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox never got there: {}",
            r.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A sink, and a desk of `routing` mailing through it.
async fn mailing_desk(routing: &str) -> (Sink, Desk) {
    let sink = Sink::start();
    let port = sink.port;
    let desk = Desk::new_with(routing, |c| {
        no_limits(c);
        mail_to(c, port);
    })
    .await;
    (sink, desk)
}

/// A desk on the data folder `dir` (again), mailing through `port`.
async fn desk_on(dir: &std::path::Path, port: u16) -> livedesk::app::RunningApp {
    let mut config = test_config(&dir.join("data"));
    no_limits(&mut config);
    mail_to(&mut config, port);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    livedesk::app::start(config, listener, Arc::new(ManualClock::starting_now()))
        .await
        .expect("start")
}

async fn owner_of(app: &livedesk::app::RunningApp) -> Client {
    let mut c = Client::new(&format!("http://{}", app.addr));
    let r = c
        .login(crate::harness::OWNER_EMAIL, crate::harness::OWNER_PASSWORD)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    c
}

#[actix_web::test]
async fn the_requester_is_mailed_once_per_event_and_not_again_after_a_restart() {
    let (sink, desk) = mailing_desk("round_robin").await;
    let port = sink.port;
    let r = desk
        .app
        .client()
        .post(
            "/api/visitor/offline_messages",
            offline(
                &desk.group,
                "nils@example.com",
                "My parcel never came\nOrder 5521",
            ),
        )
        .await;
    assert_eq!(
        (r.status, r.json["ticket"].as_u64()),
        (201, Some(1001)),
        "{}",
        r.text
    );

    let got = sink.until(1).await;
    let made = &got[0];
    assert_eq!(made.to, ["nils@example.com"]);
    assert_eq!(
        made.header("Subject").as_deref(),
        Some("[#1001] My parcel never came")
    );
    assert_eq!(
        made.header("From").as_deref(),
        Some("\"Help desk\" <help@example.com>")
    );
    assert_eq!(
        made.header("Reply-To").as_deref(),
        Some("answers@example.com")
    );
    let id = made.header("Message-ID").expect("a Message-ID");
    assert!(id.ends_with("@example.com>"), "{id}");
    let body = made.body();
    assert!(body.contains("Hello Nils Oberg,"), "{body}");
    assert!(body.contains("Your reference: #1001"), "{body}");
    assert!(
        body.contains("> My parcel never came\n> Order 5521\n"),
        "{body}"
    );
    assert!(body.contains("keep \"#1001\" in the subject"), "{body}");

    // The ticket shows its mail, sent.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t = desk.owner.get("/api/tickets/1001").await;
        assert_eq!(t.json["mail"]["configured"], true, "{}", t.text);
        if t.json["mail"]["mails"][0]["state"] == "sent" {
            assert_eq!(t.json["mail"]["mails"][0]["kind"], "ticket_created");
            assert_eq!(t.json["mail"]["mails"][0]["to"], "nils@example.com");
            assert!(t.json["mail"]["mails"][0]["sent_at"].is_u64());
            break;
        }
        assert!(Instant::now() < deadline, "{}", t.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Other changes mail nothing; solving mails once.
    let r = desk
        .owner
        .patch("/api/tickets/1001", json!({"priority": "high"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = desk
        .owner
        .patch("/api/tickets/1001", json!({"status": "solved"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got = sink.until(2).await;
    assert_eq!(
        got[1].header("Subject").as_deref(),
        Some("[#1001] Solved: My parcel never came")
    );
    assert!(got[1]
        .body()
        .contains("marked your request #1001 as solved"));
    let r = desk
        .owner
        .post("/api/tickets/1001/notes", json!({"body": "Refund sent"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let outbox = outbox_until(&desk.owner, "", |o| o["counts"]["sent"] == 2).await;
    assert_eq!(outbox["setup"]["configured"], true);
    assert_eq!(outbox["setup"]["relay"], format!("127.0.0.1:{port} (none)"));
    assert_eq!(
        outbox["counts"],
        json!({"pending": 0, "failed": 0, "sent": 2})
    );
    assert_eq!(outbox["mails"][0]["kind"], "ticket_solved", "newest first");

    // A restart sends nothing again.
    let dir = desk.app.stop().await;
    let again = desk_on(dir.path(), port).await;
    let owner = owner_of(&again).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.mails().len(), 2, "nothing is sent twice");
    let outbox = outbox_until(&owner, "", |_| true).await;
    assert_eq!(
        outbox["counts"],
        json!({"pending": 0, "failed": 0, "sent": 2})
    );
    again.stop().await.expect("stop");
}

#[actix_web::test]
async fn mail_waits_while_the_relay_is_down_and_goes_once_after_a_restart() {
    // A port with nothing on it: the relay is down.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let desk = Desk::new_with("round_robin", |c| {
        no_limits(c);
        mail_to(c, port);
    })
    .await;
    leave_message(&desk, "nils@example.com", "Where is my order?").await;
    let outbox = outbox_until(&desk.owner, "?state=pending", |o| {
        o["mails"][0]["attempts"].as_u64() >= Some(1)
    })
    .await;
    let m = &outbox["mails"][0];
    assert_eq!(m["state"], "pending");
    assert!(
        m["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{m}"
    );
    assert!(m["next_at"].as_u64() > m["created_at"].as_u64(), "{m}");
    let t = desk.owner.get("/api/tickets/1001").await;
    assert_eq!(t.json["mail"]["mails"][0]["state"], "pending");

    // The desk stops with the mail still waiting; the relay comes up; the
    // desk starts again and sends it once.
    let dir = desk.app.stop().await;
    let sink = Sink::start_on(port);
    let again = desk_on(dir.path(), port).await;
    let got = sink.until(1).await;
    assert_eq!(
        got[0].header("Subject").as_deref(),
        Some("[#1001] Where is my order?")
    );
    let owner = owner_of(&again).await;
    outbox_until(&owner, "", |o| o["counts"]["sent"] == 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.mails().len(), 1, "sent once");
    again.stop().await.expect("stop");
}

#[actix_web::test]
async fn a_refused_mail_fails_at_once_and_an_admin_sends_it_again() {
    let (sink, desk) = mailing_desk("round_robin").await;
    leave_message(&desk, "bounce@example.com", "Hello?").await;
    let outbox = outbox_until(&desk.owner, "?state=failed", |o| o["counts"]["failed"] == 1).await;
    let m = &outbox["mails"][0];
    assert_eq!(
        (m["attempts"].as_u64(), m["next_at"].is_null()),
        (Some(1), true),
        "{m}"
    );
    assert!(
        m["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("no such mailbox")),
        "{m}"
    );
    let id = m["id"].as_str().expect("id").to_string();

    // Agents do not see the outbox.
    let (_ann_ws, _) = desk.agent("Ann", 2).await;
    let mut ann = Client::new(&desk.app.base);
    ann.login("ann@example.com", "staff password 1").await;
    assert_eq!(ann.get("/api/mail").await.status, 403);

    // Sent again: pending, then failed again (the address is still refused).
    let r = desk
        .owner
        .post(&format!("/api/mail/{id}/retry"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.json["state"].as_str(), r.json["attempts"].as_u64()),
        (Some("pending"), Some(0))
    );
    outbox_until(&desk.owner, "?state=failed", |o| {
        o["counts"]["failed"] == 1 && o["mails"][0]["attempts"] == 1
    })
    .await;
    assert!(sink.mails().is_empty());

    let r = desk.owner.post("/api/mail/nope/retry", json!({})).await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (400, Some("invalid_id"))
    );
    let r = desk
        .owner
        .post(
            "/api/mail/0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10/retry",
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (404, Some("mail_not_found"))
    );
    // A sent mail is not sent again.
    desk.app
        .client()
        .post(
            "/api/visitor/offline_messages",
            offline(&desk.group, "nils@example.com", "Hello again"),
        )
        .await;
    let sent = outbox_until(&desk.owner, "?state=sent", |o| o["counts"]["sent"] == 1).await;
    let sent_id = sent["mails"][0]["id"].as_str().expect("id").to_string();
    let r = desk
        .owner
        .post(&format!("/api/mail/{sent_id}/retry"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (409, Some("mail_not_failed"))
    );
    assert_eq!(desk.owner.get("/api/mail?limit=0").await.status, 400);
}

#[actix_web::test]
async fn the_visitor_gets_one_transcript_of_an_ended_chat_without_whispers() {
    let (sink, desk) = mailing_desk("round_robin").await;
    let info = desk.app.client().get("/api/visitor/widget").await;
    assert_eq!(info.json["transcript_by_email"], true, "{}", info.text);
    let (mut ann, chat, token) = desk.answered_chat("Is the blue kettle in stock?").await;
    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "w1", "body": "psst, VIP customer", "whisper": true}))
        .await;
    ann.expect("ack").await;
    ann.send(json!({"type": "message", "chat_id": chat, "client_id": "a1", "body": "Yes, 4 left"}))
        .await;
    ann.expect("ack").await;
    let visitor = desk.app.client();
    let ask = |email: &str| json!({"chat_token": token, "email": email});
    let r = visitor
        .post("/api/visitor/transcript", ask("vera@example.com"))
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (409, Some("chat_not_ended")),
        "{}",
        r.text
    );

    let mut vera = Ws::visitor(&desk.app, &token, 0).await;
    vera.send(json!({"type": "end"})).await;
    ann.expect("chat_ended").await;
    let r = visitor
        .post("/api/visitor/transcript", ask("not an address"))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("email:")),
        "{}",
        r.text
    );
    let r = visitor
        .post(
            "/api/visitor/transcript",
            json!({"chat_token": "x", "email": "vera@example.com"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (404, Some("chat_not_found"))
    );

    let r = visitor
        .post("/api/visitor/transcript", ask("vera@example.com"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (r.json["to"].as_str(), r.json["state"].as_str()),
        (Some("vera@example.com"), Some("pending"))
    );
    let again = visitor
        .post("/api/visitor/transcript", ask("other@example.com"))
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(
        (again.json["id"].clone(), again.json["to"].as_str()),
        (r.json["id"].clone(), Some("vera@example.com"))
    );

    let got = sink.until(1).await;
    assert_eq!(got[0].to, ["vera@example.com"]);
    assert!(got[0]
        .header("Subject")
        .is_some_and(|s| s.starts_with("Your chat with us on ")));
    let body = got[0].body();
    assert!(body.contains("Hello Vera,"), "{body}");
    assert!(
        body.contains("] Vera: Is the blue kettle in stock?\n"),
        "{body}"
    );
    assert!(body.contains("] Ann: Yes, 4 left\n"), "{body}");
    assert!(
        body.contains("] * Customer ended the conversation\n"),
        "{body}"
    );
    assert!(!body.contains("VIP"), "no whisper in a transcript: {body}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.mails().len(), 1, "one transcript per chat");
}

#[actix_web::test]
async fn without_mail_set_up_nothing_is_queued_and_staff_are_told() {
    let desk = Desk::new("round_robin").await;
    let info = desk.app.client().get("/api/visitor/widget").await;
    assert_eq!(info.json["transcript_by_email"], false);
    leave_message(&desk, "nils@example.com", "Hello?").await;
    let t = desk.owner.get("/api/tickets/1001").await;
    assert_eq!(
        t.json["mail"],
        json!({"configured": false, "mails": []}),
        "{}",
        t.text
    );
    let outbox = desk.owner.get("/api/mail").await;
    assert_eq!(outbox.status, 200, "{}", outbox.text);
    assert_eq!(
        outbox.json["setup"],
        json!({"configured": false, "relay": "", "from": ""})
    );
    assert_eq!(
        outbox.json["counts"],
        json!({"pending": 0, "failed": 0, "sent": 0})
    );
    let r = desk
        .app
        .client()
        .post(
            "/api/visitor/transcript",
            json!({"chat_token": "any", "email": "vera@example.com"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (409, Some("mail_not_configured"))
    );
}

#[actix_web::test]
async fn a_missed_chat_mails_its_requester_once_their_address_is_known() {
    let (sink, desk) = mailing_desk("manual").await;
    let (_chat, token, _ann) =
        crate::tickets::missed_chat(&desk, "Is the blue kettle in stock?").await;
    crate::tickets::tickets_until(&desk.owner, "source=missed_chat", 1).await;
    // No address yet: nothing is mailed.
    let outbox = outbox_until(&desk.owner, "", |_| true).await;
    assert_eq!(
        outbox["counts"],
        json!({"pending": 0, "failed": 0, "sent": 0})
    );

    // The message left after the miss names the address: one mail.
    let mut form = offline(
        &desk.group,
        "vera@example.com",
        "Please email me when it is back",
    );
    form["chat_token"] = json!(token);
    let r = desk
        .app
        .client()
        .post("/api/visitor/offline_messages", form)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let number = r.json["ticket"].as_u64().expect("ticket");
    let got = sink.until(1).await;
    assert_eq!(got[0].to, ["vera@example.com"]);
    assert_eq!(
        got[0].header("Subject"),
        Some(format!("[#{number}] Is the blue kettle in stock?"))
    );
    assert!(
        got[0].body().contains("> Please email me when it is back"),
        "{}",
        got[0].body()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.mails().len(), 1);
}

#[actix_web::test]
async fn a_relay_without_starttls_keeps_the_mail_waiting_with_a_clear_error() {
    let sink = Sink::start();
    let port = sink.port;
    let desk = Desk::new_with("round_robin", |c| {
        no_limits(c);
        mail_to(c, port);
        c.mail.tls = MailTls::StartTls;
    })
    .await;
    leave_message(&desk, "nils@example.com", "Hello?").await;
    let outbox = outbox_until(&desk.owner, "?state=pending", |o| {
        o["mails"][0]["attempts"].as_u64() >= Some(1)
    })
    .await;
    let error = outbox["mails"][0]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(error.contains("tls"), "the error names TLS: {error}");
    assert_eq!(
        outbox["setup"]["relay"],
        format!("127.0.0.1:{port} (starttls)")
    );
    assert!(sink.mails().is_empty(), "nothing goes out unencrypted");
}
