//! The reports' counters: `startedchat_fact` (start time + chat id → the
//! chat's [`Fact`], written once, when the chat ends, in the transaction
//! that ends it: the marker that it is counted), and
//! `day_group_staff_tally` / `hour_group_staff_tally` (UTC day or hour +
//! group + agent → [`Tally`]). A rating and a deletion change the same
//! counters in their own transactions; a question an article solved adds
//! to its group's. A report reads a few thousand tallies, never the chats.

use super::history::{Map, PackedTx, Prefetched};
use super::records::{decode, encode};
use super::{tx_done, Store, StoreError, TxResult};
use crate::domain::chat::{Chat, ChatState};
use crate::domain::rating::Score;
use crate::domain::report::{hour_of, parse_tally_key, tally_key, Fact, OpenTime, Tally};
use crate::domain::{ChatId, GroupId, Millis, StaffId};
use crate::store::kv::transaction::TransactionalTree;
use crate::store::kv::Transactional;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// What [`Store::for_each_tally`] calls per tally: (first UTC hour it
/// covers, group, agent, tally).
pub type TallyVisitor<'a> = dyn FnMut(u32, GroupId, Option<StaffId>, &Tally) + 'a;

/// Versions of the fact record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
pub(super) enum FactRecord {
    #[serde(rename = "1")]
    V1(Fact),
}

impl From<FactRecord> for Fact {
    fn from(r: FactRecord) -> Self {
        match r {
            FactRecord::V1(f) => f,
        }
    }
}

/// A fact's key: start time (u64 BE ms), then the chat id.
pub(super) fn fact_key(started_at: Millis, chat: ChatId) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..8].copy_from_slice(&started_at.to_be_bytes());
    k[8..].copy_from_slice(&chat.to_bytes());
    k
}

/// The counter trees inside a transaction.
pub(super) struct ReportTrees<'a> {
    pub facts: super::history::PackedTx<'a>,
    pub days: &'a TransactionalTree,
    pub hours: &'a TransactionalTree,
    /// `cause_ticketno`, where a chat may end: a ticket made from the
    /// chat while it ran is counted when it ends.
    pub causes: Option<&'a TransactionalTree>,
}

/// Changes the day and the hour tally of (`at`, `group`, `agent`) by `f`.
/// An unreadable tally starts again from zero (with a warning) rather than
/// stop a chat from ending.
fn change(
    t: &ReportTrees<'_>,
    at: Millis,
    group: GroupId,
    agent: Option<StaffId>,
    f: &dyn Fn(&mut Tally),
) -> TxResult<()> {
    for (tree, slot) in [(t.days, hour_of(at) / 24), (t.hours, hour_of(at))] {
        let key = tally_key(slot, group, agent);
        let mut tally = match tree.get(key)? {
            None => Tally::default(),
            Some(b) => Tally::decode(&b).unwrap_or_else(|| {
                tracing::warn!(slot, %group, "an unreadable report counter was reset");
                Tally::default()
            }),
        };
        f(&mut tally);
        if tally.is_empty() {
            tree.remove(&key[..])?;
        } else {
            tree.insert(&key[..], tally.encode())?;
        }
    }
    Ok(())
}

/// Counts `chat` if it has just ended and is not counted yet.
pub(super) fn count_ended(t: &ReportTrees<'_>, chat: &Chat, open: OpenTime<'_>) -> TxResult<()> {
    if chat.state != ChatState::Ended {
        return Ok(());
    }
    let key = fact_key(chat.started_at, chat.id);
    if t.facts.get(&key)?.is_some() {
        return Ok(());
    }
    let ticket = match t.causes {
        Some(causes) => causes.get(chat.id.to_bytes())?.is_some(),
        None => false,
    };
    let Some(fact) = Fact::of(chat, None, ticket, open) else {
        return Ok(());
    };
    t.facts
        .insert(&key[..], encode(&FactRecord::V1(fact.clone())))?;
    change(t, fact.started_at, fact.group, fact.agent, &|x| {
        x.apply(&fact, true)
    })
}

/// Takes a deleted chat out of the counters.
pub(super) fn uncount(t: &ReportTrees<'_>, chat: &Chat) -> TxResult<()> {
    let key = fact_key(chat.started_at, chat.id);
    let Some(b) = t.facts.get(&key)? else {
        return Ok(());
    };
    let fact: Fact = decode::<FactRecord, Fact>("report fact", &b)
        .map_err(crate::store::kv::transaction::ConflictableTransactionError::Abort)?;
    t.facts.remove(&key[..])?;
    change(t, fact.started_at, fact.group, fact.agent, &|x| {
        x.apply(&fact, false)
    })
}

/// Counts a ticket just made from an ended chat (one made while the chat
/// runs is counted when it ends, by [`count_ended`]).
pub(super) fn count_ticket(t: &ReportTrees<'_>, started_at: Millis, chat: ChatId) -> TxResult<()> {
    let key = fact_key(started_at, chat);
    let Some(b) = t.facts.get(&key)? else {
        return Ok(());
    };
    let mut fact: Fact = decode::<FactRecord, Fact>("report fact", &b)
        .map_err(crate::store::kv::transaction::ConflictableTransactionError::Abort)?;
    if fact.ticket {
        return Ok(());
    }
    fact.ticket = true;
    t.facts
        .insert(&key[..], encode(&FactRecord::V1(fact.clone())))?;
    change(t, fact.started_at, fact.group, fact.agent, &|x| {
        x.tickets = x.tickets.saturating_add(1)
    })
}

