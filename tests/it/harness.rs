//! Test harness: a real server per test (in-process, ephemeral port, temp
//! data folder, manual clock) and a small HTTP client that keeps the
//! session cookie and CSRF token as the console does.

#![allow(dead_code)]

use awc::http::{header::HeaderMap, Method};
use livedesk::app::{self, RunningApp};
use livedesk::config::Config;
use livedesk::domain::ManualClock;
use serde_json::{json, Value};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

pub const OWNER_EMAIL: &str = "owner@example.com";
pub const OWNER_PASSWORD: &str = "owner password 1";

/// A running desk for one test.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub app: Option<RunningApp>,
    pub dir: tempfile::TempDir,
}

/// A config for tests: small cache, one worker, the given data folder.
pub fn test_config(data_dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.storage.data_dir = data_dir.to_path_buf();
    config.storage.cache_mb = 8;
    config.server.workers = 1;
    config.log.level = "warn".into();
    config
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_at(ManualClock::starting_now(), adjust).await
    }

    /// A desk whose clock starts at `clock`.
    pub async fn start_at(clock: ManualClock, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = test_config(&dir.path().join("data"));
        adjust(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let clock = Arc::new(clock);
        let app = app::start(config, listener, clock.clone())
            .await
            .expect("start");
        let addr = app.addr;
        Self {
            addr,
            base: format!("http://{addr}"),
            clock,
            app: Some(app),
            dir,
        }
    }

    pub fn running(&self) -> &RunningApp {
        self.app.as_ref().expect("running")
    }

    /// The token of the printed setup link.
    pub fn setup_token(&self) -> String {
        let link = self.running().setup_link.clone().expect("setup link");
        link.split_once('#').expect("fragment").1.to_string()
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// Completes setup and returns the owner's signed-in client.
    pub async fn owner(&self) -> Client {
        let mut c = self.client();
        let r = c
            .post_mut(
                "/api/setup",
                json!({"token": self.setup_token(), "email": OWNER_EMAIL,
                       "display_name": "Olivia Owner", "password": OWNER_PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 200, "setup: {}", r.json);
        c
    }

    /// Creates a group as `admin`; returns its id.
    pub async fn group(&self, admin: &Client, name: &str) -> String {
        let r = admin.post("/api/groups", json!({ "name": name })).await;
        assert_eq!(r.status, 201, "create group: {}", r.json);
        r.json["id"].as_str().expect("id").to_string()
    }

    /// Creates a staff member as `admin` and returns their signed-in client and id.
    pub async fn staff(
        &self,
        admin: &Client,
        email: &str,
        role: &str,
        groups: &[&str],
    ) -> (Client, String) {
        let r = admin
            .post(
                "/api/staff",
                json!({"email": email, "display_name": email.split('@').next(), "role": role,
                       "password": "staff password 1", "groups": groups}),
            )
            .await;
        assert_eq!(r.status, 201, "create staff: {}", r.json);
        let id = r.json["id"].as_str().expect("id").to_string();
        let mut c = self.client();
        let r = c.login(email, "staff password 1").await;
        assert_eq!(r.status, 200, "login: {}", r.json);
        (c, id)
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(app) = self.app.take() {
            app.stop().await.expect("clean stop");
        }
        self.dir
    }
}

/// The first frame of a visitor socket.
/// Starts the real desk again on a stopped desk's data folder; returns it
/// and its owner's client, signed in.
pub async fn restart_on(data: &std::path::Path) -> (RunningApp, Client) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let clock = Arc::new(ManualClock::starting_now());
    let again = app::start(test_config(data), listener, clock)
        .await
        .expect("start");
    let mut owner = Client::new(&format!("http://{}", again.addr));
    assert_eq!(owner.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
    (again, owner)
}

pub fn visitor_hello(token: &str, last_seq: u64) -> Value {
    json!({"type": "hello", "token": token, "last_seq": last_seq})
}

/// An answer: status, JSON body (Null when empty or not JSON), headers.
pub struct Resp {
    pub status: u16,
    pub json: Value,
    pub text: String,
    pub headers: HeaderMap,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// An HTTP client with one staff session, like one browser.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    http: awc::Client,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_string(),
            cookie: None,
            csrf: None,
            http: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
        }
    }

    /// Sends a request with the session cookie and CSRF token (if any) and
    /// the given extra headers; `body` is sent as-is.
    pub async fn raw(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path));
        if let Some(c) = &self.cookie {
            req = req.insert_header(("Cookie", c.clone()));
        }
        if method != Method::GET {
            if let Some(t) = &self.csrf {
                req = req.insert_header(("X-CSRF-Token", t.clone()));
            }
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some(b) => req.send_body(b).await,
            None => req.send().await,
        }
        .expect("request");
        let bytes = res.body().limit(4 << 20).await.expect("body");
        let headers = res.headers().clone();
        if let Some(set) = headers.get("set-cookie").and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or("").to_string();
            if pair.ends_with('=') || set.contains("Max-Age=0") {
                self.cookie = None;
            } else {
                self.cookie = Some(pair);
            }
        }
        let text = String::from_utf8_lossy(&bytes).to_string();
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if let Some(t) = json.get("csrf_token").and_then(Value::as_str) {
            self.csrf = Some(t.to_string());
        }
        Resp {
            status: res.status().as_u16(),
            json,
            text,
            headers,
        }
    }

    async fn with_json(&self, method: Method, path: &str, body: Value) -> Resp {
        let mut me = self.clone();
        me.raw(
            method,
            path,
            Some(body.to_string().into_bytes()),
            &[("Content-Type", "application/json")],
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.clone().raw(Method::GET, path, None, &[]).await
    }
    /// POST that leaves this client's session as it was.
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.with_json(Method::POST, path, body).await
    }
    /// POST that takes up any session the answer sets or clears (setup, sign-in, sign-out).
    pub async fn post_mut(&mut self, path: &str, body: Value) -> Resp {
        self.raw(
            Method::POST,
            path,
            Some(body.to_string().into_bytes()),
            &[("Content-Type", "application/json")],
        )
        .await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.with_json(Method::PATCH, path, body).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.clone().raw(Method::DELETE, path, None, &[]).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.with_json(Method::PUT, path, body).await
    }

    /// Any method by name, with a JSON body (ignored for GET); for tables of cases.
    pub async fn call(&self, method: &str, path: &str, body: Value) -> Resp {
        match method {
            "GET" => self.get(path).await,
            "DELETE" => self.delete(path).await,
            "PATCH" => self.patch(path, body).await,
            "POST" => self.post(path, body).await,
            "PUT" => self.put(path, body).await,
            other => panic!("no such method in tests: {other}"),
        }
    }

    /// Asserts the status of each `(method, path, body, status)` case.
    pub async fn expect_statuses(&self, cases: &[(&str, String, Value, u16)]) {
        for (method, path, body, status) in cases {
            let r = self.call(method, path, body.clone()).await;
            assert_eq!(r.status, *status, "{method} {path} {body}: {}", r.text);
        }
    }

    pub async fn login(&mut self, email: &str, password: &str) -> Resp {
        self.post_mut(
            "/api/auth/login",
            json!({"email": email, "password": password}),
        )
        .await
    }
}

