//! Use cases without live state: sign-in and sessions, first-run setup,
//! staff and group administration. Each function checks the domain's
//! permission rules, then reads or writes the store through `AppState`.

pub mod articles;
pub mod auth;
pub mod canned;
pub(crate) mod chat_lists;
pub mod chats;
pub mod groups;
pub mod limiter;
pub mod mail;
pub mod passwords;
pub mod preview;
pub mod rate;
pub mod ratings;
pub mod reports;
pub mod setup;
pub mod shifts;
pub mod staff;
pub mod tickets;
pub mod widget;

/// A list's page and page size, checked (`page` 1 to 1,000,000, default
/// 1; `per_page` 1 to 200, default 50): the `(page, per_page)` to show.
pub(crate) fn paging(
    page: Option<u32>,
    per_page: Option<u32>,
) -> Result<(usize, usize), crate::error::AppError> {
    let bad = |message: &str| crate::error::AppError::BadRequest {
        code: "invalid_field",
        message: message.to_string(),
    };
    let per_page = per_page.unwrap_or(50) as usize;
    if !(1..=200).contains(&per_page) {
        return Err(bad("per_page: must be between 1 and 200"));
    }
    let page = page.unwrap_or(1) as usize;
    if !(1..=1_000_000).contains(&page) {
        return Err(bad("page: must be between 1 and 1000000"));
    }
    Ok((page, per_page))
}
