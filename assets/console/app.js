// The staff console shell: sign-in, who is signed in, sign-out, and the
// hash router that shows one screen at a time. Screens live in their own
// modules and get a context with the signed-in staff member.
import { api, h, notice, clearNotice, setCsrf } from './api.js';
import { staffView } from './staff.js';
import { groupsView } from './groups.js';
import { accountView } from './account.js';
import { messagesView } from './messages.js';

const views = { staff: staffView, groups: groupsView, messages: messagesView, account: accountView };
const ctx = { me: null, refreshMe, signedOut };
const view = document.getElementById('view');

function showShell(on) {
  for (const id of ['nav', 'whoami', 'signout']) document.getElementById(id).hidden = !on;
}

function signedIn(session) {
  ctx.me = session.staff;
  setCsrf(session.csrf_token);
  const who = document.getElementById('whoami');
  who.textContent = `${ctx.me.display_name} · ${ctx.me.role}`;
  who.title = ctx.me.email;
  showShell(true);
  route();
}

async function refreshMe() {
  signedIn(await api('GET', '/api/auth/me'));
}

function signedOut(message) {
  ctx.me = null;
  setCsrf('');
  showShell(false);
  showSignIn();
  if (message) notice(message);
}

function showSignIn() {
  const email = h('input', { id: 'signin-email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'signin-password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { id: 'signin-form', class: 'card' },
    h('label', {}, 'Email', email),
    h('label', {}, 'Password', password),
    h('button', { id: 'signin-submit', type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearNotice();
    try {
      signedIn(await api('POST', '/api/auth/login', { email: email.value, password: password.value }));
    } catch (e) {
      notice(e.message);
      password.value = '';
      password.focus();
    }
  });
  view.className = 'narrow';
  view.replaceChildren(h('h1', {}, 'Sign in to livedesk'), form);
  email.focus();
}

async function route() {
  if (!ctx.me) return;
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1] || 'staff';
  const show = views[name] || staffView;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === name);
  view.className = '';
  try {
    view.replaceChildren(await show(ctx));
  } catch (e) {
    if (e.status === 401) signedOut(e.message);
    else notice(e.message);
  }
}

document.getElementById('signout').addEventListener('click', async () => {
  try { await api('POST', '/api/auth/logout'); } catch (e) { /* already signed out */ }
  clearNotice();
  history.replaceState(null, '', '/');
  signedOut();
});

window.addEventListener('hashchange', () => { clearNotice(); route(); });

(async () => {
  try {
    signedIn(await api('GET', '/api/auth/me'));
  } catch (e) {
    if (e.status === 401) signedOut();
    else notice(e.message);
  }
})();
