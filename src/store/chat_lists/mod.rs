//! Chat lists at any size: every ended chat is listed in index trees, one
//! key range per list and sort column, keyed so byte order is the list's
//! order (`domain::chat_order`), written in the same transaction as the
//! chat. Open chats are not listed here: the live desk holds few, and the
//! service merges them in.
//!
//! `listpage_keys`: every list column's order keys, packed into pages
//! (`pages.rs`).
//!
//! `listblockid_count`: the counted blocks that make any page a short walk,
//! and the ids' counts.
//! `B` ++ list ++ column ++ the first key of a block → how many keys the
//! block holds (u64 BE), up to the next block's first key; the first
//! block of a range starts at the range itself. `E` ++ list ++ column ++ a
//! group or owner id → how many keys that id has in a group or agent
//! column (the read walks those columns one id at a time, in name order).
//!
//! sled transactions cannot read ranges, so the blocks a write changes are
//! found before its transaction, under `list_lock`, which every writer of
//! these trees holds to its end; a block grown past [`MAX_BLOCK`] is split
//! in two after the transaction (a crash before the split leaves a large
//! block, split at its next write).

use super::{Store, StoreError, TxResult};
use crate::domain::chat::{Chat, ChatState};
use crate::domain::chat_order::{Column, Entity, OrderFields, NO_ONE};
use crate::domain::{GroupId, StaffId};
use crate::store::kv::transaction::TransactionalTree;
use std::collections::{BTreeMap, BTreeSet};

mod pages;
mod rebuild;
#[cfg(test)]
pub(in crate::store) use pages::{unpack as unpack_page, MAX_PAGE};

/// Keys a block holds at most before it is split in two. A page of a
/// merged list skips, from the shared pivot, up to a block of keys a
/// source, so this bounds the manager's deepest pages (2,048 before
/// schema 7: 22-27 ms at p99 at a million chats).
#[cfg(not(test))]
pub const MAX_BLOCK: u64 = 512;
#[cfg(test)]
pub const MAX_BLOCK: u64 = 8;

/// A list of ended chats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListId {
    /// Every ended chat.
    All,
    /// The ended chats whose group (the last, after transfers) is this one.
    Group(GroupId),
    /// Those this agent owned.
    Owner(StaffId),
    /// Those an agent owned.
    Owned,
    /// Those this agent owned in this group.
    OwnerGroup(StaffId, GroupId),
    /// Those this staff member joined or handed on without owning them,
    /// whose group is this one.
    JoinedGroup(StaffId, GroupId),
    /// Of those, the ones this agent owned.
    JoinedOwner(StaffId, StaffId, GroupId),
}

/// Every column an index may keep.
pub(super) const ALL_COLUMNS: &[Column] = &[
    Column::Started,
    Column::Visitor,
    Column::Email,
    Column::Duration,
    Column::Group,
    Column::Agent,
];

impl ListId {
    /// The key prefix of this list's range of `column`.
    pub fn prefix(&self, column: Column) -> Vec<u8> {
        let mut k = Vec::with_capacity(34);
        match self {
            ListId::All => k.push(b'a'),
            ListId::Group(g) => {
                k.push(b'g');
                k.extend_from_slice(&g.to_bytes());
            }
            ListId::Owner(s) => {
                k.push(b'o');
                k.extend_from_slice(&s.to_bytes());
            }
            ListId::Owned => k.push(b'w'),
            ListId::OwnerGroup(s, g) => {
                k.push(b'x');
                k.extend_from_slice(&s.to_bytes());
                k.extend_from_slice(&g.to_bytes());
            }
            ListId::JoinedGroup(s, g) => {
                k.push(b'k');
                k.extend_from_slice(&s.to_bytes());
                k.extend_from_slice(&g.to_bytes());
            }
            ListId::JoinedOwner(s, o, g) => {
                k.push(b'm');
                k.extend_from_slice(&s.to_bytes());
                k.extend_from_slice(&o.to_bytes());
                k.extend_from_slice(&g.to_bytes());
            }
        }
        k.push(column.tag());
        k
    }

