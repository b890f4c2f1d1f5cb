//! Password hashing: argon2id with OWASP-recommended parameters
//! (7 MiB, 5 passes, 1 lane), run on a few dedicated threads so a flood of
//! sign-ins queues instead of exhausting memory or starving the async
//! workers. Unknown emails are checked against a dummy hash so the
//! time taken does not reveal which emails exist.

use crate::error::AppError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// OWASP Password Storage Cheat Sheet: argon2id, m=7 MiB, t=5, p=1, one
/// of the five settings it gives as equal in defense, trading memory for
/// passes. The smallest work area of the five, because each hashing thread
/// keeps its area resident on a small box (19 MiB, t=2 held 40 MB with
/// two threads); measured 17 ms a hash here against 21 ms for 19 MiB, t=2
/// (docs/decisions.md).
fn owasp_params() -> Params {
    Params::new(7 * 1024, 5, 1, None).unwrap_or_default()
}

/// Whether a stored hash was made with other parameters than new ones are
/// (an older release's), so it is worth replacing at the next sign-in.
pub fn needs_rehash(phc: &str) -> bool {
    let current = owasp_params();
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm != argon2::ARGON2ID_IDENT
        || params.m_cost() != current.m_cost()
        || params.t_cost() != current.t_cost()
        || params.p_cost() != current.p_cost()
}

thread_local! {
    /// Each thread's argon2 work area, reused while sign-ins keep coming: a
    /// fresh 19 MiB area per hash on the blocking pool was not given back
    /// well by the allocator (measured: 244 MB resident after forty
    /// sign-ins). A hashing thread lets its area go after
    /// `KEEP_AREA_IDLE` without work.
    static WORK_AREA: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn failed(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("password hashing failed: {e}"))
}

/// Runs argon2 with this thread's work area, or a passing one when the
/// hash is an older, larger one: the resident area stays the size of the
/// current parameters.
fn compute(
    argon: &Argon2<'_>,
    blocks: usize,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), AppError> {
    if blocks > owasp_params().block_count() {
        let mut area = vec![Block::default(); blocks];
        return argon
            .hash_password_into_with_memory(password, salt, out, &mut area[..])
            .map_err(failed);
    }
    WORK_AREA.with(|area| {
        let mut area = area.borrow_mut();
        if area.len() < blocks {
            area.resize(blocks, Block::default());
        }
        argon
            .hash_password_into_with_memory(password, salt, out, &mut area[..blocks])
            .map_err(failed)
    })
}

/// Hashes a password synchronously (CLI commands, and the hashing threads).
pub fn hash_now(password: &str) -> Result<String, AppError> {
    let params = owasp_params();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(failed)?;
    let mut out = [0u8; 32];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    compute(
        &argon,
        params.block_count(),
        password.as_bytes(),
        salt_bytes,
        &mut out,
    )?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(failed)?),
    };
    Ok(phc.to_string())
}

/// Checks a password against a PHC string (any argon2 parameters).
fn verify_now(password: &str, phc: &str) -> bool {
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(phc).ok()?;
        let expected = parsed.hash?;
        let params = Params::try_from(&parsed).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .ok()?
            .unwrap_or_default();
        let mut salt_buf = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt_buf).ok()?;
        let mut out = vec![0u8; expected.len()];
        let argon = Argon2::new(algorithm, version, params.clone());
        compute(
            &argon,
            params.block_count(),
            password.as_bytes(),
            salt,
            &mut out,
        )
        .ok()?;
        // Output's equality is constant-time.
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' nice value. At 10,000 msg/s with 100 bad sign-ins
/// a second, delivery p99 was 36–57 ms at nice 0 and 17–25 ms at 19.
const HASH_NICE: i32 = 19;

/// Checked against when an email is unknown, so that costs the same time as
/// a real check. A fixed hash (of a random password nobody knows, with the
/// same parameters) rather than one made at start-up: that would keep a
/// work area resident on an idle desk.
const DUMMY_HASH: &str = "$argon2id$v=19$m=7168,t=5,p=1$T8XhD3kHy+v4L9pKzV3Jpg$JaGcYnL/vJh7EOav1Ds9UPL5k7fyZ67rUNOrXRlipUI";

