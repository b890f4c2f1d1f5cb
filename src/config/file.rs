//! The configuration schema: the one table of known keys, each with its
//! parser, shared by the TOML file, the environment and the flags. A value
//! is checked where it is read, so a bad one is reported at its line.

use super::schedule_file::{closed_table, shift_table};
use super::{Config, Origin, Problem};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use toml::{Spanned, Value};

/// Every section and its keys, in the order of `config/livedesk.toml`.
pub const SCHEMA: &[(&str, &[&str])] = &[
    (
        "server",
        &[
            "listen",
            "public_url",
            "max_body_bytes",
            "workers",
            "shutdown_timeout",
        ],
    ),
    ("storage", &["data_dir", "cache_mb", "min_free_mb"]),
    (
        "auth",
        &[
            "session_idle_timeout",
            "session_max_lifetime",
            "setup_link_lifetime",
            "login_free_attempts",
            "login_base_delay",
            "login_max_delay",
            "max_concurrent_hashes",
        ],
    ),
    (
        "chat",
        &[
            "max_message_chars",
            "default_max_concurrent_chats",
            "default_rona_timeout",
            "mask_pii",
            "store_masked",
            "reconnect_grace",
            "idle_close",
            "visitor_starts_per_minute",
            "visitor_messages_per_minute",
        ],
    ),
    ("widget", &["allowed_origins"]),
    ("backup", &["schedule", "folder", "keep"]),
    (
        "mail",
        &[
            "host", "port", "tls", "username", "password", "from", "reply_to",
        ],
    ),
    ("log", &["level"]),
];

/// Sets one key from one value, or says what to write instead.
fn apply(c: &mut Config, section: &str, key: &str, v: Value) -> Result<(), String> {
    match (section, key) {
        ("server", "listen") => c.server.listen = socket_addr(v)?,
        ("server", "public_url") => c.server.public_url = public_url(v)?,
        ("server", "max_body_bytes") => c.server.max_body_bytes = int(v, 1024, 16 << 20)? as usize,
        ("server", "workers") => c.server.workers = int(v, 0, 256)? as usize,
        ("server", "shutdown_timeout") => c.server.shutdown_timeout = duration(v)?,
        ("storage", "data_dir") => c.storage.data_dir = PathBuf::from(non_empty(v)?),
        ("storage", "cache_mb") => c.storage.cache_mb = int(v, 4, 64 * 1024)? as u64,
        ("storage", "min_free_mb") => c.storage.min_free_mb = int(v, 0, 1 << 20)? as u64,
        ("auth", "session_idle_timeout") => c.auth.session_idle_timeout = duration(v)?,
        ("auth", "session_max_lifetime") => c.auth.session_max_lifetime = duration(v)?,
        ("auth", "setup_link_lifetime") => c.auth.setup_link_lifetime = duration(v)?,
        ("auth", "login_free_attempts") => c.auth.login_free_attempts = int(v, 1, 100)? as u32,
        ("auth", "login_base_delay") => c.auth.login_base_delay = duration(v)?,
        ("auth", "login_max_delay") => c.auth.login_max_delay = duration(v)?,
        ("auth", "max_concurrent_hashes") => c.auth.max_concurrent_hashes = int(v, 1, 64)? as usize,
        ("chat", "max_message_chars") => c.chat.max_message_chars = int(v, 1, 100_000)? as usize,
        ("chat", "default_max_concurrent_chats") => {
            c.chat.default_max_concurrent_chats = int(v, 1, 50)? as u32
        }
        ("chat", "default_rona_timeout") => c.chat.default_rona_timeout = rona(v)?,
        ("chat", "mask_pii") => c.chat.mask_pii = super::MaskSwitch::new(boolean(v)?),
        ("chat", "store_masked") => c.chat.store_masked = boolean(v)?,
        ("chat", "reconnect_grace") => c.chat.reconnect_grace = duration(v)?,
        ("chat", "idle_close") => c.chat.idle_close = duration(v)?,
        ("chat", "visitor_starts_per_minute") => {
            c.chat.visitor_starts_per_minute = int(v, 1, 100_000)? as u32
        }
        ("chat", "visitor_messages_per_minute") => {
            c.chat.visitor_messages_per_minute = int(v, 1, 100_000)? as u32
        }
        ("widget", "allowed_origins") => c.widget.allowed_origins = origins(v)?,
        ("backup", "schedule") => c.backup.schedule = cron(v)?,
        ("backup", "folder") => c.backup.folder = PathBuf::from(string(v)?),
        ("backup", "keep") => c.backup.keep = int(v, 1, 1000)? as u32,
        ("mail", "host") => c.mail.host = host_name(v)?,
        ("mail", "port") => c.mail.port = int(v, 0, 65535)? as u16,
        ("mail", "tls") => c.mail.tls = mail_tls(v)?,
        ("mail", "username") => c.mail.username = string(v)?,
        ("mail", "password") => c.mail.password = string(v)?,
        ("mail", "from") => c.mail.from = mailbox(v)?,
        ("mail", "reply_to") => c.mail.reply_to = mailbox(v)?,
        ("log", "level") => c.log.level = log_level(v)?,
        _ => return Err(unknown(section, key)),
    }
    Ok(())
}

