// Mail to requesters as staff see it: a ticket's mails (in the ticket view)
// and, for admins, the outbox on the Settings screen with "Send again" for
// failed mail. Without [mail] in the config, both say that nothing is sent.
import { api, h } from './api.js';
import { clock, errorSlot, announce } from './dom.js';

const KIND = { ticket_created: 'Ticket received', ticket_solved: 'Ticket solved', transcript: 'Chat transcript' };
const STATE = { pending: 'Waiting', sent: 'Sent', failed: 'Failed' };

function stateLine(m) {
  if (m.state === 'sent') return `sent ${clock(m.sent_at)}`;
  if (m.state === 'pending') {
    return m.attempts ? `not sent yet (${m.attempts} ${m.attempts === 1 ? 'try' : 'tries'}); next try ${clock(m.next_at)}` : 'being sent';
  }
  return `gave up after ${m.attempts} ${m.attempts === 1 ? 'try' : 'tries'}`;
}

/** One mail as a list item; `retry` adds a "Send again" button to failed mail. */
function mailItem(m, retry) {
  const li = h('li', { class: `mail mail-${m.state}` },
    h('span', { class: `pill mail-${m.state}` }, STATE[m.state]), ' ',
    h('strong', {}, KIND[m.kind] || m.kind), ' to ', h('span', {}, m.to),
    m.ticket && retry ? [' · ', h('a', { href: `#/tickets/${m.ticket}` }, `#${m.ticket}`)] : null,
    h('div', { class: 'muted' }, stateLine(m)),
    m.last_error ? h('div', { class: 'mail-error' }, m.last_error) : null);
  if (retry && m.state === 'failed') {
    const b = h('button', { type: 'button', class: 'secondary', 'data-retry': m.id }, 'Send again');
    b.addEventListener('click', () => retry(m, b));
    li.append(b);
  }
  return li;
}

const NOT_SET_UP = 'Mail is not set up, so nothing is mailed. The sysadmin sets the relay in the config file ([mail] host and from; see docs/operations.md).';

/** The ticket view's card: what the requester was mailed, or why not. */
export function ticketMailCard(t) {
  let body;
  if (!t.mail.configured) body = h('p', { class: 'muted', id: 'ticket-mail-off' }, `${NOT_SET_UP} Answer the requester from your own mailbox.`);
  else if (!t.requester_email) body = h('p', { class: 'muted' }, 'No email address: the requester is not mailed.');
  else if (!t.mail.mails.length) body = h('p', { class: 'muted' }, 'Nothing mailed yet. The requester is mailed when the ticket is made and when it is solved.');
  else body = h('ul', { class: 'plain mails' }, t.mail.mails.slice().reverse().map((m) => mailItem(m)));
  return h('section', { class: 'card', id: 'ticket-mail' }, h('h2', {}, 'Mail to the requester'), body);
}

/** The Settings screen's outbox card (admins). */
export async function outboxCard() {
  const card = h('section', { class: 'card', id: 'mail-settings' }, h('h2', {}, 'Mail'));
  const err = errorSlot();
  const fill = async () => {
    const o = await api('GET', '/api/mail?limit=20');
    const retry = async (m, button) => {
      err.clear();
      button.disabled = true;
      try { await api('POST', `/api/mail/${m.id}/retry`, {}); announce(`Sending the mail to ${m.to} again.`); await refill(); }
      catch (e) { button.disabled = false; err.show(e.message); }
    };
    const c = o.counts;
    return [
      h('h2', {}, 'Mail'),
      o.setup.configured
        ? h('p', { id: 'mail-setup' }, 'Sent through ', h('code', {}, o.setup.relay), ' as ', h('code', {}, o.setup.from), '.')
        : h('p', { id: 'mail-setup' }, NOT_SET_UP),
      h('ul', { class: 'plain figures', id: 'mail-counts' },
        h('li', {}, h('strong', {}, String(c.pending)), ' waiting'),
        h('li', { class: c.failed ? 'alert' : '' }, h('strong', {}, String(c.failed)), ' failed'),
        h('li', {}, h('strong', {}, String(c.sent)), ' sent (last 30 days)')),
      o.mails.length ? h('ul', { class: 'plain mails', id: 'mail-list' }, o.mails.map((m) => mailItem(m, retry))) : null,
      err.el,
    ];
  };
  const refill = async () => { card.replaceChildren(...await fill()); };
  try { await refill(); } catch (e) { card.append(h('p', { class: 'muted' }, 'The outbox could not be loaded.')); }
  return card;
}
