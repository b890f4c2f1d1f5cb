//! Tickets: the follow-up of a chat or an offline message. A ticket has a
//! short number (`#1001` …, one gap-free sequence per desk), a status, a
//! priority, an assignee, internal notes and a history of every change.
//! Pure types and rules: which chats need a ticket, who may see one, and
//! what a change does to it.

use super::chat::{Chat, EndedBy};
use super::clock::Millis;
use super::ids::{ChatId, GroupId, OfflineMessageId, StaffId};
use super::staff::Staff;
use super::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The number the first ticket of a desk gets.
pub const FIRST_NUMBER: u64 = 1001;
/// Longest subject, characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest note, characters.
pub const MAX_NOTE_CHARS: usize = 8000;
/// Most notes one ticket keeps (a ticket is one record).
pub const MAX_NOTES: usize = 500;

/// Where a ticket is in its life.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Needs staff action.
    Open,
    /// Waiting for the requester.
    Pending,
    /// Answered; the requester may still come back.
    Solved,
    /// Done for good.
    Closed,
}

/// How urgent a ticket is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Whenever there is time.
    Low,
    /// The default.
    Normal,
    /// Soon.
    High,
    /// Now.
    Urgent,
}

/// What made a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An agent made it from a chat, or the chat's wrap-up reason makes tickets.
    Chat,
    /// A visitor left a message with the widget's message form.
    OfflineMessage,
    /// Nobody answered the chat: the visitor left the queue, it waited past
    /// the group's queue timeout, or the group closed.
    MissedChat,
    /// Staff made it without a chat.
    Manual,
}

impl TicketStatus {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Pending => "pending",
            TicketStatus::Solved => "solved",
            TicketStatus::Closed => "closed",
        }
    }
}

impl Priority {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// Who a ticket is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Requester {
    /// Their name.
    pub name: String,
    /// Their email, when they gave one.
    pub email: Option<String>,
}

/// An internal note, or a message the requester left on the ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Note {
    /// When.
    pub at: Millis,
    /// The staff member who wrote it; none for the requester's message.
    pub by: Option<StaffId>,
    /// `note` (internal, staff only) or `requester` (what the visitor wrote).
    pub kind: NoteKind,
    /// The text.
    pub body: String,
}

/// Kinds of note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// Internal, by staff.
    Note,
    /// Left by the requester (an offline message on a missed chat's ticket).
    Requester,
}

/// One entry of a ticket's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    /// When.
    pub at: Millis,
    /// Who; none when the desk did it (a missed chat, an offline message).
    pub by: Option<StaffId>,
    /// `created`, `status`, `priority`, `assignee`, `group`, `subject`,
    /// `note` or `requester_message`.
    pub field: String,
    /// The value before (ids for `assignee` and `group`).
    pub from: Option<String>,
    /// The value after.
    pub to: Option<String>,
}

/// A ticket as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Ticket {
    /// The short number, `1001` and up.
    pub number: u64,
    /// One line saying what it is about.
    pub subject: String,
    /// Who it is for.
    pub requester: Requester,
    /// The group that handles it.
    pub group: GroupId,
    /// The staff member working it.
    pub assignee: Option<StaffId>,
    /// Open, pending, solved or closed.
    pub status: TicketStatus,
    /// Low, normal, high or urgent.
    pub priority: Priority,
    /// What made it.
    pub source: Source,
    /// The chat it follows up, if any.
    pub chat: Option<ChatId>,
    /// The offline message it came from, if any.
    pub offline_message: Option<OfflineMessageId>,
    /// When it was made.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// Notes, oldest first.
    pub notes: Vec<Note>,
    /// Every change, oldest first (the first is `created`).
    pub history: Vec<Change>,
}

