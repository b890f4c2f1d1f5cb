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

    /// Makes every write committed so far durable (one fsync).
    pub fn flush(&self) -> Result<()> {
        let _writing = Writing::enter()?;
        let w = self.inner.begin_write()?;
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
        Ok(self.read()?.get(key.as_ref())?.map(|v| v.value().to_vec()))
    }

    /// Whether `key` is there.
    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        Ok(self.read()?.get(key.as_ref())?.is_some())
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
        let range = self
            .read()
            .and_then(|t| Ok(t.range_owned((as_slice(&from), as_slice(&to)))?));
        Iter(range.map_err(Some))
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
pub struct Iter(std::result::Result<Range, Option<Error>>);

fn owned(
    kv: std::result::Result<
        (
            redb::OwnedAccessGuard<&'static [u8]>,
            redb::OwnedAccessGuard<&'static [u8]>,
        ),
        redb::StorageError,
    >,
) -> Result<(IVec, IVec)> {
    let (k, v) = kv?;
    Ok((k.value().to_vec(), v.value().to_vec()))
}

impl Iterator for Iter {
    type Item = Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Ok(range) => range.next().map(owned),
            Err(e) => e.take().map(Err),
        }
    }
}

impl DoubleEndedIterator for Iter {
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Ok(range) => range.next_back().map(owned),
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

pub mod transaction {
    //! Transactions over several trees, in sled's shape.

    use super::*;

    /// A failure inside a transaction's closure: its own (abort) or the
    /// store's.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum ConflictableTransactionError<E> {
        /// The closure gave up with its error; nothing is written.
        Abort(E),
        /// Reading or writing failed.
        Storage(Error),
    }

