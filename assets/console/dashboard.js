// The first screen after sign-in: what to do now (go available when
// offline), my ongoing chats, chats opened recently, who is online, and
// the tickets panel (tickets from chats, unsolved, recent changes) and
// satisfaction over the last 7 days.
import { h, duration, STATUS_LABEL } from './dom.js';
import { state, chatList } from './store.js';
import * as live from './live.js';
import { ticketsPanel } from './tickets.js';
import { api } from './api.js';

const RECENT = 'livedesk.recent';

/** Satisfaction over the last 7 days, as the caller may see it. */
async function satisfactionPanel() {
  let s;
  try { s = await api('GET', '/api/ratings/summary?days=7'); } catch (e) {
    return h('p', { class: 'muted' }, 'Ratings could not be loaded.');
  }
  const all = s.good + s.bad;
  if (!all) return h('p', { class: 'muted', id: 'ratings-none' }, 'No ratings in the last 7 days.');
  return h('div', {},
    h('p', { id: 'ratings-figures' }, h('strong', {}, `${Math.round((100 * s.good) / all)} % good`),
      ` · ${s.good} good, ${s.bad} bad in the last 7 days`),
    s.recent.length ? h('ul', { class: 'plain', id: 'ratings-recent' }, s.recent.map((r) => h('li', {},
      h('span', { class: `pill rating-${r.score}` }, r.score === 'good' ? 'Good' : 'Bad'), ' ',
      h('a', { href: `#/chats/${r.chat}` }, `“${r.comment}”`)))) : null);
}

/** Remembers a chat as recently opened (this browser only). */
export function remember(item) {
  let list = [];
  try { list = JSON.parse(localStorage.getItem(RECENT) || '[]'); } catch (e) { list = []; }
  list = [item, ...list.filter((x) => x.id !== item.id)].slice(0, 10);
  try { localStorage.setItem(RECENT, JSON.stringify(list)); } catch (e) { /* storage full or off */ }
}

function recent() {
  try { return JSON.parse(localStorage.getItem(RECENT) || '[]'); } catch (e) { return []; }
}

export async function dashboardView(ctx) {
  const root = h('section', { id: 'dashboard' });
  const draw = () => {
    const hint = [];
    if (ctx.me.chat_enabled && ['offline', 'away', 'rona'].includes(state.status)) {
      hint.push(h('div', { class: 'card hint', id: 'go-available' },
        h('p', {}, state.status === 'rona' ? 'You missed a chat offer, so no chats are offered to you.' : `You are ${STATUS_LABEL[state.status].toLowerCase()}, so no chats are offered to you.`),
        h('button', { type: 'button', id: 'go-available-btn', onclick: async () => { try { await live.request({ type: 'set_status', status: 'available' }); } catch (e) { /* shown by the header */ } } }, 'Go available')));
    }
    const mine = chatList().filter((c) => !c.endedBy);
    const online = state.roster.staff.filter((s) => s.connected && s.status !== 'offline');
    const rec = recent();
    root.replaceChildren(
      h('h1', {}, `Hello, ${ctx.me.display_name}`),
      ...hint,
      h('div', { class: 'grid3' },
        h('section', { class: 'card', id: 'ongoing' }, h('h2', {}, 'Your ongoing chats'),
          mine.length ? h('ul', { class: 'plain' }, mine.map((c) => h('li', {}, h('a', { href: `#/workspace/${c.id}` }, c.chat.visitor.name),
            h('span', { class: 'muted' }, ` · ${c.chat.answered_at ? duration(Date.now() - c.chat.answered_at) : ''}`),
            c.unread ? h('span', { class: 'count' }, String(c.unread)) : null)))
            : h('p', { class: 'muted' }, 'None right now.')),
        h('section', { class: 'card', id: 'online-now' }, h('h2', {}, 'Online now'),
          online.length ? h('ul', { class: 'plain' }, online.map((s) => h('li', {}, h('span', { class: `status-dot ${s.status}` }, STATUS_LABEL[s.status]), ` ${s.name}`,
            h('span', { class: 'muted' }, ` · ${s.load} / ${s.max_chats}`)))) : h('p', { class: 'muted' }, 'Nobody of your groups is online.')),
        h('section', { class: 'card', id: 'recent' }, h('h2', {}, 'Recently opened'),
          rec.length ? h('ul', { class: 'plain' }, rec.map((r) => h('li', {}, h('a', { href: `#/chats/${r.id}` }, r.visitor))))
            : h('p', { class: 'muted' }, 'Transcripts you open show here.')),
        h('section', { class: 'card', id: 'tickets-panel' }, h('h2', {}, h('a', { href: '#/tickets' }, 'Tickets')), panel),
        h('section', { class: 'card', id: 'satisfaction' }, h('h2', {}, 'Satisfaction'), ratings)));
  };
  // Loaded once per visit of the dashboard; live updates redraw around it.
  const panel = h('div', { id: 'tickets-figures' }, h('p', { class: 'muted' }, 'Loading…'));
  ticketsPanel().then((p) => panel.replaceChildren(p));
  const ratings = h('div', { id: 'ratings-panel' }, h('p', { class: 'muted' }, 'Loading…'));
  satisfactionPanel().then((p) => ratings.replaceChildren(p));
  ctx.watch((topic) => { if (['status', 'roster', 'chats', 'all', 'chat'].includes(topic)) draw(); });
  draw();
  return root;
}
