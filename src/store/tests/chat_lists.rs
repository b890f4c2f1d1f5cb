//! Store tests of the chat lists: counted blocks through writes, deletes
//! and the backfill, and the schema 4 upgrade.

use super::super::chat_lists::{self, ListId};
use super::super::Store;
use super::{chat_and_first, open};
use crate::domain::{GroupId, StaffId};

/// Every list column's blocks hold exactly the keys they say, ranks are
/// positions, and the per-id counts add up: after writes that split
/// blocks (8 keys at most under test), deletions, and a backfill.
fn check_lists(s: &Store, lists: &[ListId]) -> usize {
    use crate::domain::chat_order::Column;
    let mut seen = 0;
    for &list in lists {
        for &column in chat_lists::ALL_COLUMNS {
            if !list.has(column) {
                continue;
            }
            let blocks = s.list_blocks(list, column).expect("blocks");
            let keys: Vec<Vec<u8>> = s
                .list_walk(list, column, &[], false)
                .map(|k| k.expect("walk"))
                .collect();
            assert_eq!(blocks.total() as usize, keys.len(), "{list:?} {column:?}");
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(sorted, keys);
            for (i, k) in keys.iter().enumerate() {
                assert_eq!(s.list_rank(&blocks, k).expect("rank"), i as u64);
            }
            let mut back: Vec<Vec<u8>> = s
                .list_walk(list, column, &[0xFF; 40], true)
                .map(|k| k.expect("walk"))
                .collect();
            back.reverse();
            assert_eq!(back, keys);
            if matches!(column, Column::Group | Column::Agent) {
                let sum: u64 = s
                    .list_entities(list, column)
                    .expect("entities")
                    .iter()
                    .map(|e| e.1)
                    .sum();
                assert_eq!(sum as usize, keys.len());
            }
            seen += keys.len();
        }
    }
    check_pages(s);
    seen
}

/// Every page holds 1 to `MAX_PAGE` order keys, ascending, none before the
/// page's own key: pages past the limit were split, empty ones removed.
fn check_pages(s: &Store) {
    for kv in s.trees.listpage_keys.iter() {
        let (page, packed) = kv.expect("page");
        let keys = chat_lists::unpack_page(&packed).expect("a page unpacks");
        assert!(
            (1..=chat_lists::MAX_PAGE).contains(&keys.len()),
            "a page of {} keys",
            keys.len()
        );
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "ascending");
        let p = chat_lists::prefix_len(&page).expect("a page key");
        assert!(page[p..] <= keys[0][..], "no key before its page's start");
    }
}

#[test]
fn chat_lists_keep_counted_blocks_through_writes_deletes_and_backfill() {
    use crate::domain::chat::ChatState;
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let groups = [GroupId::generate(), GroupId::generate()];
    let staff = [
        StaffId::generate(),
        StaffId::generate(),
        StaffId::generate(),
    ];
    let mut chats = Vec::new();
    for i in 0..120u64 {
        let (mut chat, first) = chat_and_first(groups[(i % 2) as usize]);
        chat.visitor.name = format!("v{}", (i * 37) % 23);
        chat.visitor.email = (i % 3 == 0).then(|| format!("{}@x", i % 7));
        chat.started_at = 1_000 + (i * 7919) % 500;
        s.insert_chat(&chat, &[i as u8; 32], &first)
            .expect("insert");
        chat.state = ChatState::Ended;
        chat.ended_at = Some(chat.started_at + (i % 11) * 1000);
        if i % 4 != 0 {
            chat.owner = Some(staff[(i % 3) as usize]);
        }
        if i % 10 == 0 {
            chat.conference.push(staff[2]);
        }
        s.put_chat(&chat).expect("end");
        s.put_chat(&chat).expect("written again: no change");
        chats.push(chat);
    }
    let mut lists = vec![ListId::All, ListId::Owned];
    for g in groups {
        lists.push(ListId::Group(g));
        for st in staff {
            lists.extend([ListId::OwnerGroup(st, g), ListId::JoinedGroup(st, g)]);
            for o in staff {
                lists.push(ListId::JoinedOwner(st, o, g));
            }
        }
    }
    for st in staff {
        lists.push(ListId::Owner(st));
    }
    let all = s
        .list_blocks(ListId::All, crate::domain::chat_order::Column::Started)
        .expect("b");
    assert_eq!(all.total(), 120);
    assert!(all.starts().len() > 10, "blocks were split");
    let before = check_lists(&s, &lists);
    for chat in chats.iter().step_by(3) {
        s.delete_chat(chat.id).expect("delete");
    }
    let after = check_lists(&s, &lists);
    assert!(after < before);
    Store::backfill_lists(&s.db, &s.trees).expect("backfill");
    assert_eq!(check_lists(&s, &lists), after);
    assert_eq!(
        s.list_blocks(ListId::All, crate::domain::chat_order::Column::Started)
            .expect("b")
            .total(),
        80
    );
}

