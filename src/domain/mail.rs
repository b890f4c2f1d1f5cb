//! Mail to requesters and visitors: what is sent (the text, rendered once
//! when the mail is queued), when a failed send is tried again and when it
//! is given up. Pure: the store keeps the outbox, `jobs::mail` talks to the
//! relay.

use super::chat::{Chat, Message, MessageKind};
use super::clock::{after, Millis};
use super::ids::{ChatId, MailId};
use super::ticket::{NoteKind, Ticket, TicketStatus};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// Sends tried before a mail is given up (about nine hours with the backoff).
pub const MAX_ATTEMPTS: u32 = 15;
/// The first wait after a failed send; it doubles each time.
pub const FIRST_RETRY: Duration = Duration::from_secs(30);
/// The longest wait between two sends.
pub const LONGEST_RETRY: Duration = Duration::from_secs(3600);
/// Longest error text kept.
const MAX_ERROR_CHARS: usize = 300;

/// Why a mail is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// The requester's ticket was made.
    TicketCreated,
    /// The requester's ticket was solved.
    TicketSolved,
    /// The visitor asked for the chat's transcript.
    Transcript,
}

/// Where a mail is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    /// Waiting for (another) send.
    Pending,
    /// The relay took it.
    Sent,
    /// Given up: the relay refused it for good, or every attempt failed.
    Failed,
}

/// One mail in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// Its id (also its Message-ID, so a resend after a crash is recognisable).
    pub id: MailId,
    /// Why it is sent.
    pub kind: MailKind,
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// The ticket it is about.
    pub ticket: Option<u64>,
    /// The chat it is about (transcripts).
    pub chat: Option<ChatId>,
    /// When it was queued.
    pub created_at: Millis,
    /// Where it is.
    pub state: MailState,
    /// Sends tried so far.
    pub attempts: u32,
    /// When the next send is due (pending mail).
    pub next_at: Millis,
    /// What the last failed send met.
    pub last_error: Option<String>,
    /// When the relay took it.
    pub sent_at: Option<Millis>,
}

impl Mail {
    /// A mail due at once.
    pub fn new(kind: MailKind, to: &str, subject: String, body: String, now: Millis) -> Self {
        Self {
            id: MailId::generate(),
            kind,
            to: to.to_string(),
            subject,
            body,
            ticket: None,
            chat: None,
            created_at: now,
            state: MailState::Pending,
            attempts: 0,
            next_at: now,
            last_error: None,
            sent_at: None,
        }
    }

    /// The relay took it.
    pub fn sent(&mut self, now: Millis) {
        self.attempts += 1;
        self.state = MailState::Sent;
        self.sent_at = Some(now);
        self.last_error = None;
    }

    /// A send failed: try again after the backoff, or give up when the
    /// relay refused it for good (`permanent`) or attempts ran out.
    pub fn failed(&mut self, error: &str, permanent: bool, now: Millis) {
        self.attempts += 1;
        self.last_error = Some(error.chars().take(MAX_ERROR_CHARS).collect());
        if permanent || self.attempts >= MAX_ATTEMPTS {
            self.state = MailState::Failed;
        } else {
            self.next_at = after(now, retry_after(self.attempts));
        }
    }

    /// An admin's "send again" of a failed mail: due at once, attempts anew.
    pub fn retry(&mut self, now: Millis) -> bool {
        if self.state != MailState::Failed {
            return false;
        }
        self.state = MailState::Pending;
        self.attempts = 0;
        self.next_at = now;
        true
    }
}

/// The wait after the `attempts`-th failed send: 30 s, doubling, at most an hour.
pub fn retry_after(attempts: u32) -> Duration {
    let doubled = FIRST_RETRY.saturating_mul(1u32 << attempts.saturating_sub(1).min(16));
    doubled.min(LONGEST_RETRY)
}

/// What every mail's text is signed with and points to.
#[derive(Clone, Debug, Default)]
pub struct Sender {
    /// The sender's display name ("Help desk"), or empty.
    pub name: String,
    /// Mask card numbers and contact data in mail text (mail crosses relays
    /// in clear; the same switch as for staff).
    pub mask: bool,
}

impl Sender {
    fn text(&self, s: &str) -> String {
        if self.mask {
            super::masking::mask(s)
        } else {
            s.to_string()
        }
    }

    fn sign_off(&self) -> String {
        if self.name.is_empty() {
            String::new()
        } else {
            format!("\n-- \n{}\n", self.name)
        }
    }
}

fn quoted(text: &str) -> String {
    text.lines()
        .map(|l| format!("> {l}\n"))
        .collect::<Vec<_>>()
        .concat()
}

fn reply_hint(number: u64) -> String {
    format!("To add anything, reply to this mail and keep \"#{number}\" in the subject.\n")
}

