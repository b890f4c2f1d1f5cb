//! Backups: a consistent snapshot of every tree in one file, and the
//! restore that fills an empty data folder from it.
//!
//! The format, version 1 (documented in docs/operations.md):
//!
//! ```text
//! LIVEDESK-BACKUP 1\n
//! {"format":"livedesk-backup","version":1,"schema_version":…,"created_at":…,"livedesk":"…"}\n
//! T <u16 BE name length> <name>                          a tree begins
//! E <u32 BE key length> <key> <u32 BE value length> <value>   one entry of it
//! …
//! Z <u64 BE number of entries> <32 bytes: sha256 of every byte before them>
//! ```
//!
//! Keys and values are the store's own bytes (versioned records, upgraded
//! on read as always), so a backup restores into this or any later livedesk,
//! which migrates the schema as it opens. The snapshot is taken with the
//! write gate closed ([`super::gate`]): writers wait for the few hundred
//! milliseconds the trees take to read, nothing is lost, and the copy is
//! one point in time. Files are written under a temporary name, fsynced
//! and renamed, so a crash never leaves a half backup under the real name;
//! and restore checks the checksum before it writes anything.

use super::{trees, Store, StoreError};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The first line of every backup.
pub const MAGIC: &[u8] = b"LIVEDESK-BACKUP 1\n";
/// The format's version.
pub const VERSION: u32 = 1;

/// What a backup holds, from its header and trailer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Always "livedesk-backup".
    pub format: String,
    /// The format's version.
    pub version: u32,
    /// The store's schema version when it was taken.
    pub schema_version: u32,
    /// When it was taken (ms since the epoch).
    pub created_at: u64,
    /// The livedesk that took it.
    pub livedesk: String,
    /// Entries in all trees (known once the file is read or written).
    #[serde(default)]
    pub entries: u64,
}

fn bad(why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("not a usable livedesk backup: {why}"))
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what passes through it.
struct Hashed<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Hashed<R> {
    fn exact(&mut self, n: usize) -> Result<Vec<u8>, StoreError> {
        let mut buf = vec![0; n];
        self.inner
            .read_exact(&mut buf)
            .map_err(|e| bad(format!("it ends early ({e}); was it copied whole?")))?;
        self.hash.update(&buf);
        Ok(buf)
    }
    fn len(&mut self, width: usize) -> Result<usize, StoreError> {
        let b = self.exact(width)?;
        let mut n = 0usize;
        for byte in b {
            n = (n << 8) | usize::from(byte);
        }
        Ok(n)
    }
}

impl Store {
    /// Writes a snapshot of every tree to `out`, with writes paused while
    /// the trees are read.
    ///
    /// The history's pages (leaves of up to ~64 KiB) are read first: sled
    /// keeps up to ~16,000 of the leaves read last beyond its cache
    /// (docs/performance.md), and those of the other trees are a few KiB.
    /// A restore takes the trees in any order.
    pub fn write_backup(&self, out: impl Write, now_ms: u64) -> Result<Summary, StoreError> {
        let mut names = vec![trees::MAPFIRSTKEY_PAGE];
        names.extend(trees::ALL.iter().filter(|n| **n != trees::MAPFIRSTKEY_PAGE));
        self.write_backup_of(&names, out, now_ms)
    }

