//! The ticket list's index: every ticket's row in number order, each text
//! column's order kept as row positions, and every row's search text in one
//! buffer. Pure: the store keeps it in step with every ticket write.

use super::ticket_list::{by_requester, by_subject, TicketRow};

/// Every ticket's row in number order, with the rows' positions kept in
/// subject and in requester order, so a page deep in a list sorted by a
/// text column is a walk, not a sort. Numbers are gap-free from
/// [`super::ticket::FIRST_NUMBER`], so a ticket's row is found by its number.
#[derive(Debug, Default)]
pub struct TicketRows {
    rows: Vec<TicketRow>,
    by_subject: Vec<u32>,
    by_requester: Vec<u32>,
    text: SearchText,
}

/// Every row's search text in one buffer, each ended by a NUL, so a word
/// is looked for in one pass at memchr's speed instead of one call per
/// row. A changed row's old text is blanked (NULs match no word) and its
/// new text appended; the buffer is rebuilt once half of it is blank.
#[derive(Debug, Default)]
struct SearchText {
    bytes: Vec<u8>,
    /// (start in `bytes`, row position), by start; `u32::MAX`: blanked.
    spans: Vec<(u32, u32)>,
    /// Each row's entry in `spans`.
    span_of: Vec<u32>,
    blank: usize,
}

impl SearchText {
    fn of(rows: &[TicketRow]) -> Self {
        let mut t = Self::default();
        for (i, r) in rows.iter().enumerate() {
            t.append(i as u32, &r.haystack);
        }
        t
    }

    fn append(&mut self, row: u32, text: &str) {
        let at = self.bytes.len() as u32;
        // A NUL in a subject would end its text early: never matched there.
        self.bytes
            .extend(text.bytes().map(|b| if b == 0 { b' ' } else { b }));
        self.bytes.push(0);
        let span = self.spans.len() as u32;
        self.spans.push((at, row));
        match self.span_of.get_mut(row as usize) {
            Some(s) => *s = span,
            None => self.span_of.push(span),
        }
    }

    /// Row `row`'s text is now `text`.
    fn changed(&mut self, rows: &[TicketRow], row: u32, text: &str) {
        if let Some(&span) = self.span_of.get(row as usize) {
            let (start, _) = self.spans[span as usize];
            let end = self
                .spans
                .get(span as usize + 1)
                .map_or(self.bytes.len(), |s| s.0 as usize);
            self.bytes[start as usize..end].fill(0);
            self.spans[span as usize].1 = u32::MAX;
            self.blank += end - start as usize;
        }
        self.append(row, text);
        if self.blank > self.bytes.len() / 2 {
            *self = Self::of(rows);
        }
    }

