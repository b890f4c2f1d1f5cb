//! The pages of the list index (`listpage_keys`): list ++ column ++ a
//! page's first order key (the first page of a range: none) → that page's
//! order keys, ascending, each packed as its length (u32 BE) and bytes.
//!
//! Why pages: sled 0.34 keeps metadata in memory for every page of its
//! own, cached or not, and splits a leaf past 16 keys, so one sled key per
//! list entry cost ~1 KB of RSS per stored chat (docs/performance.md).
//!
//! A page's keys are at or after its first key and before the next page's;
//! a key goes into the last page of its range starting at or before it (a
//! range's first page is made when none is). Pages past [`MAX_PAGE`] are
//! split in halves, empty ones removed.

use super::{prefix_end, prefix_len, ListWalk};
use crate::store::kv::transaction::TransactionalTree;
use crate::store::{StoreError, TxResult};
use std::collections::btree_map::{BTreeMap, Entry};

/// Order keys a page holds at most before it is split in two (64 was
/// measured too: the same memory and speed, half again as much disk, since
/// every chat end rewrites its pages).
#[cfg(not(test))]
pub(in crate::store) const MAX_PAGE: usize = 32;
#[cfg(test)]
pub(in crate::store) const MAX_PAGE: usize = 4;

/// How many keys a backfill puts in each page (room for inserts).
const FILL_PAGE: usize = MAX_PAGE * 3 / 4;

fn corrupt_page() -> StoreError {
    StoreError::Corrupt("a chat list page".into())
}

fn pack(keys: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::with_capacity(keys.iter().map(|k| k.len() + 4).sum());
    for k in keys {
        v.extend_from_slice(&(k.len() as u32).to_be_bytes());
        v.extend_from_slice(k);
    }
    v
}

/// A page's order keys.
pub(in crate::store) fn unpack(mut v: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut keys = Vec::new();
    while let Some((len, rest)) = v.split_first_chunk::<4>() {
        let n = u32::from_be_bytes(*len) as usize;
        let key = rest.get(..n).ok_or_else(corrupt_page)?;
        keys.push(key.to_vec());
        v = &rest[n..];
    }
    if v.is_empty() {
        Ok(keys)
    } else {
        Err(corrupt_page())
    }
}

/// The pages one write changes: page key → its order keys after the write
/// (none: the page goes).
#[derive(Default)]
pub(super) struct PageEdits(BTreeMap<Vec<u8>, Vec<Vec<u8>>>);

impl PageEdits {
    /// Puts the order key after `prefix` in `key` into its page, or takes
    /// it out. Read before the transaction, under the list lock.
    pub(super) fn edit(
        &mut self,
        tree: &crate::store::kv::Tree,
        prefix: &[u8],
        key: &[u8],
        insert: bool,
    ) -> Result<(), StoreError> {
        let order = &key[prefix.len()..];
        let (page, stored) = match tree.range(prefix..=key).next_back() {
            Some(kv) => {
                let (k, v) = kv?;
                (k.to_vec(), Some(v))
            }
            None => (prefix.to_vec(), None),
        };
        let keys = match self.0.entry(page) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(match stored {
                Some(b) => unpack(&b)?,
                None => Vec::new(),
            }),
        };
        match (keys.binary_search_by(|k| k.as_slice().cmp(order)), insert) {
            (Err(i), true) => keys.insert(i, order.to_vec()),
            (Ok(i), false) => {
                keys.remove(i);
            }
            _ => {}
        }
        Ok(())
    }

    /// Splits the pages grown past [`MAX_PAGE`] into halves, each but the
    /// first keyed by its first order key.
    pub(super) fn split(&mut self) -> Result<(), StoreError> {
        let mut new = Vec::new();
        for (page, keys) in self.0.iter_mut().filter(|(_, k)| k.len() > MAX_PAGE) {
            let prefix = &page[..prefix_len(page)?];
            let mut rest = keys.split_off(MAX_PAGE / 2);
            while !rest.is_empty() {
                let tail = rest.split_off(rest.len().min(MAX_PAGE / 2));
                let mut k = prefix.to_vec();
                k.extend_from_slice(&rest[0]);
                new.push((k, std::mem::replace(&mut rest, tail)));
            }
        }
        self.0.extend(new);
        Ok(())
    }

    /// Writes them in the caller's transaction.
    pub(super) fn apply(&self, index: &TransactionalTree) -> TxResult<()> {
        for (k, keys) in &self.0 {
            if keys.is_empty() {
                index.remove(&k[..])?;
            } else {
                index.insert(&k[..], pack(keys))?;
            }
        }
        Ok(())
    }
}

