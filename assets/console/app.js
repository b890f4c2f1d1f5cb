// The staff console shell: sign-in, the header (who, status switch, load,
// connection), the nav, and the hash router that shows one screen at a
// time. Screens are modules; each gets a context with the signed-in staff
// member and `ctx.watch(fn)`, a store subscription dropped when the
// screen is left.
import { api, notice, clearNotice, setCsrf } from './api.js';
import { h, STATUS_LABEL } from './dom.js';
import { state, subscribe, myEntry, attentionCount } from './store.js';
import * as live from './live.js';
import { installOffers } from './offer.js';
import { installKeys } from './keys.js';
import { staffView } from './staff.js';
import { groupsView } from './groups.js';
import { accountView } from './account.js';
import { messagesView } from './messages.js';
import { dashboardView } from './dashboard.js';
import { workspaceView } from './workspace.js';
import { queueView } from './queue.js';
import { listsView } from './lists.js';
import { transcriptView } from './transcript.js';
import { managerView } from './manager.js';
import { settingsView } from './settings.js';
import { shiftsView } from './shifts.js';
import { ticketsView } from './tickets.js';
import { responsesView } from './canned.js';
import { reportsView } from './reports.js';
import { articlesView } from './articles.js';

const SCREENS = [
  // [route, label, view, who sees the link]
  ['dashboard', 'Dashboard', dashboardView, () => true],
  ['workspace', 'Chats', workspaceView, () => true],
  ['queue', 'Queue', queueView, () => true],
  ['lists', 'History', listsView, () => true],
  ['tickets', 'Tickets', ticketsView, () => true],
  ['articles', 'Articles', articlesView, () => true],
  ['reports', 'Reports', reportsView, () => true],
  ['manager', 'Chat manager', managerView, (me) => me.role !== 'agent'],
  ['shifts', 'Shifts', shiftsView, () => true],
  ['staff', 'Staff', staffView, () => true],
  ['groups', 'Groups', groupsView, () => true],
  ['messages', 'Messages', messagesView, () => true],
  ['responses', 'Responses', responsesView, () => true],
  ['settings', 'Settings', settingsView, (me) => ['owner', 'admin'].includes(me.role)],
  ['account', 'My account', accountView, () => false],
];
const views = Object.fromEntries(SCREENS.map(([r, , v]) => [r, v]));
views.chats = transcriptView;

let unwatch = [];
const ctx = { me: null, refreshMe, signedOut, watch: (fn) => unwatch.push(subscribe(fn)) };
const view = document.getElementById('view');

function showShell(on) {
  for (const id of ['nav', 'whoami', 'signout', 'presence']) document.getElementById(id).hidden = !on;
}

function buildNav() {
  const nav = document.getElementById('nav');
  nav.replaceChildren(...SCREENS.filter(([, , , who]) => who(ctx.me)).map(([r, label]) =>
    h('a', { href: `#/${r}`, dataset: { view: r } }, label,
      r === 'workspace' ? h('span', { class: 'count', id: 'nav-unread', hidden: true }) : null)));
}

function signedIn(session) {
  const first = !ctx.me;
  ctx.me = session.staff;
  state.me = session.staff;
  setCsrf(session.csrf_token);
  const who = document.getElementById('whoami');
  who.textContent = `${ctx.me.display_name} · ${ctx.me.role}`;
  who.title = `${ctx.me.email}: my account`;
  buildNav();
  showShell(true);
  if (first) live.start((reason) => signedOut(reason ? `Signed out: ${reason}.` : 'Signed out.'));
  renderPresence();
  route();
}

async function refreshMe() {
  signedIn(await api('GET', '/api/auth/me'));
}