    /// [`Store::write_backup`] of the trees `names` (the tests write the
    /// backups of older schemas with it).
    pub(super) fn write_backup_of(
        &self,
        names: &[&str],
        out: impl Write,
        now_ms: u64,
    ) -> Result<Summary, StoreError> {
        let mut w = Hashing {
            inner: BufWriter::with_capacity(1 << 20, out),
            hash: Sha256::new(),
        };
        let _closed = self.gate.pause();
        let mut summary = Summary {
            format: "livedesk-backup".into(),
            version: VERSION,
            schema_version: self.schema_version()?,
            created_at: now_ms,
            livedesk: env!("CARGO_PKG_VERSION").into(),
            entries: 0,
        };
        let header = serde_json::to_string(&summary).map_err(|e| StoreError::Io(e.to_string()))?;
        w.write_all(MAGIC).map_err(io)?;
        w.write_all(header.as_bytes()).map_err(io)?;
        w.write_all(b"\n").map_err(io)?;
        for name in names {
            let tree = self.db.open_tree(name)?;
            w.write_all(b"T").map_err(io)?;
            w.write_all(&(name.len() as u16).to_be_bytes())
                .map_err(io)?;
            w.write_all(name.as_bytes()).map_err(io)?;
            for kv in tree.iter() {
                let (k, v) = kv?;
                w.write_all(b"E").map_err(io)?;
                w.write_all(&(k.len() as u32).to_be_bytes()).map_err(io)?;
                w.write_all(&k).map_err(io)?;
                w.write_all(&(v.len() as u32).to_be_bytes()).map_err(io)?;
                w.write_all(&v).map_err(io)?;
                summary.entries += 1;
            }
        }
        drop(_closed);
        w.write_all(b"Z").map_err(io)?;
        w.write_all(&summary.entries.to_be_bytes()).map_err(io)?;
        let digest = w.hash.clone().finalize();
        w.inner.write_all(&digest).map_err(io)?;
        w.inner.flush().map_err(io)?;
        drop(w);
        // What reading every entry freed goes back to the system.
        crate::alloc::give_back();
        Ok(summary)
    }

    /// Writes a backup to `path` safely: a temporary name beside it,
    /// fsynced, then renamed (and the folder fsynced).
    pub fn write_backup_file(&self, path: &Path, now_ms: u64) -> Result<Summary, StoreError> {
        let tmp = partial_name(path);
        let file = File::create(&tmp)
            .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", tmp.display())))?;
        let written = self
            .write_backup(&file, now_ms)
            .and_then(|s| file.sync_all().map(|_| s).map_err(io));
        let summary = match written {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        std::fs::rename(&tmp, path).map_err(io)?;
        sync_parent(path);
        Ok(summary)
    }

    fn schema_version(&self) -> Result<u32, StoreError> {
        let v = self.trees.meta.get(super::migrate::VERSION_KEY)?;
        Ok(v.and_then(|b| <[u8; 4]>::try_from(&b[..]).ok())
            .map(u32::from_be_bytes)
            .unwrap_or(0))
    }
}

/// `backup.ldb` → `.backup.ldb.partial` in the same folder.
pub fn partial_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "backup".into());
    path.with_file_name(format!(".{name}.partial"))
}

/// Makes a rename durable (best effort: not every file system can).
pub fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
}

/// Reads a whole backup, calling `entry(tree, key, value)` for each entry,
/// and checks its trailer and checksum. With a no-op `entry` this verifies
/// a file without writing anything.
pub fn read_backup(
    r: impl Read,
    mut entry: impl FnMut(&str, Vec<u8>, Vec<u8>) -> Result<(), StoreError>,
) -> Result<Summary, StoreError> {
    let mut r = Hashed {
        inner: BufReader::with_capacity(1 << 20, r),
        hash: Sha256::new(),
    };
    if r.exact(MAGIC.len())? != MAGIC {
        return Err(bad("it does not start with LIVEDESK-BACKUP 1"));
    }
    let mut header = Vec::new();
    loop {
        let b = r.exact(1)?;
        if b[0] == b'\n' {
            break;
        }
        header.push(b[0]);
        if header.len() > 4096 {
            return Err(bad("its header line is too long"));
        }
    }
    let mut summary: Summary =
        serde_json::from_slice(&header).map_err(|e| bad(format!("its header: {e}")))?;
    if summary.format != "livedesk-backup" || summary.version != VERSION {
        return Err(bad(format!(
            "format {} version {}; this livedesk reads livedesk-backup version {VERSION}",
            summary.format, summary.version
        )));
    }
    if summary.schema_version > super::SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: summary.schema_version,
            known: super::SCHEMA_VERSION,
        });
    }
    let mut tree = String::new();
    let mut entries = 0u64;
    loop {
        match r.exact(1)?[0] {
            b'T' => {
                let n = r.len(2)?;
                tree = String::from_utf8(r.exact(n)?).map_err(|_| bad("a tree name"))?;
                if !trees::ALL.contains(&tree.as_str()) && !trees::RETIRED.contains(&tree.as_str())
                {
                    return Err(bad(format!("unknown tree {tree}")));
                }
            }
            b'E' if !tree.is_empty() => {
                let n = r.len(4)?;
                let k = r.exact(n)?;
                let n = r.len(4)?;
                let v = r.exact(n)?;
                entry(&tree, k, v)?;
                entries += 1;
            }
            b'Z' => {
                let counted = r.len(8)? as u64;
                let expected = r.hash.clone().finalize();
                let mut stored = [0u8; 32];
                r.inner
                    .read_exact(&mut stored)
                    .map_err(|_| bad("its checksum is cut off"))?;
                if stored[..] != expected[..] || counted != entries {
                    return Err(bad("its checksum does not match: the file is damaged"));
                }
                summary.entries = entries;
                return Ok(summary);
            }
            other => return Err(bad(format!("unexpected byte {other:#04x}"))),
        }
    }
}

