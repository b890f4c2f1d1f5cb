// The console's live state: my status, my chats with their logs, offers
// and requests, the roster, the queues, the connection. live.js writes it
// (from the staff socket) and screens read it and subscribe; nothing else
// writes it.
import { ChatLog } from '../shared/chatlog.js';

export const state = {
  me: null,
  status: 'offline',
  conn: 'connecting', // connecting | online | down
  /** chat id -> ChatEntry */
  chats: new Map(),
  /** chat id -> { kind: 'offer'|'transfer'|'conference', chat, from, expires } */
  offers: new Map(),
  roster: { staff: [], groups: [] },
  /** group id -> queue_view frame */
  queues: new Map(),
  /** the chat shown in the workspace */
  selected: null,
};

/** One chat I am in: owner, conference member or monitor. */
export class ChatEntry {
  constructor(chat, role) {
    this.id = chat.id;
    this.chat = chat;
    this.role = role; // owner | conference | monitor
    this.log = new ChatLog();
    this.unread = 0;
    this.draft = null; // the visitor's text as they type (sneak peek)
    this.typing = false;
    this.endedBy = null; // set when the chat ended
    this.wrapUpDue = false;
    this.error = ''; // the last refusal of a send, shown by the compose box
    this.openedAt = Date.now();
  }
}

const subscribers = new Set();

/** Calls `fn(topic, id)` on every change; returns the unsubscribe. */
export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

/** Says that `topic` (status, chats, chat, offers, roster, queues, conn) changed. */
export function changed(topic, id) {
  for (const fn of [...subscribers]) {
    try { fn(topic, id); } catch (e) { console.error(e); }
  }
}

/** The chat list in tab order: open ones by when they started, ended last. */
export function chatList() {
  return [...state.chats.values()].sort((a, b) =>
    (a.endedBy ? 1 : 0) - (b.endedBy ? 1 : 0) || (a.chat.started_at || 0) - (b.chat.started_at || 0) || a.openedAt - b.openedAt);
}

/** My roster entry (load and limit). */
export function myEntry() {
  return state.me ? state.roster.staff.find((s) => s.id === state.me.id) : null;
}

/** Offers plus unread messages: what the title and favicon count. */
export function attentionCount() {
  let n = state.offers.size;
  for (const c of state.chats.values()) n += c.unread;
  return n;
}
