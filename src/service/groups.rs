//! Group administration: list, read, create, edit, delete. Groups a caller
//! may not see answer 404.

use super::auth::AuthContext;
use crate::domain::{permissions, Group, GroupId, GroupPatch, NewGroup};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::StoreError;

async fn visible(state: &AppState, ctx: &AuthContext, id: GroupId) -> Result<Group, AppError> {
    let group = state
        .read(move |s| s.group(id))
        .await?
        .ok_or(StoreError::GroupNotFound(id))?;
    if permissions::can_view_group(&ctx.staff, &group) {
        Ok(group)
    } else {
        Err(StoreError::GroupNotFound(id).into())
    }
}

/// The group `id`, or 404 `group_not_found` (for requests that name a
/// group: the widget's, tickets', articles').
pub(crate) async fn existing(state: &AppState, id: GroupId) -> Result<Group, AppError> {
    state
        .read(move |s| s.group(id))
        .await?
        .ok_or_else(|| StoreError::GroupNotFound(id).into())
}

/// The groups the caller may see.
pub async fn list(state: &AppState, ctx: &AuthContext) -> Result<Vec<Group>, AppError> {
    let groups = state.read(|s| s.list_groups()).await?;
    Ok(groups
        .into_iter()
        .filter(|g| permissions::can_view_group(&ctx.staff, g))
        .collect())
}

/// One group.
pub async fn get(state: &AppState, ctx: &AuthContext, id: GroupId) -> Result<Group, AppError> {
    visible(state, ctx, id).await
}

/// Creates a group.
pub async fn create(state: &AppState, ctx: &AuthContext, new: NewGroup) -> Result<Group, AppError> {
    permissions::create_or_delete_group(&ctx.staff)?;
    let rona = state.config.chat.default_rona_timeout.as_secs() as u32;
    let group = new.build(GroupId::generate(), rona, state.now())?;
    let stored = group.clone();
    state.write(move |s| s.insert_group(&stored)).await?;
    tracing::info!(actor = %ctx.staff.id, group = %group.id, "group created");
    Ok(group)
}

/// Edits a group's settings.
pub async fn update(
    state: &AppState,
    ctx: &AuthContext,
    id: GroupId,
    patch: GroupPatch,
) -> Result<Group, AppError> {
    let group = visible(state, ctx, id).await?;
    permissions::edit_group(&ctx.staff, &group)?;
    let mut next = group.clone();
    patch.apply(&mut next)?;
    let stored = next.clone();
    state.write(move |s| s.put_group(&group, &stored)).await?;
    tracing::info!(actor = %ctx.staff.id, group = %id, "group edited");
    Ok(next)
}

/// Deletes a group; its members leave it.
/// Checks that the caller may delete group `id` (it exists, they see it,
/// their role allows it). The delete itself is the engine's, which refuses
/// it while chats of the group are open.
pub async fn check_delete(
    state: &AppState,
    ctx: &AuthContext,
    id: GroupId,
) -> Result<(), AppError> {
    visible(state, ctx, id).await?;
    permissions::create_or_delete_group(&ctx.staff)?;
    Ok(())
}
