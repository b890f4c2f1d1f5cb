//! Tickets: `ticketno_ticket` (number → record), `cause_ticketno` (the chat
//! or offline message a ticket follows → its number: one ticket per cause),
//! `followup_chatid` (ended chats whose ticket is still to be made: the
//! durable outbox, written in the transaction that ends the chat) and the
//! next number in `meta`. A ticket, its cause and the next number change in
//! one transaction, so numbers are gap-free and never reused and a cause
//! never makes two tickets, whatever crashes and retries happen.
//!
//! Lists are served from an in-memory index of compact rows
//! ([`TicketRow`]), built at open and kept in step with every write under
//! one lock; the trees stay the truth.

use super::history::{Map, Prefetched};
use super::keys::{parse_chat_id, parse_u64, u64_be};
use super::mail::MailTrees;
use super::records::{decode, encode};
use super::{abort, tx_done, Store, StoreError, TxResult};
use crate::domain::offline::OfflineMessage;
use crate::domain::ticket::{Ticket, FIRST_NUMBER};
use crate::domain::ticket_list::{TicketRow, TicketRows};
use crate::domain::ChatId;
use crate::store::kv::transaction::TransactionalTree;
use crate::store::kv::Transactional;
use serde::{Deserialize, Serialize};

const NEXT_KEY: &[u8] = b"ticket_next";

/// Versions of the ticket record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
enum TicketRecord {
    #[serde(rename = "1")]
    V1(Ticket),
}

#[derive(Serialize)]
#[serde(tag = "v")]
enum TicketRecordRef<'a> {
    #[serde(rename = "1")]
    V1(&'a Ticket),
}

impl From<TicketRecord> for Ticket {
    fn from(r: TicketRecord) -> Self {
        match r {
            TicketRecord::V1(t) => t,
        }
    }
}

/// The in-memory rows of every ticket (see [`TicketRows`]).
#[derive(Default)]
pub(super) struct TicketIndex(TicketRows);

impl TicketIndex {
    fn insert(&mut self, row: TicketRow) {
        self.0.put(row);
    }
}

/// What a ticket maker is given: the ticket its cause already has, or the
/// number a new one gets.
pub enum Existing {
    /// The cause's ticket.
    Found(Box<Ticket>),
    /// No ticket yet: this is the next number.
    Next(u64),
}

/// What [`Store::make_ticket`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Made {
    /// A new ticket.
    Created(Ticket),
    /// The cause's ticket, as now stored (possibly changed).
    Existing(Ticket),
    /// The maker wanted none.
    Nothing,
}

/// A ticket-making closure (it may run more than once: transactions retry).
pub type Maker<'a> = &'a dyn Fn(Existing) -> Option<Ticket>;

struct TicketTrees<'a> {
    meta: &'a TransactionalTree,
    causes: &'a TransactionalTree,
    outbox: &'a TransactionalTree,
    write: TicketWrite<'a>,
}

/// What writing a ticket touches: its record and the mails it queues.
struct TicketWrite<'a> {
    tickets: &'a TransactionalTree,
    mail: MailTrees<'a>,
    /// The mails a write queues (before, after).
    mails_of: &'a dyn Fn(Option<&Ticket>, &Ticket) -> Vec<crate::domain::mail::Mail>,
}

impl TicketWrite<'_> {
    /// Writes a ticket and queues the mails its change sends.
    fn put(&self, before: Option<&Ticket>, t: &Ticket) -> TxResult<()> {
        self.tickets
            .insert(&u64_be(t.number)[..], encode(&TicketRecordRef::V1(t)))?;
        for m in (self.mails_of)(before, t) {
            self.mail.put(&m)?;
        }
        Ok(())
    }
}

fn read_ticket(tree: &TransactionalTree, number: u64) -> TxResult<Option<Ticket>> {
    match tree.get(u64_be(number))? {
        None => Ok(None),
        Some(b) => match decode::<TicketRecord, Ticket>("ticket", &b) {
            Ok(t) => Ok(Some(t)),
            Err(e) => abort(e),
        },
    }
}

