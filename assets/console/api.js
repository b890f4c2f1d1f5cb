// REST for the console: JSON calls with the CSRF header, errors as
// ApiError with the server's code and a message worded for people, and
// the notice banner.
import { h, humane } from './dom.js';

export { h };

let csrfToken = '';

/** Remembers the session's CSRF token for state-changing requests. */
export function setCsrf(token) { csrfToken = token || ''; }

/** An API error with the server's code and message. */
export class ApiError extends Error {
  constructor(status, code, message, raw) {
    super(message); this.status = status; this.code = code;
    // The field a 400 `invalid_field` names ("start: …"), for showing the
    // error by that field.
    const m = /^([a-z_.]+): /.exec(raw || '');
    this.field = m ? m[1].split('.').pop() : null;
  }
}

/** Calls the API; resolves to parsed JSON (or null), rejects with ApiError. */
export async function api(method, path, body) {
  const headers = { 'Accept': 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'livedesk cannot be reached; check the connection and try again');
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const err = (data && data.error) || { code: 'http_' + res.status, message: res.statusText };
    throw new ApiError(res.status, err.code, humane(err.message), err.message);
  }
  return data;
}

/** Shows a message in the banner ('error' or 'ok'). */
export function notice(message, kind = 'error') {
  const n = document.getElementById('notice');
  n.textContent = message;
  n.className = kind;
  n.hidden = false;
}

/** Hides the banner. */
export function clearNotice() {
  const n = document.getElementById('notice');
  n.hidden = true;
  n.textContent = '';
}
