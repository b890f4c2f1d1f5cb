//! Tests of the real `livedesk` binary as a sysadmin runs it.

use crate::harness::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_livedesk");

fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("livedesk.toml");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nworkers = 1\n\n[storage]\ndata_dir = \"{}\"\ncache_mb = 8\n\n[log]\nlevel = \"warn\"\n{extra}",
        dir.join("data").display()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn livedesk");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// A `livedesk serve` process and what its banner said.
struct Served {
    child: Child,
    base: String,
    setup_link: Option<String>,
}

fn serve(config: &Path) -> Served {
    serve_with(&["serve", "--config", config.to_str().expect("utf8")])
}

fn serve_with(args: &[&str]) -> Served {
    let mut child = Command::new(BIN)
        .args(args)
        .env("LIVEDESK__LOG__LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut base, mut setup_link) = (None, None);
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("livedesk printed its banner within 30 s");
        if let Some(addr) = line.trim().strip_prefix("Listening:") {
            base = Some(format!("http://{}", addr.trim()));
        }
        if line.trim().starts_with("http") && line.contains("/setup#") {
            setup_link = Some(line.trim().to_string());
        }
        if line.starts_with("Stop with") {
            break;
        }
    }
    Served {
        child,
        base: base.expect("banner names the address"),
        setup_link,
    }
}

