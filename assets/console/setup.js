// The first-run setup page: the token is in the link's #fragment (never
// sent to servers or logs by the browser); the form creates the owner.
// The link is checked first, so a used or expired one says so at once
// instead of after the form is filled in.
import { api, notice, clearNotice } from './api.js';
import { h } from './dom.js';

const token = decodeURIComponent(location.hash.replace(/^#/, ''));
const form = document.getElementById('setup-form');

function dead(why) {
  form.replaceWith(h('div', { class: 'card', id: 'setup-dead', role: 'alert' },
    h('p', {}, why),
    h('p', {}, 'If the owner account exists, ', h('a', { href: '/' }, 'sign in'), '. Otherwise restart livedesk: it prints a new setup link (valid one hour), or create the owner with ',
      h('code', {}, 'livedesk owner create'), ' on the server.')));
}

if (!token) dead('This page needs the one-time setup link that livedesk printed when it started.');
else {
  api('POST', '/api/setup/check', { token }).catch((e) => {
    if (e.code === 'setup_link_invalid') dead('This setup link was already used or has expired.');
  });
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearNotice();
  const password = document.getElementById('setup-password').value;
  if (password !== document.getElementById('setup-password2').value) {
    notice('The two passwords differ.');
    return;
  }
  try {
    await api('POST', '/api/setup', {
      token,
      email: document.getElementById('setup-email').value,
      display_name: document.getElementById('setup-name').value,
      password,
    });
    history.replaceState(null, '', '/setup');
    location.assign('/');
  } catch (e) {
    if (e.code === 'setup_link_invalid') dead('This setup link was already used or has expired.');
    else notice(e.message);
  }
});
