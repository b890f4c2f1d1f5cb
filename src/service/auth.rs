//! Sign-in, sessions and password changes. A session token is 32 random
//! bytes given to the browser in an HttpOnly cookie; the store keeps only
//! its sha256. Each session remembers the staff member's session epoch:
//! a password change or disabling bumps the epoch, which ends every older
//! session at once, whatever races with it.

pub use super::limiter::{LimitKey, LoginLimiter};
pub use super::passwords::Passwords;

use crate::domain::clock::after;
use crate::domain::{validate, Staff};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{SessionRow, StaffRow, TokenHash};
use sha2::{Digest, Sha256};

/// How often a session's last use is written back (not on every request).
const TOUCH_EVERY_MS: u64 = 60_000;

/// A signed-in staff member, as resolved from their session cookie.
#[derive(Clone, Debug)]
pub struct AuthContext {
    /// Who.
    pub staff: Staff,
    /// Their session's token hash.
    pub token_hash: TokenHash,
    /// The CSRF token state-changing requests must echo.
    pub csrf_token: String,
}

/// A freshly issued session.
pub struct IssuedSession {
    /// Goes in the cookie; shown nowhere else.
    pub token: String,
    /// Goes in `X-CSRF-Token` headers.
    pub csrf_token: String,
    /// Who signed in.
    pub staff: Staff,
}

/// A random secret as hex.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::Rng::fill(&mut rand::thread_rng(), &mut buf[..]);
    hex::encode(buf)
}

/// The stored form of a secret token.
pub fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Creates a session for `row`.
pub async fn issue_session(state: &AppState, row: &StaffRow) -> Result<IssuedSession, AppError> {
    let token = random_token(32);
    let csrf_token = random_token(16);
    let now = state.now();
    let session = SessionRow {
        staff_id: row.staff.id,
        epoch: row.session_epoch,
        created_at: now,
        last_seen_at: now,
        csrf_token: csrf_token.clone(),
    };
    let hash = token_hash(&token);
    let expires_at = after(now, state.config.auth.session_max_lifetime);
    state
        .write(move |s| s.insert_session(&hash, &session, expires_at))
        .await?;
    Ok(IssuedSession {
        token,
        csrf_token,
        staff: row.staff.clone(),
    })
}

/// Signs in with email and password, limited per account and per address.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
    client_addr: &str,
) -> Result<IssuedSession, AppError> {
    let normalized = email.trim().to_lowercase();
    let account = LimitKey::Account(normalized.clone());
    let keys = [account.clone(), LimitKey::Address(client_addr.to_string())];
    let now = state.now();
    let _attempt = state
        .limiter
        .begin(&keys, now)
        .map_err(|retry_after_secs| AppError::TooManyAttempts { retry_after_secs })?;
    let row = match validate::email(&normalized) {
        Ok(e) => state.read(move |s| s.staff_by_email(&e)).await?,
        Err(_) => None,
    };
    let hash = row.as_ref().map(|r| r.password_hash.clone());
    let rehash = hash
        .as_deref()
        .is_some_and(super::passwords::needs_rehash)
        .then(|| password.clone());
    let ok = state.passwords.verify(password, hash).await?;
    let row = match row {
        Some(row) if ok => row,
        _ => {
            state.limiter.failed(&keys, state.now());
            tracing::info!("failed sign-in");
            return Err(AppError::InvalidCredentials);
        }
    };
    state.limiter.succeeded(&account);
    if row.staff.disabled {
        return Err(AppError::AccountDisabled);
    }
    tracing::info!(staff = %row.staff.id, "signed in");
    let row = match rehash {
        Some(password) => replace_older_hash(state, row, password).await,
        None => row,
    };
    issue_session(state, &row).await
}

/// Stores a new hash of a password that was just checked against an older
/// release's hash, so every hash moves to the current parameters. The
/// sign-in goes ahead if this fails (the old hash still works).
async fn replace_older_hash(state: &AppState, row: StaffRow, password: String) -> StaffRow {
    let hash = match state.passwords.hash(password).await {
        Ok(hash) => hash,
        Err(e) => {
            tracing::warn!(staff = %row.staff.id, error = %e, "could not rehash a password");
            return row;
        }
    };
    let mut next = row.clone();
    next.password_hash = hash;
    let prev = row.clone();
    let stored = next.clone();
    match state.write(move |s| s.put_staff(&prev, &stored)).await {
        Ok(()) => {
            tracing::info!(staff = %row.staff.id, "password hash moved to current parameters");
            next
        }
        Err(e) => {
            tracing::warn!(staff = %row.staff.id, error = %e, "could not store a rehashed password");
            row
        }
    }
}