/// Fills the empty (or missing) data folder `dir` from the backup `file`:
/// checks the whole file first, then writes every entry, flushes, and
/// reopens the store once so migrations run. Refuses a folder with anything
/// in it.
pub fn restore(file: &Path, dir: &Path, cache_bytes: u64) -> Result<Summary, StoreError> {
    if let Ok(mut it) = std::fs::read_dir(dir) {
        if it.next().is_some() {
            return Err(StoreError::Open {
                path: dir.display().to_string(),
                reason: "the folder is not empty; restore only into a new, empty data folder (move the old one aside first)".into(),
            });
        }
    }
    let open = || {
        OpenOptions::new()
            .read(true)
            .open(file)
            .map_err(|e| StoreError::Io(format!("cannot read {}: {e}", file.display())))
    };
    read_backup(open()?, |_, _, _| Ok(()))?;
    let store = Store::open(dir, cache_bytes, 0)?;
    for name in trees::ALL {
        store.db.open_tree(name)?.clear()?;
    }
    let mut current: Option<(String, crate::store::kv::Tree)> = None;
    let summary = read_backup(open()?, |name, k, v| {
        // What an older schema kept and this one rebuilds or never reads.
        if trees::RETIRED.contains(&name) {
            return Ok(());
        }
        if current.as_ref().is_none_or(|(n, _)| n != name) {
            current = Some((name.to_string(), store.db.open_tree(name)?));
        }
        if let Some((_, tree)) = &current {
            tree.insert(k, v)?;
        }
        Ok(())
    })?;
    drop(current);
    store.close()?;
    // Opening again runs the migrations of a backup from an older livedesk.
    Store::open(dir, cache_bytes, 0)?.close()?;
    Ok(summary)
}

/// What [`compact`] did.
#[derive(Debug)]
pub struct Compacted {
    /// Bytes of the store (`db`) before and after.
    pub before: u64,
    pub after: u64,
    /// Where the old folder was moved, kept until the desk runs well on
    /// the new one.
    pub kept: PathBuf,
}

/// Rewrites the stopped desk's data folder `dir` compactly: sled's log
/// keeps old versions of what was rewritten (a list page at every chat
/// end), so a large desk's folder can grow to many times its data. A
/// backup is written beside the folder, restored into a new folder, the
/// search indexes moved over (they hold the same chats), and the new
/// folder swapped in, owned as the old one was; the old folder is kept
/// as `NAME.before-compact`. A failure before the swap removes what it
/// wrote and leaves the folder as it was.
pub fn compact(dir: &Path, cache_bytes: u64, now_ms: u64) -> Result<Compacted, StoreError> {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(StoreError::Io(format!(
            "{} has no parent folder to compact beside",
            dir.display()
        )));
    };
    let name = name.to_string_lossy();
    let beside = |tail: &str| parent.join(format!("{name}{tail}"));
    let (file, fresh, kept) = (
        beside(".compact.ldb"),
        beside(".compact"),
        beside(".before-compact"),
    );
    for p in [&fresh, &kept] {
        if p.exists() {
            return Err(StoreError::Io(format!(
                "{} is there from an earlier compaction: remove it (or move it away), then run again",
                p.display()
            )));
        }
    }
    let before = bytes_under(&dir.join(crate::store::STORE_FILE));
    let store = Store::open(dir, cache_bytes, 0)?;
    let written = store
        .write_backup_file(&file, now_ms)
        .and_then(|_| store.close())
        .and_then(|_| restore(&file, &fresh, cache_bytes));
    let _ = std::fs::remove_file(&file);
    let moved = written.and_then(|_| {
        for index in ["search-articles", "search-transcripts"] {
            let from = dir.join(index);
            if from.exists() {
                std::fs::rename(&from, fresh.join(index))
                    .map_err(|e| StoreError::Io(format!("cannot move {}: {e}", from.display())))?;
            }
        }
        same_owner(dir, &fresh)
    });
    if let Err(e) = moved {
        for index in ["search-articles", "search-transcripts"] {
            let _ = std::fs::rename(fresh.join(index), dir.join(index));
        }
        let _ = std::fs::remove_dir_all(&fresh);
        return Err(e);
    }
    let swap = |from: &Path, to: &Path| {
        std::fs::rename(from, to).map_err(|e| {
            StoreError::Io(format!(
                "cannot move {} to {}: {e}",
                from.display(),
                to.display()
            ))
        })
    };
    swap(dir, &kept)?;
    if let Err(e) = swap(&fresh, dir) {
        let _ = swap(&kept, dir);
        return Err(e);
    }
    sync_parent(dir);
    Ok(Compacted {
        before,
        after: bytes_under(&dir.join(crate::store::STORE_FILE)),
        kept,
    })
}

