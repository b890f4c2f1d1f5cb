// Tickets: the list (filters, search, sorting, paging) and one ticket
// (transcript link, notes, status, priority and assignee, the history of
// every change). Stable links: #/tickets and #/tickets/{number}.
import { api, h, ApiError } from './api.js';
import { clock } from './dom.js';
import { ticketMailCard } from './mail.js';

const PER_PAGE = 25;
const STATUSES = ['open', 'pending', 'solved', 'closed'];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'];
const SOURCE_LABEL = { chat: 'Chat', offline_message: 'Offline message', missed_chat: 'Missed chat', manual: 'Manual' };
const FIELD_LABEL = {
  created: 'created it', status: 'set status', priority: 'set priority', assignee: 'assigned',
  group: 'moved to group', subject: 'renamed', note: 'added a note', requester_message: 'wrote',
};

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const pill = (kind, value) => h('span', { class: `pill ${kind}-${value}` }, cap(value));

// The list's filters live in the address, so a filtered list is a link.
function filters() {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  return {
    status: q.get('status') ?? 'open,pending', priority: q.get('priority') || '', source: q.get('source') || '',
    assignee: q.get('assignee') || '', q: q.get('q') || '', sort: q.get('sort') || 'updated', order: q.get('order') || 'desc',
    page: Number(q.get('page')) || 1,
  };
}

function select(id, label, value, options) {
  return h('label', {}, label, h('select', { id }, options.map(([v, t]) => h('option', { value: v, selected: v === value }, t))));
}

async function listView(ctx) {
  const f = filters();
  const q = new URLSearchParams({ sort: f.sort, order: f.order, page: f.page, per_page: PER_PAGE });
  for (const k of ['status', 'priority', 'source', 'assignee', 'q']) if (f[k]) q.set(k, f[k]);
  const list = await api('GET', `/api/tickets?${q}`);
  const root = h('section', { id: 'tickets-screen' });
  const form = h('form', { class: 'row filters', id: 'ticket-filters', role: 'search' },
    h('label', {}, 'Search', h('input', { id: 'ticket-q', type: 'search', value: f.q, placeholder: 'Subject, name or email' })),
    select('ticket-status', 'Status', f.status, [['open,pending', 'Unsolved'], ['', 'Any'], ...STATUSES.map((s) => [s, cap(s)])]),
    select('ticket-priority', 'Priority', f.priority, [['', 'Any'], ...PRIORITIES.map((s) => [s, cap(s)])]),
    select('ticket-source', 'Source', f.source, [['', 'Any'], ...Object.entries(SOURCE_LABEL)]),
    select('ticket-assignee', 'Assignee', f.assignee, [['', 'Anyone'], ['me', 'Me'], ['none', 'Nobody']]),
    h('button', { type: 'submit' }, 'Filter'));
  const go = (changes) => {
    const next = { ...f, ...changes };
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v !== '' && !(k === 'page' && v === 1)) p.set(k, v);
    if (!next.status) p.set('status', '');
    location.hash = `#/tickets?${p}`;
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go({ q: form.querySelector('#ticket-q').value.trim(), status: form.querySelector('#ticket-status').value,
      priority: form.querySelector('#ticket-priority').value, source: form.querySelector('#ticket-source').value,
      assignee: form.querySelector('#ticket-assignee').value, page: 1 });
  });
  const sortable = (key, label) => {
    const on = f.sort === key;
    const next = on && f.order === 'desc' ? 'asc' : 'desc';
    return h('th', { 'aria-sort': on ? (f.order === 'asc' ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'link', onclick: () => go({ sort: key, order: next, page: 1 }) }, label, on ? (f.order === 'asc' ? ' ▲' : ' ▼') : ''));
  };
  const rows = list.tickets.map((t) => h('tr', { dataset: { number: t.number } },
    h('td', {}, h('a', { href: `#/tickets/${t.number}` }, `#${t.number}`)),
    h('td', { class: 'subject' }, h('a', { href: `#/tickets/${t.number}` }, t.subject)),
    h('td', {}, t.requester_name, t.requester_email ? h('div', { class: 'muted' }, t.requester_email) : null),
    h('td', {}, pill('status', t.status)), h('td', {}, pill('priority', t.priority)),
    h('td', {}, t.group_name), h('td', {}, t.assignee_name || '—'),
    h('td', {}, SOURCE_LABEL[t.source]), h('td', {}, clock(t.updated_at))));
  const pages = Math.max(1, Math.ceil(list.total / PER_PAGE));
  root.append(...[
    h('div', { class: 'row spread' }, h('h1', {}, 'Tickets'), h('button', { type: 'button', id: 'ticket-new', onclick: () => newTicket(ctx) }, 'New ticket')),
    form,
    h('p', { class: 'muted', id: 'ticket-total', role: 'status' }, `${list.total} ticket${list.total === 1 ? '' : 's'}`),
    list.total === 0 ? h('p', { class: 'muted', id: 'tickets-empty' }, 'No tickets match.') :
      h('div', { class: 'table-box' }, h('table', { id: 'tickets-table' },
        h('thead', {}, h('tr', {}, sortable('number', 'No.'), sortable('subject', 'Subject'), sortable('requester', 'Requester'),
          sortable('status', 'Status'), sortable('priority', 'Priority'), h('th', {}, 'Group'), h('th', {}, 'Assignee'),
          h('th', {}, 'Source'), sortable('updated', 'Updated'))),
        h('tbody', {}, rows))),
    pages > 1 ? h('div', { class: 'row' },
      h('button', { type: 'button', class: 'secondary', disabled: f.page <= 1, onclick: () => go({ page: f.page - 1 }) }, 'Previous'),
      h('span', {}, `Page ${f.page} of ${pages}`),
      h('button', { type: 'button', class: 'secondary', disabled: f.page >= pages, onclick: () => go({ page: f.page + 1 }) }, 'Next')) : null,
  ].filter(Boolean));
  return root;
}

