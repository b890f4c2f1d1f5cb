//! The catalogue of sled trees. Names say what the key and value hold
//! (`email_staffid`: key email, value staff id). Every name lives here once;
//! a test checks they are unique so no two fields ever share a tree.

use crate::store::kv::{Db, Tree};

/// Store-wide facts: `schema_version` (u32 BE), `owner_id` (16 bytes).
pub const META: &str = "meta";
/// Staff id → versioned staff record.
pub const STAFFID_STAFF: &str = "staffid_staff";
/// Lower-cased email → staff id (unique index).
pub const EMAIL_STAFFID: &str = "email_staffid";
/// Group id → versioned group record.
pub const GROUPID_GROUP: &str = "groupid_group";
/// Lower-cased group name → group id (unique index).
pub const GROUPNAME_GROUPID: &str = "groupname_groupid";
/// Group id + staff id → empty: the members of each group.
pub const GROUPID_STAFFID: &str = "groupid_staffid";
/// sha256(session token) → versioned session record.
pub const TOKENHASH_SESSION: &str = "tokenhash_session";
/// Staff id + token hash → empty: the sessions of each staff member.
pub const STAFFID_TOKENHASH: &str = "staffid_tokenhash";
/// Absolute expiry (u64 BE ms) + token hash → empty: for the purge job.
pub const EXPIRY_TOKENHASH: &str = "expiry_tokenhash";
/// sha256(setup token) → expiry (u64 BE ms).
pub const TOKENHASH_SETUP: &str = "tokenhash_setup";

/// Chat id → versioned chat record.
pub const CHATID_CHAT: &str = "chatid_chat";
/// Chat id + seq (u64 BE) → versioned message record: a chat's messages in order.
pub const CHATID_SEQ_MESSAGE: &str = "chatid_seq_message";
/// Chat id → versioned transcript record: every message of an ended chat,
/// packed into one value by the write that ends it (its `chatid_seq_message`
/// and `chatid_clientid_seq` keys are removed in that write). sled 0.34
/// keeps memory for every page of keys, so an ended chat costs one key
/// here instead of one or two a message (schema 8).
pub const CHATID_TRANSCRIPT: &str = "chatid_transcript";
/// Chat id + client id → seq: makes a resend with the same client id a no-op.
pub const CHATID_CLIENTID_SEQ: &str = "chatid_clientid_seq";
/// Log number (u64 BE, only growing) → versioned message record: the
/// ordinary messages of open chats, written at the tree's end (`log.rs`);
/// the write that ends a chat packs its entries into its transcript.
pub const LOGNO_MESSAGE: &str = "logno_message";
/// Log number (u64 BE) → chat id (16) + seq (u64 BE) + client id: whose
/// each `logno_message` entry is, read at open without the messages.
pub const LOGNO_CHATSEQ: &str = "logno_chatseq";
/// sha256(visitor chat token) → chat id.
pub const TOKENHASH_CHATID: &str = "tokenhash_chatid";
/// Chat id → empty, for every chat not yet ended: rebuilt into the engine at start.
pub const OPEN_CHATID: &str = "open_chatid";

/// Offline message id (time-ordered) → versioned offline message record.
pub const OFFLINEID_MESSAGE: &str = "offlineid_message";

/// Ticket number (u64 BE) → versioned ticket record.
pub const TICKETNO_TICKET: &str = "ticketno_ticket";
/// Id of what a ticket follows (a chat or an offline message) → ticket number.
pub const CAUSE_TICKETNO: &str = "cause_ticketno";
/// Chat id → empty: ended chats whose ticket is still to be made (the outbox).
pub const FOLLOWUP_CHATID: &str = "followup_chatid";

/// Mail id (time-ordered) → versioned mail record: the mail outbox and its log.
pub const MAILID_MAIL: &str = "mailid_mail";
/// Due time (u64 BE ms) + mail id → empty: pending mail, for the sender.
pub const DUE_MAILID: &str = "due_mailid";
/// Ticket number (u64 BE) + mail id → empty: the mails of each ticket.
pub const TICKETNO_MAILID: &str = "ticketno_mailid";
/// Chat id → mail id: the one transcript mail a chat may send.
pub const CHATID_MAILID: &str = "chatid_mailid";

/// Chat id → versioned rating record: the visitor's one rating of a chat.
pub const CHATID_RATING: &str = "chatid_rating";

/// A packed map's tag (one byte) + a page's first key (the first page:
/// none) → up to 64 of that map's entries, packed: the history of
/// `chatid_transcript`, `tokenhash_chatid` and `startedchat_fact`, moved
/// out of their trees (`history.rs`; `chatid_chat` is read through it too).
pub const MAPFIRSTKEY_PAGE: &str = "mapfirstkey_page";

