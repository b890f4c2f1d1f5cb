//! Chats and their messages: `chatid_chat`, `chatid_seq_message` (ordered
//! by seq), `chatid_clientid_seq` (resends are no-ops), `chatid_transcript`
//! (an ended chat's messages, packed by the write that ends it), `tokenhash_chatid`
//! (a visitor's token finds only its own chat) and `open_chatid` (what the
//! engine rebuilds at start). A message and its chat's new activity are
//! written in one transaction.

use super::history::{Map, PackedTx, Prefetched};
use super::keys::{chat_client, chat_seq, parse_chat_id, u64_be, TokenHash};
use super::records::{decode, encode, ChatRecord, MessageRecordRef};
use super::reports::{fact_key, ReportTrees};
use super::{abort, tx_done, Store, StoreError};
use crate::domain::chat::{Chat, ChatState, Message};
use crate::domain::report::OpenTime;
use crate::domain::ChatId;
use crate::store::kv::transaction::TransactionalTree;
use crate::store::kv::Transactional;

/// Threads that read the chats of [`Store::read_each`] at once.
pub const READERS: usize = 8;

/// The trees a chat record is written to, its indexes included.
struct ChatTrees<'a> {
    chats: PackedTx<'a>,
    open: &'a TransactionalTree,
    /// The follow-up outbox (`followup_chatid`).
    outbox: &'a TransactionalTree,
    /// The reports' counters: a chat that ends is counted with it.
    report: ReportTrees<'a>,
    /// The business hours, for the counters.
    open_time: OpenTime<'a>,
}

/// Whether `chat` is an ended chat that needs a ticket: it then sits in
/// the follow-up outbox until the ticket maker has made its ticket.
fn needs_follow_up(chat: &Chat) -> bool {
    chat.state == ChatState::Ended && chat.follow_up.is_some()
}

/// Counts all time as open (a new chat never ends in its first write).
fn all_time(
    _: crate::domain::GroupId,
    a: crate::domain::Millis,
    b: crate::domain::Millis,
) -> crate::domain::Millis {
    b.saturating_sub(a)
}

/// Writes the chat record and the open-chats index (an ended chat's lists
/// are written with it by the caller, `chat_lists`). An ended chat that needs a ticket is put in the follow-up outbox in the
/// same transaction (ARCHITECTURE: follow-up is written with its cause);
/// queuing one that has its ticket already makes none.
fn write_chat(t: &ChatTrees<'_>, chat: &Chat) -> super::TxResult<()> {
    t.chats.insert(
        &chat.id.to_bytes()[..],
        encode(&ChatRecord::V1(chat.clone())),
    )?;
    if needs_follow_up(chat) {
        t.outbox.insert(&chat.id.to_bytes()[..], &[][..])?;
    }
    super::reports::count_ended(&t.report, chat, t.open_time)?;
    if chat.state == ChatState::Ended {
        t.open.remove(&chat.id.to_bytes()[..])?;
    } else {
        t.open.insert(&chat.id.to_bytes()[..], &[][..])?;
    }
    Ok(())
}

/// What [`Store::append_message`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// The message and the chat record, with its indexes.
    WithChat,
    /// The message only: the chat record still has the old seq and activity.
    MessageOnly,
}

/// Whether a message from `a` to `b` can be stored alone: the same state
/// family (open or ended), group and people. A change of those is written
/// with the chat record (and, for an end, its lists) in one transaction.
fn same_indexes(a: &Chat, b: &Chat) -> bool {
    (a.state == ChatState::Ended) == (b.state == ChatState::Ended)
        && a.group == b.group
        && a.owner == b.owner
        && a.conference == b.conference
        && a.handoffs.len() == b.handoffs.len()
}

