//! `AppState`: what every request and job shares, cheap to clone (all Arcs):
//! the configuration, the store, the clock, the password hasher and sign-in
//! limiter, and the shutdown signal websocket sessions watch.

use crate::config::Config;
use crate::domain::SharedClock;
use crate::engine::Engine;
use crate::error::AppError;
use crate::service::auth::{LoginLimiter, Passwords};
use crate::store::{Store, StoreError};
use std::sync::Arc;
use tokio::sync::watch;

/// Shared state of one running desk.
#[derive(Clone)]
pub struct AppState {
    /// Resolved configuration.
    pub config: Arc<Config>,
    /// The store.
    pub store: Arc<Store>,
    /// Current time.
    pub clock: SharedClock,
    /// Password hashing, bounded and off the async threads.
    pub passwords: Arc<Passwords>,
    /// Failed sign-in tracking.
    pub limiter: Arc<LoginLimiter>,
    /// Visitor rate limits.
    pub visitor_limits: Arc<crate::service::rate::VisitorLimits>,
    /// The live desk.
    pub engine: Engine,
    /// Becomes true when the desk is stopping.
    pub shutdown: watch::Receiver<bool>,
    /// The hash of the token in the data folder's `backup.token`, which
    /// lets `livedesk backup` on this box download a backup (none when it
    /// could not be written).
    pub backup_token: Option<crate::store::TokenHash>,
    /// The knowledge base's search index.
    pub articles: Arc<crate::search::ArticleIndex>,
    /// The transcript search index.
    pub transcripts: Arc<crate::search::transcripts::TranscriptIndex>,
}

/// Runs blocking work (sled, argon2) off the async threads, keeping the
/// caller's tracing span.
pub async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))
}

impl AppState {
    /// Now, from the injected clock.
    pub fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Runs a store read off the async threads.
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        Ok(blocking(move || f(&store)).await??)
    }

    /// Runs a store write off the async threads and waits until it is durable.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let out = self.read(f).await?;
        self.store.durable().await?;
        Ok(out)
    }
}
