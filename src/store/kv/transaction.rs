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

type Overlay = std::cell::RefCell<std::collections::BTreeMap<IVec, Option<IVec>>>;

/// The views of one transaction and what each has written.
type Registry = std::cell::RefCell<Vec<(Arc<str>, Rc<Overlay>)>>;

/// One tree inside a transaction: its writes wait in an overlay,
/// applied to the write transaction only when the closure returns Ok.
pub struct TransactionalTree {
    txn: Rc<redb::WriteTransaction>,
    name: Arc<str>,
    pending: Rc<Overlay>,
}

impl TransactionalTree {
    /// The value at `key`, as this transaction sees it.
    pub fn get(&self, key: impl AsRef<[u8]>) -> TxResult<Option<IVec>> {
        if let Some(v) = self.pending.borrow().get(key.as_ref()) {
            return Ok(v.clone());
        }
        let table = self.txn.open_table(definition(&self.name))?;
        let v = table.get(key.as_ref())?.map(|v| v.value().to_vec());
        Ok(v)
    }

    /// Sets `key` to `value`; the value it had.
    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> TxResult<Option<IVec>> {
        let old = self.get(key.as_ref())?;
        self.pending
            .borrow_mut()
            .insert(key.as_ref().to_vec(), Some(value.as_ref().to_vec()));
        Ok(old)
    }

    /// Removes `key`; the value it had.
    pub fn remove(&self, key: impl AsRef<[u8]>) -> TxResult<Option<IVec>> {
        let old = self.get(key.as_ref())?;
        self.pending
            .borrow_mut()
            .insert(key.as_ref().to_vec(), None);
        Ok(old)
    }
}

/// Writes what every view of a transaction left in its overlay.
fn apply(txn: &redb::WriteTransaction, registry: &Registry) -> Result<()> {
    for (name, pending) in registry.borrow().iter() {
        let mut table = txn.open_table(definition(name))?;
        for (k, v) in pending.borrow().iter() {
            match v {
                Some(v) => {
                    table.insert(k.as_slice(), v.as_slice())?;
                }
                None => {
                    table.remove(k.as_slice())?;
                }
            }
        }
    }
    Ok(())
}

fn outcome<A, E>(
    out: std::result::Result<A, ConflictableTransactionError<E>>,
) -> std::result::Result<A, TransactionError<E>> {
    out.map_err(|e| match e {
        ConflictableTransactionError::Abort(e) => TransactionError::Abort(e),
        ConflictableTransactionError::Storage(e) => TransactionError::Storage(e),
    })
}

/// Runs `f` over the views of `trees` in one write transaction (the
/// thread's burst when it is in one): written when it returns Ok,
/// nothing written when it aborts.
fn run<V, A, E>(
    db: &Arc<redb::Database>,
    views: impl FnOnce(&Rc<redb::WriteTransaction>, &Registry) -> V,
    f: impl Fn(&V) -> std::result::Result<A, ConflictableTransactionError<E>>,
) -> std::result::Result<A, TransactionError<E>> {
    let storage = |e: Error| TransactionError::Storage(e);
    let registry = Registry::default();
    if let Some(txn) = in_burst() {
        let v = views(&txn, &registry);
        let out = outcome(f(&v))?;
        drop(v);
        apply(&txn, &registry).map_err(storage)?;
        return Ok(out);
    }
    let _writing = Writing::enter().map_err(storage)?;
    let mut w = db.begin_write().map_err(|e| storage(e.into()))?;
    w.set_durability(Durability::None)
        .map_err(|e| storage(e.into()))?;
    let txn = Rc::new(w);
    let v = views(&txn, &registry);
    let out = outcome(f(&v));
    drop(v);
    let Ok(w) = Rc::try_unwrap(txn) else {
        return Err(storage(Error("a transaction's view outlived it".into())));
    };
    match out {
        Ok(a) => {
            apply(&w, &registry).map_err(storage)?;
            w.commit().map_err(|e| storage(e.into()))?;
            Ok(a)
        }
        Err(e) => {
            w.abort().map_err(|e| storage(e.into()))?;
            Err(e)
        }
    }
}

fn view(tree: &Tree, txn: &Rc<redb::WriteTransaction>, registry: &Registry) -> TransactionalTree {
    let pending = Rc::new(Overlay::default());
    registry
        .borrow_mut()
        .push((tree.name.clone(), pending.clone()));
    TransactionalTree {
        txn: txn.clone(),
        name: tree.name.clone(),
        pending,
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
        run(&self.db, |t, r| view(self, t, r), f)
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
                run(&db, |t, r| ($(view($t, t, r),)+), f)
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
tuple!(A, B, C, D, F0, G, H, I, J, K, L, M, N);
tuple!(A, B, C, D, F0, G, H, I, J, K, L, M, N, O);
