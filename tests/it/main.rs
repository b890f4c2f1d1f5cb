//! The integration tests: one binary, one module per area. Each test gets
//! its own server on 127.0.0.1:0 with its own data folder (see `harness`).

// Test code: a failed expectation should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

/// The knowledge base: articles, suggestions with typos, roles, the page, rebuilds.
mod articles;
/// Sign-in, limiting, sessions, expiry, logout, password change, CSRF.
mod auth;
/// Backup of a running desk under load, restore, and a desk on the copy.
mod backup;
/// The staff console in headless Chromium.
mod browser;
/// Canned responses: shared and personal, rights, errors.
mod canned;
/// The live desk over websockets: routing, offers, RONA, messages, replay.
mod chat;
/// What outside tests found (issue 13): rights on open sockets, floods,
/// group deletion, masking, durability of REST reads, error frames.
mod hardening;
/// Hostile input (generated REST bodies and frames) and the security suite.
mod hostile;
/// HTTP surface: JSON errors for bad input, assets, headers, OpenAPI.
mod http_surface;
/// Chat lists and transcripts over REST.
mod lists;
/// Mail through a local SMTP sink: ticket mail, retries, restarts, transcripts.
mod mail;
/// The real binary: CLI commands, restart keeping data, second process refused.
mod process;
/// Reports: hand-computed figures, drill-down, roles, CSV, business hours.
mod reports;
/// What each role may and may not do to staff and groups.
mod roles;
/// The live roster: statuses, loads and chats, scoped by role; queue switches.
mod roster;
/// First-run setup link: works once, expires, creates the owner.
mod setup;
/// Shifts with a moved clock: local times, zones, daylight saving, overrides.
mod shifts;
/// Tickets from offline messages, missed chats, agents and wrap-up reasons.
mod tickets;
/// Transcript search: words, typos, roles, masking, deletion, rebuild.
mod transcript_search;
/// What a visitor connection is told: prev_seq across whispers, names only.
mod visitor_view;
/// The staff websocket: greeting, origin check, going-away on shutdown.
mod websocket;
/// The website widget in Chromium on a hostile shop page, with the real binary.
mod widget;
/// The widget's REST side: group info, offline messages, queue timeout, sneak peek.
mod widget_api;
/// The agent workspace in Chromium: two agents, a manager, a visitor, the real binary.
mod workspace;
