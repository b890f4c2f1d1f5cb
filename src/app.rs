//! The composition root: config → store (open, lock, migrate) → setup link
//! → state → jobs → HTTP server on a listener the caller bound; and the
//! ordered shutdown: tell websockets (going away), stop accepting and let
//! open requests finish, stop jobs, flush the store.

use crate::config::Config;
use crate::domain::SharedClock;
use crate::engine::{Engine, EngineTasks};
use crate::error::AppError;
use crate::service::auth::{LoginLimiter, Passwords};
use crate::state::AppState;
use crate::store::{Store, StoreError};
use crate::{http, jobs, service};
use actix_web::dev::ServerHandle;
use actix_web::HttpServer;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use tokio::sync::watch;

/// Why the desk could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store refused (in use, newer schema, unreadable).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {error}. Is another program using that port? Set server.listen in the config or LIVEDESK__SERVER__LISTEN")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        error: std::io::Error,
    },
    /// Anything else at start-up.
    #[error("{0}")]
    Other(String),
}

impl From<AppError> for StartError {
    fn from(e: AppError) -> Self {
        StartError::Other(e.to_string())
    }
}

/// A desk that is serving.
pub struct RunningApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its shared state (tests reach the clock and store through it).
    pub state: AppState,
    /// The one-time setup link, when no owner exists yet.
    pub setup_link: Option<String>,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    shutdown: watch::Sender<bool>,
    scheduler: tokio_cron_scheduler::JobScheduler,
    /// The only strong reference the jobs' weak ones resolve to.
    jobs_state: Arc<AppState>,
    engine_tasks: EngineTasks,
    follow_ups: tokio::task::JoinHandle<()>,
    /// The transcript indexer.
    transcripts: tokio::task::JoinHandle<()>,
    /// The mail sender, when mail is set up.
    mail: Option<tokio::task::JoinHandle<()>>,
}

/// Binds the configured address.
pub fn bind(config: &Config) -> Result<TcpListener, StartError> {
    let addr = config.server.listen;
    TcpListener::bind(addr).map_err(|error| StartError::Listen { addr, error })
}

/// Threads each HTTP worker may run store calls on at once.
const BLOCKING_THREADS_PER_WORKER: usize = 8;