function signedOut(message) {
  ctx.me = null;
  live.stop();
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

// ---- the header: status switch, load, connection --------------------------

const presence = document.getElementById('presence');

async function setStatus(status) {
  try { await live.request({ type: 'set_status', status }); }
  catch (e) { notice(e.message); }
}

function renderPresence() {
  if (!ctx.me) return;
  const mine = myEntry();
  const parts = [];
  if (!ctx.me.chat_enabled) {
    // Staff who take no chats have no status to switch.
  } else if (state.status === 'rona') {
    parts.push(h('span', { class: 'status-dot rona', id: 'my-status', 'aria-label': 'Your status: not responding' }, 'Not responding'),
      h('button', { type: 'button', id: 'im-back', class: 'light', title: 'You missed an offer, so no chats are offered to you (RONA: Reassign On No Answer).',
        onclick: () => setStatus('available') }, 'I’m back'));
  } else {
    const select = h('select', { id: 'status-switch', 'aria-label': 'Your status', class: `status-${state.status}`,
      onchange: (ev) => setStatus(ev.target.value) },
      ['available', 'busy', 'away', 'offline'].map((s) => h('option', { value: s, selected: state.status === s }, STATUS_LABEL[s])));
    parts.push(select);
  }
  if (ctx.me.chat_enabled && mine) parts.push(h('span', { id: 'my-load', class: 'load', title: 'Open chats and offers against your limit' }, `${mine.load} / ${mine.max_chats} chats`));
  const conn = { online: ['Connected', 'ok'], connecting: ['Connecting…', 'wait'], down: ['Offline: reconnecting', 'down'] }[state.conn];
  parts.push(h('span', { id: 'conn-state', class: `conn ${conn[1]}`, role: 'status' }, conn[0]));
  presence.replaceChildren(...parts);
  const banner = document.getElementById('conn-banner');
  banner.hidden = state.conn !== 'down';
  if (state.conn === 'down') {
    banner.replaceChildren('The connection to the desk dropped. Reconnecting; nothing you sent is lost. ',
      h('button', { type: 'button', class: 'secondary', onclick: () => live.retryNow() }, 'Retry now'));
  }
}

function renderAttention() {
  const n = attentionCount();
  document.title = n ? `(${n}) livedesk` : 'livedesk';
  document.getElementById('favicon').href = n ? '/assets/console/favicon-alert.svg' : '/assets/console/favicon.svg';
  const unread = [...state.chats.values()].reduce((a, c) => a + c.unread, 0);
  const badge = document.getElementById('nav-unread');
  if (badge) { badge.hidden = !unread; badge.textContent = String(unread); badge.setAttribute('aria-label', `${unread} unread`); }
}

subscribe((topic) => {
  if (['status', 'roster', 'conn', 'all'].includes(topic)) renderPresence();
  renderAttention();
});

// ---- the router --------------------------------------------------------------

async function route() {
  if (!ctx.me) return;
  for (const u of unwatch) u();
  unwatch = [];
  const m = location.hash.match(/^#\/(\w+)(?:\/([\w-]+))?/) || [];
  const name = views[m[1]] ? m[1] : 'dashboard';
  for (const a of document.querySelectorAll('#nav a')) {
    const on = a.dataset.view === name;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  view.className = name === 'workspace' ? 'wide' : '';
  try {
    // The route's second part (#/chats/{id}) is the screen's argument.
    view.replaceChildren(await views[name](ctx, m[2] || undefined));
  } catch (e) {
    if (e.status === 401) signedOut(e.message);
    else view.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, e.message));
  }
  renderAttention();
}

document.getElementById('signout').addEventListener('click', async () => {
  try { await api('POST', '/api/auth/logout'); } catch (e) { /* already signed out */ }
  clearNotice();
  history.replaceState(null, '', '/');
  signedOut();
});

window.addEventListener('hashchange', () => { clearNotice(); route(); });
installOffers();
installKeys();

(async () => {
  try {
    signedIn(await api('GET', '/api/auth/me'));
  } catch (e) {
    if (e.status === 401) signedOut();
    else notice(e.message);
  }
})();
