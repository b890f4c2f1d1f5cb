// The widget's form helpers: a labelled field, a live character counter,
// and the check that marks empty required fields, bad emails and text
// over its limit by the field, in the visitor's language.
import { h } from '../shared/dom.js';

/** Whether `v` looks like an email address (the desk checks it again). */
export const emailOk = (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v);

/** The helpers, wording through `s` (the strings lookup). */
export function formHelpers(s) {
  const field = (labelText, input, hint) => h('label', {}, labelText, input, hint || null);

  const counter = (input, max) => {
    const out = h('span', { class: 'hint', 'aria-live': 'polite' });
    const update = () => {
      const n = [...input.value].length;
      out.textContent = n > max ? s('chars_over', { n: n - max }) : s('chars_left', { n: max - n });
      out.classList.toggle('over', n > max);
    };
    input.addEventListener('input', update);
    update();
    return out;
  };

  /** Marks required fields left empty and bad emails; true when all is well. */
  const check = (form) => {
    let ok = true;
    for (const el of form.querySelectorAll('input, textarea')) {
      const v = el.value.trim();
      let msg = '';
      if (el.required && !v) msg = s('required');
      else if (el.type === 'email' && v && !emailOk(v)) msg = s('email_invalid');
      else if (el.dataset.max && [...el.value].length > Number(el.dataset.max)) msg = s('chars_over', { n: [...el.value].length - Number(el.dataset.max) });
      el.setAttribute('aria-invalid', msg ? 'true' : 'false');
      const id = el.id + '-err';
      let err = document.getElementById(id);
      if (msg) {
        if (!err) { err = h('p', { class: 'err', id }); el.insertAdjacentElement('afterend', err); }
        err.textContent = msg;
        el.setAttribute('aria-describedby', id);
        if (ok) el.focus();
        ok = false;
      } else if (err) {
        err.remove();
        el.removeAttribute('aria-describedby');
      }
    }
    return ok;
  };

  return { field, counter, check };
}
