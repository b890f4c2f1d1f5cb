// A chat's transcript, opened by its stable link #/chats/{id}: start and
// end, every message and event (whispers marked), the handoffs with their
// wrap-up reasons, the final wrap-up and the visitor's rating. Remembered in "recently opened".
import { api } from './api.js';
import { h, duration, clock } from './dom.js';
import { remember } from './dashboard.js';
import { groupName, staffName, groupMap } from './names.js';

export async function transcriptView(ctx, id) {
  if (!id) { location.hash = '#/lists'; return h('p', {}, 'Choose a chat.'); }
  await groupMap();
  const t = await api('GET', `/api/chats/${id}`);
  const r = t.chat;
  remember({ id: r.id, visitor: r.visitor_name, at: Date.now() });
  const fields = [
    ['Visitor', r.visitor_name], ['Email', r.visitor_email || '—'], ['Group', r.group_name], ['Agent', r.agent_name || '—'],
    ['Started', clock(r.started_at)], ['Ended', r.ended_at ? clock(r.ended_at) : 'still open'],
    ['Duration', duration(r.duration_secs * 1000)], ['Wrap-up', r.wrap_up || '—'],
    ['Rating', t.rating ? h('span', { id: 'transcript-rating' }, h('span', { class: `pill rating-${t.rating.score}` }, t.rating.score === 'good' ? 'Good' : 'Bad'),
      t.rating.comment ? ` “${t.rating.comment}”` : '') : 'not rated'],
  ];
  const toName = (to) => (t.handoffs && /^[0-9a-f-]{36}$/.test(to) ? (staffName(to) !== 'a colleague' ? staffName(to) : groupName(to)) : to);
  return h('section', { id: 'transcript' },
    h('p', {}, h('a', { href: '#/lists' }, '← Chat history')),
    h('div', { class: 'row spread' }, h('h1', {}, `Chat with ${r.visitor_name}`), ticketButton(r.id)),
    h('dl', { class: 'details card' }, fields.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    t.handoffs.length ? h('section', { id: 'handoffs' }, h('h2', {}, 'Handoffs'),
      h('ol', {}, t.handoffs.map((x) => h('li', {}, `${clock(x.at)} · ${staffName(x.from)} → ${toName(x.to)} · wrap-up: ${x.reason}`)))) : null,
    h('h2', {}, 'Messages'),
    h('ol', { class: 'thread transcript', id: 'transcript-messages' }, t.messages.map((m) => h('li', { class: `msg ${m.kind}`, dataset: { seq: m.seq } },
      m.kind === 'system' ? null : h('span', { class: 'author' }, m.kind === 'whisper' ? `${m.author_name} (whisper)` : m.author_name),
      h(m.kind === 'system' ? 'span' : 'p', { class: 'body' }, m.body), h('time', {}, clock(m.at))))));
}

// "Create ticket": the chat's follow-up; a chat has one ticket, so a
// second click opens the one it has.
function ticketButton(chatId) {
  const err = h('span', { class: 'form-error', role: 'alert', id: 'create-ticket-error' });
  const go = async () => {
    try {
      const t = await api('POST', '/api/tickets', { chat: chatId });
      location.hash = `#/tickets/${t.number}`;
    } catch (e) { err.textContent = e.message; }
  };
  return h('span', {}, h('button', { type: 'button', id: 'create-ticket', onclick: go }, 'Create ticket'), err);
}
