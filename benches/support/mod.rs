//! What the on-demand tools share: starting the real release binary on a
//! data folder, signing in over the public API, websocket clients, latency
//! samples and /proc readings. Loopback only.

use awc::ws::Message;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Latencies in microseconds.
#[derive(Default)]
pub struct Samples(pub Vec<u64>);

impl Samples {
    pub fn summary(&mut self) -> String {
        if self.0.is_empty() {
            return "n/a".into();
        }
        self.0.sort_unstable();
        format!(
            "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})",
            self.quantile_ms(0.50),
            self.quantile_ms(0.95),
            self.quantile_ms(0.99),
            *self.0.last().unwrap_or(&0) as f64 / 1000.0,
            self.0.len()
        )
    }

    pub fn p99_ms(&mut self) -> f64 {
        self.0.sort_unstable();
        self.quantile_ms(0.99)
    }

    fn quantile_ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0[((self.0.len() as f64 * q) as usize).min(self.0.len() - 1)] as f64 / 1000.0
    }
}

/// A running livedesk process; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// The one-time setup token, while no owner exists.
    pub setup: String,
}

impl Drop for Server {
    /// SIGTERM, as systemd stops it (a profiler wrapping it then writes
    /// its report), and SIGKILL if it has not stopped within 30 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and wait until the process is gone.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GLIBC_TUNABLES` for the server: none (the packaged server sets none
/// since the binary maps its large blocks itself, src/alloc.rs);
/// `LIVEDESK_BENCH_MALLOC` sets some for an experiment.
pub fn server_malloc() -> String {
    std::env::var("LIVEDESK_BENCH_MALLOC").unwrap_or_default()
}

/// Starts the release binary on `dir/data` with `dir/livedesk.toml`: a
/// random loopback port, visitor limits raised (every client is 127.0.0.1),
/// and the given `[storage]` and `[chat]` lines.
pub fn start_server(dir: &Path, storage: &str, chat: &str) -> Server {
    let config = dir.join("livedesk.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\ndata_dir = \"{}\"\n{storage}\n[chat]\nvisitor_starts_per_minute = 100000\nvisitor_messages_per_minute = 100000\n{chat}\n[log]\nlevel = \"warn\"\n{}\n",
            dir.join("data").display(),
            // More config for an experiment, e.g. "[auth]\nmax_concurrent_hashes = 1".
            std::env::var("LIVEDESK_BENCH_CONFIG").unwrap_or_default()
        ),
    )
    .expect("config");
    // LIVEDESK_BENCH_WRAP runs the server under a profiler, e.g.
    // "valgrind --tool=massif --massif-out-file=/tmp/massif.out".
    let wrap = std::env::var("LIVEDESK_BENCH_WRAP").unwrap_or_default();
    let mut argv: Vec<String> = wrap.split_whitespace().map(String::from).collect();
    argv.extend(
        [env!("CARGO_BIN_EXE_livedesk"), "serve", "--config"]
            .iter()
            .map(|s| s.to_string()),
    );
    argv.push(config.to_str().expect("utf8").to_string());
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .env("GLIBC_TUNABLES", server_malloc())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start livedesk");
    let mut base = String::new();
    let mut setup = String::new();
    for line in BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map_while(Result::ok)
    {
        if let Some(a) = line.trim().strip_prefix("Listening:") {
            base = format!("http://{}", a.trim());
        }
        if line.contains("/setup#") {
            setup = line
                .trim()
                .split_once('#')
                .map(|(_, t)| t.to_string())
                .unwrap_or_default();
        }
        if line.starts_with("Stop with") {
            break;
        }
    }
    assert!(
        !base.is_empty(),
        "livedesk did not start (see its output above)"
    );
    Server { child, base, setup }
}

/// A process's resident memory (KiB) in its two parts, from /proc:
/// anonymous (the heap and the desk's own mappings: what grows if the
/// desk keeps something per stored chat) and file-backed (the binary and
/// mapped files such as the transcript index, which the kernel drops
/// under memory pressure and reads again).
pub fn rss_parts(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("RssAnon:"), field("RssFile:") + field("RssShmem:"))
}

/// Resident memory (KiB) and CPU seconds of a process, from /proc.
pub fn usage(pid: u32) -> (u64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (rss, (field(11) + field(12)) / 100.0)
}

/// A signed-in staff member's HTTP client.
pub struct Api {
    pub base: String,
    pub http: awc::Client,
    pub cookie: String,
    pub csrf: String,
}

