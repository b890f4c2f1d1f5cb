// The widget's chat panel: pre-chat form, waiting, chatting, ending and the
// offline message form. It runs in the desk's own origin (inside the
// loader's iframe, or full page at /chat), so the chat token is kept in
// this origin's storage only. One Link object owns the visitor socket:
// hello with the last seq, a dispatch table by frame type, pending sends
// resent after a jittered reconnect, a banner while disconnected.
// Text from data is set as text only, never as markup.

import { ChatLog, Added, newClientId } from '../shared/chatlog.js';
import { Link } from './link.js';
import { transcriptForm } from './transcript.js';
import { ratingForm } from './rating.js';
import { formHelpers } from './forms.js';
import { apiCaller } from './api.js';
import { playBeep, bell } from './sound.js';
import { suggestStep } from './suggest.js';
import { h } from '../shared/dom.js';

const LANGUAGES = ['en', 'sv', 'nl'];
const SAVED = 'livedesk.chat'; // {token, chat_id, group, name, email, pending, saved_at}
const KEEP_MS = 24 * 3600 * 1000; // a chat not touched for a day is forgotten

const params = new URLSearchParams(location.search);
const embedded = params.get('embed') === '1' && window.parent !== window;
const hostOrigin = params.get('host') || '*';

let t = {}; // the strings table
let info = null; // GET /api/visitor/widget
let look = null; // the group shown in the header
let chat = null; // the running chat: {token, chat_id, group, name, email}
let link = null;
let log = new ChatLog();
let shown = !embedded; // the panel is visible (embedded: the loader says)
let unread = 0;
let soundOn = false;
let agentName = '';

const $ = (id) => document.getElementById(id);
const view = $('view');


/** A string with {placeholders} filled in (as text). */
function s(key, vars) {
  const raw = t[key] || key;
  return raw.replace(/\{(\w+)\}/g, (_, k) => (vars && vars[k] !== undefined ? String(vars[k]) : ''));
}

// Labels, live character counters and checks of the panel's forms.
const { field, counter, check } = formHelpers(s);
// The widget's REST calls, errors worded for the visitor.
const call = apiCaller(s);

function toParent(msg) {
  if (embedded) window.parent.postMessage(Object.assign({ livedesk: true }, msg), hostOrigin);
}

function pickLanguage(groupLang) {
  const wanted = [params.get('lang'), groupLang !== 'auto' ? groupLang : null, ...(navigator.languages || [navigator.language])];
  for (const w of wanted) {
    const primary = String(w || '').toLowerCase().split('-')[0];
    if (LANGUAGES.includes(primary)) return primary;
  }
  return 'en';
}

/** What the desk says of the groups the page asked for (`groups=` or `group=`). */
function widgetInfo() {
  const raw = params.get('groups') || params.get('group') || '';
  const groups = raw.split(',').map((x) => x.trim()).filter(Boolean).join(',');
  return call('GET', '/api/visitor/widget' + (groups ? '?groups=' + encodeURIComponent(groups) : ''));
}

// ---- storage ---------------------------------------------------------

function loadSaved() {
  try {
    const v = JSON.parse(localStorage.getItem(SAVED) || 'null');
    if (v && typeof v.token === 'string' && Date.now() - (v.saved_at || 0) < KEEP_MS) return v;
  } catch (e) { /* unreadable: start over */ }
  forget();
  return null;
}

function save() {
  if (!chat) return;
  try {
    localStorage.setItem(SAVED, JSON.stringify(Object.assign({}, chat, { pending: log.pendingList(), saved_at: Date.now() })));
  } catch (e) { /* storage full or off: the chat still runs in this page */ }
}

function forget() {
  try { localStorage.removeItem(SAVED); } catch (e) { /* ignore */ }
}

// ---- the live connection (assets/widget/link.js) ---------------------

function resendPending() {
  for (const p of log.pendingList()) link.send({ type: 'message', client_id: p.client_id, body: p.body });
}

