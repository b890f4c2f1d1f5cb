// The offline messages screen: what visitors left with the widget's
// message form when nobody could chat, newest first, for the staff of
// each group (admins: all). Answer them by email; the tickets issue turns
// each into a ticket.
import { api, h } from './api.js';

const PER_PAGE = 50;

function when(ms) {
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

export async function messagesView(ctx, page = 1) {
  const [list, groups] = await Promise.all([
    api('GET', `/api/offline_messages?page=${page}&per_page=${PER_PAGE}`),
    api('GET', '/api/groups'),
  ]);
  const groupName = new Map(groups.map((g) => [g.id, g.name]));
  const root = h('section', { id: 'messages-screen' });
  const rows = list.messages.map((m) => h('tr', { dataset: { id: m.id } },
    h('td', {}, when(m.at)),
    h('td', {}, m.name),
    h('td', {}, h('a', { href: `mailto:${m.email}` }, m.email)),
    h('td', {}, groupName.get(m.group) || '—'),
    h('td', { class: 'message' }, m.message, m.page_url ? h('div', { class: 'muted' }, `From ${m.page_url}`) : null)));
  const pages = Math.max(1, Math.ceil(list.total / PER_PAGE));
  const go = async (p) => root.replaceWith(await messagesView(ctx, p));
  root.append(...[
    h('h1', {}, 'Offline messages'),
    h('p', { class: 'muted' }, 'Left with the website widget while nobody could chat. Reply by email.'),
    list.total === 0 ? h('p', { class: 'muted', id: 'messages-empty' }, 'No messages yet.') :
      h('div', { class: 'table-box' }, h('table', { id: 'messages-table' },
        h('thead', {}, h('tr', {}, ['Received', 'Name', 'Email', 'Group', 'Message'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows))),
    pages > 1 ? h('div', { class: 'row' },
      h('button', { type: 'button', class: 'secondary', disabled: page <= 1, onclick: () => go(page - 1) }, 'Newer'),
      h('span', {}, `Page ${page} of ${pages}`),
      h('button', { type: 'button', class: 'secondary', disabled: page >= pages, onclick: () => go(page + 1) }, 'Older')) : null,
  ].filter(Boolean));
  return root;
}
