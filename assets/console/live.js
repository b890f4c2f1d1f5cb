// THE staff-socket client: the only code that opens /api/ws/staff. It says
// hello (the desk greets), resumes each chat from its log's last seq,
// dispatches frames by type through one table into the store, matches
// answers (`done`, `error`) to the requests that asked, resends pending
// messages after a reconnect, backs off with jitter, shows a banner after
// repeated failures and retries at once when the browser is back online
// or the tab is shown again (a laptop waking up).
import { Added, backoff, newClientId } from '../shared/chatlog.js';
import { state, changed, ChatEntry } from './store.js';
import { announce } from './dom.js';

let ws = null;
let attempts = 0;
let retryTimer = null;
let stopped = true;
/** "type:chat" -> [{resolve, reject}] awaiting done/error, oldest first */
const waiting = new Map();
const STATUS_WORDS = { available: 'available', busy: 'busy', away: 'away', offline: 'offline', rona: 'not responding (RONA)' };

function key(type, chatId) { return `${type}:${chatId || ''}`; }

function settle(type, chatId, ok, value) {
  const list = waiting.get(key(type, chatId));
  if (!list || !list.length) return false;
  const w = list.shift();
  if (!list.length) waiting.delete(key(type, chatId));
  if (ok) w.resolve(value); else w.reject(value);
  return true;
}

function raw(frame) {
  if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(frame)); return true; }
  return false;
}

/** Sends a request; resolves on its `done`, rejects with the error frame. */
export function request(frame) {
  return new Promise((resolve, reject) => {
    if (!raw(frame)) { reject({ code: 'offline', message: 'Not connected to the desk; try again in a moment.' }); return; }
    const k = key(frame.type, frame.chat_id);
    if (!waiting.has(k)) waiting.set(k, []);
    waiting.get(k).push({ resolve, reject });
  });
}

/** Sends a chat message (or whisper): shown pending until acknowledged. */
export function sendMessage(chatId, body, whisper) {
  const c = state.chats.get(chatId);
  if (!c) return;
  const clientId = newClientId('a');
  const entry = c.log.send(clientId, body, Date.now());
  entry.whisper = !!whisper;
  c.error = '';
  raw({ type: 'message', chat_id: chatId, client_id: clientId, body, whisper: !!whisper });
  changed('chat', chatId);
}

/** Typing started or stopped in a chat (fire and forget). */
export function typing(chatId, active) { raw({ type: 'typing', chat_id: chatId, active }); }

function ensureChat(chat, role) {
  let c = state.chats.get(chat.id);
  if (!c) { c = new ChatEntry(chat, role); state.chats.set(chat.id, c); }
  else { c.chat = { ...c.chat, ...chat }; c.role = role; if (chat.state !== 'ended') { c.endedBy = null; } }
  return c;
}

function resume(c) {
  raw({ type: 'resume', chat_id: c.id, last_seq: c.log.lastSeq });
  // Whatever the desk had not acknowledged goes again, same client ids:
  // the desk stores each once.
  for (const p of c.log.pendingList()) {
    raw({ type: 'message', chat_id: c.id, client_id: p.client_id, body: p.body, whisper: !!p.whisper });
  }
}