/// A folder of schema 3 (its list trees, no joined lists per group) opens
/// as schema 4: the old trees are dropped and every ended chat is listed
/// anew, joined chats per group and per owner in that group.
#[test]
fn schema_3_lists_are_dropped_and_rebuilt_as_schema_4() {
    use crate::domain::chat::ChatState;
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let g = GroupId::generate();
    let (owner, joiner) = (StaffId::generate(), StaffId::generate());
    for i in 0..20u64 {
        let (mut chat, first) = chat_and_first(g);
        s.insert_chat(&chat, &[i as u8; 32], &first)
            .expect("insert");
        chat.state = ChatState::Ended;
        chat.ended_at = Some(chat.started_at + 1_000);
        chat.owner = Some(owner);
        if i % 2 == 0 {
            chat.conference.push(joiner);
        }
        s.put_chat(&chat).expect("end");
    }
    // Back to schema 3: its trees hold keys, the new ones nothing.
    for name in super::super::trees::SCHEMA_3_LISTS {
        s.db.open_tree(name)
            .expect("old tree")
            .insert(b"j-key", b"")
            .expect("write");
    }
    for t in [&s.trees.listpage_keys, &s.trees.listblockid_count] {
        let keys: Vec<_> = t.iter().keys().map(|k| k.expect("key")).collect();
        for k in keys {
            t.remove(k).expect("remove");
        }
    }
    let s = reopen_at_schema(s, dir.path(), 3);
    let names: Vec<String> =
        s.db.tree_names()
            .expect("names")
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
    for old in super::super::trees::SCHEMA_3_LISTS {
        assert!(!names.iter().any(|n| n == old), "{old} was dropped");
    }
    let joined = ListId::JoinedGroup(joiner, g);
    assert_eq!(s.joined_groups(joiner).expect("groups"), vec![g]);
    assert_eq!(s.joined_owners(joiner, g).expect("owners"), vec![owner]);
    let lists = [
        ListId::All,
        ListId::Group(g),
        ListId::Owner(owner),
        joined,
        ListId::JoinedOwner(joiner, owner, g),
    ];
    for list in lists {
        let want = if matches!(list, ListId::JoinedGroup(..) | ListId::JoinedOwner(..)) {
            10
        } else {
            20
        };
        let b = s
            .list_blocks(list, crate::domain::chat_order::Column::Started)
            .expect("blocks");
        assert_eq!(b.total(), want, "{list:?}");
    }
    check_lists(&s, &lists);
}

/// Marks the store as of schema `version`, closes it and opens it again
/// (migrating it).
fn reopen_at_schema(s: Store, dir: &std::path::Path, version: u32) -> Store {
    s.trees
        .meta
        .insert(super::super::migrate::VERSION_KEY, version.to_be_bytes())
        .expect("version");
    s.close().expect("close");
    open(dir)
}

/// Every column's keys of `lists`, in order.
fn every_key(s: &Store, lists: &[ListId]) -> Vec<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for &l in lists {
        for &c in chat_lists::ALL_COLUMNS.iter().filter(|c| l.has(**c)) {
            out.push(
                s.list_walk(l, c, &[], false)
                    .map(|k| k.expect("walk"))
                    .collect(),
            );
        }
    }
    out
}

/// A folder of schema 4 (one key per list entry in `listkey_empty`) opens
/// as schema 5: the entries are packed into pages and every list reads as
/// before; the old tree is left unread (dropping it is quadratic in sled).
#[test]
fn schema_4_list_keys_are_packed_into_pages_as_schema_5() {
    use crate::domain::chat_order::Column;
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let g = GroupId::generate();
    let owner = StaffId::generate();
    end_chats(&s, g, owner, 30, |i| i % 3 != 0);
    let lists = [
        ListId::All,
        ListId::Group(g),
        ListId::Owner(owner),
        ListId::Owned,
    ];
    let want = every_key(&s, &lists);
    // Back to schema 4: every entry a key of its own, no pages.
    as_schema_4(&s, &lists);
    let s = reopen_at_schema(s, dir.path(), 4);
    let entries =
        s.db.open_tree(super::super::trees::LISTKEY_EMPTY)
            .expect("old tree")
            .len();
    assert!(
        s.trees.listpage_keys.len() * 2 < entries,
        "{entries} entries packed into {} pages",
        s.trees.listpage_keys.len()
    );
    let got = every_key(&s, &lists);
    assert_eq!(got, want);
    assert_eq!(
        s.list_blocks(ListId::All, Column::Started)
            .expect("blocks")
            .total(),
        30
    );
    check_lists(&s, &lists);
}

