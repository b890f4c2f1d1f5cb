// The chat manager (managers for their groups, admins for all): each
// group's queue switch and counts; each agent's status, load and current
// visitors, a control to set their status (they are told who did it),
// and monitoring any chat, unseen by the visitor, to whisper in it.
import { api } from './api.js';
import { h, announce, STATUS_LABEL } from './dom.js';
import { state, changed } from './store.js';
import * as live from './live.js';
import { groupMap, groupName } from './names.js';
import { closedBadge } from './queue.js';

export async function managerView(ctx) {
  await groupMap(true);
  const root = h('section', { id: 'manager-screen' });
  const draw = () => {
    // A redraw keeps the focus where it was (the same control by its name).
    const focused = document.activeElement && root.contains(document.activeElement) ? document.activeElement.getAttribute('aria-label') : null;
    const groups = state.roster.groups.map((g) => h('tr', { dataset: { group: g.name } },
      h('th', { scope: 'row' }, g.name, closedBadge(g)), h('td', {}, String(g.waiting)), h('td', {}, String(g.active)),
      h('td', {}, h('label', { class: 'switch' }, h('input', { type: 'checkbox', role: 'switch', checked: g.queue_online, 'aria-label': `${g.name} queue online`,
        onchange: async (ev) => {
          try { await api('PATCH', `/api/groups/${g.id}`, { queue_online: ev.target.checked }); announce(`${g.name} queue is ${ev.target.checked ? 'online' : 'offline'}; its agents are told.`); }
          catch (e) { announce(e.message); ev.target.checked = !ev.target.checked; }
        } }), h('span', {}, g.queue_online ? 'Online' : 'Offline')))));
    const agents = state.roster.staff.filter((s) => s.chat_enabled).map((s) => h('tr', { dataset: { agent: s.name } },
      h('th', { scope: 'row' }, s.name, s.connected ? null : h('span', { class: 'muted' }, ' (not connected)')),
      h('td', {}, h('span', { class: `status-dot ${s.status}`, dataset: { status: s.status } }, STATUS_LABEL[s.status])),
      h('td', { class: 'load' }, `${s.load} / ${s.max_chats}`),
      h('td', {}, (s.chats || []).length ? h('ul', { class: 'plain' }, s.chats.map((c) => h('li', {}, `${c.visitor} `, h('span', { class: 'muted' }, `(${groupName(c.group)}) `),
        h('button', { type: 'button', class: 'secondary small', 'aria-label': `Monitor the chat of ${s.name} with ${c.visitor}`, onclick: () => monitor(c) }, 'Monitor')))) : h('span', { class: 'muted' }, '—')),
      h('td', {}, s.id === ctx.me.id ? h('span', { class: 'muted' }, 'you') : h('select', { 'aria-label': `Set the status of ${s.name}`, dataset: { setStatus: s.name },
        onchange: async (ev) => {
          try { await live.request({ type: 'set_status', status: ev.target.value, staff_id: s.id }); announce(`${s.name} is now ${STATUS_LABEL[ev.target.value].toLowerCase()}; they are told you did it.`); }
          catch (e) { announce(e.message); }
        } }, h('option', { value: '' , disabled: true, selected: true }, 'Set status…'), ['available', 'busy', 'away', 'offline'].map((x) => h('option', { value: x }, STATUS_LABEL[x]))))));
    root.replaceChildren(h('h1', {}, 'Chat manager'),
      h('h2', {}, 'Queues'),
      h('div', { class: 'table-box' }, h('table', { id: 'manager-groups' }, h('thead', {}, h('tr', {}, ['Group', 'Waiting', 'Active', 'Queue'].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, groups))),
      h('h2', {}, 'Agents'),
      h('div', { class: 'table-box' }, h('table', { id: 'manager-agents' }, h('thead', {}, h('tr', {}, ['Agent', 'Status', 'Load', 'Chatting with', 'Change'].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, agents))));
    if (focused) [...root.querySelectorAll('[aria-label]')].find((e) => e.getAttribute('aria-label') === focused)?.focus();
  };
  const monitor = async (c) => {
    live.expectMonitor({ id: c.id, group: c.group, visitor: { name: c.visitor }, state: 'active', started_at: Date.now() });
    try {
      await live.request({ type: 'monitor', chat_id: c.id });
      state.selected = c.id;
      location.hash = `#/workspace/${c.id}`;
    } catch (e) { state.chats.delete(c.id); changed('chats'); announce(e.message); }
  };
  // Redraw only when the roster changes and no select is open mid-choice.
  ctx.watch((topic) => { if (['roster', 'all'].includes(topic) && !(document.activeElement && root.contains(document.activeElement) && document.activeElement.tagName === 'SELECT')) draw(); });
  draw();
  return root;
}
