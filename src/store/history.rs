//! The packed history: the trees that hold a key for every chat ever
//! stored (`chatid_chat`, `chatid_transcript`, `tokenhash_chatid`,
//! `startedchat_fact`) are each read as one map kept in two places: the
//! tree itself, where every write goes (a sled key an entry; an empty
//! value marks an entry removed), and pages in `mapfirstkey_page` (the
//! map's tag ++ a page's first key → up to [`MAX_ENTRIES`] entries), to
//! which [`pack`] moves what the writes left behind: today the tokens
//! and facts ([`pack_all`] says why not the records, nor since redb the
//! transcripts).
//!
//! Why: sled 0.34 keeps metadata in memory for every page of its own,
//! cached or not, and splits a leaf past 16 keys, so a key a stored chat
//! in each of these trees made the desk's memory grow by ~250 bytes a
//! chat (docs/performance.md). Packed, a page of up to 64 chats costs
//! what one chat's key did.
//!
//! Reads take the tree first and the pages after: the tree's entry (or
//! its removal mark) is the newer. The packer runs with the store's write
//! gate closed and writes the pages before it removes the loose keys, so
//! a read between the two finds the entry twice (the same value) and
//! never not at all; a crash between them leaves loose keys that the next
//! run packs again. Scans (a range, every entry) read both lazily, so
//! they hold the store's scan lock, which the packer takes too.
//! Transactions write the tree only; what they read of pages is read
//! just before them ([`Prefetched`]): only the packer changes pages, and
//! never while a write holds the gate.

use super::trees::Trees;
use super::{StoreError, TxResult};
use crate::store::kv::transaction::{ConflictableTransactionError, TransactionalTree};
use crate::store::kv::IVec;
use std::collections::BTreeMap;

/// Entries a page holds at most.
#[cfg(not(test))]
const MAX_ENTRIES: usize = 64;
#[cfg(test)]
const MAX_ENTRIES: usize = 4;

/// Bytes a page holds at most (one larger entry gets a page of its own).
/// sled reads and writes a leaf of up to 17 values whole, and writes one
/// over 128 KiB to a file of its own (a blob): pages of 32 KiB made such
/// leaves, and a list's first cold page read 50 of them (31–41 ms at
/// 100,000 chats). 4 KiB keeps a leaf near 64 KiB.
const MAX_BYTES: usize = 4 * 1024;

/// Loose entries packed in one step of [`pack`] (bounds its memory).
const STEP: usize = 20_000;

/// The packed maps, each with its tag in the page keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Map {
    /// `chatid_chat`: chat records (read through pages, not packed today:
    /// see [`pack_all`]).
    Chats,
    /// `chatid_transcript`: an ended chat's messages.
    Transcripts,
    /// `tokenhash_chatid`: visitor tokens.
    Tokens,
    /// `startedchat_fact`: the reports' facts.
    Facts,
}

impl Map {
    fn tag(self) -> u8 {
        match self {
            Map::Chats => b'c',
            Map::Transcripts => b't',
            Map::Tokens => b'k',
            Map::Facts => b'f',
        }
    }
}

/// An entry: key and value.
type Entry = (Vec<u8>, Vec<u8>);
/// An entry read in place from its page.
type EntryRef<'v> = (&'v [u8], &'v [u8]);

fn corrupt_page() -> StoreError {
    StoreError::Corrupt("a page of the packed history".into())
}

/// A page's entries, in key order: each key and value packed as its
/// length (u32 BE) and bytes.
fn entries(mut v: &[u8]) -> Result<Vec<EntryRef<'_>>, StoreError> {
    fn field<'v>(v: &mut &'v [u8]) -> Result<&'v [u8], StoreError> {
        let (len, rest) = v.split_first_chunk::<4>().ok_or_else(corrupt_page)?;
        let n = u32::from_be_bytes(*len) as usize;
        let bytes = rest.get(..n).ok_or_else(corrupt_page)?;
        *v = &rest[n..];
        Ok(bytes)
    }
    let mut out = Vec::new();
    while !v.is_empty() {
        let k = field(&mut v)?;
        out.push((k, field(&mut v)?));
    }
    Ok(out)
}

