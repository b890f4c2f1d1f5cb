//! Tickets: made from chats (an agent's "create ticket", a wrap-up reason
//! that makes tickets, a missed chat) and offline messages, listed from the
//! store's index, viewed, changed and noted by staff. Who sees what follows
//! the chats' rules (`domain::ticket::can_see`); unknown and invisible
//! numbers both answer 404.

use super::auth::AuthContext;
mod making;
mod views;

pub use making::{follow_up, follow_up_all, store_offline_message};
pub use views::{ChangeView, NoteView, TicketListRow, TicketMail, TicketPage, TicketView};

use crate::domain::chat_list;
use crate::domain::ticket::{
    self, Note, NoteKind, Priority, Requester, Source, Ticket, TicketDraft, TicketPatch,
    TicketStatus,
};
use crate::domain::ticket_list::{self, AssigneeFilter, TicketQuery, TicketSort};
use crate::domain::validate::{self, FieldError};
use crate::domain::{ChatId, GroupId, Millis, StaffId};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{Existing, Made, Store};
use making::{chat_draft, question};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use views::{list_row, ticket_view, Names};

fn not_found(number: u64) -> AppError {
    AppError::NotFound {
        code: "ticket_not_found",
        message: format!("no ticket #{number} that you may see"),
    }
}

fn field(field: &'static str, message: impl Into<String>) -> AppError {
    AppError::Field(FieldError {
        field,
        message: message.into(),
    })
}

// ---------------------------------------------------------------- list

/// Query of `GET /api/tickets`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TicketListQuery {
    /// Comma-separated statuses (`open,pending`); default all.
    #[param(
        max_length = 100,
        pattern = "^(open|pending|solved|closed)(,(open|pending|solved|closed))*$"
    )]
    pub status: Option<String>,
    /// Comma-separated priorities (`high,urgent`); default all.
    #[param(
        max_length = 100,
        pattern = "^(low|normal|high|urgent)(,(low|normal|high|urgent))*$"
    )]
    pub priority: Option<String>,
    /// Comma-separated sources (`chat,offline_message,missed_chat,manual`); default all.
    #[param(
        max_length = 100,
        pattern = "^(chat|offline_message|missed_chat|manual)(,(chat|offline_message|missed_chat|manual))*$"
    )]
    pub source: Option<String>,
    /// Only this group's.
    pub group: Option<GroupId>,
    /// `me`, `none`, or a staff id; default anyone's.
    #[param(
        max_length = 36,
        pattern = "^(me|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    pub assignee: Option<String>,
    /// Words that must all be in the subject, the requester's name or email.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `number`, `created`, `updated` (default), `priority`, `status`, `subject` or `requester`.
    #[param(inline)]
    pub sort: Option<TicketSort>,
    /// `asc` or `desc` (default).
    #[param(inline)]
    pub order: Option<super::chats::Order>,
    /// Page, from 1 (default 1).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

fn list_of<T: for<'de> Deserialize<'de>>(
    name: &'static str,
    text: Option<&str>,
) -> Result<Vec<T>, AppError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    if text.chars().count() > 100 {
        return Err(AppError::BadRequest {
            code: "invalid_field",
            message: format!("{name}: at most 100 characters"),
        });
    }
    text.split(',')
        .map(|v| {
            serde_json::from_value(serde_json::Value::String(v.trim().to_string())).map_err(|_| {
                AppError::BadRequest {
                    code: "invalid_field",
                    message: format!("{name}: {v:?} is not one of the listed values"),
                }
            })
        })
        .collect()
}

/// Parses a list query.
pub fn parse_query(q: &TicketListQuery, me: StaffId) -> Result<TicketQuery, AppError> {
    let (page, per_page) = super::paging(q.page, q.per_page)?;
    let assignee = match q.assignee.as_deref() {
        None => AssigneeFilter::Any,
        Some("me") => AssigneeFilter::Staff(me),
        Some("none") => AssigneeFilter::Nobody,
        Some(id) => AssigneeFilter::Staff(id.parse().map_err(|_| AppError::BadRequest {
            code: "invalid_field",
            message: "assignee: give `me`, `none` or a staff id".into(),
        })?),
    };
    let text = q.q.as_deref().unwrap_or("");
    if text.chars().count() > 200 {
        return Err(AppError::BadRequest {
            code: "invalid_field",
            message: "q: at most 200 characters".into(),
        });
    }
    Ok(TicketQuery {
        statuses: list_of("status", q.status.as_deref())?,
        priorities: list_of("priority", q.priority.as_deref())?,
        sources: list_of("source", q.source.as_deref())?,
        group: q.group,
        assignee,
        words: ticket_list::words(text),
        sort: q.sort.unwrap_or_default(),
        desc: q.order.unwrap_or_default() == super::chats::Order::Desc,
        page,
        per_page,
    })
}