/// Chat start (u64 BE ms) + chat id → versioned report fact: an ended chat
/// as the reports count it (its presence: counted).
pub const STARTEDCHAT_FACT: &str = "startedchat_fact";
/// UTC day (u32 BE days since the epoch) + group id + staff id (zeros:
/// none) → report counters.
pub const DAY_GROUP_STAFF_TALLY: &str = "day_group_staff_tally";
/// UTC hour (u32 BE hours since the epoch) + group id + staff id →
/// report counters (the edges of a report's range).
pub const HOUR_GROUP_STAFF_TALLY: &str = "hour_group_staff_tally";

/// List + sort column + a page's first order key → the page's order keys,
/// packed: every ended chat in each list it is in (`chat_lists/pages.rs`).
pub const LISTPAGE_KEYS: &str = "listpage_keys";
/// List + sort column + order key → empty: schema 4's list index.
pub const LISTKEY_EMPTY: &str = "listkey_empty";
/// The same keys, the scratch tree of a backfill (sorted there, packed,
/// then dropped; never backed up).
pub const LISTKEY_SCRATCH: &str = "listkey_scratch";
/// `B` + a block's first list key → its size; `E` + list + column + a
/// group or owner id → its keys (u64 BE counts).
pub const LISTBLOCKID_COUNT: &str = "listblockid_count";

/// Canned response id → versioned canned response record.
pub const CANNEDID_CANNED: &str = "cannedid_canned";

/// Article id → versioned knowledge-base article record.
pub const ARTICLEID_ARTICLE: &str = "articleid_article";

/// Shift id → versioned shift record.
pub const SHIFTID_SHIFT: &str = "shiftid_shift";
/// Group id → versioned record of its own hours and closed dates.
pub const GROUPID_HOURS: &str = "groupid_hours";

/// Every tree, in opening order.
pub const ALL: &[&str] = &[
    META,
    STAFFID_STAFF,
    EMAIL_STAFFID,
    GROUPID_GROUP,
    GROUPNAME_GROUPID,
    GROUPID_STAFFID,
    TOKENHASH_SESSION,
    STAFFID_TOKENHASH,
    EXPIRY_TOKENHASH,
    TOKENHASH_SETUP,
    CHATID_CHAT,
    CHATID_SEQ_MESSAGE,
    CHATID_CLIENTID_SEQ,
    LOGNO_MESSAGE,
    LOGNO_CHATSEQ,
    CHATID_TRANSCRIPT,
    TOKENHASH_CHATID,
    OPEN_CHATID,
    OFFLINEID_MESSAGE,
    SHIFTID_SHIFT,
    GROUPID_HOURS,
    TICKETNO_TICKET,
    CAUSE_TICKETNO,
    FOLLOWUP_CHATID,
    MAILID_MAIL,
    DUE_MAILID,
    TICKETNO_MAILID,
    CHATID_MAILID,
    CHATID_RATING,
    CANNEDID_CANNED,
    ARTICLEID_ARTICLE,
    STARTEDCHAT_FACT,
    DAY_GROUP_STAFF_TALLY,
    HOUR_GROUP_STAFF_TALLY,
    LISTPAGE_KEYS,
    LISTBLOCKID_COUNT,
    MAPFIRSTKEY_PAGE,
];

/// Schema 3's chat lists, dropped by the step to 4.
pub const SCHEMA_3_LISTS: &[&str] = &["listkey_filter", "listblock_count"];

/// Schema 5's id indexes (group id or staff id + chat id → empty): every
/// chat a group queued or a staff member took part in. Nothing read them
/// once the chat lists came; the step to 6 leaves them unread.
pub const SCHEMA_5_ID_INDEXES: &[&str] = &["groupid_chatid", "staffid_chatid"];

/// Trees of older schemas: schema 3's chat lists (dropped by the step to
/// 4), schema 4's list index (packed, then left unread, by the step to 5)
/// and schema 5's id indexes (left unread by the step to 6). A backup
/// may hold them; a restore skips them (the migrations build what
/// replaced them from the chats).
pub const RETIRED: &[&str] = &[
    "listkey_filter",
    "listblock_count",
    LISTKEY_EMPTY,
    "groupid_chatid",
    "staffid_chatid",
];

