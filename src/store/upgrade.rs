//! The move from sled to redb: a data folder written by a livedesk on sled
//! (its store a folder `db/`) is copied, tree by tree, into the redb file
//! at the first start of this livedesk, before the schema migrations run.
//!
//! The copy is written to `livedesk.redb.partial`, made durable, checked
//! (every tree holds as many keys as in sled), and only then renamed to
//! `livedesk.redb`: a start cut short leaves the sled folder as it was and
//! a partial file that the next start removes and writes again. The sled
//! folder is then renamed `db.sled-before-redb` and left for the sysadmin
//! to remove once the desk runs well (docs/operations.md): it is what a
//! downgrade would need.

use super::kv;
use super::{StoreError, STORE_FILE};
use std::path::Path;
use std::time::Instant;

/// Entries copied in one transaction.
const STEP: usize = 20_000;

/// What the sled folder is renamed to once copied.
pub const SLED_KEPT: &str = "db.sled-before-redb";

/// Copies the sled folder of `dir`, if there is one and no redb file yet.
pub(super) fn from_sled(dir: &Path, cache_bytes: u64) -> Result<(), StoreError> {
    let sled_dir = dir.join("db");
    let file = dir.join(STORE_FILE);
    if file.exists() || !sled_dir.is_dir() {
        return Ok(());
    }
    let io = |what: &str, e: &dyn std::fmt::Display| StoreError::Io(format!("{what}: {e}"));
    let partial = dir.join(format!("{STORE_FILE}.partial"));
    if partial.exists() {
        std::fs::remove_file(&partial)
            .map_err(|e| io("cannot remove the partial copy of an earlier start", &e))?;
    }
    let started = Instant::now();
    tracing::info!(from = %sled_dir.display(), "copying the store from sled into {STORE_FILE} (once; a million chats take about two minutes)");
    let old = sled::Config::new()
        .path(&sled_dir)
        .cache_capacity(cache_bytes)
        .open()
        .map_err(|e| StoreError::Open {
            path: sled_dir.display().to_string(),
            reason: e.to_string(),
        })?;
    let new = kv::Db::open(&partial, cache_bytes)?;
    let mut total = 0u64;
    for name in old.tree_names() {
        if name.as_ref() == b"__sled__default" {
            continue;
        }
        let from = old
            .open_tree(&name)
            .map_err(|e| io("cannot read the sled store", &e))?;
        let to = new.open_tree(&name)?;
        let mut copied = 0usize;
        let mut batch = kv::Batch::default();
        for kv in from.iter() {
            let (k, v) = kv.map_err(|e| io("cannot read the sled store", &e))?;
            batch.insert(&k, &v);
            copied += 1;
            if copied.is_multiple_of(STEP) {
                to.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        to.apply_batch(batch)?;
        if to.len() != copied {
            return Err(StoreError::Corrupt(format!(
                "the copy of tree {} holds {} keys, sled {copied}; the sled folder is left as it was",
                String::from_utf8_lossy(&name),
                to.len()
            )));
        }
        total += copied as u64;
    }
    new.flush()?;
    drop(new);
    drop(old);
    std::fs::rename(&partial, &file).map_err(|e| io("cannot put the copied store in place", &e))?;
    let kept = dir.join(SLED_KEPT);
    std::fs::rename(&sled_dir, &kept).map_err(|e| io("cannot rename the sled folder", &e))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    crate::alloc::give_back();
    tracing::info!(
        entries = total,
        seconds = started.elapsed().as_secs(),
        kept = %kept.display(),
        "copied the store from sled; the old folder is kept for a downgrade: remove it once the desk runs well"
    );
    Ok(())
}
