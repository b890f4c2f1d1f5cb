// The chat window: my open chats as tabs with unread counts; the selected
// chat's visitor details, thread, the visitor's draft, and the compose box
// (Enter sends, Shift+Enter a new line, a live counter, pending messages
// shown until acknowledged); transfer, invite, leave, end with a wrap-up;
// monitored chats take whispers only.
import { attachPicker } from './canned.js';
import { articleSearch } from './articles.js';
import { h, dialog, errorSlot, duration, clock, announce, STATUS_LABEL } from './dom.js';
import { state, chatList, changed } from './store.js';
import * as live from './live.js';
import { groupMap, groupName, staffName, wrapUpReasons, messageLimit } from './names.js';

const ENDED = {
  visitor: 'The customer ended the conversation.',
  agent: 'The chat was ended.',
  idle: 'The chat was closed because nobody wrote for a while.',
  queue_timeout: 'Nobody answered in time.',
  closed: 'The group closed.',
  gone: 'This chat went on without you (it ended or was handed on while you were disconnected).',
};

function tab(c) {
  const name = c.chat.visitor.name;
  return h('li', {},
    h('a', { href: `#/workspace/${c.id}`, class: `chat-tab${state.selected === c.id ? ' active' : ''}${c.endedBy ? ' ended' : ''}`,
      'aria-current': state.selected === c.id ? 'true' : null, dataset: { chat: c.id } },
    h('span', { class: 'tab-name' }, name),
    h('span', { class: 'tab-sub' }, c.role === 'monitor' ? 'monitoring' : c.endedBy ? 'ended' : groupName(c.chat.group)),
    c.unread ? h('span', { class: 'count' }, String(c.unread), h('span', { class: 'sr-title' }, ' unread')) : null));
}

function bubble(m, me) {
  if (m.kind === 'system') return h('li', { class: 'msg system', dataset: { seq: m.seq } }, h('span', {}, m.body), h('time', {}, clock(m.at)));
  const mine = m.author && me && m.author === me.id;
  return h('li', { class: `msg ${m.kind}${mine ? ' mine' : ''}`, dataset: { seq: m.seq } },
    h('span', { class: 'author' }, m.kind === 'whisper' ? `${m.author_name} (whisper, visitor cannot see)` : m.author_name),
    h('p', { class: 'body' }, m.body),
    h('time', {}, clock(m.at)));
}

function pendingBubble(p) {
  return h('li', { class: `msg ${p.whisper ? 'whisper' : 'agent'} mine pending`, dataset: { pending: p.client_id } },
    h('span', { class: 'author' }, p.whisper ? 'You (whisper)' : 'You'),
    h('p', { class: 'body' }, p.body),
    h('span', { class: 'sending' }, 'Sending…'));
}

function reasonPicker(reasons, onPick, { action }) {
  const filter = h('input', { type: 'search', id: 'wrapup-filter', 'aria-label': 'Find a wrap-up reason', placeholder: 'Find a reason', autocomplete: 'off' });
  const list = h('div', { class: 'reasons', role: 'radiogroup', 'aria-label': 'Wrap-up reason' });
  const err = errorSlot();
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = reasons.filter((r) => r.toLowerCase().includes(q));
    const checked = list.querySelector('input:checked');
    list.replaceChildren(...shown.map((r, i) => h('label', { class: 'check' },
      h('input', { type: 'radio', name: 'wrapup', value: r, checked: checked ? checked.value === r : i === 0 }), r)));
    if (!shown.length) list.append(h('p', { class: 'muted' }, 'No reason matches; clear the search.'));
  };
  filter.addEventListener('input', draw);
  draw();
  const submit = h('button', { type: 'submit', id: 'wrapup-submit' }, action);
  const form = h('form', { class: 'stack', id: 'wrapup-form' }, filter, list, err.el, h('div', { class: 'row end' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const picked = list.querySelector('input:checked');
    if (!picked) { err.show('Choose a wrap-up reason.'); return; }
    submit.disabled = true;
    try { await onPick(picked.value); } catch (e) { err.show(e.message); submit.disabled = false; }
  });
  return { form, filter };
}

async function endDialog(c) {
  const reasons = await wrapUpReasons();
  let d;
  const picker = reasonPicker(reasons, async (reason) => {
    if (c.endedBy) await live.request({ type: 'wrap_up', chat_id: c.id, reason });
    else await live.request({ type: 'end', chat_id: c.id, wrap_up: reason });
    c.wrapUpDue = false;
    c.wrapUp = reason;
    d.close();
    announce(`Chat with ${c.chat.visitor.name} wrapped up: ${reason}.`);
    changed('chat', c.id);
  }, { action: c.endedBy ? 'Save wrap-up' : 'End chat' });
  d = dialog(c.endedBy ? `Wrap up the chat with ${c.chat.visitor.name}` : `End the chat with ${c.chat.visitor.name}`,
    h('div', {}, h('p', { class: 'muted' }, 'Why did this chat end? Reports count these reasons.'), picker.form), { id: 'end-dialog', focus: picker.filter });
}