/// What a new ticket is made from.
#[derive(Clone, Debug)]
pub struct TicketDraft {
    /// Subject.
    pub subject: String,
    /// Requester.
    pub requester: Requester,
    /// Group.
    pub group: GroupId,
    /// Source.
    pub source: Source,
    /// The chat, if any.
    pub chat: Option<ChatId>,
    /// The offline message, if any.
    pub offline_message: Option<OfflineMessageId>,
    /// Priority.
    pub priority: Priority,
    /// Assignee.
    pub assignee: Option<StaffId>,
    /// Who made it (none: the desk).
    pub by: Option<StaffId>,
    /// A first note or requester message.
    pub first_note: Option<Note>,
}

impl TicketDraft {
    /// The ticket numbered `number`, made at `now`.
    pub fn into_ticket(self, number: u64, now: Millis) -> Ticket {
        let created = Change {
            at: now,
            by: self.by,
            field: "created".into(),
            from: None,
            to: Some(source_name(self.source).into()),
        };
        Ticket {
            number,
            subject: self.subject,
            requester: self.requester,
            group: self.group,
            assignee: self.assignee,
            status: TicketStatus::Open,
            priority: self.priority,
            source: self.source,
            chat: self.chat,
            offline_message: self.offline_message,
            created_at: now,
            updated_at: now,
            notes: self.first_note.into_iter().collect(),
            history: vec![created],
        }
    }
}

/// The API name of a source.
pub fn source_name(s: Source) -> &'static str {
    match s {
        Source::Chat => "chat",
        Source::OfflineMessage => "offline_message",
        Source::MissedChat => "missed_chat",
        Source::Manual => "manual",
    }
}

/// Whether `staff` may see and work `ticket`: admins all; everyone else
/// the tickets of their groups and those assigned to them.
pub fn can_see(staff: &Staff, group: GroupId, assignee: Option<StaffId>) -> bool {
    staff.role.is_admin() || staff.in_group(group) || assignee == Some(staff.id)
}

/// Whether `staff` may be assigned a ticket of `group`: an enabled member
/// of the group, or an admin.
pub fn can_be_assigned(staff: &Staff, group: GroupId) -> bool {
    !staff.disabled && (staff.role.is_admin() || staff.in_group(group))
}

/// The source of the ticket a chat that just ended needs, if any: a chat
/// nobody answered is a missed chat; an answered one whose final wrap-up
/// reason is in `ticket_reasons` (compared ignoring case) is followed up.
pub fn follow_up_of(chat: &Chat, ticket_reasons: &[String]) -> Option<Source> {
    let ended_by = chat.ended_by?;
    if chat.answered_at.is_none() {
        return match ended_by {
            EndedBy::Visitor | EndedBy::QueueTimeout | EndedBy::Closed | EndedBy::Idle => {
                Some(Source::MissedChat)
            }
            EndedBy::Agent { .. } => None,
        };
    }
    let reason = chat.wrap_up.as_deref()?;
    ticket_reasons
        .iter()
        .any(|r| r.eq_ignore_ascii_case(reason))
        .then_some(Source::Chat)
}

/// A subject from a chat's first question: its first line, cut to fit at
/// a word; "Chat with NAME" when there is none.
pub fn subject_from_question(question: Option<&str>, visitor_name: &str) -> String {
    let line = question
        .and_then(|q| q.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("");
    if line.is_empty() {
        return cut(&format!("Chat with {visitor_name}"), MAX_SUBJECT_CHARS);
    }
    let clean: String = line.chars().filter(|c| !c.is_control()).collect();
    cut(&clean, 120)
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max - 1).collect();
    let at_word = match head.rfind(' ') {
        Some(i) if i > head.len() / 2 => &head[..i],
        _ => &head[..],
    };
    format!("{}…", at_word.trim_end())
}

/// A checked subject.
pub fn subject(value: &str) -> Result<String, FieldError> {
    validate::text("subject", value, 1, MAX_SUBJECT_CHARS)
}

/// A checked note body (newlines allowed).
pub fn note_body(value: &str) -> Result<String, FieldError> {
    super::chat::message_body("body", value, MAX_NOTE_CHARS)
}

