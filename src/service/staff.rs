//! Staff administration: list, read, create, edit, disable, reset a
//! password, hand ownership over. Permissions come from
//! `domain::permissions`; staff a caller may not see answer 404, so ids
//! cannot be probed.

use super::auth::{self, AuthContext};
use crate::domain::{permissions, NewStaff, Staff, StaffId, StaffPatch};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{StaffRow, StoreError};

fn not_found() -> AppError {
    AppError::from(StoreError::StaffNotFound)
}

async fn visible_row(
    state: &AppState,
    ctx: &AuthContext,
    id: StaffId,
) -> Result<StaffRow, AppError> {
    let row = state
        .read(move |s| s.staff(id))
        .await?
        .ok_or_else(not_found)?;
    if permissions::can_view_staff(&ctx.staff, &row.staff) {
        Ok(row)
    } else {
        Err(not_found())
    }
}

/// The staff the caller may see.
pub async fn list(state: &AppState, ctx: &AuthContext) -> Result<Vec<Staff>, AppError> {
    let rows = state.read(|s| s.list_staff()).await?;
    Ok(rows
        .into_iter()
        .map(|r| r.staff)
        .filter(|s| permissions::can_view_staff(&ctx.staff, s))
        .collect())
}

/// One staff member.
pub async fn get(state: &AppState, ctx: &AuthContext, id: StaffId) -> Result<Staff, AppError> {
    Ok(visible_row(state, ctx, id).await?.staff)
}

/// Creates a staff member with an initial password.
pub async fn create(state: &AppState, ctx: &AuthContext, new: NewStaff) -> Result<Staff, AppError> {
    permissions::create_staff(&ctx.staff, new.role)?;
    let staff = new.build(
        StaffId::generate(),
        state.config.chat.default_max_concurrent_chats,
        state.now(),
    )?;
    let password_hash = state.passwords.hash(new.password).await?;
    let row = StaffRow {
        staff: staff.clone(),
        password_hash,
        session_epoch: 0,
    };
    state.write(move |s| s.insert_staff(&row)).await?;
    tracing::info!(actor = %ctx.staff.id, staff = %staff.id, role = staff.role.as_str(), "staff created");
    Ok(staff)
}

/// Applies a partial edit. Disabling ends the member's sessions.
pub async fn update(
    state: &AppState,
    ctx: &AuthContext,
    id: StaffId,
    patch: StaffPatch,
) -> Result<Staff, AppError> {
    let row = visible_row(state, ctx, id).await?;
    permissions::edit_staff(&ctx.staff, &row.staff, &patch)?;
    let mut next = row.clone();
    patch.apply(&mut next.staff)?;
    let disabling = next.staff.disabled && !row.staff.disabled;
    if disabling {
        next.session_epoch += 1;
    }
    let staff = next.staff.clone();
    state
        .write(move |s| {
            s.put_staff(&row, &next)?;
            if disabling {
                s.delete_sessions_of(id, None)?;
            }
            Ok(())
        })
        .await?;
    tracing::info!(actor = %ctx.staff.id, staff = %id, disabled = staff.disabled, "staff edited");
    Ok(staff)
}

/// An administrator sets someone's password; their sessions end.
pub async fn reset_password(
    state: &AppState,
    ctx: &AuthContext,
    id: StaffId,
    new_password: String,
) -> Result<(), AppError> {
    let row = visible_row(state, ctx, id).await?;
    permissions::reset_password(&ctx.staff, &row.staff)?;
    auth::replace_password(state, row, new_password, None).await
}

/// The owner hands ownership to an admin and becomes an admin.
pub async fn transfer_ownership(
    state: &AppState,
    ctx: &AuthContext,
    to: StaffId,
) -> Result<Staff, AppError> {
    let target = visible_row(state, ctx, to).await?;
    permissions::transfer_ownership(&ctx.staff, &target.staff)?;
    let from = ctx.staff.id;
    state.write(move |s| s.transfer_ownership(from, to)).await?;
    tracing::info!(from = %from, to = %to, "ownership handed over");
    get(state, ctx, to).await
}