/// Starts the desk on `listener`. Must run inside an actix system.
pub async fn start(
    mut config: Config,
    listener: TcpListener,
    clock: SharedClock,
) -> Result<RunningApp, StartError> {
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Other(e.to_string()))?;
    // Links printed and derived from `listen` show the real port (tests bind port 0).
    config.server.listen = addr;
    let store = Arc::new(Store::open(
        &config.storage.data_dir,
        config.storage.cache_mb.saturating_mul(1 << 20),
        config.storage.min_free_mb.saturating_mul(1 << 20),
    )?);
    // An admin's masking switch, kept in the data folder, wins over the file.
    if let Some(on) = store.mask_setting()? {
        config.chat.mask_pii.set(on);
    }
    let setup_link = service::setup::ensure_setup_link(
        &store,
        &config.public_url(),
        config.auth.setup_link_lifetime,
        clock.now_ms(),
    )?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (engine, engine_tasks) = Engine::spawn(
        store.clone(),
        clock.clone(),
        config.chat.clone(),
        shutdown_rx.clone(),
    )?;
    engine
        .send(crate::engine::Command::ConfigSchedule(
            config.schedule.clone(),
        ))
        .await;
    let visitor_limits = Arc::new(crate::service::rate::VisitorLimits::new(
        config.chat.visitor_starts_per_minute,
        config.chat.visitor_messages_per_minute,
    ));
    let backup_token = match http::api::backup::write_token(store.path()) {
        Ok(hash) => Some(hash),
        Err(e) => {
            tracing::warn!(error = %e, "cannot write the backup token into the data folder; `livedesk backup` cannot reach this desk (admins can still download backups)");
            None
        }
    };
    // The knowledge base's search index, beside the store it is rebuilt from.
    let articles = Arc::new(
        crate::search::ArticleIndex::open(
            &store.path().join("search-articles"),
            &store.all_articles()?,
        )
        .map_err(|e| StartError::Other(e.to_string()))?,
    );
    // Transcript search: told of every chat that ends from here on, and
    // rebuilt by its job when stale.
    let (chat_events, chat_events_rx) = tokio::sync::mpsc::unbounded_channel();
    store.set_chat_events(chat_events);
    let (transcripts, rebuild_transcripts) = crate::search::transcripts::TranscriptIndex::open(
        &store.path().join("search-transcripts"),
        config.chat.mask_pii.get(),
        store.ended_count()?,
    )
    .map_err(|e| StartError::Other(e.to_string()))?;
    let state = AppState {
        transcripts: Arc::new(transcripts),
        articles,
        backup_token,
        engine,
        visitor_limits,
        passwords: Arc::new(Passwords::new(config.auth.max_concurrent_hashes)?),
        limiter: Arc::new(LoginLimiter::new(&config.auth)),
        config: Arc::new(config),
        store,
        clock,
        shutdown: shutdown_rx,
    };
    // Before anything can write a ticket: its mails are queued with it.
    state
        .store
        .set_ticket_mail(service::mail::ticket_rule(&state.config));
    let jobs_state = Arc::new(state.clone());
    let scheduler = jobs::start(&jobs_state)
        .await
        .map_err(|e| StartError::Other(format!("cannot start the job scheduler: {e}")))?;
    let follow_ups = jobs::follow_ups::spawn(Arc::downgrade(&jobs_state), state.shutdown.clone());
    let mail = jobs::mail::spawn(Arc::downgrade(&jobs_state), state.shutdown.clone());
    let transcripts = jobs::transcripts::spawn(
        Arc::downgrade(&jobs_state),
        chat_events_rx,
        rebuild_transcripts,
        state.shutdown.clone(),
    );
    let workers = match state.config.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let app_state = state.clone();
    let server = HttpServer::new(move || http::build(app_state.clone()))
        .workers(workers)
        // Store reads and the writes' own part take microseconds to a few
        // ms (durability is awaited outside the pool): a few threads keep
        // up, where the default 256 per worker grew to 80 threads during a
        // reconnect storm, each with its stack and its own malloc arena
        // holding store pages (docs/performance.md).
        .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
        // A chat frame goes out as soon as it is written: with Nagle's
        // algorithm a small frame after a large one (an offer after a queue
        // view) waited for the client's delayed ACK, up to 40 ms on Linux.
        .tcp_nodelay(true)
        .disable_signals()
        .shutdown_timeout(state.config.server.shutdown_timeout.as_secs())
        .listen(listener)
        .map_err(|error| StartError::Listen { addr, error })?
        .run();
    let handle = server.handle();
    let server = tokio::spawn(server);
    tracing::info!(%addr, data_dir = %state.store.path().display(), "livedesk started");
    Ok(RunningApp {
        addr,
        state,
        setup_link,
        handle,
        server,
        shutdown,
        scheduler,
        jobs_state,
        engine_tasks,
        follow_ups,
        transcripts,
        mail,
    })
}

impl RunningApp {
    /// Stops in order: websockets told "going away", no new connections,
    /// open requests finish, jobs stop, the store is flushed.
    pub async fn stop(mut self) -> Result<(), StoreError> {
        let _ = self.shutdown.send(true);
        self.handle.stop(true).await;
        let _ = self.server.await;
        let _ = self.scheduler.shutdown().await;
        let _ = self.follow_ups.await;
        let _ = self.transcripts.await;
        if let Some(mail) = self.mail {
            let _ = mail.await;
        }
        drop(self.jobs_state);
        self.engine_tasks.join().await;
        let store = self.state.store.clone();
        drop(self.state);
        // Worker threads drop their copies of the state just after they
        // acknowledge the stop: wait (bounded) to hold the last reference,
        // so the data folder is free once stop returns.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while Arc::strong_count(&store) > 1 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let closed = tokio::task::spawn_blocking(move || match Arc::try_unwrap(store) {
            Ok(store) => store.close(),
            Err(still_shared) => {
                tracing::warn!("a part of the desk still holds the store at shutdown; flushed, the data folder is released when the process ends");
                still_shared.flush_now()
            }
        })
        .await
        .map_err(|e| StoreError::Io(e.to_string()))?;
        tracing::info!("livedesk stopped");
        closed
    }
}

/// Listens for SIGTERM and SIGINT from now on, and returns a future that
/// completes at the first. Call it before telling anyone the desk runs:
/// a signal that came before its handler was installed would kill the
/// process without the ordered stop (seen when a test stopped the desk
/// right after its banner).
pub fn stop_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            return Box::pin(async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            });
        }
    }
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
