// Admin settings: the wrap-up reasons agents choose from, one per line.
// The widget's look and snippet live on the Groups screen; the allowed
// sites and masking are set in the config file (docs/operations.md).
import { api, notice } from './api.js';
import { h, errorSlot } from './dom.js';
import { wrapUpReasons } from './names.js';

export async function settingsView() {
  const reasons = await wrapUpReasons(true);
  const box = h('textarea', { id: 'wrapup-reasons', rows: 8, 'aria-describedby': 'wrapup-help' }, reasons.join('\n'));
  const err = errorSlot();
  const form = h('form', { class: 'card stack', id: 'wrapup-settings' },
    h('label', { for: 'wrapup-reasons' }, 'Wrap-up reasons'),
    h('p', { id: 'wrapup-help', class: 'muted' }, 'One per line. Agents choose one when they end or transfer a chat; reports count them.'),
    box, err.el, h('div', { class: 'row' }, h('button', { type: 'submit', id: 'wrapup-save' }, 'Save reasons')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.clear();
    const list = box.value.split('\n').map((x) => x.trim()).filter(Boolean);
    try { await api('PUT', '/api/wrap-up-reasons', { reasons: list }); await wrapUpReasons(true); notice('Wrap-up reasons saved.', 'ok'); }
    catch (e) { err.show(e.message); }
  });
  return h('section', { id: 'settings-screen' }, h('h1', {}, 'Settings'), form,
    h('section', { class: 'card' }, h('h2', {}, 'Widget, sites and masking'),
      h('p', {}, 'Each group’s widget look, its extra sites and its snippet are on the ', h('a', { href: '#/groups' }, 'Groups'), ' screen.'),
      h('p', { class: 'muted' }, 'The sites allowed for every group ([widget] allowed_origins) and masking of card numbers and contact data (chat.mask_pii) are set in the config file; see docs/operations.md.')));
}