/// A page of the tickets the caller may see.
pub async fn list(
    state: &AppState,
    ctx: &AuthContext,
    q: TicketListQuery,
) -> Result<TicketPage, AppError> {
    let query = parse_query(&q, ctx.staff.id)?;
    let names = Names::load(state).await?;
    let staff = ctx.staff.clone();
    let view = state.config.chat.staff_view();
    let url = state.config.public_url();
    let (total, tickets) = state.store.with_ticket_rows(|rows| {
        let (total, page) = query.run(rows, |r| ticket::can_see(&staff, r.group, r.assignee));
        let rows: Vec<TicketListRow> = page
            .into_iter()
            .map(|r| list_row(r, &names, view, &url))
            .collect();
        (total, rows)
    });
    state.store.durable().await?; // show only what is on disk
    Ok(TicketPage {
        total,
        page: query.page,
        per_page: query.per_page,
        tickets,
    })
}

// ---------------------------------------------------------------- one

/// Runs a ticket change off the async threads and waits until it is durable.
async fn change<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Store) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let store = state.store.clone();
    let out = crate::state::blocking(move || f(&store)).await??;
    state.store.durable().await?;
    Ok(out)
}

async fn visible(state: &AppState, ctx: &AuthContext, number: u64) -> Result<Ticket, AppError> {
    let t = state
        .read(move |s| s.ticket(number))
        .await?
        .ok_or_else(|| not_found(number))?;
    if !ticket::can_see(&ctx.staff, t.group, t.assignee) {
        return Err(not_found(number));
    }
    Ok(t)
}

/// One ticket with its notes and history.
pub async fn get(state: &AppState, ctx: &AuthContext, number: u64) -> Result<TicketView, AppError> {
    let t = visible(state, ctx, number).await?;
    state.store.durable().await?;
    shown(state, t).await
}

/// A ticket's view with its mails.
async fn shown(state: &AppState, t: Ticket) -> Result<TicketView, AppError> {
    let n = t.number;
    let mails = state.read(move |s| s.mails_of_ticket(n)).await?;
    let names = Names::load(state).await?;
    Ok(ticket_view(state, t, &names, mails))
}

/// What staff send to make a ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    /// The chat it follows (live or ended). Without it the ticket is
    /// `manual` and needs `group` and `requester_name`.
    pub chat: Option<ChatId>,
    /// Subject (default: the chat's question).
    #[schema(min_length = 1, max_length = 200)]
    pub subject: Option<String>,
    /// Group (a chat's ticket takes the chat's).
    pub group: Option<GroupId>,
    /// Requester's name (a chat's ticket takes the visitor's).
    #[schema(min_length = 1, max_length = 80)]
    pub requester_name: Option<String>,
    /// Requester's email.
    #[schema(max_length = 254)]
    pub requester_email: Option<String>,
    /// Priority (default `normal`).
    pub priority: Option<Priority>,
    /// A first internal note.
    #[schema(min_length = 1, max_length = 8000)]
    pub note: Option<String>,
}

/// A group a ticket may go to: 404 when there is none such, 403 when it
/// is not one of the caller's (admins: any).
async fn check_group(
    state: &AppState,
    me: &crate::domain::Staff,
    group: GroupId,
) -> Result<(), AppError> {
    crate::service::groups::existing(state, group).await?;
    if !(me.role.is_admin() || me.in_group(group)) {
        return Err(AppError::Forbidden(
            "tickets go to one of your own groups".into(),
        ));
    }
    Ok(())
}

/// A ticket made, or the one the chat had.
pub struct Created {
    /// The ticket.
    pub ticket: TicketView,
    /// False when the chat had its ticket already.
    pub created: bool,
}

