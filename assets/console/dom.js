// The console's DOM helpers: h() (text only, never markup), announcements
// for screen readers, dialogs that trap focus and give it back, errors
// shown by the form that caused them, and time formatting.
import { h } from '../shared/dom.js';

export { h };

/**
 * Says `text` to screen readers and shows it briefly in the toast
 * (`visual: false`: to screen readers only, when the screen shows it already).
 */
export function announce(text, { visual = true } = {}) {
  const live = document.getElementById('announcer');
  const toast = document.getElementById('toast');
  if (!live) return;
  // A fresh node each time, so the same words twice are read twice.
  live.replaceChildren(h('p', {}, text));
  if (!visual || !toast) return;
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => { toast.hidden = true; }, 6000);
}

let openDialogs = 0;

/** True while a dialog is open (the keyboard table then stays quiet). */
export function dialogOpen() { return openDialogs > 0; }

/**
 * Opens a modal dialog with `title` and `body` nodes. Focus goes to the
 * first field (or `focus`), Tab stays inside, Escape closes; on close,
 * focus goes back where it was. Returns { el, close }.
 */
export function dialog(title, body, { onClose, focus, role = 'dialog', id } = {}) {
  const before = document.activeElement;
  const heading = h('h2', { id: `${id || 'dlg'}-title` }, title);
  const box = h('div', { class: 'dialog', role, 'aria-modal': 'true', 'aria-labelledby': heading.id, id }, heading, body);
  const backdrop = h('div', { class: 'backdrop' }, box);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    openDialogs -= 1;
    backdrop.remove();
    if (onClose) onClose();
    if (before && before.isConnected && typeof before.focus === 'function') before.focus();
  };
  box.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { ev.preventDefault(); ev.stopPropagation(); close(); return; }
    if (ev.key !== 'Tab') return;
    const items = [...box.querySelectorAll('button, input, select, textarea, a[href], [tabindex="0"]')].filter((e) => !e.disabled && e.offsetParent !== null);
    if (!items.length) return;
    const first = items[0]; const last = items[items.length - 1];
    if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
    else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
  });
  backdrop.addEventListener('mousedown', (ev) => { if (ev.target === backdrop) close(); });
  document.body.append(backdrop);
  openDialogs += 1;
  const target = focus || box.querySelector('input, select, textarea, button');
  if (target) target.focus();
  return { el: box, close };
}

/** A place for a form's error, by the form; show() fills it and moves focus there. */
export function errorSlot() {
  const el = h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  return {
    el,
    show(message) { el.textContent = message; el.hidden = false; el.focus(); },
    clear() { el.textContent = ''; el.hidden = true; },
  };
}

/** "3 s", "4 min", "2 h 5 min", "3 d". */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return m % 60 ? `${hrs} h ${m % 60} min` : `${hrs} h`;
  return `${Math.floor(hrs / 24)} d`;
}

/** "14:05" today, "3 Dec 14:05" another day. */
export function clock(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`;
}

/** Words people read instead of raw server wording ("name: must have …"). */
export function humane(message) {
  if (!message) return 'Something went wrong; try again.';
  const m = String(message).match(/^([a-z_.]+): (.*)$/);
  if (!m) return message;
  const field = m[1].split('.').pop().replace(/_/g, ' ');
  let rest = m[2].replace(/character\(s\)/g, 'characters');
  return `${field.charAt(0).toUpperCase()}${field.slice(1)} ${rest.replace(/^must/, 'must')}`.replace(/ +/g, ' ');
}

export const STATUS_LABEL = { available: 'Available', busy: 'Busy', away: 'Away', offline: 'Offline', rona: 'Not responding' };