fn write_message(
    messages: &TransactionalTree,
    clients: &TransactionalTree,
    m: &Message,
) -> super::TxResult<()> {
    messages.insert(
        &chat_seq(m.chat_id, m.seq)[..],
        encode(&MessageRecordRef::V1(m)),
    )?;
    if let Some(c) = &m.client_id {
        clients.insert(chat_client(m.chat_id, c), &u64_be(m.seq)[..])?;
    }
    Ok(())
}

impl Store {
    /// Stores a new chat, its visitor token and its first message.
    pub fn insert_chat(
        &self,
        chat: &Chat,
        token: &TokenHash,
        first: &Message,
    ) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let t = &self.trees;
        // A new chat is not ended: its write reads nothing packed.
        let pre = Prefetched::default();
        tx_done(
            (
                &t.chatid_chat,
                &t.open_chatid,
                &t.tokenhash_chatid,
                &t.chatid_seq_message,
                &t.chatid_clientid_seq,
                &t.followup_chatid,
                &t.startedchat_fact,
                &t.day_group_staff_tally,
                &t.hour_group_staff_tally,
            )
                .transaction(
                    |(chats, open, tokens, messages, clients, outbox, facts, days, hours)| {
                        tokens.insert(&token[..], &chat.id.to_bytes()[..])?;
                        let t = ChatTrees {
                            chats: PackedTx::new(Map::Chats, chats, &pre),
                            open,
                            outbox,
                            report: ReportTrees {
                                facts: PackedTx::facts(facts, &pre),
                                days,
                                hours,
                                causes: None,
                            },
                            open_time: &all_time,
                        };
                        write_chat(&t, chat)?;
                        write_message(messages, clients, first)
                    },
                ),
        )
    }

    /// Replaces a chat's record (state, owner, activity).
    pub fn put_chat(&self, chat: &Chat) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        let (_lists_held, lists, ending) = if chat.state == ChatState::Ended {
            let guard = self.list_guard();
            let old = self.chat(chat.id)?;
            let ending = old.as_ref().is_none_or(|o| o.state != ChatState::Ended);
            (
                Some(guard),
                self.plan_lists(old.as_ref(), Some(chat))?,
                ending,
            )
        } else {
            (None, Default::default(), false)
        };
        self.commit_chat(chat, &lists, None, ending)
    }

    /// Writes `chat` (and `message`, when one comes with it) in one
    /// transaction with its indexes, report counters and list keys
    /// (`lists`, planned under the caller's [`Store::list_guard`]); then
    /// splits the blocks that grew and tells who waits on the chat. A
    /// message whose client id is already used aborts it with nothing
    /// written. When the write ends the chat (`ending`), its messages,
    /// `message` with them, are packed into its transcript in the same
    /// transaction (`messages.rs`).
    fn commit_chat(
        &self,
        chat: &Chat,
        lists: &super::chat_lists::ListWrite,
        message: Option<&Message>,
        ending: bool,
    ) -> Result<(), StoreError> {
        let t = &self.trees;
        let loose = if ending {
            Some(super::messages::loose_messages(&self.trees, chat.id)?)
        } else {
            None
        };
        let schedule = self.schedule();
        let open_time = |g, a, b| schedule.open_ms(g, a, b);
        // What the write reads of the packed history: the transcript it
        // adds to, the fact that says the chat is counted.
        let mut pre = Prefetched::default();
        if ending {
            pre = pre.read(t, Map::Transcripts, &chat.id.to_bytes())?;
        }
        if chat.state == ChatState::Ended {
            pre = pre.read(t, Map::Facts, &fact_key(chat.started_at, chat.id))?;
        }
        tx_done(
            (
                &t.chatid_chat,
                &t.open_chatid,
                &t.chatid_seq_message,
                &t.chatid_clientid_seq,
                &t.followup_chatid,
                &t.startedchat_fact,
                &t.day_group_staff_tally,
                &t.hour_group_staff_tally,
                &t.cause_ticketno,
                &t.listpage_keys,
                &t.listblockid_count,
                &t.chatid_transcript,
                &t.logno_message,
                &t.logno_chatseq,
            )
                .transaction(
                    |(
                        chats,
                        open,
                        messages,
                        clients,
                        outbox,
                        facts,
                        days,
                        hours,
                        causes,
                        list_keys,
                        list_counts,
                        transcripts,
                        log,
                        log_index,
                    )| {
                        if let Some(message) = message {
                            if let Some(c) = &message.client_id {
                                if clients.get(chat_client(message.chat_id, c))?.is_some()
                                    || t.log.seq_of_client(message.chat_id, c).is_some()
                                {
                                    return abort(StoreError::ChangedMeanwhile);
                                }
                            }
                        }
                        match (&loose, message) {
                            (Some(loose), last) => loose.pack(
                                chat.id,
                                last,
                                &PackedTx::new(Map::Transcripts, transcripts, &pre),
                                messages,
                                clients,
                                (log, log_index),
                            )?,
                            (None, Some(message)) => write_message(messages, clients, message)?,
                            (None, None) => {}
                        }
                        write_chat(
                            &ChatTrees {
                                chats: PackedTx::new(Map::Chats, chats, &pre),
                                open,
                                outbox,
                                report: ReportTrees {
                                    facts: PackedTx::facts(facts, &pre),
                                    days,
                                    hours,
                                    causes: Some(causes),
                                },
                                open_time: &open_time,
                            },
                            chat,
                        )?;
                        lists.apply(list_keys, list_counts)
                    },
                ),
        )?;
        if loose.is_some() {
            t.log.forget(chat.id);
        }
        self.split_blocks(lists)?;
        self.woken_for(chat);
        if chat.state == ChatState::Ended {
            self.chat_event(super::ChatEvent::Ended(chat.id));
        }
        Ok(())
    }

    /// Wakes the ticket maker when `chat` was just queued for it.
    fn woken_for(&self, chat: &Chat) {
        if needs_follow_up(chat) {
            self.follow_ups.notify_one();
        }
    }

    /// Appends an ordinary message, one that leaves its chat's state, group
    /// and people as they were. The caller has checked that the client id
    /// is unused ([`Store::seq_of_client_id`]): the engine's owner task is
    /// the only writer of a chat's messages.
    ///
    /// It is one write at the end of the message log (`log.rs`) instead of
    /// a transaction over six trees that also rewrites the chat record:
    /// that was most of the cost of a message (docs/performance.md). The
    /// chat record's seq and activity are then the caller's to write later
    /// ([`Store::put_chat_record`]); [`Store::open_chats`] takes the seq
    /// from the messages.
    pub fn append_plain_message(&self, message: &Message) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let t = &self.trees;
        let no = t.log.take_no();
        let key = super::log::log_key(no);
        t.logno_message
            .insert(key, encode(&MessageRecordRef::V1(message)))?;
        t.logno_chatseq.insert(key, super::log::whose(message))?;
        t.log.record(message, no);
        Ok(())
    }

    /// Appends `message` to `chat` (whose `last_seq` is now the message's;
    /// `prev` is the chat as stored before). When the indexes stay, this is
    /// [`Store::append_plain_message`]. A message that changes state, group
    /// or people is written in one transaction with the chat record and its
    /// indexes (a client id already used aborts it with nothing written).
    pub fn append_message(
        &self,
        prev: &Chat,
        chat: &Chat,
        message: &Message,
    ) -> Result<Appended, StoreError> {
        let _w = self.gate.writing();
        if same_indexes(prev, chat) {
            self.append_plain_message(message)?;
            return Ok(Appended::MessageOnly);
        }
        self.room()?;
        let ended = |c: &Chat| c.state == ChatState::Ended;
        let (_lists_held, lists) = if ended(chat) || ended(prev) {
            let guard = self.list_guard();
            (Some(guard), self.plan_lists(Some(prev), Some(chat))?)
        } else {
            (None, Default::default())
        };
        self.commit_chat(chat, &lists, Some(message), ended(chat) && !ended(prev))?;
        Ok(Appended::WithChat)
    }

    /// Rewrites a chat's record whose state, group and people are as
    /// stored (its seq and activity after [`Appended::MessageOnly`]).
    pub fn put_chat_record(&self, chat: &Chat) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.trees.chatid_chat.insert(
            &chat.id.to_bytes()[..],
            encode(&ChatRecord::V1(chat.clone())),
        )?;
        Ok(())
    }

    /// One chat.
    pub fn chat(&self, id: ChatId) -> Result<Option<Chat>, StoreError> {
        self.trees
            .chats()
            .get(&id.to_bytes())?
            .map(|b| decode::<ChatRecord, Chat>("chat", &b))
            .transpose()
    }

    /// `read` of each chat, in the order given, read by up to
    /// [`READERS`] threads at once. A page of a chat list reads 50 records
    /// that lie all over the history; from a disk that does not hold the
    /// folder in the system's cache each is a random read: at a million
    /// chats a deep page with its records read one after another took
    /// 19–22 ms (median), on 8 threads 11.5–13.5 ms (docs/performance.md).
    pub fn read_each<T: Send>(
        &self,
        ids: &[ChatId],
        read: impl Fn(&Store, ChatId) -> Result<T, StoreError> + Sync,
    ) -> Result<Vec<T>, StoreError> {
        if ids.len() < 2 * READERS {
            return ids.iter().map(|&id| read(self, id)).collect();
        }
        let per = ids.len().div_ceil(READERS);
        std::thread::scope(|scope| {
            let read = &read;
            let parts: Vec<_> = ids
                .chunks(per)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|&id| read(self, id))
                            .collect::<Result<Vec<T>, _>>()
                    })
                })
                .collect();
            let mut out = Vec::with_capacity(ids.len());
            for part in parts {
                match part.join() {
                    Ok(r) => out.extend(r?),
                    Err(_) => {
                        return Err(StoreError::Io(
                            "a thread reading chat records stopped".into(),
                        ))
                    }
                }
            }
            Ok(out)
        })
    }

    /// The chat a visitor token opens. A token whose chat was deleted opens
    /// nothing, and its dangling entry is removed here.
    pub fn chat_id_by_token(&self, token: &TokenHash) -> Result<Option<ChatId>, StoreError> {
        let Some(bytes) = self.trees.tokens().get(&token[..])? else {
            return Ok(None);
        };
        let id = parse_chat_id(&bytes)?;
        if self.trees.chats().get(&id.to_bytes())?.is_some() {
            Ok(Some(id))
        } else {
            // Only this cleanup writes: reads pass no gate.
            let _w = self.gate.writing();
            self.trees.tokens().remove(&token[..])?;
            Ok(None)
        }
    }

    /// Every chat, oldest first.
    pub fn all_chats(&self) -> Result<Vec<Chat>, StoreError> {
        let _scan = self.history_scan();
        self.trees
            .chats()
            .iter()
            .map(|kv| decode::<ChatRecord, Chat>("chat", &kv?.1))
            .collect()
    }

    /// Deletes an ended chat: its record and index entries in one
    /// transaction, then its messages. The visitor's token then opens nothing.
    pub fn delete_chat(&self, id: ChatId) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        let chat = self
            .chat(id)?
            .ok_or_else(|| StoreError::Corrupt(format!("chat {id} not found")))?;
        if chat.state != ChatState::Ended {
            return Err(StoreError::ChangedMeanwhile);
        }
        let _lists_held = self.list_guard();
        let lists = self.plan_lists(Some(&chat), None)?;
        let t = &self.trees;
        let key = id.to_bytes();
        let pre = Prefetched::default()
            .read(t, Map::Chats, &key)?
            .read(t, Map::Transcripts, &key)?
            .read(t, Map::Facts, &fact_key(chat.started_at, id))?;
        tx_done(
            (
                &t.chatid_chat,
                &t.open_chatid,
                &t.chatid_rating,
                &t.startedchat_fact,
                &t.day_group_staff_tally,
                &t.hour_group_staff_tally,
                &t.listpage_keys,
                &t.listblockid_count,
                &t.chatid_transcript,
            )
                .transaction(
                    |(
                        chats,
                        open,
                        ratings,
                        facts,
                        days,
                        hours,
                        list_keys,
                        list_counts,
                        transcripts,
                    )| {
                        super::reports::uncount(
                            &ReportTrees {
                                facts: PackedTx::facts(facts, &pre),
                                days,
                                hours,
                                causes: None,
                            },
                            &chat,
                        )?;
                        PackedTx::new(Map::Chats, chats, &pre).remove(&key)?;
                        open.remove(&id.to_bytes()[..])?;
                        ratings.remove(&id.to_bytes()[..])?;
                        PackedTx::new(Map::Transcripts, transcripts, &pre).remove(&key)?;
                        lists.apply(list_keys, list_counts)
                    },
                ),
        )?;
        let mut batch = crate::store::kv::Batch::default();
        for key in t.chatid_seq_message.scan_prefix(id.to_bytes()).keys() {
            batch.remove(key?);
        }
        t.chatid_seq_message.apply_batch(batch)?;
        let mut batch = crate::store::kv::Batch::default();
        for key in t.chatid_clientid_seq.scan_prefix(id.to_bytes()).keys() {
            batch.remove(key?);
        }
        t.chatid_clientid_seq.apply_batch(batch)?;
        let mut batch = crate::store::kv::Batch::default();
        for (_, no) in t.log.entries_after(id, 0) {
            batch.remove(super::log::log_key(no));
        }
        t.logno_message.apply_batch(batch.clone())?;
        t.logno_chatseq.apply_batch(batch)?;
        t.log.forget(id);
        self.chat_event(super::ChatEvent::Deleted(id));
        Ok(())
    }

    /// How many chats have ended: the every-chat list's count, summed
    /// from its blocks' counts (a few thousand small keys at a million
    /// chats). Counting the report facts instead read every fact page at
    /// each start, and sled 0.34 keeps up to ~16,000 leaves read in a row
    /// beyond its cache (each of its 256 cache shards counts an access
    /// only once 64 have queued), so at a million chats the desk started
    /// with 330 MiB more (docs/performance.md).
    pub fn ended_count(&self) -> Result<usize, StoreError> {
        let total = self
            .list_blocks(
                super::chat_lists::ListId::All,
                crate::domain::chat_order::Column::Started,
            )?
            .total();
        usize::try_from(total).map_err(|_| StoreError::Corrupt("the ended chats' count".into()))
    }

    /// The ids of every ended chat, oldest first, read from the report
    /// facts' keys (16 bytes a chat, not the chats themselves).
    pub fn ended_chat_ids(&self) -> Result<Vec<ChatId>, StoreError> {
        let _scan = self.history_scan();
        self.trees
            .facts()
            .iter()
            .map(|kv| {
                let (k, _) = kv?;
                let id: [u8; 16] = k
                    .get(8..24)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| StoreError::Corrupt("a report fact's key".into()))?;
                Ok(ChatId::from_bytes(id))
            })
            .collect()
    }

    /// Every chat not yet ended, oldest first.
    pub fn open_chats(&self) -> Result<Vec<Chat>, StoreError> {
        let ids: Vec<ChatId> = self
            .trees
            .open_chatid
            .iter()
            .map(|kv| parse_chat_id(&kv?.0))
            .collect::<Result<_, StoreError>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.chat(id)? {
                // The message tree is the truth for seq: a crash can come
                // between a message and its chat record.
                Some(mut c) => {
                    c.last_seq = self.newest_seq(id)?;
                    out.push(c)
                }
                None => return Err(StoreError::Corrupt(format!("open chat {id} has no record"))),
            }
        }
        Ok(out)
    }
}