/// The mails a ticket's change sends its requester: one when it is made
/// (or when their address first becomes known), one each time it becomes
/// solved. None without a requester's address.
pub fn ticket_mails(
    before: Option<&Ticket>,
    after: &Ticket,
    from: &Sender,
    now: Millis,
) -> Vec<Mail> {
    let Some(to) = after.requester.email.as_deref() else {
        return Vec::new();
    };
    let n = after.number;
    let subject = from.text(&after.subject);
    let name = from.text(&after.requester.name);
    let mut out = Vec::new();
    // Made now, or the requester's address is known only now (a message
    // left after a missed chat): they hear of it once.
    if before.is_none_or(|b| b.requester.email.is_none()) {
        let mut body = format!(
            "Hello {name},\n\nThank you for getting in touch. We have your request and will answer \
             as soon as we can.\n\nYour reference: #{n}\nSubject: {subject}\n"
        );
        for note in after.notes.iter().filter(|x| x.kind == NoteKind::Requester) {
            body.push_str("\nYou wrote:\n");
            body.push_str(&quoted(&from.text(&note.body)));
        }
        body.push('\n');
        body.push_str(&reply_hint(n));
        body.push_str(&from.sign_off());
        out.push(Mail::new(
            MailKind::TicketCreated,
            to,
            format!("[#{n}] {subject}"),
            body,
            now,
        ));
    }
    let was_solved = before.is_some_and(|b| b.status == TicketStatus::Solved);
    if after.status == TicketStatus::Solved && !was_solved {
        let body = format!(
            "Hello {name},\n\nWe have marked your request #{n} as solved:\n{subject}\n\n\
             If anything is still open, reply to this mail and keep \"#{n}\" in the subject.\n{}",
            from.sign_off()
        );
        out.push(Mail::new(
            MailKind::TicketSolved,
            to,
            format!("[#{n}] Solved: {subject}"),
            body,
            now,
        ));
    }
    for m in &mut out {
        m.ticket = Some(n);
        m.chat = after.chat;
    }
    out
}

fn utc(at: Millis) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at as i64).unwrap_or_default()
}

