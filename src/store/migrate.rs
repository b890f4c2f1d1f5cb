//! Schema versions. The `meta` tree holds `schema_version`; at open, each
//! migration from the stored version up to [`SCHEMA_VERSION`] runs in order
//! and the new version is written after each. A folder from a newer livedesk
//! is refused rather than misread.

use super::trees::Trees;
use super::StoreError;

/// The schema this binary writes.
pub const SCHEMA_VERSION: u32 = 9;

pub(super) const VERSION_KEY: &[u8] = b"schema_version";

type Migration = fn(&crate::store::kv::Db, &Trees) -> Result<(), StoreError>;

/// `MIGRATIONS[n]` turns schema `n` into `n + 1`.
const MIGRATIONS: &[Migration] = &[
    v0_to_v1, v1_to_v2, v2_to_v3, v3_to_v4, v4_to_v5, v5_to_v6, v6_to_v7, v7_to_v8, v8_to_v9,
];

/// Version 0 is an empty folder: nothing to convert, the trees exist.
fn v0_to_v1(_db: &crate::store::kv::Db, _trees: &Trees) -> Result<(), StoreError> {
    Ok(())
}

/// Version 2 keeps the reports' counters: every chat that ended before is
/// counted once.
fn v1_to_v2(_db: &crate::store::kv::Db, trees: &Trees) -> Result<(), StoreError> {
    let n = super::reports::backfill(trees)?;
    tracing::info!(chats = n, "counted the stored chats for reports");
    Ok(())
}

/// Version 3 served chat lists from index trees that it built here; the
/// lists of version 4 replace them, so this step leaves the building to
/// the next one (a folder of version 2 is listed once).
fn v2_to_v3(_db: &crate::store::kv::Db, _trees: &Trees) -> Result<(), StoreError> {
    Ok(())
}

/// Version 4 keeps a staff member's joined chats per group and per owner
/// in that group, so no list is filtered while it is read: schema 3's list
/// trees are dropped (page by page: fast, where removing their keys one by
/// one took many minutes at a million chats) and every ended chat is
/// listed in new ones (a run cut short goes over the chats again).
fn v3_to_v4(db: &crate::store::kv::Db, trees: &Trees) -> Result<(), StoreError> {
    for name in super::trees::SCHEMA_3_LISTS {
        db.drop_tree(name)?;
    }
    let n = super::Store::backfill_lists(db, trees)?;
    tracing::info!(chats = n, "listed the stored chats");
    Ok(())
}

/// Version 5 packs the list index: schema 4's one key per list entry
/// becomes pages of order keys (sled kept ~1 KB of memory per stored chat
/// for those keys' pages), read from the old tree in order. The old tree
/// is left as it is and never read again: sled 0.34 frees a dropped
/// tree's pages one by one against its whole free list, which grows with
/// the square of the pages (hours for a million chats' index), and the
/// memory sled keeps per page is not given back either way. A backup
/// restored into a new folder leaves it behind (docs/operations.md). A
/// run cut short packs again, from the start. Without the old tree (a
/// restored schema-4 backup: a restore skips retired trees) the ended
/// chats are listed afresh.
fn v4_to_v5(db: &crate::store::kv::Db, trees: &Trees) -> Result<(), StoreError> {
    let name = super::trees::LISTKEY_EMPTY;
    if db
        .tree_names()?
        .iter()
        .any(|n| n.as_slice() == name.as_bytes())
    {
        let old = db.open_tree(name)?;
        if !old.is_empty() {
            super::Store::pack_lists(trees, &old)?;
            tracing::info!("packed the chat lists into pages");
            return Ok(());
        }
    }
    if trees.listpage_keys.is_empty() && trees.facts().iter().next().is_some() {
        let n = super::Store::backfill_lists(db, trees)?;
        tracing::info!(chats = n, "listed the stored chats");
    }
    Ok(())
}