/// A change staff ask for. `assignee: null` unassigns; a field left out
/// stays as it is.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    /// New status.
    pub status: Option<TicketStatus>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New assignee (`null`: nobody).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = "uuid", nullable)]
    pub assignee: Option<Option<StaffId>>,
    /// New group.
    pub group: Option<GroupId>,
    /// New subject (1 to 200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub subject: Option<String>,
}

/// A field that is present, even as `null`, is `Some`.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl TicketPatch {
    /// Applies the patch by `by` at `now`, writing each real change to the
    /// history; returns how many fields changed (0: nothing to write).
    pub fn apply(&self, t: &mut Ticket, by: StaffId, now: Millis) -> Result<usize, FieldError> {
        let mut changes = Vec::new();
        let mut change = |field: &str, from: Option<String>, to: Option<String>| {
            changes.push(Change {
                at: now,
                by: Some(by),
                field: field.into(),
                from,
                to,
            })
        };
        if let Some(s) = &self.subject {
            let s = subject(s)?;
            if s != t.subject {
                change("subject", Some(t.subject.clone()), Some(s.clone()));
                t.subject = s;
            }
        }
        if let Some(s) = self.status.filter(|s| *s != t.status) {
            change(
                "status",
                Some(t.status.as_str().into()),
                Some(s.as_str().into()),
            );
            t.status = s;
        }
        if let Some(p) = self.priority.filter(|p| *p != t.priority) {
            change(
                "priority",
                Some(t.priority.as_str().into()),
                Some(p.as_str().into()),
            );
            t.priority = p;
        }
        if let Some(g) = self.group.filter(|g| *g != t.group) {
            change("group", Some(t.group.to_string()), Some(g.to_string()));
            t.group = g;
        }
        if let Some(a) = self.assignee.filter(|a| *a != t.assignee) {
            let show = |a: Option<StaffId>| a.map(|a| a.to_string());
            change("assignee", show(t.assignee), show(a));
            t.assignee = a;
        }
        let n = changes.len();
        if n > 0 {
            t.updated_at = now;
            t.history.extend(changes);
        }
        Ok(n)
    }
}

