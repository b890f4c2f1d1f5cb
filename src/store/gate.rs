//! The write gate: every store write passes it, and a backup closes it
//! while it reads every tree, so a backup is one point in time (sled 0.34
//! has no snapshots) without stopping the process. Writers only wait while
//! a backup reads; a write nested inside another on the same thread passes
//! without taking the lock again (a nested read lock would deadlock behind
//! a waiting backup).

use std::cell::Cell;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

thread_local! {
    /// Gate passes this thread holds now.
    static HELD: Cell<u32> = const { Cell::new(0) };
}

/// The gate.
#[derive(Default)]
pub(super) struct Gate(RwLock<()>);

/// A write in progress; the gate stays open for others until it drops.
pub(super) struct Writing<'a>(#[allow(dead_code)] Option<RwLockReadGuard<'a, ()>>);

impl Gate {
    /// Passes the gate for one write (waits while a backup reads).
    pub(super) fn writing(&self) -> Writing<'_> {
        let nested = HELD.with(|h| {
            let n = h.get();
            h.set(n + 1);
            n > 0
        });
        Writing((!nested).then(|| self.0.read().unwrap_or_else(|p| p.into_inner())))
    }

    /// Closes the gate: returns once no write is in progress, and no write
    /// starts until the guard drops.
    pub(super) fn pause(&self) -> RwLockWriteGuard<'_, ()> {
        self.0.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        HELD.with(|h| h.set(h.get().saturating_sub(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_pause_waits_for_writes_and_holds_new_ones_and_nesting_never_deadlocks() {
        let gate = Arc::new(Gate::default());
        let outer = gate.writing();
        let inner = gate.writing(); // nested: no second lock
        let paused = Arc::new(AtomicBool::new(false));
        let (g, p) = (gate.clone(), paused.clone());
        let backup = std::thread::spawn(move || {
            let _closed = g.pause();
            p.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(50));
            p.store(false, Ordering::SeqCst);
        });
        std::thread::sleep(Duration::from_millis(30));
        assert!(
            !paused.load(Ordering::SeqCst),
            "the backup waits for the write in progress"
        );
        drop(inner);
        drop(outer);
        std::thread::sleep(Duration::from_millis(10));
        let w = gate.writing();
        assert!(
            !paused.load(Ordering::SeqCst),
            "a new write waited for the backup to finish"
        );
        drop(w);
        backup.join().expect("backup thread");
    }
}
