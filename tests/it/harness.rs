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
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = test_config(&dir.path().join("data"));
        adjust(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let clock = Arc::new(ManualClock::starting_now());
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

    /// Any method by name, with a JSON body (ignored for GET); for tables of cases.
    pub async fn call(&self, method: &str, path: &str, body: Value) -> Resp {
        match method {
            "GET" => self.get(path).await,
            "DELETE" => self.delete(path).await,
            "PATCH" => self.patch(path, body).await,
            "POST" => self.post(path, body).await,
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
