//! Chat lists and transcripts as staff see them: who may see which chat,
//! the row shown per chat, and the sort order (any column, with idle time
//! as the final tie-breaker: "3 chats from the same customer sort from least
//! idle to most idle").

use super::chat::{Chat, ChatState};
use super::clock::Millis;
use super::ids::{ChatId, GroupId, StaffId};
use super::staff::{Role, Staff};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether `staff` may see `chat` in lists and read its transcript: admins
/// all; managers the chats of their groups; everyone the chats they owned,
/// joined or handed on.
pub fn can_see(staff: &Staff, chat: &Chat) -> bool {
    staff.role.is_admin()
        || chat.owner == Some(staff.id)
        || chat.conference.contains(&staff.id)
        || chat.handoffs.iter().any(|h| h.from == staff.id)
        || (staff.role == Role::Manager && staff.in_group(chat.group))
}

/// One chat in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatRow {
    /// The chat.
    pub id: ChatId,
    /// The visitor's name.
    pub visitor_name: String,
    /// The visitor's email, if given.
    pub visitor_email: Option<String>,
    /// Its group (the last one, after transfers).
    pub group: GroupId,
    /// The group's name.
    pub group_name: String,
    /// The agent who owns or owned it.
    pub agent: Option<StaffId>,
    /// That agent's name.
    pub agent_name: Option<String>,
    /// Lifecycle state.
    pub state: ChatState,
    /// Start time.
    pub started_at: Millis,
    /// End time, when ended.
    pub ended_at: Option<Millis>,
    /// Seconds from start to end (or to now while open).
    pub duration_secs: u64,
    /// Seconds since the last message of either side, while open.
    pub idle_secs: Option<u64>,
    /// The latest wrap-up reason given: the chat's final one, or, while a
    /// chat goes on after a transfer, that of the part handed on.
    pub wrap_up: Option<String>,
    /// Stable link that opens the chat in the console.
    pub link: String,
    /// The visitor's rating (`good` or `bad`), once given.
    #[serde(default)]
    pub rating: Option<super::rating::Score>,
}

impl ChatRow {
    /// The row for `chat` at `now`, with names looked up by the caller.
    pub fn new(
        chat: &Chat,
        group_name: String,
        agent_name: Option<String>,
        now: Millis,
        console_url: &str,
    ) -> Self {
        let end = chat.ended_at.unwrap_or(now);
        let open = chat.state != ChatState::Ended;
        let last = chat
            .visitor_active_at
            .max(chat.agent_active_at)
            .max(chat.started_at);
        Self {
            id: chat.id,
            visitor_name: chat.visitor.name.clone(),
            visitor_email: chat.visitor.email.clone(),
            group: chat.group,
            group_name,
            agent: chat.owner,
            agent_name,
            state: chat.state,
            started_at: chat.started_at,
            ended_at: chat.ended_at,
            duration_secs: end.saturating_sub(chat.started_at) / 1000,
            idle_secs: open.then(|| now.saturating_sub(last) / 1000),
            wrap_up: chat
                .wrap_up
                .clone()
                .or_else(|| chat.handoffs.last().map(|h| h.reason.clone())),
            link: format!("{console_url}/#/chats/{}", chat.id),
            rating: None,
        }
    }
}

/// Columns a list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Visitor name.
    Visitor,
    /// Visitor email.
    Email,
    /// Group name.
    Group,
    /// Agent name.
    Agent,
    /// Start time.
    Started,
    /// Duration.
    Duration,
    /// Idle time.
    Idle,
}

/// Sorts rows by `key` (descending when `desc`), then by idle time from
/// least to most idle in both directions, then by start time and id in
/// the list's direction, so the order is total and stable. Group and agent
/// names that tie (two agents of the same name) are told apart by their
/// ids, so each one's chats stay together. The chat-list indexes keep
/// this order as bytes (`chat_order`).
pub fn sort_rows(rows: &mut [ChatRow], key: SortKey, desc: bool) {
    let lower = |r: &ChatRow, s: &str| (s.to_lowercase(), r.group);
    rows.sort_by(|a, b| {
        let primary = match key {
            SortKey::Visitor => a
                .visitor_name
                .to_lowercase()
                .cmp(&b.visitor_name.to_lowercase()),
            SortKey::Email => a.visitor_email.cmp(&b.visitor_email),
            SortKey::Group => lower(a, &a.group_name).cmp(&lower(b, &b.group_name)),
            SortKey::Agent => (&a.agent_name, a.agent).cmp(&(&b.agent_name, b.agent)),
            SortKey::Started => a.started_at.cmp(&b.started_at),
            SortKey::Duration => a.duration_secs.cmp(&b.duration_secs),
            SortKey::Idle => a.idle_secs.cmp(&b.idle_secs),
        };
        let tail = a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id));
        let (primary, tail) = if desc {
            (primary.reverse(), tail.reverse())
        } else {
            (primary, tail)
        };
        primary
            .then(
                a.idle_secs
                    .unwrap_or(u64::MAX)
                    .cmp(&b.idle_secs.unwrap_or(u64::MAX)),
            )
            .then(tail)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, idle: Option<u64>, started: Millis) -> ChatRow {
        ChatRow {
            id: ChatId::generate(),
            visitor_name: name.into(),
            visitor_email: None,
            group: GroupId::generate(),
            group_name: "G".into(),
            agent: None,
            agent_name: None,
            state: ChatState::Active,
            started_at: started,
            ended_at: None,
            duration_secs: 0,
            idle_secs: idle,
            wrap_up: None,
            link: String::new(),
            rating: None,
        }
    }

    #[test]
    fn ties_are_broken_by_idle_time_least_idle_first_in_both_directions() {
        let mut rows = vec![
            row("vera", Some(300), 1),
            row("Anna", Some(5), 2),
            row("Vera", Some(10), 3),
        ];
        sort_rows(&mut rows, SortKey::Visitor, false);
        let order: Vec<(&str, Option<u64>)> = rows
            .iter()
            .map(|r| (r.visitor_name.as_str(), r.idle_secs))
            .collect();
        assert_eq!(
            order,
            vec![("Anna", Some(5)), ("Vera", Some(10)), ("vera", Some(300))]
        );
        sort_rows(&mut rows, SortKey::Visitor, true);
        let order: Vec<Option<u64>> = rows.iter().map(|r| r.idle_secs).collect();
        assert_eq!(order, vec![Some(10), Some(300), Some(5)]);
        sort_rows(&mut rows, SortKey::Started, true);
        assert_eq!(rows[0].started_at, 3);
    }

    #[test]
    fn rows_compute_duration_and_idle() {
        use crate::domain::chat::Visitor;
        let visitor = Visitor {
            name: "V".into(),
            email: None,
            page_url: None,
        };
        let chat = Chat {
            state: ChatState::Active,
            visitor_active_at: 61_000,
            agent_active_at: 31_000,
            ..Chat::waiting(GroupId::generate(), visitor, 1_000)
        };
        let r = ChatRow::new(&chat, "G".into(), None, 121_000, "http://desk");
        assert_eq!((r.duration_secs, r.idle_secs), (120, Some(60)));
        assert_eq!(r.link, format!("http://desk/#/chats/{}", chat.id));
    }
}
