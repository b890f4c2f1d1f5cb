// The console's shortcuts: one table, one keydown listener. Keys typed
// into a field are left alone, except the Alt combinations, which work
// from anywhere (Alt+A and Alt+D are the offer pop-up's own).
import { h, dialog, dialogOpen } from './dom.js';
import { state, chatList, changed } from './store.js';

/** [keys shown, description, test(ev), action] */
export const SHORTCUTS = [
  ['Alt+A', 'Accept the chat offered to you', null, null],
  ['Alt+D', 'Decline the chat offered to you', null, null],
  ['J or Alt+↓', 'Next chat', (ev, typing) => (!typing && ev.key === 'j') || (ev.altKey && ev.key === 'ArrowDown'), () => step(1)],
  ['K or Alt+↑', 'Previous chat', (ev, typing) => (!typing && ev.key === 'k') || (ev.altKey && ev.key === 'ArrowUp'), () => step(-1)],
  ['C', 'Write in the chat (focus the message box)', (ev, typing) => !typing && ev.key === 'c', () => focusCompose()],
  ['E', 'End the chat (asks for the wrap-up)', (ev, typing) => !typing && ev.key === 'e', () => clickIf('#end-chat')],
  ['G then Q', 'Go to the queue', null, null],
  ['?', 'Show these shortcuts', (ev, typing) => !typing && ev.key === '?', () => showHelp()],
];

function step(by) {
  const list = chatList();
  if (!list.length) return;
  const i = list.findIndex((c) => c.id === state.selected);
  const next = list[(i + by + list.length) % list.length];
  state.selected = next.id;
  if (!location.hash.startsWith('#/workspace')) location.hash = `#/workspace/${next.id}`;
  else { history.replaceState(null, '', `#/workspace/${next.id}`); changed('select'); }
}

function focusCompose() {
  if (!location.hash.startsWith('#/workspace')) { location.hash = '#/workspace'; setTimeout(focusCompose, 50); return; }
  const box = document.getElementById('compose');
  if (box) box.focus();
}

function clickIf(css) {
  const b = document.querySelector(css);
  if (b && !b.disabled) b.click();
}

function showHelp() {
  const rows = SHORTCUTS.map(([k, d]) => h('tr', {}, h('th', { scope: 'row' }, h('kbd', {}, k)), h('td', {}, d)));
  const close = h('button', { type: 'button', id: 'shortcuts-close' }, 'Close');
  const d = dialog('Keyboard shortcuts', h('div', {}, h('table', { class: 'shortcuts' }, h('tbody', {}, rows)), h('div', { class: 'row end' }, close)), { id: 'shortcuts', focus: close });
  close.addEventListener('click', d.close);
}

let pendingG = 0;

export function installKeys() {
  document.addEventListener('keydown', (ev) => {
    if (dialogOpen() || ev.ctrlKey || ev.metaKey || ev.defaultPrevented) return;
    const t = ev.target;
    const typing = t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
    if (!typing && ev.key === 'g') { pendingG = Date.now(); return; }
    if (!typing && ev.key === 'q' && Date.now() - pendingG < 1500) { location.hash = '#/queue'; pendingG = 0; return; }
    for (const [, , test, action] of SHORTCUTS) {
      if (test && test(ev, typing)) { ev.preventDefault(); action(); return; }
    }
  });
}
