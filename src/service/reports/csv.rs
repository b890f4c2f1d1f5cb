//! The report's tables as CSV files a spreadsheet opens cleanly: UTF-8
//! with a byte-order mark, a header row, every field quoted, CRLF line
//! ends, and formula-looking text defused.

use super::{facts, local, paging, report, rows, ReportChatsQuery, ReportQuery, Table};
use crate::domain::report::Figures;
use crate::domain::Millis;
use crate::error::AppError;
use crate::service::auth::AuthContext;
use crate::state::AppState;
use chrono::NaiveDate;

/// Rows of the chats CSV at most.
pub const CSV_MAX_CHATS: usize = 10_000;

/// A CSV file: its name and body.
pub struct Csv {
    /// `livedesk-<table>-<from>-<to>.csv`.
    pub filename: String,
    /// UTF-8 with a byte-order mark, every field quoted, CRLF line ends.
    pub body: String,
    /// Whether the chats table stopped at [`CSV_MAX_CHATS`] rows.
    pub truncated: bool,
}

/// One CSV field: quoted, quotes doubled; text a spreadsheet would run as
/// a formula (starting `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`.
fn field(out: &mut String, value: &str) {
    out.push('"');
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        out.push('\'');
    }
    out.push_str(&value.replace('"', "\"\""));
    out.push('"');
}

fn line(out: &mut String, fields: &[String]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, f);
    }
    out.push_str("\r\n");
}

fn secs(ms: Option<Millis>) -> String {
    ms.map(|m| ((m + 500) / 1000).to_string())
        .unwrap_or_default()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

const FIGURE_HEADERS: [&str; 13] = [
    "Chats",
    "Answered",
    "Missed",
    "Abandoned",
    "Average wait (s)",
    "90th percentile wait (s)",
    "Average first response (s)",
    "Average handling (s)",
    "Rated good",
    "Rated bad",
    "Satisfaction (%)",
    "Solved by article",
    "Tickets",
];

fn figure_fields(name: &str, f: &Figures) -> Vec<String> {
    vec![
        name.to_string(),
        f.chats.to_string(),
        f.answered.to_string(),
        f.missed.to_string(),
        f.abandoned.to_string(),
        secs(f.wait_avg_ms),
        secs(f.wait_p90_ms),
        secs(f.first_response_avg_ms),
        secs(f.handling_avg_ms),
        f.rated_good.to_string(),
        f.rated_bad.to_string(),
        opt(f.satisfaction_pct),
        f.solved_by_article.to_string(),
        f.tickets.to_string(),
    ]
}

fn headers(first: &[&str], rest: &[&str]) -> Vec<String> {
    first.iter().chain(rest).map(|s| s.to_string()).collect()
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// One table of the report as CSV.
pub async fn csv(
    state: &AppState,
    ctx: &AuthContext,
    q: ReportChatsQuery,
) -> Result<Csv, AppError> {
    // Checked as for the chats, though only the chats table pages.
    let (_, after) = paging(&q)?;
    let table = q.table.unwrap_or_default();
    let mut out = String::from("\u{feff}");
    let mut truncated = false;
    let (from, to) = if table == Table::Chats {
        let business = q.business_hours.unwrap_or(false);
        let (w, found, next) = facts(state, ctx, &q, after, CSV_MAX_CHATS, usize::MAX).await?;
        truncated = next.is_some();
        line(
            &mut out,
            &headers(
                &[
                    "Chat",
                    "Started",
                    "Visitor",
                    "Email",
                    "Group",
                    "Agent",
                    "Outcome",
                    "Wait (s)",
                    "First response (s)",
                    "Handling (s)",
                    "Rating",
                    "Ticket",
                    "Link",
                ],
                &[],
            ),
        );
        for r in rows(state, found, business).await? {
            let outcome = serde_json::to_value(r.outcome).unwrap_or_default();
            let rating = r
                .chat
                .rating
                .map(|s| serde_json::to_value(s).unwrap_or_default());
            line(
                &mut out,
                &[
                    r.chat.id.to_string(),
                    local(w.zone, r.chat.started_at)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                    r.chat.visitor_name,
                    r.chat.visitor_email.unwrap_or_default(),
                    r.chat.group_name,
                    r.chat.agent_name.unwrap_or_default(),
                    outcome.as_str().unwrap_or_default().to_string(),
                    secs(r.wait_ms),
                    secs(r.first_response_ms),
                    secs(r.handling_ms),
                    rating
                        .as_ref()
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string(),
                    if r.ticket { "yes" } else { "no" }.to_string(),
                    r.chat.link,
                ],
            );
        }
        (w.from, w.to)
    } else {
        let rq = ReportQuery {
            to: q.to,
            days: q.days,
            zone: q.zone,
            business_hours: q.business_hours,
            group: q.group,
        };
        let r = report(state, ctx, rq).await?;
        match table {
            Table::Groups => {
                line(&mut out, &headers(&["Group"], &FIGURE_HEADERS));
                for g in &r.groups {
                    line(&mut out, &figure_fields(&g.name, &g.figures));
                }
                line(&mut out, &figure_fields("Total", &r.total));
            }
            Table::Agents => {
                line(&mut out, &headers(&["Agent"], &FIGURE_HEADERS));
                for a in &r.agents {
                    line(&mut out, &figure_fields(&a.name, &a.figures));
                }
            }
            Table::Days => {
                line(&mut out, &headers(&["Date", "Chats"], &[]));
                for d in &r.days {
                    line(&mut out, &[d.date.clone(), d.chats.to_string()]);
                }
            }
            Table::Heatmap | Table::Chats => {
                let hours: Vec<String> = (0..24).map(|h| format!("{h:02}:00")).collect();
                let hours: Vec<&str> = hours.iter().map(String::as_str).collect();
                line(&mut out, &headers(&["Weekday"], &hours));
                for (day, counts) in WEEKDAYS.iter().zip(&r.heatmap) {
                    let mut f = vec![day.to_string()];
                    f.extend(counts.iter().map(|n| n.to_string()));
                    line(&mut out, &f);
                }
            }
        }
        (
            NaiveDate::parse_from_str(&r.from, "%Y-%m-%d").unwrap_or_default(),
            NaiveDate::parse_from_str(&r.to, "%Y-%m-%d").unwrap_or_default(),
        )
    };
    let name = serde_json::to_value(table).unwrap_or_default();
    Ok(Csv {
        filename: format!(
            "livedesk-{}-{}-{}.csv",
            name.as_str().unwrap_or("report"),
            from.format("%Y-%m-%d"),
            to.format("%Y-%m-%d")
        ),
        body: out,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        let mut out = String::new();
        line(
            &mut out,
            &["Åsa \"Ö\"".into(), "=1+1".into(), "-2".into(), "".into()],
        );
        assert_eq!(out, "\"Åsa \"\"Ö\"\"\",\"'=1+1\",\"'-2\",\"\"\r\n");
    }
}