/// The size of every file under `path`.
fn bytes_under(path: &Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .map(|d| d.flatten().map(|e| bytes_under(&e.path())).sum())
            .unwrap_or(0),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

/// Gives everything under `fresh` the owner of `old` (a root-run
/// compaction of a folder the desk's user owns).
#[cfg(unix)]
fn same_owner(old: &Path, fresh: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(old).map_err(|e| StoreError::Io(e.to_string()))?;
    let here = std::fs::metadata(fresh).map_err(|e| StoreError::Io(e.to_string()))?;
    if (m.uid(), m.gid()) == (here.uid(), here.gid()) {
        return Ok(());
    }
    fn walk(p: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
        std::os::unix::fs::lchown(p, Some(uid), Some(gid))?;
        if std::fs::symlink_metadata(p)?.is_dir() {
            for e in std::fs::read_dir(p)? {
                walk(&e?.path(), uid, gid)?;
            }
        }
        Ok(())
    }
    walk(fresh, m.uid(), m.gid()).map_err(|e| {
        StoreError::Io(format!(
            "cannot give {} the owner of {}: {e}",
            fresh.display(),
            old.display()
        ))
    })
}

#[cfg(not(unix))]
fn same_owner(_old: &Path, _fresh: &Path) -> Result<(), StoreError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_round_trips_and_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("a"), 8 << 20, 0).expect("open");
        store
            .set_wrap_up_reasons(&["Solved".to_string()])
            .expect("write");
        let file = dir.path().join("b.ldb");
        let s = store.write_backup_file(&file, 42).expect("backup");
        assert!(s.entries > 0);
        assert!(!partial_name(&file).exists(), "the partial name is gone");
        store.close().expect("close");

        let back = restore(&file, &dir.path().join("c"), 8 << 20).expect("restore");
        assert_eq!((back.entries, back.created_at), (s.entries, 42));
        let restored = Store::open(&dir.path().join("c"), 8 << 20, 0).expect("reopen");
        assert_eq!(
            restored.wrap_up_reasons().expect("read"),
            vec!["Solved".to_string()]
        );
        restored.close().expect("close");

        let refused = restore(&file, &dir.path().join("c"), 8 << 20).expect_err("non-empty");
        assert!(refused.to_string().contains("not empty"), "{refused}");

        let mut bytes = std::fs::read(&file).expect("read");
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        let damaged = dir.path().join("damaged.ldb");
        std::fs::write(&damaged, &bytes).expect("write");
        let e = restore(&damaged, &dir.path().join("d"), 8 << 20).expect_err("damaged");
        assert!(e.to_string().contains("backup"), "{e}");
        assert!(
            !dir.path().join("d").exists(),
            "nothing written for a damaged file"
        );
        bytes.truncate(mid);
        std::fs::write(&damaged, &bytes).expect("write");
        let e = restore(&damaged, &dir.path().join("d"), 8 << 20).expect_err("cut");
        assert!(
            e.to_string().contains("ends early") || e.to_string().contains("damaged"),
            "{e}"
        );
    }
}