async function newTicket(ctx) {
  const groups = await api('GET', '/api/groups');
  const mine = groups.filter((g) => ['owner', 'admin'].includes(ctx.me.role) || (ctx.me.groups || []).includes(g.id));
  const err = h('p', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'card', id: 'ticket-new-form' },
    h('h2', {}, 'New ticket'),
    h('label', {}, 'Subject', h('input', { id: 'nt-subject', required: true, maxlength: 200 })),
    h('label', {}, 'Requester', h('input', { id: 'nt-name', required: true, maxlength: 80 })),
    h('label', {}, 'Email', h('input', { id: 'nt-email', type: 'email', maxlength: 254 })),
    select('nt-group', 'Group', mine[0] && mine[0].id, mine.map((g) => [g.id, g.name])),
    h('label', {}, 'Note', h('textarea', { id: 'nt-note', rows: 3, maxlength: 8000 })),
    err,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create ticket')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = (id) => form.querySelector(id).value.trim();
    try {
      const t = await api('POST', '/api/tickets', {
        subject: v('#nt-subject'), requester_name: v('#nt-name'), requester_email: v('#nt-email') || undefined,
        group: v('#nt-group'), note: v('#nt-note') || undefined,
      });
      location.hash = `#/tickets/${t.number}`;
    } catch (e2) { err.textContent = e2.message; }
  });
  const screen = document.getElementById('tickets-screen');
  const old = document.getElementById('ticket-new-form');
  if (old) old.remove();
  screen.insertBefore(form, screen.children[1]);
  form.querySelector('#nt-subject').focus();
}

function historyLine(c) {
  const what = FIELD_LABEL[c.field] || c.field;
  let detail = '';
  if (['status', 'priority'].includes(c.field)) detail = ` ${cap(c.to || '')} (was ${c.from || '—'})`;
  else if (c.field === 'assignee') detail = c.to ? ` ${c.to_label}` : ' nobody';
  else if (c.field === 'group') detail = ` ${c.to_label}`;
  else if (c.field === 'subject') detail = ` “${c.to}”`;
  else if (c.field === 'created') detail = ` (${(SOURCE_LABEL[c.to] || c.to).toLowerCase()})`;
  return h('li', {}, h('time', {}, clock(c.at)), ' ', h('strong', {}, c.by_name), ` ${what}${detail}`);
}