function agentChoices(filterText, excludeMe, current) {
  const q = filterText.trim().toLowerCase();
  return state.roster.staff
    .filter((s) => s.chat_enabled && (!excludeMe || s.id !== state.me.id) && !(current || []).includes(s.id))
    .filter((s) => !q || s.name.toLowerCase().includes(q))
    .sort((a, b) => (a.status === 'available' ? 0 : 1) - (b.status === 'available' ? 0 : 1) || a.load - b.load);
}

async function transferDialog(c, mode) {
  const groups = Object.values(await groupMap());
  const reasons = mode === 'transfer' ? await wrapUpReasons() : [];
  const filter = h('input', { type: 'search', id: 'transfer-filter', 'aria-label': 'Find a group or colleague', placeholder: 'Find a group or colleague', autocomplete: 'off' });
  const list = h('div', { class: 'targets', role: 'radiogroup', 'aria-label': mode === 'transfer' ? 'Transfer to' : 'Invite' });
  const err = errorSlot();
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const items = [];
    if (mode === 'transfer') {
      const gs = groups.filter((g) => !q || g.name.toLowerCase().includes(q));
      if (gs.length) items.push(h('p', { class: 'list-head' }, 'Groups (back to the queue, first in line)'));
      for (const g of gs) {
        const r = state.roster.groups.find((x) => x.id === g.id);
        items.push(h('label', { class: 'check target' }, h('input', { type: 'radio', name: 'target', value: `g:${g.id}` }),
          h('span', {}, g.name), h('span', { class: 'muted' }, r ? `${r.waiting} waiting` : '')));
      }
    }
    const agents = agentChoices(filter.value, true, [c.chat.owner, ...(c.chat.conference || [])]);
    if (agents.length) items.push(h('p', { class: 'list-head' }, 'Colleagues (they must accept)'));
    for (const s of agents) {
      items.push(h('label', { class: 'check target' }, h('input', { type: 'radio', name: 'target', value: `s:${s.id}`, disabled: !s.connected }),
        h('span', {}, s.name), h('span', { class: `status-dot ${s.status}` }, s.connected ? STATUS_LABEL[s.status] : 'Not connected'),
        h('span', { class: 'muted' }, `${s.load} / ${s.max_chats} chats`)));
    }
    if (!items.length) items.push(h('p', { class: 'muted' }, 'Nothing matches; clear the search.'));
    list.replaceChildren(...items);
  };
  filter.addEventListener('input', draw);
  draw();
  const reason = mode === 'transfer' ? h('select', { id: 'transfer-reason' }, reasons.map((r) => h('option', { value: r, selected: /transfer/i.test(r) }, r))) : null;
  const submit = h('button', { type: 'submit', id: 'transfer-submit' }, mode === 'transfer' ? 'Transfer' : 'Invite');
  const form = h('form', { class: 'stack', id: 'transfer-form' }, filter, list,
    reason ? h('label', {}, 'Wrap-up reason for your part', reason) : null, err.el, h('div', { class: 'row end' }, submit));
  let d;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const picked = list.querySelector('input:checked');
    if (!picked) { err.show(mode === 'transfer' ? 'Choose a group or a colleague.' : 'Choose a colleague.'); return; }
    const [kind, id] = picked.value.split(':');
    submit.disabled = true;
    try {
      if (mode === 'invite') await live.request({ type: 'invite', chat_id: c.id, staff_id: id });
      else if (kind === 'g') await live.request({ type: 'transfer', chat_id: c.id, to_group: id, wrap_up: reason.value });
      else await live.request({ type: 'transfer', chat_id: c.id, to_staff: id, wrap_up: reason.value });
      d.close();
      announce(kind === 'g' ? `Transferred to ${groupName(id)}.` : `Asked ${staffName(id)}; the chat stays with you until they accept.`);
    } catch (e) { err.show(e.message); submit.disabled = false; }
  });
  d = dialog(mode === 'transfer' ? `Transfer ${c.chat.visitor.name}` : `Invite a colleague to ${c.chat.visitor.name}'s chat`, form, { id: 'transfer-dialog', focus: filter });
}

