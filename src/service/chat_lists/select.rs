//! Paging over sorted keys with counted blocks: the store's list ranges
//! and chats given in memory, merged, without walking to the page.

use crate::domain::chat_order::{Column, Entity};
use crate::store::chat_lists::{ListBlocks, ListId};
use crate::store::{Store, StoreError};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A sorted set of keys with counted blocks: what [`select`] pages over.
pub(super) trait Keys {
    /// Keys whose rank is cheaply bounded (block starts).
    fn pivots(&self) -> Vec<Vec<u8>>;
    /// Lower and upper bound on how many keys come before `key`.
    fn bounds(&self, key: &[u8]) -> (u64, u64);
    /// How many keys come before `key`, exactly.
    fn rank(&self, key: &[u8]) -> Result<u64, StoreError>;
    /// The keys from `from` on, ascending.
    fn walk(&self, from: &[u8]) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + '_>;
}

/// What [`select`] picked: a key of one of the indexes, or an item given
/// in memory.
#[derive(Debug, PartialEq)]
pub(super) enum Picked<'m, M> {
    Key(Vec<u8>),
    Mem(&'m M),
}

/// The keys at ascending positions `start..start + n` of the merge of
/// `srcs` (disjoint) and `mem` (sorted by key, disjoint from them).
///
/// The largest pivot whose upper-bound rank is at most `start` is found
/// by binary search over every block start, its exact rank costs a walk
/// of at most one block per source, and the merge then skips at most a
/// few blocks' worth of keys: the cost is bounded by the block size, not
/// by how deep the page is.
pub(super) fn select<'m, K: Keys, M>(
    srcs: &[K],
    mem: &'m [(Vec<u8>, M)],
    start: u64,
    n: usize,
) -> Result<Vec<Picked<'m, M>>, StoreError> {
    let mem_rank = |key: &[u8]| mem.partition_point(|(k, _)| k.as_slice() < key) as u64;
    let mut pivots: Vec<Vec<u8>> = srcs.iter().flat_map(|s| s.pivots()).collect();
    pivots.extend(mem.iter().map(|(k, _)| k.clone()));
    pivots.sort_unstable();
    pivots.dedup();
    let upper = |p: &[u8]| srcs.iter().map(|s| s.bounds(p).1).sum::<u64>() + mem_rank(p);
    let below = pivots.partition_point(|p| upper(p) <= start);
    let from: Vec<u8> = match below {
        0 => Vec::new(),
        i => pivots[i - 1].clone(),
    };
    let mut rank = mem_rank(&from);
    for s in srcs {
        rank += s.rank(&from)?;
    }
    let mut skip = start.saturating_sub(rank);
    // The sources' next keys, smallest first: a pick costs a few
    // comparisons however many sources there are, and the keys skipped
    // on the way to the page (up to a block a source) are moved, never
    // copied.
    let mut walks: Vec<_> = srcs.iter().map(|s| s.walk(&from)).collect();
    let mut heads = BinaryHeap::with_capacity(walks.len());
    for (i, w) in walks.iter_mut().enumerate() {
        if let Some(k) = w.next() {
            heads.push(Reverse((k?, i)));
        }
    }
    let mut at = mem_rank(&from) as usize;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let take_mem = match (heads.peek(), mem.get(at)) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(Reverse((b, _))), Some((k, _))) => k < b,
        };
        let picked = if take_mem {
            at += 1;
            Picked::Mem(&mem[at - 1].1)
        } else if let Some(Reverse((k, i))) = heads.pop() {
            if let Some(next) = walks[i].next() {
                heads.push(Reverse((next?, i)));
            }
            Picked::Key(k)
        } else {
            break;
        };
        if skip > 0 {
            skip -= 1;
        } else {
            out.push(picked);
        }
    }
    Ok(out)
}

/// One list column's keys in the store, whole or one id's range.
pub(super) struct StoreKeys<'a> {
    store: &'a Store,
    list: ListId,
    column: Column,
    blocks: &'a ListBlocks,
    /// The id range (keys that start with it), or the whole column.
    only: Option<Entity>,
    base: u64,
    total: u64,
}

impl<'a> StoreKeys<'a> {
    pub(super) fn new(
        store: &'a Store,
        list: ListId,
        column: Column,
        blocks: &'a ListBlocks,
        only: Option<(Entity, u64)>,
    ) -> Result<Self, StoreError> {
        let (base, total) = match only {
            None => (0, blocks.total()),
            Some((e, count)) => (store.list_rank(blocks, &e)?, count),
        };
        Ok(Self {
            store,
            list,
            column,
            blocks,
            only: only.map(|o| o.0),
            base,
            total,
        })
    }