fn unknown(section: &str, key: &str) -> String {
    match SCHEMA.iter().find(|(s, _)| *s == section) {
        None => format!(
            "unknown section [{section}]; the sections are {}",
            SCHEMA
                .iter()
                .map(|(s, _)| format!("[{s}]"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some((_, keys)) => format!(
            "unknown key `{key}` in [{section}]; the keys of [{section}] are {}",
            keys.join(", ")
        ),
    }
}

pub(super) fn found(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

pub(super) fn string(v: Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(format!("expected a quoted string, found {}", found(&other))),
    }
}

fn non_empty(v: Value) -> Result<String, String> {
    let s = string(v)?;
    if s.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(s)
    }
}

fn boolean(v: Value) -> Result<bool, String> {
    match v {
        Value::Boolean(b) => Ok(b),
        other => Err(format!(
            "expected true or false (no quotes), found {}",
            found(&other)
        )),
    }
}

fn int(v: Value, min: i64, max: i64) -> Result<i64, String> {
    match v {
        Value::Integer(i) if (min..=max).contains(&i) => Ok(i),
        Value::Integer(i) => Err(format!("must be between {min} and {max}, found {i}")),
        other => Err(format!(
            "expected a whole number between {min} and {max} (no quotes), found {}",
            found(&other)
        )),
    }
}

/// A relay's host name or address, or "" (mail off).
fn host_name(v: Value) -> Result<String, String> {
    let s = string(v)?;
    let ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'));
    if ok {
        Ok(s)
    } else {
        Err(format!(
            "expected a host name like \"smtp.example.com\" or an address like \"10.0.0.5\" (no scheme, no port), found \"{s}\""
        ))
    }
}

fn mail_tls(v: Value) -> Result<super::MailTls, String> {
    let s = string(v)?;
    match s.as_str() {
        "starttls" => Ok(super::MailTls::StartTls),
        "tls" => Ok(super::MailTls::Tls),
        "none" => Ok(super::MailTls::None),
        _ => Err(format!(
            "expected \"starttls\" (port 587), \"tls\" (port 465) or \"none\" (a relay on this machine or network, port 25), found \"{s}\""
        )),
    }
}

/// An address with an optional name (`Help desk <help@example.com>`), or "".
fn mailbox(v: Value) -> Result<String, String> {
    let s = string(v)?;
    if s.is_empty() || s.parse::<lettre::message::Mailbox>().is_ok() {
        Ok(s)
    } else {
        Err(format!(
            "expected an address like \"help@example.com\" or \"Help desk <help@example.com>\", found \"{s}\""
        ))
    }
}

fn socket_addr(v: Value) -> Result<SocketAddr, String> {
    let s = string(v)?;
    s.parse().map_err(|_| {
        format!("expected an address and port like \"127.0.0.1:8080\" or \"0.0.0.0:8080\", found \"{s}\"")
    })
}

fn public_url(v: Value) -> Result<String, String> {
    let s = string(v)?;
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        _ if s.is_empty() => Ok(s),
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(s),
        _ => Err(format!(
            "expected an address like \"https://chat.example.com\" (or \"\" to derive it from listen), found \"{s}\""
        )),
    }
}

/// A list of web origins: `scheme://host[:port]`, http or https, no path.
/// A comma-separated string is taken too (for the environment).
fn origins(v: Value) -> Result<Vec<String>, String> {
    let items: Vec<Value> = match v {
        Value::Array(a) => a,
        Value::String(s) if s.trim().is_empty() => Vec::new(),
        Value::String(s) => s
            .split(',')
            .map(|p| Value::String(p.trim().into()))
            .collect(),
        other => {
            return Err(format!(
                "expected a list like [\"https://shop.example.com\"], found {}",
                found(&other)
            ))
        }
    };
    items.into_iter().map(origin).collect()
}

fn origin(v: Value) -> Result<String, String> {
    let s = string(v)?;
    crate::domain::validate::origin("allowed_origins", &s).map_err(|e| e.message)
}

/// A cron line with seconds (as tokio-cron-scheduler reads it) that fires
/// at least once, or empty.
fn cron(v: Value) -> Result<String, String> {
    let s = string(v)?;
    if s.trim().is_empty() {
        return Ok(String::new());
    }
    let parsed = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(&s)
        .map_err(|e| {
            format!("expected a cron line with seconds like \"0 30 3 * * *\" (03:30 UTC daily), or \"\" for none: {e}")
        })?;
    match parsed.find_next_occurrence(&chrono::Utc::now(), false) {
        Ok(_) => Ok(s),
        Err(_) => Err(format!("the schedule \"{s}\" never fires")),
    }
}

fn log_level(v: Value) -> Result<String, String> {
    let s = string(v)?.to_lowercase();
    match s.as_str() {
        "error" | "warn" | "info" | "debug" | "trace" => Ok(s),
        _ => Err(format!(
            "expected one of \"error\", \"warn\", \"info\", \"debug\", \"trace\", found \"{s}\""
        )),
    }
}

fn rona(v: Value) -> Result<Duration, String> {
    let d = duration(v)?;
    let secs = d.as_secs();
    let (min, max) = (
        crate::domain::group::RONA_MIN_SECS as u64,
        crate::domain::group::RONA_MAX_SECS as u64,
    );
    if (min..=max).contains(&secs) {
        Ok(Duration::from_secs(secs))
    } else {
        Err(format!("must be between \"{min}s\" and \"{}m\"", max / 60))
    }
}

/// Parses durations written like `"500ms"`, `"30s"`, `"15m"`, `"2h"`, `"7d"`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let ms = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    let d = Duration::from_millis(n.checked_mul(ms)?);
    (!d.is_zero()).then_some(d)
}

