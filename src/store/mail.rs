//! The mail outbox: `mailid_mail` (every mail, pending, sent or failed),
//! `due_mailid` (pending mail by due time: what the sender reads, a range
//! scan, never a full one), `ticketno_mailid` (each ticket's mails) and
//! `chatid_mailid` (a chat's one transcript mail).
//!
//! A ticket's mails are queued in the ticket's own transaction with the
//! rule the desk set at start ([`Store::set_ticket_mail`]), so a mail is
//! queued exactly when its event is stored, whatever crashes happen.

use super::keys::{parse_u64_mail, u64_be, u64_mail};
use super::records::{decode, encode};
use super::{abort, tx_done, Store, StoreError, TxResult};
use crate::domain::mail::{Mail, MailState};
use crate::domain::ticket::Ticket;
use crate::domain::{ChatId, MailId, Millis};
use crate::store::kv::transaction::TransactionalTree;
use crate::store::kv::Transactional;
use serde::{Deserialize, Serialize};

/// Versions of the mail record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
enum MailRecord {
    #[serde(rename = "1")]
    V1(Mail),
}

#[derive(Serialize)]
#[serde(tag = "v")]
enum MailRecordRef<'a> {
    #[serde(rename = "1")]
    V1(&'a Mail),
}

impl From<MailRecord> for Mail {
    fn from(r: MailRecord) -> Self {
        match r {
            MailRecord::V1(m) => m,
        }
    }
}

/// The mails a ticket's write sends: given the ticket before (none when it
/// is new) and after. Pure; it may run more than once (transactions retry).
pub type TicketMailRule = Box<dyn Fn(Option<&Ticket>, &Ticket) -> Vec<Mail> + Send + Sync>;

/// The outbox trees inside a transaction.
pub(super) struct MailTrees<'a> {
    pub(super) mails: &'a TransactionalTree,
    pub(super) due: &'a TransactionalTree,
    pub(super) of_ticket: &'a TransactionalTree,
}

impl MailTrees<'_> {
    /// Writes a mail and its index entries.
    pub(super) fn put(&self, m: &Mail) -> TxResult<()> {
        self.mails
            .insert(&m.id.to_bytes()[..], encode(&MailRecordRef::V1(m)))?;
        if m.state == MailState::Pending {
            self.due.insert(&u64_mail(m.next_at, m.id)[..], &[][..])?;
        }
        if let Some(n) = m.ticket {
            self.of_ticket.insert(&u64_mail(n, m.id)[..], &[][..])?;
        }
        Ok(())
    }
}

fn decode_mail(bytes: &[u8]) -> Result<Mail, StoreError> {
    decode::<MailRecord, _>("mail", bytes)
}

/// What [`Store::queue_transcript`] did.
#[derive(Debug)]
pub enum Queued {
    /// The mail is queued.
    New(Mail),
    /// The chat's transcript mail was asked for before: this one.
    Before(Mail),
}

impl Store {
    /// Sets the rule that decides a ticket write's mails (at start; none:
    /// mail is off and nothing is queued).
    pub fn set_ticket_mail(&self, rule: Option<TicketMailRule>) {
        *self
            .ticket_mail
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = rule;
    }

