//! The store: the only code that touches sled. It owns the data folder (and
//! its lock), the tree catalogue, key layouts, versioned records, schema
//! migrations, multi-tree transactions, and the group commit that makes
//! writes durable. Callers get domain types and [`StoreError`]s; nothing
//! above this module names sled.

mod articles;
pub mod backup;
mod canned;
pub mod chat_lists;
mod chats;
mod commit;
mod gate;
mod groups;
mod history;
pub mod keys;
pub(crate) mod kv;
mod log;
mod mail;
mod messages;
mod migrate;
mod offline;
mod ratings;
pub mod records;
mod reports;
mod sessions;
mod settings;
mod setup;
mod shifts;
mod space;
mod staff;
mod tickets;
pub mod trees;
mod upgrade;
pub use upgrade::SLED_KEPT;

pub use canned::CannedRefused;
pub use chats::Appended;
pub use keys::TokenHash;
pub use mail::{MailCounts, Queued, TicketMailRule};
pub use migrate::SCHEMA_VERSION;
pub use records::{SessionRow, StaffRow};
pub use settings::{DEFAULT_TICKET_REASONS, DEFAULT_WRAP_UP_REASONS};
pub use tickets::{Existing, Made, Maker};

use crate::domain::GroupId;
use crate::store::kv::transaction::{ConflictableTransactionError, TransactionError};
use commit::GroupCommit;
use space::Space;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use trees::Trees;

/// Everything the store can refuse or fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the data folder.
    #[error("data folder {path} is in use by another livedesk process{holder}; stop that process first, or set storage.data_dir to another folder")]
    InUse {
        /// The folder.
        path: String,
        /// " (pid N)" when known.
        holder: String,
    },
    /// The folder could not be created or opened.
    #[error("cannot open data folder {path}: {reason}")]
    Open {
        /// The folder.
        path: String,
        /// The OS or store error.
        reason: String,
    },
    /// The folder was written by a newer livedesk.
    #[error("data folder was written by a newer livedesk (schema version {found}; this livedesk knows up to {known}); install the newer livedesk or restore a backup")]
    NewerSchema {
        /// Version found.
        found: u32,
        /// Newest version this binary knows.
        known: u32,
    },
    /// A read or write failed (disk full, I/O error).
    #[error("the store could not read or write: {0}; check free disk space and the data folder's permissions")]
    Io(String),
    /// The disk is below the free-space reserve: the write was not made.
    #[error("the disk holding {path} has {free_mb} MiB free, below the {reserve_mb} MiB reserve (storage.min_free_mb): livedesk takes no new writes until space is freed; everything stored can still be read")]
    DiskFull {
        /// The data folder.
        path: String,
        /// Free space now.
        free_mb: u64,
        /// The reserve.
        reserve_mb: u64,
    },
    /// A write could not be made durable: it must not be acknowledged.
    #[error("the store could not make a write durable: {0}; check free disk space")]
    NotDurable(String),
    /// A stored record or key does not decode.
    #[error("a stored record is unreadable: {0}")]
    Corrupt(String),
    /// Unique email.
    #[error("that email is already used by another staff member")]
    EmailTaken,
    /// Unique group name.
    #[error("a group with that name already exists")]
    GroupNameTaken,
    /// Exactly one owner.
    #[error("an owner already exists")]
    OwnerExists,
    /// Setup links work once, for a limited time.
    #[error("this setup link is unknown, already used or expired; restart livedesk for a new one, or use `livedesk owner create`")]
    SetupLinkInvalid,
    /// Unknown staff id or email.
    #[error("staff member not found")]
    StaffNotFound,
    /// Unknown group id.
    #[error("group {0} not found")]
    GroupNotFound(GroupId),
    /// Optimistic concurrency: the record changed since it was read.
    #[error("this record was changed by someone else meanwhile; reload it and try again")]
    ChangedMeanwhile,
    /// Ownership changes only by hand-over.
    #[error("the owner role changes only by handing ownership over")]
    OwnershipRule,
}