/** What each server frame does: one table, one place. */
const FRAMES = {
  visitor_hello(f, l) {
    l.helloDone = true;
    l.failures = 0;
    banner(null);
    if (f.state === 'active') setStatus(null);
    else if (f.state === 'waiting') setStatus(s('waiting'));
    resendPending();
  },
  queue(f) {
    const lines = [s('position', { position: f.position })];
    const secs = f.estimated_wait_secs;
    if (Number.isFinite(secs)) lines.push(secs < 60 ? s('estimate_soon') : s('estimate', { minutes: Math.round(secs / 60) }));
    setStatus(s('waiting'), lines.join(' '));
  },
  agent_joined(f) {
    agentName = f.name || '';
    setStatus(null);
  },
  message(f, l) {
    const m = f.message;
    const r = log.add(m, f.prev_seq);
    if (r === Added.GAP) { l.restart(); return; }
    if (r !== Added.NEW) { renderThread(); return; }
    if (m.kind === 'agent') {
      agentName = m.author_name || agentName;
      showTyping(false);
      if (!shown || document.hidden) { unread += 1; toParent({ type: 'unread', count: unread }); beep(); }
    }
    if (m.kind === 'system' && m.event && m.event.type === 'joined') setStatus(null);
    if (m.kind === 'system' && m.event && m.event.type === 'requeued') setStatus(s('waiting'));
    if (m.kind === 'system' && m.event && m.event.type === 'transferred') setStatus(s('waiting'));
    renderThread();
    save();
  },
  ack(f) {
    log.ack(f.client_id);
    renderThread();
    save();
  },
  typing(f) {
    if (f.from === 'agent') showTyping(!!f.active);
  },
  chat_ended(f) {
    ended(f.ended_by || {});
  },
  error(f, l) {
    if (f.code === 'chat_not_found') {
      l.stop();
      forget();
      chat = null;
      toParent({ type: 'running', on: false });
      showForm();
      return;
    }
    if (f.request === 'message' && (f.code === 'rate_limited' || f.code === 'disk_full' || f.code === 'store_unavailable')) {
      setTimeout(resendPending, 5000); // stays pending and goes again
      return;
    }
    if (f.request === 'message' && f.client_id) {
      log.ack(f.client_id); // refused for good (too long ...): not pending any more
      renderThread();
      save();
    }
    if (f.request) composeError(f.message);
  },
};

// ---- screens ---------------------------------------------------------

function banner(text) {
  const b = $('banner');
  b.textContent = text || '';
  b.hidden = !text;
}

function clear() {
  view.replaceChildren();
}

function groupPicker() {
  if (info.groups.length < 2) return null;
  const select = h('select', { name: 'group', id: 'f-group' },
    info.groups.map((g) => h('option', { value: g.id, text: g.name })));
  return field(s('group'), select);
}

function chosenGroup(form) {
  const picked = form.querySelector('[name=group]');
  return info.groups.find((g) => g.id === (picked ? picked.value : info.groups[0].id)) || info.groups[0];
}


