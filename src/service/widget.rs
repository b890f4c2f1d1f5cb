//! The widget's side of the desk: what a page embedding it is told about
//! its groups (look, language, whether they take chats now), and the
//! offline messages visitors leave when they do not.

use super::auth::AuthContext;
use crate::domain::group::Position;
use crate::domain::offline::{self, NewOfflineMessage, OfflineMessage, MAX_OFFLINE_CHARS};
use crate::domain::{Group, GroupId, OfflineMessageId};
use crate::engine::Command;
use crate::error::AppError;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of `GET /api/visitor/widget`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WidgetQuery {
    /// Group ids separated by commas, without spaces (the snippet's
    /// `data-group`); absent: every group, for the visitor to pick.
    #[param(
        max_length = 1000,
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})*$"
    )]
    pub groups: Option<String>,
}

/// One group as the widget shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WidgetGroup {
    /// The group.
    pub id: GroupId,
    /// Its name (the visitor picks by it).
    pub name: String,
    /// Title bar text.
    pub title: String,
    /// Accent colour, `#rrggbb`.
    pub color: String,
    /// Text colour on the accent: black or white, whichever has the
    /// higher contrast (always at least WCAG AA's 4.5:1).
    pub text_color: String,
    /// The greeting.
    pub greeting: String,
    /// Language of the widget's texts, or `auto` (the browser's).
    pub language: String,
    /// The launcher's corner.
    pub position: Position,
    /// Agents see the visitor's draft as they type.
    pub sneak_peek: bool,
    /// A chat started now would be queued; false: show the message form.
    pub open: bool,
    /// When a closed date closes the group today: its note for visitors
    /// ("" when it has none); otherwise null.
    pub closed_note: Option<String>,
}

/// What `GET /api/visitor/widget` answers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WidgetInfo {
    /// The groups, in the order asked (or by name).
    pub groups: Vec<WidgetGroup>,
    /// Longest question or message, characters.
    pub max_message_chars: usize,
    /// Longest offline message, characters.
    pub max_offline_chars: usize,
    /// Whether the desk mails transcripts: the ended chat offers
    /// "Email me the transcript" (`POST /api/visitor/transcript`).
    pub transcript_by_email: bool,
}

/// A group id as the `groups` list takes it (the query parameter's pattern
/// in the document says the same): 8-4-4-4-12 hex digits.
fn hyphenated_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn parse_groups(list: Option<&str>) -> Result<Vec<GroupId>, AppError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(|s| {
            let bad = || {
                AppError::Field(crate::domain::validate::FieldError {
                    field: "groups",
                    message: format!(
                        "{s:?} is not a group id: give group ids (UUIDs like 0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10) separated by commas, without spaces"
                    ),
                })
            };
            if !hyphenated_uuid(s) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        })
        .collect()
}

/// Refuses a page of `foreign` (an origin the desk-wide rules do not let
/// in, see `middleware::foreign_origin`) unless `group` lists it.
pub fn check_site(group: &Group, foreign: Option<&str>) -> Result<(), AppError> {
    match foreign {
        Some(origin) if !group.lists_origin(origin) => {
            Err(AppError::OriginNotAllowed(origin.to_string()))
        }
        _ => Ok(()),
    }
}

/// The groups a widget shows, with whether each takes chats now. A page of
/// a `foreign` origin sees only groups that list it.
pub async fn info(
    state: &AppState,
    q: WidgetQuery,
    foreign: Option<String>,
) -> Result<WidgetInfo, AppError> {
    let wanted = parse_groups(q.groups.as_deref())?;
    let mut groups: Vec<Group> = state.read(|s| s.list_groups()).await?;
    if wanted.is_empty() {
        groups.retain(|g| check_site(g, foreign.as_deref()).is_ok());
        groups.sort_by_key(|g| g.name.to_lowercase());
    } else {
        let mut picked = Vec::new();
        for id in &wanted {
            let g = groups
                .iter()
                .find(|g| g.id == *id)
                .ok_or_else(|| AppError::NotFound {
                    code: "group_not_found",
                    message: format!(
                        "no group {id}; copy the snippet again from the console's Groups screen"
                    ),
                })?;
            check_site(g, foreign.as_deref())?;
            if !picked.iter().any(|p: &Group| p.id == g.id) {
                picked.push(g.clone());
            }
        }
        groups = picked;
    }
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let (open, closed_note) = state
            .engine
            .ask(|reply| Command::TakesChats(g.id, reply))
            .await?;
        out.push(WidgetGroup {
            id: g.id,
            name: g.name,
            text_color: g.widget.text_color().to_string(),
            title: g.widget.title,
            color: g.widget.color,
            greeting: g.widget.greeting,
            language: g.widget.language,
            position: g.widget.position,
            sneak_peek: g.sneak_peek,
            open,
            closed_note,
        });
    }
    Ok(WidgetInfo {
        groups: out,
        max_message_chars: state.config.chat.max_message_chars,
        max_offline_chars: MAX_OFFLINE_CHARS,
        transcript_by_email: state.config.mail.is_on(),
    })
}

