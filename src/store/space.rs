//! The free-space reserve: growing writes are refused while the data
//! folder's disk has less than the reserve free, so sled itself never meets
//! a full disk. One `fstatvfs` at most every 100 ms (on the lock file),
//! whatever the write rate; when the disk frees up, the next check lets
//! writes through again.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_millis(100);

pub(super) struct Space {
    reserve: u64,
    low: AtomicBool,
    free: AtomicU64,
    /// The lock file (its disk is the data folder's) and the last check.
    checked: Mutex<(File, Option<Instant>)>,
}

impl Space {
    pub(super) fn new(lock: File, reserve: u64) -> Self {
        Space {
            reserve,
            low: AtomicBool::new(false),
            free: AtomicU64::new(u64::MAX),
            checked: Mutex::new((lock, None)),
        }
    }

    pub(super) fn reserve(&self) -> u64 {
        self.reserve
    }

    /// `Err(free bytes)` while the disk is below the reserve.
    pub(super) fn check(&self) -> Result<(), u64> {
        if self.reserve == 0 {
            return Ok(());
        }
        // Whoever finds the reading stale refreshes it; others use it as is.
        if let Ok(mut guard) = self.checked.try_lock() {
            let (file, at) = &mut *guard;
            if at.is_none_or(|t| t.elapsed() >= EVERY) {
                *at = Some(Instant::now());
                if let Ok(s) = rustix::fs::fstatvfs(&*file) {
                    let free = s.f_bavail.saturating_mul(s.f_frsize);
                    self.free.store(free, Ordering::Relaxed);
                    let low = free < self.reserve;
                    if self.low.swap(low, Ordering::Relaxed) != low {
                        if low {
                            tracing::error!(free_mib = free >> 20, reserve_mib = self.reserve >> 20, "DISK NEARLY FULL: new chats, messages and sign-ins are refused until space is freed on the data folder's disk; reads go on");
                        } else {
                            tracing::warn!(
                                free_mib = free >> 20,
                                "disk space is back: writes are taken again"
                            );
                        }
                    }
                }
            }
        }
        if self.low.load(Ordering::Relaxed) {
            Err(self.free.load(Ordering::Relaxed))
        } else {
            Ok(())
        }
    }
}