/// A backup written by a schema-4 desk (its one-key-per-entry list index
/// and schema 5's id indexes in it) restores into a folder that has none
/// of the retired trees and lists every chat as before.
#[test]
fn a_schema_4_backup_restores_without_the_retired_trees() {
    use super::super::trees::{ALL, RETIRED};
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir.path().join("a"));
    let g = GroupId::generate();
    let owner = StaffId::generate();
    end_chats(&s, g, owner, 30, |i| i % 3 != 0);
    let lists = [ListId::All, ListId::Group(g), ListId::Owner(owner)];
    let want = every_key(&s, &lists);
    // What a schema-4 desk held: the old index's keys, no pages.
    as_schema_4(&s, &lists);
    for name in ["groupid_chatid", "staffid_chatid"] {
        let t = s.db.open_tree(name).expect("id index");
        t.insert([7u8; 32], &[][..]).expect("write");
    }
    s.trees
        .meta
        .insert(super::super::migrate::VERSION_KEY, 4u32.to_be_bytes())
        .expect("version");
    let names: Vec<&str> = ALL.iter().chain(RETIRED).copied().collect();
    let file = dir.path().join("v4.ldb");
    let written = s
        .write_backup_of(&names, std::fs::File::create(&file).expect("file"), 1)
        .expect("backup");
    assert_eq!(written.schema_version, 4);
    s.close().expect("close");

    super::super::backup::restore(&file, &dir.path().join("b"), 8 << 20).expect("restore");
    let r = open(&dir.path().join("b"));
    let trees: Vec<String> =
        r.db.tree_names()
            .expect("names")
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
    for retired in RETIRED {
        assert!(!trees.iter().any(|n| n == retired), "{retired} left behind");
    }
    assert_eq!(every_key(&r, &lists), want);
    check_lists(&r, &lists);
}

/// A folder whose blocks are larger than [`chat_lists::MAX_BLOCK`] (they
/// were 2,048 keys before schema 7) opens with every block split, each
/// list ranking and walking as before.
#[test]
fn schema_6_blocks_are_split_to_the_block_size_as_schema_7() {
    use crate::domain::chat_order::Column;
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let g = GroupId::generate();
    let owner = StaffId::generate();
    end_chats(&s, g, owner, 40, |_| true);
    let lists = [ListId::All, ListId::Group(g), ListId::Owner(owner)];
    let want = every_key(&s, &lists);
    // As an older folder counted them: one block for each list column.
    for &l in &lists {
        for &c in chat_lists::ALL_COLUMNS.iter().filter(|c| l.has(**c)) {
            let mut first = vec![b'B'];
            first.extend_from_slice(&l.prefix(c));
            let t = &s.trees.listblockid_count;
            let blocks: Vec<_> = t
                .scan_prefix(&first)
                .keys()
                .map(|k| k.expect("key"))
                .collect();
            for b in blocks {
                t.remove(b).expect("remove");
            }
            t.insert(&first, &40u64.to_be_bytes()[..])
                .expect("one block");
        }
    }
    assert_eq!(
        s.list_blocks(ListId::All, Column::Started)
            .expect("blocks")
            .starts()
            .len(),
        1
    );
    let s = reopen_at_schema(s, dir.path(), 6);
    for &l in &lists {
        for &c in chat_lists::ALL_COLUMNS.iter().filter(|c| l.has(**c)) {
            let b = s.list_blocks(l, c).expect("blocks");
            assert_eq!(b.total(), 40, "{l:?} {c:?}");
            assert!(
                b.starts().len() >= 40 / chat_lists::MAX_BLOCK as usize,
                "{l:?} {c:?} split"
            );
        }
    }
    for kv in s.trees.listblockid_count.scan_prefix(b"B") {
        let n = u64::from_be_bytes(kv.expect("block").1.as_slice().try_into().expect("count"));
        assert!((1..=chat_lists::MAX_BLOCK).contains(&n), "a block of {n}");
    }
    assert_eq!(every_key(&s, &lists), want);
    check_lists(&s, &lists);
}

/// `n` ended chats of group `g` (visitor names repeating, each longer than
/// the one before); chat `i` is owned by `owner` when `owned(i)`.
fn end_chats(s: &Store, g: GroupId, owner: StaffId, n: u64, owned: impl Fn(u64) -> bool) {
    use crate::domain::chat::ChatState;
    for i in 0..n {
        let (mut chat, first) = chat_and_first(g);
        chat.visitor.name = format!("v{}", (i * 13) % 7);
        s.insert_chat(&chat, &[i as u8; 32], &first)
            .expect("insert");
        chat.state = ChatState::Ended;
        chat.ended_at = Some(chat.started_at + i * 1_000);
        chat.owner = owned(i).then_some(owner);
        s.put_chat(&chat).expect("end");
    }
}

/// Writes `lists` as schema 4 kept them, one key per entry in
/// `listkey_empty`, and empties the pages.
fn as_schema_4(s: &Store, lists: &[ListId]) {
    let old =
        s.db.open_tree(super::super::trees::LISTKEY_EMPTY)
            .expect("old tree");
    for &l in lists {
        for &c in chat_lists::ALL_COLUMNS.iter().filter(|c| l.has(**c)) {
            for k in s.list_walk(l, c, &[], false) {
                let mut key = l.prefix(c);
                key.extend_from_slice(&k.expect("walk"));
                old.insert(key, &[][..]).expect("write");
            }
        }
    }
    s.trees.listpage_keys.clear().expect("clear pages");
}
