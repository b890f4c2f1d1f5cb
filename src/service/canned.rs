//! Canned responses: everyone lists what they can insert (shared and their
//! own) and keeps their own; admins keep the shared ones.

use super::auth::AuthContext;
use crate::domain::canned::{self, Canned};
use crate::domain::CannedId;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::CannedRefused;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// A new canned response.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCanned {
    /// 1 to 32 of `a-z 0-9 - _` (a leading `/` or `#` is dropped; upper case lowered).
    #[schema(max_length = 40)]
    pub shortcut: String,
    /// The text, 1 to 2,000 characters; `{visitor_name}`,
    /// `{visitor_first_name}` and `{agent_name}` are filled in when inserted.
    #[schema(max_length = 2000)]
    pub body: String,
    /// Shared with every staff member (admins only); default: personal.
    #[serde(default)]
    pub shared: bool,
}

/// A change to a canned response; a field left out stays.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedPatch {
    /// The new shortcut.
    #[schema(max_length = 40)]
    pub shortcut: Option<String>,
    /// The new text.
    #[schema(max_length = 2000)]
    pub body: Option<String>,
}

fn not_found(id: CannedId) -> AppError {
    AppError::NotFound {
        code: "canned_not_found",
        message: format!("no canned response {id} that you may change"),
    }
}

fn refused(r: CannedRefused, shortcut: &str) -> AppError {
    match r {
        CannedRefused::ShortcutTaken => AppError::Conflict {
            code: "shortcut_taken",
            message: format!("another response already answers /{shortcut}; choose another shortcut or change that one"),
        },
        CannedRefused::TooMany(max) => AppError::Conflict {
            code: "too_many_canned",
            message: format!("at most {max} responses here; delete one first"),
        },
    }
}

/// Query of `GET /api/canned`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CannedQuery {
    /// `true`: every response you see, shared ones your own hide included
    /// (for keeping them); default: what you can insert.
    pub all: Option<bool>,
}

/// What the caller can insert, by shortcut (or, `all`, every one they see).
pub async fn list(
    state: &AppState,
    ctx: &AuthContext,
    q: CannedQuery,
) -> Result<Vec<Canned>, AppError> {
    let me = ctx.staff.clone();
    let all = state.read(|s| s.all_canned()).await?;
    if q.all == Some(true) {
        let mut seen: Vec<Canned> = all
            .into_iter()
            .filter(|c| canned::visible(&me, c))
            .collect();
        seen.sort_by(|a, b| {
            a.shortcut
                .cmp(&b.shortcut)
                .then(a.owner.is_none().cmp(&b.owner.is_none()))
        });
        return Ok(seen);
    }
    Ok(canned::usable_by(&me, all))
}

/// Adds one (shared: admins).
pub async fn create(state: &AppState, ctx: &AuthContext, n: NewCanned) -> Result<Canned, AppError> {
    if n.shared && !ctx.staff.role.is_admin() {
        return Err(AppError::Forbidden(
            "only admins write shared responses; leave \"shared\" out to keep it for yourself"
                .into(),
        ));
    }
    let c = Canned {
        id: CannedId::generate(),
        shortcut: canned::shortcut(&n.shortcut)?,
        body: canned::body(&n.body)?,
        owner: (!n.shared).then_some(ctx.staff.id),
        updated_at: state.now(),
    };
    stored(state, c).await
}

/// Writes `c`, or says why the store refused it.
async fn stored(state: &AppState, c: Canned) -> Result<Canned, AppError> {
    let copy = c.clone();
    state
        .write(move |s| s.put_canned(&copy))
        .await?
        .map_err(|r| refused(r, &c.shortcut))?;
    Ok(c)
}

async fn editable(state: &AppState, ctx: &AuthContext, id: CannedId) -> Result<Canned, AppError> {
    let c = state
        .read(move |s| s.canned(id))
        .await?
        .ok_or_else(|| not_found(id))?;
    if !canned::visible(&ctx.staff, &c) {
        return Err(not_found(id));
    }
    if !canned::may_edit(&ctx.staff, &c) {
        return Err(AppError::Forbidden(
            "only admins change shared responses".into(),
        ));
    }
    Ok(c)
}

/// Changes one of the caller's (or, for admins, a shared one).
pub async fn update(
    state: &AppState,
    ctx: &AuthContext,
    id: CannedId,
    p: CannedPatch,
) -> Result<Canned, AppError> {
    let mut c = editable(state, ctx, id).await?;
    if let Some(s) = &p.shortcut {
        c.shortcut = canned::shortcut(s)?;
    }
    if let Some(b) = &p.body {
        c.body = canned::body(b)?;
    }
    c.updated_at = state.now();
    stored(state, c).await
}

/// Deletes one of the caller's (or, for admins, a shared one).
pub async fn delete(state: &AppState, ctx: &AuthContext, id: CannedId) -> Result<(), AppError> {
    editable(state, ctx, id).await?;
    state.write(move |s| s.delete_canned(id)).await?;
    Ok(())
}
