//! Measures redb on a copy of a livedesk data folder, for the question of
//! issue 15: a store whose memory does not grow with the stored chats.
//!
//!     store-probe copy SLED_DIR REDB_FILE        every sled tree into a redb table
//!     store-probe open REDB_FILE CACHE_MIB       open, 200,000 random chat reads, read every list and history page
//!     store-probe writes REDB_FILE RATE SECS MODE   paced message writes:
//!         MODE batch: one writer thread, each batch of queued writes one durable commit
//!         MODE each:  every write its own non-durable commit on its caller's thread
//!                     (64 threads), one committer thread making them durable
//!         MODE batch-quick-repair: as batch, saving the allocator state at each commit
//!
//! A crash is `kill -9` during `writes`, then `open`: the time to open
//! includes redb's repair. Prints resident memory (RssAnon) and malloc's
//! bytes in use after each step.

use redb::{Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

type Bytes = TableDefinition<'static, &'static [u8], &'static [u8]>;
const MESSAGES: Bytes = TableDefinition::new("chatid_seq_message");
const CLIENT_IDS: Bytes = TableDefinition::new("chatid_clientid_seq");

fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let anon = status.lines().find(|l| l.starts_with("RssAnon")).unwrap_or("RssAnon: ?");
    // mallinfo2 only reads the allocator's counters.
    let in_use = unsafe { libc::mallinfo2() }.uordblks >> 20;
    format!("{} | malloc in use {in_use} MiB", anon.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn percentiles(mut v: Vec<u64>) -> String {
    v.sort_unstable();
    let n = v.len().max(1);
    let at = |p: usize| v.get(n * p / 1000).copied().unwrap_or(0);
    format!("p50 {} µs, p99 {} µs, p99.9 {} µs, max {} µs", at(500), at(990), at(999), v.last().copied().unwrap_or(0))
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    match (a.get(1).map(String::as_str), a.len()) {
        (Some("copy"), 4) => copy(&a[2], &a[3]),
        (Some("open"), 4) => open(&a[2], a[3].parse().expect("CACHE_MIB")),
        (Some("writes"), 6) => writes(&a[2], a[3].parse().expect("RATE"), a[4].parse().expect("SECS"), &a[5]),
        _ => println!("{}", include_str!("main.rs").lines().take_while(|l| l.starts_with("//!")).map(|l| l.trim_start_matches("//!").trim_start_matches(' ')).collect::<Vec<_>>().join("\n")),
    }
}

fn copy(sled_dir: &str, redb_file: &str) {
    let from = sled::Config::new().path(sled_dir).cache_capacity(64 << 20).open().expect("sled folder");
    let to = Database::builder().set_cache_size(64 << 20).create(redb_file).expect("redb file");
    for name in from.tree_names() {
        let name_text = String::from_utf8_lossy(&name).to_string();
        let def = TableDefinition::<&[u8], &[u8]>::new(&name_text);
        let tree = from.open_tree(&name).expect("tree");
        let started = Instant::now();
        let mut items = tree.iter();
        let mut count = 0u64;
        loop {
            let mut w = to.begin_write().expect("write");
            w.set_durability(Durability::None).expect("durability");
            let mut more = false;
            {
                let mut table = w.open_table(def).expect("table");
                for kv in items.by_ref() {
                    let (k, v) = kv.expect("sled read");
                    table.insert(&k[..], &v[..]).expect("insert");
                    count += 1;
                    if count % 100_000 == 0 {
                        more = true;
                        break;
                    }
                }
            }
            w.commit().expect("commit");
            if !more {
                break;
            }
        }
        println!("{name_text}: {count} keys in {:.1?}", started.elapsed());
    }
    let w = to.begin_write().expect("write");
    w.commit().expect("durable commit");
    println!("copied: {}", memory());
}

fn open(file: &str, cache_mib: usize) {
    let started = Instant::now();
    let db = Database::builder().set_cache_size(cache_mib << 20).open(file).expect("redb file");
    println!("opened in {:.1?}: {}", started.elapsed(), memory());
    let r = db.begin_read().expect("read");
    let chats = r.open_table::<&[u8], &[u8]>(TableDefinition::new("chatid_chat")).expect("chats");
    let first = chats.first().expect("read").expect("a chat").0.value().to_vec();
    let last = chats.last().expect("read").expect("a chat").0.value().to_vec();
    let (lo, hi) = (u64::from_be_bytes(first[..8].try_into().expect("id")), u64::from_be_bytes(last[..8].try_into().expect("id")));
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut took = Vec::new();
    for _ in 0..200_000 {
        let mut key = rng.gen_range(lo..hi).to_be_bytes().to_vec();
        key.extend_from_slice(&[0; 8]);
        let t = Instant::now();
        let found = chats.range(&key[..]..).expect("range").next().map(|kv| kv.expect("read").1.value().len());
        took.push(t.elapsed().as_micros() as u64);
        std::hint::black_box(found);
    }
    println!("{} chats; 200,000 random chat reads: {}; {}", chats.len().expect("len"), percentiles(took), memory());
    for name in ["listpage_keys", "mapfirstkey_page"] {
        let table = r.open_table::<&[u8], &[u8]>(TableDefinition::new(name)).expect(name);
        let t = Instant::now();
        let (mut n, mut bytes) = (0u64, 0u64);
        for kv in table.iter().expect("iter") {
            let (_, v) = kv.expect("read");
            n += 1;
            bytes += v.value().len() as u64;
        }
        println!("read all of {name} ({n} keys, {} MB) in {:.1?}: {}", bytes >> 20, t.elapsed(), memory());
    }
}

struct Job {
    chat: u64,
    seq: u64,
    sent: Instant,
    done: mpsc::Sender<u64>,
}

fn insert_message(w: &redb::WriteTransaction, chat: u64, seq: u64) {
    let body = [7u8; 400];
    let mut key = chat.to_be_bytes().to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    w.open_table(MESSAGES).expect("table").insert(&key[..], &body[..]).expect("insert");
    let mut client = chat.to_be_bytes().to_vec();
    client.extend_from_slice(b"a-client-id-of-32-characters----");
    client.extend_from_slice(&seq.to_be_bytes());
    w.open_table(CLIENT_IDS).expect("table").insert(&client[..], &seq.to_be_bytes()[..]).expect("insert");
}

fn writes(file: &str, rate: u64, secs: u64, mode: &str) {
    let db = Arc::new(Database::builder().set_cache_size(64 << 20).create(file).expect("redb file"));
    let total = rate * secs;
    let took = match mode {
        "batch" | "batch-quick-repair" => batched(db, rate, total, mode == "batch-quick-repair"),
        "each" => each_own(db, rate, total),
        _ => panic!("MODE: batch, each or batch-quick-repair"),
    };
    println!("{total} messages at {rate}/s, sent to durable: {}; {}", percentiles(took), memory());
}

fn batched(db: Arc<Database>, rate: u64, total: u64, quick_repair: bool) -> Vec<u64> {
    let (tx, rx) = mpsc::channel::<Job>();
    let writer = std::thread::spawn(move || {
        let (mut batches, mut jobs) = (0u64, 0u64);
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            batch.extend(rx.try_iter().take(511));
            let mut w = db.begin_write().expect("write");
            w.set_quick_repair(quick_repair);
            for j in &batch {
                insert_message(&w, j.chat, j.seq);
            }
            w.commit().expect("commit");
            batches += 1;
            jobs += batch.len() as u64;
            for j in batch {
                let _ = j.done.send(j.sent.elapsed().as_micros() as u64);
            }
        }
        println!("{jobs} writes in {batches} durable commits");
    });
    let (done, took) = mpsc::channel();
    let started = Instant::now();
    for i in 0..total {
        pace(started, i, rate);
        let job = Job { chat: (1 << 40) + i % 500, seq: i, sent: Instant::now(), done: done.clone() };
        tx.send(job).expect("writer");
    }
    drop((tx, done));
    writer.join().expect("writer");
    took.iter().collect()
}

fn pace(started: Instant, i: u64, rate: u64) {
    let due = started + Duration::from_nanos(i * 1_000_000_000 / rate);
    if let Some(wait) = due.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
}

fn each_own(db: Arc<Database>, rate: u64, total: u64) -> Vec<u64> {
    const THREADS: u64 = 64;
    let applied = Arc::new(AtomicU64::new(0));
    let durable = Arc::new((Mutex::new(0u64), Condvar::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let committer = {
        let (db, applied, durable, stop) = (db.clone(), applied.clone(), durable.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let covers = applied.load(Ordering::Acquire);
                if covers <= *durable.0.lock().expect("lock") {
                    std::thread::sleep(Duration::from_micros(100));
                    continue;
                }
                db.begin_write().expect("write").commit().expect("durable commit");
                *durable.0.lock().expect("lock") = covers;
                durable.1.notify_all();
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let per = rate / THREADS;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (db, applied, durable) = (db.clone(), applied.clone(), durable.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut took = Vec::new();
                for i in 0..total / THREADS {
                    pace(started, i, per);
                    let sent = Instant::now();
                    let mut w = db.begin_write().expect("write");
                    w.set_durability(Durability::None).expect("durability");
                    insert_message(&w, (t << 32) + i % 8, i);
                    w.commit().expect("commit");
                    let ticket = applied.fetch_add(1, Ordering::AcqRel) + 1;
                    let mut d = durable.0.lock().expect("lock");
                    while *d < ticket {
                        d = durable.1.wait(d).expect("lock");
                    }
                    took.push(sent.elapsed().as_micros() as u64);
                }
                took
            })
        })
        .collect();
    let took = threads.into_iter().flat_map(|t| t.join().expect("thread")).collect();
    stop.store(true, Ordering::Relaxed);
    committer.join().expect("committer");
    took
}