/// Makes (or finds and updates) the ticket of `cause` inside a transaction.
fn make_in(t: &TicketTrees<'_>, cause: Option<[u8; 16]>, maker: Maker<'_>) -> TxResult<Made> {
    if let Some(c) = cause {
        t.outbox.remove(&c[..])?;
        if let Some(n) = t.causes.get(c)? {
            let n = match parse_u64(&n) {
                Ok(n) => n,
                Err(e) => return abort(e),
            };
            let Some(found) = read_ticket(t.write.tickets, n)? else {
                return abort(StoreError::Corrupt(format!(
                    "ticket {n} of a cause is missing"
                )));
            };
            return Ok(match maker(Existing::Found(Box::new(found.clone()))) {
                Some(changed) => {
                    t.write.put(Some(&found), &changed)?;
                    Made::Existing(changed)
                }
                None => Made::Existing(found),
            });
        }
    }
    let next = match t.meta.get(NEXT_KEY)? {
        None => FIRST_NUMBER,
        Some(b) => match parse_u64(&b) {
            Ok(n) => n,
            Err(e) => return abort(e),
        },
    };
    let Some(mut ticket) = maker(Existing::Next(next)) else {
        return Ok(Made::Nothing);
    };
    ticket.number = next;
    t.write.put(None, &ticket)?;
    t.meta.insert(NEXT_KEY, &u64_be(next + 1)[..])?;
    if let Some(c) = cause {
        t.causes.insert(&c[..], &u64_be(next)[..])?;
    }
    Ok(Made::Created(ticket))
}

impl Store {
    /// Reads every ticket into the list index (at open).
    pub(super) fn load_ticket_index(
        trees: &super::trees::Trees,
    ) -> Result<TicketIndex, StoreError> {
        let mut rows = Vec::new();
        for kv in trees.ticketno_ticket.iter() {
            let (_, v) = kv?;
            let t: Ticket = decode::<TicketRecord, _>("ticket", &v)?;
            rows.push(TicketRow::of(&t));
        }
        Ok(TicketIndex(TicketRows::from_rows(rows)))
    }

    fn index_write(&self) -> std::sync::RwLockWriteGuard<'_, TicketIndex> {
        self.ticket_index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn indexed(&self, index: &mut TicketIndex, made: &Made) {
        if let Made::Created(t) | Made::Existing(t) = made {
            index.insert(TicketRow::of(t));
        }
    }

    /// Makes the ticket of `cause` (a chat's or an offline message's id;
    /// none for a ticket of its own) with `maker`, or hands the existing
    /// one to it, in one transaction with the next number. Clears the
    /// cause's entry in the follow-up outbox.
    pub fn make_ticket(
        &self,
        cause: Option<[u8; 16]>,
        maker: Maker<'_>,
    ) -> Result<Made, StoreError> {
        self.make_ticket_with(None, cause, maker)
    }

    /// Stores an offline message and makes its ticket (or adds it to the
    /// ticket of the chat it follows: `cause`) in one transaction.
    pub fn insert_offline_message(
        &self,
        m: &OfflineMessage,
        cause: [u8; 16],
        maker: Maker<'_>,
    ) -> Result<Made, StoreError> {
        self.make_ticket_with(Some(m), Some(cause), maker)
    }

