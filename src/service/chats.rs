//! Chat lists and transcripts for staff: my active, my completed, by
//! group, by agent, all; each limited to what the caller may see, sorted by
//! any column with idle time as the tie-breaker, and paged.

use super::auth::AuthContext;
use crate::domain::chat::{Chat, Handoff, Message};
use crate::domain::chat_list::{can_see, ChatRow, SortKey};
use crate::domain::{ChatId, GroupId, StaffId};
use crate::error::AppError;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// Which chats a list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Chats I own, joined or handed on.
    #[default]
    Mine,
    /// Chats of one group (`group=`); without `group=`, of every group I may see.
    Group,
    /// Chats of one agent (`agent=`); without `agent=`, every chat I may see that has an agent.
    Agent,
    /// Everything I may see.
    All,
}

/// Open or ended chats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    /// Not ended.
    #[default]
    Active,
    /// Ended.
    Completed,
    /// Both.
    Any,
}

/// Sort order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Smallest first.
    Asc,
    /// Largest first.
    #[default]
    Desc,
}

/// Query of `GET /api/chats`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChatListQuery {
    /// `mine` (default), `group`, `agent` or `all`.
    #[param(inline)]
    pub scope: Option<Scope>,
    /// `active` (default), `completed` or `any`.
    #[param(inline)]
    pub state: Option<StateFilter>,
    /// The group of `scope=group` (without it: every group you may see).
    pub group: Option<GroupId>,
    /// The agent of `scope=agent` (without it: any agent).
    pub agent: Option<StaffId>,
    /// `visitor`, `email`, `group`, `agent`, `started` (default), `duration` or `idle`.
    #[param(inline)]
    pub sort: Option<SortKey>,
    /// `asc` or `desc` (default).
    #[param(inline)]
    pub order: Option<Order>,
    /// Page, from 1 (default 1).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// One page of a chat list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChatPage {
    /// Chats matching, over all pages.
    pub total: usize,
    /// This page.
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
    /// The rows.
    pub chats: Vec<ChatRow>,
}

/// A chat with every message and event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Transcript {
    /// The chat as a list row (start, end, link …).
    pub chat: ChatRow,
    /// Every message and event in order (whispers included; visitor text
    /// masked when masking is on).
    pub messages: Vec<Message>,
    /// Every transfer, oldest first: who handed it on, to whom (an agent's
    /// or a group's id), the wrap-up reason of their part, and when.
    pub handoffs: Vec<Handoff>,
    /// The visitor's rating, once given (the comment masked as messages are).
    pub rating: Option<super::ratings::RatingView>,
}

pub(crate) async fn names(
    state: &AppState,
) -> Result<(HashMap<GroupId, String>, HashMap<StaffId, String>), AppError> {
    state
        .read(|s| {
            let groups = s
                .list_groups()?
                .into_iter()
                .map(|g| (g.id, g.name))
                .collect();
            let staff = s
                .list_staff()?
                .into_iter()
                .map(|r| (r.staff.id, r.staff.display_name))
                .collect();
            Ok((groups, staff))
        })
        .await
}

/// What turns stored chats into list rows: the group and staff names, the
/// masking view, the time and the console's address, read once per request.
pub(crate) struct Rows {
    groups: HashMap<GroupId, String>,
    staff: HashMap<StaffId, String>,
    view: crate::domain::masking::StaffView,
    now: u64,
    url: String,
}

impl Rows {
    pub(crate) async fn load(state: &AppState) -> Result<Rows, AppError> {
        let (groups, staff) = names(state).await?;
        Ok(Rows {
            groups,
            staff,
            view: state.config.chat.staff_view(),
            now: state.now(),
            url: state.config.public_url(),
        })
    }

    /// Rows named from these maps at `now` (tests).
    #[cfg(test)]
    pub(crate) fn of(
        groups: HashMap<GroupId, String>,
        staff: HashMap<StaffId, String>,
        now: u64,
    ) -> Rows {
        Rows {
            groups,
            staff,
            view: crate::domain::masking::StaffView::new(false),
            now,
            url: String::new(),
        }
    }

    /// A group's name, if it still exists.
    pub(crate) fn group_name(&self, g: GroupId) -> Option<&str> {
        self.groups.get(&g).map(String::as_str)
    }

    /// A staff member's name, if they still exist.
    pub(crate) fn staff_name(&self, s: StaffId) -> Option<&str> {
        self.staff.get(&s).map(String::as_str)
    }

    /// The row of `chat` as stored: masked as staff see it, then named.
    pub(crate) fn row(&self, chat: Chat) -> ChatRow {
        self.named(&self.view.chat(chat))
    }

    /// The row of a chat already masked for staff.
    pub(crate) fn named(&self, chat: &Chat) -> ChatRow {
        ChatRow::new(
            chat,
            self.groups.get(&chat.group).cloned().unwrap_or_default(),
            chat.owner.and_then(|o| self.staff.get(&o).cloned()),
            self.now,
            &self.url,
        )
    }
}

/// The chats of `ids`, in order (none where one was deleted).
pub(crate) async fn chats_by_id(
    state: &AppState,
    ids: Vec<ChatId>,
) -> Result<Vec<Option<Chat>>, AppError> {
    state
        .read(move |s| ids.into_iter().map(|id| s.chat(id)).collect())
        .await
}

