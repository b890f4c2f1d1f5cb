//! Tickets as staff see them: list rows, one ticket with its notes and
//! history, names instead of ids, masking applied.

use crate::domain::masking::StaffView;
use crate::domain::ticket::{Change, NoteKind, Priority, Source, Ticket, TicketStatus};
use crate::domain::ticket_list::TicketRow;
use crate::domain::{ChatId, GroupId, Millis, StaffId};
use crate::error::AppError;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// A ticket in a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketListRow {
    /// The number (`1001` shows as `#1001`).
    pub number: u64,
    /// Subject (masked when masking is on).
    pub subject: String,
    /// Requester's name (masked when masking is on).
    pub requester_name: String,
    /// Requester's email (in clear: it is where they are answered).
    pub requester_email: Option<String>,
    /// Group.
    pub group: GroupId,
    /// The group's name.
    pub group_name: String,
    /// Assignee.
    pub assignee: Option<StaffId>,
    /// Their name.
    pub assignee_name: Option<String>,
    /// Status.
    pub status: TicketStatus,
    /// Priority.
    pub priority: Priority,
    /// Source.
    pub source: Source,
    /// The chat it follows.
    pub chat: Option<ChatId>,
    /// Made at (ms since the epoch).
    pub created_at: Millis,
    /// Changed at.
    pub updated_at: Millis,
    /// Stable link that opens it in the console.
    pub link: String,
}

/// A page of tickets.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketPage {
    /// Tickets matching, over all pages.
    pub total: usize,
    /// This page (from 1).
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
    /// The rows.
    pub tickets: Vec<TicketListRow>,
}

/// A note as shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoteView {
    /// When.
    pub at: Millis,
    /// Who (none: the requester).
    pub by: Option<StaffId>,
    /// Their name, or the requester's.
    pub by_name: String,
    /// `note` or `requester`.
    pub kind: NoteKind,
    /// Text (the requester's masked when masking is on).
    pub body: String,
}

/// A history entry as shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeView {
    /// When.
    pub at: Millis,
    /// Who (none: the desk).
    pub by: Option<StaffId>,
    /// Their name, or "livedesk".
    pub by_name: String,
    /// `created`, `status`, `priority`, `assignee`, `group`, `subject`,
    /// `note` or `requester_message`.
    pub field: String,
    /// The value before (ids for `assignee` and `group`).
    pub from: Option<String>,
    /// The value after.
    pub to: Option<String>,
    /// `from` for people: a name instead of an id.
    pub from_label: Option<String>,
    /// `to` for people.
    pub to_label: Option<String>,
}

/// A ticket with names, notes and history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketView {
    /// The list row's fields.
    #[serde(flatten)]
    pub row: TicketListRow,
    /// The offline message it came from.
    pub offline_message: Option<crate::domain::OfflineMessageId>,
    /// The link to the chat's transcript in the console.
    pub chat_link: Option<String>,
    /// Notes, oldest first.
    pub notes: Vec<NoteView>,
    /// Every change, oldest first.
    pub history: Vec<ChangeView>,
    /// The mails to the requester about it.
    pub mail: TicketMail,
}

/// A ticket's mail: whether the desk sends any, and what it sent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketMail {
    /// Whether mail is set up (`[mail] host`); false: the requester is not mailed.
    pub configured: bool,
    /// Its mails, oldest first: pending, sent or failed.
    pub mails: Vec<crate::service::mail::MailView>,
}

/// Names of groups and staff.
pub(super) struct Names {
    groups: HashMap<GroupId, String>,
    staff: HashMap<StaffId, String>,
}

impl Names {
    pub(super) async fn load(state: &AppState) -> Result<Self, AppError> {
        let (groups, staff) = super::super::chats::names(state).await?;
        Ok(Self { groups, staff })
    }
    fn group(&self, g: GroupId) -> String {
        self.groups
            .get(&g)
            .cloned()
            .unwrap_or_else(|| "(deleted group)".into())
    }
    fn staff(&self, s: StaffId) -> String {
        self.staff
            .get(&s)
            .cloned()
            .unwrap_or_else(|| "(unknown)".into())
    }
    fn label(&self, field: &str, id: Option<&str>) -> Option<String> {
        let id = id?;
        match field {
            "assignee" => id.parse().ok().map(|s| self.staff(s)),
            "group" => id.parse().ok().map(|g| self.group(g)),
            _ => None,
        }
    }
}

pub(super) fn list_row(r: &TicketRow, names: &Names, view: StaffView, url: &str) -> TicketListRow {
    TicketListRow {
        number: r.number,
        subject: view.text(&r.subject),
        requester_name: view.text(&r.requester_name),
        requester_email: r.requester_email.clone(),
        group: r.group,
        group_name: names.group(r.group),
        assignee: r.assignee,
        assignee_name: r.assignee.map(|a| names.staff(a)),
        status: r.status,
        priority: r.priority,
        source: r.source,
        chat: r.chat,
        created_at: r.created_at,
        updated_at: r.updated_at,
        link: format!("{url}/#/tickets/{}", r.number),
    }
}

pub(super) fn ticket_view(
    state: &AppState,
    t: Ticket,
    names: &Names,
    mails: Vec<crate::domain::mail::Mail>,
) -> TicketView {
    let view = state.config.chat.staff_view();
    let url = state.config.public_url();
    let t = view.ticket(t);
    let row = TicketRow::of(&t);
    let requester = t.requester.name.clone();
    let who =
        |by: Option<StaffId>, desk: &str| by.map_or_else(|| desk.to_string(), |s| names.staff(s));
    TicketView {
        // Already masked: the row shows it as is.
        row: list_row(&row, names, StaffView::new(false), &url),
        offline_message: t.offline_message,
        chat_link: t.chat.map(|c| format!("{url}/#/chats/{c}")),
        notes: t
            .notes
            .into_iter()
            .map(|n| NoteView {
                at: n.at,
                by: n.by,
                by_name: who(n.by, &requester),
                kind: n.kind,
                body: n.body,
            })
            .collect(),
        history: t
            .history
            .into_iter()
            .map(|c: Change| ChangeView {
                at: c.at,
                by: c.by,
                by_name: who(c.by, "livedesk"),
                from_label: names.label(&c.field, c.from.as_deref()),
                to_label: names.label(&c.field, c.to.as_deref()),
                field: c.field,
                from: c.from,
                to: c.to,
            })
            .collect(),
        mail: TicketMail {
            configured: state.config.mail.is_on(),
            mails: mails
                .into_iter()
                .map(|m| crate::service::mail::view(m, view))
                .collect(),
        },
    }
}
