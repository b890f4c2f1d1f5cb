// Shifts and business hours: a week view per group (each shift a band on
// the days' timelines, its agents on it, the group's own hours and closed
// dates marked; click a band to edit), the shift editor (days, times, a
// searchable zone, agents and groups; errors by the fields), and each
// group's own hours and closed dates.
import { api, notice } from './api.js';
import { h, errorSlot, announce } from './dom.js';

const DAYS = [['mon', 'Mon'], ['tue', 'Tue'], ['wed', 'Wed'], ['thu', 'Thu'], ['fri', 'Fri'], ['sat', 'Sat'], ['sun', 'Sun']];
const minutes = (t) => { const [a, b] = t.split(':').map(Number); return a * 60 + b; };

/** The day bands of a weekly rule: [dayIndex, fromMin, toMin], a night split at midnight. */
export function bands(rule) {
  const out = [];
  const s = minutes(rule.start); let e = minutes(rule.end);
  if (e <= s) e += 24 * 60;
  for (const d of rule.days) {
    const i = DAYS.findIndex(([k]) => k === d);
    if (i < 0) continue;
    out.push([i, s, Math.min(e, 1440)]);
    if (e > 1440) out.push([(i + 1) % 7, 0, e - 1440]);
  }
  return out;
}

/** The dates (YYYY-MM-DD) of this week, Monday first, in the browser's calendar. */
function thisWeek() {
  const d = new Date(); const day = (d.getDay() + 6) % 7;
  d.setDate(d.getDate() - day);
  return DAYS.map((_, i) => { const x = new Date(d); x.setDate(d.getDate() + i); return `${x.getFullYear()}-${String(x.getMonth() + 1).padStart(2, '0')}-${String(x.getDate()).padStart(2, '0')}`; });
}

function weekView(group, shifts, hours, staffNames, onEdit) {
  const dates = thisWeek();
  const rows = DAYS.map(([key, label], i) => {
    const closed = hours.closed.find((c) => c.date === dates[i]);
    const track = h('div', { class: 'track' });
    const add = (from, to, text, cls, onclick) => {
      const band = h(onclick ? 'button' : 'span', { type: onclick ? 'button' : null, class: `band ${cls}`, onclick, title: text }, text);
      band.style.left = `${(from / 1440) * 100}%`;
      band.style.width = `${Math.max(2, ((to - from) / 1440) * 100)}%`;
      track.append(band);
    };
    for (const r of hours.hours) for (const [d, a, b] of bands(r)) if (d === i) add(a, b, `Open ${r.start}–${r.end}`, 'own');
    shifts.forEach((s, n) => {
      for (const [d, a, b] of bands(s)) {
        if (d !== i) continue;
        const who = s.agents.map((id) => staffNames[id] || '?');
        const text = `${s.name} ${s.start}–${s.end}${who.length ? ` · ${who.join(', ')}` : ''}${s.from_config ? ' (config file)' : ''}`;
        // Shifts from the config file are read-only here: change the file.
        add(a, b, text, `shift c${n % 4}`, s.from_config ? null : () => onEdit(s));
      }
    });
    return h('div', { class: `day-row${closed ? ' closed' : ''}`, dataset: { day: key } },
      h('span', { class: 'day-label' }, label, h('small', {}, dates[i].slice(5))),
      closed ? h('span', { class: 'closed-mark' }, `Closed${closed.note ? `: ${closed.note}` : ''}`) : track);
  });
  const ticks = h('div', { class: 'ticks', 'aria-hidden': 'true' }, h('span', {}), ...[0, 6, 12, 18, 24].map((t) => {
    const x = h('span', { class: 'tick' }, `${String(t).padStart(2, '0')}:00`); x.style.left = `${(t / 24) * 100}%`; return x;
  }));
  const zones = [...new Set(shifts.map((s) => s.zone).concat(hours.hours.length || hours.closed.length ? [hours.zone] : []))];
  return h('section', { class: 'card week', dataset: { group: group.name } },
    h('h2', {}, group.name),
    h('p', { class: 'muted' }, shifts.length ? `Open while these shifts run${zones.length ? ` (local times: ${zones.join(', ')})` : ''}.`
      : hours.hours.length ? `No shift lists this group: its own hours apply (${hours.zone}).` : 'No shifts or hours: always open.'),
    h('div', { class: 'timeline' }, ticks, ...rows));
}