    /// The one ticket-making transaction, with the offline message the
    /// ticket comes from when there is one.
    fn make_ticket_with(
        &self,
        offline_message: Option<&OfflineMessage>,
        cause: Option<[u8; 16]>,
        maker: Maker<'_>,
    ) -> Result<Made, StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let mut index = self.index_write();
        let tr = &self.trees;
        let record = offline_message.map(|m| (m.id.to_bytes(), super::offline::record(m)));
        // A ticket made from a chat counts in the reports: its fact is
        // found by the chat's start.
        let chat_started = match cause {
            Some(c) => self
                .chat(ChatId::from_bytes(c))?
                .map(|c| (c.id, c.started_at)),
            None => None,
        };
        let pre = match chat_started {
            Some((chat, started)) => Prefetched::default().read(
                tr,
                Map::Facts,
                &super::reports::fact_key(started, chat),
            )?,
            None => Prefetched::default(),
        };
        let made = tx_done(
            (
                &tr.meta,
                &tr.ticketno_ticket,
                &tr.cause_ticketno,
                &tr.followup_chatid,
                &tr.offlineid_message,
                &tr.mailid_mail,
                &tr.due_mailid,
                &tr.ticketno_mailid,
                &tr.startedchat_fact,
                &tr.day_group_staff_tally,
                &tr.hour_group_staff_tally,
            )
                .transaction(
                    |(
                        meta,
                        tickets,
                        causes,
                        outbox,
                        offline,
                        mails,
                        due,
                        of_ticket,
                        facts,
                        days,
                        hours,
                    )| {
                        if let Some((id, bytes)) = &record {
                            offline.insert(&id[..], bytes.clone())?;
                        }
                        let made = make_in(
                            &TicketTrees {
                                meta,
                                causes,
                                outbox,
                                write: TicketWrite {
                                    tickets,
                                    mail: MailTrees {
                                        mails,
                                        due,
                                        of_ticket,
                                    },
                                    mails_of: &|before, after| self.mails_of(before, after),
                                },
                            },
                            cause,
                            maker,
                        )?;
                        if let (Made::Created(t), Some((chat, started))) = (&made, chat_started) {
                            if t.chat == Some(chat) {
                                let report = super::reports::ReportTrees {
                                    facts: super::history::PackedTx::facts(facts, &pre),
                                    days,
                                    hours,
                                    causes: None,
                                };
                                super::reports::count_ticket(&report, started, chat)?;
                            }
                        }
                        Ok(made)
                    },
                ),
        )?;
        self.indexed(&mut index, &made);
        if !matches!(made, Made::Nothing) {
            self.mail_queued();
        }
        Ok(made)
    }

    /// One ticket.
    pub fn ticket(&self, number: u64) -> Result<Option<Ticket>, StoreError> {
        match self.trees.ticketno_ticket.get(u64_be(number))? {
            None => Ok(None),
            Some(b) => decode::<TicketRecord, _>("ticket", &b).map(Some),
        }
    }

    /// The ticket following `cause` (a chat's or offline message's id).
    pub fn ticket_of(&self, cause: [u8; 16]) -> Result<Option<Ticket>, StoreError> {
        match self.trees.cause_ticketno.get(cause)? {
            None => Ok(None),
            Some(n) => self.ticket(parse_u64(&n)?),
        }
    }

    /// Changes ticket `number` with `change` (which says whether it changed
    /// anything) under the index lock; `None` when there is no such ticket.
    pub fn update_ticket<E: From<StoreError>>(
        &self,
        number: u64,
        change: impl FnOnce(&mut Ticket) -> Result<bool, E>,
    ) -> Result<Option<Ticket>, E> {
        let _w = self.gate.writing();
        let mut index = self.index_write();
        let Some(before) = self.ticket(number)? else {
            return Ok(None);
        };
        let mut t = before.clone();
        if change(&mut t)? {
            self.room()?;
            let tr = &self.trees;
            tx_done(
                (
                    &tr.ticketno_ticket,
                    &tr.mailid_mail,
                    &tr.due_mailid,
                    &tr.ticketno_mailid,
                )
                    .transaction(|(tickets, mails, due, of_ticket)| {
                        TicketWrite {
                            tickets,
                            mail: MailTrees {
                                mails,
                                due,
                                of_ticket,
                            },
                            mails_of: &|b, a| self.mails_of(b, a),
                        }
                        .put(Some(&before), &t)
                    }),
            )?;
            index.insert(TicketRow::of(&t));
            self.mail_queued();
        }
        Ok(Some(t))
    }

    /// Runs `f` over the list index.
    pub fn with_ticket_rows<T>(&self, f: impl FnOnce(&TicketRows) -> T) -> T {
        let index = self
            .ticket_index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&index.0)
    }

    /// Ended chats whose ticket is still to be made, oldest first.
    pub fn pending_follow_ups(&self) -> Result<Vec<ChatId>, StoreError> {
        self.trees
            .followup_chatid
            .iter()
            .keys()
            .map(|k| parse_chat_id(&k?))
            .collect()
    }

    /// Drops a chat from the follow-up outbox (its chat is gone).
    pub fn drop_follow_up(&self, chat: ChatId) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.trees.followup_chatid.remove(chat.to_bytes())?;
        Ok(())
    }

    /// Wakes whoever waits for follow-ups (the ticket maker).
    pub fn follow_ups_waiting(&self) -> &tokio::sync::Notify {
        &self.follow_ups
    }
}
