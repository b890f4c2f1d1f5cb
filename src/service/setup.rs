//! First run and locked-out sysadmins. On start with no owner, a one-time
//! setup link (random token, valid `auth.setup_link_lifetime`, usable once)
//! lets the first person create the owner in the browser. The CLI can
//! create the owner or reset a password directly on the data folder.

use super::auth::{self, IssuedSession};
use crate::domain::clock::after;
use crate::domain::{validate, Role, Staff, StaffId};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{StaffRow, Store};
use serde::Deserialize;
use utoipa::ToSchema;

/// What the setup page sends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token from the setup link (the part after `#`).
    pub token: String,
    /// The owner's sign-in email.
    pub email: String,
    /// The owner's display name.
    pub display_name: String,
    /// The owner's password.
    pub password: String,
}

/// A setup link to check before the form is filled in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupCheck {
    /// The token from the setup link (the part after `#`).
    pub token: String,
}

/// Whether the link still works: Ok, or `setup_link_invalid` (unknown,
/// used, expired, or an owner exists).
pub async fn check(state: &AppState, req: SetupCheck) -> Result<(), AppError> {
    let link = auth::token_hash(req.token.trim());
    let now = state.now();
    if state.read(move |s| s.setup_link_valid(&link, now)).await? {
        Ok(())
    } else {
        Err(crate::store::StoreError::SetupLinkInvalid.into())
    }
}

/// Makes a new setup link when no owner exists yet; returns its URL.
/// Any earlier link stops working.
pub fn ensure_setup_link(
    store: &Store,
    public_url: &str,
    lifetime: std::time::Duration,
    now: u64,
) -> Result<Option<String>, AppError> {
    if store.owner_id()?.is_some() {
        return Ok(None);
    }
    let token = auth::random_token(32);
    store.replace_setup_link(&auth::token_hash(&token), after(now, lifetime))?;
    store.flush_now()?;
    Ok(Some(format!("{public_url}/setup#{token}")))
}

fn owner_row(
    email: &str,
    display_name: &str,
    password_hash: String,
    now: u64,
) -> Result<StaffRow, AppError> {
    Ok(StaffRow {
        staff: Staff {
            id: StaffId::generate(),
            email: validate::email(email)?,
            display_name: validate::text("display_name", display_name, 1, 80)?,
            role: Role::Owner,
            chat_enabled: true,
            max_concurrent_chats: 3,
            groups: vec![],
            disabled: false,
            created_at: now,
        },
        password_hash,
        session_epoch: 0,
    })
}

/// Completes setup: consumes the link, creates the owner, signs them in.
pub async fn complete(state: &AppState, req: SetupRequest) -> Result<IssuedSession, AppError> {
    validate::password(&req.password)?;
    // Validate before the costly hash.
    owner_row(&req.email, &req.display_name, String::new(), 0)?;
    let hash = state.passwords.hash(req.password).await?;
    let now = state.now();
    let mut row = owner_row(&req.email, &req.display_name, hash, now)?;
    row.staff.max_concurrent_chats = state.config.chat.default_max_concurrent_chats;
    let link = auth::token_hash(req.token.trim());
    let stored = row.clone();
    state
        .write(move |s| s.complete_setup(&link, now, &stored))
        .await?;
    tracing::info!(staff = %row.staff.id, "owner created through the setup link");
    auth::issue_session(state, &row).await
}

/// `livedesk owner create`: creates the owner when none exists.
pub fn create_owner_now(
    store: &Store,
    email: &str,
    display_name: &str,
    password: &str,
    now: u64,
) -> Result<Staff, AppError> {
    validate::password(password)?;
    let row = owner_row(
        email,
        display_name,
        super::passwords::hash_now(password)?,
        now,
    )?;
    store.insert_staff(&row)?;
    store.flush_now()?;
    Ok(row.staff)
}

/// `livedesk owner reset-password`: sets a staff member's password and ends
/// their sessions.
pub fn reset_password_now(store: &Store, email: &str, password: &str) -> Result<Staff, AppError> {
    validate::password(password)?;
    let email = validate::email(email)?;
    let row = store
        .staff_by_email(&email)?
        .ok_or_else(|| AppError::NotFound {
            code: "staff_not_found",
            message: format!("no staff member signs in as {email}"),
        })?;
    let mut next = row.clone();
    next.password_hash = super::passwords::hash_now(password)?;
    next.session_epoch += 1;
    store.put_staff(&row, &next)?;
    store.delete_sessions_of(row.staff.id, None)?;
    store.flush_now()?;
    Ok(next.staff)
}