impl From<crate::store::kv::Error> for StoreError {
    fn from(e: crate::store::kv::Error) -> Self {
        StoreError::Io(e.to_string())
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn abort<T>(e: StoreError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

fn tx_done<T>(r: Result<T, TransactionError<StoreError>>) -> Result<T, StoreError> {
    r.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Io(e.to_string()),
    })
}

/// The open store of one data folder.
pub struct Store {
    db: crate::store::kv::Db,
    pub(crate) trees: Trees,
    commit: GroupCommit,
    /// Serializes the rare writes that read an index outside their
    /// transaction (sled transactions cannot scan): group deletion and
    /// membership edits.
    admin_lock: Mutex<()>,
    /// Held by every writer of the chat-list trees (see `chat_lists/`).
    list_lock: Mutex<()>,
    /// Every write passes it; a backup closes it while it reads.
    gate: gate::Gate,
    space: Space,
    path: PathBuf,
    /// The ticket list's rows (see `tickets.rs`).
    ticket_index: std::sync::RwLock<tickets::TicketIndex>,
    /// Notified when a chat ends needing a ticket.
    follow_ups: tokio::sync::Notify,
    /// What mails a ticket's write queues (see `mail.rs`).
    ticket_mail: std::sync::RwLock<Option<TicketMailRule>>,
    /// Notified when mail is queued.
    mail_waiting: tokio::sync::Notify,
    /// The desk's schedule, for the reports' business-hours times.
    schedule: std::sync::RwLock<std::sync::Arc<crate::domain::shift::Schedule>>,
    /// Scans of the packed history hold it to read; the packer to write
    /// (`history.rs`).
    history_scans: std::sync::RwLock<()>,
    /// Told when a chat is written ended or deleted (the transcript index).
    chat_events: std::sync::RwLock<Option<tokio::sync::mpsc::UnboundedSender<ChatEvent>>>,
}

/// What the transcript index hears of a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatEvent {
    /// Written in its ended state (again, after a wrap-up or a rating).
    Ended(crate::domain::ChatId),
    /// Deleted with its messages.
    Deleted(crate::domain::ChatId),
}

impl Store {
    /// Opens (creating if needed) the store in `dir` with a page cache of
    /// `cache_bytes`, takes the folder's lock, and migrates the schema.
    /// Growing writes are refused while the disk has less than
    /// `reserve_bytes` free (0: never).
    pub fn open(dir: &Path, cache_bytes: u64, reserve_bytes: u64) -> Result<Self, StoreError> {
        let shown = dir.display().to_string();
        let open_err = |reason: String| StoreError::Open {
            path: shown.clone(),
            reason,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        let lock = take_lock(dir, &shown)?;
        upgrade::from_sled(dir, cache_bytes)?;
        let db = kv::Db::open(&dir.join(STORE_FILE), cache_bytes)
            .map_err(|e| open_err(e.to_string()))?;
        let trees = Trees::open(&db)?;
        trees.log.load(&trees.logno_chatseq)?;
        migrate::run(&db, &trees)?;
        // What the last run's writes left loose since its last packing.
        // In one transaction: a commit an entry made this the most of a
        // first start after a large import.
        db.burst(|| history::pack_all(&trees), || true)??;
        // A migration or a large packing can free much that would
        // otherwise stay resident (alloc::give_back).
        crate::alloc::give_back();
        let ticket_index = std::sync::RwLock::new(Self::load_ticket_index(&trees)?);
        Ok(Self {
            commit: GroupCommit::start(db.clone()),
            db,
            trees,
            admin_lock: Mutex::new(()),
            list_lock: Mutex::new(()),
            gate: gate::Gate::default(),
            space: Space::new(lock, reserve_bytes),
            path: dir.to_path_buf(),
            ticket_index,
            follow_ups: tokio::sync::Notify::new(),
            ticket_mail: std::sync::RwLock::new(None),
            mail_waiting: tokio::sync::Notify::new(),
            schedule: Default::default(),
            chat_events: std::sync::RwLock::new(None),
            history_scans: std::sync::RwLock::new(()),
        })
    }

    /// Where chat endings and deletions are told from now on.
    pub fn set_chat_events(&self, to: tokio::sync::mpsc::UnboundedSender<ChatEvent>) {
        *self
            .chat_events
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(to);
    }

    /// Tells the listener, if any (a closed one is ignored: the index heals
    /// at the next start).
    pub(crate) fn chat_event(&self, e: ChatEvent) {
        if let Some(tx) = self
            .chat_events
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            let _ = tx.send(e);
        }
    }