/// The order keys of the range under `prefix` from `from` (inclusive) on,
/// or, when `back`, from just before `from` descending.
pub(super) fn walk<'a>(
    tree: &'a crate::store::kv::Tree,
    prefix: Vec<u8>,
    from: &[u8],
    back: bool,
) -> ListWalk<'a> {
    let mut start = prefix.clone();
    start.extend_from_slice(from);
    let from = from.to_vec();
    let keys = |kv: crate::store::kv::Result<(crate::store::kv::IVec, crate::store::kv::IVec)>| -> Vec<Result<Vec<u8>, StoreError>> {
        match kv.map_err(StoreError::from).and_then(|(_, v)| unpack(&v)) {
            Ok(keys) => keys.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        }
    };
    if back {
        let pages = tree.range(prefix..=start).rev();
        return Box::new(
            pages
                .flat_map(move |kv| keys(kv).into_iter().rev())
                .filter(move |k| k.as_ref().map_or(true, |k| *k < from)),
        );
    }
    let first = match tree.range(prefix.clone()..=start).next_back() {
        Some(Ok((k, _))) => k.to_vec(),
        Some(Err(e)) => return Box::new(std::iter::once(Err(e.into()))),
        None => prefix.clone(),
    };
    let pages = match prefix_end(&prefix) {
        Some(end) => tree.range(first..end),
        None => tree.range(first..),
    };
    Box::new(
        pages
            .flat_map(keys)
            .filter(move |k| k.as_ref().map_or(true, |k| *k >= from)),
    )
}

/// The page a [`PageFill`] is filling: its range's prefix, its key, its
/// order keys.
type Filling = (Vec<u8>, Vec<u8>, Vec<Vec<u8>>);

/// Fills pages of [`FILL_PAGE`] keys from list keys given in order (a
/// backfill), written in batches.
pub(super) struct PageFill<'a> {
    tree: &'a crate::store::kv::Tree,
    batch: crate::store::kv::Batch,
    batched: usize,
    page: Option<Filling>,
}

impl<'a> PageFill<'a> {
    pub(super) fn new(tree: &'a crate::store::kv::Tree) -> Self {
        Self {
            tree,
            batch: crate::store::kv::Batch::default(),
            batched: 0,
            page: None,
        }
    }

    /// Adds `key` (list ++ column ++ order key; `prefix_len` bytes of prefix).
    pub(super) fn push(&mut self, key: &[u8], prefix_len: usize) -> Result<(), StoreError> {
        let (prefix, order) = key.split_at(prefix_len);
        match self.page.as_mut() {
            Some((p, _, keys)) if p == prefix && keys.len() < FILL_PAGE => {
                keys.push(order.to_vec());
                return Ok(());
            }
            _ => {}
        }
        let same_range = matches!(&self.page, Some((p, _, _)) if p == prefix);
        let page_key = if same_range { key } else { prefix };
        let next = (prefix.to_vec(), page_key.to_vec(), vec![order.to_vec()]);
        if let Some((_, k, keys)) = self.page.replace(next) {
            self.batch.insert(k, pack(&keys));
            self.batched += 1;
            if self.batched >= 1000 {
                self.tree.apply_batch(std::mem::take(&mut self.batch))?;
                self.batched = 0;
            }
        }
        Ok(())
    }

    /// Writes what is left.
    pub(super) fn finish(mut self) -> Result<(), StoreError> {
        if let Some((_, k, keys)) = self.page.take() {
            self.batch.insert(k, pack(&keys));
        }
        self.tree.apply_batch(self.batch)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_unpack_what_was_packed_and_refuse_a_cut_one() {
        let keys = vec![b"".to_vec(), b"anna".to_vec(), vec![0xFF; 300]];
        let packed = pack(&keys);
        assert_eq!(unpack(&packed).expect("unpacks"), keys);
        assert_eq!(unpack(&[]).expect("empty page"), Vec::<Vec<u8>>::new());
        for cut in [1, 3, 5, packed.len() - 1] {
            assert_eq!(unpack(&packed[..cut]), Err(corrupt_page()), "cut at {cut}");
        }
    }
}
