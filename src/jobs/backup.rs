//! Scheduled backups: one file per run in the backup folder, named by the
//! time it was taken (UTC), written safely (temporary name, fsync,
//! rename), and the oldest beyond `backup.keep` deleted.

use crate::error::AppError;
use crate::state::{blocking, AppState};
use std::path::{Path, PathBuf};

/// The file name of a scheduled backup taken at `now_ms` (UTC).
pub fn file_name(now_ms: u64) -> String {
    let at = chrono::DateTime::from_timestamp_millis(now_ms as i64).unwrap_or_default();
    format!("livedesk-{}.ldb", at.format("%Y%m%d-%H%M%S"))
}

/// Takes one scheduled backup as of `now`; returns its path.
pub async fn run(state: &AppState, now: u64) -> Result<PathBuf, AppError> {
    let folder = state.config.backup_folder();
    let keep = state.config.backup.keep as usize;
    let store = state.store.clone();
    let path = blocking(move || {
        std::fs::create_dir_all(&folder).map_err(|e| {
            AppError::Internal(format!("cannot create the backup folder {}: {e}", folder.display()))
        })?;
        let path = folder.join(file_name(now));
        let summary = store.write_backup_file(&path, now)?;
        let removed = prune(&folder, keep);
        tracing::info!(path = %path.display(), entries = summary.entries, removed, "backup written");
        Ok::<_, AppError>(path)
    })
    .await??;
    Ok(path)
}

/// Deletes the oldest scheduled backups beyond `keep`; returns how many.
/// Only files named like [`file_name`] count: nothing else is touched.
pub fn prune(folder: &Path, keep: usize) -> usize {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    let mut ours: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("livedesk-") && n.ends_with(".ldb"))
        })
        .collect();
    ours.sort(); // the names sort by time
    let extra = ours.len().saturating_sub(keep);
    ours.iter()
        .take(extra)
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_time_and_pruning_keeps_the_newest_only() {
        assert_eq!(file_name(1_796_095_800_000), "livedesk-20261201-033000.ldb");
        let dir = tempfile::tempdir().expect("tempdir");
        for i in 0..5u64 {
            std::fs::write(
                dir.path()
                    .join(file_name(1_796_095_800_000 + i * 86_400_000)),
                b"x",
            )
            .expect("write");
        }
        std::fs::write(dir.path().join("mine.txt"), b"keep me").expect("write");
        assert_eq!(prune(dir.path(), 2), 3);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![
                "livedesk-20261204-033000.ldb",
                "livedesk-20261205-033000.ldb",
                "mine.txt"
            ]
        );
    }
}
