//! Crash loop: runs a chat load against the real release binary, kills it
//! with SIGKILL at a random moment, restarts it on the same data folder and
//! checks, round after round:
//!
//! - every message whose ack a client received is in the transcript
//!   exactly once, at the seq its ack named, with seqs 1, 2, 3 … and no gap;
//! - no chat is stuck: once the agents are back, every open chat is active
//!   up to the agents' capacity and the rest wait in the queue;
//! - visitors and agents reconnect, say their last seq, and receive exactly
//!   what follows (no gap, no duplicate); unacknowledged messages are sent
//!   again with the same client id and acknowledged once.
//!
//! Then, when running as root, the full-disk runs: the data folder on a
//! small tmpfs fills up during writes. With the free-space reserve, writes
//! are refused with a clear error, reads keep working, nothing acknowledged
//! is lost, and the desk takes writes again once space returns. With the
//! reserve off (sled meets the full disk itself), nothing acknowledged is
//! lost either, once space returns and the desk restarts.
//!
//!     cargo bench --bench crash                 # 20 rounds, then both full-disk runs
//!     cargo bench --bench crash -- --quick      # 5 rounds, then both full-disk runs (CI)
//!
//! Loopback only, bounded in rounds and time; exit status 1 on any failure.

// A test tool: a failed step should stop it with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use rand::Rng;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};
use support::{next_json, send, sign_in, try_connect, Api, Server};

#[derive(Clone, Copy)]
struct Options {
    rounds: usize,
    agents: usize,
    capacity: usize,
    visitors: usize,
    disk_full: bool,
    quick: bool,
}