async function ticketView(ctx, number) {
  const [t, staff] = await Promise.all([api('GET', `/api/tickets/${number}`), api('GET', '/api/staff').catch(() => [])]);
  const root = h('section', { id: 'ticket' });
  const err = h('p', { class: 'form-error', role: 'alert', id: 'ticket-error' });
  const change = async (body) => {
    err.textContent = '';
    try { await api('PATCH', `/api/tickets/${number}`, body); root.replaceWith(await ticketView(ctx, number)); } catch (e) {
      err.textContent = e instanceof ApiError ? e.message : String(e);
    }
  };
  const people = staff.filter((s) => !s.disabled && (['owner', 'admin'].includes(s.role) || (s.groups || []).includes(t.group)));
  const status = select('ticket-set-status', 'Status', t.status, STATUSES.map((s) => [s, cap(s)]));
  status.querySelector('select').addEventListener('change', (e) => change({ status: e.target.value }));
  const prio = select('ticket-set-priority', 'Priority', t.priority, PRIORITIES.map((s) => [s, cap(s)]));
  prio.querySelector('select').addEventListener('change', (e) => change({ priority: e.target.value }));
  const who = select('ticket-set-assignee', 'Assignee', t.assignee || '', [['', 'Nobody'], ...people.map((s) => [s.id, s.display_name])]);
  who.querySelector('select').addEventListener('change', (e) => change({ assignee: e.target.value || null }));
  const note = h('textarea', { id: 'ticket-note', rows: 3, maxlength: 8000, 'aria-label': 'Internal note' });
  const noteForm = h('form', { id: 'ticket-note-form', class: 'compose-note' }, note,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add note')));
  noteForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    try { await api('POST', `/api/tickets/${number}/notes`, { body: note.value }); root.replaceWith(await ticketView(ctx, number)); } catch (e2) {
      err.textContent = e2.message;
    }
  });
  root.append(
    h('p', {}, h('a', { href: '#/tickets' }, '← Tickets')),
    h('h1', {}, h('span', { class: 'muted' }, `#${t.number} `), t.subject),
    h('div', { class: 'ticket-grid' },
      h('div', {},
        h('dl', { class: 'details card' }, [
          ['Requester', t.requester_name], ['Email', t.requester_email ? h('a', { href: `mailto:${t.requester_email}` }, t.requester_email) : '—'],
          ['Group', t.group_name], ['Source', SOURCE_LABEL[t.source]], ['Created', clock(t.created_at)],
          ['Chat', t.chat_link ? h('a', { href: `#/chats/${t.chat}`, id: 'ticket-chat' }, 'Open the transcript') : '—'],
        ].map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
        h('section', { class: 'card', id: 'ticket-notes' }, h('h2', {}, 'Notes'),
          t.notes.length ? h('ol', { class: 'thread' }, t.notes.map((n) => h('li', { class: `msg ${n.kind === 'requester' ? 'visitor' : 'whisper'}` },
            h('span', { class: 'author' }, n.kind === 'requester' ? `${n.by_name} (requester)` : n.by_name),
            h('p', { class: 'body' }, n.body), h('time', {}, clock(n.at))))) : h('p', { class: 'muted' }, 'No notes yet.'),
          noteForm)),
      h('div', {},
        h('section', { class: 'card', id: 'ticket-fields' }, h('h2', {}, 'Ticket'), status, prio, who, err),
        ticketMailCard(t),
        h('section', { class: 'card', id: 'ticket-history' }, h('h2', {}, 'History'),
          h('ul', { class: 'plain history' }, t.history.slice().reverse().map(historyLine))))));
  return root;
}

export async function ticketsView(ctx, number) {
  return number && /^\d+$/.test(number) ? ticketView(ctx, number) : listView(ctx);
}

/** The dashboard's panel: tickets from chats, unsolved, recent changes. */
export async function ticketsPanel() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  let s;
  try { s = await api('GET', `/api/tickets/summary?zone=${encodeURIComponent(zone)}`); } catch (e) {
    return h('p', { class: 'muted' }, 'Tickets could not be loaded.');
  }
  return h('div', {},
    h('ul', { class: 'plain figures' },
      h('li', {}, h('strong', { id: 'tickets-today' }, String(s.from_chats_today)), ' from chats today'),
      h('li', {}, h('strong', { id: 'tickets-week' }, String(s.from_chats_7_days)), ' in the last 7 days'),
      h('li', {}, h('a', { href: '#/tickets' }, h('strong', { id: 'tickets-unsolved' }, String(s.unsolved)), ' unsolved')),
      h('li', {}, h('a', { href: '#/tickets?assignee=me' }, h('strong', {}, String(s.mine)), ' assigned to you'))),
    s.recent.length ? h('ul', { class: 'plain', id: 'tickets-recent' }, s.recent.slice(0, 5).map((c) => h('li', {},
      h('a', { href: `#/tickets/${c.number}` }, `#${c.number}`), ` ${c.subject} · `,
      h('span', { class: 'muted' }, `${c.by_name} ${FIELD_LABEL[c.field] || c.field}, ${clock(c.at)}`)))) : null);
}