fn pack_page(entries: &[Entry]) -> Vec<u8> {
    let mut v = Vec::with_capacity(entries.iter().map(|(k, e)| k.len() + e.len() + 8).sum());
    for (k, e) in entries {
        v.extend_from_slice(&(k.len() as u32).to_be_bytes());
        v.extend_from_slice(k);
        v.extend_from_slice(&(e.len() as u32).to_be_bytes());
        v.extend_from_slice(e);
    }
    v
}

/// The page `key` belongs in: the last of the map's pages keyed at or
/// before it (the first page is keyed by the tag alone).
fn page_of(
    pages: &crate::store::kv::Tree,
    tag: u8,
    key: &[u8],
) -> Result<Option<(IVec, IVec)>, StoreError> {
    let mut at = vec![tag];
    at.extend_from_slice(key);
    Ok(pages.range(vec![tag]..=at).next_back().transpose()?)
}

/// `key`'s packed value.
fn packed_get(
    pages: &crate::store::kv::Tree,
    tag: u8,
    key: &[u8],
) -> Result<Option<IVec>, StoreError> {
    let Some((_, page)) = page_of(pages, tag, key)? else {
        return Ok(None);
    };
    Ok(entries(&page)?
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| IVec::from(v)))
}

/// One packed map, read.
pub(super) struct Packed<'a> {
    map: Map,
    loose: &'a crate::store::kv::Tree,
    pages: &'a crate::store::kv::Tree,
}

impl<'a> Packed<'a> {
    pub(super) fn new(
        map: Map,
        loose: &'a crate::store::kv::Tree,
        pages: &'a crate::store::kv::Tree,
    ) -> Self {
        Self { map, loose, pages }
    }

    /// `key`'s value.
    pub(super) fn get(&self, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        match self.loose.get(key)? {
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => Ok(Some(v)),
            None => packed_get(self.pages, self.map.tag(), key),
        }
    }

    /// Removes `key` outside a transaction.
    pub(super) fn remove(&self, key: &[u8]) -> Result<(), StoreError> {
        if packed_get(self.pages, self.map.tag(), key)?.is_some() {
            self.loose.insert(key, &[][..])?;
        } else {
            self.loose.remove(key)?;
        }
        Ok(())
    }

    /// The entries from `start` (inclusive) to `end` (exclusive; none: the
    /// map's end), in key order.
    pub(super) fn range(&self, start: &[u8], end: Option<&[u8]>) -> Merged {
        let tag = self.map.tag();
        let loose = match end {
            Some(e) if e <= start => return Merged::empty(),
            Some(e) => self.loose.range(start.to_vec()..e.to_vec()),
            None => self.loose.range(start.to_vec()..),
        };
        let first = match page_of(self.pages, tag, start) {
            Ok(Some((k, _))) => k.to_vec(),
            Ok(None) => vec![tag],
            Err(e) => return Merged::failed(e),
        };
        let pages = self.pages.range(first..vec![tag + 1]);
        Merged {
            loose: Peek::new(loose),
            pages: Some(pages),
            page: Vec::new().into_iter(),
            packed: None,
            start: start.to_vec(),
            end: end.map(<[u8]>::to_vec),
            failed: None,
        }
    }

    /// Every entry, in key order.
    pub(super) fn iter(&self) -> Merged {
        self.range(&[], None)
    }

    /// How many entries the map holds (reads its pages: 64 entries each).
    #[cfg(test)]
    pub(super) fn count(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        for kv in self.iter() {
            kv?;
            n += 1;
        }
        Ok(n)
    }
}

/// The packed values a transaction may read, read before it: sled 0.34
/// holds a lock through a transaction's closure that every read outside
/// it waits for, so a transaction cannot look into the pages itself. What
/// is read here stays true through the transaction: the writer holds the
/// store's write gate, and only the packer, which closes it, changes
/// pages.
#[derive(Default)]
pub(super) struct Prefetched(Vec<(u8, Vec<u8>, Option<IVec>)>);