fn options() -> Options {
    let mut o = Options {
        rounds: 20,
        agents: 4,
        capacity: 5,
        visitors: 30,
        disk_full: true,
        quick: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for (i, a) in args.iter().enumerate() {
        let value = || args.get(i + 1).and_then(|v| v.parse::<usize>().ok());
        match a.as_str() {
            "--quick" => {
                o.quick = true;
                o.rounds = 5;
                o.agents = 3;
                o.capacity = 4;
                o.visitors = 16;
            }
            "--rounds" => o.rounds = value().unwrap_or(o.rounds).clamp(1, 200),
            "--visitors" => o.visitors = value().unwrap_or(o.visitors).clamp(1, 150),
            "--agents" => o.agents = value().unwrap_or(o.agents).clamp(1, 50),
            "--no-disk-full" => o.disk_full = false,
            "--help" | "-h" => {
                println!("cargo bench --bench crash -- [--quick] [--rounds N] [--agents N] [--visitors N] [--no-disk-full]");
                std::process::exit(0);
            }
            _ => {}
        }
    }
    o
}

const PASSWORD: &str = "crash loop password";
const CHAT_CONFIG: &str = "default_max_concurrent_chats = 50\nmask_pii = false";

/// A visitor's chat as the tool knows it, kept across restarts.
#[derive(Default)]
struct VisitorChat {
    chat_id: String,
    token: String,
    /// The last seq received, contiguously from 1.
    last_seq: u64,
    /// Messages sent but not yet acknowledged: resent after a reconnect.
    pending: Vec<String>,
    next: u64,
    ended: bool,
}

/// Everything acknowledged, and what went wrong.
#[derive(Default)]
struct Ledger {
    /// chat → seq → client id, from acks.
    acked: HashMap<String, BTreeMap<u64, String>>,
    acks: u64,
    resent: u64,
    /// Writes refused for want of disk space (only the full-disk run).
    disk_full: u64,
    errors: Vec<String>,
}

impl Ledger {
    fn ack(&mut self, v: &Value) {
        let chat = v["chat_id"].as_str().unwrap_or("").to_string();
        let client_id = v["client_id"].as_str().unwrap_or("").to_string();
        let seq = v["seq"].as_u64().unwrap_or(0);
        let known = self.acked.entry(chat.clone()).or_default();
        if let Some((s, _)) = known.iter().find(|(_, c)| **c == client_id) {
            if *s != seq {
                self.errors.push(format!(
                    "chat {chat}: {client_id} acknowledged as seq {s} and again as seq {seq}"
                ));
            }
            return;
        }
        if let Some(other) = known.insert(seq, client_id.clone()) {
            self.errors.push(format!(
                "chat {chat}: seq {seq} acknowledged for {other} and for {client_id}"
            ));
        }
        self.acks += 1;
    }
}

type Shared<T> = Rc<RefCell<T>>;

/// Checks one received message against the stream so far.
fn in_order(last: &mut u64, v: &Value, who: &str, errors: &mut Vec<String>) {
    let seq = v["message"]["seq"].as_u64().unwrap_or(0);
    let chat = v["message"]["chat_id"].as_str().unwrap_or("");
    if seq != *last + 1 {
        errors.push(format!(
            "{who}, chat {chat}: received seq {seq} after {last} (a gap or a duplicate)"
        ));
    }
    *last = (*last).max(seq);
}

/// The visitor's socket, resuming after the last seq it has.
async fn visitor_socket(
    base: &str,
    chat: &Shared<VisitorChat>,
    ledger: &Shared<Ledger>,
) -> Option<support::Socket> {
    let (token, last_seq) = {
        let c = chat.borrow();
        (c.token.clone(), c.last_seq)
    };
    let socket = support::try_visitor(base, &token, last_seq).await;
    if let Err(e) = &socket {
        ledger
            .borrow_mut()
            .errors
            .push(format!("a visitor could not connect: {e}"));
    }
    socket.ok()
}

/// One visitor connection until the server dies: resume, resend, write.
async fn visitor(base: String, chat: Shared<VisitorChat>, ledger: Shared<Ledger>, end_it: bool) {
    let Some(mut ws) = visitor_socket(&base, &chat, &ledger).await else {
        return;
    };
    match next_json(&mut ws, Duration::from_secs(10)).await {
        Some(v) if v["type"] == "visitor_hello" => {
            if v["state"] == "ended" {
                chat.borrow_mut().ended = true;
                return;
            }
        }
        other => {
            ledger
                .borrow_mut()
                .errors
                .push(format!("visitor: expected visitor_hello, got {other:?}"));
            return;
        }
    }
    // Whatever was not acknowledged goes again, under the same client id.
    let resend: Vec<String> = chat.borrow().pending.clone();
    for client_id in resend {
        ledger.borrow_mut().resent += 1;
        if !send(
            &mut ws,
            json!({"type": "message", "client_id": client_id, "body": format!("text of {client_id}")}),
        )
        .await
        {
            return;
        }
    }
    let mut rng = rand::rngs::OsRng;
    let mut next_send = Instant::now() + Duration::from_millis(rng.gen_range(0..100));
    let mut ending = false;
    let end_at = end_it.then(|| Instant::now() + Duration::from_millis(rng.gen_range(300..1500)));
    loop {
        let wait = next_send.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(wait, next_json(&mut ws, Duration::from_secs(3600))).await;
        match frame {
            // Time to write: a burst, at most five messages in flight.
            Err(_) => {
                next_send = Instant::now() + Duration::from_millis(rng.gen_range(20..120));
                if ending {
                    continue;
                }
                if end_at.is_some_and(|t| Instant::now() >= t) {
                    ending = true;
                    if !send(&mut ws, json!({"type": "end"})).await {
                        return;
                    }
                    continue;
                }
                for _ in 0..rng.gen_range(1..=3) {
                    let client_id = {
                        let mut c = chat.borrow_mut();
                        if c.pending.len() >= 5 || c.ended {
                            break;
                        }
                        c.next += 1;
                        let id = format!("v{}", c.next);
                        c.pending.push(id.clone());
                        id
                    };
                    if !send(
                        &mut ws,
                        json!({"type": "message", "client_id": client_id, "body": format!("text of {client_id}")}),
                    )
                    .await
                    {
                        return;
                    }
                }
            }
            // The server is gone (killed): the round is over.
            Ok(None) => return,
            Ok(Some(v)) => match v["type"].as_str() {
                Some("ack") => {
                    let id = v["client_id"].as_str().unwrap_or("");
                    chat.borrow_mut().pending.retain(|p| p != id);
                    ledger.borrow_mut().ack(&v);
                }
                Some("message") => {
                    let mut c = chat.borrow_mut();
                    let mut l = ledger.borrow_mut();
                    in_order(&mut c.last_seq, &v, "visitor", &mut l.errors);
                }
                Some("chat_ended") => {
                    chat.borrow_mut().ended = true;
                    chat.borrow_mut().pending.clear();
                }
                // Messages racing our own end are refused: not a fault.
                Some("error") if ending && v["code"] == "chat_ended" => {}
                Some("error") => ledger.borrow_mut().errors.push(format!("visitor got {v}")),
                _ => {}
            },
        }
    }
}

/// One agent connection until the server dies: resume every chat, accept
/// every offer, answer every third visitor message, check the streams.
async fn agent(
    base: String,
    email: String,
    known: Shared<HashMap<String, u64>>,
    ledger: Shared<Ledger>,
    ready: Shared<usize>,
) {
    let api = sign_in(&base, &email, PASSWORD).await;
    let url = format!("{}/api/ws/staff", base.replacen("http", "ws", 1));
    let Ok(mut ws) = try_connect(&url, &base, Some(&api.cookie)).await else {
        ledger
            .borrow_mut()
            .errors
            .push(format!("{email} could not connect"));
        return;
    };
    // This session's stream per chat: where it resumed, then what came.
    let mut last: HashMap<String, u64> = HashMap::new();
    let mut n = 0u64;
    match next_json(&mut ws, Duration::from_secs(10)).await {
        Some(v) if v["type"] == "hello" => {
            for c in v["chats"].as_array().into_iter().flatten() {
                let id = c["id"].as_str().unwrap_or("").to_string();
                let from = known.borrow().get(&id).copied().unwrap_or(0);
                last.insert(id.clone(), from);
                send(
                    &mut ws,
                    json!({"type": "resume", "chat_id": id, "last_seq": from}),
                )
                .await;
            }
        }
        other => {
            ledger
                .borrow_mut()
                .errors
                .push(format!("{email}: expected hello, got {other:?}"));
            return;
        }
    }
    send(
        &mut ws,
        json!({"type": "set_status", "status": "available"}),
    )
    .await;
    *ready.borrow_mut() += 1;
    while let Some(v) = next_json(&mut ws, Duration::from_secs(3600)).await {
        match v["type"].as_str() {
            Some("offer") => {
                let id = v["chat"]["id"].as_str().unwrap_or("");
                send(&mut ws, json!({"type": "accept", "chat_id": id})).await;
            }
            Some("message") => {
                let chat = v["message"]["chat_id"].as_str().unwrap_or("").to_string();
                let seq = v["message"]["seq"].as_u64().unwrap_or(0);
                {
                    let entry = last.entry(chat.clone()).or_insert(0);
                    let mut l = ledger.borrow_mut();
                    in_order(entry, &v, &email, &mut l.errors);
                }
                known.borrow_mut().insert(chat.clone(), seq);
                if v["message"]["kind"] == "visitor" && seq % 3 == 0 {
                    n += 1;
                    send(
                        &mut ws,
                        json!({"type": "message", "chat_id": chat, "client_id": format!("{email}-{n}"), "body": "an answer"}),
                    )
                    .await;
                }
            }
            Some("ack") => ledger.borrow_mut().ack(&v),
            Some("error") if v["code"] == "disk_full" || v["code"] == "store_unavailable" => {
                ledger.borrow_mut().disk_full += 1
            }
            // An answer racing the visitor's end is refused: not a fault.
            Some("error") if v["code"] == "chat_ended" || v["code"] == "not_in_chat" => {}
            Some("error") => ledger.borrow_mut().errors.push(format!("{email} got {v}")),
            _ => {}
        }
    }
}

/// Every acknowledged message is in its transcript once, at its seq.
async fn verify_transcripts(owner: &Api, ledger: &Shared<Ledger>, chats: &[Shared<VisitorChat>]) {
    for chat in chats {
        let id = chat.borrow().chat_id.clone();
        let (status, t) = owner.get(&format!("/api/chats/{id}")).await;
        let mut errors = Vec::new();
        if status != 200 {
            errors.push(format!("transcript of {id}: {status} {t}"));
        }
        let messages = t["messages"].as_array().cloned().unwrap_or_default();
        let mut seen = HashMap::new();
        for (i, m) in messages.iter().enumerate() {
            if m["seq"].as_u64() != Some(i as u64 + 1) {
                errors.push(format!("chat {id}: message {i} has seq {}", m["seq"]));
            }
            if let Some(c) = m["client_id"].as_str() {
                if seen.insert(c.to_string(), i).is_some() {
                    errors.push(format!("chat {id}: {c} stored twice"));
                }
            }
        }
        let l = ledger.borrow();
        for (seq, client_id) in l.acked.get(&id).into_iter().flatten() {
            let stored = messages
                .get(*seq as usize - 1)
                .and_then(|m| m["client_id"].as_str());
            if stored != Some(client_id.as_str()) {
                errors.push(format!(
                    "chat {id}: acknowledged {client_id} at seq {seq}, stored there: {stored:?}"
                ));
            }
        }
        drop(l);
        ledger.borrow_mut().errors.extend(errors);
    }
}

/// Every message the transcripts show now, by (chat, seq), with its body.
/// A refused transcript (503 while nothing can be made durable) shows none.
async fn shown_messages(
    owner: &Api,
    chats: &[Shared<VisitorChat>],
) -> HashMap<(String, u64), String> {
    let mut shown = HashMap::new();
    for chat in chats {
        let id = chat.borrow().chat_id.clone();
        let (status, t) = owner.get(&format!("/api/chats/{id}")).await;
        if status != 200 {
            continue;
        }
        for m in t["messages"].as_array().into_iter().flatten() {
            let seq = m["seq"].as_u64().unwrap_or_default();
            let body = m["body"].as_str().unwrap_or_default().to_string();
            shown.insert((id.clone(), seq), body);
        }
    }
    shown
}

/// Open chats are active up to the agents' capacity; the rest wait.
async fn verify_not_stuck(owner: &Api, o: Options, ledger: &Shared<Ledger>) -> (usize, usize) {
    let capacity = o.agents * o.capacity;
    let mut last = (0, 0);
    // Routing happens as agents come back: give it a moment.
    for _ in 0..40 {
        let (status, page) = owner
            .get("/api/chats?scope=all&state=active&per_page=200")
            .await;
        if status != 200 {
            ledger
                .borrow_mut()
                .errors
                .push(format!("chat list: {status} {page}"));
            return last;
        }
        let rows = page["chats"].as_array().cloned().unwrap_or_default();
        let active = rows
            .iter()
            .filter(|r| r["state"] == "active" && r["agent"].is_string())
            .count();
        last = (active, rows.len());
        if active == rows.len().min(capacity) {
            return last;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    ledger.borrow_mut().errors.push(format!(
        "stuck: {} of {} open chats active with capacity {capacity} after 4 s",
        last.0, last.1
    ));
    last
}

async fn start_chat(base: &str, group: &str, i: usize) -> Shared<VisitorChat> {
    let (status, v, _) = Api::anonymous(base)
        .post(
            "/api/visitor/chats",
            json!({"name": format!("Visitor {i}"), "group": group, "question": "Hello"}),
        )
        .await;
    assert_eq!(status, 201, "start chat: {v}");
    Rc::new(RefCell::new(VisitorChat {
        chat_id: v["chat_id"].as_str().unwrap_or("").into(),
        token: v["token"].as_str().unwrap_or("").into(),
        ..VisitorChat::default()
    }))
}

async fn crash_loop(o: Options, dir: &Path) -> bool {
    let ledger: Shared<Ledger> = Rc::default();
    let mut chats: Vec<Shared<VisitorChat>> = Vec::new();
    let mut group = String::new();
    let emails: Vec<String> = (0..o.agents)
        .map(|i| format!("agent{i}@crash.test"))
        .collect();
    let known: Vec<Shared<HashMap<String, u64>>> = emails.iter().map(|_| Rc::default()).collect();
    let mut rng = rand::rngs::OsRng;
    let started = Instant::now();
    for round in 0..=o.rounds {
        let server = support::start_server(dir, "", CHAT_CONFIG);
        let restarted = Instant::now();
        let owner = if round == 0 {
            let owner = support::set_up_owner(&server, "owner@crash.test", PASSWORD).await;
            let (_, g, _) = owner
                .post(
                    "/api/groups",
                    json!({"name": "Crash", "rona_timeout_secs": 600, "offline_when_nobody_online": false}),
                )
                .await;
            group = g["id"].as_str().expect("group").to_string();
            for (i, email) in emails.iter().enumerate() {
                let (status, v, _) = owner
                    .post("/api/staff", json!({"email": email, "display_name": format!("Agent {i}"), "role": "agent", "password": PASSWORD, "groups": [group], "max_concurrent_chats": o.capacity}))
                    .await;
                assert_eq!(status, 201, "{v}");
            }
            owner
        } else {
            sign_in(&server.base, "owner@crash.test", PASSWORD).await
        };
        verify_transcripts(&owner, &ledger, &chats).await;
        if round == o.rounds {
            // The last start only checks what the previous rounds left.
            let (active, open) = agents_back(&server, &emails, &known, &ledger, o, &owner).await;
            println!("  final restart: {open} open chats, {active} active; transcripts checked");
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &server.pid().to_string()])
                .status();
            let status = { server }.child.wait().expect("wait");
            if !status.success() {
                ledger
                    .borrow_mut()
                    .errors
                    .push(format!("graceful stop after the crash loop: {status}"));
            }
            break;
        }
        // Churn: a few new chats every round.
        let open = chats.iter().filter(|c| !c.borrow().ended).count();
        for _ in 0..o.visitors.saturating_sub(open).max(2) {
            chats.push(start_chat(&server.base, &group, chats.len()).await);
        }
        let (active, open) = agents_back(&server, &emails, &known, &ledger, o, &owner).await;
        let back = restarted.elapsed();
        let mut tasks = Vec::new();
        let enders: Vec<usize> = (0..2).map(|_| rng.gen_range(0..chats.len())).collect();
        for (i, chat) in chats.iter().enumerate() {
            if chat.borrow().ended {
                continue;
            }
            tasks.push(actix_web::rt::spawn(visitor(
                server.base.clone(),
                chat.clone(),
                ledger.clone(),
                enders.contains(&i),
            )));
        }
        // Somewhere in the middle of the writes: SIGKILL.
        let kill_after = Duration::from_millis(rng.gen_range(300..2500));
        actix_web::rt::time::sleep(kill_after).await;
        let acks_before = ledger.borrow().acks;
        server.kill();
        for t in tasks {
            let _ = t.await;
        }
        let l = ledger.borrow();
        println!(
            "  round {:>2}: restart to agents back {:>5} ms, {open:>3} open / {active:>3} active, killed after {:>4} ms, {:>6} acks so far, {} errors",
            round + 1,
            back.as_millis(),
            kill_after.as_millis(),
            acks_before,
            l.errors.len()
        );
        if !l.errors.is_empty() {
            break;
        }
    }
    if ledger.borrow().disk_full > 0 {
        ledger
            .borrow_mut()
            .errors
            .push("writes were refused for want of disk space".into());
    }
    let l = ledger.borrow();
    println!(
        "  crash loop: {} rounds in {:.0} s, {} chats, {} messages acknowledged, {} resent after a restart",
        o.rounds,
        started.elapsed().as_secs_f64(),
        chats.len(),
        l.acks,
        l.resent
    );
    report(&l.errors, "crash loop")
}

/// Agents sign in, connect, resume and become available; then the check
/// that no chat is stuck. Their tasks end when the server dies.
async fn agents_back(
    server: &Server,
    emails: &[String],
    known: &[Shared<HashMap<String, u64>>],
    ledger: &Shared<Ledger>,
    o: Options,
    owner: &Api,
) -> (usize, usize) {
    let ready: Shared<usize> = Rc::default();
    for (email, known) in emails.iter().zip(known) {
        actix_web::rt::spawn(agent(
            server.base.clone(),
            email.clone(),
            known.clone(),
            ledger.clone(),
            ready.clone(),
        ));
    }
    let until = Instant::now() + Duration::from_secs(20);
    while *ready.borrow() < emails.len() && Instant::now() < until {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    verify_not_stuck(owner, o, ledger).await
}

fn report(errors: &[String], what: &str) -> bool {
    for e in errors.iter().take(10) {
        println!("    {e}");
    }
    if errors.is_empty() {
        println!("OK: {what}");
        true
    } else {
        println!("FAILED: {what}: {} error(s)", errors.len());
        false
    }
}

fn main() {
    let o = options();
    let ok = actix_web::rt::System::new().block_on(async move {
        println!(
            "livedesk crash loop: {} rounds, {} agents x {} chats, {} visitors (release binary, loopback)",
            o.rounds, o.agents, o.capacity, o.visitors
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ok = crash_loop(o, dir.path()).await;
        if o.disk_full {
            ok &= disk_full(true).await;
            // Also in --quick (CI): a few seconds, and the only run where
            // the store cannot make writes durable, which REST must not
            // hide (transcripts once showed a message a restart lost).
            ok &= disk_full(false).await;
        }
        ok
    });
    std::process::exit(if ok { 0 } else { 1 });
}

/// A tmpfs mounted for the full-disk run; unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size_mb: u64) -> Result<Tmpfs, String> {
        let status = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size_mb}m"),
                "livedesk-full-disk",
            ])
            .arg(at)
            .status()
            .map_err(|e| e.to_string())?;
        if status.success() {
            Ok(Tmpfs(at.to_path_buf()))
        } else {
            Err(format!("mount -t tmpfs failed: {status}"))
        }
    }

    fn resize(&self, size_mb: u64) -> bool {
        std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size_mb}m")])
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// What a writer saw on a full disk.
#[derive(Default)]
struct FullDisk {
    refusals: Vec<Value>,
    stop: bool,
}