function showForm(kept) {
  clear();
  formShown = 'chat';
  setStatus(null);
  const g = look;
  if (info.groups.length === 1 && !g.open) { showOffline(kept); return; }
  const name = h('input', { id: 'f-name', name: 'name', required: true, autocomplete: 'name', maxlength: 80 });
  const email = h('input', { id: 'f-email', name: 'email', type: 'email', autocomplete: 'email', maxlength: 254 });
  const question = h('textarea', { id: 'f-question', name: 'question', required: true, 'data-max': info.max_message_chars, rows: 4 });
  if (kept) { name.value = kept.name || ''; email.value = kept.email || ''; question.value = kept.question || ''; }
  const error = h('p', { class: 'err', role: 'alert' });
  const start = h('button', { type: 'submit', class: 'primary', id: 'f-start', text: s('start') });
  const form = h('form', { class: 'card', id: 'prechat', novalidate: true },
    g.greeting ? h('p', { class: 'greeting', text: g.greeting }) : null,
    field(s('name'), name),
    field(s('email_optional'), email),
    groupPicker(),
    field(s('question'), question, counter(question, info.max_message_chars)),
    error,
    h('div', { class: 'actions' }, start));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!check(form)) return;
    const group = chosenGroup(form);
    const visitor = { name: name.value.trim(), email: email.value.trim(), question: question.value.trim() };
    start.disabled = true;
    start.textContent = s('starting');
    error.textContent = '';
    let step = 'chat';
    try {
      step = await beforeChat(visitor, group);
      if (step === 'back') { showForm(visitor); return; }
      if (step === 'solved') {
        view.appendChild(h('div', { class: 'actions kb-again' },
          h('button', { type: 'button', class: 'plain', id: 'kb-new-chat', text: s('new_chat'), onclick: () => showForm({ name: visitor.name, email: visitor.email }) })));
        return;
      }
      const r = await call('POST', '/api/visitor/chats', {
        name: visitor.name, email: visitor.email || null, group: group.id, question: visitor.question,
        page_url: pageUrl(),
      });
      if (r.status === 'offline') { showOffline(visitor, group); return; }
      chat = { token: r.token, chat_id: r.chat_id, group: group.id, name: visitor.name, email: visitor.email };
      log = new ChatLog();
      save();
      toParent({ type: 'running', on: true });
      showChat();
    } catch (err) {
      // After the suggestions the form is back, with what was typed.
      if (!form.isConnected) showForm(visitor);
      const shownError = view.querySelector('#prechat .err') || error;
      shownError.textContent = err.message;
      start.disabled = false;
      start.textContent = s('start');
    }
  });
  view.appendChild(form);
  if (shown) name.focus();
}

/**
 * The step between the question and the chat: suggested articles
 * (`suggest.js`). Resolves to 'chat', 'solved' (no chat starts) or 'back'.
 * The form is off screen meanwhile, so a group opening or closing does
 * not swap it.
 */
async function beforeChat(visitor, group) {
  formShown = null;
  const step = await suggestStep({ call, s, view, visitor, group });
  if (step === 'chat') formShown = 'chat';
  return step;
}

function pageUrl() {
  if (!embedded) return document.referrer || null;
  return params.get('page') || null;
}

function showOffline(kept, group) {
  clear();
  formShown = 'offline';
  setStatus(null);
  const name = h('input', { id: 'o-name', name: 'name', required: true, autocomplete: 'name', maxlength: 80 });
  const email = h('input', { id: 'o-email', name: 'email', type: 'email', required: true, autocomplete: 'email', maxlength: 254 });
  const message = h('textarea', { id: 'o-message', name: 'message', required: true, 'data-max': info.max_offline_chars, rows: 5 });
  if (kept) { name.value = kept.name || ''; email.value = kept.email || ''; message.value = kept.question || ''; }
  const error = h('p', { class: 'err', role: 'alert' });
  const send = h('button', { type: 'submit', class: 'primary', id: 'o-send', text: s('offline_send') });
  const picker = group ? null : groupPicker();
  // A closed date's note ("Closed for Christmas") is the business's own words.
  const only = group || (info.groups.length === 1 ? info.groups[0] : null);
  const note = only && only.closed_note ? h('p', { class: 'closed-note', id: 'o-closed-note', text: only.closed_note }) : null;
  const form = h('form', { class: 'card', id: 'offline', novalidate: true },
    h('h2', { class: 'greeting', text: s('offline_title') }),
    note,
    h('p', { class: 'intro', text: kept && kept.timedOut ? s('ended_queue_timeout') : kept && kept.closed ? s('ended_closed') : s('offline_intro') }),
    field(s('name'), name),
    field(s('email'), email),
    picker,
    field(s('offline_message'), message, counter(message, info.max_offline_chars)),
    error,
    h('div', { class: 'actions' }, send));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!check(form)) return;
    const g = group || chosenGroup(form);
    send.disabled = true;
    error.textContent = '';
    try {
      const body = { group: g.id, name: name.value.trim(), email: email.value.trim(), message: message.value.trim(), page_url: pageUrl() };
      // After a missed chat the message joins that chat's ticket.
      if (kept && kept.token) body.chat_token = kept.token;
      const r = await call('POST', '/api/visitor/offline_messages', body);
      clear();
      formShown = null;
      const sent = h('p', { class: 'sent', id: 'offline-sent', role: 'status', text: s('offline_sent') });
      if (r && r.ticket) sent.append(' ', h('span', { class: 'ref', id: 'offline-ref', text: s('offline_ref', { number: r.ticket }) }));
      view.appendChild(sent);
    } catch (err) {
      error.textContent = err.message;
      send.disabled = false;
    }
  });
  view.appendChild(form);
  if (shown) name.focus();
}

