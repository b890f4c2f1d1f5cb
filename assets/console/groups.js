// The groups screen: departments with their queue, routing, RONA timeout,
// widget look and behaviour, and the snippet that embeds the widget.
// Owner and admins add and delete; managers edit their own.
import { api, h, notice, clearNotice } from './api.js';
import { errorSlot } from './dom.js';

const ROUTING = { round_robin: 'Round robin', least_busy: 'Least busy', manual: 'Manual (agents pick)' };

/** Black or white, whichever reads better on `hex` (the widget's rule). */
export function textOn(hex) {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex || '');
  if (!m) return '#ffffff';
  const n = parseInt(m[1], 16);
  const lin = (c) => { const v = c / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const l = 0.2126 * lin(n >> 16) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  return (1.05 / (l + 0.05)) >= ((l + 0.05) / 0.05) ? '#ffffff' : '#000000';
}

/** A live picture of the widget as the form's fields say (colours through the CSSOM: the CSP forbids style attributes). */
function widgetPreview(f, p) {
  const head = h('div', { class: 'pv-head' }, h('span', { class: 'pv-title' }));
  const greeting = h('p', { class: 'pv-greeting' });
  const launcher = h('span', { class: 'pv-launcher', 'aria-hidden': 'true' }, 'Chat');
  const box = h('div', { class: 'pv-box', id: `${p}widget-preview`, role: 'img' }, h('div', { class: 'pv-panel' }, head, greeting), launcher);
  const draw = () => {
    const bg = f.color.value; const fg = textOn(bg);
    head.style.backgroundColor = bg; head.style.color = fg;
    launcher.style.backgroundColor = bg; launcher.style.color = fg;
    head.firstChild.textContent = f.title.value || 'Chat with us';
    greeting.textContent = f.greeting.value;
    box.classList.toggle('left', f.position.value === 'left');
    box.setAttribute('aria-label', `Preview: “${f.title.value}” in ${bg}, ${f.position.value === 'left' ? 'bottom left' : 'bottom right'}`);
  };
  for (const k of ['color', 'title', 'greeting', 'position']) for (const ev of ['input', 'change']) f[k].addEventListener(ev, draw);
  draw();
  return h('div', { class: 'pv-wrap' }, h('span', { class: 'muted' }, 'Preview'), box);
}

