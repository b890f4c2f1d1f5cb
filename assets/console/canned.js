// Canned responses: the compose box's picker (type `/` or `#` and a few
// letters of a shortcut; arrows choose, Enter or Tab inserts, Escape
// closes) and the Responses screen (your own; the shared ones, which
// admins keep). Placeholders are filled in when a response is inserted.
import { api, h, ApiError } from './api.js';
import { errorSlot, announce } from './dom.js';

const PLACEHOLDERS = [
  ['{visitor_name}', 'the visitor’s name'],
  ['{visitor_first_name}', 'its first word'],
  ['{agent_name}', 'your name'],
];

/** A response's text with its placeholders filled in. */
export function expand(body, { visitor = '', agent = '' } = {}) {
  const first = visitor.trim().split(/\s+/)[0] || visitor;
  return body
    .replaceAll('{visitor_name}', visitor)
    .replaceAll('{visitor_first_name}', first)
    .replaceAll('{agent_name}', agent);
}

/** The shortcut being typed just before the caret (`/gre` → "gre"), or null. */
export function typedShortcut(before) {
  const m = /(^|\s)[/#]([a-z0-9_-]*)$/i.exec(before);
  return m ? { query: m[2].toLowerCase(), start: before.length - m[2].length - 1 } : null;
}

/** The responses that fit `query`: shortcuts starting with it first, then those containing it. */
export function matching(list, query) {
  const starts = list.filter((c) => c.shortcut.startsWith(query));
  const within = list.filter((c) => !c.shortcut.startsWith(query) && (c.shortcut.includes(query) || c.body.toLowerCase().includes(query)));
  return [...starts, ...within].slice(0, 8);
}

let cached = null;
async function responses(fresh = false) {
  if (!cached || fresh) cached = api('GET', '/api/canned').catch(() => []);
  return cached;
}

let pickers = 0;

/** Adds the picker to a compose box; `who()` gives {visitor, agent} for the placeholders. */
export function attachPicker(box, who) {
  const id = `canned-list-${++pickers}`;
  const list = h('ul', { class: 'canned-list', id, role: 'listbox', 'aria-label': 'Canned responses', hidden: true });
  const status = h('span', { class: 'sr-only', 'aria-live': 'polite' });
  box.setAttribute('aria-autocomplete', 'list');
  box.setAttribute('aria-controls', id);
  let shown = [];
  let active = 0;
  let token = null;
  const close = () => {
    list.hidden = true; shown = []; token = null;
    box.removeAttribute('aria-activedescendant');
  };
  const draw = () => {
    list.replaceChildren(...shown.map((c, i) => h('li', {
      id: `${id}-${i}`, role: 'option', 'aria-selected': String(i === active), class: i === active ? 'active' : '',
      onmousedown: (e) => { e.preventDefault(); pick(i); },
    }, h('code', {}, `/${c.shortcut}`), ' ', h('span', { class: 'muted' }, expand(c.body, who()).slice(0, 90)))));
    box.setAttribute('aria-activedescendant', `${id}-${active}`);
    list.children[active]?.scrollIntoView({ block: 'nearest' });
  };
  const pick = (i) => {
    const c = shown[i];
    if (!c || !token) return;
    const caret = box.selectionStart;
    const text = expand(c.body, who());
    box.value = box.value.slice(0, token.start) + text + box.value.slice(caret);
    const at = token.start + text.length;
    box.setSelectionRange(at, at);
    close();
    box.dispatchEvent(new Event('input', { bubbles: true }));
  };
  box.addEventListener('input', async () => {
    const t = typedShortcut(box.value.slice(0, box.selectionStart));
    if (!t) { close(); return; }
    const all = await responses();
    const now = typedShortcut(box.value.slice(0, box.selectionStart));
    if (!now || now.query !== t.query) return; // typed on meanwhile
    token = t;
    shown = matching(all, t.query);
    if (!shown.length) { close(); status.textContent = all.length ? 'No response fits.' : ''; return; }
    active = 0;
    list.hidden = false;
    draw();
    status.textContent = `${shown.length} ${shown.length === 1 ? 'response' : 'responses'}: arrows choose, Enter inserts.`;
  });
  // Before the compose box's own keys (Enter sends): registered first.
  box.addEventListener('keydown', (e) => {
    if (list.hidden) return;
    const keys = {
      ArrowDown: () => { active = (active + 1) % shown.length; draw(); },
      ArrowUp: () => { active = (active + shown.length - 1) % shown.length; draw(); },
      Enter: () => pick(active),
      Tab: () => pick(active),
      Escape: () => close(),
    };
    const act = keys[e.key];
    if (!act || (e.key === 'Enter' && e.shiftKey)) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    act();
  });
  box.addEventListener('blur', () => setTimeout(close, 150));
  return h('div', { class: 'canned-anchor' }, list, status);
}

// ---- the Responses screen --------------------------------------------

function item(c, { editable, onEdit, onDelete }) {
  return h('li', { class: 'canned-item', dataset: { id: c.id } },
    h('div', { class: 'row spread' }, h('code', {}, `/${c.shortcut}`),
      editable ? h('span', { class: 'row' },
        h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit /${c.shortcut}`, onclick: () => onEdit(c) }, 'Edit'),
        h('button', { type: 'button', class: 'secondary', 'aria-label': `Delete /${c.shortcut}`, onclick: () => onDelete(c) }, 'Delete')) : null),
    h('p', { class: 'canned-body' }, c.body));
}

export async function responsesView(ctx) {
  const admin = ['owner', 'admin'].includes(ctx.me.role);
  const root = h('section', { id: 'responses-screen' });
  const draw = async () => {
    responses(true); // the picker's list, fresh
    const mine = await api('GET', '/api/canned?all=true');
    const sharedList = mine.filter((c) => !c.owner);
    const own = mine.filter((c) => c.owner);
    const err = errorSlot();
    const shortcut = h('input', { id: 'canned-shortcut', maxlength: 40, required: true, autocomplete: 'off', 'aria-describedby': 'canned-shortcut-help' });
    const body = h('textarea', { id: 'canned-body', rows: 4, maxlength: 2000, required: true, 'aria-describedby': 'canned-placeholders' });
    const shared = admin ? h('input', { type: 'checkbox', id: 'canned-shared' }) : null;
    const save = h('button', { type: 'submit', id: 'canned-save' }, 'Add response');
    const cancel = h('button', { type: 'button', class: 'secondary', id: 'canned-cancel', hidden: true }, 'Cancel');
    let editing = null;
    const form = h('form', { class: 'card stack', id: 'canned-form' },
      h('h2', { id: 'canned-form-title' }, 'New response'),
      h('label', {}, 'Shortcut', shortcut),
      h('p', { class: 'muted', id: 'canned-shortcut-help' }, 'Letters a–z, digits, “-” or “_”. In a chat, type / or # and the first letters.'),
      h('label', {}, 'Text', body),
      h('p', { class: 'muted', id: 'canned-placeholders' }, 'Filled in when inserted: ',
        PLACEHOLDERS.map(([p, what], i) => [i ? ', ' : '', h('code', {}, p), ` (${what})`]), '.'),
      shared ? h('label', { class: 'check' }, shared, 'Shared with every staff member') : null,
      err.el, h('div', { class: 'row' }, save, cancel));
    const edit = (c) => {
      editing = c;
      shortcut.value = c.shortcut; body.value = c.body;
      if (shared) { shared.checked = !c.owner; shared.disabled = true; }
      form.querySelector('#canned-form-title').textContent = `Edit /${c.shortcut}`;
      save.textContent = 'Save changes'; cancel.hidden = false;
      shortcut.focus();
    };
    cancel.addEventListener('click', () => draw());
    const remove = async (c) => {
      if (!window.confirm(`Delete /${c.shortcut}?`)) return;
      try { await api('DELETE', `/api/canned/${c.id}`); announce(`/${c.shortcut} deleted.`); await draw(); } catch (e) { err.show(e.message); }
    };
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.clear();
      try {
        if (editing) await api('PATCH', `/api/canned/${editing.id}`, { shortcut: shortcut.value.trim(), body: body.value });
        else await api('POST', '/api/canned', { shortcut: shortcut.value.trim(), body: body.value, shared: shared ? shared.checked : false });
        announce(editing ? 'Response saved.' : 'Response added.');
        await draw();
      } catch (e2) {
        err.show(e2 instanceof ApiError ? e2.message : String(e2));
        (e2.field === 'body' ? body : shortcut).focus();
      }
    });
    const section = (title, id, list, editable, empty) => h('section', { class: 'card', id },
      h('h2', {}, title),
      list.length ? h('ul', { class: 'plain canned' }, list.map((c) => item(c, { editable, onEdit: edit, onDelete: remove })))
        : h('p', { class: 'muted' }, empty));
    root.replaceChildren(
      h('h1', {}, 'Canned responses'),
      h('p', { class: 'muted' }, 'Ready answers for the compose box. Your own response wins over a shared one with the same shortcut.'),
      h('div', { class: 'responses-grid' },
        h('div', {},
          section('Mine', 'canned-mine', own, true, 'None yet: add one with the form.'),
          section('Shared', 'canned-shared-list', sharedList, admin, admin ? 'None yet: add one and tick “Shared”.' : 'None yet; admins write shared responses.')),
        form));
  };
  await draw();
  return root;
}