    /// The mails of a ticket's write under the rule set now.
    pub(super) fn mails_of(&self, before: Option<&Ticket>, after: &Ticket) -> Vec<Mail> {
        self.ticket_mail
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|rule| rule(before, after))
            .unwrap_or_default()
    }

    /// Wakes the sender after mail was queued.
    pub(super) fn mail_queued(&self) {
        self.mail_waiting.notify_one();
    }

    /// Notified when mail is queued (the sender waits on it).
    pub fn mail_waiting(&self) -> &tokio::sync::Notify {
        &self.mail_waiting
    }

    /// Queues the transcript mail of a chat, once per chat.
    pub fn queue_transcript(&self, chat: ChatId, mail: &Mail) -> Result<Queued, StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let tr = &self.trees;
        let queued = tx_done(
            (
                &tr.chatid_mailid,
                &tr.mailid_mail,
                &tr.due_mailid,
                &tr.ticketno_mailid,
            )
                .transaction(|(of_chat, mails, due, of_ticket)| {
                    if let Some(id) = of_chat.get(chat.to_bytes())? {
                        return match mails.get(id)? {
                            Some(b) => match decode_mail(&b) {
                                Ok(m) => Ok(Queued::Before(m)),
                                Err(e) => abort(e),
                            },
                            None => abort(StoreError::Corrupt(format!(
                                "the transcript mail of chat {chat} is missing"
                            ))),
                        };
                    }
                    of_chat.insert(&chat.to_bytes()[..], &mail.id.to_bytes()[..])?;
                    MailTrees {
                        mails,
                        due,
                        of_ticket,
                    }
                    .put(mail)?;
                    Ok(Queued::New(mail.clone()))
                }),
        )?;
        if matches!(queued, Queued::New(_)) {
            self.mail_queued();
        }
        Ok(queued)
    }

    /// One mail.
    pub fn mail(&self, id: MailId) -> Result<Option<Mail>, StoreError> {
        match self.trees.mailid_mail.get(id.to_bytes())? {
            None => Ok(None),
            Some(b) => decode_mail(&b).map(Some),
        }
    }

    /// Pending mail due by `now`, soonest first, at most `limit`.
    pub fn due_mail(&self, now: Millis, limit: usize) -> Result<Vec<Mail>, StoreError> {
        let mut out = Vec::new();
        let end = u64_mail(now, MailId::from_bytes([0xff; 16]));
        for k in self.trees.due_mailid.range(..=&end[..]).keys().take(limit) {
            let (_, id) = parse_u64_mail(&k?)?;
            if let Some(m) = self.mail(id)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// When the next pending mail is due.
    pub fn next_mail_due(&self) -> Result<Option<Millis>, StoreError> {
        match self.trees.due_mailid.first()? {
            None => Ok(None),
            Some((k, _)) => Ok(Some(parse_u64_mail(&k)?.0)),
        }
    }

    /// Stores what a send did to `mail` (sent, failed, due again) and moves
    /// its due entry; `was_due` is the due time it had when it was read.
    pub fn mail_tried(&self, mail: &Mail, was_due: Millis) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        let tr = &self.trees;
        tx_done(
            (&tr.mailid_mail, &tr.due_mailid, &tr.ticketno_mailid).transaction(
                |(mails, due, of_ticket)| {
                    due.remove(&u64_mail(was_due, mail.id)[..])?;
                    MailTrees {
                        mails,
                        due,
                        of_ticket,
                    }
                    .put(mail)
                },
            ),
        )
    }

    /// Sends a failed mail again (an admin's retry): `None` for an unknown
    /// id, `Some(false)` when it had not failed.
    pub fn retry_mail(&self, id: MailId, now: Millis) -> Result<Option<(Mail, bool)>, StoreError> {
        let Some(mut m) = self.mail(id)? else {
            return Ok(None);
        };
        if !m.retry(now) {
            return Ok(Some((m, false)));
        }
        self.room()?;
        self.mail_tried(&m, m.next_at)?;
        self.mail_queued();
        Ok(Some((m, true)))
    }

    /// The mails of ticket `number`, oldest first.
    pub fn mails_of_ticket(&self, number: u64) -> Result<Vec<Mail>, StoreError> {
        let mut out = Vec::new();
        for k in self
            .trees
            .ticketno_mailid
            .scan_prefix(u64_be(number))
            .keys()
        {
            let (_, id) = parse_u64_mail(&k?)?;
            if let Some(m) = self.mail(id)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// The newest mails that `keep` accepts, at most `limit`, and how many
    /// are pending and failed in all.
    pub fn mail_log(
        &self,
        keep: impl Fn(&Mail) -> bool,
        limit: usize,
    ) -> Result<(Vec<Mail>, MailCounts), StoreError> {
        let mut out = Vec::new();
        let mut counts = MailCounts::default();
        for kv in self.trees.mailid_mail.iter().rev() {
            let (_, v) = kv?;
            let m = decode_mail(&v)?;
            match m.state {
                MailState::Pending => counts.pending += 1,
                MailState::Failed => counts.failed += 1,
                MailState::Sent => counts.sent += 1,
            }
            if out.len() < limit && keep(&m) {
                out.push(m);
            }
        }
        Ok((out, counts))
    }

    /// Forgets sent mail queued before `before` (housekeeping); pending and
    /// failed mail stays until it is sent or an admin has seen it.
    pub fn prune_sent_mail(&self, before: Millis) -> Result<usize, StoreError> {
        let _w = self.gate.writing();
        let end = crate::domain::MailId::before_time(before);
        let mut gone = 0;
        for kv in self.trees.mailid_mail.range(..end) {
            let (k, v) = kv?;
            let m = decode_mail(&v)?;
            if m.state != MailState::Sent {
                continue;
            }
            let tr = &self.trees;
            tx_done(
                (&tr.mailid_mail, &tr.ticketno_mailid, &tr.chatid_mailid).transaction(
                    |(mails, of_ticket, of_chat)| {
                        mails.remove(&k)?;
                        if let Some(n) = m.ticket {
                            of_ticket.remove(&u64_mail(n, m.id)[..])?;
                        }
                        if let (Some(c), crate::domain::mail::MailKind::Transcript) =
                            (m.chat, m.kind)
                        {
                            of_chat.remove(&c.to_bytes()[..])?;
                        }
                        Ok(())
                    },
                ),
            )?;
            gone += 1;
        }
        Ok(gone)
    }
}

/// How many mails are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailCounts {
    /// Waiting for a send.
    pub pending: usize,
    /// Given up.
    pub failed: usize,
    /// Taken by the relay (kept 30 days).
    pub sent: usize,
}
