//! Mail use cases: the rule that decides a ticket's mails (set on the store
//! at start), the visitor's "email me the transcript", and the outbox as
//! admins see it. Sending is `jobs::mail`'s.

use crate::config::{Config, MailConfig, MailTls};
use crate::domain::chat::ChatState;
use crate::domain::mail::{self, Mail, MailKind, MailState, Sender};
use crate::domain::validate;
use crate::domain::{ChatId, MailId, Millis};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{MailCounts, Queued, TicketMailRule};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The sender's display name in `from` ("Help desk <help@example.com>").
fn sender_name(c: &MailConfig) -> String {
    c.from
        .parse::<lettre::message::Mailbox>()
        .ok()
        .and_then(|m| m.name)
        .unwrap_or_default()
}

fn sender(c: &Config) -> Sender {
    Sender {
        name: sender_name(&c.mail),
        mask: c.chat.mask_pii.get(),
    }
}

/// The rule a desk with mail set up queues ticket mails by; none without.
pub fn ticket_rule(config: &std::sync::Arc<Config>) -> Option<TicketMailRule> {
    if !config.mail.is_on() {
        return None;
    }
    let config = config.clone();
    Some(Box::new(move |before, after| {
        mail::ticket_mails(before, after, &sender(&config), after.updated_at)
    }))
}

/// A mail as staff see it (the body is not shown; the subject is).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MailView {
    /// Its id.
    pub id: MailId,
    /// `ticket_created`, `ticket_solved` or `transcript`.
    pub kind: MailKind,
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub state: MailState,
    /// Sends tried.
    pub attempts: u32,
    /// When it was queued (ms).
    pub created_at: Millis,
    /// When the next send is due (pending mail, ms).
    pub next_at: Option<Millis>,
    /// What the last failed send met.
    pub last_error: Option<String>,
    /// When the relay took it (ms).
    pub sent_at: Option<Millis>,
    /// The ticket it is about.
    pub ticket: Option<u64>,
    /// The chat it is about.
    pub chat: Option<ChatId>,
}

/// A mail's view for staff, masked as visitor data is for them.
pub fn view(m: Mail, staff: crate::domain::masking::StaffView) -> MailView {
    MailView {
        id: m.id,
        kind: m.kind,
        to: m.to,
        subject: staff.text(&m.subject),
        state: m.state,
        attempts: m.attempts,
        created_at: m.created_at,
        next_at: (m.state == MailState::Pending).then_some(m.next_at),
        last_error: m.last_error,
        sent_at: m.sent_at,
        ticket: m.ticket,
        chat: m.chat,
    }
}

/// Whether mail is set up, and through what, as the console shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MailSetup {
    /// Whether a relay is set (`[mail] host`); false: nothing is mailed.
    pub configured: bool,
    /// The relay, as `host:port (tls mode)`; empty when not configured.
    pub relay: String,
    /// The sender requesters see.
    pub from: String,
}

/// The mail setup of this desk.
pub fn setup(c: &Config) -> MailSetup {
    let m = &c.mail;
    let tls = match m.tls {
        MailTls::StartTls => "starttls",
        MailTls::Tls => "tls",
        MailTls::None => "none",
    };
    MailSetup {
        configured: m.is_on(),
        relay: if m.is_on() {
            format!("{}:{} ({tls})", m.host, m.port())
        } else {
            String::new()
        },
        from: m.from.clone(),
    }
}

/// Query of `GET /api/mail`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MailQuery {
    /// Only mail in this state.
    pub state: Option<MailState>,
    /// Only the mails of this ticket.
    #[param(minimum = 1, maximum = 4294967295_u64)]
    pub ticket: Option<u64>,
    /// At most this many, newest first (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The outbox as admins see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MailOutbox {
    /// The setup.
    pub setup: MailSetup,
    /// How many mails are pending, failed and sent (sent mail is kept 30 days).
    pub counts: MailCounts,
    /// The newest mails asked for, newest first.
    pub mails: Vec<MailView>,
}