let thread = null;
let statusEl = null;
let typingEl = null;
let compose = null;
let foot = null;

function setStatus(title, detail) {
  if (!statusEl) return;
  statusEl.replaceChildren();
  if (title) statusEl.append(h('strong', { text: title }), detail || '');
  statusEl.hidden = !title;
}

function showTyping(on) {
  if (typingEl) typingEl.textContent = on ? s('typing', { name: agentName || s('agent') }) : '';
}

function composeError(text) {
  const e = document.getElementById('compose-err');
  if (e) e.textContent = text || '';
}

function showChat() {
  clear();
  formShown = null;
  statusEl = h('p', { class: 'status', id: 'status', role: 'status' });
  thread = h('div', { class: 'thread', id: 'thread', role: 'log', tabindex: 0, 'aria-live': 'polite', 'aria-label': look.title });
  typingEl = h('p', { class: 'typing', id: 'typing', 'aria-live': 'polite' });
  const input = h('textarea', { id: 'c-input', rows: 1, 'aria-label': s('message'), placeholder: s('message'), maxlength: info.max_message_chars * 2 });
  const send = h('button', { type: 'submit', class: 'primary', id: 'c-send', text: s('send') });
  compose = h('form', { class: 'compose', id: 'compose' }, input, send);
  const count = counter(input, info.max_message_chars);
  const endButton = h('button', { type: 'button', class: 'plain', id: 'c-end', text: s('end') });
  foot = h('div', { class: 'foot' }, count, endButton);
  const peek = look.sneak_peek ? h('p', { class: 'peek', id: 'peek', text: s('sneak_peek') }) : null;
  view.append(statusEl, thread, typingEl, h('p', { class: 'err', id: 'compose-err', role: 'alert' }), compose, peek, foot);
  setStatus(s('waiting'));
  input.addEventListener('input', () => link && link.typing(input.value));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); compose.requestSubmit(); }
  });
  compose.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    if ([...body].length > info.max_message_chars) { composeError(s('chars_over', { n: [...body].length - info.max_message_chars })); return; }
    composeError('');
    const id = newClientId('v');
    log.send(id, body, Date.now());
    save();
    input.value = '';
    input.dispatchEvent(new Event('input'));
    link.send({ type: 'message', client_id: id, body });
    link.typing('');
    renderThread();
  });
  endButton.addEventListener('click', () => confirmEnd(endButton));
  renderThread();
  link = new Link(chat.token, {
    lastSeq: () => log.lastSeq,
    frames: FRAMES,
    down: () => banner(s('reconnecting')),
    peek: () => !!(look && look.sneak_peek),
  });
  link.connect();
  if (shown) input.focus();
}

function confirmEnd(endButton) {
  if (document.getElementById('confirm')) return;
  const yes = h('button', { type: 'button', class: 'primary', id: 'end-yes', text: s('end_yes') });
  const no = h('button', { type: 'button', class: 'plain', id: 'end-no', text: s('end_no') });
  const box = h('div', { class: 'confirm', id: 'confirm', role: 'alertdialog', 'aria-labelledby': 'confirm-q' },
    h('p', { id: 'confirm-q', text: s('end_confirm') }), h('div', { class: 'actions' }, no, yes));
  const close = () => { box.remove(); endButton.focus(); };
  no.addEventListener('click', close);
  box.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
  yes.addEventListener('click', () => {
    if (!link.send({ type: 'end' })) { composeError(s('reconnecting')); return; }
    box.remove();
  });
  foot.insertAdjacentElement('beforebegin', box);
  no.focus();
}

