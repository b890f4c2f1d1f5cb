//! Tests of the packed maps: against a model, in transactions, and the
//! page limits.
use super::*;
use std::collections::BTreeMap;

fn db() -> (
    tempfile::TempDir,
    crate::store::kv::Tree,
    crate::store::kv::Tree,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = crate::store::kv::Db::open(&dir.path().join("store.redb"), 16 << 20).expect("open");
    let loose = db.open_tree("loose").expect("tree");
    let pages = db.open_tree("pages").expect("tree");
    (dir, loose, pages)
}

/// Every page of `map` holds 1 to MAX_ENTRIES ascending keys, at or
/// after its own key and before the next page's.
fn check_pages(pages: &crate::store::kv::Tree, map: Map) {
    let tag = map.tag();
    let all: Vec<(IVec, IVec)> = pages
        .scan_prefix([tag])
        .map(|kv| kv.expect("read"))
        .collect();
    for (i, (k, v)) in all.iter().enumerate() {
        let e = entries(v).expect("a page");
        assert!(!e.is_empty(), "an empty page");
        let big = e.len() == 1 && e[0].1.len() + 8 > MAX_BYTES;
        assert!(e.len() <= MAX_ENTRIES || big, "a page of {}", e.len());
        assert!(e.windows(2).all(|w| w[0].0 < w[1].0), "unordered page");
        assert!(e[0].0 >= &k[1..], "a key before its page");
        if let Some((next, _)) = all.get(i + 1) {
            assert!(e[e.len() - 1].0 < &next[1..], "a key past its page");
        }
    }
}

#[test]
fn a_packed_map_reads_as_one_tree_through_writes_removals_and_packing() {
    let (_dir, loose, pages) = db();
    let map = Packed::new(Map::Facts, &loose, &pages);
    // Another map's pages beside it must not show.
    let other = db().1;
    pack(Map::Chats, &other, &pages).expect("pack");
    other.insert(b"k05", b"other").expect("write");
    pack(Map::Chats, &other, &pages).expect("pack");

    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut seed = 7u64;
    let mut rand = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for round in 0..400 {
        let key = format!("k{:02}", rand(60)).into_bytes();
        match rand(10) {
            0..=4 => {
                let v = format!("v{round}").into_bytes();
                loose.insert(&key, v.clone()).expect("write");
                model.insert(key, v);
            }
            5..=7 => {
                map.remove(&key).expect("remove");
                model.remove(&key);
            }
            _ => {
                let waiting = loose.len();
                let moved = pack(Map::Facts, &loose, &pages).expect("pack");
                assert!(loose.is_empty(), "packing leaves nothing loose");
                assert_eq!(moved, waiting, "every loose entry and removal mark");
                check_pages(&pages, Map::Facts);
            }
        }
        for n in 0..60 {
            let k = format!("k{n:02}").into_bytes();
            assert_eq!(
                map.get(&k).expect("get").map(|v| v.to_vec()),
                model.get(&k).cloned(),
                "round {round}, key k{n:02}"
            );
        }
        let all: Vec<(Vec<u8>, Vec<u8>)> = map
            .iter()
            .map(|kv| kv.map(|(k, v)| (k, v.to_vec())).expect("read"))
            .collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> =
            model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(all, want, "round {round}");
        assert_eq!(map.count().expect("count"), model.len());
        let (a, b) = (b"k17".to_vec(), b"k42".to_vec());
        let part: Vec<Vec<u8>> = map
            .range(&a, Some(&b))
            .map(|kv| kv.expect("read").0)
            .collect();
        let want: Vec<Vec<u8>> = model.range(a..b).map(|(k, _)| k.clone()).collect();
        assert_eq!(part, want, "round {round}: a range");
    }
    assert_eq!(
        Packed::new(Map::Chats, &other, &pages)
            .get(b"k05")
            .expect("get")
            .as_deref(),
        Some(&b"other"[..])
    );
}

#[test]
fn a_transaction_reads_packed_entries_and_marks_their_removal() {
    use crate::store::kv::Transactional;
    let (_dir, loose, pages) = db();
    for k in [b"a", b"b", b"c", b"d", b"e", b"f"] {
        loose.insert(k, &b"old"[..]).expect("write");
    }
    pack(Map::Tokens, &loose, &pages).expect("pack");
    let mut pre = Prefetched::default();
    for k in [&b"c"[..], b"z"] {
        pre.0.push((
            Map::Tokens.tag(),
            k.to_vec(),
            packed_get(&pages, Map::Tokens.tag(), k).expect("read"),
        ));
    }
    (&loose,)
        .transaction(|(t,)| {
            let m = PackedTx::new(Map::Tokens, t, &pre);
            assert!(m.get(b"a").is_err(), "a packed key not read before");
            assert_eq!(m.get(b"c")?.as_deref(), Some(&b"old"[..]));
            m.remove(b"c")?;
            assert_eq!(m.get(b"c")?, None);
            m.insert(b"d", b"new".to_vec())?;
            m.insert(b"z", b"new".to_vec())?;
            m.remove(b"z")?;
            Ok::<(), ConflictableTransactionError<StoreError>>(())
        })
        .expect("transaction");
    // A removal mark for the packed key, nothing for the loose one.
    assert_eq!(loose.get(b"c").expect("read").as_deref(), Some(&b""[..]));
    assert_eq!(loose.get(b"z").expect("read"), None);
    let map = Packed::new(Map::Tokens, &loose, &pages);
    let keys =
        |m: &Packed<'_>| -> Vec<Vec<u8>> { m.iter().map(|kv| kv.expect("read").0).collect() };
    assert_eq!(keys(&map), [b"a", b"b", b"d", b"e", b"f"]);
    pack(Map::Tokens, &loose, &pages).expect("pack");
    assert!(loose.is_empty());
    assert_eq!(keys(&map), [b"a", b"b", b"d", b"e", b"f"]);
    assert_eq!(map.get(b"d").expect("get").as_deref(), Some(&b"new"[..]));
}

#[test]
fn a_large_entry_gets_a_page_of_its_own() {
    let (_dir, loose, pages) = db();
    let big = vec![7u8; MAX_BYTES + 1];
    loose.insert(b"a", &b"1"[..]).expect("write");
    loose.insert(b"b", big.clone()).expect("write");
    loose.insert(b"c", &b"3"[..]).expect("write");
    assert_eq!(pack(Map::Chats, &loose, &pages).expect("pack"), 3);
    assert!(loose.is_empty());
    assert_eq!(pages.len(), 3, "a, then b alone, then c");
    check_pages(&pages, Map::Chats);
    let map = Packed::new(Map::Chats, &loose, &pages);
    assert_eq!(map.get(b"b").expect("get").as_deref(), Some(&big[..]));
    assert_eq!(map.count().expect("count"), 3);
}

#[test]
fn pages_refuse_a_cut_one() {
    let page = pack_page(&[(b"key".to_vec(), b"value".to_vec())]);
    assert_eq!(
        entries(&page).expect("page"),
        vec![(&b"key"[..], &b"value"[..])]
    );
    for cut in [1, 5, 8, page.len() - 1] {
        assert_eq!(entries(&page[..cut]), Err(corrupt_page()), "cut at {cut}");
    }
}