function details(c) {
  const now = Date.now();
  const ch = c.chat;
  const wait = (ch.answered_at || now) - ch.queued_at;
  const rows = [
    ['Email', ch.visitor.email || '—'],
    ['Page', ch.visitor.page_url || '—'],
    ['Group', groupName(ch.group)],
    ['Waited', duration(Math.max(0, wait))],
    ['Chat time', ch.answered_at ? duration((ch.ended_at || now) - ch.answered_at) : '—'],
  ];
  return h('dl', { class: 'details', id: 'chat-details' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', { dataset: { field: k.toLowerCase().replace(' ', '-') } }, v)]));
}

function pane(c, limit) {
  const me = state.me;
  const monitor = c.role === 'monitor';
  const thread = h('ol', { class: 'thread', id: 'thread', tabindex: '0', 'aria-label': `Messages with ${c.chat.visitor.name}` });
  const draft = h('p', { class: 'draft', id: 'visitor-draft', 'aria-live': 'off' });
  const endedNote = h('div', { class: 'ended-note', id: 'ended-note', role: 'status' });
  const box = h('textarea', { id: 'compose', rows: 3, maxlength: limit, 'aria-label': monitor ? 'Whisper to the agents (the visitor never sees it)' : `Message to ${c.chat.visitor.name}`,
    placeholder: monitor ? 'Whisper to the agents…' : 'Write a reply — Enter sends, Shift+Enter for a new line' });
  const whisper = h('input', { type: 'checkbox', id: 'compose-whisper', checked: monitor, disabled: monitor });
  const counter = h('span', { class: 'counter', id: 'compose-counter', 'aria-live': 'polite' });
  const sendErr = h('p', { class: 'form-error', id: 'compose-error', role: 'alert', hidden: true });
  const send = h('button', { type: 'submit', id: 'compose-send' }, 'Send');
  // Canned responses (`/` or `#`): its keys come before the box's own.
  const picker = attachPicker(box, () => ({ visitor: c.chat.visitor.name, agent: me.display_name }));
  // A knowledge-base article's link, sent in one click (or put in the box).
  const kb = monitor ? null : h('button', { type: 'button', class: 'secondary', id: 'compose-articles', onclick: () => articleSearch({
    // The visitor's question (the chat's first visitor message) is the first search.
    question: c.chat.question || (c.log.messages().find((m) => m.kind === 'visitor') || {}).body || '',
    send: (text) => live.sendMessage(c.id, text, false),
    insert: (text) => { box.value = box.value ? `${box.value} ${text}` : text; count(); box.focus(); },
  }) }, 'Articles');
  const form = h('form', { class: 'compose', id: 'compose-form' }, picker, box,
    h('div', { class: 'row' }, h('label', { class: 'check' }, whisper, 'Whisper (staff only)'), counter, h('span', { class: 'spacer' }), kb, send), sendErr);
  let typingSent = false; let typingTimer = null;
  const count = () => {
    const n = [...box.value].length;
    counter.textContent = `${n} / ${limit}`;
    counter.classList.toggle('over', n > limit);
  };
  count();
  box.addEventListener('input', () => {
    count();
    if (!whisper.checked) {
      if (!typingSent) { live.typing(c.id, true); typingSent = true; }
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => { live.typing(c.id, false); typingSent = false; }, 3000);
    }
  });
  box.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = box.value.trim();
    if (!body) return;
    if ([...body].length > limit) { sendErr.textContent = `A message can have at most ${limit} characters; shorten it.`; sendErr.hidden = false; return; }
    live.sendMessage(c.id, body, whisper.checked);
    box.value = ''; count();
    if (typingSent) { live.typing(c.id, false); typingSent = false; }
  });
  const act = (label, id, fn, cls = 'secondary') => h('button', { type: 'button', id, class: cls, onclick: fn }, label);
  const actions = h('div', { class: 'row actions', id: 'chat-actions' });
  let actionsKey = '';
  const drawActions = () => {
    const key = `${c.role}|${!!c.endedBy}|${c.wrapUpDue}|${(c.chat.conference || []).length}`;
    if (key === actionsKey) return;
    actionsKey = key;
    const items = [];
    if (monitor) items.push(act('Stop monitoring', 'unmonitor', async () => {
      try { await live.request({ type: 'unmonitor', chat_id: c.id }); } catch (e) { announce(e.message); }
      state.chats.delete(c.id); state.selected = null; changed('chats');
    }));
    else if (c.endedBy) {
      if (c.wrapUpDue) items.push(act('Wrap up', 'end-chat', () => endDialog(c), ''));
      items.push(act('Close tab', 'close-tab', () => { state.chats.delete(c.id); state.selected = null; changed('chats'); }));
    } else if (c.role === 'owner') {
      items.push(act('Transfer', 'transfer-chat', () => transferDialog(c, 'transfer')),
        act('Invite', 'invite-chat', () => transferDialog(c, 'invite')),
        (c.chat.conference || []).length ? act('Leave', 'leave-chat', async () => { try { await live.request({ type: 'leave', chat_id: c.id }); } catch (e) { announce(e.message); } }) : null,
        act('End chat', 'end-chat', () => endDialog(c), 'danger'));
    } else {
      items.push(act('Leave', 'leave-chat', async () => { try { await live.request({ type: 'leave', chat_id: c.id }); } catch (e) { announce(e.message); } }));
    }
    actions.replaceChildren(...items.filter(Boolean));
  };
  // On a phone the visitor's details fold away behind a summary, so the
  // thread stays in view; on a wide screen they always show.
  const more = h('details', { class: 'visitor-more', open: window.innerWidth > 720 }, h('summary', {}, 'Visitor details'), details(c));
  const head = h('header', { class: 'chat-head' },
    h('div', {}, h('h2', { id: 'chat-title' }, c.chat.visitor.name), more), actions);
  const drawThread = () => {
    const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
    thread.replaceChildren(...c.log.messages().map((m) => bubble(m, me)), ...c.log.pendingList().map(pendingBubble));
    if (atBottom || thread.dataset.drawn !== '1') thread.scrollTop = thread.scrollHeight;
    thread.dataset.drawn = '1';
    draft.textContent = c.draft ? `${c.chat.visitor.name} is typing: ${c.draft}` : c.typing ? `${c.chat.visitor.name} is typing…` : '';
    draft.hidden = !draft.textContent;
    endedNote.hidden = !c.endedBy;
    endedNote.textContent = c.endedBy ? `${ENDED[c.endedBy.by] || 'The chat ended.'}${c.wrapUpDue ? ' Choose a wrap-up reason.' : c.wrapUp ? ` Wrap-up: ${c.wrapUp}.` : ''}` : '';
    form.hidden = !!c.endedBy;
    sendErr.hidden = !c.error; sendErr.textContent = c.error;
    drawActions();
    const d = head.querySelector('#chat-details'); if (d) d.replaceWith(details(c));
  };
  drawThread();
  const el = h('section', { class: 'chat-pane', id: 'chat-pane', dataset: { chat: c.id }, 'aria-labelledby': 'chat-title' }, head, thread, draft, endedNote, form);
  return { el, drawThread, box };
}