impl Ticket {
    /// Adds a note by `by` (none: the requester) and its history entry.
    pub fn add_note(
        &mut self,
        by: Option<StaffId>,
        kind: NoteKind,
        body: String,
        now: Millis,
    ) -> Result<(), FieldError> {
        if self.notes.len() >= MAX_NOTES {
            return Err(FieldError {
                field: "body",
                message: format!(
                    "this ticket has {MAX_NOTES} notes, the most one ticket keeps; make a new ticket"
                ),
            });
        }
        self.notes.push(Note {
            at: now,
            by,
            kind,
            body,
        });
        self.history.push(Change {
            at: now,
            by,
            field: match kind {
                NoteKind::Note => "note",
                NoteKind::Requester => "requester_message",
            }
            .into(),
            from: None,
            to: None,
        });
        self.updated_at = now;
        // A requester writing again reopens a ticket that was put aside.
        if kind == NoteKind::Requester && self.status != TicketStatus::Open {
            self.history.push(Change {
                at: now,
                by: None,
                field: "status".into(),
                from: Some(self.status.as_str().into()),
                to: Some("open".into()),
            });
            self.status = TicketStatus::Open;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chat::{Chat, Visitor};
    use crate::domain::staff::Role;

    fn chat() -> Chat {
        Chat::waiting(
            GroupId::generate(),
            Visitor {
                name: "Vera".into(),
                email: Some("vera@example.com".into()),
                page_url: None,
            },
            1_000,
        )
    }

    fn staff(role: Role, groups: Vec<GroupId>) -> Staff {
        Staff::for_tests(role, groups)
    }

    #[test]
    fn unanswered_chats_are_missed_and_answered_ones_follow_their_wrap_up() {
        let reasons = vec!["Follow-up needed".to_string()];
        let mut c = chat();
        assert_eq!(follow_up_of(&c, &reasons), None, "not ended");
        for by in [EndedBy::Visitor, EndedBy::QueueTimeout, EndedBy::Closed] {
            c.ended_by = Some(by);
            assert_eq!(follow_up_of(&c, &reasons), Some(Source::MissedChat));
        }
        c.answered_at = Some(2_000);
        c.ended_by = Some(EndedBy::Visitor);
        assert_eq!(follow_up_of(&c, &reasons), None, "answered, no reason");
        c.wrap_up = Some("follow-up NEEDED".into());
        assert_eq!(follow_up_of(&c, &reasons), Some(Source::Chat));
        c.wrap_up = Some("Resolved".into());
        assert_eq!(follow_up_of(&c, &reasons), None);
    }

    #[test]
    fn subjects_come_from_the_first_line_of_the_question() {
        assert_eq!(
            subject_from_question(Some("\n  Where is my order?\nIt was due"), "Vera"),
            "Where is my order?"
        );
        assert_eq!(subject_from_question(None, "Vera"), "Chat with Vera");
        assert_eq!(subject_from_question(Some("   "), "Vera"), "Chat with Vera");
        let long = "word ".repeat(60);
        let s = subject_from_question(Some(&long), "Vera");
        assert!(s.chars().count() <= 120 && s.ends_with('…'), "{s}");
        assert!(subject(&s).is_ok());
    }

    #[test]
    fn a_patch_records_only_real_changes_with_who_and_when() {
        let group = GroupId::generate();
        let by = StaffId::generate();
        let mut t = TicketDraft {
            subject: "Refund".into(),
            requester: Requester {
                name: "Vera".into(),
                email: None,
            },
            group,
            source: Source::Manual,
            chat: None,
            offline_message: None,
            priority: Priority::Normal,
            assignee: None,
            by: Some(by),
            first_note: None,
        }
        .into_ticket(1001, 5);
        assert_eq!(t.history.len(), 1);
        assert_eq!(t.history[0].field, "created");
        let same = TicketPatch {
            status: Some(TicketStatus::Open),
            priority: Some(Priority::Normal),
            ..Default::default()
        };
        assert_eq!(same.apply(&mut t, by, 6).unwrap(), 0);
        assert_eq!(t.updated_at, 5);
        let p = TicketPatch {
            status: Some(TicketStatus::Pending),
            assignee: Some(Some(by)),
            ..Default::default()
        };
        assert_eq!(p.apply(&mut t, by, 7).unwrap(), 2);
        assert_eq!(t.status, TicketStatus::Pending);
        let last: Vec<_> = t.history[1..].iter().map(|c| c.field.as_str()).collect();
        assert_eq!(last, ["status", "assignee"]);
        assert_eq!(t.history[1].from.as_deref(), Some("open"));
        assert_eq!(t.history[1].to.as_deref(), Some("pending"));
        assert_eq!(t.history[1].at, 7);
        assert_eq!(t.history[1].by, Some(by));
        let bad = TicketPatch {
            subject: Some(" ".into()),
            ..Default::default()
        };
        assert_eq!(bad.apply(&mut t, by, 8).unwrap_err().field, "subject");
        // A requester's message reopens it.
        t.add_note(None, NoteKind::Requester, "Any news?".into(), 9)
            .unwrap();
        assert_eq!(t.status, TicketStatus::Open);
        assert_eq!(t.history.last().unwrap().to.as_deref(), Some("open"));
    }

    #[test]
    fn tickets_are_seen_by_their_group_their_assignee_and_admins() {
        let g = GroupId::generate();
        let other = GroupId::generate();
        let agent = staff(Role::Agent, vec![g]);
        assert!(can_see(&agent, g, None));
        assert!(!can_see(&agent, other, None));
        assert!(can_see(&agent, other, Some(agent.id)));
        assert!(can_see(&staff(Role::Admin, vec![]), other, None));
        assert!(!can_see(&staff(Role::Manager, vec![g]), other, None));
        assert!(can_be_assigned(&agent, g));
        assert!(!can_be_assigned(&agent, other));
        let mut off = agent.clone();
        off.disabled = true;
        assert!(!can_be_assigned(&off, g));
    }
}
