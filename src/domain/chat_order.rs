//! Chat-list order as bytes. An ended chat is listed in index trees whose
//! keys sort exactly as [`super::chat_list::sort_rows`] sorts rows, so a
//! page is a walk of a key range, never a sort of every chat. Open chats
//! (few: the live desk) are given keys in the same space at request time,
//! and the two are merged.
//!
//! A key is `primary ++ marker ++ started (u64 BE) ++ chat id`:
//!
//! - `primary` is the sort column's value: the start time (u64 BE ms,
//!   then not repeated after the marker),
//!   the lower-cased visitor name, the email (`0` none, `1` then the text),
//!   the duration in seconds (u64 BE), or for the group and agent columns
//!   the group's or owner's id (16 bytes, zeros for none): those columns
//!   are ordered by name at read time, one id's range at a time, so a
//!   rename rewrites nothing.
//! - `marker` is `1` for an ended chat. An open chat that ties on the
//!   primary comes first in both directions (least idle first: it is `0`
//!   then its idle time when ascending, `2` then the complement of its idle
//!   time when descending, whose keys are read backwards). For the idle
//!   column ended chats (no idle time) come first ascending: they are read
//!   from the start-time index and open chats keyed by `0xFF`, idle time,
//!   start and id.
//!
//! Text is written with every `0` byte as `0 0xFF` and ended by `0 0`, so
//! byte order is the text's order and no text is a prefix of another's key.

use super::chat::Chat;
use super::chat_list::{ChatRow, SortKey};
use super::clock::Millis;
use super::ids::{ChatId, GroupId, StaffId};

/// The columns an index keeps; the idle order of ended chats is their
/// start order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    /// Start time.
    Started = 1,
    /// Lower-cased visitor name.
    Visitor = 2,
    /// Visitor email.
    Email = 3,
    /// Duration in seconds.
    Duration = 4,
    /// Group id (ordered by name at read time).
    Group = 5,
    /// Owner id (ordered by name at read time).
    Agent = 6,
}

impl Column {
    /// The column a list sort reads.
    pub fn of(sort: SortKey) -> Column {
        match sort {
            SortKey::Visitor => Column::Visitor,
            SortKey::Email => Column::Email,
            SortKey::Group => Column::Group,
            SortKey::Agent => Column::Agent,
            SortKey::Started | SortKey::Idle => Column::Started,
            SortKey::Duration => Column::Duration,
        }
    }

    /// Its byte in an index key.
    pub fn tag(self) -> u8 {
        self as u8
    }
}

/// An id field of a key: 16 bytes, zeros for none.
pub type Entity = [u8; 16];

/// The entity of "no agent".
pub const NO_ONE: Entity = [0; 16];

/// What a chat's keys are made of.
#[derive(Clone, Debug)]
pub struct OrderFields<'a> {
    name: &'a str,
    email: Option<&'a str>,
    group: GroupId,
    owner: Option<StaffId>,
    started: Millis,
    duration_secs: u64,
    /// Seconds idle, while open.
    idle: Option<u64>,
    id: ChatId,
}

impl<'a> OrderFields<'a> {
    /// An ended chat as stored (its duration as [`ChatRow::new`] counts it).
    pub fn ended(chat: &'a Chat) -> Self {
        let end = chat.ended_at.unwrap_or(chat.started_at);
        Self {
            name: &chat.visitor.name,
            email: chat.visitor.email.as_deref(),
            group: chat.group,
            owner: chat.owner,
            started: chat.started_at,
            duration_secs: end.saturating_sub(chat.started_at) / 1000,
            idle: None,
            id: chat.id,
        }
    }

    /// A row as listed now.
    pub fn row(row: &'a ChatRow) -> Self {
        Self {
            name: &row.visitor_name,
            email: row.visitor_email.as_deref(),
            group: row.group,
            owner: row.agent,
            started: row.started_at,
            duration_secs: row.duration_secs,
            idle: row.idle_secs,
            id: row.id,
        }
    }

    /// The group or owner id the column orders by name (`None` for others).
    pub fn entity(&self, column: Column) -> Option<Entity> {
        match column {
            Column::Group => Some(self.group.to_bytes()),
            Column::Agent => Some(self.owner.map_or(NO_ONE, |s| s.to_bytes())),
            _ => None,
        }
    }

    fn primary(&self, column: Column, out: &mut Vec<u8>) {
        match column {
            Column::Started => out.extend_from_slice(&self.started.to_be_bytes()),
            Column::Visitor => push_text(out, &self.name.to_lowercase()),
            Column::Email => match self.email {
                None => out.push(0),
                Some(e) => {
                    out.push(1);
                    push_text(out, e);
                }
            },
            Column::Duration => out.extend_from_slice(&self.duration_secs.to_be_bytes()),
            Column::Group | Column::Agent => {
                out.extend_from_slice(&self.entity(column).unwrap_or(NO_ONE))
            }
        }
    }

