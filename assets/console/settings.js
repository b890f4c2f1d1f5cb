// Admin settings: the wrap-up reasons agents choose from, one per line;
// the masking switch (kept in the data folder, over the config file's
// default); and, read from the config file, the sites allowed to embed
// every group's widget; and the mail outbox (pending and failed mail,
// "Send again"). Each group's widget look, with a live preview,
// and its snippet are on the Groups screen.
import { api, notice } from './api.js';
import { h, errorSlot, announce } from './dom.js';
import { wrapUpReasons } from './names.js';
import { outboxCard } from './mail.js';

function maskingCard(settings) {
  const err = errorSlot();
  const box = h('input', { type: 'checkbox', id: 'mask-pii', role: 'switch', checked: settings.mask_pii, 'aria-describedby': 'mask-help' });
  const state = h('span', { id: 'mask-state' }, settings.mask_pii ? 'On' : 'Off');
  box.addEventListener('change', async () => {
    err.clear();
    try {
      const s = await api('PATCH', '/api/settings', { mask_pii: box.checked });
      state.textContent = s.mask_pii ? 'On' : 'Off';
      announce(s.mask_pii ? 'Masking is on: staff see card numbers and contact data starred.' : 'Masking is off: staff see visitor data in clear.');
    } catch (e) { box.checked = !box.checked; err.show(e.message); }
  });
  return h('section', { class: 'card', id: 'masking-settings' }, h('h2', {}, 'Masking'),
    h('label', { class: 'check' }, box, 'Mask card numbers, IBANs, social security numbers, emails and phone numbers in what staff see', state),
    h('p', { id: 'mask-help', class: 'muted' }, `Takes effect at once on every screen. The config file says ${settings.mask_pii_configured ? 'on' : 'off'} ([chat] mask_pii); this switch wins once used and is kept across restarts.`),
    err.el);
}

function sitesCard(settings) {
  return h('section', { class: 'card', id: 'sites-settings' }, h('h2', {}, 'Sites that may show the chat'),
    settings.allowed_origins.length
      ? h('ul', { class: 'plain', id: 'allowed-origins' }, settings.allowed_origins.map((o) => h('li', {}, h('code', {}, o))))
      : h('p', { id: 'allowed-origins' }, 'None yet: only the desk’s own chat page works.'),
    h('p', { class: 'muted' }, 'Every group’s widget works on these sites. They are read from the config file ([widget] allowed_origins; see docs/operations.md); a group can add its own on the ', h('a', { href: '#/groups' }, 'Groups'), ' screen, where each group’s look, preview and snippet are.'));
}

export async function settingsView() {
  const [reasons, settings] = await Promise.all([wrapUpReasons(true), api('GET', '/api/settings')]);
  const box = h('textarea', { id: 'wrapup-reasons', rows: 8, 'aria-describedby': 'wrapup-help' }, reasons.join('\n'));
  const err = errorSlot();
  const form = h('form', { class: 'card stack', id: 'wrapup-settings' },
    h('h2', {}, h('label', { for: 'wrapup-reasons' }, 'Wrap-up reasons')),
    h('p', { id: 'wrapup-help', class: 'muted' }, 'One per line. Agents choose one when they end or transfer a chat; reports count them.'),
    box, err.el, h('div', { class: 'row' }, h('button', { type: 'submit', id: 'wrapup-save' }, 'Save reasons')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.clear();
    const list = box.value.split('\n').map((x) => x.trim()).filter(Boolean);
    try { await api('PUT', '/api/wrap-up-reasons', { reasons: list }); await wrapUpReasons(true); notice('Wrap-up reasons saved.', 'ok'); }
    catch (e) { err.show(e.message); }
  });
  return h('section', { id: 'settings-screen' }, h('h1', {}, 'Settings'), form, maskingCard(settings), sitesCard(settings), await outboxCard());
}