/// A websocket client that reads JSON frames.
pub struct Ws {
    socket: actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>,
    /// Frames read but not yet asked for.
    pub seen: Vec<Value>,
}

impl Ws {
    /// A staff connection for `client`'s session (reads the hello).
    pub async fn staff(app: &TestApp, client: &Client) -> (Ws, Value) {
        Ws::staff_at(&app.base, client).await
    }

    /// A staff connection to the desk at `base` (reads the hello).
    pub async fn staff_at(base: &str, client: &Client) -> (Ws, Value) {
        let (_, socket) = awc::Client::new()
            .ws(format!("{}/api/ws/staff", base.replace("http", "ws")))
            .max_frame_size(16 << 20)
            .origin(base)
            .header("Cookie", client.cookie.clone().expect("signed in"))
            .connect()
            .await
            .expect("staff websocket");
        let mut ws = Ws {
            socket,
            seen: Vec::new(),
        };
        let hello = ws.expect("hello").await;
        (ws, hello)
    }

    /// A visitor connection with a chat token, resuming after `last_seq`.
    pub async fn visitor(app: &TestApp, token: &str, last_seq: u64) -> Ws {
        let mut ws = Ws::visitor_unsaid(&app.base).await;
        ws.send(visitor_hello(token, last_seq)).await;
        ws.expect("visitor_hello").await;
        ws
    }