impl Prefetched {
    /// Reads `key`'s packed value in `map`.
    pub(super) fn read(mut self, trees: &Trees, map: Map, key: &[u8]) -> Result<Self, StoreError> {
        let v = packed_get(&trees.mapfirstkey_page, map.tag(), key)?;
        self.0.push((map.tag(), key.to_vec(), v));
        Ok(self)
    }

    fn get(&self, map: Map, key: &[u8]) -> TxResult<Option<IVec>> {
        match self.0.iter().find(|(t, k, _)| *t == map.tag() && k == key) {
            Some((_, _, v)) => Ok(v.clone()),
            None => Err(tx_err(StoreError::Corrupt(format!(
                "a write read the packed history ({map:?}) without reading it before"
            )))),
        }
    }
}

/// One packed map inside a transaction over its tree.
pub(super) struct PackedTx<'a> {
    map: Map,
    loose: &'a TransactionalTree,
    packed: &'a Prefetched,
}

fn tx_err(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

impl<'a> PackedTx<'a> {
    pub(super) fn new(map: Map, loose: &'a TransactionalTree, packed: &'a Prefetched) -> Self {
        Self { map, loose, packed }
    }

    /// The report facts in a transaction over `startedchat_fact`.
    pub(super) fn facts(loose: &'a TransactionalTree, packed: &'a Prefetched) -> Self {
        Self::new(Map::Facts, loose, packed)
    }

    /// `key`'s value (a packed one must have been read before).
    pub(super) fn get(&self, key: &[u8]) -> TxResult<Option<IVec>> {
        match self.loose.get(key)? {
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => Ok(Some(v)),
            None => self.packed.get(self.map, key),
        }
    }

    /// Sets `key` (never to an empty value: that marks a removal).
    pub(super) fn insert(&self, key: &[u8], value: Vec<u8>) -> TxResult<()> {
        debug_assert!(!value.is_empty());
        self.loose.insert(key, value)?;
        Ok(())
    }

    /// Removes `key` (its packed value must have been read before).
    pub(super) fn remove(&self, key: &[u8]) -> TxResult<()> {
        if self.packed.get(self.map, key)?.is_some() {
            self.loose.insert(key, &[][..])?;
        } else {
            self.loose.remove(key)?;
        }
        Ok(())
    }
}

/// A sled iterator with one entry looked at ahead.
struct Peek {
    iter: Option<crate::store::kv::Iter>,
    next: Option<(IVec, IVec)>,
    failed: Option<StoreError>,
}

impl Peek {
    fn new(iter: crate::store::kv::Iter) -> Self {
        let mut p = Self {
            iter: Some(iter),
            next: None,
            failed: None,
        };
        p.advance();
        p
    }

    fn advance(&mut self) {
        self.next = match self.iter.as_mut().and_then(Iterator::next) {
            Some(Ok(kv)) => Some(kv),
            Some(Err(e)) => {
                self.failed = Some(e.into());
                None
            }
            None => None,
        };
    }
}

/// A packed map's entries in key order: its tree's and its pages' merged,
/// the tree's winning, removal marks hiding what they remove.
pub(super) struct Merged {
    loose: Peek,
    /// The map's pages from the one holding `start`; none once done.
    pages: Option<crate::store::kv::Iter>,
    /// The rest of the page being read.
    page: std::vec::IntoIter<Entry>,
    /// The next packed entry, looked at ahead.
    packed: Option<Entry>,
    start: Vec<u8>,
    end: Option<Vec<u8>>,
    failed: Option<StoreError>,
}

impl Merged {
    fn empty() -> Self {
        Self {
            failed: None,
            ..Self::failed(StoreError::Corrupt(String::new()))
        }
    }

    fn failed(e: StoreError) -> Self {
        Self {
            loose: Peek {
                iter: None,
                next: None,
                failed: None,
            },
            pages: None,
            page: Vec::new().into_iter(),
            packed: None,
            start: Vec::new(),
            end: None,
            failed: Some(e),
        }
    }

    /// Fills `packed` with the next packed entry in range, if any.
    fn next_packed(&mut self) -> Result<(), StoreError> {
        while self.packed.is_none() {
            if let Some(e) = self.page.next() {
                if e.0 < self.start {
                    continue;
                }
                if self.end.as_ref().is_some_and(|end| e.0 >= *end) {
                    self.pages = None;
                    self.page = Vec::new().into_iter();
                    return Ok(());
                }
                self.packed = Some(e);
                return Ok(());
            }
            let Some(pages) = self.pages.as_mut() else {
                return Ok(());
            };
            match pages.next() {
                Some(kv) => {
                    let (_, v) = kv?;
                    let page: Vec<Entry> = entries(&v)?
                        .into_iter()
                        .map(|(k, v)| (k.to_vec(), v.to_vec()))
                        .collect();
                    self.page = page.into_iter();
                }
                None => self.pages = None,
            }
        }
        Ok(())
    }
}

impl Iterator for Merged {
    type Item = Result<(Vec<u8>, IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.failed.take().or_else(|| self.loose.failed.take()) {
                self.pages = None;
                self.loose.next = None;
                return Some(Err(e));
            }
            if let Err(e) = self.next_packed() {
                self.failed = Some(e);
                continue;
            }
            let order = match (&self.loose.next, &self.packed) {
                (None, None) => return None,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some((lk, _)), Some((pk, _))) => lk.as_slice().cmp(pk.as_slice()),
            };
            if order == std::cmp::Ordering::Equal {
                // The tree's entry is the newer.
                self.packed = None;
            }
            let take_loose = order != std::cmp::Ordering::Greater;
            if take_loose {
                let Some((k, v)) = self.loose.next.take() else {
                    continue;
                };
                self.loose.advance();
                if v.is_empty() {
                    continue; // removed
                }
                return Some(Ok((k.to_vec(), v)));
            }
            if let Some((k, v)) = self.packed.take() {
                return Some(Ok((k, IVec::from(v))));
            }
        }
    }
}

