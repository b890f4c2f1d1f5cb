//! livedesk: a live chat help desk in one binary. This crate root lists the
//! modules; `main.rs` and the integration tests use [`app`] and [`config`].

pub mod config;
pub mod domain;
pub mod store;