/// The opened trees.
#[derive(Clone)]
pub struct Trees {
    pub(crate) meta: Tree,
    pub(crate) staffid_staff: Tree,
    pub(crate) email_staffid: Tree,
    pub(crate) groupid_group: Tree,
    pub(crate) groupname_groupid: Tree,
    pub(crate) groupid_staffid: Tree,
    pub(crate) tokenhash_session: Tree,
    pub(crate) staffid_tokenhash: Tree,
    pub(crate) expiry_tokenhash: Tree,
    pub(crate) tokenhash_setup: Tree,
    pub(crate) chatid_chat: Tree,
    pub(crate) chatid_seq_message: Tree,
    pub(crate) chatid_clientid_seq: Tree,
    pub(crate) logno_message: Tree,
    pub(crate) logno_chatseq: Tree,
    /// What `logno_message` holds, by chat (loaded by `Store::open`).
    pub(crate) log: std::sync::Arc<super::log::MessageLog>,
    pub(crate) chatid_transcript: Tree,
    pub(crate) tokenhash_chatid: Tree,
    pub(crate) open_chatid: Tree,
    pub(crate) offlineid_message: Tree,
    pub(crate) shiftid_shift: Tree,
    pub(crate) groupid_hours: Tree,
    pub(crate) ticketno_ticket: Tree,
    pub(crate) cause_ticketno: Tree,
    pub(crate) followup_chatid: Tree,
    pub(crate) mailid_mail: Tree,
    pub(crate) due_mailid: Tree,
    pub(crate) ticketno_mailid: Tree,
    pub(crate) chatid_mailid: Tree,
    pub(crate) chatid_rating: Tree,
    pub(crate) cannedid_canned: Tree,
    pub(crate) articleid_article: Tree,
    pub(crate) startedchat_fact: Tree,
    pub(crate) day_group_staff_tally: Tree,
    pub(crate) hour_group_staff_tally: Tree,
    pub(crate) listpage_keys: Tree,
    pub(crate) listblockid_count: Tree,
    pub(crate) mapfirstkey_page: Tree,
}

impl Trees {
    pub(crate) fn open(db: &Db) -> crate::store::kv::Result<Self> {
        Ok(Self {
            meta: db.open_tree(META)?,
            staffid_staff: db.open_tree(STAFFID_STAFF)?,
            email_staffid: db.open_tree(EMAIL_STAFFID)?,
            groupid_group: db.open_tree(GROUPID_GROUP)?,
            groupname_groupid: db.open_tree(GROUPNAME_GROUPID)?,
            groupid_staffid: db.open_tree(GROUPID_STAFFID)?,
            tokenhash_session: db.open_tree(TOKENHASH_SESSION)?,
            staffid_tokenhash: db.open_tree(STAFFID_TOKENHASH)?,
            expiry_tokenhash: db.open_tree(EXPIRY_TOKENHASH)?,
            tokenhash_setup: db.open_tree(TOKENHASH_SETUP)?,
            chatid_chat: db.open_tree(CHATID_CHAT)?,
            chatid_seq_message: db.open_tree(CHATID_SEQ_MESSAGE)?,
            chatid_clientid_seq: db.open_tree(CHATID_CLIENTID_SEQ)?,
            logno_message: db.open_tree(LOGNO_MESSAGE)?,
            logno_chatseq: db.open_tree(LOGNO_CHATSEQ)?,
            log: Default::default(),
            chatid_transcript: db.open_tree(CHATID_TRANSCRIPT)?,
            tokenhash_chatid: db.open_tree(TOKENHASH_CHATID)?,
            open_chatid: db.open_tree(OPEN_CHATID)?,
            offlineid_message: db.open_tree(OFFLINEID_MESSAGE)?,
            shiftid_shift: db.open_tree(SHIFTID_SHIFT)?,
            groupid_hours: db.open_tree(GROUPID_HOURS)?,
            ticketno_ticket: db.open_tree(TICKETNO_TICKET)?,
            cause_ticketno: db.open_tree(CAUSE_TICKETNO)?,
            followup_chatid: db.open_tree(FOLLOWUP_CHATID)?,
            mailid_mail: db.open_tree(MAILID_MAIL)?,
            due_mailid: db.open_tree(DUE_MAILID)?,
            ticketno_mailid: db.open_tree(TICKETNO_MAILID)?,
            chatid_mailid: db.open_tree(CHATID_MAILID)?,
            chatid_rating: db.open_tree(CHATID_RATING)?,
            cannedid_canned: db.open_tree(CANNEDID_CANNED)?,
            articleid_article: db.open_tree(ARTICLEID_ARTICLE)?,
            startedchat_fact: db.open_tree(STARTEDCHAT_FACT)?,
            day_group_staff_tally: db.open_tree(DAY_GROUP_STAFF_TALLY)?,
            hour_group_staff_tally: db.open_tree(HOUR_GROUP_STAFF_TALLY)?,
            listpage_keys: db.open_tree(LISTPAGE_KEYS)?,
            listblockid_count: db.open_tree(LISTBLOCKID_COUNT)?,
            mapfirstkey_page: db.open_tree(MAPFIRSTKEY_PAGE)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_names_are_unique() {
        let mut names = ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