const dispatch = {
  hello(f) {
    state.me = f.staff;
    state.status = f.status;
    const listed = new Set(f.chats.map((c) => c.id));
    for (const chat of f.chats) {
      const c = ensureChat(chat, chat.owner === f.staff.id ? 'owner' : 'conference');
      resume(c);
    }
    // Chats that went on without us while we were away (ended, handed on).
    for (const c of state.chats.values()) {
      if (!listed.has(c.id) && !c.endedBy) {
        if (c.role === 'monitor') raw({ type: 'monitor', chat_id: c.id });
        else { c.endedBy = { by: 'gone' }; c.chat.state = 'ended'; }
      }
    }
    state.offers = new Map(f.offers.map((o) => [o.id, { kind: 'offer', chat: o, expires: o.offer_expires_at }]));
    state.conn = 'online';
    attempts = 0;
    changed('all');
  },
  status(f) {
    state.status = f.status;
    if (f.by) announce(`${f.by.name} set your status to ${STATUS_WORDS[f.status] || f.status}.`);
    else if (f.schedule) {
      const shift = f.schedule.shift ? `Shift ${f.schedule.shift}` : 'Your shift';
      announce(f.schedule.on ? `${shift} started: you are available.` : `${shift} ended: you are offline.`);
    } else if (f.status === 'rona') announce('You did not accept a chat in time, so no more are offered (RONA). Choose “I’m back” when you are.');
    changed('status');
  },
  offer(f) {
    state.offers.set(f.chat.id, { kind: 'offer', chat: f.chat, expires: f.chat.offer_expires_at });
    changed('offers');
  },
  request(f) {
    state.offers.set(f.chat.id, { kind: f.request, chat: f.chat, from: f.from, expires: f.expires_at });
    changed('offers');
  },
  offer_withdrawn(f) {
    state.offers.delete(f.chat_id);
    changed('offers');
  },
  request_dropped(f) {
    const c = state.chats.get(f.chat_id);
    const who = c ? c.chat.visitor.name : 'the chat';
    announce(f.reason === 'declined' ? `Your ${f.request} request for ${who} was declined.` : `Nobody accepted your ${f.request} request for ${who} in time; the chat stays with you.`);
    changed('chat', f.chat_id);
  },
  chat_joined(f) {
    state.offers.delete(f.chat.id);
    const role = f.chat.owner === state.me?.id ? 'owner' : (state.chats.get(f.chat.id)?.role === 'monitor' ? 'monitor' : 'conference');
    ensureChat(f.chat, role);
    if (!state.selected) state.selected = f.chat.id;
    changed('chats');
  },
  chat_left(f) {
    const c = state.chats.get(f.chat_id);
    if (c && !c.endedBy) state.chats.delete(f.chat_id);
    if (state.selected === f.chat_id) state.selected = null;
    changed('chats');
  },
  message(f) {
    const m = f.message;
    const c = state.chats.get(m.chat_id);
    if (!c) return;
    if (c.log.add(m) === Added.NEW) {
      if (m.kind === 'visitor') { c.draft = null; c.typing = false; }
      const mine = m.author && state.me && m.author === state.me.id;
      if (!mine && (state.selected !== c.id || document.hidden || !location.hash.startsWith('#/workspace'))) c.unread += 1;
      if (m.kind === 'visitor' && !mine) announceMessage(c, m);
    }
    changed('chat', c.id);
  },
  ack(f) {
    const c = state.chats.get(f.chat_id);
    if (c) { c.log.ack(f.client_id); changed('chat', c.id); }
  },
  typing(f) {
    const c = state.chats.get(f.chat_id);
    if (!c || f.from !== 'visitor') return;
    c.typing = f.active;
    c.draft = f.active ? f.text : null;
    changed('typing', c.id);
  },
  chat_ended(f) {
    const c = state.chats.get(f.chat_id);
    state.offers.delete(f.chat_id);
    if (c) {
      c.endedBy = f.ended_by;
      c.chat.state = 'ended';
      c.wrapUpDue = f.ended_by.by === 'visitor' && c.role === 'owner';
      c.draft = null; c.typing = false;
      if (f.ended_by.by === 'visitor') announce(`${c.chat.visitor.name} ended the conversation.`);
    }
    changed('chats');
  },
  queue_view(f) { state.queues.set(f.group, f); changed('queues'); },
  roster(f) { state.roster = f; changed('roster'); },
  queue_switched(f) {
    const by = f.by ? ` by ${f.by.name}` : '';
    announce(`The ${f.name} queue was switched ${f.online ? 'online' : 'offline'}${by}.`);
  },
  done(f) { settle(f.request, f.chat_id, true, f); },
  error(f) {
    if (f.request === 'message' && f.chat_id) {
      const c = state.chats.get(f.chat_id);
      if (c) { c.error = f.message; changed('chat', c.id); }
      return;
    }
    if (f.request && settle(f.request, f.chat_id, false, f)) return;
    if (f.code !== 'rate_limited') announce(f.message);
  },
};

function announceMessage(c, m) {
  announce(`${c.chat.visitor.name}: ${m.body.slice(0, 140)}`);
  if (document.hidden && 'Notification' in window && Notification.permission === 'granted') {
    try { new Notification(`${c.chat.visitor.name}`, { body: m.body.slice(0, 120), tag: c.id }); } catch (e) { /* not allowed */ }
  }
}

function schedule() {
  clearTimeout(retryTimer);
  const wait = backoff(attempts);
  attempts += 1;
  if (attempts >= 2) { state.conn = 'down'; changed('conn'); }
  retryTimer = setTimeout(open, wait);
}

function open() {
  if (stopped) return;
  clearTimeout(retryTimer);
  if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws/staff`;
  const socket = new WebSocket(url);
  ws = socket;
  socket.onmessage = (ev) => {
    let f;
    try { f = JSON.parse(ev.data); } catch (e) { return; }
    const fn = dispatch[f.type];
    if (fn) fn(f);
  };
  socket.onclose = (ev) => {
    if (ws !== socket) return;
    ws = null;
    for (const [, list] of waiting) for (const w of list) w.reject({ code: 'offline', message: 'The connection dropped; try again when it is back.' });
    waiting.clear();
    if (stopped) return;
    if (ev.code === 1008) { state.conn = 'down'; changed('conn'); onSignedOut(ev.reason); return; }
    schedule();
  };
}

let onSignedOut = () => {};

/** Starts the connection (after sign-in); `signedOut` runs when the desk ends the session. */
export function start(signedOut) {
  onSignedOut = signedOut || onSignedOut;
  stopped = false;
  attempts = 0;
  open();
}

/** Closes the connection and forgets the live state (sign-out). */
export function stop() {
  stopped = true;
  clearTimeout(retryTimer);
  if (ws) { const s = ws; ws = null; s.close(1000); }
  state.chats.clear(); state.offers.clear(); state.queues.clear();
  state.roster = { staff: [], groups: [] }; state.selected = null; state.conn = 'connecting';
}

/** Reconnects at once if down (the banner's Retry button, online, visible). */
export function retryNow() { if (!stopped && !ws) { attempts = Math.min(attempts, 1); open(); } }

window.addEventListener('online', retryNow);
document.addEventListener('visibilitychange', () => { if (!document.hidden) retryNow(); });

/** Adds a monitored chat before the desk's chat_joined arrives. */
export function expectMonitor(chat) { ensureChat(chat, 'monitor'); }
