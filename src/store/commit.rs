//! Group commit. Writers apply their changes to sled, take a ticket, and
//! wait; one committer thread calls sled's synchronous `flush()` for all
//! tickets taken so far and publishes "durable up to here". One fsync then
//! covers many writes, and `flush_async` is never called from many tasks
//! (sled 0.34.7 deadlocks with seven or more concurrent callers, upstream
//! issue #1308). A failed flush is logged loudly and fails the waiting
//! tickets, so nothing is acknowledged that is not on disk. After a failed
//! write sled refuses everything until reopened, so the free-space reserve
//! (`space.rs`) keeps it from ever meeting a full disk; should it still
//! happen, a restart once space is back recovers every acknowledged write
//! (the crash tool's full-disk run checks both).

use super::StoreError;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use tokio::sync::watch;

/// The pause after each flush, so the next one covers more writes. Without
/// it the committer flushed ~2,500 times a second at 10,000 messages a
/// second (an fsync here is ~0.4 ms), and sealing and writing that many
/// small log buffers cost a third of a core in sled's io threads. With
/// 1 ms: server CPU 124–130% → 108–109% of a core, delivery p99 12–13 →
/// 7.4–8.1 ms; at 2,000 msg/s p50 0.8 → 1.5 ms (docs/performance.md). A
/// write after a quiet spell finds the committer idle and is flushed at
/// once.
const FLUSH_GAP: std::time::Duration = std::time::Duration::from_millis(1);

#[derive(Default)]
struct Pending {
    requested: u64,
    stop: bool,
    /// The committer is waiting for a request. Only then does a request
    /// wake it: a wake is a syscall, and at 10,000 messages a second the
    /// committer is nearly always in a flush that will pick the ticket up.
    idle: bool,
}

/// What the committer has achieved so far.
#[derive(Clone, Debug, Default)]
struct Flushed {
    durable: u64,
    failure: Option<(u64, String)>,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
    done: watch::Sender<Flushed>,
    /// A flush failed since the store opened. sled must be reopened after
    /// a failed write, so the desk stays not-ready until a restart, even if
    /// a later flush reports success.
    broken: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(super) struct GroupCommit {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl GroupCommit {
    pub(super) fn start(db: crate::store::kv::Db) -> Self {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            done: watch::channel(Flushed::default()).0,
            broken: std::sync::atomic::AtomicBool::new(false),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("livedesk-commit".into())
            .spawn(move || committer(&worker, &db))
            .ok();
        Self {
            shared,
            thread: Mutex::new(thread),
        }
    }

    /// A ticket covering every write applied before this call.
    pub(super) fn request(&self) -> u64 {
        let mut p = self.shared.lock();
        p.requested += 1;
        if p.idle {
            self.shared.wake.notify_one();
        }
        p.requested
    }

    /// A ticket, without waking the committer: the caller is in a burst
    /// that commits durably itself and then [`GroupCommit::publish`]es.
    pub(super) fn request_quietly(&self) -> u64 {
        let mut p = self.shared.lock();
        p.requested += 1;
        p.requested
    }

    /// The last ticket taken.
    pub(super) fn requested(&self) -> u64 {
        self.shared.lock().requested
    }

    /// The last ticket made durable.
    pub(super) fn durable(&self) -> u64 {
        self.shared.done.borrow().durable
    }

    /// Everything up to `ticket` is durable (a burst's durable commit).
    pub(super) fn publish(&self, ticket: u64) {
        self.shared
            .done
            .send_modify(|f| f.durable = f.durable.max(ticket));
    }

    /// The durable commit covering up to `ticket` failed.
    pub(super) fn fail(&self, ticket: u64, reason: String) {
        tracing::error!(error = %reason, "STORE FLUSH FAILED: nothing more is acknowledged; free disk space on the data folder's disk, then restart livedesk (everything acknowledged so far is safe)");
        self.shared
            .broken
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.shared
            .done
            .send_modify(|f| f.failure = Some((ticket, reason)));
    }

    /// Waits until `ticket` is durable, or fails if its flush failed.
    pub(super) async fn wait(&self, ticket: u64) -> Result<(), StoreError> {
        let mut rx = self.shared.done.subscribe();
        loop {
            {
                let f = rx.borrow_and_update();
                if f.durable >= ticket {
                    return Ok(());
                }
                if let Some((failed_through, reason)) = &f.failure {
                    if *failed_through >= ticket {
                        return Err(StoreError::NotDurable(reason.clone()));
                    }
                }
            }
            if rx.changed().await.is_err() {
                return Err(StoreError::NotDurable("the store is closing".into()));
            }
        }
    }

    /// False once a flush failed (until the store is reopened).
    pub(super) fn healthy(&self) -> bool {
        self.shared.done.borrow().failure.is_none()
            && !self
                .shared
                .broken
                .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(super) fn stop(&self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.stop();
    }
}

fn committer(shared: &Shared, db: &crate::store::kv::Db) {
    // Highest ticket already flushed, or whose flush failed.
    let mut handled = 0u64;
    loop {
        let target = {
            let mut p = shared.lock();
            while p.requested <= handled && !p.stop {
                p.idle = true;
                p = shared.wake.wait(p).unwrap_or_else(|e| e.into_inner());
                p.idle = false;
            }
            if p.requested <= handled {
                return;
            }
            p.requested
        };
        match db.flush() {
            Ok(_) => shared.done.send_modify(|f| {
                f.durable = f.durable.max(target);
                f.failure = None;
            }),
            Err(e) => {
                tracing::error!(error = %e, "STORE FLUSH FAILED: nothing more is acknowledged; free disk space on the data folder's disk, then restart livedesk (everything acknowledged so far is safe)");
                shared
                    .broken
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                shared
                    .done
                    .send_modify(|f| f.failure = Some((target, e.to_string())));
            }
        }
        handled = target;
        std::thread::sleep(FLUSH_GAP);
    }
}