function zoneInput(id, value) {
  const list = h('datalist', { id: `${id}-list` }, (Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : ['UTC']).map((z) => h('option', { value: z })));
  return [h('input', { id, list: `${id}-list`, value, autocomplete: 'off', required: true, spellcheck: 'false' }), list];
}

function shiftEditor(existing, groups, staff, done) {
  const r = existing || { name: '', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', zone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', agents: [], groups: [] };
  const errs = {};
  const slot = (k) => { errs[k] = h('span', { class: 'field-error', id: `shift-${k}-error`, role: 'alert', hidden: true }); return errs[k]; };
  const name = h('input', { id: 'shift-name', value: r.name, maxlength: 60, required: true, 'aria-describedby': 'shift-name-error' });
  const days = h('fieldset', { id: 'shift-days' }, h('legend', {}, 'Days it starts on'),
    DAYS.map(([k, l]) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: k, checked: r.days.includes(k) }), l)), slot('days'));
  const start = h('input', { id: 'shift-start', type: 'time', value: r.start, required: true, 'aria-describedby': 'shift-start-error' });
  const end = h('input', { id: 'shift-end', type: 'time', value: r.end, required: true, 'aria-describedby': 'shift-end-error' });
  const [zone, zoneList] = zoneInput('shift-zone', r.zone);
  zone.setAttribute('aria-describedby', 'shift-zone-error');
  const who = h('fieldset', { id: 'shift-agents' }, h('legend', {}, 'Agents'),
    staff.filter((s) => s.chat_enabled).map((s) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: s.id, checked: r.agents.includes(s.id), dataset: { name: s.display_name } }), s.display_name)), slot('agents'));
  const gs = h('fieldset', { id: 'shift-groups' }, h('legend', {}, 'Groups (their members, and their hours)'),
    groups.map((g) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: g.id, checked: r.groups.includes(g.id) }), g.name)), slot('groups'));
  const err = errorSlot();
  const save = h('button', { type: 'submit', id: 'shift-save' }, existing ? 'Save shift' : 'Add shift');
  const form = h('form', { class: 'card grid', id: 'shift-form' },
    h('label', {}, 'Name', name, slot('name')),
    h('label', {}, 'Starts', start, slot('start')),
    h('label', {}, 'Ends (before the start: the next day)', end, slot('end')),
    h('label', {}, 'Time zone (type to search)', zone, zoneList, slot('zone')),
    days, who, gs, err.el,
    h('div', { class: 'row' }, save,
      h('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, 'Cancel'),
      existing ? h('button', { type: 'button', class: 'danger', id: 'shift-delete', onclick: async () => {
        if (!confirm(`Delete the shift ${existing.name}? Its agents stay as they are until they change.`)) return;
        try { await api('DELETE', `/api/shifts/${existing.id}`); notice(`Shift ${existing.name} deleted.`, 'ok'); done(true); } catch (e) { err.show(e.message); }
      } }, 'Delete') : null));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const e of Object.values(errs)) { e.hidden = true; e.textContent = ''; }
    err.clear();
    const picked = (box) => [...box.querySelectorAll('input:checked')].map((c) => c.value);
    const body = { name: name.value, days: picked(days), start: start.value, end: end.value, zone: zone.value.trim(), agents: picked(who), groups: picked(gs) };
    try {
      if (existing) await api('PUT', `/api/shifts/${existing.id}`, body);
      else await api('POST', '/api/shifts', body);
      announce(`Shift ${body.name} saved; the schedule applies it now.`);
      done(true);
    } catch (e) {
      const at = e.field && errs[e.field];
      if (at) { at.textContent = e.message; at.hidden = false; form.querySelector(`#shift-${e.field}`)?.focus(); }
      else err.show(e.message);
    }
  });
  return form;
}