/// Moves the loose entries of `map` into its pages. Returns how many it
/// moved. The caller keeps every other writer out (the store's
/// write gate, or the store not open yet).
pub(super) fn pack(
    map: Map,
    loose: &crate::store::kv::Tree,
    pages: &crate::store::kv::Tree,
) -> Result<usize, StoreError> {
    let tag = map.tag();
    let mut moved = 0;
    let mut after: Option<IVec> = None;
    loop {
        // One step: up to STEP loose entries, in key order.
        let mut step: Vec<(IVec, IVec)> = Vec::new();
        let iter = match &after {
            Some(a) => loose.range::<&[u8], _>((
                std::ops::Bound::Excluded(a.as_slice()),
                std::ops::Bound::Unbounded,
            )),
            None => loose.iter(),
        };
        for kv in iter {
            let (k, v) = kv?;
            after = Some(k.clone());
            step.push((k, v));
            if step.len() >= STEP {
                break;
            }
        }
        if step.is_empty() {
            return Ok(moved);
        }
        // Each entry into the page it belongs in, edited in memory.
        let mut edits: BTreeMap<Vec<u8>, Vec<Entry>> = BTreeMap::new();
        for (k, v) in &step {
            let page_key = match page_of(pages, tag, k)? {
                Some((pk, _)) => pk.to_vec(),
                None => vec![tag],
            };
            if !edits.contains_key(&page_key) {
                let stored = match pages.get(&page_key)? {
                    Some(p) => entries(&p)?
                        .into_iter()
                        .map(|(k, v)| (k.to_vec(), v.to_vec()))
                        .collect(),
                    None => Vec::new(),
                };
                edits.insert(page_key.clone(), stored);
            }
            let page = edits.entry(page_key).or_default();
            match (
                page.binary_search_by(|(pk, _)| pk.as_slice().cmp(k)),
                v.is_empty(),
            ) {
                (Ok(i), true) => {
                    page.remove(i);
                }
                (Err(_), true) => {}
                (Ok(i), false) => page[i].1 = v.to_vec(),
                (Err(i), false) => page.insert(i, (k.to_vec(), v.to_vec())),
            }
        }
        // Pages past a limit are cut into full ones: the history is cold.
        let mut batch = crate::store::kv::Batch::default();
        for (page_key, page) in edits {
            if page.is_empty() {
                batch.remove(page_key);
                continue;
            }
            let mut key = page_key;
            let mut chunk: Vec<Entry> = Vec::new();
            let mut bytes = 0;
            for e in page {
                let size = e.0.len() + e.1.len() + 8;
                if !chunk.is_empty() && (chunk.len() >= MAX_ENTRIES || bytes + size > MAX_BYTES) {
                    batch.insert(std::mem::take(&mut key), pack_page(&chunk));
                    key = vec![tag];
                    key.extend_from_slice(&e.0);
                    chunk.clear();
                    bytes = 0;
                }
                bytes += size;
                chunk.push(e);
            }
            batch.insert(key, pack_page(&chunk));
        }
        pages.apply_batch(batch)?;
        // Only now the loose keys go (a read meanwhile finds either).
        let mut batch = crate::store::kv::Batch::default();
        for (k, _) in &step {
            batch.remove(k);
        }
        loose.apply_batch(batch)?;
        moved += step.len();
        if moved % 200_000 < STEP {
            tracing::info!(entries = moved, map = ?map, "packing the history");
        }
    }
}

