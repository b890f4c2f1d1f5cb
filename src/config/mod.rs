//! The resolved configuration and how it is built: compiled defaults <
//! TOML file < `LIVEDESK__SECTION__KEY` environment < CLI flags. Every
//! source goes through the one key table in [`file`], so a problem anywhere is
//! reported with where it came from (file, line and column; variable; flag)
//! and what to write instead. Loading collects every problem, not the first.

pub mod file;
mod schedule_file;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default configuration file, compiled in; also what `serve` uses when
/// no `--config` is given. A test asserts it parses to [`Config::default`].
pub const EMBEDDED_DEFAULT: &str = include_str!("../../config/livedesk.toml");

/// Name shown for the embedded default file in problems.
pub const EMBEDDED_NAME: &str = "<built-in config/livedesk.toml>";

/// `[server]`: where and how the desk listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address and port to bind.
    pub listen: SocketAddr,
    /// Public address, or empty to derive it from `listen`.
    pub public_url: String,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// How long a graceful stop waits for open requests.
    pub shutdown_timeout: Duration,
}

/// `[storage]`: the data folder and the store's memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageConfig {
    /// Folder holding the sled store and the lock file.
    pub data_dir: PathBuf,
    /// sled page cache, MiB.
    pub cache_mb: u64,
    /// Free space kept on the data folder's disk, MiB: below it new chats,
    /// messages and sign-ins are refused (reads go on); 0 turns it off.
    pub min_free_mb: u64,
}

/// `[auth]`: sessions, setup links and sign-in limiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfig {
    /// A session unused this long ends.
    pub session_idle_timeout: Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_max_lifetime: Duration,
    /// How long the first-run setup link works.
    pub setup_link_lifetime: Duration,
    /// Failed sign-ins per account before delays start (per address: 4×).
    pub login_free_attempts: u32,
    /// First delay after the free attempts; doubles with each failure.
    pub login_base_delay: Duration,
    /// Longest delay.
    pub login_max_delay: Duration,
    /// Password hashes computed at once (each takes ~7 MiB and ~17 ms).
    pub max_concurrent_hashes: usize,
}

/// `[chat]`: limits and defaults of live chats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatConfig {
    /// Longest message, in Unicode characters.
    pub max_message_chars: usize,
    /// Max concurrent chats of new staff.
    pub default_max_concurrent_chats: u32,
    /// RONA timeout of new groups.
    pub default_rona_timeout: Duration,
    /// Mask card numbers, IBANs, SSNs, emails and phone numbers in what
    /// agents see: the config file's value, switched at run time by admins.
    pub mask_pii: MaskSwitch,
    /// Store messages masked too (the visitor's own replay then shows them masked).
    pub store_masked: bool,
    /// How long an agent who lost their connection keeps their chats.
    pub reconnect_grace: Duration,
    /// An active chat with no message from either side this long is closed.
    pub idle_close: Duration,
    /// Chats one client address may start a minute.
    pub visitor_starts_per_minute: u32,
    /// Messages a visitor may send a minute in one chat.
    pub visitor_messages_per_minute: u32,
}

impl ChatConfig {
    /// How staff see visitor data under this config, as switched now.
    pub fn staff_view(&self) -> crate::domain::masking::StaffView {
        crate::domain::masking::StaffView::new(self.mask_pii.get())
    }
}

/// Masking on or off: set from the config file, switched by an admin in
/// the console (the choice is kept in the data folder and wins from then
/// on). Clones share the switch, so the engine and the REST side always
/// agree.
#[derive(Clone, Debug)]
pub struct MaskSwitch {
    on: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// What the config file says.
    pub configured: bool,
}

impl MaskSwitch {
    /// A switch set to `on`, as the config file says.
    pub fn new(on: bool) -> Self {
        Self {
            on: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(on)),
            configured: on,
        }
    }
    /// Masking now.
    pub fn get(&self) -> bool {
        self.on.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// Switches masking for every holder of this switch.
    pub fn set(&self, on: bool) {
        self.on.store(on, std::sync::atomic::Ordering::Relaxed);
    }
}

impl PartialEq for MaskSwitch {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get() && self.configured == other.configured
    }
}

impl Eq for MaskSwitch {}

impl From<bool> for MaskSwitch {
    fn from(on: bool) -> Self {
        Self::new(on)
    }
}

/// `[widget]`: where the visitor widget may be embedded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidgetConfig {
    /// Origins (`https://shop.example.com`) whose pages may start and hold
    /// chats; the desk's own origin always may.
    pub allowed_origins: Vec<String>,
}

