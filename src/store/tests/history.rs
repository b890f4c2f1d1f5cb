//! Store tests of the packed history (schema 9): an ended chat's
//! transcript (packed only before redb), visitor token and report fact
//! read the same once packed
//! into pages, and the writes that come after (a wrap-up, a rating, a
//! delete) land on packed chats as on loose ones.

use super::super::Store;
use super::{chat_and_first, open};
use crate::domain::chat::{Chat, ChatState, Message, MessageKind};
use crate::domain::rating::{Rating, Score};
use crate::domain::report::Fact;
use crate::domain::{ChatId, GroupId};

/// Ends a new chat of two messages; returns it and its messages.
fn ended_chat(s: &Store, token: [u8; 32], started: u64) -> (Chat, Vec<Message>) {
    let (mut chat, first) = chat_and_first(GroupId::generate());
    chat.started_at = started;
    s.insert_chat(&chat, &token, &first).expect("insert");
    let prev = chat.clone();
    chat.state = ChatState::Ended;
    chat.ended_at = Some(started + 60_000);
    chat.last_seq = 2;
    let mut last = first.clone();
    last.seq = 2;
    last.kind = MessageKind::System;
    last.client_id = None;
    last.body = "Vera ended the chat".into();
    s.append_message(&prev, &chat, &last).expect("end");
    (chat, vec![first, last])
}

fn facts(s: &Store) -> Vec<Fact> {
    let mut all = Vec::new();
    s.for_each_fact(0, u64::MAX, None, &mut |f| {
        all.push(f);
        true
    })
    .expect("facts");
    all
}

/// Every read of the history, as the desk makes them.
fn reads(s: &Store, chats: &[(Chat, Vec<Message>)]) -> impl PartialEq + std::fmt::Debug {
    let per_chat: Vec<_> = chats
        .iter()
        .map(|(c, _)| {
            (
                s.chat(c.id).expect("chat"),
                s.messages_after(c.id, 0, usize::MAX).expect("messages"),
                s.newest_seq(c.id).expect("seq"),
            )
        })
        .collect();
    let tokens: Vec<Option<ChatId>> = (0..chats.len() as u8 + 1)
        .map(|i| s.chat_id_by_token(&[i; 32]).expect("token"))
        .collect();
    (
        per_chat,
        tokens,
        facts(s),
        s.ended_count().expect("count"),
        s.ended_chat_ids().expect("ids"),
        s.all_chats().expect("all").len(),
    )
}

#[test]
fn packed_chats_read_the_same_and_take_later_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    // Enough chats for several pages (4 entries a page in tests).
    let chats: Vec<_> = (0..11u8)
        .map(|i| ended_chat(&s, [i; 32], 1_000 + u64::from(i)))
        .collect();
    let (open_one, first) = chat_and_first(GroupId::generate());
    s.insert_chat(&open_one, &[200; 32], &first)
        .expect("insert");
    let before = reads(&s, &chats);
    assert_eq!(s.ended_count().expect("count"), 11);

    let moved = s.pack_history().expect("pack");
    // Tokens and facts, and the open chat's token; the chat records and
    // (since redb) the transcripts stay a key each.
    assert_eq!(moved, 11 * 2 + 1);
    assert_eq!(s.trees.chatid_chat.len(), 12);
    assert_eq!(s.trees.chatid_transcript.len(), 11);
    assert_eq!(reads(&s, &chats), before);
    // Transcripts packed before (on sled, schema 9) read the same.
    let transcripts = super::super::history::pack(
        super::super::history::Map::Transcripts,
        &s.trees.chatid_transcript,
        &s.trees.mapfirstkey_page,
    )
    .expect("pack");
    assert_eq!(transcripts, 11);
    assert!(s.trees.chatid_transcript.is_empty());
    assert!(s.trees.tokenhash_chatid.is_empty());
    assert!(s.trees.startedchat_fact.is_empty());
    assert_eq!(reads(&s, &chats), before);
    assert_eq!(
        s.chat_id_by_token(&[200; 32]).expect("token"),
        Some(open_one.id)
    );

    // A wrap-up after the end, on a packed chat.
    let mut wrapped = chats[3].0.clone();
    wrapped.wrap_up = Some("Solved".into());
    s.put_chat(&wrapped).expect("wrap-up");
    assert_eq!(s.chat(wrapped.id).expect("chat"), Some(wrapped.clone()));
    assert_eq!(facts(&s).len(), 11, "counted once");

    // A rating of a packed chat changes its packed fact.
    let rated = &chats[5].0;
    let rating = Rating {
        chat: rated.id,
        score: Score::Good,
        comment: None,
        at: 5,
        group: rated.group,
        agent: None,
    };
    assert_eq!(s.rate_chat(&rating).expect("rate"), Ok(()));
    let fact = facts(&s).into_iter().find(|f| f.chat == rated.id);
    assert_eq!(fact.expect("its fact").rating, Some(Score::Good));

    // A packed chat deleted: gone from every read, its token opens nothing.
    let gone = &chats[7].0;
    s.delete_chat(gone.id).expect("delete");
    let gone_reads = |s: &Store| {
        (
            s.chat(gone.id).expect("chat"),
            s.messages_after(gone.id, 0, 10).expect("messages").len(),
            s.chat_id_by_token(&[7; 32]).expect("token"),
            s.ended_count().expect("count"),
            s.ended_chat_ids().expect("ids").contains(&gone.id),
        )
    };
    assert_eq!(gone_reads(&s), (None, 0, None, 10, false));

    // Packed again (and again at the next open): all the same.
    let after = reads(&s, &chats);
    s.pack_history().expect("pack");
    assert_eq!(reads(&s, &chats), after);
    s.close().expect("close");
    let s = open(dir.path());
    assert_eq!(reads(&s, &chats), after);
    assert_eq!(gone_reads(&s), (None, 0, None, 10, false));
    assert_eq!(s.chat(wrapped.id).expect("chat"), Some(wrapped));
    assert!(s.trees.startedchat_fact.is_empty());
    assert_eq!(s.open_chats().expect("open").len(), 1);
}

/// `read_each` reads many chats on several threads and gives each result
/// in the order asked, a missing chat as `None`, as one read after
/// another would.
#[test]
fn read_each_keeps_the_order_asked_on_many_threads() {
    use crate::store::chats::READERS;
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let mut ids: Vec<ChatId> = (0..5 * READERS as u64)
        .map(|i| ended_chat(&s, [(i % 250) as u8; 32], 1_000 + i).0.id)
        .collect();
    // Newest first, and two ids that were never stored among them.
    ids.reverse();
    ids.insert(3, ChatId::generate());
    ids.push(ChatId::generate());
    let one_by_one: Vec<Option<Chat>> = ids.iter().map(|&id| s.chat(id).expect("chat")).collect();
    assert!(ids.len() >= 2 * READERS, "takes the threaded path");
    assert_eq!(s.read_each(&ids, Store::chat).expect("read"), one_by_one);
    assert_eq!(one_by_one.iter().filter(|c| c.is_none()).count(), 2);
    assert_eq!(one_by_one[0].as_ref().map(|c| c.id), Some(ids[0]));
    // A failing read fails the whole call.
    let failed = s.read_each(&ids, |s, id| match s.chat(id)? {
        Some(c) => Ok(c),
        None => Err(crate::store::StoreError::Corrupt("missing".into())),
    });
    assert!(
        matches!(&failed, Err(crate::store::StoreError::Corrupt(m)) if m == "missing"),
        "{failed:?}"
    );
}
