//! The command line: `serve`, `check-config`, `owner create`,
//! `owner reset-password`, `healthcheck`, `backup`, `restore`, `shifts preview`, `--version`. Each command's
//! work is here; `main.rs` only parses and dispatches.

use crate::config::{self, Config, ConfigError, Sources};
use crate::domain::{Clock, SystemClock};
use crate::service::setup;
use crate::store::Store;
use crate::{app, domain};
use clap::{Args, Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

mod folder;

/// livedesk: a live chat help desk in one binary.
#[derive(Debug, Parser)]
#[command(name = "livedesk", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--config PATH --listen ADDR --data-dir DIR`: where the desk is, the
/// same flags for every command, so a command finds the desk that
/// `serve` started with them.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// Configuration file; without it, the built-in defaults (config/livedesk.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Override server.listen, e.g. 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Override storage.data_dir.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the desk.
    Serve {
        #[command(flatten)]
        /// Config file and location flags.
        config: ConfigArg,
    },
    /// Check a configuration file and list every problem.
    CheckConfig {
        #[command(flatten)]
        /// Config file.
        config: ConfigArg,
    },
    /// Create the owner or reset a password (stop the desk first).
    Owner {
        /// What to do.
        #[command(subcommand)]
        command: OwnerCommand,
    },
    /// Ask the running desk's /healthz (for container health checks).
    Healthcheck {
        #[command(flatten)]
        /// Config file.
        config: ConfigArg,
    },
    /// Write a backup of the store to a file: from the running desk (run as
    /// its user, e.g. `sudo -u livedesk`), or from the data folder when the
    /// desk is stopped. Chats go on meanwhile.
    Backup {
        /// The backup file to write (written under a temporary name, then renamed).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        /// Config file and location flags.
        config: ConfigArg,
    },
    /// Shifts: `livedesk shifts preview` prints who is on and which groups
    /// are open, hour by hour, from the config file and the data folder.
    Shifts {
        /// What to do.
        #[command(subcommand)]
        command: ShiftsCommand,
    },
    /// Rewrite the stopped desk's data folder compactly (a backup restored
    /// into a new folder, swapped in; the old folder is kept beside it as
    /// NAME.before-compact). The store file reuses the space that deleted
    /// data freed but never gives it back to the disk.
    Compact {
        #[command(flatten)]
        /// Config file and location flags (the folder: --data-dir).
        config: ConfigArg,
    },
    /// Fill an empty data folder from a backup file (checked whole first).
    Restore {
        /// The backup file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        /// Config file and location flags (the folder to fill: --data-dir).
        config: ConfigArg,
    },
}

/// `livedesk shifts ...`.
#[derive(Debug, Subcommand)]
pub enum ShiftsCommand {
    /// Print, per group and day, each hour: open or closed, and who is on,
    /// in the group's local time (stop the desk first: the data folder is
    /// opened directly).
    Preview {
        /// How many days.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=31))]
        days: u32,
        /// Only this group (by name).
        #[arg(long, value_name = "NAME")]
        group: Option<String>,
        /// First day, YYYY-MM-DD (default: today, UTC).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        #[command(flatten)]
        /// Config file and location flags.
        config: ConfigArg,
    },
}

/// `livedesk owner ...`.
#[derive(Debug, Subcommand)]
pub enum OwnerCommand {
    /// Create the owner account when none exists; the password is read from stdin.
    Create {
        /// The owner's sign-in email.
        #[arg(long)]
        email: String,
        /// Display name (default: the part of the email before @).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        /// Config file.
        config: ConfigArg,
    },
    /// Set a new password for any staff member (read from stdin) and end their sessions.
    ResetPassword {
        /// Their sign-in email.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        /// Config file.
        config: ConfigArg,
    },
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn load(arg: &ConfigArg) -> Result<Config, ConfigError> {
    let mut sources = Sources::from_process(arg.config.as_deref());
    sources.listen = arg.listen.clone();
    sources.data_dir = arg.data_dir.clone();
    config::load(&sources)
}

fn init_logging(level: &str) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let level: LevelFilter = level.parse().unwrap_or(LevelFilter::INFO);
    // The scheduler narrates its own bookkeeping at info; keep its warnings.
    let filter = Targets::new()
        .with_default(level)
        .with_target("tokio_cron_scheduler", level.min(LevelFilter::WARN));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(filter)
        .try_init();
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve { config } => serve(config),
        Command::CheckConfig { config } => check_config(&config),
        Command::Owner { command } => owner(command),
        Command::Healthcheck { config } => healthcheck(&config),
        Command::Backup { out, config } => folder::backup(&config, &out),
        Command::Restore { file, config } => folder::restore(&config, &file),
        Command::Compact { config } => folder::compact(&config),
        Command::Shifts {
            command:
                ShiftsCommand::Preview {
                    days,
                    group,
                    from,
                    config,
                },
        } => shifts_preview(&config, days, group.as_deref(), from.as_deref()),
    }
}

fn serve(arg: ConfigArg) -> ExitCode {
    let config = match load(&arg) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    init_logging(&config.log.level);
    let listener = match app::bind(&config) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let source = match &arg.config {
        Some(p) => p.display().to_string(),
        None => "built-in defaults (pass --config FILE to use your own)".into(),
    };
    let clock: domain::SharedClock = Arc::new(SystemClock);
    actix_web::rt::System::new().block_on(async move {
        let running = match app::start(config, listener, clock).await {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        let stop = app::stop_signal();
        print_banner(&running, &source);
        stop.await;
        eprintln!("livedesk: stopping…");
        match running.stop().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        }
    })
}

