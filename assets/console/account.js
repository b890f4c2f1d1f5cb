// My account: one's own display name and password.
import { api, h, notice, clearNotice } from './api.js';

export async function accountView(ctx) {
  const name = h('input', { id: 'account-name', required: true, maxlength: 80, value: ctx.me.display_name });
  const nameForm = h('form', { id: 'account-name-form', class: 'card' },
    h('label', {}, 'Display name', name), h('button', { type: 'submit' }, 'Save name'));
  nameForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearNotice();
    try {
      await api('PATCH', `/api/staff/${ctx.me.id}`, { display_name: name.value });
      await ctx.refreshMe();
      notice('Name saved.', 'ok');
    } catch (e) { notice(e.message); }
  });
  const current = h('input', { id: 'account-current', type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { id: 'account-new', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const pwForm = h('form', { id: 'account-password-form', class: 'card' },
    h('label', {}, 'Current password', current),
    h('label', {}, 'New password (at least 8 characters)', next),
    h('button', { id: 'account-password-submit', type: 'submit' }, 'Change password'));
  pwForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearNotice();
    try {
      await api('POST', '/api/auth/password', { current_password: current.value, new_password: next.value });
      current.value = ''; next.value = '';
      notice('Password changed. Your other sessions have been signed out.', 'ok');
    } catch (e) {
      if (e.status === 401) ctx.signedOut(e.message); else notice(e.message);
    }
  });
  return h('section', { id: 'account-screen', class: 'narrow' },
    h('h1', {}, 'My account'),
    h('p', { class: 'muted' }, `${ctx.me.email} · ${ctx.me.role}`),
    nameForm, h('h2', {}, 'Password'), pwForm);
}
