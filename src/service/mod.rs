//! Use cases without live state: sign-in and sessions, first-run setup,
//! staff and group administration. Each function checks the domain's
//! permission rules, then reads or writes the store through `AppState`.

pub mod auth;
pub mod chats;
pub mod groups;
pub mod limiter;
pub mod passwords;
pub mod rate;
pub mod setup;
pub mod shifts;
pub mod staff;
pub mod widget;