    /// Where `key` falls against the id range: before it, inside, after.
    fn place(&self, key: &[u8]) -> std::cmp::Ordering {
        match &self.only {
            None => std::cmp::Ordering::Equal,
            Some(e) => {
                let head = &key[..key.len().min(16)];
                if head < e.as_slice() {
                    std::cmp::Ordering::Less
                } else if head > e.as_slice() {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            }
        }
    }
}

impl Keys for StoreKeys<'_> {
    fn pivots(&self) -> Vec<Vec<u8>> {
        let mut p: Vec<Vec<u8>> = self
            .blocks
            .starts()
            .iter()
            .filter(|s| self.place(s) == std::cmp::Ordering::Equal)
            .cloned()
            .collect();
        if let Some(e) = self.only {
            p.push(e.to_vec());
        }
        p
    }

    fn bounds(&self, key: &[u8]) -> (u64, u64) {
        match self.place(key) {
            std::cmp::Ordering::Less => (0, 0),
            std::cmp::Ordering::Greater => (self.total, self.total),
            std::cmp::Ordering::Equal => {
                let (lo, hi) = self.blocks.bounds(key);
                let clamp = |x: u64| x.saturating_sub(self.base).min(self.total);
                (clamp(lo), clamp(hi))
            }
        }
    }

    fn rank(&self, key: &[u8]) -> Result<u64, StoreError> {
        Ok(match self.place(key) {
            std::cmp::Ordering::Less => 0,
            std::cmp::Ordering::Greater => self.total,
            std::cmp::Ordering::Equal => self
                .store
                .list_rank(self.blocks, key)?
                .saturating_sub(self.base)
                .min(self.total),
        })
    }

    fn walk(&self, from: &[u8]) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + '_> {
        let from = match (self.only, self.place(from)) {
            (Some(_), std::cmp::Ordering::Greater) => return Box::new(std::iter::empty()),
            (Some(e), std::cmp::Ordering::Less) => e.to_vec(),
            _ => from.to_vec(),
        };
        let only = self.only;
        Box::new(
            self.store
                .list_walk(self.list, self.column, &from, false)
                .take_while(move |k| match (only, k) {
                    (Some(e), Ok(k)) => k.starts_with(&e),
                    _ => true,
                }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sorted keys in memory with blocks of three.
    struct Fake(Vec<Vec<u8>>);

    impl Fake {
        fn total(&self) -> u64 {
            self.0.len() as u64
        }
    }

    impl Keys for Fake {
        fn pivots(&self) -> Vec<Vec<u8>> {
            self.0.iter().step_by(3).cloned().collect()
        }
        fn bounds(&self, key: &[u8]) -> (u64, u64) {
            let exact = self.0.partition_point(|k| k.as_slice() < key) as u64;
            let lo = exact / 3 * 3;
            if self.0.get(lo as usize).is_some_and(|k| k == key) {
                (lo, lo)
            } else {
                (lo, (lo + 3).min(self.total()))
            }
        }
        fn rank(&self, key: &[u8]) -> Result<u64, StoreError> {
            Ok(self.0.partition_point(|k| k.as_slice() < key) as u64)
        }
        fn walk(&self, from: &[u8]) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + '_> {
            let at = self.0.partition_point(|k| k.as_slice() < from);
            Box::new(self.0[at..].iter().cloned().map(Ok))
        }
    }

    /// Every window of a merge of three indexes and memory equals the
    /// window of the whole sorted list.
    #[test]
    fn select_gives_every_window_of_the_merge() {
        let mut next = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = || {
            next ^= next << 13;
            next ^= next >> 7;
            next ^= next << 17;
            next
        };
        let mut all: Vec<Vec<u8>> = (0..200)
            .map(|_| rnd().to_be_bytes()[..3].to_vec())
            .collect();
        all.sort();
        all.dedup();
        let mut parts: [Vec<Vec<u8>>; 4] = Default::default();
        for k in &all {
            parts[(rnd() % 4) as usize].push(k.clone());
        }
        let [a, b, c, m] = parts;
        let srcs = [Fake(a), Fake(b), Fake(c)];
        let mem: Vec<(Vec<u8>, Vec<u8>)> = m.into_iter().map(|k| (k.clone(), k)).collect();
        for start in 0..all.len() as u64 + 2 {
            for n in [1, 7] {
                let got: Vec<Vec<u8>> = select(&srcs, &mem, start, n)
                    .expect("select")
                    .into_iter()
                    .map(|p| match p {
                        Picked::Key(k) => k,
                        Picked::Mem(k) => k.clone(),
                    })
                    .collect();
                let want: Vec<Vec<u8>> = all.iter().skip(start as usize).take(n).cloned().collect();
                assert_eq!(got, want, "start {start} n {n}");
            }
        }
    }
}
