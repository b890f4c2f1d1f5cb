//! Making tickets from what causes them: an ended chat from the follow-up
//! outbox (a missed chat, a ticket-making wrap-up reason), an offline
//! message (with its ticket, in one transaction), and the drafts an
//! agent's "create ticket" starts from.

use crate::domain::chat::{Chat, MessageKind};
use crate::domain::offline::OfflineMessage;
use crate::domain::ticket::{self, Note, NoteKind, Priority, Requester, Source, TicketDraft};
use crate::domain::{ChatId, Millis};
use crate::store::{Existing, Made, Store, StoreError};

/// The visitor's question: the chat's first visitor message.
pub(super) fn question(store: &Store, chat: ChatId) -> Result<Option<String>, StoreError> {
    Ok(store
        .messages_after(chat, 0, 4)?
        .into_iter()
        .find(|m| m.kind == MessageKind::Visitor)
        .map(|m| m.body))
}

/// The draft of the ticket following `chat`.
pub(super) fn chat_draft(chat: &Chat, question: Option<String>, source: Source) -> TicketDraft {
    let subject = ticket::subject_from_question(question.as_deref(), &chat.visitor.name);
    // A missed chat's ticket carries the question: nobody has read it yet.
    let first_note = (source == Source::MissedChat)
        .then_some(question)
        .flatten()
        .map(|body| Note {
            at: chat.started_at,
            by: None,
            kind: NoteKind::Requester,
            body,
        });
    TicketDraft {
        subject,
        requester: Requester {
            name: chat.visitor.name.clone(),
            email: chat.visitor.email.clone(),
        },
        group: chat.group,
        source,
        chat: Some(chat.id),
        offline_message: None,
        priority: Priority::Normal,
        assignee: (source == Source::Chat).then_some(chat.owner).flatten(),
        by: None,
        first_note,
    }
}

/// Makes the ticket of one ended chat from the follow-up outbox (none when
/// it has one already). Runs off the async threads.
pub fn follow_up(store: &Store, chat_id: ChatId, now: Millis) -> Result<Made, StoreError> {
    let Some(chat) = store.chat(chat_id)? else {
        store.drop_follow_up(chat_id)?;
        return Ok(Made::Nothing);
    };
    let source = chat.follow_up.unwrap_or(Source::MissedChat);
    let draft = chat_draft(&chat, question(store, chat_id)?, source);
    store.make_ticket(Some(chat_id.to_bytes()), &|existing| match existing {
        Existing::Found(_) => None,
        Existing::Next(n) => Some(draft.clone().into_ticket(n, now)),
    })
}

/// Makes the tickets of every ended chat still in the outbox.
pub fn follow_up_all(store: &Store, now: Millis) -> Result<usize, StoreError> {
    let mut made = 0;
    for chat in store.pending_follow_ups()? {
        if let Made::Created(t) = follow_up(store, chat, now)? {
            tracing::info!(ticket = t.number, %chat, source = ticket::source_name(t.source), "ticket made from a chat");
            made += 1;
        }
    }
    Ok(made)
}

/// Stores an offline message with its ticket: a new one, or, when the
/// message follows a missed chat, that chat's ticket with the message
/// added (one ticket per visitor's request).
pub fn store_offline_message(
    store: &Store,
    m: &OfflineMessage,
    now: Millis,
) -> Result<Made, StoreError> {
    let cause = m.chat.map_or(m.id.to_bytes(), |c| c.to_bytes());
    let chat = match m.chat {
        Some(c) => store.chat(c)?,
        None => None,
    };
    let note = Note {
        at: m.at,
        by: None,
        kind: NoteKind::Requester,
        body: m.message.clone(),
    };
    let draft = TicketDraft {
        subject: ticket::subject_from_question(Some(&m.message), &m.name),
        requester: Requester {
            name: m.name.clone(),
            email: Some(m.email.clone()),
        },
        group: m.group,
        source: if chat.is_some() {
            Source::MissedChat
        } else {
            Source::OfflineMessage
        },
        chat: m.chat,
        offline_message: Some(m.id),
        priority: Priority::Normal,
        assignee: None,
        by: None,
        first_note: Some(note.clone()),
    };
    store.insert_offline_message(m, cause, &|existing| match existing {
        Existing::Next(n) => Some(draft.clone().into_ticket(n, now)),
        Existing::Found(t) => {
            let mut t = *t;
            if t.offline_message == Some(m.id) {
                return None; // the same message again
            }
            t.offline_message = Some(m.id);
            if t.requester.email.is_none() {
                t.requester.email = Some(m.email.clone());
            }
            // At the most notes a ticket keeps, the message is still stored
            // and listed with the offline messages.
            t.add_note(None, NoteKind::Requester, note.body.clone(), now)
                .ok()?;
            Some(t)
        }
    })
}
