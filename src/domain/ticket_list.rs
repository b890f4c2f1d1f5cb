//! The ticket list: the compact row kept per ticket in the store's
//! in-memory index, and the query over those rows (filters, text search,
//! sort, paging). Pure: the store keeps the rows in step with every write.

use super::clock::Millis;
use super::ids::{ChatId, GroupId, StaffId};
use super::ticket::{Priority, Source, Ticket, TicketStatus};
pub use super::ticket_index::TicketRows;
use serde::Deserialize;
use utoipa::ToSchema;

/// What the index keeps of one ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketRow {
    /// Number.
    pub number: u64,
    /// Subject.
    pub subject: String,
    /// Requester's name.
    pub requester_name: String,
    /// Requester's email.
    pub requester_email: Option<String>,
    /// Group.
    pub group: GroupId,
    /// Assignee.
    pub assignee: Option<StaffId>,
    /// Status.
    pub status: TicketStatus,
    /// Priority.
    pub priority: Priority,
    /// Source.
    pub source: Source,
    /// The chat it follows.
    pub chat: Option<ChatId>,
    /// Made at.
    pub created_at: Millis,
    /// Changed at.
    pub updated_at: Millis,
    /// Subject, name and email, lower-cased, for text search; the first
    /// two are also the full sort keys (`subject_end`, `name_end`).
    pub(super) haystack: String,
    subject_end: u32,
    name_end: u32,
    /// The first bytes of the folded subject and name: most sort
    /// comparisons end here, without reading either string.
    subject_key: [u8; 12],
    requester_key: [u8; 12],
}

fn prefix(s: &str) -> [u8; 12] {
    let mut k = [0u8; 12];
    for (d, b) in k.iter_mut().zip(fold(s).bytes()) {
        *d = b;
    }
    k
}

impl TicketRow {
    /// The row of `t`.
    pub fn of(t: &Ticket) -> Self {
        let email = t.requester.email.as_deref().unwrap_or("");
        let (subject, name) = (t.subject.to_lowercase(), t.requester.name.to_lowercase());
        let subject_end = subject.len() as u32;
        let name_end = (subject.len() + 1 + name.len()) as u32;
        Self {
            number: t.number,
            subject: t.subject.clone(),
            requester_name: t.requester.name.clone(),
            requester_email: t.requester.email.clone(),
            group: t.group,
            assignee: t.assignee,
            status: t.status,
            priority: t.priority,
            source: t.source,
            chat: t.chat,
            created_at: t.created_at,
            updated_at: t.updated_at,
            haystack: format!("{subject}\n{name}\n{}", email.to_lowercase()),
            subject_end,
            name_end,
            subject_key: prefix(&t.subject),
            requester_key: prefix(&t.requester.name),
        }
    }

    /// The subject, case-folded (its full sort key).
    fn folded_subject(&self) -> &str {
        self.haystack.get(..self.subject_end as usize).unwrap_or("")
    }

    /// The requester's name, case-folded.
    fn folded_name(&self) -> &str {
        self.haystack
            .get(self.subject_end as usize + 1..self.name_end as usize)
            .unwrap_or("")
    }

    /// Whether every word (lower-cased, one finder each) is in the
    /// subject, the requester's name or their email.
    fn found_by(&self, finders: &[memchr::memmem::Finder<'_>]) -> bool {
        finders
            .iter()
            .all(|f| f.find(self.haystack.as_bytes()).is_some())
    }
}

/// Sort columns of the ticket list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketSort {
    /// The number (the order they were made in).
    Number,
    /// When made.
    Created,
    /// When last changed (default).
    #[default]
    Updated,
    /// Urgent above low.
    Priority,
    /// Open, pending, solved, closed.
    Status,
    /// Subject, A to Z.
    Subject,
    /// Requester's name, A to Z.
    Requester,
}

/// Whose tickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Anyone's or nobody's.
    Any,
    /// Nobody's.
    Nobody,
    /// This staff member's.
    Staff(StaffId),
}

/// A query of the ticket list.
#[derive(Clone, Debug)]
pub struct TicketQuery {
    /// Any of these statuses (empty: all).
    pub statuses: Vec<TicketStatus>,
    /// Any of these priorities (empty: all).
    pub priorities: Vec<Priority>,
    /// Any of these sources (empty: all).
    pub sources: Vec<Source>,
    /// Only this group.
    pub group: Option<GroupId>,
    /// Whose.
    pub assignee: AssigneeFilter,
    /// Lower-cased words, each of which must be found.
    pub words: Vec<String>,
    /// Sort column.
    pub sort: TicketSort,
    /// Largest first.
    pub desc: bool,
    /// Page, from 1.
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
}