function hoursEditor(group, hours, done) {
  const [zone, zoneList] = zoneInput('hours-zone', hours.zone);
  const rules = h('div', { class: 'stack', id: 'hours-rules' });
  const addRule = (r) => {
    const row = h('div', { class: 'row rule' },
      ...DAYS.map(([k, l]) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: k, checked: r.days.includes(k) }), l)),
      h('input', { type: 'time', class: 'r-start', value: r.start, 'aria-label': 'Opens' }),
      h('input', { type: 'time', class: 'r-end', value: r.end, 'aria-label': 'Closes' }),
      h('button', { type: 'button', class: 'secondary small', onclick: () => row.remove() }, 'Remove'));
    rules.append(row);
  };
  hours.hours.forEach(addRule);
  const closed = h('div', { class: 'stack', id: 'hours-closed' });
  const addClosed = (c) => {
    const row = h('div', { class: 'row closed-row' },
      h('input', { type: 'date', class: 'c-date', value: c.date, 'aria-label': 'Closed on' }),
      h('input', { class: 'c-note', value: c.note || '', maxlength: 200, placeholder: 'Note for visitors (optional)', 'aria-label': 'Note for visitors' }),
      h('button', { type: 'button', class: 'secondary small', onclick: () => row.remove() }, 'Remove'));
    closed.append(row);
  };
  hours.closed.forEach(addClosed);
  const err = errorSlot();
  const form = h('form', { class: 'card stack', id: 'hours-form' },
    h('h2', {}, `${group.name}: own hours and closed dates`),
    h('label', {}, 'Time zone of these hours and dates', zone, zoneList),
    h('h3', {}, 'Opening hours (used while no shift lists the group)'), rules,
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', id: 'add-rule', onclick: () => addRule({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }) }, 'Add opening hours')),
    h('h3', {}, 'Closed dates'), closed,
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', id: 'add-closed', onclick: () => addClosed({ date: '', note: '' }) }, 'Add a closed date')),
    err.el,
    h('div', { class: 'row' }, h('button', { type: 'submit', id: 'hours-save' }, 'Save hours'), h('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, 'Cancel')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.clear();
    const body = {
      zone: zone.value.trim(),
      hours: [...rules.querySelectorAll('.rule')].map((r) => ({ days: [...r.querySelectorAll('input:checked')].map((c) => c.value), start: r.querySelector('.r-start').value, end: r.querySelector('.r-end').value })),
      closed: [...closed.querySelectorAll('.closed-row')].map((r) => ({ date: r.querySelector('.c-date').value, note: r.querySelector('.c-note').value.trim() || null })).filter((c) => c.date),
    };
    try { await api('PUT', `/api/groups/${group.id}/hours`, body); announce(`Hours of ${group.name} saved.`); done(true); }
    catch (e) { err.show(e.message); }
  });
  return form;
}

export async function shiftsView(ctx) {
  const [shifts, groups, staff] = await Promise.all([api('GET', '/api/shifts'), api('GET', '/api/groups'), api('GET', '/api/staff')]);
  const hours = Object.fromEntries(await Promise.all(groups.map(async (g) => [g.id, await api('GET', `/api/groups/${g.id}/hours`)])));
  const canEdit = ctx.me.role !== 'agent';
  const names = Object.fromEntries(staff.map((s) => [s.id, s.display_name]));
  const root = h('section', { id: 'shifts-screen' });
  const slot = h('div', {});
  const rerender = async () => root.replaceWith(await shiftsView(ctx));
  const edit = (s) => { if (!canEdit) return; slot.replaceChildren(h('h2', {}, s ? `Edit ${s.name}` : 'Add a shift'), shiftEditor(s, groups, staff, (changed) => (changed ? rerender() : slot.replaceChildren()))); slot.querySelector('input')?.focus(); };
  const memberOf = (g) => new Set(staff.filter((s) => s.groups.includes(g.id)).map((s) => s.id));
  const weeks = groups.map((g) => {
    const members = memberOf(g);
    const mine = shifts.filter((s) => s.groups.includes(g.id) || s.agents.some((a) => members.has(a)));
    const card = weekView(g, mine, hours[g.id], names, edit);
    if (canEdit) card.append(h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', 'aria-label': `Own hours and closed dates of ${g.name}`, dataset: { hours: g.name },
      onclick: () => { slot.replaceChildren(hoursEditor(g, hours[g.id], (changed) => (changed ? rerender() : slot.replaceChildren()))); slot.querySelector('input')?.focus(); } }, 'Hours and closed dates')));
    return card;
  });
  root.append(h('h1', {}, 'Shifts and hours'),
    h('p', { class: 'muted' }, 'A shift switches its agents to Available when it starts and Offline when it ends, at the local time of its zone. A group listed on shifts takes chats only while one runs.'),
    canEdit ? h('div', { class: 'row' }, h('button', { type: 'button', id: 'add-shift', onclick: () => edit(null) }, 'Add a shift')) : null,
    slot, ...weeks);
  return root;
}