    /// Positions of the rows whose text has `word`, ascending, once each.
    fn rows_with(&self, word: &memchr::memmem::Finder<'_>) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        let mut span = 0usize;
        for at in word.find_iter(&self.bytes) {
            let at = at as u32;
            // Hits come in order: move forward to the span holding `at`.
            while span + 1 < self.spans.len() && self.spans[span + 1].0 <= at {
                span += 1;
            }
            let row = self.spans[span].1;
            if row != u32::MAX && out.last() != Some(&row) {
                out.push(row);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl TicketRows {
    /// The index of `rows`, given in number order (at open).
    pub fn from_rows(mut rows: Vec<TicketRow>) -> Self {
        rows.sort_unstable_by_key(|r| r.number);
        rows.dedup_by_key(|r| r.number);
        let mut index = Self {
            text: SearchText::of(&rows),
            rows,
            ..Self::default()
        };
        index.reorder();
        index
    }

    /// Every row, in number order.
    pub fn iter(&self) -> std::slice::Iter<'_, TicketRow> {
        self.rows.iter()
    }

    fn reorder(&mut self) {
        let all: Vec<u32> = (0..self.rows.len() as u32).collect();
        let rows = &self.rows;
        let mut s = all.clone();
        s.sort_unstable_by(|&a, &b| by_subject(&rows[a as usize], &rows[b as usize]));
        let mut r = all;
        r.sort_unstable_by(|&a, &b| by_requester(&rows[a as usize], &rows[b as usize]));
        (self.by_subject, self.by_requester) = (s, r);
    }

    /// Adds or replaces the row of its ticket, keeping both orders.
    pub fn put(&mut self, row: TicketRow) {
        let at = row.number.saturating_sub(super::ticket::FIRST_NUMBER) as usize;
        let found = match self.rows.get(at) {
            Some(r) if r.number == row.number => Ok(at),
            _ if self.rows.last().is_none_or(|l| l.number < row.number) => Err(self.rows.len()),
            _ => self.rows.binary_search_by_key(&row.number, |r| r.number),
        };
        match found {
            Ok(i) => {
                for (order, cmp) in [
                    (
                        &mut self.by_subject,
                        by_subject as fn(&TicketRow, &TicketRow) -> _,
                    ),
                    (&mut self.by_requester, by_requester),
                ] {
                    let old = &self.rows[i];
                    if cmp(old, &row).is_eq() {
                        continue;
                    }
                    if let Ok(p) = order.binary_search_by(|&p| cmp(&self.rows[p as usize], old)) {
                        order.remove(p);
                    }
                    let rows = &self.rows;
                    let p = order.partition_point(|&p| cmp(&rows[p as usize], &row).is_lt());
                    order.insert(p, i as u32);
                }
                if self.rows[i].haystack != row.haystack {
                    let text = row.haystack.clone();
                    self.rows[i] = row;
                    self.text.changed(&self.rows, i as u32, &text);
                } else {
                    self.rows[i] = row;
                }
            }
            Err(i) if i == self.rows.len() => {
                let rows = &self.rows;
                let s = self
                    .by_subject
                    .partition_point(|&p| by_subject(&rows[p as usize], &row).is_lt());
                let r = self
                    .by_requester
                    .partition_point(|&p| by_requester(&rows[p as usize], &row).is_lt());
                self.by_subject.insert(s, i as u32);
                self.by_requester.insert(r, i as u32);
                self.text.append(i as u32, &row.haystack);
                self.rows.push(row);
            }
            // A number out of line (never in normal operation): rebuild.
            Err(i) => {
                self.rows.insert(i, row);
                self.reorder();
                self.text = SearchText::of(&self.rows);
            }
        }
    }
}

impl FromIterator<TicketRow> for TicketRows {
    fn from_iter<I: IntoIterator<Item = TicketRow>>(rows: I) -> Self {
        Self::from_rows(rows.into_iter().collect())
    }
}

impl TicketRows {
    /// Row positions in subject order.
    pub(super) fn by_subject(&self) -> &[u32] {
        &self.by_subject
    }

    /// Row positions in requester order.
    pub(super) fn by_requester(&self) -> &[u32] {
        &self.by_requester
    }

    /// The row at position `i`.
    pub(super) fn row(&self, i: u32) -> Option<&TicketRow> {
        self.rows.get(i as usize)
    }

    /// Positions of the rows whose text has the word `finder` looks for.
    pub(super) fn rows_with(&self, finder: &memchr::memmem::Finder<'_>) -> Vec<u32> {
        self.text.rows_with(finder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::GroupId;
    use crate::domain::ticket::TicketStatus;
    use crate::domain::ticket_list::tests::ticket;

    #[test]
    fn kept_orders_match_a_rebuild_after_inserts_and_changes() {
        let g = GroupId::generate();
        let names = ["Zoe", "adam", "Émile", "bob", "Carla", "adam"];
        let subjects = [
            "Refund",
            "invoice",
            "Parcel lost",
            "refund",
            "Àpropos",
            "Invoice",
        ];
        let mut rows = TicketRows::default();
        let mut seed = 7u64;
        for i in 0..60u64 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = if i < 30 {
                1001 + i
            } else {
                1001 + (seed >> 33) % 30
            };
            let t = ticket(
                n,
                subjects[((seed >> 20) % 6) as usize],
                names[((seed >> 40) % 6) as usize],
                g,
                TicketStatus::Open,
            );
            rows.put(TicketRow::of(&t));
            let rebuilt = TicketRows::from_rows(rows.iter().cloned().collect());
            assert_eq!(rows.by_subject, rebuilt.by_subject, "after {i} puts");
            assert_eq!(rows.by_requester, rebuilt.by_requester, "after {i} puts");
            for word in ["refund", "adam", "é", "parcel lost", "example.com"] {
                let f = memchr::memmem::Finder::new(word.as_bytes());
                let scanned: Vec<u32> = (0..rows.rows.len() as u32)
                    .filter(|&p| rows.rows[p as usize].haystack.contains(word))
                    .collect();
                assert_eq!(rows.text.rows_with(&f), scanned, "{word:?} after {i} puts");
            }
        }
        assert_eq!(rows.iter().count(), 30);
        let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, (1001..1031).collect::<Vec<_>>());
    }
}
