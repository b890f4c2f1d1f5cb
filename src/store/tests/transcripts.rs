//! Store tests of an ended chat's packed transcript (schema 8): the write
//! that ends a chat packs its messages into one value, every read gives
//! what it gave before, a delete removes it, and the step from schema 7
//! packs chats that ended before it.

use super::super::keys::TokenHash;
use super::super::migrate::VERSION_KEY;
use super::super::Store;
use super::{chat_and_first, open};
use crate::domain::chat::{Chat, ChatState, Message, MessageKind};
use crate::domain::GroupId;

/// A chat of `n` messages written as the engine writes an open chat's
/// (the question, then visitor and agent messages with client ids, the
/// last a whisper), still open.
fn open_chat_of(s: &Store, n: u64, token: TokenHash) -> (Chat, Vec<Message>) {
    let (mut chat, first) = chat_and_first(GroupId::generate());
    s.insert_chat(&chat, &token, &first).expect("insert");
    let mut all = vec![first.clone()];
    for seq in 2..=n {
        let mut m = first.clone();
        m.seq = seq;
        m.body = format!("message {seq}");
        m.client_id = Some(format!("c{seq}"));
        m.kind = match seq {
            s if s == n => MessageKind::Whisper,
            s if s % 2 == 0 => MessageKind::Agent,
            _ => MessageKind::Visitor,
        };
        s.append_plain_message(&m).expect("append");
        all.push(m);
    }
    chat.last_seq = n;
    s.put_chat_record(&chat).expect("record");
    (chat, all)
}

/// The engine's end: a system message written with the ended chat.
fn end(s: &Store, chat: &mut Chat) -> Message {
    let prev = chat.clone();
    chat.state = ChatState::Ended;
    chat.ended_at = Some(99);
    chat.last_seq += 1;
    let mut m = s
        .messages_after(chat.id, 0, 1)
        .expect("read")
        .pop()
        .expect("the question");
    m.seq = chat.last_seq;
    m.kind = MessageKind::System;
    m.client_id = None;
    m.body = "Vera ended the chat".into();
    s.append_message(&prev, chat, &m).expect("end");
    m
}

/// The chat's messages and client ids not packed: keyed ones and those
/// in the message log.
fn loose_keys(s: &Store, chat: &Chat) -> (usize, usize) {
    (
        s.trees
            .chatid_seq_message
            .scan_prefix(chat.id.to_bytes())
            .count()
            + s.trees.log.entries_after(chat.id, 0).len(),
        s.trees
            .chatid_clientid_seq
            .scan_prefix(chat.id.to_bytes())
            .count()
            + s.trees.log.client_count(chat.id),
    )
}

/// The seqs of up to `limit` messages after `after`.
fn seqs_after(s: &Store, chat: &Chat, after: u64, limit: usize) -> Vec<u64> {
    s.messages_after(chat.id, after, limit)
        .expect("read")
        .iter()
        .map(|m| m.seq)
        .collect()
}

/// Every read of the messages, as the engine, the REST transcript and a
/// resume make them.
fn reads(s: &Store, chat: &Chat) -> (Vec<Message>, Vec<Vec<u64>>, u64, u64) {
    let seqs = |after, limit| seqs_after(s, chat, after, limit);
    (
        s.messages_after(chat.id, 0, usize::MAX).expect("read"),
        vec![seqs(0, 1), seqs(3, 2), seqs(5, 100), seqs(7, 100)],
        s.newest_seq(chat.id).expect("read"),
        s.last_visible_seq(chat.id).expect("read"),
    )
}

#[test]
fn the_end_packs_a_chats_messages_and_every_read_stays_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let (mut chat, mut all) = open_chat_of(&s, 6, [1; 32]);
    let (other, _) = open_chat_of(&s, 3, [2; 32]);
    assert_eq!(loose_keys(&s, &chat), (6, 6));
    assert_eq!(s.seq_of_client_id(chat.id, "c4").expect("read"), Some(4));
    all.push(end(&s, &mut chat));

    // One value instead of a key a message and a key a client id.
    assert_eq!(loose_keys(&s, &chat), (0, 0));
    assert!(s
        .trees
        .chatid_transcript
        .contains_key(chat.id.to_bytes())
        .expect("read"));
    let (every, pages, newest, visible) = reads(&s, &chat);
    assert_eq!(every, all);
    assert_eq!(
        pages,
        vec![vec![1], vec![4, 5], vec![6, 7], Vec::<u64>::new()]
    );
    assert_eq!(newest, 7);
    // The whisper (6) is not the visitor's; the end's system message is.
    assert_eq!(visible, 7);
    // An ended chat takes no client's message: its client ids are gone.
    assert_eq!(s.seq_of_client_id(chat.id, "c4").expect("read"), None);
    // The other chat, still open, is as it was.
    assert_eq!(loose_keys(&s, &other), (3, 3));
    assert_eq!(s.messages_after(other.id, 0, 10).expect("read").len(), 3);

    // Reopened: the same; the log on disk holds only the open chat's.
    s.close().expect("close");
    let s = open(dir.path());
    assert_eq!(reads(&s, &chat).0, all);
    assert_eq!(loose_keys(&s, &other), (3, 3));
    assert_eq!(s.trees.logno_message.len(), 2);
    assert_eq!(s.trees.logno_chatseq.len(), 2);

    // A wrap-up after the end rewrites the chat, not its transcript.
    chat.wrap_up = Some("Solved".into());
    s.put_chat(&chat).expect("wrap-up");
    assert_eq!(reads(&s, &chat).0, all);

    s.delete_chat(chat.id).expect("delete");
    assert!(s.messages_after(chat.id, 0, 10).expect("read").is_empty());
    assert_eq!(s.trees.transcripts().count().expect("read"), 0);
}

