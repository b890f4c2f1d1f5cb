//! Password hashing: argon2id with the OWASP-recommended parameters
//! (19 MiB, 2 passes, 1 lane), run on blocking threads under a semaphore so
//! a flood of sign-ins queues instead of exhausting memory or starving the
//! async workers. Unknown emails are checked against a dummy hash so the
//! time taken does not reveal which emails exist.

use crate::error::AppError;
use crate::state::blocking;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password synchronously (CLI commands, and inside [`Passwords`]).
pub fn hash_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Bounded, off-thread password hashing.
pub struct Passwords {
    permits: Semaphore,
    dummy_hash: String,
}

impl Passwords {
    /// At most `concurrent` hashes at once.
    pub fn new(concurrent: usize) -> Result<Self, AppError> {
        Ok(Self {
            permits: Semaphore::new(concurrent.max(1)),
            dummy_hash: hash_now("livedesk dummy password for unknown accounts")?,
        })
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::Internal("hasher closed".into()))?;
        blocking(move || hash_now(&password)).await?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when
    /// there is no account, taking the same time either way.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::Internal("hasher closed".into()))?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.clone());
        let ok = blocking(move || verify_now(&password, &hash)).await?;
        Ok(ok && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
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