function groupForm(existing, done) {
  const w = existing ? existing.widget : { title: 'Chat with us', color: '#1f6feb', greeting: 'Hello! How can we help?', language: 'en', position: 'right' };
  const on = (key, dflt) => (existing ? existing[key] !== false : dflt);
  const p = existing ? 'edit-' : ''; // the edit form and the add form may both show
  const err = errorSlot();
  const f = {
    name: h('input', { id: `${p}group-name`, required: true, maxlength: 60, value: existing ? existing.name : '' }),
    routing: h('select', { id: `${p}group-routing` }, Object.entries(ROUTING).map(([v, t]) =>
      h('option', { value: v, selected: (existing ? existing.routing : 'round_robin') === v }, t))),
    rona: h('input', { id: `${p}group-rona`, type: 'number', min: 5, max: 600, value: existing ? existing.rona_timeout_secs : 30 }),
    online: h('input', { id: `${p}group-online`, type: 'checkbox', checked: existing ? existing.queue_online : true }),
    nobody: h('input', { id: `${p}group-nobody`, type: 'checkbox', checked: on('offline_when_nobody_online', true) }),
    peek: h('input', { id: `${p}group-peek`, type: 'checkbox', checked: on('sneak_peek', true) }),
    timeout: h('input', { id: `${p}group-queue-timeout`, type: 'number', min: 0, max: 86400, value: existing ? existing.queue_timeout_secs || 0 : 0 }),
    sites: h('input', { id: `${p}group-sites`, maxlength: 4000, placeholder: 'https://shop.example.com',
      value: existing ? (existing.allowed_origins || []).join(', ') : '' }),
    position: h('select', { id: `${p}group-position` }, [['right', 'Bottom right'], ['left', 'Bottom left']].map(([v, t]) =>
      h('option', { value: v, selected: (w.position || 'right') === v }, t))),
    title: h('input', { id: `${p}group-title`, maxlength: 60, value: w.title }),
    color: h('input', { id: `${p}group-color`, type: 'color', value: w.color }),
    greeting: h('textarea', { id: `${p}group-greeting`, maxlength: 300, rows: 2 }, w.greeting),
    language: h('input', { id: `${p}group-language`, maxlength: 35, value: w.language }),
  };
  const form = h('form', { id: `${p}group-form`, class: 'card grid' },
    h('label', {}, 'Name', f.name),
    h('label', {}, 'Routing', f.routing),
    h('label', { title: 'RONA: Reassign On No Answer. An agent who does not accept an offer within this time is set to “not responding” and the chat goes to the next agent.' }, 'Seconds to accept an offer (RONA)', f.rona),
    h('label', {}, 'Queue timeout (seconds, 0: none)', f.timeout),
    h('label', { class: 'check' }, f.online, 'Queue online'),
    h('label', { class: 'check' }, f.nobody, 'Message form when nobody is online'),
    h('label', { class: 'check' }, f.peek, 'Agents see what visitors type (sneak peek)'),
    h('label', {}, 'Widget title', f.title),
    h('label', {}, 'Widget colour', f.color),
    h('label', {}, 'Greeting', f.greeting, h('span', { class: 'counter', id: `${p}greeting-counter`, 'aria-live': 'polite' })),
    h('label', {}, 'Language (en, sv, nl or auto)', f.language),
    h('label', {}, 'Launcher position', f.position),
    widgetPreview(f, p),
    h('label', {}, 'Extra sites for this widget (comma-separated)', f.sites),
    err.el,
    h('div', { class: 'row' },
      h('button', { id: `${p}group-submit`, type: 'submit' }, existing ? 'Save' : 'Add group'),
      existing ? h('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, 'Cancel') : null));
  const counter = form.querySelector('.counter');
  const countGreeting = () => { counter.textContent = `${[...f.greeting.value].length} / 300 characters`; };
  f.greeting.addEventListener('input', countGreeting);
  countGreeting();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearNotice();
    const body = {
      name: f.name.value, routing: f.routing.value, rona_timeout_secs: Number(f.rona.value), queue_online: f.online.checked,
      offline_when_nobody_online: f.nobody.checked, sneak_peek: f.peek.checked, queue_timeout_secs: Number(f.timeout.value),
      allowed_origins: f.sites.value.split(',').map((x) => x.trim()).filter(Boolean),
      widget: { title: f.title.value, color: f.color.value, greeting: f.greeting.value, language: f.language.value, position: f.position.value },
    };
    try {
      if (existing) await api('PATCH', `/api/groups/${existing.id}`, body);
      else await api('POST', '/api/groups', body);
      notice(existing ? 'Saved.' : `Group ${body.name} added.`, 'ok');
      done(true);
    } catch (e) { err.show(e.message); }
  });
  return form;
}

// Colours go through the CSSOM: the console's CSP forbids style attributes.
function widgetBadge(widget) {
  const badge = h('span', { class: 'badge' }, widget.title);
  badge.style.backgroundColor = widget.color;
  badge.style.color = textOn(widget.color);
  return badge;
}

/** The lines that put a group's chat on a website, with copy buttons. */
function snippets(groups) {
  const desk = location.origin;
  const row = (g) => {
    const script = `<script src="${desk}/widget.js" data-group="${g.id}" async></script>`;
    const link = `${desk}/chat?group=${g.id}`;
    const copy = (text, label) => h('button', { type: 'button', class: 'secondary', 'aria-label': `Copy the ${label.toLowerCase()} for ${g.name}`,
      onclick: async () => {
        try { await navigator.clipboard.writeText(text); notice(`Copied the ${label.toLowerCase()} for ${g.name}.`, 'ok'); }
        catch (e) { notice('The browser did not allow copying; select the text and copy it.'); }
      } }, 'Copy');
    return h('div', { class: 'card snippet', dataset: { group: g.name } },
      h('strong', {}, g.name),
      h('code', { class: 'snippet-script' }, script), copy(script, 'Snippet'),
      h('code', { class: 'snippet-link' }, link), copy(link, 'Chat link'));
  };
  return [h('h2', {}, 'Put the chat on your website'),
    h('p', { class: 'muted' }, 'Paste the snippet into your pages, or use the link in emails. Your site must be listed in [widget] allowed_origins; see docs/widget.md.'),
    ...groups.map(row)];
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
      canEdit ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${g.name}`, onclick: () => edit(g) }, 'Edit') : null,
      isAdmin ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${g.name}`, onclick: () => remove(g) }, 'Delete') : null)));
  root.append(
    h('h1', {}, isAdmin ? 'Groups' : 'Your groups'),
    groups.length === 0 ? h('p', { class: 'muted' }, isAdmin ? 'No groups yet. Add one below.' : 'You are not in any group yet.') :
      h('div', { class: 'table-box' }, h('table', { id: 'groups-table' },
        h('thead', {}, h('tr', {}, ['Name', 'Routing', 'RONA', 'Queue', 'Widget', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows))),
    formSlot);
  if (canEdit && groups.length) root.append(...snippets(groups));
  if (isAdmin) root.append(h('h2', {}, 'Add a group'), groupForm(null, () => rerender()));
  return root;
}