    /// The columns kept. A list of one group is not kept by group (its
    /// start order is that order), one of one owner not by agent, and the
    /// owned chats by agent are the every-chat list's agent column without
    /// its "no agent" range; a staff member's joined chats of one owner
    /// by agent are that owner's range of their joined chats of the group.
    /// (A joined list of one group keeps its group column: no wider list
    /// holds a staff member's joined chats of every group.)
    pub fn has(&self, column: Column) -> bool {
        !matches!(
            (self, column),
            (ListId::Group(_), Column::Group)
                | (
                    ListId::Owner(_) | ListId::Owned | ListId::JoinedOwner(..),
                    Column::Agent
                )
                | (ListId::OwnerGroup(..), Column::Group | Column::Agent)
        )
    }
}

/// The lists an ended chat is in.
pub fn lists_of(chat: &Chat) -> Vec<ListId> {
    let mut lists = vec![ListId::All, ListId::Group(chat.group)];
    if let Some(owner) = chat.owner {
        lists.extend([
            ListId::Owner(owner),
            ListId::Owned,
            ListId::OwnerGroup(owner, chat.group),
        ]);
    }
    let joined: BTreeSet<StaffId> = chat
        .conference
        .iter()
        .copied()
        .chain(chat.handoffs.iter().map(|h| h.from))
        .filter(|s| Some(*s) != chat.owner)
        .collect();
    for s in joined {
        lists.push(ListId::JoinedGroup(s, chat.group));
        if let Some(owner) = chat.owner {
            lists.push(ListId::JoinedOwner(s, owner, chat.group));
        }
    }
    lists
}

/// One key of a chat: its index key and the id counted for it.
struct Entry {
    prefix_len: usize,
    key: Vec<u8>,
    entity: Option<Vec<u8>>,
}

fn entity_key(prefix: &[u8], entity: Entity) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 17);
    k.push(b'E');
    k.extend_from_slice(prefix);
    k.extend_from_slice(&entity);
    k
}

fn block_key(index_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(index_key.len() + 1);
    k.push(b'B');
    k.extend_from_slice(index_key);
    k
}

fn entries(chat: &Chat) -> Vec<Entry> {
    if chat.state != ChatState::Ended {
        return Vec::new();
    }
    let fields = OrderFields::ended(chat);
    let mut out = Vec::new();
    for list in lists_of(chat) {
        for &column in ALL_COLUMNS.iter().filter(|c| list.has(**c)) {
            let prefix = list.prefix(column);
            let mut key = prefix.clone();
            key.extend_from_slice(&fields.ended_key(column));
            out.push(Entry {
                prefix_len: prefix.len(),
                key,
                entity: fields.entity(column).map(|e| entity_key(&prefix, e)),
            });
        }
    }
    out
}

/// The index changes of one chat write, with the counts they move.
#[derive(Default)]
pub(super) struct ListWrite {
    pages: pages::PageEdits,
    counts: BTreeMap<Vec<u8>, i64>,
}

impl ListWrite {
    /// Writes them in the caller's transaction.
    pub(super) fn apply(
        &self,
        index: &TransactionalTree,
        counts: &TransactionalTree,
    ) -> TxResult<()> {
        self.pages.apply(index)?;
        for (k, d) in &self.counts {
            let now = match counts.get(&k[..])? {
                Some(b) => read_count(&b),
                None => 0,
            };
            let n = now as i64 + d;
            if n <= 0 {
                counts.remove(&k[..])?;
            } else {
                counts.insert(&k[..], &(n as u64).to_be_bytes()[..])?;
            }
        }
        Ok(())
    }
}

