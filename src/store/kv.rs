//! The key-value layer under the store: named trees of byte keys and
//! values, multi-tree transactions, batches, ordered iteration, over one
//! redb file. Its shape is sled 0.34's (the store was written on sled), so
//! the store's code reads the same: a tree is a redb table, a single
//! insert or remove is its own transaction, a transaction over a tuple of
//! trees is one redb write transaction.
//!
//! Every write commits without durability: visible to every read at once,
//! on disk at the next [`Db::flush`], which the group commit (`commit.rs`)
//! calls for all waiting writers. A crash loses what no flush covered, as
//! with sled, so nothing is acknowledged before a flush.
//!
//! redb has one writer at a time. A write started on a thread that is
//! already inside a transaction would wait for itself forever, so it fails
//! instead (a bug, reported as an I/O error).

use std::cell::Cell;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use redb::{Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

/// Bytes read from a tree.
pub type IVec = Vec<u8>;

/// What the layer fails with: redb's error, as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error(e.to_string())
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError,
    redb::SetDurabilityError
);

/// The layer's results.
pub type Result<T> = std::result::Result<T, Error>;

type Table<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

fn definition(name: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(name)
}

thread_local! {
    static WRITING: Cell<bool> = const { Cell::new(false) };
    /// The burst this thread is in: its writes and reads go through it.
    static BURST: std::cell::RefCell<Option<Rc<redb::WriteTransaction>>> =
        const { std::cell::RefCell::new(None) };
}

pub(super) fn in_burst() -> Option<Rc<redb::WriteTransaction>> {
    BURST.with(|b| b.borrow().clone())
}

/// Marks this thread as inside a write until dropped.
struct Writing;

impl Writing {
    fn enter() -> Result<Self> {
        if WRITING.with(Cell::get) {
            return Err(Error(
                "a write was started inside another write's transaction on the same thread; \
                 this is a bug in livedesk, please report it"
                    .into(),
            ));
        }
        WRITING.with(|w| w.set(true));
        Ok(Writing)
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        WRITING.with(|w| w.set(false));
    }
}

/// The open database.
#[derive(Clone)]
pub struct Db {
    inner: Arc<redb::Database>,
}

impl Db {
    /// Opens (creating if needed) the file at `path` with a cache of
    /// `cache_bytes`.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self> {
        let inner = redb::Database::builder()
            .set_cache_size(usize::try_from(cache_bytes).unwrap_or(usize::MAX))
            .create(path)?;
        Ok(Db {
            inner: Arc::new(inner),
        })
    }

    /// A tree, created empty if it is not there.
    pub fn open_tree(&self, name: impl AsRef<[u8]>) -> Result<Tree> {
        let name = std::str::from_utf8(name.as_ref())
            .map_err(|_| Error("a tree's name must be text".into()))?;
        let tree = Tree {
            db: self.inner.clone(),
            name: name.into(),
        };
        let exists = {
            let r = self.inner.begin_read()?;
            match r.open_table(definition(name)) {
                Ok(_) => true,
                Err(redb::TableError::TableDoesNotExist(_)) => false,
                Err(e) => return Err(e.into()),
            }
        };
        if !exists {
            tree.write(|_| Ok(()))?;
        }
        Ok(tree)
    }

    /// The names of the trees there are.
    pub fn tree_names(&self) -> Result<Vec<IVec>> {
        let r = self.inner.begin_read()?;
        let names = r.list_tables()?;
        Ok(names
            .map(|t| redb::TableHandle::name(&t).as_bytes().to_vec())
            .collect())
    }

    /// Removes a tree and everything in it; false when there was none.
    pub fn drop_tree(&self, name: impl AsRef<[u8]>) -> Result<bool> {
        let name = String::from_utf8_lossy(name.as_ref()).into_owned();
        let _writing = Writing::enter()?;
        let mut w = self.inner.begin_write()?;
        w.set_durability(Durability::None)?;
        let dropped = w.delete_table(definition(&name))?;
        w.commit()?;
        Ok(dropped)
    }

    /// Runs `f` with every write and read of this thread going through one
    /// write transaction, committed when it returns (durably when
    /// `durable` says so, asked just before): a burst of the engine's
    /// commands pays one commit, not one a write.
    /// Inside it, a `transaction` that aborts leaves nothing (its writes
    /// wait in an overlay until it returns Ok).
    pub fn burst<T>(&self, f: impl FnOnce() -> T, durable: impl FnOnce() -> bool) -> Result<T> {
        if in_burst().is_some() {
            return Ok(f());
        }
        let writing = Writing::enter()?;
        let begun = self
            .inner
            .begin_write()
            .map_err(Error::from)
            .and_then(|mut w| {
                w.set_durability(Durability::None)?;
                Ok(w)
            });
        let w = match begun {
            Ok(w) => w,
            Err(e) => {
                // No burst (a broken store, say): the work is still done,
                // each write on its own, so each fails to its caller and
                // nothing goes unanswered.
                drop(writing);
                tracing::debug!(error = %e, "a burst's transaction could not begin; writing one by one");
                return Ok(f());
            }
        };
        BURST.with(|b| *b.borrow_mut() = Some(Rc::new(w)));
        let out = f();
        let txn = BURST.with(|b| b.borrow_mut().take());
        drop(writing);
        match txn.map(Rc::try_unwrap) {
            Some(Ok(mut w)) => {
                if durable() {
                    w.set_durability(Durability::Immediate)?;
                    w.set_quick_repair(true);
                }
                w.commit()?;
            }
            _ => return Err(Error("a burst's transaction outlived it".into())),
        }
        Ok(out)
    }

    /// Makes every write committed so far durable (one fsync).
    pub fn flush(&self) -> Result<()> {
        let _writing = Writing::enter()?;
        let mut w = self.inner.begin_write()?;
        w.set_quick_repair(true);
        w.commit()?;
        Ok(())
    }
}

