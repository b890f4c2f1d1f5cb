// The staff screen: the staff the signed-in member may see, and for the
// owner and admins, forms to add, edit, disable and set passwords.
import { api, h, notice, clearNotice } from './api.js';
import { errorSlot } from './dom.js';

const ROLES = ['admin', 'manager', 'agent'];

function groupChecks(groups, chosen, p) {
  return h('fieldset', { id: `${p}staff-groups` }, h('legend', {}, 'Groups'),
    groups.length === 0 ? h('span', { class: 'muted' }, 'No groups yet') : null,
    groups.map((g) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: g.id, checked: chosen.includes(g.id), dataset: { groupName: g.name } }),
      g.name)));
}

function staffForm(ctx, groups, existing, done) {
  const isAdmin = ['owner', 'admin'].includes(ctx.me.role);
  const self = existing && existing.id === ctx.me.id;
  const p = existing ? 'edit-' : ''; // the edit form and the add form may both show
  const err = errorSlot();
  const f = {
    email: h('input', { id: `${p}staff-email`, type: 'email', required: true, value: existing ? existing.email : '', disabled: !isAdmin }),
    name: h('input', { id: `${p}staff-name`, required: true, maxlength: 80, value: existing ? existing.display_name : '' }),
    role: h('select', { id: `${p}staff-role`, disabled: !isAdmin || self || (existing && existing.role === 'owner') },
      (existing && existing.role === 'owner' ? ['owner'] : ROLES).map((r) =>
        h('option', { value: r, selected: (existing ? existing.role : 'agent') === r }, r))),
    password: h('input', { id: `${p}staff-password`, type: 'password', autocomplete: 'new-password', minlength: 8, required: !existing }),
    chat: h('input', { id: `${p}staff-chat`, type: 'checkbox', checked: existing ? existing.chat_enabled : true, disabled: !isAdmin }),
    max: h('input', { id: `${p}staff-max`, type: 'number', min: 1, max: 50, value: existing ? existing.max_concurrent_chats : 3, disabled: !isAdmin }),
  };
  const checks = groupChecks(groups, existing ? existing.groups : [], p);
  if (!isAdmin) for (const c of checks.querySelectorAll('input')) c.disabled = true;
  const canSetPassword = !existing || (isAdmin && !self && existing.role !== 'owner');
  const form = h('form', { id: `${p}staff-form`, class: 'card grid' },
    h('label', {}, 'Email', f.email),
    h('label', {}, 'Display name', f.name),
    h('label', {}, 'Role', f.role),
    canSetPassword ? h('label', {}, existing ? 'New password (leave empty to keep)' : 'Initial password', f.password) : null,
    h('label', {}, 'Max concurrent chats', f.max),
    h('label', { class: 'check' }, f.chat, 'Takes chats'),
    checks,
    err.el,
    h('div', { class: 'row' },
      h('button', { id: `${p}staff-submit`, type: 'submit' }, existing ? 'Save' : 'Add staff member'),
      existing ? h('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, 'Cancel') : null));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearNotice();
    const chosen = [...checks.querySelectorAll('input:checked')].map((c) => c.value);
    try {
      if (!existing) {
        await api('POST', '/api/staff', {
          email: f.email.value, display_name: f.name.value, role: f.role.value, password: f.password.value,
          chat_enabled: f.chat.checked, max_concurrent_chats: Number(f.max.value), groups: chosen,
        });
        notice(`${f.name.value} can now sign in.`, 'ok');
      } else {
        const patch = { display_name: f.name.value };
        if (isAdmin) Object.assign(patch, { email: f.email.value, chat_enabled: f.chat.checked, max_concurrent_chats: Number(f.max.value), groups: chosen });
        if (isAdmin && !self && existing.role !== 'owner') patch.role = f.role.value;
        await api('PATCH', `/api/staff/${existing.id}`, patch);
        if (canSetPassword && f.password.value) {
          await api('POST', `/api/staff/${existing.id}/password`, { password: f.password.value });
        }
        notice('Saved.', 'ok');
        if (self) await ctx.refreshMe();
      }
      done(true);
    } catch (e) {
      err.show(e.message);
    }
  });
  return form;
}

export async function staffView(ctx) {
  const [staff, groups] = await Promise.all([api('GET', '/api/staff'), api('GET', '/api/groups')]);
  const isAdmin = ['owner', 'admin'].includes(ctx.me.role);
  const names = Object.fromEntries(groups.map((g) => [g.id, g.name]));
  const root = h('section', { id: 'staff-screen' });
  const formSlot = h('div', {});
  const rerender = async () => root.replaceWith(await staffView(ctx));
  const edit = (s) => formSlot.replaceChildren(h('h2', {}, `Edit ${s.display_name}`),
    staffForm(ctx, groups, s, (changed) => (changed ? rerender() : formSlot.replaceChildren())));
  const toggle = async (s) => {
    clearNotice();
    try {
      await api('PATCH', `/api/staff/${s.id}`, { disabled: !s.disabled });
      notice(s.disabled ? `${s.display_name} is enabled again.` : `${s.display_name} is disabled and signed out.`, 'ok');
      await rerender();
    } catch (e) { notice(e.message); }
  };
  const rows = staff.map((s) => h('tr', { class: s.disabled ? 'disabled' : '', dataset: { email: s.email } },
    h('td', {}, s.display_name), h('td', {}, s.email), h('td', {}, h('span', { class: 'badge' }, s.role)),
    h('td', {}, s.chat_enabled ? `yes, up to ${s.max_concurrent_chats}` : 'no'),
    h('td', {}, s.groups.map((g) => names[g] || '?').join(', ')),
    h('td', { class: 'actions' },
      (isAdmin && s.role !== 'owner') || s.id === ctx.me.id
        ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${s.display_name}`, onclick: () => edit(s) }, 'Edit') : null,
      isAdmin && s.role !== 'owner' && s.id !== ctx.me.id
        ? h('button', { type: 'button', class: s.disabled ? 'secondary' : 'danger', 'aria-label': `${s.disabled ? 'Enable' : 'Disable'} ${s.display_name}`, onclick: () => toggle(s) }, s.disabled ? 'Enable' : 'Disable') : null)));
  root.append(
    h('h1', {}, isAdmin ? 'Staff' : ctx.me.role === 'manager' ? 'Staff of your groups' : 'You'),
    h('div', { class: 'table-box' }, h('table', { id: 'staff-table' },
      h('thead', {}, h('tr', {}, ['Name', 'Email', 'Role', 'Chats', 'Groups', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows))),
    formSlot);
  if (isAdmin) root.append(h('h2', {}, 'Add a staff member'), staffForm(ctx, groups, null, () => rerender()));
  return root;
}