fn duration(v: Value) -> Result<Duration, String> {
    let shown = found(&v);
    let bad = || {
        format!("expected a duration like \"30s\", \"15m\", \"2h\" or \"7d\" (in quotes, above zero), found {shown}")
    };
    match v {
        Value::String(s) => parse_duration(&s).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

pub(super) type Table = BTreeMap<String, Spanned<Value>>;

/// A top-level entry: a `[section]` table or an array of tables
/// (`[[shifts]]`, `[[closed]]`), each key with its position.
enum Section {
    Table(Table),
    List(Vec<Spanned<Table>>),
}

impl<'de> serde::Deserialize<'de> for Section {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Section;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a [section] table or [[shifts]] / [[closed]] tables")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Section, A::Error> {
                let mut t = Table::new();
                while let Some((k, v)) = m.next_entry::<String, Spanned<Value>>()? {
                    t.insert(k, v);
                }
                Ok(Section::Table(t))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut q: A,
            ) -> Result<Section, A::Error> {
                let mut l = Vec::new();
                while let Some(t) = q.next_element::<Spanned<Table>>()? {
                    l.push(t);
                }
                Ok(Section::List(l))
            }
        }
        d.deserialize_any(V)
    }
}

type Document = BTreeMap<String, Spanned<Section>>;

