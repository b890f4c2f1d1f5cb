//! The mail sender: hands pending mail from the store's outbox to the SMTP
//! relay (lettre), one at a time, soonest due first. A failed send is tried
//! again after a backoff (30 s doubling to an hour, fifteen tries); a relay
//! that refuses a mail for good (a 5xx answer, a bad address) fails it at
//! once. At start every pending mail is tried at once, so a restart after
//! the relay is back sends what waited.
//!
//! A mail is marked sent right after the relay takes it. A crash in between
//! sends it again at restart: at least once, with the same Message-ID (its
//! mail id), which mail clients use to show the two as one.

use crate::config::{MailConfig, MailTls};
use crate::domain::mail::Mail;
use crate::state::AppState;
use lettre::message::{header::ContentType, Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Weak;
use std::time::Duration;
use tokio::sync::watch;

/// How long one send may take (connect, greeting, each reply).
const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest sleep between two looks at the outbox.
const EVERY: Duration = Duration::from_secs(30);
/// Mails sent per look before the outbox is read again.
const BATCH: usize = 50;

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The relay connection as configured.
fn transport(c: &MailConfig) -> Result<Transport, String> {
    let builder = match c.tls {
        MailTls::None => Transport::builder_dangerous(&c.host),
        MailTls::StartTls => Transport::starttls_relay(&c.host).map_err(|e| e.to_string())?,
        MailTls::Tls => Transport::relay(&c.host).map_err(|e| e.to_string())?,
    };
    let mut builder = builder.port(c.port()).timeout(Some(SEND_TIMEOUT));
    if !c.username.is_empty() {
        builder = builder.credentials(Credentials::new(c.username.clone(), c.password.clone()));
    }
    Ok(builder.build())
}

/// A send that failed, and whether for good.
struct Failure {
    error: String,
    permanent: bool,
}

/// The message of a mail: from, reply-to, to, subject, Message-ID, body.
fn message(c: &MailConfig, m: &Mail) -> Result<Message, Failure> {
    let bad = |what: &str, e: String| Failure {
        error: format!("{what}: {e}"),
        permanent: true,
    };
    let from: Mailbox = c
        .from
        .parse()
        .map_err(|e| bad("mail.from", format!("{e}")))?;
    let to: Mailbox = m.to.parse().map_err(|e| bad("recipient", format!("{e}")))?;
    let domain = from.email.domain().to_string();
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", m.id)))
        .header(ContentType::TEXT_PLAIN);
    if !c.reply_to.is_empty() {
        let r: Mailbox = c
            .reply_to
            .parse()
            .map_err(|e| bad("mail.reply_to", format!("{e}")))?;
        b = b.reply_to(r);
    }
    b.body(m.body.clone())
        .map_err(|e| bad("message", e.to_string()))
}

async fn send(t: &Transport, c: &MailConfig, m: &Mail) -> Result<(), Failure> {
    let msg = message(c, m)?;
    t.send(msg).await.map(|_| ()).map_err(|e| Failure {
        permanent: e.is_permanent(),
        error: e.to_string(),
    })
}

/// Runs until the desk stops; does nothing (not even start) without mail set up.
pub fn spawn(
    state: Weak<AppState>,
    mut shutdown: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let s = state.upgrade()?;
    let config = s.config.mail.clone();
    drop(s);
    if !config.is_on() {
        return None;
    }
    let t = match transport(&config) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, host = %config.host, "MAIL IS NOT SENT: the relay in [mail] cannot be used; mail waits in the outbox until the desk restarts with a working one");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        // At start every pending mail is due.
        let mut first = true;
        loop {
            let Some(s) = state.upgrade() else { return };
            let store = s.store.clone();
            let clock = s.clock.clone();
            drop(s);
            let now = clock.now_ms();
            let st = store.clone();
            let due_by = if first { u64::MAX } else { now };
            first = false;
            let batch = match crate::state::blocking(move || st.due_mail(due_by, BATCH)).await {
                Ok(Ok(b)) => b,
                failed => {
                    let error = failed.map_or_else(
                        |e| e.to_string(),
                        |r| r.err().map(|e| e.to_string()).unwrap_or_default(),
                    );
                    tracing::warn!(%error, "cannot read the mail outbox; trying again");
                    Vec::new()
                }
            };
            let full = batch.len() == BATCH;
            for mut m in batch {
                let was_due = m.next_at;
                let result = tokio::select! {
                    r = send(&t, &config, &m) => r,
                    _ = shutdown.changed() => return,
                };
                let at = clock.now_ms();
                match result {
                    Ok(()) => {
                        m.sent(at);
                        tracing::info!(mail = %m.id, kind = ?m.kind, ticket = ?m.ticket, "mail sent");
                    }
                    Err(f) => {
                        m.failed(&f.error, f.permanent, at);
                        tracing::warn!(mail = %m.id, attempts = m.attempts, state = ?m.state, error = %f.error, "mail not sent");
                    }
                }
                let st = store.clone();
                let written = crate::state::blocking(move || st.mail_tried(&m, was_due)).await;
                if !matches!(written, Ok(Ok(()))) {
                    tracing::warn!("cannot record a mail's send; it may be sent again");
                }
            }
            if full {
                continue;
            }
            let st = store.clone();
            let next = crate::state::blocking(move || st.next_mail_due())
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
            let wait = next.map_or(EVERY, |at| {
                Duration::from_millis(at.saturating_sub(clock.now_ms())).min(EVERY)
            });
            tokio::select! {
                _ = store.mail_waiting().notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }))
}