/// Version 6 no longer writes schema 5's id indexes (`groupid_chatid`,
/// `staffid_chatid`: two sled keys a stored chat that nothing read once
/// the chat lists came). They are left unread, as the step to 5 left the
/// old list index (dropping a tree is quadratic in its pages in sled
/// 0.34); a backup restored into a new folder leaves them behind.
fn v5_to_v6(_db: &crate::store::kv::Db, _trees: &Trees) -> Result<(), StoreError> {
    Ok(())
}

/// Version 7 counts the chat lists in blocks of at most 512 keys (2,048
/// before): a merged list's page walks up to a block a source from its
/// pivot. Larger blocks are split here, each walked once (a million
/// chats: about 12,000 blocks).
fn v6_to_v7(_db: &crate::store::kv::Db, trees: &Trees) -> Result<(), StoreError> {
    let n = super::Store::reblock(trees)?;
    if n > 0 {
        tracing::info!(blocks = n, "split the chat lists' blocks");
    }
    Ok(())
}

/// Version 8 packs an ended chat's messages into one `chatid_transcript`
/// value (with a key a message and another a client id, a chat of eight
/// messages was about 17 sled keys, and sled 0.34 keeps memory for every
/// page of keys). Every ended chat stored before is packed here (a
/// million chats: a few minutes); the old keys go in the same write.
fn v7_to_v8(_db: &crate::store::kv::Db, trees: &Trees) -> Result<(), StoreError> {
    let n = super::messages::pack_ended(trees)?;
    if n > 0 {
        tracing::info!(chats = n, "packed the ended chats' messages");
    }
    Ok(())
}

/// Version 9 packs the history: the chat records, transcripts, visitor
/// tokens and report facts of the chats stored before are moved into
/// pages of up to 64 (`history.rs`; sled 0.34 kept memory for each of
/// their keys, so the desk's memory grew with every chat it stored). An
/// older livedesk would not find them there, hence the version. A run cut
/// short packs the rest (every open packs what is loose).
fn v8_to_v9(_db: &crate::store::kv::Db, trees: &Trees) -> Result<(), StoreError> {
    let n = super::history::pack_all(trees)?;
    if n > 0 {
        tracing::info!(entries = n, "packed the chat history");
    }
    Ok(())
}

fn stored_version(trees: &Trees) -> Result<u32, StoreError> {
    match trees.meta.get(VERSION_KEY)? {
        None => Ok(0),
        Some(v) => {
            let arr: [u8; 4] = v.as_slice().try_into().map_err(|_| {
                StoreError::Corrupt(format!("schema_version has {} bytes", v.len()))
            })?;
            Ok(u32::from_be_bytes(arr))
        }
    }
}

pub(super) fn run(db: &crate::store::kv::Db, trees: &Trees) -> Result<(), StoreError> {
    let found = stored_version(trees)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for version in found..SCHEMA_VERSION {
        let step = MIGRATIONS
            .get(version as usize)
            .ok_or_else(|| StoreError::Corrupt(format!("no migration from schema {version}")))?;
        step(db, trees)?;
        trees
            .meta
            .insert(VERSION_KEY, (version + 1).to_be_bytes())?;
        db.flush()?;
        tracing::info!(
            from = version,
            to = version + 1,
            "migrated the store schema"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_has_a_migration() {
        assert_eq!(MIGRATIONS.len(), SCHEMA_VERSION as usize);
    }

    #[test]
    fn a_new_folder_is_migrated_and_a_newer_one_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db =
            crate::store::kv::Db::open(&dir.path().join("store.redb"), 16 << 20).expect("open");
        let trees = Trees::open(&db).expect("trees");
        run(&db, &trees).expect("migrates");
        assert_eq!(stored_version(&trees).expect("v"), SCHEMA_VERSION);
        run(&db, &trees).expect("second open is a no-op");
        trees
            .meta
            .insert(VERSION_KEY, 99u32.to_be_bytes())
            .expect("write");
        assert_eq!(
            run(&db, &trees),
            Err(StoreError::NewerSchema {
                found: 99,
                known: SCHEMA_VERSION
            })
        );
    }
}