/// `[backup]`: scheduled backups of the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupConfig {
    /// When, as a cron line with seconds, in UTC; empty turns them off.
    pub schedule: String,
    /// Where; empty means `backups` in the data folder.
    pub folder: PathBuf,
    /// How many scheduled backups to keep; older ones are deleted.
    pub keep: u32,
}

impl Config {
    /// The folder scheduled backups go to.
    pub fn backup_folder(&self) -> PathBuf {
        if self.backup.folder.as_os_str().is_empty() {
            self.storage.data_dir.join("backups")
        } else {
            self.backup.folder.clone()
        }
    }
}

/// How the connection to the mail relay is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailTls {
    /// Plain connection upgraded with STARTTLS (required), port 587.
    StartTls,
    /// TLS from the first byte, port 465.
    Tls,
    /// No encryption: a relay on this machine or a trusted network, port 25.
    None,
}

/// `[mail]`: the SMTP relay requesters are mailed through; off while
/// `host` is empty.
#[derive(Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// The relay's host name; empty turns mail off.
    pub host: String,
    /// Its port; 0 picks the usual one for `tls`.
    pub port: u16,
    /// How the connection is protected.
    pub tls: MailTls,
    /// Sign-in name at the relay; empty: no sign-in.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The sender (`Help desk <help@example.com>`).
    pub from: String,
    /// Where requesters' replies go; empty: to `from`.
    pub reply_to: String,
}

impl MailConfig {
    /// Whether mail is set up.
    pub fn is_on(&self) -> bool {
        !self.host.is_empty()
    }

    /// The port used: `port`, or the usual one for the TLS mode.
    pub fn port(&self) -> u16 {
        match (self.port, self.tls) {
            (0, MailTls::StartTls) => 587,
            (0, MailTls::Tls) => 465,
            (0, MailTls::None) => 25,
            (p, _) => p,
        }
    }
}

/// The password never reaches a log line.
impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() {
                    ""
                } else {
                    "<set>"
                },
            )
            .field("from", &self.from)
            .field("reply_to", &self.reply_to)
            .finish()
    }
}

/// `[log]`: what the desk writes to standard error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: String,
}

/// `[[shifts]]` and `[[closed]]`: a schedule declared by the sysadmin,
/// shown in the console as from the config and read-only there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScheduleConfig {
    /// The shifts, in file order.
    pub shifts: Vec<ConfigShift>,
    /// The closed dates, in file order.
    pub closed: Vec<ConfigClosed>,
}

/// One `[[shifts]]` table: agents by email, groups by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigShift {
    /// Name, days, times and zone (checked); `agents` and `groups` empty.
    pub rule: crate::domain::shift::ShiftRule,
    /// Sign-in emails of the agents it covers.
    pub agents: Vec<String>,
    /// Names of the groups it covers.
    pub groups: Vec<String>,
    /// Where it is, for messages (`file:line`).
    pub at: String,
}

/// One `[[closed]]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigClosed {
    /// The group's name.
    pub group: String,
    /// The date and note (checked).
    pub date: crate::domain::hours::ClosedDate,
    /// Its zone; none: the group's own hours' zone (UTC without them).
    pub zone: Option<String>,
    /// Where it is, for messages (`file:line`).
    pub at: String,
}

/// The whole resolved configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[storage]`.
    pub storage: StorageConfig,
    /// `[auth]`.
    pub auth: AuthConfig,
    /// `[chat]`.
    pub chat: ChatConfig,
    /// `[widget]`.
    pub widget: WidgetConfig,
    /// `[backup]`.
    pub backup: BackupConfig,
    /// `[mail]`.
    pub mail: MailConfig,
    /// `[log]`.
    pub log: LogConfig,
    /// `[[shifts]]` and `[[closed]]`.
    pub schedule: ScheduleConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                public_url: String::new(),
                max_body_bytes: 64 * 1024,
                workers: 0,
                shutdown_timeout: Duration::from_secs(10),
            },
            storage: StorageConfig {
                data_dir: PathBuf::from("./livedesk-data"),
                cache_mb: 64,
                min_free_mb: 64,
            },
            auth: AuthConfig {
                session_idle_timeout: Duration::from_secs(2 * 3600),
                session_max_lifetime: Duration::from_secs(12 * 3600),
                setup_link_lifetime: Duration::from_secs(3600),
                login_free_attempts: 5,
                login_base_delay: Duration::from_secs(2),
                login_max_delay: Duration::from_secs(15 * 60),
                max_concurrent_hashes: 2,
            },
            chat: ChatConfig {
                max_message_chars: 1000,
                default_max_concurrent_chats: 3,
                default_rona_timeout: Duration::from_secs(30),
                mask_pii: MaskSwitch::new(true),
                store_masked: false,
                reconnect_grace: Duration::from_secs(60),
                idle_close: Duration::from_secs(30 * 60),
                visitor_starts_per_minute: 10,
                visitor_messages_per_minute: 60,
            },
            widget: WidgetConfig {
                allowed_origins: Vec::new(),
            },
            backup: BackupConfig {
                schedule: "0 30 3 * * *".into(),
                folder: PathBuf::new(),
                keep: 7,
            },
            mail: MailConfig {
                host: String::new(),
                port: 0,
                tls: MailTls::StartTls,
                username: String::new(),
                password: String::new(),
                from: String::new(),
                reply_to: String::new(),
            },
            log: LogConfig {
                level: "info".into(),
            },
            schedule: ScheduleConfig::default(),
        }
    }
}