#[test]
fn schema_8_packs_the_chats_that_ended_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let (mut ended, mut all) = open_chat_of(&s, 5, [1; 32]);
    let (open_one, _) = open_chat_of(&s, 4, [2; 32]);
    // As schema 7 ended a chat: the record only, its messages a key each.
    ended.state = ChatState::Ended;
    ended.last_seq += 1;
    let mut last = all[0].clone();
    last.seq = ended.last_seq;
    last.kind = MessageKind::System;
    last.client_id = None;
    s.append_plain_message(&last).expect("append");
    all.push(last);
    s.put_chat_record(&ended).expect("record");
    s.trees
        .open_chatid
        .remove(ended.id.to_bytes())
        .expect("write");
    s.trees
        .meta
        .insert(VERSION_KEY, 7u32.to_be_bytes())
        .expect("write");
    assert_eq!(loose_keys(&s, &ended), (6, 5));
    s.close().expect("close");

    let s = open(dir.path());
    assert_eq!(loose_keys(&s, &ended), (0, 0));
    assert_eq!(
        s.messages_after(ended.id, 0, usize::MAX).expect("read"),
        all
    );
    assert_eq!(s.newest_seq(ended.id).expect("read"), 6);
    assert_eq!(loose_keys(&s, &open_one), (4, 4));
    assert_eq!(s.open_chats().expect("read")[0].last_seq, 4);
    assert_eq!(s.trees.transcripts().count().expect("read"), 1);
}

/// Ordinary messages go to the message log, those with a change of the
/// chat a key each: every read interleaves them by seq, a client id is
/// found before and after a reopen, and the log keeps no entry of an
/// ended chat.
#[test]
fn logged_and_keyed_messages_read_as_one_chat() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    // 1 keyed (the question), 2..=4 logged.
    let (mut chat, mut all) = open_chat_of(&s, 4, [3; 32]);
    assert_eq!(s.trees.logno_message.len(), 3);
    // 5: an agent joins (a change of the chat: keyed).
    let prev = chat.clone();
    chat.owner = Some(crate::domain::StaffId::generate());
    chat.last_seq = 5;
    let mut joined = all[0].clone();
    joined.seq = 5;
    joined.kind = MessageKind::System;
    joined.client_id = None;
    joined.body = "Vera joined".into();
    s.append_message(&prev, &chat, &joined).expect("join");
    all.push(joined);
    // 6, 7: logged again.
    for seq in 6..=7 {
        let mut m = all[1].clone();
        m.seq = seq;
        m.kind = MessageKind::Visitor;
        m.client_id = Some(format!("c{seq}"));
        m.body = format!("message {seq}");
        s.append_plain_message(&m).expect("append");
        all.push(m);
    }
    chat.last_seq = 7;
    s.put_chat_record(&chat).expect("record");
    let check = |s: &Store| {
        assert_eq!(s.messages_after(chat.id, 0, usize::MAX).expect("read"), all);
        let seqs = |after, limit| seqs_after(s, &chat, after, limit);
        assert_eq!(seqs(3, 3), vec![4, 5, 6]);
        assert_eq!(seqs(4, 1), vec![5]);
        assert_eq!(seqs(5, 1), vec![6]);
        assert_eq!(s.newest_seq(chat.id).expect("read"), 7);
        assert_eq!(s.last_visible_seq(chat.id).expect("read"), 7);
        assert_eq!(s.seq_of_client_id(chat.id, "c3").expect("read"), Some(3));
        assert_eq!(s.seq_of_client_id(chat.id, "c7").expect("read"), Some(7));
        assert_eq!(s.seq_of_client_id(chat.id, "c9").expect("read"), None);
        assert_eq!(s.open_chats().expect("read")[0].last_seq, 7);
    };
    check(&s);
    // A change of the chat carrying a client id already logged is refused.
    let mut again = all[6].clone();
    again.seq = 8;
    let prev = chat.clone();
    let mut moved = chat.clone();
    moved.owner = None;
    assert!(s.append_message(&prev, &moved, &again).is_err());
    s.close().expect("close");
    let s = open(dir.path());
    check(&s);

    all.push(end(&s, &mut chat));
    assert_eq!(s.trees.logno_message.len(), 0);
    assert_eq!(s.trees.logno_chatseq.len(), 0);
    assert_eq!(loose_keys(&s, &chat), (0, 0));
    assert_eq!(s.messages_after(chat.id, 0, usize::MAX).expect("read"), all);
    s.close().expect("close");
    let s = open(dir.path());
    assert_eq!(s.messages_after(chat.id, 0, usize::MAX).expect("read"), all);
    assert_eq!(s.seq_of_client_id(chat.id, "c3").expect("read"), None);
}