impl TicketQuery {
    fn keeps(&self, r: &TicketRow, finders: &[memchr::memmem::Finder<'_>]) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&r.status))
            && (self.priorities.is_empty() || self.priorities.contains(&r.priority))
            && (self.sources.is_empty() || self.sources.contains(&r.source))
            && self.group.is_none_or(|g| g == r.group)
            && match self.assignee {
                AssigneeFilter::Any => true,
                AssigneeFilter::Nobody => r.assignee.is_none(),
                AssigneeFilter::Staff(s) => r.assignee == Some(s),
            }
            && r.found_by(finders)
    }

    fn order(&self, a: &TicketRow, b: &TicketRow) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let by = match self.sort {
            TicketSort::Number => Ordering::Equal,
            TicketSort::Created => a.created_at.cmp(&b.created_at),
            TicketSort::Updated => a.updated_at.cmp(&b.updated_at),
            TicketSort::Priority => a.priority.cmp(&b.priority),
            TicketSort::Status => a.status.cmp(&b.status),
            TicketSort::Subject => by_subject(a, b),
            TicketSort::Requester => by_requester(a, b),
        };
        // The number breaks ties, so pages never overlap.
        let by = by.then(a.number.cmp(&b.number));
        if self.desc {
            by.reverse()
        } else {
            by
        }
    }

    /// The rows `visible` lets the caller see that the query keeps: how
    /// many in all, and those of the asked page in order. A text column's
    /// page is read off its kept order; other pages are sorted only up to
    /// the page's end.
    pub fn run<'a>(
        &self,
        rows: &'a TicketRows,
        visible: impl Fn(&TicketRow) -> bool,
    ) -> (usize, Vec<&'a TicketRow>) {
        let finders: Vec<memchr::memmem::Finder<'_>> = self
            .words
            .iter()
            .map(|w| memchr::memmem::Finder::new(w.as_bytes()))
            .collect();
        let keep = |r: &TicketRow| visible(r) && self.keeps(r, &finders);
        if let Some((first, rest)) = finders.split_first() {
            // A search: the rows whose text has the first word, found in
            // one pass over the text of every row, then the rest as usual.
            let found = rows.rows_with(first);
            let keep = |r: &TicketRow| visible(r) && self.keeps(r, rest);
            return self.sorted(found.iter().filter_map(|&i| rows.row(i)), keep);
        }
        let order = match self.sort {
            TicketSort::Subject => rows.by_subject(),
            TicketSort::Requester => rows.by_requester(),
            _ => return self.sorted(rows.iter(), keep),
        };
        let total = rows.iter().filter(|r| keep(r)).count();
        let start = (self.page - 1).saturating_mul(self.per_page);
        let walk: Box<dyn Iterator<Item = &u32>> = if self.desc {
            Box::new(order.iter().rev())
        } else {
            Box::new(order.iter())
        };
        let page = walk
            .filter_map(|&i| rows.row(i))
            .filter(|r| keep(r))
            .skip(start)
            .take(self.per_page)
            .collect();
        (total, page)
    }

    /// A page by sorting the kept rows up to its end.
    fn sorted<'a>(
        &self,
        rows: impl Iterator<Item = &'a TicketRow>,
        keep: impl Fn(&TicketRow) -> bool,
    ) -> (usize, Vec<&'a TicketRow>) {
        let mut kept: Vec<&TicketRow> = rows.filter(|r| keep(r)).collect();
        let total = kept.len();
        let start = (self.page - 1).saturating_mul(self.per_page);
        if start >= total {
            return (total, Vec::new());
        }
        let end = start.saturating_add(self.per_page).min(total);
        if end < total {
            kept.select_nth_unstable_by(end - 1, |a, b| self.order(a, b));
            kept.truncate(end);
        }
        kept.sort_unstable_by(|a, b| self.order(a, b));
        (total, kept.split_off(start))
    }
}