fn print_banner(running: &app::RunningApp, source: &str) {
    let c = &running.state.config;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "livedesk {} is running.", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(out, "  Open:        {}/", c.public_url());
    let _ = writeln!(out, "  Listening:   {}", running.addr);
    let _ = writeln!(out, "  Data folder: {}", c.storage.data_dir.display());
    let _ = writeln!(out, "  Config:      {source}");
    match &running.setup_link {
        Some(link) => {
            let mins = c.auth.setup_link_lifetime.as_secs() / 60;
            let _ = writeln!(
                out,
                "First start: create the owner account within {mins} min with this one-time link:"
            );
            let _ = writeln!(out, "  {link}");
        }
        None => {
            let _ = writeln!(out, "Sign in with your staff email and password.");
            let _ = writeln!(
                out,
                "Owner locked out? Stop livedesk, then run: livedesk owner reset-password --email you@example.com"
            );
        }
    }
    let _ = writeln!(out, "Stop with Ctrl-C (or SIGTERM).");
    let _ = out.flush();
}

fn check_config(arg: &ConfigArg) -> ExitCode {
    match load(arg) {
        Ok(c) => {
            let name = arg
                .config
                .as_ref()
                .map_or(config::EMBEDDED_NAME.to_string(), |p| {
                    p.display().to_string()
                });
            // The schedule names agents and groups: check them against
            // the data folder when it can be read (not while the desk runs).
            let sched = &c.schedule;
            if !sched.shifts.is_empty() || !sched.closed.is_empty() {
                if !c.storage.data_dir.exists() {
                    println!("note: no data folder at {} yet: the agents and groups that [[shifts]] and [[closed]] name are checked once it exists", c.storage.data_dir.display());
                } else {
                    match Store::open(&c.storage.data_dir, 8 << 20, 0) {
                        Ok(store) => {
                            let resolved = crate::service::shifts::config_schedule(&store, sched);
                            if !resolved.problems.is_empty() {
                                for p in &resolved.problems {
                                    eprintln!("{p}");
                                }
                                return ExitCode::FAILURE;
                            }
                        }
                        Err(e) => println!(
                            "note: the agents and groups that [[shifts]] and [[closed]] name were not checked: the data folder cannot be opened now ({e}; is the desk running?)"
                        ),
                    }
                }
            }
            println!(
                "{name}: OK (listen {}, data folder {}, {} shifts and {} closed dates from the file)",
                c.server.listen,
                c.storage.data_dir.display(),
                sched.shifts.len(),
                sched.closed.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn shifts_preview(arg: &ConfigArg, days: u32, group: Option<&str>, from: Option<&str>) -> ExitCode {
    let c = match load(arg) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let from = match from {
        None => chrono::Utc::now().date_naive(),
        Some(d) => match domain::hours::date("--from", d) {
            Ok(d) => d,
            Err(e) => return fail(e),
        },
    };
    if !c.storage.data_dir.exists() {
        return fail(format!(
            "no data folder at {}; give --data-dir or --config",
            c.storage.data_dir.display()
        ));
    }
    let store = match Store::open(&c.storage.data_dir, 8 << 20, 0) {
        Ok(s) => s,
        Err(e) => {
            return fail(format!(
                "cannot open the data folder {} ({e}). While the desk runs it holds the folder: stop it, or restore a backup into another folder and preview that with --data-dir",
                c.storage.data_dir.display()
            ))
        }
    };
    match crate::service::preview::render(&store, &c.schedule, from, days, group) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn read_password() -> Result<String, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("New password (shown as you type): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    let mut handle = stdin.lock();
    handle
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    // Drain the rest so a piped file's trailing data is not left behind.
    let _ = handle.read_to_end(&mut Vec::new());
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err("no password on stdin; pipe it in, e.g. `printf '%s\\n' 'new password' | livedesk owner ...`".into());
    }
    Ok(password)
}

fn owner(command: OwnerCommand) -> ExitCode {
    let (arg, email) = match &command {
        OwnerCommand::Create { config, email, .. }
        | OwnerCommand::ResetPassword { config, email } => (config, email),
    };
    let config = match load(arg) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let store = match Store::open(
        &config.storage.data_dir,
        config.storage.cache_mb << 20,
        config.storage.min_free_mb << 20,
    ) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let password = match read_password() {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let result = match &command {
        OwnerCommand::Create { name, .. } => {
            let name = name
                .clone()
                .unwrap_or_else(|| email.split('@').next().unwrap_or("Owner").to_string());
            setup::create_owner_now(&store, email, &name, &password, SystemClock.now_ms())
                .map(|s| format!("owner {} created; sign in at the desk's address", s.email))
        }
        OwnerCommand::ResetPassword { .. } => setup::reset_password_now(&store, email, &password)
            .map(|s| format!("password of {} set; their sessions have ended", s.email)),
    };
    let closed = store.close();
    match (result, closed) {
        (Ok(msg), Ok(())) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        (Err(e), _) => fail(e),
        (_, Err(e)) => fail(e),
    }
}

fn healthcheck(arg: &ConfigArg) -> ExitCode {
    let config = match load(arg) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let mut addr = config.server.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    match get_healthz(addr) {
        Ok(()) => {
            println!("healthy: http://{addr}/healthz answered 200");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("unhealthy: http://{addr}/healthz: {e}")),
    }
}

/// A minimal HTTP/1.0 GET, so the binary needs no HTTP client crate.
fn get_healthz(addr: std::net::SocketAddr) -> Result<(), String> {
    let timeout = Duration::from_secs(3);
    let mut conn =
        std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    conn.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    conn.write_all(format!("GET /healthz HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut status = String::new();
    std::io::BufReader::new(conn)
        .read_line(&mut status)
        .map_err(|e| e.to_string())?;
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(format!("answered {}", status.trim()))
    }
}
