//! Password hashing: argon2id with the OWASP-recommended parameters
//! (19 MiB, 2 passes, 1 lane), run on a few dedicated threads so a flood of
//! sign-ins queues instead of exhausting memory or starving the async
//! workers. Unknown emails are checked against a dummy hash so the
//! time taken does not reveal which emails exist.

use crate::error::AppError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;

/// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
fn owasp_params() -> Params {
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

thread_local! {
    /// Each thread's argon2 work area, allocated once and reused: a fresh
    /// 19 MiB area per hash was not given back well by the allocator
    /// (measured: 244 MB resident after forty sign-ins).
    static WORK_AREA: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn failed(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("password hashing failed: {e}"))
}

/// Runs argon2 with this thread's work area.
fn compute(
    argon: &Argon2<'_>,
    blocks: usize,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), AppError> {
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

/// Checked against when an email is unknown, so that costs the same time as
/// a real check. A fixed hash (of a random password nobody knows, with the
/// same parameters) rather than one made at start-up: that would keep a
/// 19 MiB work area resident on an idle desk.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ku2Mgn8LPTt75j7T+v2N6A$7/OJb5fDFlQQFw37rjSG4rxcxXKuFvq4pW1VZgcRTkg";

/// Password hashing on a fixed set of dedicated threads. Each argon2id run
/// takes a 19 MiB work area; on the general blocking pool every thread that
/// ever hashed kept its own (the allocator's per-thread arenas), which
/// measured 260 MB after two dozen sign-ins. With `concurrent` dedicated
/// threads at most that many areas exist, and a flood of sign-ins queues.
pub struct Passwords {
    jobs: std::sync::mpsc::Sender<Job>,
    dummy_hash: String,
}

impl Passwords {
    /// Starts `concurrent` hashing threads.
    pub fn new(concurrent: usize) -> Result<Self, AppError> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for i in 0..concurrent.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("livedesk-hash-{i}"))
                .spawn(move || loop {
                    let job = {
                        let q = queue.lock().unwrap_or_else(|p| p.into_inner());
                        q.recv()
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                })
                .map_err(|e| AppError::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Self {
            jobs,
            dummy_hash: DUMMY_HASH.to_string(),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(span.in_scope(work));
            }))
            .map_err(|_| AppError::Internal("hashing threads stopped".into()))?;
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
            DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "same cost as real ones"
        );
        let p = Passwords::new(1).expect("init");
        let h = p.hash("correct horse".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
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
}