#[test]
fn every_command_takes_the_location_flags_of_serve() {
    // After `serve --listen … --data-dir …`, the health check and the owner
    // commands given the same flags find that desk (they asked port 8080
    // and ./livedesk-data whatever serve was told).
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("elsewhere");
    let data = data.to_str().expect("utf8");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let served = serve_with(&["serve", "--listen", &listen, "--data-dir", data]);
    assert_eq!(served.base, format!("http://{listen}"));
    let out = run(&["healthcheck", "--listen", &listen], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&listen), "{}", text(&out.stdout));
    assert!(terminate(served).success());

    let out = run(
        &[
            "owner",
            "create",
            "--email",
            "boss@example.com",
            "--data-dir",
            data,
        ],
        Some("the boss password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        &[
            "owner",
            "reset-password",
            "--email",
            "boss@example.com",
            "--data-dir",
            data,
        ],
        Some("another password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        &["check-config", "--listen", &listen, "--data-dir", data],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(data), "{}", text(&out.stdout));
    let served = serve_with(&["serve", "--listen", &listen, "--data-dir", data]);
    assert!(
        served.setup_link.is_none(),
        "the owner made above is in that folder"
    );
    assert!(terminate(served).success());
}

/// Makes the owner with the setup link a first start printed; signed in.
async fn set_up_owner(s: &Served) -> Client {
    let link = s
        .setup_link
        .clone()
        .expect("first start prints the setup link");
    let token = link.split_once('#').expect("fragment").1;
    let mut owner = Client::new(&s.base);
    let r = owner
        .post_mut("/api/setup", json!({"token": token, "email": OWNER_EMAIL, "display_name": "O", "password": OWNER_PASSWORD}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    owner
}

fn terminate(mut s: Served) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    s.child.wait().expect("wait")
}

#[test]
fn check_config_lists_every_problem_with_its_line_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write_config(dir.path(), "");
    let out = run(
        &["check-config", "--config", good.to_str().expect("utf8")],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("OK"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[server]\nlisten = \"everywhere\"\nworkerz = 2\n\n[chat]\nmax_message_chars = \"lots\"\n",
    )
    .expect("write");
    let out = run(
        &["check-config", "--config", bad.to_str().expect("utf8")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("3 problem(s)"), "{err}");
    assert!(
        err.contains(
            "bad.toml:2:10: server.listen: expected an address and port like \"127.0.0.1:8080\""
        ),
        "{err}"
    );
    assert!(
        err.contains("bad.toml:3:11: server.workerz: unknown key `workerz` in [server]"),
        "{err}"
    );
    assert!(
        err.contains("bad.toml:6:21: chat.max_message_chars"),
        "{err}"
    );

    let out = run(&["check-config"], None);
    assert!(out.status.success(), "the built-in defaults are valid");
    let out = run(
        &["check-config", "--config", "/nonexistent/livedesk.toml"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read config file /nonexistent/livedesk.toml"));
}

#[test]
fn serve_refuses_a_broken_config_or_environment_without_panicking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server\nlisten=").expect("write");
    let out = run(&["serve", "--config", bad.to_str().expect("utf8")], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.toml:1:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let good = write_config(dir.path(), "");
    let out = Command::new(BIN)
        .args(["serve", "--config", good.to_str().expect("utf8")])
        .env("LIVEDESK__SERVER__LISTEN", "nowhere")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("environment variable LIVEDESK__SERVER__LISTEN"));
}

#[test]
fn version_is_printed() {
    let out = run(&["--version"], None);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("livedesk {}", env!("CARGO_PKG_VERSION"))
    );
}

#[actix_web::test]
async fn a_restart_keeps_everything_and_a_second_process_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "");
    let first = serve(&config);
    let owner = set_up_owner(&first).await;
    assert_eq!(
        owner
            .post("/api/groups", json!({"name": "Support"}))
            .await
            .status,
        201
    );

    // The same data folder from a second process: a clear refusal.
    let out = run(&["serve", "--config", config.to_str().expect("utf8")], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("is in use by another livedesk process"),
        "{err}"
    );

    // The health check finds the running desk.
    let port = first.base.rsplit(':').next().expect("port").to_string();
    let out = Command::new(BIN)
        .args(["healthcheck", "--config", config.to_str().expect("utf8")])
        .env("LIVEDESK__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .output()
        .expect("healthcheck");
    assert!(out.status.success(), "{}", text(&out.stderr));

    let status = terminate(first);
    assert!(
        status.success(),
        "SIGTERM stops cleanly with exit 0, got {status:?}"
    );
    let out = Command::new(BIN)
        .args(["healthcheck", "--config", config.to_str().expect("utf8")])
        .env("LIVEDESK__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .output()
        .expect("healthcheck");
    assert_eq!(out.status.code(), Some(1), "nothing answers any more");

    let second = serve(&config);
    assert!(
        second.setup_link.is_none(),
        "an owner exists: no setup link"
    );
    let mut again = Client::new(&second.base);
    assert_eq!(again.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
    let groups = again.get("/api/groups").await;
    assert_eq!(groups.json[0]["name"], "Support");
    assert!(terminate(second).success());
}

#[actix_web::test]
async fn the_owner_commands_help_a_locked_out_sysadmin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "");
    let cfg = config.to_str().expect("utf8");
    let out = run(
        &[
            "owner",
            "create",
            "--email",
            "boss@example.com",
            "--config",
            cfg,
        ],
        Some("first password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        &[
            "owner",
            "create",
            "--email",
            "other@example.com",
            "--config",
            cfg,
        ],
        Some("first password\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("an owner already exists"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &[
            "owner",
            "reset-password",
            "--email",
            "boss@example.com",
            "--config",
            cfg,
        ],
        Some(""),
    );
    assert_eq!(out.status.code(), Some(1), "an empty password is refused");
    let out = run(
        &[
            "owner",
            "reset-password",
            "--email",
            "nobody@example.com",
            "--config",
            cfg,
        ],
        Some("x long password\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    let out = run(
        &[
            "owner",
            "reset-password",
            "--email",
            "Boss@Example.com",
            "--config",
            cfg,
        ],
        Some("second password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let served = serve(&config);
    assert!(served.setup_link.is_none());
    let mut c = Client::new(&served.base);
    assert_eq!(
        c.login("boss@example.com", "first password").await.status,
        401
    );
    let r = c.login("boss@example.com", "second password").await;
    assert_eq!(
        (r.status, r.json["staff"]["role"].as_str()),
        (200, Some("owner"))
    );
    assert!(terminate(served).success());
}

fn kill9(s: &mut Served) {
    let status = Command::new("kill")
        .args(["-KILL", &s.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let _ = s.child.wait();
}

/// Connects a websocket client to a served binary (staff when `cookie`).
async fn ws_to(base: &str, path: &str, cookie: Option<&str>) -> Ws {
    let mut req = awc::Client::new()
        .ws(format!("{}{path}", base.replace("http", "ws")))
        .max_frame_size(16 << 20)
        .origin(base);
    if let Some(c) = cookie {
        req = req.header("Cookie", c.to_string());
    }
    let (_, socket) = req.connect().await.expect("websocket");
    Ws::from_socket(socket)
}

#[actix_web::test]
async fn every_acknowledged_message_survives_kill_9_exactly_once_and_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "");
    let mut served = serve(&config);
    let owner = set_up_owner(&served).await;
    let group = owner
        .post("/api/groups", json!({"name": "Support"}))
        .await
        .json["id"]
        .as_str()
        .expect("id")
        .to_string();
    owner
        .post("/api/staff", json!({"email": "ann@example.com", "display_name": "Ann", "role": "agent", "password": "staff password 1", "groups": [group]}))
        .await;
    let mut ann = Client::new(&served.base);
    ann.login("ann@example.com", "staff password 1").await;
    let mut ann_ws = ws_to(&served.base, "/api/ws/staff", ann.cookie.as_deref()).await;
    ann_ws.expect("hello").await;
    ann_ws
        .send(json!({"type": "set_status", "status": "available"}))
        .await;
    ann_ws.expect("done").await; // online before the visitor comes
    let started = Client::new(&served.base)
        .post(
            "/api/visitor/chats",
            json!({"name": "Vera", "group": group, "question": "Q"}),
        )
        .await;
    let token = started.json["token"].as_str().expect("token").to_string();
    let chat = started.json["chat_id"].as_str().expect("chat").to_string();
    ann_ws.expect("offer").await;
    ann_ws
        .send(json!({"type": "accept", "chat_id": chat}))
        .await;
    ann_ws.expect("chat_joined").await;

    let mut vera = ws_to(&served.base, "/api/ws/visitor", None).await;
    vera.send(visitor_hello(&token, 0)).await;
    vera.expect("visitor_hello").await;
    let mut acked: Vec<(String, u64)> = Vec::new();
    for i in 0..40 {
        let id = format!("v{i}");
        vera.send(json!({"type": "message", "client_id": id, "body": format!("message {i}")}))
            .await;
        if i % 2 == 0 {
            ann_ws.send(json!({"type": "message", "chat_id": chat, "client_id": format!("a{i}"), "body": format!("reply {i}")}))
                .await;
        }
        let ack = vera.expect("ack").await;
        acked.push((
            ack["client_id"].as_str().expect("id").to_string(),
            ack["seq"].as_u64().expect("seq"),
        ));
    }
    // A burst in flight, then SIGKILL while acks may still be on the way.
    for i in 40..80 {
        vera.send(json!({"type": "message", "client_id": format!("v{i}"), "body": format!("message {i}")})).await;
    }
    let mut more = 0;
    while more < 5 {
        let f = vera.expect("ack").await;
        acked.push((
            f["client_id"].as_str().expect("id").to_string(),
            f["seq"].as_u64().expect("seq"),
        ));
        more += 1;
    }
    kill9(&mut served);

    let restarted = serve(&config);
    let mut again = ws_to(&restarted.base, "/api/ws/visitor", None).await;
    again.send(visitor_hello(&token, 0)).await;
    let hello = again.expect("visitor_hello").await;
    let last = hello["last_seq"].as_u64().expect("last seq");
    let mut seen: Vec<(u64, Option<String>)> = Vec::new();
    while seen.last().map(|m| m.0) != Some(last) {
        let f = again.expect("message").await;
        seen.push((
            f["message"]["seq"].as_u64().expect("seq"),
            f["message"]["client_id"].as_str().map(str::to_string),
        ));
    }
    let seqs: Vec<u64> = seen.iter().map(|m| m.0).collect();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "seq 1..n with no gap and no repeat"
    );
    for (client_id, seq) in &acked {
        let found: Vec<&(u64, Option<String>)> = seen
            .iter()
            .filter(|m| m.1.as_deref() == Some(client_id.as_str()))
            .collect();
        assert_eq!(found.len(), 1, "{client_id} exactly once");
        assert_eq!(found[0].0, *seq, "{client_id} at its acknowledged seq");
    }
    // The agent's chat survived too: Ann still owns it after the restart.
    let mut ann2 = Client::new(&restarted.base);
    ann2.login("ann@example.com", "staff password 1").await;
    let mut ann_ws2 = ws_to(&restarted.base, "/api/ws/staff", ann2.cookie.as_deref()).await;
    let hello = ann_ws2.expect("hello").await;
    assert_eq!(hello["chats"][0]["id"], chat.as_str());
    assert!(terminate(restarted).success());
}

/// `livedesk shifts preview` prints, per hour in the group's local time,
/// open or closed and who is on, from the config file and the store;
/// compared with a hand-written expectation (a night shift over midnight
/// into a closed date).
#[actix_web::test]
async fn shifts_preview_prints_a_correct_schedule() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let support = app.group(&owner, "Support").await;
    app.staff(&owner, "ann@example.com", "agent", &[&support])
        .await;
    let dir = app.stop().await;
    let config = write_config(
        dir.path(),
        "\n[[shifts]]\nname = \"Late\"\ndays = [\"mon\"]\nstart = \"22:00\"\nend = \"02:00\"\nzone = \"Europe/Stockholm\"\nagents = [\"ann@example.com\"]\ngroups = [\"Support\"]\n\n\
         [[closed]]\ngroup = \"Support\"\ndate = \"2026-12-08\"\nnote = \"Inventory\"\nzone = \"Europe/Stockholm\"\n",
    );
    let cfg = config.to_str().expect("utf8");
    let out = run(&["check-config", "--config", cfg], None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("1 shifts and 1 closed dates"),
        "{}",
        text(&out.stdout)
    );
    let out = run(
        &[
            "shifts",
            "preview",
            "--config",
            cfg,
            "--from",
            "2026-12-07",
            "--days",
            "2",
            "--group",
            "support",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut want = String::from("Support (Europe/Stockholm)\n  Mon 2026-12-07\n");
    for h in 0..22 {
        want += &format!("    {h:02}:00  closed  -\n");
    }
    // (The harness names staff after their email: "ann".)
    want += "    22:00  open    ann\n    23:00  open    ann\n  Tue 2026-12-08\n";
    want += "    00:00  closed  ann  (closed date: Inventory)\n    01:00  closed  ann  (closed date: Inventory)\n";
    for h in 2..24 {
        want += &format!("    {h:02}:00  closed  -  (closed date: Inventory)\n");
    }
    assert_eq!(text(&out.stdout), want);

    // An unknown email is named with its line by check-config.
    let bad = write_config(
        dir.path(),
        "\n[[shifts]]\nname = \"Late\"\ndays = [\"mon\"]\nstart = \"22:00\"\nend = \"02:00\"\nzone = \"UTC\"\nagents = [\"nobody@example.com\"]\n",
    );
    let out = run(
        &["check-config", "--config", bad.to_str().expect("utf8")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(
            "livedesk.toml:12: shifts.agents: no staff member signs in as \"nobody@example.com\""
        ),
        "{}",
        text(&out.stderr)
    );
}

/// The threads of `pid` whose name is `name` (Linux's /proc).
fn threads_named(pid: u32, name: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .filter_map(Result::ok)
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim_end() == name)
                })
                .count()
        })
        .unwrap_or(0)
}

#[actix_web::test]
async fn a_burst_of_requests_keeps_the_store_threads_bounded() {
    // A reconnect storm's 10,000 resumes grew tokio's blocking pool to 80
    // threads (each with its stack and its own malloc arena); every HTTP
    // worker now runs store calls on at most 8 (docs/performance.md).
    if !Path::new("/proc/self/task").exists() {
        eprintln!("SKIPPED: no /proc here to count threads");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "");
    let served = serve(&config);
    let owner = set_up_owner(&served).await;
    let pid = served.child.id();
    let mut most = 0;
    for _ in 0..5 {
        let burst = (0..1000).map(|_| owner.get("/api/groups"));
        for r in futures_util::future::join_all(burst).await {
            assert_eq!(r.status, 200, "{}", r.json);
        }
        most = most.max(threads_named(pid, "tokio-rt-worker"));
    }
    // One worker (the config above): 8 for its store calls, and a few for
    // the jobs' own pool.
    assert!(
        most <= 12,
        "{most} blocking threads after bursts of 1,000 requests"
    );
    assert!(terminate(served).success());
}