/// Password hashing on a fixed set of dedicated threads. Each argon2id run
/// takes a work area (19 MiB with the parameters of the time); on the
/// general blocking pool every thread that
/// ever hashed kept its own (the allocator's per-thread arenas), which
/// measured 260 MB after two dozen sign-ins. With `concurrent` dedicated
/// threads at most that many areas exist, and a flood of sign-ins queues.
pub struct Passwords {
    queue: Arc<Queue>,
    dummy_hash: String,
}

/// The hashing threads' jobs. Idle threads wait on the condition variable
/// (not on the lock), so each one notices on its own that it has been idle.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    /// Hashing threads holding a work area.
    resident: AtomicUsize,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    closed: bool,
}

/// How long a hashing thread keeps its work area with nothing to do. A
/// burst of sign-ins reuses it, and so does a flood (the limiter lets
/// about one check a second through); a desk whose staff signed in this
/// morning holds none. Letting it go after every hash cost chat latency
/// under a sign-in flood (a fresh area's page faults, then unmapping it).
const KEEP_AREA_IDLE: Duration = Duration::from_secs(10);

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A hashing thread's loop: runs jobs until the queue closes, letting
    /// its work area go after `idle` without work.
    fn serve(&self, idle: Duration) {
        let mut holding = false;
        loop {
            let job = {
                let mut state = self.lock();
                loop {
                    if let Some(job) = state.jobs.pop_front() {
                        break Some(job);
                    }
                    if state.closed {
                        break None;
                    }
                    if !holding {
                        // Nothing to let go: sleep until there is work.
                        state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
                        continue;
                    }
                    let (next, waited) = self
                        .ready
                        .wait_timeout(state, idle)
                        .unwrap_or_else(|p| p.into_inner());
                    state = next;
                    if waited.timed_out() && state.jobs.is_empty() {
                        WORK_AREA.with(|area| *area.borrow_mut() = Vec::new());
                        self.resident.fetch_sub(1, Ordering::SeqCst);
                        holding = false;
                    }
                }
            };
            let Some(job) = job else { break };
            job();
            let held = WORK_AREA.with(|area| !area.borrow().is_empty());
            if held && !holding {
                self.resident.fetch_add(1, Ordering::SeqCst);
                holding = true;
            }
        }
    }
}

impl Passwords {
    /// Starts `concurrent` hashing threads.
    pub fn new(concurrent: usize) -> Result<Self, AppError> {
        Self::with_idle(concurrent, KEEP_AREA_IDLE)
    }

    /// Starts `concurrent` hashing threads that let their work area go
    /// after `idle` without work.
    fn with_idle(concurrent: usize, idle: Duration) -> Result<Self, AppError> {
        let queue = Arc::new(Queue::default());
        for i in 0..concurrent.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("livedesk-hash-{i}"))
                .spawn(move || {
                    // Lowest priority (on Linux this thread only): a flood of
                    // sign-ins takes what the live chat leaves, so chat
                    // latency holds (docs/performance.md).
                    if let Err(e) = rustix::process::setpriority_process(None, HASH_NICE) {
                        tracing::warn!(error = %e, "hashing threads keep normal priority");
                    }
                    queue.serve(idle);
                })
                .map_err(|e| AppError::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Self {
            queue,
            dummy_hash: DUMMY_HASH.to_string(),
        })
    }

    /// How many hashing threads hold a work area now (the tests' view of
    /// the idle release).
    #[cfg(test)]
    fn resident_areas(&self) -> usize {
        self.queue.resident.load(Ordering::SeqCst)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        {
            let mut state = self.queue.lock();
            if state.closed {
                return Err(AppError::Internal("hashing threads stopped".into()));
            }
            state.jobs.push_back(Box::new(move || {
                let _ = done.send(span.in_scope(work));
            }));
        }
        self.queue.ready.notify_one();
        result
            .await
            .map_err(|_| AppError::Internal("a hashing thread failed".into()))
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || hash_now(&password)).await?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when
    /// there is no account, taking the same time either way.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.clone());
        let ok = self.run(move || verify_now(&password, &hash)).await?;
        Ok(ok && known)
    }
}