/// Makes a ticket from a chat the caller may see (their own, or their
/// groups' as a manager, any as an admin: the chat lists' rule), or one of
/// its own. A chat has one ticket: asking again answers the one it has.
pub async fn create(
    state: &AppState,
    ctx: &AuthContext,
    body: NewTicket,
) -> Result<Created, AppError> {
    let me = ctx.staff.clone();
    let now = state.now();
    let subject = body.subject.as_deref().map(ticket::subject).transpose()?;
    let note = body
        .note
        .as_deref()
        .map(ticket::note_body)
        .transpose()?
        .map(|body| Note {
            at: now,
            by: Some(me.id),
            kind: NoteKind::Note,
            body,
        });
    let priority = body.priority.unwrap_or(Priority::Normal);
    let (draft, cause) = match body.chat {
        Some(chat_id) => {
            let not_found = || AppError::NotFound {
                code: "chat_not_found",
                message: format!("no chat {chat_id} that you may see"),
            };
            let chat = state
                .read(move |s| s.chat(chat_id))
                .await?
                .ok_or_else(not_found)?;
            if !chat_list::can_see(&me, &chat) {
                return Err(not_found());
            }
            let q = state.read(move |s| question(s, chat_id)).await?;
            let mut d = chat_draft(&chat, q, Source::Chat);
            if let Some(s) = subject {
                d.subject = s;
            }
            d.assignee = ticket::can_be_assigned(&me, chat.group).then_some(me.id);
            (d, Some(chat_id.to_bytes()))
        }
        None => {
            let group = body
                .group
                .ok_or_else(|| field("group", "give the group of a ticket without a chat"))?;
            check_group(state, &me, group).await?;
            let name = body
                .requester_name
                .as_deref()
                .ok_or_else(|| field("requester_name", "give the requester's name"))?;
            let email = match body.requester_email.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(e) => {
                    Some(validate::email(e).map_err(|e| field("requester_email", e.message))?)
                }
            };
            let d = TicketDraft {
                subject: subject.ok_or_else(|| field("subject", "give a subject"))?,
                requester: Requester {
                    name: validate::text("requester_name", name, 1, 80)?,
                    email,
                },
                group,
                source: Source::Manual,
                chat: None,
                offline_message: None,
                priority,
                assignee: ticket::can_be_assigned(&me, group).then_some(me.id),
                by: Some(me.id),
                first_note: None,
            };
            (d, None)
        }
    };
    let mut draft = draft;
    draft.by = Some(me.id);
    draft.priority = priority;
    draft.first_note = note.or(draft.first_note);
    let made = state
        .write(move |s| {
            s.make_ticket(cause, &|existing| match existing {
                Existing::Found(_) => None,
                Existing::Next(n) => Some(draft.clone().into_ticket(n, now)),
            })
        })
        .await?;
    let (t, created) = match made {
        Made::Created(t) => (t, true),
        Made::Existing(t) => (t, false),
        Made::Nothing => return Err(AppError::Internal("no ticket was made".into())),
    };
    if created {
        tracing::info!(ticket = t.number, by = %ctx.staff.id, "ticket made by staff");
    }
    Ok(Created {
        ticket: shown(state, t).await?,
        created,
    })
}

/// Changes status, priority, assignee, group or subject; each change is
/// written to the history with who and when.
pub async fn update(
    state: &AppState,
    ctx: &AuthContext,
    number: u64,
    patch: TicketPatch,
) -> Result<TicketView, AppError> {
    let before = visible(state, ctx, number).await?;
    let me = ctx.staff.clone();
    let group = patch.group.unwrap_or(before.group);
    if let Some(g) = patch.group {
        check_group(state, &me, g).await?;
    }
    if let Some(Some(a)) = patch.assignee {
        let staff = state.read(move |s| s.staff(a)).await?;
        if !staff.is_some_and(|r| ticket::can_be_assigned(&r.staff, group)) {
            return Err(field(
                "assignee",
                "choose an active member of the ticket's group (or an admin)",
            ));
        }
    }
    let now = state.now();
    let by = me.id;
    let t = change(state, move |s| {
        s.update_ticket(number, |t| {
            // Seen again under the lock: it may have moved meanwhile.
            if !ticket::can_see(&me, t.group, t.assignee) {
                return Err(not_found(number));
            }
            Ok(patch.apply(t, by, now)? > 0)
        })
    })
    .await?
    .ok_or_else(|| not_found(number))?;
    shown(state, t).await
}

/// A note to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// The text (1 to 8000 characters, newlines allowed).
    #[schema(min_length = 1, max_length = 8000)]
    pub body: String,
}