/// Applies a TOML document; returns every problem, each at its position.
pub(super) fn apply_document(c: &mut Config, name: &str, text: &str) -> Vec<Problem> {
    let at = |offset: usize| {
        let (line, column) = line_column(text, offset);
        Origin::File {
            path: name.to_string(),
            line,
            column,
        }
    };
    let doc: Document = match toml::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            let message = format!(
                "{} (every key belongs in a section such as [server], written key = value)",
                e.message()
            );
            return vec![Problem {
                origin: at(offset),
                message,
            }];
        }
    };
    let mut problems = Vec::new();
    for (section, table) in doc {
        let table_start = table.span().start;
        let table = match (section.as_str(), table.into_inner()) {
            ("shifts" | "closed", Section::List(items)) => {
                for item in items {
                    let item_at = item.span().start;
                    let line = match at(item_at) {
                        Origin::File { path, line, .. } => format!("{path}:{line}"),
                        _ => String::new(),
                    };
                    let t = item.into_inner();
                    if section == "shifts" {
                        match shift_table(t, item_at, &at, line) {
                            Ok(s) => c.schedule.shifts.push(s),
                            Err(p) => problems.extend(p),
                        }
                    } else {
                        match closed_table(t, item_at, &at, line) {
                            Ok(x) => c.schedule.closed.push(x),
                            Err(p) => problems.extend(p),
                        }
                    }
                }
                continue;
            }
            ("shifts" | "closed", Section::Table(_)) => {
                problems.push(Problem {
                    origin: at(table_start),
                    message: format!(
                        "write [[{section}]] (two brackets: one table per entry), not [{section}]"
                    ),
                });
                continue;
            }
            (_, Section::List(_)) => {
                problems.push(Problem {
                    origin: at(table_start),
                    message: format!("[[{section}]] is not a list of tables livedesk knows; only [[shifts]] and [[closed]] are; {}", unknown(&section, "")),
                });
                continue;
            }
            (_, Section::Table(t)) => t,
        };
        if !SCHEMA.iter().any(|(s, _)| *s == section) {
            problems.push(Problem {
                origin: at(table_start),
                message: unknown(&section, ""),
            });
            continue;
        }
        for (key, value) in table {
            let start = value.span().start;
            if let Err(message) = apply(c, &section, &key, value.into_inner()) {
                problems.push(Problem {
                    origin: at(start),
                    message: format!("{section}.{key}: {message}"),
                });
            }
        }
    }
    // Report in file order, as a reader goes through the file.
    problems.sort_by_key(|p| match p.origin {
        Origin::File { line, column, .. } => (line, column),
        _ => (0, 0),
    });
    problems
}

/// Reads a raw environment or flag value: TOML syntax when it parses as
/// such (`8080`, `true`, `"quoted"`), else the text itself as a string.
fn raw_value(raw: &str) -> Value {
    toml::from_str::<BTreeMap<String, Value>>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

/// Applies every `LIVEDESK__SECTION__KEY` variable.
pub(super) fn apply_env(c: &mut Config, env: &[(String, String)]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix("LIVEDESK__") else {
            continue;
        };
        let origin = Origin::Env(var.clone());
        let Some((section, key)) = rest.split_once("__") else {
            problems.push(Problem {
                origin,
                message: "expected LIVEDESK__SECTION__KEY, e.g. LIVEDESK__SERVER__LISTEN".into(),
            });
            continue;
        };
        let (section, key) = (section.to_lowercase(), key.to_lowercase());
        if let Err(message) = apply(c, &section, &key, raw_value(raw)) {
            problems.push(Problem {
                origin,
                message: format!("{section}.{key}: {message}"),
            });
        }
    }
    problems
}

/// Applies one command-line flag that overrides a key.
pub(super) fn apply_flag(
    c: &mut Config,
    flag: &'static str,
    section: &str,
    key: &str,
    raw: &str,
) -> Option<Problem> {
    apply(c, section, key, Value::String(raw.to_string()))
        .err()
        .map(|message| Problem {
            origin: Origin::Flag(flag),
            message: format!("{section}.{key}: {message}"),
        })
}
