// The first-run setup page: the token is in the link's #fragment (never
// sent to servers or logs by the browser); the form creates the owner.
import { api, notice, clearNotice } from './api.js';

const token = decodeURIComponent(location.hash.replace(/^#/, ''));
const form = document.getElementById('setup-form');
if (!token) notice('This page needs the one-time setup link that livedesk printed when it started.');

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
    notice(e.message);
  }
});