/// Adds an internal note.
pub async fn add_note(
    state: &AppState,
    ctx: &AuthContext,
    number: u64,
    note: NewNote,
) -> Result<TicketView, AppError> {
    visible(state, ctx, number).await?;
    let body = ticket::note_body(&note.body)?;
    let me = ctx.staff.clone();
    let now = state.now();
    let t = change(state, move |s| {
        s.update_ticket(number, |t| {
            if !ticket::can_see(&me, t.group, t.assignee) {
                return Err(not_found(number));
            }
            t.add_note(Some(me.id), NoteKind::Note, body, now)?;
            Ok(true)
        })
    })
    .await?
    .ok_or_else(|| not_found(number))?;
    shown(state, t).await
}

// ---------------------------------------------------------------- summary

/// Query of `GET /api/tickets/summary`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// The IANA time zone whose midnight starts "today" (default UTC).
    #[param(max_length = 64)]
    pub zone: Option<String>,
}

/// A recent change, for the dashboard.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecentChange {
    /// The ticket.
    pub number: u64,
    /// Its subject.
    pub subject: String,
    /// The change.
    #[serde(flatten)]
    pub change: ChangeView,
}

/// The dashboard's ticket panel.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketSummary {
    /// Tickets made from chats (sources `chat`, `missed_chat` and
    /// `offline_message`) since midnight in `zone`.
    pub from_chats_today: usize,
    /// The same over the last 7 days (today and the 6 before).
    pub from_chats_7_days: usize,
    /// Open or pending tickets you may see.
    pub unsolved: usize,
    /// Open or pending tickets assigned to you.
    pub mine: usize,
    /// The 10 latest changes of tickets you may see, newest first.
    pub recent: Vec<RecentChange>,
}

/// The dashboard's ticket figures.
pub async fn summary(
    state: &AppState,
    ctx: &AuthContext,
    q: SummaryQuery,
) -> Result<TicketSummary, AppError> {
    let zone: chrono_tz::Tz = match q.zone.as_deref() {
        None => chrono_tz::UTC,
        Some(z) => z.parse().map_err(|_| AppError::BadRequest {
            code: "invalid_field",
            message: format!("zone: {z:?} is not an IANA time zone such as Europe/Berlin"),
        })?,
    };
    let now = state.now();
    let today = crate::domain::hours::local_midnight(zone, now);
    let week = crate::domain::hours::local_midnight_days_before(zone, now, 6);
    let staff = ctx.staff.clone();
    let (today_n, week_n, unsolved, mine, latest) = state.store.with_ticket_rows(|rows| {
        let mut out = (0, 0, 0, 0, Vec::<(Millis, u64)>::new());
        for r in rows.iter() {
            if !ticket::can_see(&staff, r.group, r.assignee) {
                continue;
            }
            if r.source != Source::Manual {
                out.0 += usize::from(r.created_at >= today);
                out.1 += usize::from(r.created_at >= week);
            }
            let open = matches!(r.status, TicketStatus::Open | TicketStatus::Pending);
            out.2 += usize::from(open);
            out.3 += usize::from(open && r.assignee == Some(staff.id));
            out.4.push((r.updated_at, r.number));
        }
        out.4.sort_unstable_by(|a, b| b.cmp(a));
        out.4.truncate(10);
        out
    });
    let numbers: Vec<u64> = latest.into_iter().map(|(_, n)| n).collect();
    let tickets = state
        .read(move |s| {
            numbers
                .into_iter()
                .filter_map(|n| s.ticket(n).transpose())
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    state.store.durable().await?;
    let names = Names::load(state).await?;
    let mut recent: Vec<RecentChange> = tickets
        .into_iter()
        .flat_map(|t| {
            let v = ticket_view(state, t, &names, Vec::new());
            let (number, subject) = (v.row.number, v.row.subject.clone());
            v.history
                .into_iter()
                .rev()
                .take(10)
                .map(move |change| RecentChange {
                    number,
                    subject: subject.clone(),
                    change,
                })
        })
        .collect();
    recent.sort_by(|a, b| b.change.at.cmp(&a.change.at).then(b.number.cmp(&a.number)));
    recent.truncate(10);
    Ok(TicketSummary {
        from_chats_today: today_n,
        from_chats_7_days: week_n,
        unsolved,
        mine,
        recent,
    })
}
