//! The data folder's copies: `livedesk backup` (of a stopped desk from
//! its folder, of a running one over its admin endpoint), `restore` into
//! an empty folder, and `compact` (the two in one, in place).

use super::{fail, load, ConfigArg};
use crate::config::Config;
use crate::domain::{Clock, SystemClock};
use crate::store::Store;
use std::io::{BufRead, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

fn describe(s: &crate::store::backup::Summary, path: &std::path::Path) -> String {
    format!(
        "backup {} written: {} entries, schema version {}, livedesk {}",
        path.display(),
        s.entries,
        s.schema_version,
        s.livedesk
    )
}

pub(super) fn backup(arg: &ConfigArg, out: &std::path::Path) -> ExitCode {
    let config = match load(arg) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let dir = &config.storage.data_dir;
    if !dir.join(crate::store::STORE_FILE).exists() {
        return fail(format!(
            "no livedesk data folder at {}; give the desk's --data-dir or --config",
            dir.display()
        ));
    }
    let now = SystemClock.now_ms();
    let written = match Store::open(dir, config.storage.cache_mb << 20, 0) {
        // The desk is stopped: read the folder directly.
        Ok(store) => {
            let r = store.write_backup_file(out, now).map_err(|e| e.to_string());
            let closed = store.close().map_err(|e| e.to_string());
            r.and_then(|s| closed.map(|_| s))
        }
        // The desk runs: ask it.
        Err(crate::store::StoreError::InUse { .. }) => download_backup(&config, out),
        Err(e) => Err(e.to_string()),
    };
    match written {
        Ok(s) => {
            println!("{}", describe(&s, out));
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("no backup written: {e}")),
    }
}

/// Downloads a backup from the running desk into `out` safely: a partial
/// name, checked whole, fsynced, renamed.
fn download_backup(
    config: &Config,
    out: &std::path::Path,
) -> Result<crate::store::backup::Summary, String> {
    use crate::store::backup;
    let token_path = config
        .storage
        .data_dir
        .join(crate::http::api::backup::TOKEN_FILE);
    let token = std::fs::read_to_string(&token_path).map_err(|e| {
        format!(
            "the desk is running but {} cannot be read ({e}): run this as the desk's user (sudo -u livedesk livedesk backup …)",
            token_path.display()
        )
    })?;
    let mut addr = config.server.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    let mut conn = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("cannot reach the desk at {addr} ({e}); give its --listen"))?;
    conn.set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    conn.write_all(
        format!(
            "GET /api/backup HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
            token.trim()
        )
        .as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut reader = std::io::BufReader::new(conn);
    let mut status = String::new();
    reader.read_line(&mut status).map_err(|e| e.to_string())?;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            break;
        }
    }
    if status.split_whitespace().nth(1) != Some("200") {
        let mut body = String::new();
        let _ = reader.take(4096).read_to_string(&mut body);
        return Err(format!(
            "the desk answered {}: {}",
            status.trim(),
            body.trim()
        ));
    }
    let partial = backup::partial_name(out);
    let result = (|| {
        let mut file = std::fs::File::create(&partial)
            .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
        std::io::copy(&mut reader, &mut file).map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        let check = std::fs::File::open(&partial).map_err(|e| e.to_string())?;
        let summary = backup::read_backup(check, |_, _, _| Ok(())).map_err(|e| e.to_string())?;
        std::fs::rename(&partial, out).map_err(|e| e.to_string())?;
        backup::sync_parent(out);
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

pub(super) fn restore(arg: &ConfigArg, file: &std::path::Path) -> ExitCode {
    let config = match load(arg) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let dir = &config.storage.data_dir;
    match crate::store::backup::restore(file, dir, config.storage.cache_mb << 20) {
        Ok(s) => {
            println!(
                "restored {} entries from {} (taken by livedesk {}) into {}; start the desk on that folder",
                s.entries,
                file.display(),
                s.livedesk,
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("nothing restored: {e}")),
    }
}

pub(super) fn compact(arg: &ConfigArg) -> ExitCode {
    let config = match load(arg) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let dir = &config.storage.data_dir;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    match crate::store::backup::compact(dir, config.storage.cache_mb << 20, now) {
        Ok(c) => {
            println!(
                "compacted {}: the store took {} MB, now {} MB; the old folder is kept at {}: delete it once the desk runs well",
                dir.display(),
                c.before / 1_000_000,
                c.after / 1_000_000,
                c.kept.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("nothing changed: {e}")),
    }
}