/// A case-folded sort key (cheap for ASCII).
fn fold(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        std::borrow::Cow::Owned(s.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The subject order, ignoring case; the number breaks ties.
pub(super) fn by_subject(a: &TicketRow, b: &TicketRow) -> std::cmp::Ordering {
    a.subject_key
        .cmp(&b.subject_key)
        .then_with(|| a.folded_subject().cmp(b.folded_subject()))
        .then(a.number.cmp(&b.number))
}

/// The requester order, ignoring case; the number breaks ties.
pub(super) fn by_requester(a: &TicketRow, b: &TicketRow) -> std::cmp::Ordering {
    a.requester_key
        .cmp(&b.requester_key)
        .then_with(|| a.folded_name().cmp(b.folded_name()))
        .then(a.number.cmp(&b.number))
}

/// Splits a search text into lower-cased words (at most 8, each at most
/// 80 characters).
pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .take(8)
        .map(|w| w.chars().take(80).collect::<String>().to_lowercase())
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::ticket::{Requester, TicketDraft};

    /// A ticket for the list's tests.
    pub(crate) fn ticket(
        n: u64,
        subject: &str,
        name: &str,
        group: GroupId,
        status: TicketStatus,
    ) -> Ticket {
        let mut t = TicketDraft {
            subject: subject.into(),
            requester: Requester {
                name: name.into(),
                email: Some(format!("{}@example.com", name.to_lowercase())),
            },
            group,
            source: Source::Chat,
            chat: None,
            offline_message: None,
            priority: Priority::Normal,
            assignee: None,
            by: None,
            first_note: None,
        }
        .into_ticket(n, n * 10);
        t.status = status;
        t
    }

    fn query() -> TicketQuery {
        TicketQuery {
            statuses: vec![],
            priorities: vec![],
            sources: vec![],
            group: None,
            assignee: AssigneeFilter::Any,
            words: vec![],
            sort: TicketSort::Number,
            desc: false,
            page: 1,
            per_page: 2,
        }
    }

    #[test]
    fn filters_search_sort_and_pages_agree_with_a_full_sort() {
        let g = GroupId::generate();
        let h = GroupId::generate();
        let rows: Vec<TicketRow> = [
            ticket(1001, "Refund for order", "Ünal", g, TicketStatus::Open),
            ticket(1002, "Where is my parcel", "bob", g, TicketStatus::Pending),
            ticket(1003, "refund again", "Carla", h, TicketStatus::Open),
            ticket(1004, "Invoice", "anna", g, TicketStatus::Closed),
            ticket(1005, "Parcel lost", "Dave", g, TicketStatus::Open),
        ]
        .iter()
        .map(TicketRow::of)
        .collect();
        let rows: TicketRows = rows.into_iter().collect();
        let nums = |(total, rows): (usize, Vec<&TicketRow>)| {
            (total, rows.iter().map(|r| r.number).collect::<Vec<_>>())
        };
        let all = |_: &TicketRow| true;
        assert_eq!(nums(query().run(&rows, all)), (5, vec![1001, 1002]));
        let mut q = query();
        q.page = 3;
        assert_eq!(nums(q.run(&rows, all)), (5, vec![1005]));
        q.page = 4;
        assert_eq!(nums(q.run(&rows, all)), (5, vec![]));
        let mut q = query();
        q.words = words("REFUND");
        q.per_page = 10;
        assert_eq!(nums(q.run(&rows, all)), (2, vec![1001, 1003]));
        q.group = Some(g);
        assert_eq!(nums(q.run(&rows, all)), (1, vec![1001]));
        let mut q = query();
        q.words = words("ünal");
        assert_eq!(nums(q.run(&rows, all)), (1, vec![1001]));
        let mut q = query();
        q.statuses = vec![TicketStatus::Open, TicketStatus::Pending];
        q.sort = TicketSort::Requester;
        q.per_page = 10;
        assert_eq!(nums(q.run(&rows, all)), (4, vec![1002, 1003, 1005, 1001]));
        // Every page of a sorted list is the slice of the fully sorted list.
        for sort in [TicketSort::Subject, TicketSort::Status, TicketSort::Updated] {
            for desc in [false, true] {
                let mut q = query();
                q.sort = sort;
                q.desc = desc;
                q.per_page = 5;
                let (_, whole) = nums(q.run(&rows, all));
                q.per_page = 2;
                let mut paged = Vec::new();
                for page in 1..=3 {
                    q.page = page;
                    paged.extend(nums(q.run(&rows, all)).1);
                }
                assert_eq!(paged, whole, "{sort:?} desc={desc}");
            }
        }
        let (total, _) = query().run(&rows, |r| r.group == h);
        assert_eq!(total, 1);
    }
}