fn read_count(b: &[u8]) -> u64 {
    b.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

/// A list column's blocks, read once per request: where each starts (the
/// order key after the prefix; the first may be empty), how many keys come
/// before it, and how many it holds.
#[derive(Clone, Debug, Default)]
pub struct ListBlocks {
    prefix: Vec<u8>,
    starts: Vec<Vec<u8>>,
    before: Vec<u64>,
    sizes: Vec<u64>,
}

impl ListBlocks {
    /// Keys in the list.
    pub fn total(&self) -> u64 {
        self.before.last().copied().unwrap_or(0) + self.sizes.last().copied().unwrap_or(0)
    }

    /// Where the blocks start.
    pub fn starts(&self) -> &[Vec<u8>] {
        &self.starts
    }

    fn block_of(&self, key: &[u8]) -> Option<usize> {
        self.starts
            .partition_point(|s| s.as_slice() <= key)
            .checked_sub(1)
    }

    /// Bounds on how many keys come before `key`, without reading the
    /// index: exact when `key` starts a block.
    pub fn bounds(&self, key: &[u8]) -> (u64, u64) {
        match self.block_of(key) {
            None => (0, 0),
            Some(i) if self.starts[i] == key => (self.before[i], self.before[i]),
            Some(i) => (self.before[i], self.before[i] + self.sizes[i]),
        }
    }
}

impl Store {
    /// Held by every writer of the chat-list trees.
    pub(super) fn list_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.list_lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The index changes that turn `old`'s keys into `new`'s (either may be
    /// an open chat or none: no keys). The caller holds [`Store::list_guard`].
    pub(super) fn plan_lists(
        &self,
        old: Option<&Chat>,
        new: Option<&Chat>,
    ) -> Result<ListWrite, StoreError> {
        let old = old.map(entries).unwrap_or_default();
        let new = new.map(entries).unwrap_or_default();
        let mut w = ListWrite::default();
        let old_keys: BTreeSet<&[u8]> = old.iter().map(|e| e.key.as_slice()).collect();
        let new_keys: BTreeSet<&[u8]> = new.iter().map(|e| e.key.as_slice()).collect();
        for e in &old {
            if !new_keys.contains(e.key.as_slice()) {
                self.count(&mut w, e, -1)?;
                w.pages.edit(
                    &self.trees.listpage_keys,
                    &e.key[..e.prefix_len],
                    &e.key,
                    false,
                )?;
            }
        }
        for e in new.iter().filter(|e| !old_keys.contains(e.key.as_slice())) {
            self.count(&mut w, e, 1)?;
            w.pages.edit(
                &self.trees.listpage_keys,
                &e.key[..e.prefix_len],
                &e.key,
                true,
            )?;
        }
        w.pages.split()?;
        Ok(w)
    }

    fn count(&self, w: &mut ListWrite, e: &Entry, d: i64) -> Result<(), StoreError> {
        let first = block_key(&e.key[..e.prefix_len]);
        let block = match self
            .trees
            .listblockid_count
            .range(first.clone()..=block_key(&e.key))
            .next_back()
        {
            Some(kv) => kv?.0.to_vec(),
            None => first,
        };
        *w.counts.entry(block).or_default() += d;
        if let Some(k) = &e.entity {
            *w.counts.entry(k.clone()).or_default() += d;
        }
        Ok(())
    }

    /// Splits the blocks `w` grew past [`MAX_BLOCK`] (after its transaction,
    /// still under the guard).
    pub(super) fn split_blocks(&self, w: &ListWrite) -> Result<(), StoreError> {
        let t = &self.trees;
        for (block, _) in w.counts.iter().filter(|(k, d)| k[0] == b'B' && **d > 0) {
            let Some(n) = t.listblockid_count.get(block)?.map(|b| read_count(&b)) else {
                continue;
            };
            if n <= MAX_BLOCK {
                continue;
            }
            let p = prefix_len(&block[1..])?;
            let (prefix, start) = block[1..].split_at(p);
            let Some(mid) =
                pages::walk(&t.listpage_keys, prefix.to_vec(), start, false).nth((n / 2) as usize)
            else {
                continue;
            };
            let mut mid_key = prefix.to_vec();
            mid_key.extend_from_slice(&mid?);
            let mut batch = crate::store::kv::Batch::default();
            batch.insert(&block[..], &(n / 2).to_be_bytes()[..]);
            batch.insert(block_key(&mid_key), &(n - n / 2).to_be_bytes()[..]);
            t.listblockid_count.apply_batch(batch)?;
        }
        Ok(())
    }

    /// A list column's blocks.
    pub fn list_blocks(&self, list: ListId, column: Column) -> Result<ListBlocks, StoreError> {
        let prefix = list.prefix(column);
        let mut b = ListBlocks {
            prefix: prefix.clone(),
            ..ListBlocks::default()
        };
        let mut before = 0;
        for kv in self.trees.listblockid_count.scan_prefix(block_key(&prefix)) {
            let (k, v) = kv?;
            let size = read_count(&v);
            b.starts.push(k[1 + prefix.len()..].to_vec());
            b.before.push(before);
            b.sizes.push(size);
            before += size;
        }
        Ok(b)
    }

    /// How many keys of the list come before `key` (exactly: the bounds,
    /// then a walk of at most one block).
    pub fn list_rank(&self, blocks: &ListBlocks, key: &[u8]) -> Result<u64, StoreError> {
        let Some(i) = blocks.block_of(key) else {
            return Ok(0);
        };
        let mut n = blocks.before[i];
        let walk = pages::walk(
            &self.trees.listpage_keys,
            blocks.prefix.clone(),
            &blocks.starts[i],
            false,
        );
        for k in walk {
            if k?.as_slice() >= key {
                break;
            }
            n += 1;
        }
        Ok(n)
    }

    /// The list's keys from `from` (inclusive) on, ascending or, when
    /// `back`, from just before `from` descending: the order keys.
    pub fn list_walk<'a>(
        &'a self,
        list: ListId,
        column: Column,
        from: &[u8],
        back: bool,
    ) -> ListWalk<'a> {
        pages::walk(&self.trees.listpage_keys, list.prefix(column), from, back)
    }

    /// How many keys each group or owner id has in a group or agent column.
    pub fn list_entities(
        &self,
        list: ListId,
        column: Column,
    ) -> Result<Vec<(Entity, u64)>, StoreError> {
        let mut p = vec![b'E'];
        p.extend_from_slice(&list.prefix(column));
        let n = p.len();
        self.trees
            .listblockid_count
            .scan_prefix(&p)
            .map(|kv| {
                let (k, v) = kv?;
                let e: Entity = k
                    .get(n..)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| StoreError::Corrupt("a chat list count key".into()))?;
                Ok((e, read_count(&v)))
            })
            .collect()
    }

    /// The groups in which `staff` owned ended chats.
    pub fn owner_groups(&self, staff: StaffId) -> Result<Vec<GroupId>, StoreError> {
        let groups = self.list_entities(ListId::Owner(staff), Column::Group)?;
        Ok(groups
            .into_iter()
            .map(|(g, _)| GroupId::from_bytes(g))
            .collect())
    }

    /// The groups in which `staff` joined or handed on ended chats they
    /// did not own.
    pub fn joined_groups(&self, staff: StaffId) -> Result<Vec<GroupId>, StoreError> {
        // `E` `k` staff group column-tag id: the id counts of the staff
        // member's joined lists (`ListId::prefix`, `entity_key`); the
        // group column's count keys name the groups.
        let mut p = vec![b'E', b'k'];
        p.extend_from_slice(&staff.to_bytes());
        let (group_at, tag_at) = (p.len(), p.len() + 16);
        let mut groups = Vec::new();
        for k in self.trees.listblockid_count.scan_prefix(&p).keys() {
            let k = k?;
            if k.get(tag_at) == Some(&Column::Group.tag()) {
                let g: [u8; 16] = k
                    .get(group_at..tag_at)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| StoreError::Corrupt("a chat list count key".into()))?;
                groups.push(GroupId::from_bytes(g));
            }
        }
        Ok(groups)
    }

    /// The owners of the ended chats `staff` joined in `group`.
    pub fn joined_owners(
        &self,
        staff: StaffId,
        group: GroupId,
    ) -> Result<Vec<StaffId>, StoreError> {
        Ok(self
            .list_entities(ListId::JoinedGroup(staff, group), Column::Agent)?
            .into_iter()
            .filter(|(e, _)| *e != NO_ONE)
            .map(|(e, _)| StaffId::from_bytes(e))
            .collect())
    }
}

/// A walk of a list column's order keys.
pub type ListWalk<'a> = Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + 'a>;

/// The length of a key's list ++ column prefix.
pub(in crate::store) fn prefix_len(k: &[u8]) -> Result<usize, StoreError> {
    let ids = match k.first() {
        Some(b'a' | b'w') => 0,
        Some(b'g' | b'o') => 16,
        Some(b'x' | b'k') => 32,
        Some(b'm') => 48,
        _ => return Err(StoreError::Corrupt("a chat list key".into())),
    };
    if k.len() < ids + 2 {
        return Err(StoreError::Corrupt("a chat list key".into()));
    }
    Ok(ids + 2)
}

/// The first key after every key that starts with `p`.
fn prefix_end(p: &[u8]) -> Option<Vec<u8>> {
    let mut end = p.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