/// Writes long messages until told to stop; refusals are recorded and the
/// message is sent again (same client id) a little later.
async fn filler(
    base: String,
    chat: Shared<VisitorChat>,
    ledger: Shared<Ledger>,
    full: Shared<FullDisk>,
) {
    let Some(mut ws) = visitor_socket(&base, &chat, &ledger).await else {
        return;
    };
    let body = "x".repeat(990);
    while !full.borrow().stop {
        let client_id = {
            let mut c = chat.borrow_mut();
            if c.pending.is_empty() {
                c.next += 1;
                let id = format!("v{}", c.next);
                c.pending.push(id);
            }
            c.pending[0].clone()
        };
        if !send(&mut ws, json!({"type": "message", "client_id": client_id, "body": format!("{client_id} {body}")})).await {
            ledger.borrow_mut().errors.push("full disk: a visitor socket closed".into());
            return;
        }
        loop {
            match next_json(&mut ws, Duration::from_secs(20)).await {
                Some(v) if v["type"] == "ack" => {
                    chat.borrow_mut().pending.clear();
                    ledger.borrow_mut().ack(&v);
                    break;
                }
                Some(v) if v["type"] == "message" => {
                    let mut c = chat.borrow_mut();
                    in_order(
                        &mut c.last_seq,
                        &v,
                        "visitor",
                        &mut ledger.borrow_mut().errors,
                    );
                }
                Some(v) if v["type"] == "error" => {
                    full.borrow_mut().refusals.push(v);
                    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
                    break;
                }
                Some(_) => {}
                None => {
                    ledger
                        .borrow_mut()
                        .errors
                        .push(format!("full disk: no answer to {client_id} within 20 s"));
                    return;
                }
            }
        }
    }
}

