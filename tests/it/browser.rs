//! The staff console in headless Chromium, driven over WebDriver
//! (chromedriver + fantoccini). Debian: `apt-get install chromium
//! chromium-driver`. Without them the test says so loudly and is skipped,
//! except under CI (`CI=true`), where a missing browser fails the run.

use crate::harness::*;
use fantoccini::{Client as Browser, ClientBuilder, Locator};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// Browser tests take turns: several Chromiums at once on a 2-core CI
/// machine make timing-sensitive steps flaky; one at a time they are not.
pub(crate) static ONE_BROWSER_TEST: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// chromedriver and chromium, or None after saying why (panics under CI).
pub(crate) fn browser_paths() -> Option<(PathBuf, PathBuf)> {
    let driver = find(
        "LIVEDESK_CHROMEDRIVER",
        &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
    );
    let chromium = find(
        "LIVEDESK_CHROMIUM",
        &[
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ],
    );
    match (driver, chromium) {
        (Some(d), Some(c)) => Some((d, c)),
        _ => {
            let msg = "BROWSER TESTS SKIPPED: chromium and chromedriver not found. \
                       Install them with `sudo apt-get install chromium chromium-driver` \
                       (or set LIVEDESK_CHROMIUM and LIVEDESK_CHROMEDRIVER).";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg} Under CI a missing browser is a failure.");
            }
            eprintln!("\n=== {msg} ===\n");
            None
        }
    }
}

/// A chromedriver process, killed when dropped.
pub(crate) struct Driver {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_driver(path: &Path) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not start listening in 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

pub(crate) async fn open_browser(driver: &Driver, chromium: &Path, profile: &Path) -> Browser {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,900",
                     format!("--user-data-dir={}", profile.display())]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("WebDriver session")
}

/// A driver and a headless browser at 1280×800 with its own profile
/// (keep all three alive for the test).
pub(crate) async fn headless(
    driver: &Path,
    chromium: &Path,
) -> (Driver, tempfile::TempDir, Browser) {
    let d = start_driver(driver);
    let profile = tempfile::tempdir().expect("profile");
    let b = open_browser(&d, chromium, profile.path()).await;
    b.set_window_size(1280, 800).await.expect("size");
    (d, profile, b)
}

pub(crate) async fn el(b: &Browser, css: &str) -> fantoccini::elements::Element {
    b.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"))
}

pub(crate) async fn type_into(b: &Browser, css: &str, text: &str) {
    let e = el(b, css).await;
    e.clear().await.expect("clear");
    e.send_keys(text).await.expect("type");
}

/// Clicks the element; a live screen may redraw between finding it and
/// clicking it, so a stale element is found again (a person's click lands
/// on what is there).
pub(crate) async fn click(b: &Browser, css: &str) {
    for attempt in 0..5 {
        match el(b, css).await.click().await {
            Ok(()) => return,
            Err(e) if attempt < 4 && e.to_string().contains("stale element") => continue,
            Err(e) => panic!("click {css}: {e}"),
        }
    }
}

/// Waits until the element's text contains `want`.
pub(crate) async fn wait_text(b: &Browser, css: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(e) = b.find(Locator::Css(css)).await {
            if e.text().await.is_ok_and(|t| t.contains(want)) {
                return;
            }
        }
        if Instant::now() > deadline {
            let shown = match b.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => "(no such element)".to_string(),
            };
            let body = b.source().await.unwrap_or_default();
            let start = body.find("<main").unwrap_or(0);
            panic!(
                "{css} never showed {want:?}; it shows {shown:?}; page: {}",
                &body[start..body.len().min(start + 2500)]
            );
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn screenshot(b: &Browser, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = b.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_livedesk");

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// axe-core's script, or None after saying why (panics under CI).
pub(crate) fn axe_source() -> Option<String> {
    let path = std::env::var("LIVEDESK_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/node/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(_) => {
            let msg = format!(
                "AXE CHECKS SKIPPED: axe-core not found at {}. Install it with \
                 `npm install --prefix target/node axe-core@4` (or set LIVEDESK_AXE).",
                path.display()
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg} Under CI a missing axe-core is a failure.");
            }
            eprintln!("\n=== {msg} ===\n");
            None
        }
    }
}

/// Runs axe-core in the current frame: no serious or critical violation.
pub(crate) async fn axe(b: &Browser, axe: &Option<String>, state: &str) {
    let Some(src) = axe else { return };
    b.execute(src, vec![]).await.expect("inject axe");
    let found = b
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations
               .filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))),
               e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("run axe");
    assert_eq!(found, serde_json::json!([]), "axe-core in state {state:?}");
}