    /// The data folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits until every write applied before this call is on disk. This is
    /// the group commit: one thread fsyncs for all waiters at once.
    pub async fn durable(&self) -> Result<(), StoreError> {
        let ticket = self.commit.request();
        self.commit.wait(ticket).await
    }

    /// A ticket covering every write applied before this call; pass it to
    /// [`Store::wait_durable`]. Lets a caller write, hand the ticket on, and
    /// not wait itself (the engine's owner task).
    pub fn commit_ticket(&self) -> u64 {
        if kv::in_burst().is_some() {
            return self.commit.request_quietly();
        }
        self.commit.request()
    }

    /// Waits until the writes covered by `ticket` are on disk.
    pub async fn wait_durable(&self, ticket: u64) -> Result<(), StoreError> {
        self.commit.wait(ticket).await
    }

    /// Runs `f` with every store write and read of this thread in one
    /// transaction, committed (not yet durable) at its end: the engine
    /// handles a burst of commands this way and pays one commit for it.
    /// An error means none of the burst's writes were made.
    ///
    /// Tickets taken inside it ([`Store::commit_ticket`]) do not wake the
    /// group commit: the burst commits durably itself when it took any,
    /// so the commit holding the write lock is the burst's own, and the
    /// engine's next burst gathers what came meanwhile.
    pub fn burst<T>(&self, f: impl FnOnce() -> T) -> Result<T, StoreError> {
        let mut target = None;
        let out = self.db.burst(f, || {
            let requested = self.commit.requested();
            let due = requested > self.commit.durable();
            target = due.then_some(requested);
            due
        });
        match (&out, target) {
            (Ok(_), Some(t)) => self.commit.publish(t),
            (Err(e), t) => self
                .commit
                .fail(t.unwrap_or_else(|| self.commit.requested()), e.to_string()),
            _ => {}
        }
        Ok(out?)
    }

    /// Makes everything durable now, from synchronous code (CLI commands).
    pub fn flush_now(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Whether the store answers reads and takes writes (for `/readyz`).
    pub fn is_ready(&self) -> bool {
        self.trees.meta.get(migrate::VERSION_KEY).is_ok()
            && self.commit.healthy()
            && self.room().is_ok()
    }

    /// Refuses a growing write while the disk is below the reserve: sled
    /// must never meet a full disk itself, as after a failed write it
    /// answers nothing, reads included, until reopened.
    fn room(&self) -> Result<(), StoreError> {
        self.space.check().map_err(|free| StoreError::DiskFull {
            path: self.path.display().to_string(),
            free_mb: free >> 20,
            reserve_mb: self.space.reserve() >> 20,
        })
    }

    /// Stops the committer, flushes, and releases the data folder: the last
    /// step of shutdown. Returns only once the folder is free, so a reopen
    /// right after it (a restart, a test, `livedesk restore`) always works.
    pub fn close(self) -> Result<(), StoreError> {
        let Store {
            db,
            trees,
            commit,
            space,
            ..
        } = self;
        commit.stop();
        let flushed = db.flush().map_err(StoreError::from);
        drop(commit);
        drop(trees);
        drop(db);
        // Our own lock goes last: until here no other livedesk may open it.
        drop(space);
        flushed
    }

    fn admin_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.admin_lock.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The store's file in the data folder.
pub const STORE_FILE: &str = "livedesk.redb";

fn take_lock(dir: &Path, shown: &str) -> Result<File, StoreError> {
    let open_err = |reason: String| StoreError::Open {
        path: shown.to_string(),
        reason,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join("livedesk.lock"))
        .map_err(|e| open_err(e.to_string()))?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(file, "{}", std::process::id());
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let holder = match pid.trim() {
                "" => String::new(),
                p => format!(" (pid {p})"),
            };
            Err(StoreError::InUse {
                path: shown.to_string(),
                holder,
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(open_err(e.to_string())),
    }
}

#[cfg(test)]
mod tests;
