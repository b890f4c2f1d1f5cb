// The chat lists: My Active, My Completed, By Group, By Agent. Columns
// sort on the server (ties broken by idle time); rows select for a bulk
// transfer (managers, admins) or a delete (admins, ended chats only);
// pages of 25. Each row links to its transcript.
import { api } from './api.js';
import { h, errorSlot, duration, clock, announce } from './dom.js';
import { groupMap } from './names.js';
import { state } from './store.js';

const TABS = [
  ['mine-active', 'My active', { scope: 'mine', state: 'active' }],
  ['mine-completed', 'My completed', { scope: 'mine', state: 'completed' }],
  ['group', 'By group', { scope: 'group', state: 'any' }],
  ['agent', 'By agent', { scope: 'agent', state: 'any' }],
];
const COLUMNS = [
  ['visitor', 'Visitor'], ['email', 'Email'], ['group', 'Group'], ['agent', 'Agent'],
  ['started', 'Started'], ['duration', 'Duration'], ['idle', 'Idle'],
];

export async function listsView(ctx) {
  const supervises = ctx.me.role !== 'agent';
  const isAdmin = ['owner', 'admin'].includes(ctx.me.role);
  const groups = Object.values(await groupMap());
  const q = { tab: 'mine-active', sort: 'started', order: 'desc', page: 1, group: '', agent: '' };
  const selected = new Set();
  const root = h('section', { id: 'lists-screen' });
  const tabBar = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Chat lists' });
  const filters = h('div', { class: 'row filters' });
  const err = errorSlot();
  const tableBox = h('div', { class: 'table-box' });
  const pager = h('div', { class: 'row pager' });
  const bulk = h('div', { class: 'row bulk', id: 'bulk-bar' });
  // Transcript search: while it has words, its results replace the lists.
  const searchBox = h('input', { type: 'search', id: 'chat-search', 'aria-label': 'Search transcripts', placeholder: 'Search transcripts: words, a name, an email' });
  const found = h('div', { id: 'chat-search-results', hidden: true });
  const lists = h('div', { id: 'chat-lists' }, tabBar, filters, bulk, err.el, tableBox, pager);
  const search = async () => {
    const words = searchBox.value.trim();
    found.hidden = !words; lists.hidden = !!words;
    if (!words) return;
    let r;
    try { r = await api('GET', `/api/chats/search?q=${encodeURIComponent(words.slice(0, 200))}&per_page=50`); } catch (e) { found.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, e.message)); return; }
    if (searchBox.value.trim() !== words) return;
    const marked = (text, ranges) => {
      const bytes = new TextEncoder().encode(text); const dec = new TextDecoder();
      const out = []; let at = 0;
      for (const [a, b] of ranges) { out.push(dec.decode(bytes.slice(at, a)), h('mark', {}, dec.decode(bytes.slice(a, b)))); at = b; }
      out.push(dec.decode(bytes.slice(at)));
      return out;
    };
    found.replaceChildren(h('p', { class: 'muted', id: 'chat-search-count' }, r.total === 1 ? '1 chat found' : `${r.total} chats found`),
      r.chats.length ? h('ul', { class: 'plain search-hits' }, r.chats.map((c) => h('li', { class: 'card hit', dataset: { chat: c.id } },
        h('div', { class: 'row spread' }, h('a', { href: `#/chats/${c.id}` }, c.visitor_name), h('span', { class: 'muted small' }, `${c.group_name}${c.agent_name ? ` · ${c.agent_name}` : ''} · ${clock(c.started_at)}`)),
        h('p', { class: 'snippet-text' }, marked(c.snippet, c.highlights))))) : null);
  };
  let searchTimer = null;
  searchBox.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 250); });
  root.append(h('h1', {}, 'Chat history'),
    h('form', { class: 'row filters', role: 'search', onsubmit: (e) => { e.preventDefault(); search(); } }, searchBox, h('button', { type: 'submit', class: 'secondary' }, 'Search')),
    found, lists);

  const drawTabs = () => tabBar.replaceChildren(...TABS.map(([id, label]) => h('button', {
    type: 'button', role: 'tab', id: `tab-${id}`, class: 'tab', 'aria-selected': q.tab === id ? 'true' : 'false',
    onclick: () => { q.tab = id; q.page = 1; selected.clear(); load(); } }, label)));

  const drawFilters = () => {
    const items = [];
    if (q.tab === 'group') items.push(h('label', {}, 'Group', h('select', { id: 'filter-group', onchange: (e) => { q.group = e.target.value; q.page = 1; load(); } },
      h('option', { value: '' }, 'All my groups'), groups.map((g) => h('option', { value: g.id, selected: q.group === g.id }, g.name)))));
    if (q.tab === 'agent') items.push(h('label', {}, 'Agent', h('select', { id: 'filter-agent', onchange: (e) => { q.agent = e.target.value; q.page = 1; load(); } },
      h('option', { value: '' }, 'Every agent'), state.roster.staff.filter((s) => s.chat_enabled).map((s) => h('option', { value: s.id, selected: q.agent === s.id }, s.name)))));
    filters.replaceChildren(...items);
  };

  const drawBulk = () => {
    const items = [h('span', { id: 'selected-count', class: 'muted' }, selected.size ? `${selected.size} selected` : 'Select chats for a bulk action')];
    if (supervises) {
      const to = h('select', { id: 'bulk-group', 'aria-label': 'Transfer the selected chats to' }, groups.map((g) => h('option', { value: g.id }, g.name)));
      items.push(to, h('button', { type: 'button', id: 'bulk-transfer', class: 'secondary', disabled: !selected.size, onclick: async () => {
        try {
          const res = await api('POST', '/api/chats/transfer', { chat_ids: [...selected], to_group: to.value });
          const bad = res.filter((r) => !r.ok);
          announce(bad.length ? `${res.length - bad.length} moved; ${bad.length} not: ${bad[0].error.message}` : `${res.length} chats moved to ${to.selectedOptions[0].textContent}.`);
          selected.clear(); load();
        } catch (e) { err.show(e.message); }
      } }, 'Transfer to group'));
    }
    if (isAdmin) items.push(h('button', { type: 'button', id: 'bulk-delete', class: 'danger', disabled: !selected.size, onclick: async () => {
      if (!confirm(`Delete ${selected.size} chats and their messages for good? Open chats cannot be deleted.`)) return;
      try {
        const res = await api('POST', '/api/chats/delete', { chat_ids: [...selected] });
        const bad = res.filter((r) => !r.ok);
        announce(bad.length ? `${res.length - bad.length} deleted; ${bad.length} not: ${bad[0].error.message}` : `${res.length} chats deleted.`);
        selected.clear(); load();
      } catch (e) { err.show(e.message); }
    } }, 'Delete'));
    bulk.replaceChildren(...items);
    bulk.hidden = !supervises && !isAdmin;
  };

  const load = async () => {
    drawTabs(); drawFilters();
    const [, , base] = TABS.find(([id]) => id === q.tab);
    const params = new URLSearchParams({ ...base, sort: q.sort, order: q.order, page: String(q.page), per_page: '25' });
    if (q.tab === 'group' && q.group) params.set('group', q.group);
    if (q.tab === 'agent' && q.agent) params.set('agent', q.agent);
    let page;
    try { page = await api('GET', `/api/chats?${params}`); err.clear(); } catch (e) { err.show(e.message); return; }
    const all = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': 'Select every chat on this page',
      checked: page.chats.length > 0 && page.chats.every((r) => selected.has(r.id)),
      onchange: (e) => { for (const r of page.chats) { if (e.target.checked) selected.add(r.id); else selected.delete(r.id); } load(); } });
    const head = h('tr', {}, h('th', { scope: 'col' }, all), COLUMNS.map(([key, label]) => h('th', { scope: 'col', 'aria-sort': q.sort === key ? (q.order === 'asc' ? 'ascending' : 'descending') : null },
      h('button', { type: 'button', class: 'sort', dataset: { sort: key }, onclick: () => {
        if (q.sort === key) q.order = q.order === 'asc' ? 'desc' : 'asc'; else { q.sort = key; q.order = key === 'started' ? 'desc' : 'asc'; }
        load();
      } }, label, q.sort === key ? (q.order === 'asc' ? ' ▲' : ' ▼') : ''))), h('th', { scope: 'col' }, 'Wrap-up'), h('th', { scope: 'col' }, 'Rating'));
    const rows = page.chats.map((r) => h('tr', { dataset: { chat: r.id } },
      h('td', {}, h('input', { type: 'checkbox', 'aria-label': `Select the chat with ${r.visitor_name}`, checked: selected.has(r.id),
        onchange: (e) => { if (e.target.checked) selected.add(r.id); else selected.delete(r.id); drawBulk(); } })),
      h('td', {}, h('a', { href: `#/chats/${r.id}` }, r.visitor_name)),
      h('td', {}, r.visitor_email || '—'), h('td', {}, r.group_name), h('td', {}, r.agent_name || '—'),
      h('td', {}, clock(r.started_at)), h('td', {}, duration(r.duration_secs * 1000)),
      h('td', {}, r.idle_secs === null || r.idle_secs === undefined ? '—' : duration(r.idle_secs * 1000)),
      h('td', {}, r.wrap_up || '—'),
      h('td', {}, r.rating ? h('span', { class: `pill rating-${r.rating}` }, r.rating === 'good' ? 'Good' : 'Bad') : '—')));
    tableBox.replaceChildren(page.chats.length ? h('table', { id: 'chats-table' }, h('thead', {}, head), h('tbody', {}, rows))
      : h('p', { class: 'muted card', id: 'chats-empty' }, 'No chats here yet.'));
    const pages = Math.max(1, Math.ceil(page.total / page.per_page));
    pager.replaceChildren(
      h('button', { type: 'button', class: 'secondary', id: 'page-prev', disabled: q.page <= 1, onclick: () => { q.page -= 1; load(); } }, 'Previous'),
      h('span', { id: 'page-info' }, `Page ${q.page} of ${pages} · ${page.total} chats`),
      h('button', { type: 'button', class: 'secondary', id: 'page-next', disabled: q.page >= pages, onclick: () => { q.page += 1; load(); } }, 'Next'));
    drawBulk();
  };
  await load();
  return root;
}