/// A page of the chats the caller may see.
pub async fn list(
    state: &AppState,
    ctx: &AuthContext,
    q: ChatListQuery,
) -> Result<ChatPage, AppError> {
    let (page, per_page) = super::paging(q.page, q.per_page)?;
    let ask = super::chat_lists::ListAsk {
        scope: q.scope.unwrap_or_default(),
        state: q.state.unwrap_or_default(),
        group: q.group,
        agent: q.agent,
        sort: q.sort.unwrap_or(SortKey::Started),
        desc: q.order.unwrap_or_default() == Order::Desc,
        start: ((page - 1) * per_page) as u64,
        n: per_page,
    };
    let rows = Rows::load(state).await?;
    let staff = ctx.staff.clone();
    let (mut chats, total) = state
        .read(move |s| super::chat_lists::page(s, &staff, &ask, &rows))
        .await?;
    state.store.durable().await?; // as for transcripts
    let ids: Vec<ChatId> = chats.iter().map(|r| r.id).collect();
    let ratings = state
        .read(move |s| s.read_each(&ids, crate::store::Store::rating_of))
        .await?;
    for (row, rating) in chats.iter_mut().zip(ratings) {
        row.rating = rating.map(|r| r.score);
    }
    Ok(ChatPage {
        total: total as usize,
        page,
        per_page,
        chats,
    })
}

/// A chat's transcript (404 when the caller may not see it).
pub async fn transcript(
    state: &AppState,
    ctx: &AuthContext,
    id: ChatId,
) -> Result<Transcript, AppError> {
    let not_found = || AppError::NotFound {
        code: "chat_not_found",
        message: format!("no chat {id} that you may see"),
    };
    let chat = state
        .read(move |s| s.chat(id))
        .await?
        .ok_or_else(not_found)?;
    if !can_see(&ctx.staff, &chat) {
        return Err(not_found());
    }
    let view = state.config.chat.staff_view();
    let chat = view.chat(chat);
    let messages = state
        .read(move |s| s.messages_after(id, 0, usize::MAX))
        .await?
        .into_iter()
        .map(|m| view.message(m))
        .collect();
    // What was read is durable once this returns: never show more (the
    // websocket's rule). On a disk that cannot take writes this fails, and
    // the transcript is refused rather than showing a message that a
    // restart would not have.
    let rating = state.read(move |s| s.rating_of(id)).await?;
    state.store.durable().await?;
    let mut row = Rows::load(state).await?.named(&chat);
    row.rating = rating.as_ref().map(|r| r.score);
    Ok(Transcript {
        chat: row,
        messages,
        handoffs: chat.handoffs,
        rating: rating.map(|r| super::ratings::shown(r, view)),
    })
}

/// Query of `GET /api/chats/search`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChatSearchQuery {
    /// Words that must all be in the transcript or the visitor's name or
    /// email (ignoring case and accents; one letter off is forgiven in
    /// words of five letters or more).
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    /// Page, from 1 to 50 (default 1).
    #[param(minimum = 1, maximum = 50)]
    pub page: Option<u32>,
    /// Rows per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// One chat found by its text.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChatSearchRow {
    /// The chat as a list row.
    #[serde(flatten)]
    pub chat: ChatRow,
    /// Words of its transcript around the match (masked as the transcript is).
    pub snippet: String,
    /// The matched words in `snippet`: `[start, end)` byte offsets.
    pub highlights: Vec<[usize; 2]>,
}

/// One page of chats found by their text, best match first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChatSearchPage {
    /// Chats matching, over all pages.
    pub total: usize,
    /// This page.
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
    /// The chats.
    pub chats: Vec<ChatSearchRow>,
}

/// The ended chats the caller may see whose transcript has the words.
pub async fn search(
    state: &AppState,
    ctx: &AuthContext,
    q: ChatSearchQuery,
) -> Result<ChatSearchPage, AppError> {
    let bad = |message: String| AppError::BadRequest {
        code: "invalid_field",
        message,
    };
    let per_page = q.per_page.unwrap_or(20) as usize;
    if !(1..=100).contains(&per_page) {
        return Err(bad("per_page: must be between 1 and 100".into()));
    }
    let page = q.page.unwrap_or(1) as usize;
    if !(1..=50).contains(&page) {
        return Err(bad(
            "page: must be between 1 and 50; narrow the search".into()
        ));
    }
    let n = q.q.chars().count();
    if n == 0 || n > 200 {
        return Err(bad("q: 1 to 200 characters".into()));
    }
    let (index, staff, text) = (state.transcripts.clone(), ctx.staff.clone(), q.q);
    let (total, hits) = crate::state::blocking(move || {
        index.search(&text, &staff, (page - 1) * per_page, per_page)
    })
    .await?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let chats = chats_by_id(state, hits.iter().map(|h| h.chat).collect()).await?;
    let named = Rows::load(state).await?;
    let rows = hits
        .into_iter()
        .zip(chats)
        .filter_map(|(hit, chat)| {
            let chat = chat.filter(|c| can_see(&ctx.staff, c))?;
            Some(ChatSearchRow {
                chat: named.row(chat),
                snippet: hit.snippet,
                highlights: hit.highlights.into_iter().map(|(a, b)| [a, b]).collect(),
            })
        })
        .collect();
    Ok(ChatSearchPage {
        total,
        page,
        per_page,
        chats: rows,
    })
}