impl Config {
    /// The address people use to reach the desk: `public_url`, or
    /// `http://<listen>` with a wildcard address shown as 127.0.0.1.
    pub fn public_url(&self) -> String {
        if !self.server.public_url.is_empty() {
            return self.server.public_url.trim_end_matches('/').to_string();
        }
        let mut addr = self.server.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip([127, 0, 0, 1].into());
        }
        format!("http://{addr}")
    }

    /// Cookies are marked Secure when the public address is https.
    pub fn cookies_secure(&self) -> bool {
        self.public_url().starts_with("https://")
    }
}

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file, at a line and column (1-based).
    File {
        /// Path as given.
        path: String,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
    },
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(&'static str),
    /// A rule between several keys.
    Combination,
}

/// One problem found while loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where it is.
    pub origin: Origin,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { path, line, column } => write!(f, "{path}:{line}:{column}: ")?,
            Origin::Env(var) => write!(f, "environment variable {var}: ")?,
            Origin::Flag(flag) => write!(f, "command-line flag {flag}: ")?,
            Origin::Combination => {}
        }
        f.write_str(&self.message)
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {error}. Pass an existing file with --config, or leave --config out to use the built-in defaults")]
    Unreadable {
        /// The path given.
        path: String,
        /// The OS error.
        error: std::io::Error,
    },
    /// One or more values are wrong.
    #[error("{}", list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    let mut out = format!("the configuration has {} problem(s):", problems.len());
    for p in problems {
        out.push_str("\n  ");
        out.push_str(&p.to_string());
    }
    out
}

/// Everything a configuration is built from.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// `--config PATH`; `None` uses [`EMBEDDED_DEFAULT`].
    pub file: Option<PathBuf>,
    /// Environment variables (only `LIVEDESK__*` are read).
    pub env: Vec<(String, String)>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--data-dir`.
    pub data_dir: Option<String>,
}

impl Sources {
    /// The given file with this process's environment.
    pub fn from_process(file: Option<&Path>) -> Self {
        Self {
            file: file.map(Path::to_path_buf),
            env: std::env::vars().collect(),
            listen: None,
            data_dir: None,
        }
    }
}

/// Builds the configuration from its sources, reporting every problem.
pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
    let (name, text) = match &sources.file {
        None => (EMBEDDED_NAME.to_string(), EMBEDDED_DEFAULT.to_string()),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|error| ConfigError::Unreadable {
                path: p.display().to_string(),
                error,
            })?;
            (p.display().to_string(), text)
        }
    };
    let mut config = Config::default();
    let mut problems = file::apply_document(&mut config, &name, &text);
    problems.extend(file::apply_env(&mut config, &sources.env));
    if let Some(listen) = &sources.listen {
        problems.extend(file::apply_flag(
            &mut config,
            "--listen",
            "server",
            "listen",
            listen,
        ));
    }
    if let Some(dir) = &sources.data_dir {
        problems.extend(file::apply_flag(
            &mut config,
            "--data-dir",
            "storage",
            "data_dir",
            dir,
        ));
    }
    problems.extend(cross_checks(&config));
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::Invalid(problems))
    }
}

fn cross_checks(c: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut check = |ok: bool, message: &str| {
        if !ok {
            out.push(Problem {
                origin: Origin::Combination,
                message: message.to_string(),
            });
        }
    };
    check(
        c.auth.session_idle_timeout <= c.auth.session_max_lifetime,
        "auth.session_idle_timeout must not be longer than auth.session_max_lifetime",
    );
    check(
        c.auth.login_base_delay <= c.auth.login_max_delay,
        "auth.login_base_delay must not be longer than auth.login_max_delay",
    );
    check(
        !c.mail.is_on() || !c.mail.from.is_empty(),
        "mail.from must be set when mail.host is: the address requesters see mail from, like \"Help desk <help@example.com>\"",
    );
    check(
        c.mail.username.is_empty() == c.mail.password.is_empty(),
        "mail.username and mail.password go together: set both to sign in at the relay, or neither",
    );
    out
}

#[cfg(test)]
mod tests;