/// Packs the tokens and facts. Transcripts stay a key each since the
/// store is redb (2026-12-07): a page there costs no memory, and moving
/// them copied every new transcript once more (the first start after
/// writing 1 GB of chats spent 9.4 s on it); those packed before are read
/// from their pages as ever. Chat records stay a key each too: every row of a chat list reads one, and packed, a list page's
/// 50 rows read 50 leaves of up to 64 KiB from sled (at 1,000,000 chats
/// the name and email sorts went to 20–40 ms at p99); a record is also
/// rewritten with every message while its chat is open. Their reads
/// still look into pages, so packing them later needs no new schema.
pub(super) fn pack_all(trees: &Trees) -> Result<usize, StoreError> {
    let pages = &trees.mapfirstkey_page;
    Ok(pack(Map::Tokens, &trees.tokenhash_chatid, pages)?
        + pack(Map::Facts, &trees.startedchat_fact, pages)?)
}

impl Trees {
    /// Chat records.
    pub(super) fn chats(&self) -> Packed<'_> {
        Packed::new(Map::Chats, &self.chatid_chat, &self.mapfirstkey_page)
    }

    /// Ended chats' transcripts.
    pub(super) fn transcripts(&self) -> Packed<'_> {
        Packed::new(
            Map::Transcripts,
            &self.chatid_transcript,
            &self.mapfirstkey_page,
        )
    }

    /// Visitor tokens.
    pub(super) fn tokens(&self) -> Packed<'_> {
        Packed::new(Map::Tokens, &self.tokenhash_chatid, &self.mapfirstkey_page)
    }

    /// Report facts.
    pub(super) fn facts(&self) -> Packed<'_> {
        Packed::new(Map::Facts, &self.startedchat_fact, &self.mapfirstkey_page)
    }
}

impl super::Store {
    /// Moves what writes left in the history's trees into pages (see the
    /// module): at start, and from the housekeeping job. Writes and scans
    /// of the history wait meanwhile (a few ms for an hour of chats).
    /// Returns the entries moved.
    pub fn pack_history(&self) -> Result<usize, StoreError> {
        let _closed = self.gate.pause();
        let _scans = self
            .history_scans
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pack_all(&self.trees)
    }

    /// Held through a scan of the history (a range of facts, every chat):
    /// a scan reads the tree and the pages lazily, and an entry the packer
    /// moved between the two would be missed. A single read needs none
    /// (the packer writes the page before it removes the key).
    pub(super) fn history_scan(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.history_scans
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests;
