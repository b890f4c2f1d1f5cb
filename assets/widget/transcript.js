// "Email me the transcript" on the ended chat's notice, shown when the desk
// sends mail (GET /api/visitor/widget says transcript_by_email). A chat
// sends one transcript: asking again names the address it went to.
import { h } from '../shared/dom.js';
import { emailOk } from './forms.js';

/**
 * The form for the ended chat `token`, prefilled with `email`; `s` is the
 * strings lookup and `call` the widget's API call.
 */
export function transcriptForm({ token, email, s, call }) {
  const input = h('input', { id: 't-email', type: 'email', autocomplete: 'email', maxlength: 254, required: true });
  input.value = email || '';
  const error = h('p', { class: 'err', id: 't-error', role: 'alert' });
  const send = h('button', { type: 'submit', class: 'plain', id: 't-send', text: s('transcript_send') });
  const label = h('label', { for: 't-email', text: s('transcript_label') });
  const form = h('form', { class: 'transcript', id: 'transcript', novalidate: true },
    label, h('div', { class: 'row' }, input, send), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const to = input.value.trim();
    if (!emailOk(to)) { error.textContent = s('email_invalid'); input.focus(); return; }
    send.disabled = true;
    try {
      const r = await call('POST', '/api/visitor/transcript', { chat_token: token, email: to });
      form.replaceWith(h('p', { class: 't-sent', id: 't-sent', role: 'status', text: s('transcript_sent', { email: r.to }) }));
    } catch (err) {
      send.disabled = false;
      error.textContent = err.message;
    }
  });
  return form;
}