impl Drop for Passwords {
    /// The hashing threads finish the jobs queued and stop.
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "the dummy hash parses"
        );
        assert!(
            DUMMY_HASH.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
            "same cost as real ones"
        );
        let p = Passwords::new(1).expect("init");
        let h = p.hash("correct horse".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{h}");
        assert!(p
            .verify("correct horse".into(), Some(h.clone()))
            .await
            .expect("ok"));
        assert!(!p.verify("wrong".into(), Some(h)).await.expect("ok"));
        assert!(!p.verify("anything".into(), None).await.expect("ok"));
        assert!(!p
            .verify("x".into(), Some("not a hash".into()))
            .await
            .expect("ok"));
    }
    #[tokio::test]
    async fn hashing_threads_run_at_the_lowest_priority() {
        let p = Passwords::new(1).expect("init");
        let nice = p
            .run(|| rustix::process::getpriority_process(None))
            .await
            .expect("ran")
            .expect("getpriority");
        assert_eq!(nice, HASH_NICE);
    }

    /// Hashes a burst of 8 passwords.
    async fn burst(p: &Arc<Passwords>) {
        let mut burst = Vec::new();
        for i in 0..8 {
            let p = p.clone();
            burst.push(tokio::spawn(async move {
                p.hash(format!("password {i}")).await
            }));
        }
        for h in burst {
            assert!(h.await.expect("joined").is_ok());
        }
    }

    /// Polls `resident_areas` until `done` holds, for at most 5 s.
    async fn areas_until(p: &Passwords, done: impl Fn(usize) -> bool) -> usize {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !done(p.resident_areas()) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        p.resident_areas()
    }

    #[tokio::test]
    async fn a_hashing_thread_keeps_its_work_area_while_sign_ins_keep_coming() {
        let p = Arc::new(Passwords::with_idle(2, Duration::from_secs(3600)).expect("init"));
        burst(&p).await;
        let held = areas_until(&p, |n| n > 0).await;
        assert!((1..=2).contains(&held), "one area per busy thread: {held}");
        burst(&p).await;
        assert!(p.resident_areas() <= 2, "reused, not added to");
    }

    #[tokio::test]
    async fn an_idle_hashing_thread_lets_its_work_area_go() {
        let p = Arc::new(Passwords::with_idle(2, Duration::from_millis(50)).expect("init"));
        burst(&p).await;
        assert_eq!(areas_until(&p, |n| n == 0).await, 0, "no area held idle");
        // A later sign-in still works, with a fresh area.
        assert!(p.hash("later".into()).await.is_ok());
    }

    /// An older release's hash (19 MiB, t=2) of "owner password 1".
    const OLDER_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$r3hkefTWxQ1FxC39HCvrIA$LzHG6sFmcMYcr68fYKhfjLiPKagabmQ8wIAz7AJDgQU";

    #[tokio::test]
    async fn an_older_hash_still_verifies_and_is_marked_for_replacing() {
        let p = Passwords::new(1).expect("init");
        assert!(p
            .verify("owner password 1".into(), Some(OLDER_HASH.into()))
            .await
            .expect("ok"));
        assert!(!p
            .verify("owner password 2".into(), Some(OLDER_HASH.into()))
            .await
            .expect("ok"));
        assert!(needs_rehash(OLDER_HASH));
        assert!(needs_rehash("not a hash"));
        assert!(!needs_rehash(DUMMY_HASH));
        let new = p.hash("owner password 1".into()).await.expect("hash");
        assert!(!needs_rehash(&new));
        let area = WORK_AREA.with(|a| a.borrow().len());
        assert!(
            area <= owasp_params().block_count(),
            "the larger, older area was not kept: {area} blocks"
        );
    }
}