/// Adds a chat's rating to its counters.
pub(super) fn count_rating(
    t: &ReportTrees<'_>,
    started_at: Millis,
    chat: ChatId,
    score: Score,
) -> TxResult<()> {
    let key = fact_key(started_at, chat);
    let Some(b) = t.facts.get(&key)? else {
        return Ok(());
    };
    let mut fact: Fact = decode::<FactRecord, Fact>("report fact", &b)
        .map_err(crate::store::kv::transaction::ConflictableTransactionError::Abort)?;
    if fact.rating.is_some() {
        return Ok(());
    }
    fact.rating = Some(score);
    t.facts
        .insert(&key[..], encode(&FactRecord::V1(fact.clone())))?;
    change(t, fact.started_at, fact.group, fact.agent, &|x| {
        x.rate(Some(score), true)
    })
}

/// Counts every ended chat of a folder written before reports existed
/// (the schema migration to version 2); times in business hours are then
/// counted as all time, the hours of the past being unknown.
pub(super) fn backfill(trees: &super::trees::Trees) -> Result<usize, StoreError> {
    let mut n = 0;
    for kv in trees.chats().iter() {
        let chat: Chat = decode::<super::records::ChatRecord, Chat>("chat", &kv?.1)?;
        if chat.state != ChatState::Ended {
            continue;
        }
        let rating = match trees.chatid_rating.get(chat.id.to_bytes())? {
            Some(b) => Some(super::ratings::decode_rating(&b)?.score),
            None => None,
        };
        let pre =
            Prefetched::default().read(trees, Map::Facts, &fact_key(chat.started_at, chat.id))?;
        tx_done(
            (
                &trees.startedchat_fact,
                &trees.day_group_staff_tally,
                &trees.hour_group_staff_tally,
                &trees.cause_ticketno,
            )
                .transaction(|(facts, days, hours, causes)| {
                    let t = ReportTrees {
                        facts: PackedTx::facts(facts, &pre),
                        days,
                        hours,
                        causes: Some(causes),
                    };
                    count_ended(&t, &chat, &|_, a, b| b - a)?;
                    if let Some(score) = rating {
                        count_rating(&t, chat.started_at, chat.id, score)?;
                    }
                    Ok(())
                }),
        )?;
        n += 1;
    }
    Ok(n)
}

impl Store {
    /// The desk's schedule, for counting times in business hours (the
    /// engine sets it whenever shifts or hours change).
    pub fn set_schedule(&self, schedule: crate::domain::shift::Schedule) {
        if let Ok(mut s) = self.schedule.write() {
            *s = std::sync::Arc::new(schedule);
        }
    }

    /// The schedule as set last.
    pub(super) fn schedule(&self) -> std::sync::Arc<crate::domain::shift::Schedule> {
        match self.schedule.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Adds one question an article solved to its group's counters at `at`.
    pub fn count_solved(&self, group: GroupId, at: Millis) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let t = &self.trees;
        let pre = Prefetched::default();
        tx_done(
            (
                &t.startedchat_fact,
                &t.day_group_staff_tally,
                &t.hour_group_staff_tally,
            )
                .transaction(|(facts, days, hours)| {
                    let t = ReportTrees {
                        facts: PackedTx::facts(facts, &pre),
                        days,
                        hours,
                        causes: None,
                    };
                    change(&t, at, group, None, &|x| {
                        x.solved = x.solved.saturating_add(1)
                    })
                }),
        )
    }

    /// Calls `f(first UTC hour the tally covers, group, agent, tally)` for
    /// the day tallies of `days` and the hour tallies of `hours`.
    pub fn for_each_tally(
        &self,
        days: Range<u32>,
        hours: &[Range<u32>],
        f: &mut TallyVisitor<'_>,
    ) -> Result<(), StoreError> {
        let t = &self.trees;
        let spans = std::iter::once((&t.day_group_staff_tally, days, 24)).chain(
            hours
                .iter()
                .map(|h| (&t.hour_group_staff_tally, h.clone(), 1)),
        );
        for (tree, span, width) in spans {
            if span.is_empty() {
                continue;
            }
            let (from, to) = (span.start.to_be_bytes(), span.end.to_be_bytes());
            for kv in tree.range(from..to) {
                let (k, v) = kv?;
                let (slot, group, agent) = parse_tally_key(&k)
                    .ok_or_else(|| StoreError::Corrupt("a report counter's key".into()))?;
                let tally = Tally::decode(&v)
                    .ok_or_else(|| StoreError::Corrupt("a report counter".into()))?;
                f(slot * width, group, agent, &tally);
            }
        }
        Ok(())
    }

    /// The facts of chats started in `[from, to)` after `after` (a fact's
    /// key from a previous page), in start order, while `f` returns true.
    pub fn for_each_fact(
        &self,
        from: Millis,
        to: Millis,
        after: Option<(Millis, ChatId)>,
        f: &mut dyn FnMut(Fact) -> bool,
    ) -> Result<(), StoreError> {
        let start = match after {
            Some((at, id)) => {
                let mut k = fact_key(at, id).to_vec();
                k.push(0);
                k
            }
            None => from.to_be_bytes().to_vec(),
        };
        let _scan = self.history_scan();
        for kv in self.trees.facts().range(&start, Some(&to.to_be_bytes())) {
            let fact = decode::<FactRecord, Fact>("report fact", &kv?.1)?;
            if !f(fact) {
                break;
            }
        }
        Ok(())
    }
}
