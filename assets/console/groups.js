// The groups screen: departments with their queue, routing, RONA timeout
// and widget look. Owner and admins add and delete; managers edit their own.
import { api, h, notice, clearNotice } from './api.js';

const ROUTING = { round_robin: 'Round robin', least_busy: 'Least busy', manual: 'Manual (agents pick)' };

function groupForm(existing, done) {
  const w = existing ? existing.widget : { title: 'Chat with us', color: '#1f6feb', greeting: 'Hello! How can we help?', language: 'en' };
  const f = {
    name: h('input', { id: 'group-name', required: true, maxlength: 60, value: existing ? existing.name : '' }),
    routing: h('select', { id: 'group-routing' }, Object.entries(ROUTING).map(([v, t]) =>
      h('option', { value: v, selected: (existing ? existing.routing : 'round_robin') === v }, t))),
    rona: h('input', { id: 'group-rona', type: 'number', min: 5, max: 600, value: existing ? existing.rona_timeout_secs : 30 }),
    online: h('input', { id: 'group-online', type: 'checkbox', checked: existing ? existing.queue_online : true }),
    title: h('input', { id: 'group-title', maxlength: 60, value: w.title }),
    color: h('input', { id: 'group-color', type: 'color', value: w.color }),
    greeting: h('input', { id: 'group-greeting', maxlength: 300, value: w.greeting }),
    language: h('input', { id: 'group-language', maxlength: 35, value: w.language }),
  };
  const form = h('form', { id: 'group-form', class: 'card grid' },
    h('label', {}, 'Name', f.name),
    h('label', {}, 'Routing', f.routing),
    h('label', {}, 'RONA timeout (seconds)', f.rona),
    h('label', { class: 'check' }, f.online, 'Queue online'),
    h('label', {}, 'Widget title', f.title),
    h('label', {}, 'Widget colour', f.color),
    h('label', {}, 'Greeting', f.greeting),
    h('label', {}, 'Language', f.language),
    h('div', { class: 'row' },
      h('button', { id: 'group-submit', type: 'submit' }, existing ? 'Save' : 'Add group'),
      existing ? h('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, 'Cancel') : null));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearNotice();
    const body = {
      name: f.name.value, routing: f.routing.value, rona_timeout_secs: Number(f.rona.value), queue_online: f.online.checked,
      widget: { title: f.title.value, color: f.color.value, greeting: f.greeting.value, language: f.language.value },
    };
    try {
      if (existing) await api('PATCH', `/api/groups/${existing.id}`, body);
      else await api('POST', '/api/groups', body);
      notice(existing ? 'Saved.' : `Group ${body.name} added.`, 'ok');
      done(true);
    } catch (e) { notice(e.message); }
  });
  return form;
}

// Colours go through the CSSOM: the console's CSP forbids style attributes.
function widgetBadge(widget) {
  const badge = h('span', { class: 'badge' }, widget.title);
  badge.style.backgroundColor = widget.color;
  badge.style.color = '#fff';
  return badge;
}

export async function groupsView(ctx) {
  const groups = await api('GET', '/api/groups');
  const isAdmin = ['owner', 'admin'].includes(ctx.me.role);
  const canEdit = isAdmin || ctx.me.role === 'manager';
  const root = h('section', { id: 'groups-screen' });
  const formSlot = h('div', {});
  const rerender = async () => root.replaceWith(await groupsView(ctx));
  const edit = (g) => formSlot.replaceChildren(h('h2', {}, `Edit ${g.name}`),
    groupForm(g, (changed) => (changed ? rerender() : formSlot.replaceChildren())));
  const remove = async (g) => {
    if (!confirm(`Delete the group ${g.name}? Its members leave it.`)) return;
    try { await api('DELETE', `/api/groups/${g.id}`); notice(`Group ${g.name} deleted.`, 'ok'); await rerender(); }
    catch (e) { notice(e.message); }
  };
  const rows = groups.map((g) => h('tr', { dataset: { name: g.name } },
    h('td', {}, g.name), h('td', {}, ROUTING[g.routing] || g.routing), h('td', {}, `${g.rona_timeout_secs} s`),
    h('td', {}, g.queue_online ? 'online' : 'offline'),
    h('td', {}, widgetBadge(g.widget)),
    h('td', { class: 'actions' },
      canEdit ? h('button', { type: 'button', class: 'secondary', onclick: () => edit(g) }, 'Edit') : null,
      isAdmin ? h('button', { type: 'button', class: 'danger', onclick: () => remove(g) }, 'Delete') : null)));
  root.append(
    h('h1', {}, isAdmin ? 'Groups' : 'Your groups'),
    groups.length === 0 ? h('p', { class: 'muted' }, isAdmin ? 'No groups yet. Add one below.' : 'You are not in any group yet.') :
      h('table', { id: 'groups-table' },
        h('thead', {}, h('tr', {}, ['Name', 'Routing', 'RONA', 'Queue', 'Widget', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)),
    formSlot);
  if (isAdmin) root.append(h('h2', {}, 'Add a group'), groupForm(null, () => rerender()));
  return root;
}