/// Resolves a session token to its staff member, or says the session ended.
pub async fn resolve(state: &AppState, token: &str) -> Result<AuthContext, AppError> {
    let hash = token_hash(token);
    let now = state.now();
    let idle = state.config.auth.session_idle_timeout;
    let max = state.config.auth.session_max_lifetime;
    let found = state
        .read(move |s| {
            let Some(session) = s.session(&hash)? else {
                return Ok(None);
            };
            let staff = s.staff(session.staff_id)?;
            Ok(Some((session, staff)))
        })
        .await?;
    let Some((mut session, staff)) = found else {
        return Err(AppError::SessionEnded);
    };
    let expired = after(session.last_seen_at, idle) <= now || after(session.created_at, max) <= now;
    let valid_staff = staff.filter(|r| !r.staff.disabled && r.session_epoch == session.epoch);
    let Some(row) = valid_staff.filter(|_| !expired) else {
        state.read(move |s| s.delete_session(&hash)).await?;
        return Err(AppError::SessionEnded);
    };
    // Written back at most once a minute, and at least ten times per idle
    // timeout: with a short timeout (8 s) a session used every 2 s must not
    // look idle because its last use was never written.
    let touch_every = TOUCH_EVERY_MS.min(idle.as_millis() as u64 / 10);
    if now.saturating_sub(session.last_seen_at) >= touch_every {
        session.last_seen_at = now;
        let touched = session.clone();
        // Not awaited for durability: losing a touch in a crash only
        // shortens the idle window.
        state
            .read(move |s| s.update_session(&hash, &touched))
            .await?;
    }
    Ok(AuthContext {
        staff: row.staff,
        token_hash: hash,
        csrf_token: session.csrf_token,
    })
}

/// Ends the caller's session.
pub async fn sign_out(state: &AppState, ctx: &AuthContext) -> Result<(), AppError> {
    let hash = ctx.token_hash;
    state.write(move |s| s.delete_session(&hash)).await
}

/// Sets a new password for `row` and ends every session of theirs except
/// `keep` (the caller's own, when they change their own password).
pub async fn replace_password(
    state: &AppState,
    row: StaffRow,
    new_password: String,
    keep: Option<TokenHash>,
) -> Result<(), AppError> {
    validate::password(&new_password)?;
    let hash = state.passwords.hash(new_password).await?;
    let mut next = row.clone();
    next.password_hash = hash;
    next.session_epoch += 1;
    let epoch = next.session_epoch;
    let id = row.staff.id;
    state
        .write(move |s| {
            s.put_staff(&row, &next)?;
            if let Some(keep) = keep {
                if let Some(mut mine) = s.session(&keep)? {
                    mine.epoch = epoch;
                    s.update_session(&keep, &mine)?;
                }
            }
            s.delete_sessions_of(id, keep.as_ref())
        })
        .await?;
    tracing::info!(staff = %id, "password changed; other sessions ended");
    Ok(())
}

/// Changes the caller's own password after checking the current one.
pub async fn change_own_password(
    state: &AppState,
    ctx: &AuthContext,
    current: String,
    new_password: String,
) -> Result<(), AppError> {
    let id = ctx.staff.id;
    let account = [LimitKey::Account(ctx.staff.email.clone())];
    if let Err(retry_after_secs) = state.limiter.check(&account, state.now()) {
        return Err(AppError::TooManyAttempts { retry_after_secs });
    }
    let row = state
        .read(move |s| s.staff(id))
        .await?
        .ok_or(AppError::SessionEnded)?;
    if !state
        .passwords
        .verify(current, Some(row.password_hash.clone()))
        .await?
    {
        state.limiter.failed(&account, state.now());
        return Err(AppError::Forbidden("the current password is wrong".into()));
    }
    replace_password(state, row, new_password, Some(ctx.token_hash)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_hashes_fixed_width() {
        let a = random_token(32);
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token(32));
        assert_eq!(token_hash(&a), token_hash(&a));
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