impl Api {
    pub fn anonymous(base: &str) -> Api {
        Api {
            base: base.into(),
            http: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
            cookie: String::new(),
            csrf: String::new(),
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value, Option<String>) {
        let mut res = self
            .http
            .post(format!("{}{path}", self.base))
            .insert_header(("Cookie", self.cookie.clone()))
            .insert_header(("X-CSRF-Token", self.csrf.clone()))
            .send_json(&body)
            .await
            .expect("request");
        let cookie = res
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(|c| c.split(';').next().unwrap_or("").to_string());
        let v = res
            .json::<Value>()
            .limit(64 << 20)
            .await
            .unwrap_or(Value::Null);
        (res.status().as_u16(), v, cookie)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let mut res = self
            .http
            .get(format!("{}{path}", self.base))
            .insert_header(("Cookie", self.cookie.clone()))
            .send()
            .await
            .expect("request");
        let v = res
            .json::<Value>()
            .limit(64 << 20)
            .await
            .unwrap_or(Value::Null);
        (res.status().as_u16(), v)
    }
}

pub async fn sign_in(base: &str, email: &str, password: &str) -> Api {
    let mut api = Api::anonymous(base);
    let (status, v, cookie) = api
        .post(
            "/api/auth/login",
            json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(status, 200, "sign-in: {v}");
    api.cookie = cookie.expect("cookie");
    api.csrf = v["csrf_token"].as_str().unwrap_or("").to_string();
    api
}

/// Creates the owner with the setup token and signs in.
pub async fn set_up_owner(server: &Server, email: &str, password: &str) -> Api {
    let (status, v, _) = Api::anonymous(&server.base)
        .post(
            "/api/setup",
            json!({"token": server.setup, "email": email, "display_name": "Owner", "password": password}),
        )
        .await;
    assert_eq!(status, 200, "setup: {v}");
    sign_in(&server.base, email, password).await
}

pub type Socket = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

/// Waits until the transcript index holds every ended chat (a folder
/// without a whole index has it rebuilt in the background at start; a
/// measurement during that measures the rebuild too). `word` is in every
/// seeded chat. Returns how many ended chats there are and the seconds
/// waited; panics past `limit`.
pub async fn wait_for_index(api: &Api, word: &str, limit: Duration) -> (u64, f64) {
    let t = Instant::now();
    loop {
        // Open chats may end meanwhile (queue timeout): count each round.
        let (_, v) = api.get("/api/chats?scope=all&state=completed").await;
        let ended = v["total"].as_u64().expect("total");
        let (status, v) = api.get(&format!("/api/chats/search?q={word}")).await;
        assert_eq!(status, 200, "{v}");
        if v["total"].as_u64() == Some(ended) {
            return (ended, t.elapsed().as_secs_f64());
        }
        assert!(
            t.elapsed() < limit,
            "the transcript index was not rebuilt in {limit:?}: {} of {ended}",
            v["total"]
        );
        actix_web::rt::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn try_connect(url: &str, origin: &str, cookie: Option<&str>) -> Result<Socket, String> {
    let mut req = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish()
        .ws(url)
        .max_frame_size(16 << 20)
        .origin(origin);
    if let Some(c) = cookie {
        req = req.header("Cookie", c.to_string());
    }
    req.connect()
        .await
        .map(|(_, s)| s)
        .map_err(|e| e.to_string())
}

pub async fn connect(url: &str, origin: &str, cookie: Option<&str>) -> Socket {
    try_connect(url, origin, cookie).await.expect("websocket")
}

/// A visitor socket on the server at `base` (http://…) for the chat of
/// `token`, which says its hello (the token goes in the first frame).
pub async fn try_visitor(base: &str, token: &str, last_seq: u64) -> Result<Socket, String> {
    let url = format!("{}/api/ws/visitor", base.replacen("http", "ws", 1));
    let mut ws = try_connect(&url, base, None).await?;
    let hello = json!({"type": "hello", "token": token, "last_seq": last_seq});
    if send(&mut ws, hello).await {
        Ok(ws)
    } else {
        Err("the visitor socket closed before its hello".into())
    }
}

pub async fn visitor(base: &str, token: &str, last_seq: u64) -> Socket {
    try_visitor(base, token, last_seq)
        .await
        .expect("visitor websocket")
}

pub async fn send(ws: &mut Socket, frame: Value) -> bool {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .is_ok()
}

/// The next JSON text frame, `None` when the socket closed or nothing came
/// within `wait`.
pub async fn next_json(ws: &mut Socket, wait: Duration) -> Option<Value> {
    let until = Instant::now() + wait;
    loop {
        let left = until.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(awc::ws::Frame::Text(t)))) => {
                return Some(serde_json::from_slice(&t).unwrap_or(Value::Null))
            }
            Ok(Some(Ok(awc::ws::Frame::Close(_)))) | Ok(Some(Err(_))) | Ok(None) | Err(_) => {
                return None
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

pub fn micros(start: Instant) -> u64 {
    start.elapsed().as_micros() as u64
}

/// A fraction in [0, 1) from the clock: enough to spread timers.
pub fn rand_fraction() -> f64 {
    (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        % 1000) as f64
        / 1000.0
}

/// A small fast generator (xorshift64) for seeding data, the same run
/// after run from the same `seed`.
pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