    /// A visitor socket that has not said its hello yet.
    pub async fn visitor_unsaid(base: &str) -> Ws {
        let (_, socket) = awc::Client::new()
            .ws(format!("{}/api/ws/visitor", base.replace("http", "ws")))
            .connect()
            .await
            .expect("visitor websocket");
        Ws::from_socket(socket)
    }

    /// Says hello with `token`, expects it refused and the socket closed;
    /// returns the error code.
    pub async fn visitor_refused(base: &str, token: &str) -> String {
        let mut ws = Ws::visitor_unsaid(base).await;
        ws.send(visitor_hello(token, 0)).await;
        let e = ws.expect("error").await;
        assert!(
            ws.closes_within(Duration::from_secs(5)).await,
            "a refused hello closes the socket"
        );
        e["code"].as_str().unwrap_or_default().to_string()
    }

    /// Wraps an already connected socket.
    pub fn from_socket(socket: actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>) -> Ws {
        Ws {
            socket,
            seen: Vec::new(),
        }
    }

    pub async fn send(&mut self, frame: Value) {
        use futures_util::SinkExt;
        self.socket
            .send(awc::ws::Message::Text(frame.to_string().into()))
            .await
            .expect("send frame");
    }

    /// Sends a frame; false once the socket is closed.
    pub async fn try_send(&mut self, frame: Value) -> bool {
        use futures_util::SinkExt;
        self.socket
            .send(awc::ws::Message::Text(frame.to_string().into()))
            .await
            .is_ok()
    }

    /// Reads until a frame satisfies `pred` (others are kept in `seen`);
    /// None when the socket closes first.
    pub async fn until_or_closed(&mut self, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        if let Some(i) = self.seen.iter().position(&pred) {
            return Some(self.seen.remove(i));
        }
        loop {
            match self.next().await {
                Some(f) if pred(&f) => return Some(f),
                Some(f) => self.seen.push(f),
                None => return None,
            }
        }
    }

    pub async fn send_text(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.socket
            .send(awc::ws::Message::Text(text.to_string().into()))
            .await
            .expect("send frame");
    }

