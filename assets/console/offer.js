// The offer pop-up: a chat offered to me, or a colleague's transfer or
// conference request, with the visitor's name, group, first question and
// a countdown to the deadline (RONA for offers). Alt+A accepts, Alt+D
// declines, from anywhere; the pop-up takes focus only when I am not
// typing, so Enter in the compose box never accepts by accident. A sound
// (once enabled: browsers block audio until a click) and a desktop
// notification while the tab is hidden announce each new one.
import { h, announce } from './dom.js';
import { state, subscribe } from './store.js';
import * as live from './live.js';
import { groupName } from './names.js';

const layer = () => document.getElementById('offer-layer');
let shown = null; // chat id in the pop-up
let tick = null;
let audio = null;
const seen = new Set();

function beep() {
  if (!audio) return;
  try {
    const o = audio.createOscillator(); const g = audio.createGain();
    o.type = 'sine'; o.frequency.value = 880;
    g.gain.setValueAtTime(0.0001, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.25, audio.currentTime + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.6);
    o.connect(g).connect(audio.destination); o.start(); o.stop(audio.currentTime + 0.65);
  } catch (e) { /* no audio */ }
}

function soundButton() {
  const on = !!audio;
  const b = h('button', { type: 'button', id: 'sound-toggle', class: 'light', 'aria-pressed': on ? 'true' : 'false',
    title: 'Browsers play sounds only after a click here' }, on ? 'Sound on' : 'Enable sound');
  b.setAttribute('aria-label', on ? 'Sound and notifications on; turn off' : 'Enable sound and notifications');
  b.addEventListener('click', async () => {
    if (audio) { audio.close(); audio = null; }
    else {
      try { audio = new (window.AudioContext || window.webkitAudioContext)(); beep(); } catch (e) { audio = null; }
      if ('Notification' in window && Notification.permission === 'default') {
        try { await Notification.requestPermission(); } catch (e) { /* refused */ }
      }
    }
    b.replaceWith(soundButton());
  });
  return b;
}

function notify(o) {
  beep();
  const what = o.kind === 'offer' ? 'New chat' : o.kind === 'transfer' ? `${o.from.name} transfers a chat` : `${o.from.name} invites you to a chat`;
  announce(`${what}: ${o.chat.visitor.name}. Alt+A accepts, Alt+D declines.`, { visual: false });
  if (document.hidden && 'Notification' in window && Notification.permission === 'granted') {
    try { new Notification(what, { body: o.chat.visitor.name, tag: `offer-${o.chat.id}` }); } catch (e) { /* not allowed */ }
  }
}

async function answer(id, accept) {
  try {
    await live.request({ type: accept ? 'accept' : 'decline', chat_id: id });
    if (accept) { state.selected = id; if (!location.hash.startsWith('#/workspace')) location.hash = `#/workspace/${id}`; }
    state.offers.delete(id);
  } catch (e) {
    announce(e.message || 'The offer could not be answered.');
    state.offers.delete(id);
  }
  render();
}

function firstQuestion(chat) {
  return chat.question || '';
}

function render() {
  const offers = [...state.offers.values()].sort((a, b) => (a.expires || 0) - (b.expires || 0));
  for (const o of offers) if (!seen.has(o.chat.id)) { seen.add(o.chat.id); notify(o); }
  const o = offers[0];
  clearInterval(tick);
  if (!o) { shown = null; layer().replaceChildren(); return; }
  const typingSomewhere = document.activeElement && ['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement.tagName) && !layer().contains(document.activeElement);
  const countdown = h('span', { class: 'countdown', id: 'offer-countdown' });
  const bar = h('span', { class: 'bar' });
  const total = Math.max(1000, (o.expires || Date.now()) - Date.now());
  const update = () => {
    const left = Math.max(0, (o.expires || 0) - Date.now());
    countdown.textContent = `${Math.ceil(left / 1000)} s`;
    bar.style.width = `${Math.min(100, (left / total) * 100)}%`;
  };
  update();
  tick = setInterval(update, 250);
  const title = o.kind === 'offer' ? 'New chat' : o.kind === 'transfer' ? `${o.from.name} transfers a chat to you` : `${o.from.name} invites you to join a chat`;
  const accept = h('button', { type: 'button', id: 'offer-accept', onclick: () => answer(o.chat.id, true) }, 'Accept', h('kbd', {}, 'Alt+A'));
  const decline = h('button', { type: 'button', id: 'offer-decline', class: 'secondary', onclick: () => answer(o.chat.id, false) }, 'Decline', h('kbd', {}, 'Alt+D'));
  const card = h('section', { class: 'offer', id: 'offer', role: 'alertdialog', 'aria-labelledby': 'offer-title', 'aria-describedby': 'offer-who', dataset: { chat: o.chat.id } },
    h('h2', { id: 'offer-title' }, title),
    h('p', { id: 'offer-who', class: 'who' }, o.chat.visitor.name,
      h('span', { class: 'muted' }, ` · ${groupName(o.chat.group)}`)),
    o.chat.visitor.email ? h('p', { class: 'muted' }, o.chat.visitor.email) : null,
    firstQuestion(o.chat) ? h('blockquote', { id: 'offer-question' }, firstQuestion(o.chat)) : null,
    h('p', { class: 'deadline' }, o.kind === 'offer' ? 'Accept within ' : 'Answer within ', countdown,
      o.kind === 'offer' ? ' or you are set to “not responding” and it goes to a colleague.' : ''),
    h('div', { class: 'meter', 'aria-hidden': 'true' }, bar),
    h('div', { class: 'row' }, accept, decline),
    offers.length > 1 ? h('p', { class: 'muted' }, `${offers.length - 1} more waiting for you`) : null);
  const was = shown;
  shown = o.chat.id;
  layer().replaceChildren(card);
  if (was !== shown && !typingSomewhere) accept.focus();
}

export function installOffers() {
  const presence = document.querySelector('.topbar');
  presence.insertBefore(soundButton(), document.getElementById('whoami'));
  subscribe((topic) => { if (['offers', 'all', 'chats'].includes(topic)) render(); });
  document.addEventListener('keydown', (ev) => {
    if (!ev.altKey || !shown) return;
    const k = ev.key.toLowerCase();
    if (k === 'a' || k === 'å') { ev.preventDefault(); answer(shown, true); }
    else if (k === 'd' || k === '∂') { ev.preventDefault(); answer(shown, false); }
  });
}
