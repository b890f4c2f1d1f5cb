//! livedesk: a live chat help desk in one binary. This crate root lists the
//! modules; `main.rs` uses [`cli`], the integration tests use [`app`] and
//! [`config`].

#[expect(
    unsafe_code,
    reason = "the global allocator maps its large blocks itself"
)]
pub mod alloc;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod error;
pub mod http;
pub mod jobs;
pub mod search;
pub mod service;
pub mod state;
pub mod store;