/// The desk as a process: killed with SIGKILL, restarted on the same port.
pub(crate) struct DeskProcess {
    child: Option<Child>,
    config: PathBuf,
    base: String,
    /// Environment variables for the next spawn.
    pub(crate) env: Vec<(String, String)>,
}

impl DeskProcess {
    pub(crate) fn start(config: &Path, base: &str) -> Self {
        let mut d = DeskProcess {
            child: None,
            config: config.to_path_buf(),
            base: base.to_string(),
            env: Vec::new(),
        };
        d.spawn();
        d
    }

    pub(crate) fn spawn(&mut self) {
        let child = Command::new(BIN)
            .args(["serve", "--config", self.config.to_str().expect("utf8")])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn livedesk serve");
        self.child = Some(child);
        let addr = self.base.trim_start_matches("http://").to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = std::net::TcpStream::connect(&addr).is_ok_and(|mut s| {
                use std::io::Read;
                let _ = s.write_all(b"GET /readyz HTTP/1.0\r\n\r\n");
                let mut buf = [0u8; 12];
                s.read_exact(&mut buf).is_ok() && buf.ends_with(b"200")
            });
            if up {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the desk did not become ready in 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for DeskProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The real binary on `port` with its data in `dir`, `extra` appended to
/// its config, and an owner made with `livedesk owner create`.
pub(crate) fn desk_with_owner(dir: &Path, port: u16, extra: &str) -> DeskProcess {
    let config = dir.join("livedesk.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nworkers = 1\n\n[storage]\ndata_dir = \"{}\"\ncache_mb = 8\n\n\
             [log]\nlevel = \"warn\"\n\n{extra}",
            dir.join("data").display()
        ),
    )
    .expect("config");
    let mut create = Command::new(BIN)
        .args([
            "owner",
            "create",
            "--config",
            config.to_str().expect("utf8"),
        ])
        .args(["--email", OWNER_EMAIL, "--name", "Olivia Owner"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("owner create");
    create
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{OWNER_PASSWORD}\n").as_bytes())
        .expect("password");
    assert!(create.wait().expect("wait").success(), "owner create");
    DeskProcess::start(&config, &format!("http://127.0.0.1:{port}"))
}

pub(crate) async fn sign_in(b: &Browser, base: &str, email: &str, password: &str) {
    b.goto(&format!("{base}/")).await.expect("open console");
    type_into(b, "#signin-email", email).await;
    type_into(b, "#signin-password", password).await;
    click(b, "#signin-submit").await;
}

#[actix_web::test]
async fn owner_sets_up_creates_a_group_and_an_agent_who_then_signs_in() {
    let Some((driver_path, chromium)) = browser_paths() else {
        return;
    };
    let _turn = ONE_BROWSER_TEST.lock().await;
    let app = TestApp::start().await;
    let driver = start_driver(&driver_path);
    let profile = tempfile::tempdir().expect("profile dir");
    let b = open_browser(&driver, &chromium, profile.path()).await;
    let base = app.base.clone();

    // First run: the printed setup link creates the owner.
    let link = app.running().setup_link.clone().expect("setup link");
    b.goto(&link).await.expect("open setup link");
    type_into(&b, "#setup-email", OWNER_EMAIL).await;
    type_into(&b, "#setup-name", "Olivia Owner").await;
    type_into(&b, "#setup-password", OWNER_PASSWORD).await;
    type_into(&b, "#setup-password2", OWNER_PASSWORD).await;
    screenshot(&b, "01-setup").await;
    click(&b, "#setup-submit").await;
    wait_text(&b, "#whoami", "Olivia Owner · owner").await;
    // The used link says so before anything is typed, and no form shows.
    b.goto(&link).await.expect("open the used link");
    wait_text(&b, "#setup-dead", "already used or has expired").await;
    assert!(
        b.find(Locator::Css("#setup-form")).await.is_err(),
        "no form for a dead link"
    );
    screenshot(&b, "01-setup-used").await;
    b.goto(&format!("{base}/")).await.expect("console");
    click(&b, "#signout").await;
    el(&b, "#signin-form").await;

    // Sign in as the owner through the real page; a wrong password first.
    sign_in(&b, &base, OWNER_EMAIL, "wrong password").await;
    wait_text(&b, "#notice", "the email or password is wrong").await;
    sign_in(&b, &base, OWNER_EMAIL, OWNER_PASSWORD).await;
    wait_text(&b, "#whoami", "Olivia Owner").await;

    // A group through the groups screen.
    click(&b, "a[href='#/groups']").await;
    type_into(&b, "#group-name", "Support").await;
    type_into(&b, "#group-rona", "45").await;
    click(&b, "#group-submit").await;
    wait_text(&b, "#groups-table", "Support").await;
    wait_text(&b, "#groups-table", "45 s").await;
    // The snippet that puts this group's chat on a website.
    wait_text(
        &b,
        ".snippet[data-group='Support'] .snippet-script",
        "/widget.js\" data-group=\"",
    )
    .await;
    wait_text(
        &b,
        ".snippet[data-group='Support'] .snippet-link",
        "/chat?group=",
    )
    .await;
    screenshot(&b, "02-groups").await;

    // An agent in that group through the staff screen.
    click(&b, "a[href='#/staff']").await;
    type_into(&b, "#staff-email", "ann@example.com").await;
    type_into(&b, "#staff-name", "Ann Agent").await;
    el(&b, "#staff-role")
        .await
        .select_by_value("agent")
        .await
        .expect("role");
    type_into(&b, "#staff-password", "ann password 1").await;
    click(&b, "#staff-groups input[data-group-name='Support']").await;
    click(&b, "#staff-submit").await;
    wait_text(&b, "#staff-table", "ann@example.com").await;
    wait_text(
        &b,
        "#staff-table tr[data-email='ann@example.com']",
        "Support",
    )
    .await;
    screenshot(&b, "03-staff").await;

    // Sign out; the agent signs in and sees themselves only.
    click(&b, "#signout").await;
    el(&b, "#signin-form").await;
    sign_in(&b, &base, "ann@example.com", "ann password 1").await;
    wait_text(&b, "#whoami", "Ann Agent · agent").await;
    // The first screen is the dashboard, which tells an offline agent what to do.
    wait_text(&b, "#dashboard h1", "Hello, Ann Agent").await;
    wait_text(&b, "#go-available", "no chats are offered").await;
    click(&b, "a[href='#/staff']").await;
    wait_text(&b, "#staff-screen h1", "You").await;
    let rows = b
        .find_all(Locator::Css("#staff-table tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "an agent sees only themselves");
    screenshot(&b, "04-agent").await;

    // Server-side truth matches what the screens did.
    let mut api = app.client();
    api.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    let staff = api.get("/api/staff").await;
    let ann = staff
        .json
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["email"] == "ann@example.com")
        .cloned()
        .expect("ann");
    assert_eq!(ann["role"], "agent");
    assert_eq!(ann["groups"].as_array().map(Vec::len), Some(1));

    b.close().await.expect("close browser");
}

/// Stored XSS: names typed by staff and admins render as text in every
/// console screen; nothing in them runs or becomes an element. (Extend the
/// list of screens as screens are added.)
#[actix_web::test]
async fn hostile_names_render_as_text_in_every_screen() {
    let Some((driver_path, chromium)) = browser_paths() else {
        return;
    };
    let _turn = ONE_BROWSER_TEST.lock().await;
    let app = TestApp::start().await;
    let owner = app.owner().await;
    let payloads = [
        "<img src=x onerror=\"window.__xss=1\">",
        "<script>window.__xss=2</script>",
    ];
    let group = owner
        .post("/api/groups", serde_json::json!({"name": payloads[0]}))
        .await;
    assert_eq!(group.status, 201, "{}", group.text);
    let staff = owner
        .post(
            "/api/staff",
            serde_json::json!({"email": "x@example.com", "display_name": payloads[1], "role": "agent",
                   "password": "staff password 1", "groups": [group.json["id"]]}),
        )
        .await;
    assert_eq!(staff.status, 201, "{}", staff.text);
    let driver = start_driver(&driver_path);
    let profile = tempfile::tempdir().expect("profile dir");
    let b = open_browser(&driver, &chromium, profile.path()).await;
    sign_in(&b, &app.base, OWNER_EMAIL, OWNER_PASSWORD).await;
    wait_text(&b, "#whoami", "owner").await;
    for (screen, table) in [
        ("#/staff", "#staff-table"),
        ("#/groups", "#groups-table"),
        ("#/reports", "#report-body"),
    ] {
        click(&b, &format!("a[href='{screen}']")).await;
        for p in payloads {
            if screen == "#/groups" && p == payloads[1] {
                continue;
            }
            wait_text(&b, table, p).await;
        }
        let ran = b
            .execute(
                "return [window.__xss === undefined, document.querySelectorAll('img[src=x], main script').length]",
                vec![],
            )
            .await
            .expect("script");
        assert_eq!(
            ran,
            serde_json::json!([true, 0]),
            "{screen}: a payload ran or became an element"
        );
        screenshot(&b, &format!("xss-{}", &screen[2..])).await;
    }
    b.close().await.expect("close browser");
}