/// The chat a visitor's token opens, from a page of `foreign` origin when
/// another site's (checked against the chat's group); 404 `chat_not_found`
/// for a token that opens none.
pub(crate) async fn visitor_chat(
    state: &AppState,
    token: &str,
    foreign: Option<String>,
) -> Result<crate::domain::chat::Chat, AppError> {
    let unknown = || AppError::NotFound {
        code: "chat_not_found",
        message: "no chat has this token".into(),
    };
    if token.is_empty() || token.len() > 100 {
        return Err(unknown());
    }
    let hash = super::auth::token_hash(token);
    let chat = state
        .read(move |s| match s.chat_id_by_token(&hash)? {
            Some(id) => s.chat(id),
            None => Ok(None),
        })
        .await?
        .ok_or_else(unknown)?;
    let group = chat.group;
    if let Some(g) = state.read(move |s| s.group(group)).await? {
        check_site(&g, foreign.as_deref())?;
    }
    Ok(chat)
}

/// The answer to leaving an offline message.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OfflineLeft {
    /// The stored message.
    pub id: OfflineMessageId,
    /// The number of the ticket it is on (shown to the visitor as `#1001`).
    pub ticket: Option<u64>,
}

/// Stores a visitor's offline message durably.
pub async fn leave(
    state: &AppState,
    form: NewOfflineMessage,
    foreign: Option<String>,
) -> Result<OfflineLeft, AppError> {
    let mut m = form.build(state.now())?;
    if state.config.chat.store_masked {
        m.message = crate::domain::masking::mask(&m.message);
    }
    let group = m.group;
    let g = super::groups::existing(state, group).await?;
    check_site(&g, foreign.as_deref())?;
    if let Some(token) = form.chat_token.as_deref().filter(|t| t.len() <= 100) {
        let hash = super::auth::token_hash(token);
        let chat = state
            .read(move |s| match s.chat_id_by_token(&hash)? {
                Some(id) => s.chat(id),
                None => Ok(None),
            })
            .await?;
        m.chat = chat
            .filter(|c| c.state == crate::domain::chat::ChatState::Ended && c.group == group)
            .map(|c| c.id);
    }
    let id = m.id;
    let now = state.now();
    let made = state
        .write(move |s| super::tickets::store_offline_message(s, &m, now))
        .await?;
    let ticket = match made {
        crate::store::Made::Created(t) | crate::store::Made::Existing(t) => Some(t.number),
        crate::store::Made::Nothing => None,
    };
    Ok(OfflineLeft { id, ticket })
}

/// Query of `GET /api/offline_messages`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OfflineQuery {
    /// Only this group's.
    pub group: Option<GroupId>,
    /// Page, from 1 (default 1).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// A page of offline messages, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OfflinePage {
    /// How many there are in all.
    pub total: usize,
    /// This page (from 1).
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
    /// The messages (masked as chats are when masking is on).
    pub messages: Vec<OfflineMessage>,
}

/// The offline messages of the caller's groups (all for admins).
pub async fn list(
    state: &AppState,
    ctx: &AuthContext,
    q: OfflineQuery,
) -> Result<OfflinePage, AppError> {
    let (page, per_page) = super::paging(q.page, q.per_page)?;
    let staff = ctx.staff.clone();
    let only = q.group;
    let all = state
        .read(move |s| {
            s.offline_messages(|m| {
                offline::can_read(&staff, m.group) && only.is_none_or(|g| g == m.group)
            })
        })
        .await?;
    state.store.durable().await?; // show only what is on disk
    let view = state.config.chat.staff_view();
    let total = all.len();
    let messages = all
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|m| view.offline_message(m))
        .collect();
    Ok(OfflinePage {
        total,
        page,
        per_page,
        messages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_groups_list_takes_hyphenated_ids_and_commas_only() {
        let a = "0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10";
        assert_eq!(parse_groups(None).map(|v| v.len()).ok(), Some(0));
        assert_eq!(
            parse_groups(Some(&format!("{a},{a}")))
                .map(|v| v.len())
                .ok(),
            Some(2)
        );
        for bad in [
            "",
            ",",
            "nope",
            "0192f1e47c2a7b3e9a513f0c2d8e4b10",
            &format!("{a}, {a}"),
            &format!("{a},"),
        ] {
            assert!(parse_groups(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