/// The outbox: counts and the newest mails.
pub async fn outbox(state: &AppState, q: MailQuery) -> Result<MailOutbox, AppError> {
    let limit = q.limit.unwrap_or(50) as usize;
    if !(1..=200).contains(&limit) {
        return Err(AppError::BadRequest {
            code: "invalid_field",
            message: "limit: must be between 1 and 200".into(),
        });
    }
    if q.ticket.is_some_and(|n| n == 0 || n > u64::from(u32::MAX)) {
        return Err(AppError::BadRequest {
            code: "invalid_field",
            message: "ticket: must be a ticket number, between 1 and 4294967295".into(),
        });
    }
    let (only, ticket) = (q.state, q.ticket);
    let (mails, counts) = state
        .read(move |s| {
            s.mail_log(
                |m| {
                    only.is_none_or(|st| m.state == st)
                        && ticket.is_none_or(|n| m.ticket == Some(n))
                },
                limit,
            )
        })
        .await?;
    let staff = state.config.chat.staff_view();
    Ok(MailOutbox {
        setup: setup(&state.config),
        counts,
        mails: mails.into_iter().map(|m| view(m, staff)).collect(),
    })
}

/// Sends a failed mail again.
pub async fn retry(state: &AppState, id: MailId) -> Result<MailView, AppError> {
    let now = state.now();
    match state.write(move |s| s.retry_mail(id, now)).await? {
        None => Err(AppError::NotFound {
            code: "mail_not_found",
            message: format!("no mail {id}"),
        }),
        Some((m, false)) => Err(AppError::Conflict {
            code: "mail_not_failed",
            message: format!(
                "mail {id} is {}; only failed mail is sent again",
                match m.state {
                    MailState::Pending => "still pending",
                    _ => "already sent",
                }
            ),
        }),
        Some((m, true)) => Ok(view(m, state.config.chat.staff_view())),
    }
}

/// The widget's "email me the transcript".
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscriptRequest {
    /// The visitor token of the ended chat (`token` from `POST /api/visitor/chats`).
    #[schema(min_length = 1, max_length = 100)]
    pub chat_token: String,
    /// Where to send it.
    #[schema(max_length = 254)]
    pub email: String,
}

/// The answer: the queued mail.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TranscriptQueued {
    /// The mail's id.
    pub id: MailId,
    /// Where it goes (the address of the first request: a chat sends one).
    pub to: String,
    /// `pending` until the relay takes it, then `sent` (or `failed`).
    pub state: MailState,
}

/// Queues the transcript of an ended chat to the visitor's address, once
/// per chat: `(queued, new)`.
pub async fn transcript(
    state: &AppState,
    req: TranscriptRequest,
    foreign: Option<String>,
) -> Result<(TranscriptQueued, bool), AppError> {
    if !state.config.mail.is_on() {
        return Err(AppError::Conflict {
            code: "mail_not_configured",
            message: "this desk sends no mail ([mail] host is not set); the widget hides the transcript button then".into(),
        });
    }
    let to = validate::email(&req.email)?;
    let chat = super::widget::visitor_chat(state, &req.chat_token, foreign).await?;
    if chat.state != ChatState::Ended {
        return Err(AppError::Conflict {
            code: "chat_not_ended",
            message: "the transcript is sent once the chat has ended".into(),
        });
    }
    let id = chat.id;
    let messages = state
        .read(move |s| s.messages_after(id, 0, usize::MAX))
        .await?;
    let mail = mail::transcript(&chat, &messages, &to, &sender(&state.config), state.now());
    let queued = state.write(move |s| s.queue_transcript(id, &mail)).await?;
    let (m, new) = match queued {
        Queued::New(m) => (m, true),
        Queued::Before(m) => (m, false),
    };
    if new {
        tracing::info!(chat = %id, mail = %m.id, "transcript mail queued");
    }
    Ok((
        TranscriptQueued {
            id: m.id,
            to: m.to,
            state: m.state,
        },
        new,
    ))
}
