// The queue: each of my groups' waiting, offered (unanswered) and answered
// chats, live from the desk's queue views. In a manual group I pick a
// waiting chat myself. A selected chat shows its details.
import { h, duration, announce } from './dom.js';
import { state } from './store.js';
import * as live from './live.js';
import { groupMap, staffName } from './names.js';

/** "closed until Mon 09:00" for a group outside its business hours. */
export function closedBadge(r) {
  if (!r || r.open !== false) return null;
  const until = r.opens_at ? new Date(r.opens_at).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' }) : null;
  return h('span', { class: 'badge off closed-until' }, until ? `closed until ${until}` : 'closed');
}

export async function queueView(ctx) {
  const groups = await groupMap();
  const root = h('section', { id: 'queue-screen' });
  let chosen = null;
  const draw = () => {
    const views = [...state.queues.values()].sort((a, b) => (groups[a.group]?.name || '').localeCompare(groups[b.group]?.name || ''));
    const section = (v) => {
      const g = groups[v.group] || { name: 'Group', routing: '' };
      const manual = g.routing === 'manual';
      const row = (e, kind) => h('tr', { dataset: { chat: e.id }, class: chosen === e.id ? 'chosen' : '' },
        h('td', {}, h('button', { type: 'button', class: 'link', 'aria-label': `Details of ${e.visitor}`, onclick: () => { chosen = e.id; draw(); } }, e.visitor)),
        h('td', {}, duration(Date.now() - e.queued_at), e.requeued ? h('span', { class: 'badge' }, 'back in queue') : null),
        h('td', {}, kind === 'waiting' ? '—' : staffName(e.offered_to)),
        h('td', { class: 'actions' }, manual && kind === 'waiting' && ctx.me.chat_enabled ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Pick the chat with ${e.visitor}`,
          onclick: async () => { try { await live.request({ type: 'accept', chat_id: e.id }); location.hash = `#/workspace/${e.id}`; } catch (err) { announce(err.message); } } }, 'Pick') : null));
      const table = (title, list, total, kind) => h('div', { class: 'queue-list' }, h('h3', {}, `${title} (${total})`),
        list.length ? h('div', { class: 'table-box' }, h('table', { class: 'queue-table', dataset: { kind } },
          h('thead', {}, h('tr', {}, ['Visitor', 'Waiting', kind === 'answered' ? 'Agent' : 'Offered to', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, list.map((e) => row(e, kind))))) : h('p', { class: 'muted' }, 'None.'));
      const details = chosen && [...v.waiting, ...v.unanswered, ...v.answered].find((e) => e.id === chosen);
      return h('section', { class: 'card', dataset: { group: g.name } },
        h('h2', {}, g.name, manual ? h('span', { class: 'badge' }, 'pick by hand') : null,
          state.roster.groups.some((r) => r.id === v.group && !r.queue_online) ? h('span', { class: 'badge off' }, 'queue offline: visitors get the message form') : null,
          closedBadge(state.roster.groups.find((r) => r.id === v.group))),
        table('Waiting', v.waiting, v.waiting_total, 'waiting'),
        table('Unanswered', v.unanswered, v.unanswered_total, 'unanswered'),
        table('Answered', v.answered, v.answered_total, 'answered'),
        details ? h('div', { class: 'queue-details', id: 'queue-details' }, h('h3', {}, details.visitor),
          h('p', {}, `In the queue for ${duration(Date.now() - details.queued_at)}${details.requeued ? ', back in the queue after a transfer or a lost agent' : ''}.`),
          details.offered_to ? h('p', {}, `With ${staffName(details.offered_to)}.`) : null) : null);
    };
    root.replaceChildren(h('h1', {}, 'Queue'),
      ...(views.length ? views.map(section) : [h('p', { class: 'muted card' }, 'You are in no group, so no queue is shown.')]));
  };
  ctx.watch((topic) => { if (['queues', 'all', 'roster'].includes(topic)) draw(); });
  draw();
  return root;
}