export async function workspaceView(ctx, id) {
  await groupMap();
  const limit = await messageLimit();
  if (id && state.chats.has(id)) state.selected = id;
  if (!state.selected || !state.chats.has(state.selected)) state.selected = (chatList()[0] || {}).id || null;
  const tabs = h('ul', { class: 'chat-tabs', id: 'chat-tabs' });
  const main = h('div', { class: 'chat-main' });
  const root = h('section', { id: 'workspace', class: 'workspace' },
    h('nav', { class: 'chat-list', 'aria-label': 'Open chats' }, h('h1', { class: 'sr-title' }, 'Chats'), tabs), main);
  let current = null;
  const drawTabs = () => {
    const list = chatList();
    tabs.replaceChildren(...list.map(tab));
    if (!list.length) tabs.append(h('li', { class: 'muted empty' }, 'No open chats. New chats pop up here when offered to you.'));
  };
  const drawMain = () => {
    const c = state.chats.get(state.selected);
    if (c) { c.unread = 0; }
    if (!c) { current = null; main.replaceChildren(h('div', { class: 'card muted', id: 'no-chat' }, state.chats.size ? 'Choose a chat.' : !state.me.chat_enabled ? 'You do not take chats. Chats you monitor from the chat manager open here.' : (state.status === 'available' ? 'Waiting for chats. You are available.' : 'You are not available, so no chats are offered. Set your status to Available in the header.'))); return; }
    if (current && current.id === c.id) { current.drawThread(); return; }
    const p = pane(c, limit);
    current = { id: c.id, ...p };
    main.replaceChildren(p.el);
  };
  const redraw = (topic, cid) => {
    if (topic === 'typing' || topic === 'chat') { if (cid === state.selected) { const c = state.chats.get(cid); if (c) c.unread = 0; drawMain(); } drawTabs(); return; }
    if (['chats', 'all', 'select', 'roster', 'status'].includes(topic)) {
      if (topic === 'select' || !state.chats.has(state.selected)) {
        if (!state.chats.has(state.selected)) state.selected = (chatList()[0] || {}).id || null;
      }
      drawMain(); drawTabs();
    }
  };
  ctx.watch(redraw);
  drawMain(); drawTabs();
  changed('read');
  const timer = setInterval(() => { if (!root.isConnected) { clearInterval(timer); return; } if (current) { const c = state.chats.get(current.id); const d = root.querySelector('#chat-details'); if (c && d) d.replaceWith(details(c)); } }, 1000);
  return root;
}
