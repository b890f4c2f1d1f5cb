// Names the live frames carry only as ids: groups (fetched once per
// sign-in, refreshed on demand), staff (from the roster), wrap-up reasons
// and the message limit.
import { api } from './api.js';
import { state } from './store.js';

let groups = null;
let reasons = null;
let limit = null;

/** Groups the caller may see, id -> group. */
export async function groupMap(refresh = false) {
  if (!groups || refresh) groups = Object.fromEntries((await api('GET', '/api/groups')).map((g) => [g.id, g]));
  return groups;
}

/** A group's name, from what is loaded (or the roster). */
export function groupName(id) {
  if (groups && groups[id]) return groups[id].name;
  const g = state.roster.groups.find((x) => x.id === id);
  return g ? g.name : 'a group';
}

/** A staff member's name, from the roster. */
export function staffName(id) {
  const s = state.roster.staff.find((x) => x.id === id);
  return s ? s.name : (state.me && state.me.id === id ? state.me.display_name : 'a colleague');
}

/** The admin-managed wrap-up reasons. */
export async function wrapUpReasons(refresh = false) {
  if (!reasons || refresh) reasons = (await api('GET', '/api/wrap-up-reasons')).reasons;
  return reasons;
}

/** The longest message the desk takes. */
export async function messageLimit() {
  if (!limit) {
    try { limit = (await api('GET', '/api/visitor/widget')).max_message_chars || 1000; } catch (e) { limit = 1000; }
  }
  return limit;
}
