//! The integration tests: one binary, one module per area. Each test gets
//! its own server on 127.0.0.1:0 with its own data folder (see `harness`).

mod harness;

/// First-run setup link: works once, expires, creates the owner.
mod setup;
/// Sign-in, limiting, sessions, expiry, logout, password change, CSRF.
mod auth;
/// What each role may and may not do to staff and groups.
mod roles;
/// HTTP surface: JSON errors for bad input, assets, headers, OpenAPI.
mod http_surface;
/// The staff websocket: greeting, origin check, going-away on shutdown.
mod websocket;
/// The real binary: CLI commands, restart keeping data, second process refused.
mod process;
/// The staff console in headless Chromium.
mod browser;