/// The data folder on a small tmpfs fills up during writes. With the
/// reserve (the default), writes are refused with `disk_full` before the
/// disk is full, reads go on, and writes resume once space returns. With
/// the reserve off, sled meets the full disk itself: writes fail with
/// `store_unavailable`, and after space returns and a restart nothing
/// acknowledged is lost.
async fn disk_full(reserve: bool) -> bool {
    let what = if reserve {
        "full disk (4 MiB reserve)"
    } else {
        "full disk (reserve off)"
    };
    println!("{what}: the data folder on a 16 MiB tmpfs, visitors writing until it is full");
    if !is_root() {
        println!("SKIPPED: the full-disk run mounts a tmpfs and needs root (sudo cargo bench --bench crash)");
        return std::env::var("CI").is_err();
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let tmpfs = match Tmpfs::mount(dir.path(), 16) {
        Ok(t) => t,
        Err(e) => {
            println!("FAILED: {what}: {e}");
            return false;
        }
    };
    let storage = if reserve {
        "min_free_mb = 4"
    } else {
        "min_free_mb = 0"
    };
    let ledger: Shared<Ledger> = Rc::default();
    let full: Shared<FullDisk> = Rc::default();
    let server = support::start_server(dir.path(), storage, CHAT_CONFIG);
    let owner = support::set_up_owner(&server, "owner@full.test", PASSWORD).await;
    let (_, g, _) = owner
        .post(
            "/api/groups",
            json!({"name": "Full", "rona_timeout_secs": 600, "offline_when_nobody_online": false}),
        )
        .await;
    let group = g["id"].as_str().expect("group").to_string();
    let (status, v, _) = owner
        .post("/api/staff", json!({"email": "agent@full.test", "display_name": "Agent", "role": "agent", "password": PASSWORD, "groups": [group], "max_concurrent_chats": 10}))
        .await;
    assert_eq!(status, 201, "{v}");
    let ready: Shared<usize> = Rc::default();
    actix_web::rt::spawn(agent(
        server.base.clone(),
        "agent@full.test".into(),
        Rc::default(),
        ledger.clone(),
        ready.clone(),
    ));
    while *ready.borrow() == 0 {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let mut chats = Vec::new();
    for i in 0..4 {
        chats.push(start_chat(&server.base, &group, i).await);
    }
    let started = Instant::now();
    let tasks: Vec<_> = chats
        .iter()
        .map(|c| {
            actix_web::rt::spawn(filler(
                server.base.clone(),
                c.clone(),
                ledger.clone(),
                full.clone(),
            ))
        })
        .collect();
    // Until the writers have been refused a few times (or a minute passes).
    let until = Instant::now() + Duration::from_secs(60);
    while full.borrow().refusals.len() < 8 && Instant::now() < until {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let filled_after = started.elapsed();
    let acked_when_full = ledger.borrow().acks;
    let mut errors: Vec<String> = Vec::new();
    let code = if reserve {
        "disk_full"
    } else {
        "store_unavailable"
    };
    {
        let f = full.borrow();
        if f.refusals.is_empty() {
            errors.push("the disk never filled up within 60 s".into());
        }
        for r in f.refusals.iter().take(1) {
            println!("  refusal: {r}");
        }
        for r in &f.refusals {
            let clear = r["message"].as_str().unwrap_or("").contains("space");
            if r["code"] != code || !clear {
                errors.push(format!("unclear refusal on a full disk: {r}"));
            }
        }
    }
    let (ready, _) = owner.get("/readyz").await;
    let (health, _) = owner.get("/healthz").await;
    let (list, _) = owner.get("/api/chats?scope=all").await;
    println!(
        "  full after {:.1} s and {acked_when_full} acked messages: /healthz {health}, /readyz {ready}, chat list {list}",
        filled_after.as_secs_f64()
    );
    if health != 200 || ready != 503 {
        errors.push(format!(
            "on a full disk /healthz answered {health} (expected 200), /readyz {ready} (expected 503)"
        ));
    }
    if reserve {
        // Reads go on; new chats get the same clear refusal.
        if list != 200 {
            errors.push(format!("the chat list on a full disk: {list}"));
        }
        let (start, refusal, _) = Api::anonymous(&server.base)
            .post(
                "/api/visitor/chats",
                json!({"name": "Late", "group": group, "question": "Anyone there?"}),
            )
            .await;
        if start != 507 || refusal["error"]["code"] != "disk_full" {
            errors.push(format!("a chat started on a full disk: {start} {refusal}"));
        }
        verify_transcripts(&owner, &ledger, &chats).await;
    }
    // Staff reading transcripts now must see nothing that a restart loses
    // (REST once showed a message the full disk never let become durable).
    let shown = shown_messages(&owner, &chats).await;
    if !tmpfs.resize(64) {
        errors.push("could not grow the tmpfs".into());
    }
    if reserve {
        // Space returns: the refused messages go through, and new ones.
        let until = Instant::now() + Duration::from_secs(30);
        while ledger.borrow().acks < acked_when_full + 40 && Instant::now() < until {
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let recovered = ledger.borrow().acks - acked_when_full;
        let (ready_after, _) = owner.get("/readyz").await;
        println!("  space back: {recovered} more messages acknowledged, /readyz {ready_after}");
        if recovered < 40 || ready_after != 200 {
            errors.push(format!(
                "after space returned: {recovered} messages acknowledged, /readyz {ready_after}"
            ));
        }
    }
    full.borrow_mut().stop = true;
    for t in tasks {
        let _ = t.await;
    }
    // A crash on top: everything acknowledged is there, once, in order.
    server.kill();
    let server = support::start_server(dir.path(), storage, CHAT_CONFIG);
    let owner = sign_in(&server.base, "owner@full.test", PASSWORD).await;
    verify_transcripts(&owner, &ledger, &chats).await;
    let after = shown_messages(&owner, &chats).await;
    let mut vanished = 0;
    for (key, body) in &shown {
        if after.get(key) != Some(body) {
            vanished += 1;
        }
    }
    if vanished > 0 {
        errors.push(format!(
            "{vanished} of {} messages a transcript showed on the full disk were gone after the restart",
            shown.len()
        ));
    }
    println!(
        "  restarted after SIGKILL with space: {} acknowledged messages checked; {} shown by REST on the full disk, all still there",
        ledger.borrow().acks,
        shown.len()
    );
    drop(server);
    drop(tmpfs);
    errors.extend(std::mem::take(&mut ledger.borrow_mut().errors));
    report(&errors, what)
}
