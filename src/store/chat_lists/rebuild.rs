//! The chat lists built again from what is stored: every ended chat
//! listed afresh (a folder without lists, a restored backup), an older
//! schema's list keys packed into pages, and blocks of an older size
//! split. Run by the schema steps (`migrate.rs`), not while the desk serves.

use super::super::records::{decode, ChatRecord};
use super::super::trees::Trees;
use super::super::{Store, StoreError};
use super::{block_key, entries, pages, prefix_len, read_count, MAX_BLOCK};
use crate::domain::chat::Chat;
use crate::domain::chat_order::Column;
use std::collections::BTreeMap;

impl Store {
    /// Splits every block of more than [`MAX_BLOCK`] keys (a folder
    /// written when blocks were larger) into blocks of half that, walking
    /// each block's keys once. Returns how many blocks were split.
    pub(in crate::store) fn reblock(trees: &Trees) -> Result<u64, StoreError> {
        let t = &trees.listblockid_count;
        let mut big = Vec::new();
        for kv in t.scan_prefix(b"B") {
            let (block, count) = kv?;
            if read_count(&count) > MAX_BLOCK {
                big.push((block.to_vec(), read_count(&count)));
            }
        }
        for (block, n) in &big {
            let p = prefix_len(&block[1..])?;
            let (prefix, start) = block[1..].split_at(p);
            let mut batch = crate::store::kv::Batch::default();
            let (mut current, mut size) = (block.clone(), 0u64);
            let keys = pages::walk(&trees.listpage_keys, prefix.to_vec(), start, false);
            for k in keys.take(*n as usize) {
                let k = k?;
                if size == MAX_BLOCK / 2 {
                    batch.insert(current, &size.to_be_bytes()[..]);
                    let mut key = prefix.to_vec();
                    key.extend_from_slice(&k);
                    (current, size) = (block_key(&key), 0);
                }
                size += 1;
            }
            batch.insert(current, &size.to_be_bytes()[..]);
            t.apply_batch(batch)?;
        }
        Ok(big.len() as u64)
    }

    /// Lists every ended chat: its keys into a scratch tree in one pass
    /// (sorted there by sled), then packed into pages with the blocks and
    /// id counts (`pack_lists`), then the scratch tree dropped. A run cut
    /// short goes over the chats again, writing the same scratch keys.
    pub(in crate::store) fn backfill_lists(
        db: &crate::store::kv::Db,
        trees: &Trees,
    ) -> Result<usize, StoreError> {
        let scratch = db.open_tree(super::super::trees::LISTKEY_SCRATCH)?;
        let mut n = 0;
        let mut batch = crate::store::kv::Batch::default();
        for kv in trees.chats().iter() {
            let chat: Chat = decode::<ChatRecord, Chat>("chat", &kv?.1)?;
            for e in entries(&chat) {
                batch.insert(e.key, &[][..]);
            }
            n += 1;
            if n % 1000 == 0 {
                scratch.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        scratch.apply_batch(batch)?;
        Self::pack_lists(trees, &scratch)?;
        drop(scratch);
        db.drop_tree(super::super::trees::LISTKEY_SCRATCH)?;
        Ok(n)
    }

    /// Replaces the pages, blocks and id counts with those of the list
    /// keys of `source` (list ++ column ++ order key → empty, in order):
    /// pages filled to three quarters, and the blocks from the same walk. Both
    /// trees are cleared first (sled's `clear` removes key by key: fine for
    /// pages and counts, a few per hundred entries).
    pub(in crate::store) fn pack_lists(
        trees: &Trees,
        source: &crate::store::kv::Tree,
    ) -> Result<(), StoreError> {
        trees.listpage_keys.clear()?;
        trees.listblockid_count.clear()?;
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut current: Option<(Vec<u8>, Vec<u8>, u64)> = None; // prefix, block, size
        let mut pages = pages::PageFill::new(&trees.listpage_keys);
        for k in source.iter().keys() {
            let k = k?;
            let p = prefix_len(&k)?;
            let prefix = &k[..p];
            let same =
                matches!(&current, Some((cp, _, size)) if cp == prefix && *size < MAX_BLOCK / 2);
            if same {
                if let Some((_, _, size)) = current.as_mut() {
                    *size += 1;
                }
            } else {
                let block = if matches!(&current, Some((cp, _, _)) if cp == prefix) {
                    block_key(&k)
                } else {
                    block_key(prefix)
                };
                if let Some((_, b, size)) = current.replace((prefix.to_vec(), block, 1)) {
                    counts.insert(b, size);
                }
            }
            pages.push(&k, p)?;
            let column = k[p - 1];
            if column == Column::Group.tag() || column == Column::Agent.tag() {
                if let Some(e) = k.get(p..p + 16) {
                    let mut ek = vec![b'E'];
                    ek.extend_from_slice(prefix);
                    ek.extend_from_slice(e);
                    *counts.entry(ek).or_default() += 1;
                }
            }
        }
        pages.finish()?;
        if let Some((_, b, size)) = current {
            counts.insert(b, size);
        }
        let mut batch = crate::store::kv::Batch::default();
        for (k, v) in counts {
            batch.insert(k, &v.to_be_bytes()[..]);
        }
        trees.listblockid_count.apply_batch(batch)?;
        Ok(())
    }
}
