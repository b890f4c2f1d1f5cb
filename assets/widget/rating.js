// "How was this chat?" on the ended chat's notice, when an agent answered
// it: good or bad, an optional comment, sent once (POST /api/visitor/rating).
import { h } from '../shared/dom.js';

/** The rating form for the ended chat `token`; `s` looks strings up, `call` calls the API. */
export function ratingForm({ token, s, call }) {
  let score = null;
  const choice = (value, label) => {
    const b = h('button', { type: 'button', class: 'plain score', id: `rate-${value}`, 'aria-pressed': 'false', text: label });
    b.addEventListener('click', () => {
      score = value;
      for (const other of form.querySelectorAll('.score')) other.setAttribute('aria-pressed', String(other === b));
      more.hidden = false;
      send.disabled = false;
    });
    return b;
  };
  const comment = h('textarea', { id: 'rate-comment', rows: 1, maxlength: 1000 });
  const error = h('p', { class: 'err', id: 'rate-error', role: 'alert' });
  const send = h('button', { type: 'submit', class: 'plain', id: 'rate-send', disabled: true, text: s('rating_send') });
  // The comment and the send button come once a score is chosen.
  const more = h('div', { class: 'more', hidden: true },
    h('label', { for: 'rate-comment', text: s('rating_comment') }), comment, h('div', { class: 'actions' }, send));
  const form = h('form', { class: 'rating', id: 'rating', novalidate: true, 'aria-labelledby': 'rate-ask' },
    h('p', { id: 'rate-ask', class: 'ask', text: s('rating_ask') }),
    h('div', { class: 'row', role: 'group', 'aria-labelledby': 'rate-ask' }, choice('good', s('rating_good')), choice('bad', s('rating_bad'))),
    more, error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!score) return;
    error.textContent = '';
    send.disabled = true;
    try {
      await call('POST', '/api/visitor/rating', { chat_token: token, score, comment: comment.value.trim() || undefined });
      form.replaceWith(h('p', { class: 't-sent', id: 'rate-thanks', role: 'status', text: s('rating_thanks') }));
    } catch (err) {
      send.disabled = false;
      error.textContent = err.message;
    }
  });
  return form;
}