    /// What a transaction ended with, when not written.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum TransactionError<E> {
        /// The closure's own error.
        Abort(E),
        /// Reading or writing failed.
        Storage(Error),
    }

    /// A read or write inside a transaction that failed.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct UnabortableTransactionError(pub Error);

    impl<E> From<UnabortableTransactionError> for ConflictableTransactionError<E> {
        fn from(e: UnabortableTransactionError) -> Self {
            ConflictableTransactionError::Storage(e.0)
        }
    }

    impl<E> From<Error> for ConflictableTransactionError<E> {
        fn from(e: Error) -> Self {
            ConflictableTransactionError::Storage(e)
        }
    }

    impl From<redb::StorageError> for UnabortableTransactionError {
        fn from(e: redb::StorageError) -> Self {
            UnabortableTransactionError(e.into())
        }
    }

    impl From<redb::TableError> for UnabortableTransactionError {
        fn from(e: redb::TableError) -> Self {
            UnabortableTransactionError(e.into())
        }
    }

    type TxResult<T> = std::result::Result<T, UnabortableTransactionError>;

    /// One tree inside a transaction.
    pub struct TransactionalTree {
        txn: Rc<redb::WriteTransaction>,
        name: Arc<str>,
    }

    impl TransactionalTree {
        fn table(&self) -> TxResult<Table<'_>> {
            Ok(self.txn.open_table(definition(&self.name))?)
        }

        /// The value at `key`, as this transaction sees it.
        pub fn get(&self, key: impl AsRef<[u8]>) -> TxResult<Option<IVec>> {
            Ok(self
                .table()?
                .get(key.as_ref())?
                .map(|v| v.value().to_vec()))
        }

        /// Sets `key` to `value`; the value it had.
        pub fn insert(
            &self,
            key: impl AsRef<[u8]>,
            value: impl AsRef<[u8]>,
        ) -> TxResult<Option<IVec>> {
            Ok(self
                .table()?
                .insert(key.as_ref(), value.as_ref())?
                .map(|v| v.value().to_vec()))
        }

        /// Removes `key`; the value it had.
        pub fn remove(&self, key: impl AsRef<[u8]>) -> TxResult<Option<IVec>> {
            Ok(self
                .table()?
                .remove(key.as_ref())?
                .map(|v| v.value().to_vec()))
        }
    }

    /// Runs `f` over the views of `trees` in one write transaction:
    /// committed when it returns Ok, nothing written when it aborts.
    fn run<V, A, E>(
        db: &Arc<redb::Database>,
        views: impl FnOnce(&Rc<redb::WriteTransaction>) -> V,
        f: impl Fn(&V) -> std::result::Result<A, ConflictableTransactionError<E>>,
    ) -> std::result::Result<A, TransactionError<E>> {
        let storage = |e: Error| TransactionError::Storage(e);
        let _writing = Writing::enter().map_err(storage)?;
        let mut w = db.begin_write().map_err(|e| storage(e.into()))?;
        w.set_durability(Durability::None)
            .map_err(|e| storage(e.into()))?;
        let txn = Rc::new(w);
        let v = views(&txn);
        let out = f(&v);
        drop(v);
        let Ok(w) = Rc::try_unwrap(txn) else {
            return Err(storage(Error("a transaction's view outlived it".into())));
        };
        match out {
            Ok(a) => {
                w.commit().map_err(|e| storage(e.into()))?;
                Ok(a)
            }
            Err(e) => {
                w.abort().map_err(|e| storage(e.into()))?;
                Err(match e {
                    ConflictableTransactionError::Abort(e) => TransactionError::Abort(e),
                    ConflictableTransactionError::Storage(e) => TransactionError::Storage(e),
                })
            }
        }
    }

    fn view(tree: &Tree, txn: &Rc<redb::WriteTransaction>) -> TransactionalTree {
        TransactionalTree {
            txn: txn.clone(),
            name: tree.name.clone(),
        }
    }

    /// Trees that can be written together.
    pub trait Transactional<E = ()> {
        /// What the closure sees.
        type View;

        /// Runs `f` in one transaction over these trees.
        fn transaction<F, A>(&self, f: F) -> std::result::Result<A, TransactionError<E>>
        where
            F: Fn(&Self::View) -> std::result::Result<A, ConflictableTransactionError<E>>;
    }

    impl<E> Transactional<E> for &Tree {
        type View = TransactionalTree;

        fn transaction<F, A>(&self, f: F) -> std::result::Result<A, TransactionError<E>>
        where
            F: Fn(&Self::View) -> std::result::Result<A, ConflictableTransactionError<E>>,
        {
            run(&self.db, |t| view(self, t), f)
        }
    }

    macro_rules! tuple {
        ($($t:ident),+) => {
            impl<'a, E> Transactional<E> for ($(tuple!(@ref 'a $t),)+) {
                type View = ($(tuple!(@view $t),)+);

                #[allow(non_snake_case)]
                fn transaction<F, A>(&self, f: F) -> std::result::Result<A, TransactionError<E>>
                where
                    F: Fn(&Self::View) -> std::result::Result<A, ConflictableTransactionError<E>>,
                {
                    let ($($t,)+) = *self;
                    let db = tuple!(@first $($t),+).db.clone();
                    run(&db, |t| ($(view($t, t),)+), f)
                }
            }
        };
        (@view $t:ident) => { TransactionalTree };
        (@ref $l:lifetime $t:ident) => { &$l Tree };
        (@first $a:ident $(, $rest:ident)*) => { $a };
    }
    tuple!(A);
    tuple!(A, B);
    tuple!(A, B, C);
    tuple!(A, B, C, D);
    tuple!(A, B, C, D, F0);
    tuple!(A, B, C, D, F0, G);
    tuple!(A, B, C, D, F0, G, H);
    tuple!(A, B, C, D, F0, G, H, I);
    tuple!(A, B, C, D, F0, G, H, I, J);
    tuple!(A, B, C, D, F0, G, H, I, J, K);
    tuple!(A, B, C, D, F0, G, H, I, J, K, L);
    tuple!(A, B, C, D, F0, G, H, I, J, K, L, M);
}

pub use transaction::Transactional;