/// A named tree: keys in byte order.
#[derive(Clone)]
pub struct Tree {
    db: Arc<redb::Database>,
    name: Arc<str>,
}

impl Tree {
    fn write<T>(&self, f: impl FnOnce(&mut Table<'_>) -> Result<T>) -> Result<T> {
        if let Some(txn) = in_burst() {
            let mut table = txn.open_table(definition(&self.name))?;
            return f(&mut table);
        }
        let _writing = Writing::enter()?;
        let mut w = self.db.begin_write()?;
        w.set_durability(Durability::None)?;
        let out = {
            let mut table = w.open_table(definition(&self.name))?;
            f(&mut table)?
        };
        w.commit()?;
        Ok(out)
    }

    fn read(&self) -> Result<redb::ReadOnlyTable<&'static [u8], &'static [u8]>> {
        Ok(self.db.begin_read()?.open_table(definition(&self.name))?)
    }

    /// The value at `key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<IVec>> {
        if let Some(txn) = in_burst() {
            let table = txn.open_table(definition(&self.name))?;
            return Ok(table.get(key.as_ref())?.map(|v| v.value().to_vec()));
        }
        Ok(self.read()?.get(key.as_ref())?.map(|v| v.value().to_vec()))
    }

    /// Whether `key` is there.
    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        Ok(self.get(key)?.is_some())
    }

    /// Sets `key` to `value`; the value it had.
    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<Option<IVec>> {
        self.write(|t| {
            Ok(t.insert(key.as_ref(), value.as_ref())?
                .map(|v| v.value().to_vec()))
        })
    }

    /// Removes `key`; the value it had.
    pub fn remove(&self, key: impl AsRef<[u8]>) -> Result<Option<IVec>> {
        self.write(|t| Ok(t.remove(key.as_ref())?.map(|v| v.value().to_vec())))
    }

    /// Applies every insert and remove of `batch` at once.
    pub fn apply_batch(&self, batch: Batch) -> Result<()> {
        self.write(|t| batch.apply_to(t))
    }

    /// Removes everything.
    pub fn clear(&self) -> Result<()> {
        self.write(|t| Ok(t.retain(|_, _| false)?))
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        if let Some(txn) = in_burst() {
            return txn
                .open_table(definition(&self.name))
                .map_err(Error::from)
                .and_then(|t| Ok(t.len()?))
                .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        }
        self.read()
            .and_then(|t| Ok(t.len()?))
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first entry.
    pub fn first(&self) -> Result<Option<(IVec, IVec)>> {
        self.iter().next().transpose()
    }

    /// Every entry in key order.
    pub fn iter(&self) -> Iter {
        self.between(Bound::Unbounded, Bound::Unbounded)
    }

    /// The entries in `range`.
    pub fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Iter {
        let bound = |b: Bound<&K>| match b {
            Bound::Included(k) => Bound::Included(k.as_ref().to_vec()),
            Bound::Excluded(k) => Bound::Excluded(k.as_ref().to_vec()),
            Bound::Unbounded => Bound::Unbounded,
        };
        self.between(bound(range.start_bound()), bound(range.end_bound()))
    }

    /// The entries whose key starts with `prefix`.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Iter {
        let prefix = prefix.as_ref().to_vec();
        let end = prefix_end(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
        self.between(Bound::Included(prefix), end)
    }

    fn between(&self, from: Bound<Vec<u8>>, to: Bound<Vec<u8>>) -> Iter {
        let empty = matches!((&from, &to), (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) if a > b);
        if empty {
            return Iter(Err(None));
        }
        if let Some(txn) = in_burst() {
            // Read through the burst (its own writes included), collected:
            // the range borrows the transaction.
            let read = || -> Result<Vec<(IVec, IVec)>> {
                let table = txn.open_table(definition(&self.name))?;
                let range = table.range((as_slice(&from), as_slice(&to)))?;
                range
                    .map(|kv| {
                        let (k, v) = kv?;
                        Ok((k.value().to_vec(), v.value().to_vec()))
                    })
                    .collect()
            };
            return match read() {
                Ok(items) => Iter(Ok(Source::Collected(items.into_iter()))),
                Err(e) => Iter(Err(Some(e))),
            };
        }
        let range = self
            .read()
            .and_then(|t| Ok(t.range_owned((as_slice(&from), as_slice(&to)))?));
        Iter(range.map(|r| Source::Snapshot(Box::new(r))).map_err(Some))
    }
}

fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The first key after every key that starts with `p` (none: no end).
fn prefix_end(p: &[u8]) -> Option<Vec<u8>> {
    let mut end = p.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

type Range = redb::OwnedRange<&'static [u8], &'static [u8]>;

/// Entries in key order (either end), read from one snapshot.
pub struct Iter(std::result::Result<Source, Option<Error>>);

/// Where an iterator's entries come from.
enum Source {
    /// A read snapshot, lazily.
    Snapshot(Box<Range>),
    /// Read through a burst's transaction.
    Collected(std::vec::IntoIter<(IVec, IVec)>),
}

/// An entry as redb's owned range gives it.
type OwnedEntry = std::result::Result<
    (
        redb::OwnedAccessGuard<&'static [u8]>,
        redb::OwnedAccessGuard<&'static [u8]>,
    ),
    redb::StorageError,
>;

fn owned(kv: OwnedEntry) -> Result<(IVec, IVec)> {
    let (k, v) = kv?;
    Ok((k.value().to_vec(), v.value().to_vec()))
}

impl Iterator for Iter {
    type Item = Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Ok(Source::Snapshot(range)) => range.next().map(owned),
            Ok(Source::Collected(items)) => items.next().map(Ok),
            Err(e) => e.take().map(Err),
        }
    }
}

impl DoubleEndedIterator for Iter {
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Ok(Source::Snapshot(range)) => range.next_back().map(owned),
            Ok(Source::Collected(items)) => items.next_back().map(Ok),
            Err(e) => e.take().map(Err),
        }
    }
}

impl Iter {
    /// The keys only.
    pub fn keys(self) -> impl DoubleEndedIterator<Item = Result<IVec>> {
        self.map(|kv| kv.map(|(k, _)| k))
    }

    /// The values only.
    pub fn values(self) -> impl DoubleEndedIterator<Item = Result<IVec>> {
        self.map(|kv| kv.map(|(_, v)| v))
    }
}

/// Inserts and removes applied together.
#[derive(Clone, Debug, Default)]
pub struct Batch(Vec<(IVec, Option<IVec>)>);

impl Batch {
    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.0
            .push((key.as_ref().to_vec(), Some(value.as_ref().to_vec())));
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.0.push((key.as_ref().to_vec(), None));
    }

    fn apply_to(&self, t: &mut Table<'_>) -> Result<()> {
        for (k, v) in &self.0 {
            match v {
                Some(v) => {
                    t.insert(k.as_slice(), v.as_slice())?;
                }
                None => {
                    t.remove(k.as_slice())?;
                }
            }
        }
        Ok(())
    }
}

pub mod transaction;

pub use transaction::Transactional;