    /// The next JSON frame, or None when closed; panics after 10 s.
    pub async fn next(&mut self) -> Option<Value> {
        use futures_util::StreamExt;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a frame within 10 s");
            match frame {
                Some(Ok(awc::ws::Frame::Text(t))) => {
                    return Some(serde_json::from_slice(&t).expect("json frame"))
                }
                Some(Ok(awc::ws::Frame::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Reads until a frame of `kind` (others are kept in `seen`).
    pub async fn expect(&mut self, kind: &str) -> Value {
        self.until(|f| f["type"] == kind).await
    }

    /// Reads until a frame satisfies `pred` (others are kept in `seen`).
    pub async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&pred) {
            return self.seen.remove(i);
        }
        loop {
            match self.next().await {
                Some(f) if pred(&f) => return f,
                Some(f) => self.seen.push(f),
                None => panic!("closed while waiting; saw {:?}", self.seen),
            }
        }
    }

    /// Messages (seq, body) received so far and until `upto` seq arrives.
    pub async fn messages_until(&mut self, upto: u64) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        loop {
            let f = self.expect("message").await;
            let seq = f["message"]["seq"].as_u64().expect("seq");
            out.push((seq, f["message"]["body"].as_str().unwrap_or("").to_string()));
            if seq >= upto {
                return out;
            }
        }
    }

    /// True when the server closes the socket within `wait`.
    pub async fn closes_within(&mut self, wait: Duration) -> bool {
        use futures_util::StreamExt;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return false,
                Ok(Some(Ok(awc::ws::Frame::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    return true
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// True when no frame satisfying `pred` arrives within `wait`.
    pub async fn quiet(&mut self, wait: Duration, pred: impl Fn(&Value) -> bool) -> bool {
        use futures_util::StreamExt;
        if self.seen.iter().any(&pred) {
            return false;
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return true,
                Ok(Some(Ok(awc::ws::Frame::Text(t)))) => {
                    let v: Value = serde_json::from_slice(&t).expect("json");
                    if pred(&v) {
                        return false;
                    }
                    self.seen.push(v);
                }
                Ok(Some(Ok(_))) => {}
                Ok(_) => return true,
            }
        }
    }
}

/// A desk with an owner, a group and signed-in agents.
pub struct Desk {
    pub app: TestApp,
    pub owner: Client,
    pub group: String,
}

impl Desk {
    /// A desk whose visitor rate limits are out of the way (every test
    /// client comes from 127.0.0.1).
    pub async fn new(routing: &str) -> Desk {
        Self::new_with(routing, |c| {
            c.chat.visitor_starts_per_minute = 100_000;
            c.chat.visitor_messages_per_minute = 100_000;
        })
        .await
    }

    /// A desk with an adjusted configuration.
    pub async fn new_with(routing: &str, adjust: impl FnOnce(&mut Config)) -> Desk {
        Self::new_at(routing, ManualClock::starting_now(), adjust).await
    }

    /// A desk whose clock starts at `clock`, visitor limits out of the way.
    pub async fn at(routing: &str, clock: ManualClock) -> Desk {
        Self::new_at(routing, clock, |c| {
            c.chat.visitor_starts_per_minute = 100_000;
            c.chat.visitor_messages_per_minute = 100_000;
        })
        .await
    }

    async fn new_at(routing: &str, clock: ManualClock, adjust: impl FnOnce(&mut Config)) -> Desk {
        let app = TestApp::start_at(clock, adjust).await;
        let owner = app.owner().await;
        let r = owner
            .post(
                "/api/groups",
                json!({"name": "Support", "routing": routing, "rona_timeout_secs": 30}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        let group = r.json["id"].as_str().expect("id").to_string();
        Desk { app, owner, group }
    }

    /// An agent of the group with `max` chats, connected and available.
    pub async fn agent(&self, name: &str, max: u32) -> (Ws, String) {
        let group = self.group.clone();
        self.agent_in(name, max, &[group.as_str()]).await
    }

    /// An agent of `groups` with `max` chats, connected and available.
    pub async fn agent_in(&self, name: &str, max: u32, groups: &[&str]) -> (Ws, String) {
        let r = self
            .owner
            .post(
                "/api/staff",
                json!({"email": format!("{name}@example.com"), "display_name": name, "role": "agent",
                       "password": "staff password 1", "groups": groups, "max_concurrent_chats": max}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        let id = r.json["id"].as_str().expect("id").to_string();
        let mut c = self.app.client();
        assert_eq!(
            c.login(&format!("{name}@example.com"), "staff password 1")
                .await
                .status,
            200
        );
        let (mut ws, _) = Ws::staff(&self.app, &c).await;
        ws.send(json!({"type": "set_status", "status": "available"}))
            .await;
        ws.expect("done").await;
        (ws, id)
    }

    /// Agent Ann (limit 3) accepted visitor Vera's chat that asks
    /// `question`. Returns (Ann's socket, chat id, Vera's token).
    pub async fn answered_chat(&self, question: &str) -> (Ws, String, String) {
        let (mut ann, _) = self.agent("Ann", 3).await;
        let (chat, token) = self.start_chat("Vera", question).await;
        ann.expect("offer").await;
        ann.send(json!({"type": "accept", "chat_id": chat})).await;
        ann.expect("chat_joined").await;
        (ann, chat, token)
    }

    /// Agent Ann (limit 3) owns visitor Vera's chat; both have seen its
    /// first two messages. Returns (Ann's socket, chat id, Vera's socket).
    pub async fn owned_chat(&self) -> (Ws, String, Ws) {
        let (mut ann, chat, token) = self.answered_chat("Hi").await;
        ann.messages_until(2).await;
        let mut vera = Ws::visitor(&self.app, &token, 0).await;
        vera.messages_until(2).await;
        (ann, chat, vera)
    }

    /// A visitor starts a chat; returns (chat id, token).
    pub async fn start_chat(&self, name: &str, question: &str) -> (String, String) {
        let r = self
            .app
            .client()
            .post(
                "/api/visitor/chats",
                json!({"name": name, "group": self.group, "question": question}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        (
            r.json["chat_id"].as_str().expect("chat id").to_string(),
            r.json["token"].as_str().expect("token").to_string(),
        )
    }
}