    /// Start and id, after the primary (the start once for its column).
    fn tail(&self, column: Column, out: &mut Vec<u8>) {
        if column != Column::Started {
            out.extend_from_slice(&self.started.to_be_bytes());
        }
        out.extend_from_slice(&self.id.to_bytes());
    }

    /// The key of an ended chat in an index of `column` (after the list's
    /// prefix).
    pub fn ended_key(&self, column: Column) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        self.primary(column, &mut out);
        out.push(1);
        self.tail(column, &mut out);
        out
    }

    /// The key of this chat, open or ended, in the ascending byte space of
    /// `column` for a list sorted by `sort` (descending lists are read
    /// backwards, so `desc` changes only open chats' keys).
    pub fn key(&self, column: Column, sort: SortKey, desc: bool) -> Vec<u8> {
        let Some(idle) = self.idle else {
            return self.ended_key(column);
        };
        let mut out = Vec::with_capacity(56);
        if sort == SortKey::Idle {
            // After every ended chat's start (ms since 1970 begin with 0).
            out.push(0xFF);
            out.extend_from_slice(&idle.to_be_bytes());
            out.extend_from_slice(&self.started.to_be_bytes());
            out.extend_from_slice(&self.id.to_bytes());
            return out;
        } else {
            self.primary(column, &mut out);
            if desc {
                out.push(2);
                out.extend_from_slice(&(!idle).to_be_bytes());
            } else {
                out.push(0);
                out.extend_from_slice(&idle.to_be_bytes());
            }
        }
        self.tail(column, &mut out);
        out
    }
}

/// The chat id at the end of a key.
pub fn id_of_key(key: &[u8]) -> Option<ChatId> {
    let at = key.len().checked_sub(16)?;
    let bytes: [u8; 16] = key.get(at..)?.try_into().ok()?;
    Some(ChatId::from_bytes(bytes))
}

fn push_text(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chat::{ChatState, Visitor};
    use crate::domain::chat_list::sort_rows;

    fn chat(name: &str, email: Option<&str>, started: Millis, len: Millis, open: bool) -> Chat {
        let visitor = Visitor {
            name: name.into(),
            email: email.map(Into::into),
            page_url: None,
        };
        let mut c = Chat::waiting(GroupId::generate(), visitor, started);
        if open {
            c.state = ChatState::Active;
            c.visitor_active_at = started + len;
        } else {
            c.state = ChatState::Ended;
            c.ended_at = Some(started + len);
        }
        c
    }

    /// Every sort, both ways: ordering rows by their keys (descending:
    /// backwards) gives `sort_rows`' order, open and ended mixed, ties
    /// included.
    #[test]
    fn keys_sort_as_rows_do() {
        let now = 1_000_000;
        let chats = [
            chat("Anna", Some("b@x"), 1_000, 60_000, false),
            chat("anna", None, 2_000, 60_000, true),
            chat("Bo\0x", Some("a@x"), 2_000, 5_000, false),
            chat("Bo", Some("a@x"), 3_000, 500_000, true),
            chat("Åsa", None, 4_000, 60_000, false),
            chat("Anna", Some("b@x"), 1_000, 60_000, false),
            chat("Cid", None, 5_000, 60_000, true),
        ];
        let rows: Vec<ChatRow> = chats
            .iter()
            .map(|c| ChatRow::new(c, "G".into(), None, now, ""))
            .collect();
        for sort in [
            SortKey::Visitor,
            SortKey::Email,
            SortKey::Started,
            SortKey::Duration,
            SortKey::Idle,
        ] {
            for desc in [false, true] {
                let mut want = rows.clone();
                sort_rows(&mut want, sort, desc);
                let mut got = rows.clone();
                got.sort_by_cached_key(|r| OrderFields::row(r).key(Column::of(sort), sort, desc));
                if desc {
                    got.reverse();
                }
                let ids = |v: &[ChatRow]| v.iter().map(|r| r.id).collect::<Vec<_>>();
                assert_eq!(ids(&got), ids(&want), "{sort:?} desc={desc}");
            }
        }
    }

    #[test]
    fn text_keys_keep_order_and_the_id_comes_back() {
        let a = chat("a", None, 1, 1, false);
        let b = chat("a\0", None, 1, 1, false);
        let c = chat("ab", None, 1, 1, false);
        let k = |c: &Chat| OrderFields::ended(c).ended_key(Column::Visitor);
        assert!(k(&a) < k(&b) && k(&b) < k(&c));
        assert_eq!(id_of_key(&k(&c)), Some(c.id));
    }
}