function systemText(m) {
  const e = m.event;
  if (!e) return m.body;
  switch (e.type) {
    case 'joined': return s('joined', { name: e.name });
    case 'left': return s('left', { name: e.name });
    case 'transferred': return s('transferred', { to: e.to });
    case 'requeued': return s('requeued', { name: e.name });
    case 'ended': return null; // the end notice says it, in words
    default: return m.body;
  }
}

/** Up to two initials of a name ("Ann Agent" → "AA"), as text. */
function initials(name) {
  const parts = String(name).trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((p) => [...p][0] || '').join('').toUpperCase();
}

const time = (ms) => new Date(ms).toLocaleTimeString(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' });

function renderThread() {
  if (!thread) return;
  const items = [];
  for (const m of log.messages()) {
    if (m.kind === 'system') {
      const text = systemText(m);
      if (text) items.push(h('div', { class: 'msg system' }, text));
    } else if (m.kind === 'visitor') {
      items.push(h('div', { class: 'msg own', 'data-seq': m.seq },
        h('span', { class: 'body' }, m.body), h('span', { class: 'who' }, `${s('you')} · ${time(m.at)}`)));
    } else if (m.kind === 'agent') {
      const name = m.author_name || s('agent');
      items.push(h('div', { class: 'msg agent', 'data-seq': m.seq },
        h('span', { class: 'who' }, h('span', { class: 'initials', 'aria-hidden': 'true' }, initials(name)), `${name} · ${time(m.at)}`),
        h('span', { class: 'body' }, m.body)));
    }
  }
  for (const p of log.pendingList()) {
    items.push(h('div', { class: 'msg own pending', 'data-client-id': p.client_id },
      h('span', { class: 'body' }, p.body), h('span', { class: 'who' }, s('pending'))));
  }
  const atEnd = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
  thread.replaceChildren(...items);
  if (atEnd || items.length < 3) thread.scrollTop = thread.scrollHeight;
}

function ended(by) {
  if (link) link.stop();
  link = null;
  forget();
  toParent({ type: 'running', on: false });
  const kept = chat;
  chat = null;
  setStatus(null);
  showTyping(false);
  if (compose) compose.remove();
  if (foot) foot.remove();
  const peek = document.getElementById('peek');
  if (peek) peek.remove();
  const box = document.getElementById('confirm');
  if (box) box.remove();
  if (by.by === 'queue_timeout' || by.by === 'closed') {
    const first = log.messages().find((m) => m.kind === 'visitor');
    showOffline({ name: kept && kept.name, token: kept && kept.token, question: first ? first.body : '', timedOut: by.by === 'queue_timeout', closed: by.by === 'closed' }, look);
    return;
  }
  const words = by.by === 'agent' ? s('ended_agent', { name: by.name || s('agent') })
    : by.by === 'idle' ? s('ended_idle') : s('ended_visitor');
  const again = h('button', { type: 'button', class: 'primary', id: 'new-chat', text: s('new_chat') });
  again.addEventListener('click', () => { log = new ChatLog(); thread = null; showForm(); });
  const answered = agentName || log.messages().some((m) => m.kind === 'agent');
  const rate = answered && kept && kept.token ? ratingForm({ token: kept.token, s, call }) : null;
  const mail = info.transcript_by_email && kept && kept.token
    ? transcriptForm({ token: kept.token, email: kept.email, s, call }) : null;
  const box2 = h('div', { class: 'ended', id: 'ended' }, h('p', { role: 'status', text: words }), rate, mail, h('div', { class: 'actions' }, again));
  view.appendChild(box2);
  if (thread) thread.scrollTop = thread.scrollHeight; // the last words stay in sight above the notice
  again.focus({ preventScroll: true });
}

// ---- the group opening and closing while a form is shown -------------

let formShown = null; // 'chat' | 'offline' | null (a chat, or a sent message)

/** What the visitor has typed into the form on screen, to keep it. */
function typed() {
  const v = (id) => { const e = document.getElementById(id); return e ? e.value : ''; };
  return formShown === 'chat'
    ? { name: v('f-name'), email: v('f-email'), question: v('f-question') }
    : { name: v('o-name'), email: v('o-email'), question: v('o-message') };
}

/**
 * Asks the desk again whether the group takes chats, and turns the form
 * on screen into the other one when that changed (what was typed kept).
 * Runs every 30 s, when the tab becomes visible and when the browser is
 * back online; never while a chat runs.
 */
async function recheck() {
  if (!formShown || chat || !look) return;
  let fresh;
  try { fresh = await widgetInfo(); } catch (e) { return; }
  const was = info.groups.map((g) => g.open).join();
  info = fresh;
  look = info.groups.find((g) => g.id === look.id) || info.groups[0] || look;
  if (!formShown || chat || info.groups.map((g) => g.open).join() === was) return;
  const kept = typed();
  if (formShown === 'offline' && info.groups.some((g) => g.open)) showForm(kept);
  else if (formShown === 'chat' && info.groups.length === 1 && !look.open) showOffline(kept, look);
}

// ---- sound and unread ------------------------------------------------

function beep() {
  if (soundOn) playBeep();
}

function seen() {
  if (shown && !document.hidden && unread) {
    unread = 0;
    toParent({ type: 'unread', count: 0 });
  }
}

// ---- start -----------------------------------------------------------

async function main() {
  document.documentElement.classList.add(embedded ? 'embedded' : 'page');
  try {
    info = await widgetInfo();
  } catch (e) {
    view.replaceChildren(h('p', { class: 'sent', role: 'alert', text: e.message }));
    return;
  }
  if (!info.groups.length) return;
  const saved = loadSaved();
  look = (saved && info.groups.find((g) => g.id === saved.group)) || info.groups[0];
  const lang = pickLanguage(look.language);
  t = (await import(`./strings/${lang}.js`)).default;
  document.documentElement.lang = lang;
  document.documentElement.dir = t.dir || 'ltr';
  document.title = look.title;
  const root = document.documentElement.style;
  root.setProperty('--accent', look.color);
  root.setProperty('--on-accent', look.text_color);
  $('title').textContent = look.title;
  const sound = $('sound');
  const drawSound = () => {
    sound.replaceChildren(bell(soundOn));
    sound.setAttribute('aria-label', soundOn ? s('sound_off') : s('sound_on'));
    sound.setAttribute('aria-pressed', String(soundOn));
  };
  sound.hidden = false;
  drawSound();
  sound.addEventListener('click', () => { soundOn = !soundOn; drawSound(); if (soundOn) beep(); });
  if (embedded) {
    const close = $('close');
    close.hidden = false;
    close.textContent = '—';
    close.setAttribute('aria-label', s('close'));
    close.addEventListener('click', () => toParent({ type: 'close' }));
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !document.getElementById('confirm')) toParent({ type: 'close' }); });
  }
  document.addEventListener('visibilitychange', seen);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) recheck(); });
  window.addEventListener('online', recheck);
  setInterval(recheck, 30000);
  window.addEventListener('message', (e) => {
    if (e.source !== window.parent || !e.data || e.data.livedesk !== true) return;
    if (e.data.type === 'shown') {
      shown = true;
      seen();
      if (e.data.focus) { const f = view.querySelector('textarea, input, button'); if (f) f.focus(); }
    } else if (e.data.type === 'hidden') {
      shown = false;
    }
  });
  if (saved) {
    chat = { token: saved.token, chat_id: saved.chat_id, group: saved.group, name: saved.name, email: saved.email };
    log.restorePending(saved.pending);
    toParent({ type: 'running', on: true });
    showChat();
  } else {
    toParent({ type: 'running', on: false });
    showForm();
  }
  document.body.dataset.ready = 'true';
  toParent({ type: 'ready' });
}

main();