/// The transcript of an ended chat as the visitor saw it (no whispers),
/// times in UTC.
pub fn transcript(chat: &Chat, messages: &[Message], to: &str, from: &Sender, now: Millis) -> Mail {
    let day = utc(chat.started_at).format("%Y-%m-%d");
    let mut body = format!(
        "Hello {},\n\nHere is the transcript of your chat with us on {day} (times in UTC).\n\n",
        from.text(&chat.visitor.name)
    );
    for m in messages.iter().filter(|m| m.kind.visible_to_visitor()) {
        let at = utc(m.at).format("%H:%M");
        let text = from.text(&m.body);
        match m.kind {
            MessageKind::System => body.push_str(&format!("[{at}] * {text}\n")),
            _ => body.push_str(&format!("[{at}] {}: {text}\n", from.text(&m.author_name))),
        }
    }
    body.push_str(&from.sign_off());
    let mut mail = Mail::new(
        MailKind::Transcript,
        to,
        format!("Your chat with us on {day}"),
        body,
        now,
    );
    mail.chat = Some(chat.id);
    mail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::GroupId;
    use crate::domain::ticket::{Note, Priority, Requester, Source, TicketDraft};

    fn ticket(email: Option<&str>) -> Ticket {
        TicketDraft {
            subject: "Card 4111 1111 1111 1111 refused".into(),
            requester: Requester {
                name: "Vera".into(),
                email: email.map(str::to_string),
            },
            group: GroupId::generate(),
            source: Source::OfflineMessage,
            chat: None,
            offline_message: None,
            priority: Priority::Normal,
            assignee: None,
            by: None,
            first_note: Some(Note {
                at: 1,
                by: None,
                kind: NoteKind::Requester,
                body: "It failed twice.\nPlease call.".into(),
            }),
        }
        .into_ticket(1001, 1)
    }

    fn sender() -> Sender {
        Sender {
            name: "Help desk".into(),
            mask: true,
        }
    }

    #[test]
    fn a_new_ticket_mails_its_requester_once_with_the_number_and_what_they_wrote() {
        let t = ticket(Some("vera@example.com"));
        let mails = ticket_mails(None, &t, &sender(), 5);
        assert_eq!(mails.len(), 1);
        let m = &mails[0];
        assert_eq!(m.kind, MailKind::TicketCreated);
        assert_eq!(m.to, "vera@example.com");
        assert_eq!(m.subject, "[#1001] Card ************1111 refused");
        assert!(m.body.contains("Your reference: #1001"), "{}", m.body);
        assert!(
            m.body.contains("> It failed twice.\n> Please call.\n"),
            "{}",
            m.body
        );
        assert!(m.body.ends_with("-- \nHelp desk\n"), "{}", m.body);
        assert_eq!(
            (m.ticket, m.state, m.next_at),
            (Some(1001), MailState::Pending, 5)
        );
        // A later change that is not "solved" mails nothing.
        let mut later = t.clone();
        later.priority = Priority::High;
        assert!(ticket_mails(Some(&t), &later, &sender(), 6).is_empty());
    }

    #[test]
    fn solving_mails_once_and_again_only_after_a_reopen() {
        let t = ticket(Some("vera@example.com"));
        let mut solved = t.clone();
        solved.status = TicketStatus::Solved;
        let mails = ticket_mails(Some(&t), &solved, &sender(), 7);
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].kind, MailKind::TicketSolved);
        assert!(mails[0].subject.starts_with("[#1001] Solved: "));
        assert!(ticket_mails(Some(&solved), &solved, &sender(), 8).is_empty());
        let mut closed = solved.clone();
        closed.status = TicketStatus::Closed;
        assert!(ticket_mails(Some(&solved), &closed, &sender(), 9).is_empty());
    }

    #[test]
    fn no_address_no_mail_until_one_is_known() {
        let t = ticket(None);
        assert!(ticket_mails(None, &t, &sender(), 1).is_empty());
        let mut later = t.clone();
        later.requester.email = Some("vera@example.com".into());
        let mails = ticket_mails(Some(&t), &later, &sender(), 2);
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].kind, MailKind::TicketCreated);
        assert!(ticket_mails(Some(&later), &later, &sender(), 3).is_empty());
    }

    #[test]
    fn a_transcript_is_what_the_visitor_saw() {
        use crate::domain::chat::{Chat, Visitor};
        let chat = Chat::waiting(
            GroupId::generate(),
            Visitor {
                name: "Vera".into(),
                email: None,
                page_url: None,
            },
            1_796_000_000_000,
        );
        let msg = |seq, kind, author: &str, body: &str| Message {
            chat_id: chat.id,
            seq,
            kind,
            author: None,
            author_name: author.into(),
            body: body.into(),
            client_id: None,
            at: 1_796_000_060_000,
            event: None,
        };
        let messages = [
            msg(
                1,
                MessageKind::Visitor,
                "Vera",
                "My card 4111 1111 1111 1111",
            ),
            msg(2, MessageKind::Whisper, "Ann", "VIP"),
            msg(3, MessageKind::Agent, "Ann", "Hello"),
            msg(
                4,
                MessageKind::System,
                "",
                "Customer ended the conversation",
            ),
        ];
        let m = transcript(&chat, &messages, "vera@example.com", &sender(), 9);
        assert_eq!(m.subject, "Your chat with us on 2026-11-30");
        assert_eq!(
            (m.kind, m.chat, m.ticket),
            (MailKind::Transcript, Some(chat.id), None)
        );
        assert!(
            m.body.contains("[00:54] Vera: My card ************1111\n"),
            "{}",
            m.body
        );
        assert!(
            m.body
                .contains("[00:54] Ann: Hello\n[00:54] * Customer ended"),
            "{}",
            m.body
        );
        assert!(!m.body.contains("VIP"));
    }

    #[test]
    fn failed_sends_back_off_and_give_up() {
        assert_eq!(retry_after(1), Duration::from_secs(30));
        assert_eq!(retry_after(2), Duration::from_secs(60));
        assert_eq!(retry_after(5), Duration::from_secs(480));
        assert_eq!(retry_after(9), LONGEST_RETRY);
        assert_eq!(retry_after(u32::MAX), LONGEST_RETRY);
        let mut m = Mail::new(MailKind::Transcript, "a@b.c", "s".into(), "b".into(), 0);
        m.failed("connection refused", false, 1000);
        assert_eq!(
            (m.state, m.attempts, m.next_at),
            (MailState::Pending, 1, 31_000)
        );
        for _ in 1..MAX_ATTEMPTS {
            m.failed("connection refused", false, 1000);
        }
        assert_eq!((m.state, m.attempts), (MailState::Failed, MAX_ATTEMPTS));
        assert!(m.retry(2000));
        assert_eq!(
            (m.state, m.attempts, m.next_at),
            (MailState::Pending, 0, 2000)
        );
        assert!(!m.retry(2000), "only failed mail is sent again");
        m.failed(&"x".repeat(1000), true, 3000);
        assert_eq!(m.state, MailState::Failed);
        assert_eq!(m.last_error.as_ref().map(|e| e.len()), Some(300));
        m.retry(4000);
        m.sent(5000);
        assert_eq!(
            (m.state, m.sent_at, m.last_error),
            (MailState::Sent, Some(5000), None)
        );
    }
}
