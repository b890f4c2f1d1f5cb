// Reports: for a date range in a time zone, the figures of every group and
// agent the signed-in staff member looks after (agents: their own chats),
// chats per day and a weekday-by-hour heat map drawn as SVG here, and the
// chats behind any number, listed below the tables. Every table downloads
// as CSV. The filters last while the console is open, so going to a
// transcript and back keeps them.
import { api } from './api.js';
import { h, errorSlot } from './dom.js';
import { groupMap } from './names.js';

const SVG = 'http://www.w3.org/2000/svg';
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const PRESETS = [['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days'], ['365', 'Last 12 months'], ['custom', 'Chosen dates']];
// [field, column, measure behind it (none: not a list of chats), agents show it]
const COLUMNS = [
  ['chats', 'Chats', 'chats', true],
  ['answered', 'Answered', 'answered', false],
  ['missed', 'Missed', 'missed', false],
  ['abandoned', 'Abandoned', 'abandoned', false],
  ['wait_avg_ms', 'Avg wait', 'answered', true],
  ['wait_p90_ms', '90% wait', 'answered', true],
  ['first_response_avg_ms', 'First response', 'answered', true],
  ['handling_avg_ms', 'Handling', 'answered', true],
  ['rated_good', 'Good', 'good', true],
  ['rated_bad', 'Bad', 'bad', true],
  ['satisfaction_pct', 'Satisfied', null, true],
  ['tickets', 'Tickets', 'tickets', true],
];
const MEASURE_LABEL = { chats: 'all chats', answered: 'answered', missed: 'missed', abandoned: 'abandoned', good: 'rated good', bad: 'rated bad', tickets: 'with a ticket' };
const OUTCOME_LABEL = { answered: 'Answered', missed: 'Missed', abandoned: 'Abandoned' };

function browserZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (e) { return 'UTC'; }
}

// Kept across visits of the screen.
const q = { preset: '7', from: '', to: '', zone: browserZone(), group: '', business: false };

/** An SVG element (attributes set as attributes, children as text or nodes). */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** "YYYY-MM-DD" `days` before `date` (also "YYYY-MM-DD"). */
function daysBefore(date, days) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

function shortDate(date) {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString([], { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/** "45 s", "1 min 5 s", "2 h 10 min": exact enough to compare agents. */
function span(ms) {
  const sec = Math.round(ms / 1000);
  if (sec < 60) return `${sec} s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return sec % 60 ? `${min} min ${sec % 60} s` : `${min} min`;
  return min % 60 ? `${Math.floor(min / 60)} h ${min % 60} min` : `${Math.floor(min / 60)} h`;
}

/** A chat's start in the report's zone. */
function started(ms) {
  try {
    return new Date(ms).toLocaleString([], { timeZone: q.zone, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  } catch (e) { return new Date(ms).toLocaleString(); }
}

function figureText(field, v) {
  if (v === null || v === undefined) return '—';
  if (field.endsWith('_ms')) return span(v);
  if (field === 'satisfaction_pct') return `${v} %`;
  return String(v);
}

/** Days from `from` to `to` (both "YYYY-MM-DD"), both counted. */
function dayCount(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86400000) + 1;
}

function query(extra = {}) {
  const p = new URLSearchParams();
  if (q.to) p.set('to', q.to);
  if (q.from && q.to) p.set('days', String(dayCount(q.from, q.to)));
  p.set('zone', q.zone);
  if (q.group) p.set('group', q.group);
  if (q.business) p.set('business_hours', 'true');
  for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
  return p;
}

function csvLink(table, extra = {}, label = 'Download CSV') {
  return h('a', { class: 'button-link', href: `/api/reports/csv?${query({ table, ...extra })}`, download: '', id: `csv-${table}` }, label);
}

/** Chats per day as bars, with the busiest day named for screen readers. */
function dayChart(days) {
  const W = 640; const H = 190; const left = 34; const bottom = 24; const top = 10;
  const max = Math.max(1, ...days.map((d) => d.chats));
  const total = days.reduce((a, d) => a + d.chats, 0);
  const busiest = days.reduce((a, d) => (d.chats > a.chats ? d : a), days[0] || { chats: 0 });
  const bw = (W - left) / Math.max(1, days.length);
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const label = total ? `Chats per day: ${total} in all; the busiest day ${busiest.date} with ${busiest.chats}.` : 'Chats per day: none in this range.';
  const ticks = [...new Set([0, Math.floor((days.length - 1) / 2), days.length - 1])].filter((i) => i >= 0);
  return s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': label, id: 'chart-days-svg' },
    s('line', { x1: left, x2: W, y1: y(0), y2: y(0), class: 'axis' }),
    s('line', { x1: left, x2: W, y1: y(max), y2: y(max), class: 'grid' }),
    s('text', { x: left - 6, y: y(max) + 4, 'text-anchor': 'end', class: 'tick' }, String(max)),
    s('text', { x: left - 6, y: y(0) + 4, 'text-anchor': 'end', class: 'tick' }, '0'),
    days.map((d, i) => s('rect', { x: left + i * bw + Math.min(2, bw * 0.15), y: y(d.chats), width: Math.max(1, bw - Math.min(4, bw * 0.3)), height: y(0) - y(d.chats), class: 'bar' },
      s('title', {}, `${d.date}: ${d.chats} chats`))),
    ticks.map((i) => s('text', { x: left + (i + 0.5) * bw, y: H - 6, 'text-anchor': 'middle', class: 'tick' }, shortDate(days[i].date))));
}

/** Chats by local weekday (rows, Monday first) and hour (columns). */
function heatmap(cells) {
  const cw = 24; const ch = 22; const left = 38; const top = 24;
  const max = Math.max(0, ...cells.flat());
  const shade = (n) => {
    if (!n) return '#eef1f6';
    const t = 0.2 + 0.8 * (n / max);
    const mix = (a, b) => Math.round(a + (b - a) * t);
    return `rgb(${mix(220, 31)},${mix(232, 95)},${mix(255, 209)})`;
  };
  let peak = null;
  cells.forEach((row, d) => row.forEach((n, hr) => { if (n && (!peak || n > peak.n)) peak = { d, hr, n }; }));
  const label = peak ? `Chats by weekday and hour; the busiest hour is ${WEEKDAY_NAMES[peak.d]} ${String(peak.hr).padStart(2, '0')}:00 with ${peak.n}.` : 'Chats by weekday and hour: none in this range.';
  return s('svg', { viewBox: `0 0 ${left + 24 * cw} ${top + 7 * ch + 4}`, class: 'chart heat', role: 'img', 'aria-label': label, id: 'heatmap-svg' },
    [0, 3, 6, 9, 12, 15, 18, 21].map((hr) => s('text', { x: left + hr * cw + cw / 2, y: 17, 'text-anchor': 'middle', class: 'tick' }, String(hr).padStart(2, '0'))),
    cells.map((row, d) => [
      s('text', { x: left - 6, y: top + d * ch + ch / 2 + 4, 'text-anchor': 'end', class: 'tick' }, WEEKDAYS[d]),
      row.map((n, hr) => s('rect', { x: left + hr * cw + 1, y: top + d * ch + 1, width: cw - 2, height: ch - 2, rx: 3, fill: shade(n), 'data-count': n, 'data-cell': `${d}-${hr}` },
        s('title', {}, `${WEEKDAY_NAMES[d]} ${String(hr).padStart(2, '0')}:00–${String(hr + 1).padStart(2, '0')}:00: ${n} chats`))),
    ]));
}

export async function reportsView(ctx) {
  const groups = Object.values(await groupMap()).sort((a, b) => a.name.localeCompare(b.name));
  const root = h('section', { id: 'reports' });
  const err = errorSlot();
  const body = h('div', { id: 'report-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const drill = h('section', { class: 'card', id: 'report-drill', hidden: true });
  const zones = (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []).filter((z) => z !== 'UTC');

  const fromIn = h('input', { type: 'date', id: 'report-from', value: q.from, onchange: () => { q.preset = 'custom'; preset.value = 'custom'; } });
  const toIn = h('input', { type: 'date', id: 'report-to', value: q.to, onchange: () => { q.preset = 'custom'; preset.value = 'custom'; } });
  const preset = h('select', { id: 'report-preset', onchange: () => {
    q.preset = preset.value;
    if (q.preset !== 'custom' && toIn.value) { fromIn.value = daysBefore(toIn.value, Number(q.preset) - 1); load(); }
  } }, PRESETS.map(([v, label]) => h('option', { value: v, selected: q.preset === v }, label)));
  const zone = h('select', { id: 'report-zone' }, h('option', { value: 'UTC', selected: q.zone === 'UTC' }, 'UTC'),
    zones.map((z) => h('option', { value: z, selected: q.zone === z }, z.replace(/_/g, ' '))));
  const group = h('select', { id: 'report-group' }, h('option', { value: '' }, 'All my groups'),
    groups.map((g) => h('option', { value: g.id, selected: q.group === g.id }, g.name)));
  const business = h('input', { type: 'checkbox', id: 'report-business', checked: q.business });
  const form = h('form', { class: 'card report-filters', id: 'report-filters', onsubmit: (e) => { e.preventDefault(); load(); } },
    h('label', {}, 'Range', preset),
    h('label', {}, 'From', fromIn),
    h('label', {}, 'To', toIn),
    h('label', {}, 'Time zone', zone),
    h('label', {}, 'Group', group),
    h('label', { class: 'check' }, business, 'Business hours only'),
    h('button', { type: 'submit', id: 'report-apply' }, 'Show'));
  root.append(h('h1', {}, 'Reports'),
    h('p', { class: 'muted' }, ctx.me.role === 'agent' ? 'Your own chats.' : ctx.me.role === 'manager' ? 'Your groups and their agents.' : 'Every group and agent.',
      ' A chat counts on the day it started, once it has ended.'),
    form, err.el, body, drill);

  // The chats behind one number: a list with "Show more", and its CSV.
  const openDrill = async (title, extra) => {
    drill.hidden = false;
    const heading = h('h2', { tabindex: '-1', id: 'drill-title' }, `Chats: ${title}`);
    const tbody = h('tbody');
    const more = h('button', { type: 'button', class: 'secondary', id: 'drill-more', hidden: true }, 'Show more');
    const count = h('span', { class: 'muted', id: 'drill-count' });
    const derr = errorSlot();
    drill.replaceChildren(h('div', { class: 'row spread' }, heading,
      h('div', { class: 'row' }, csvLink('chats', extra, 'Download these as CSV'),
        h('button', { type: 'button', class: 'secondary', onclick: () => { drill.hidden = true; } }, 'Close'))),
    derr.el,
    h('div', { class: 'table-box' }, h('table', { id: 'drill-table' }, h('thead', {}, h('tr', {},
      ['Visitor', 'Started', 'Group', 'Agent', 'Outcome', 'Wait', 'First response', 'Handling', 'Rating', 'Ticket'].map((c) => h('th', { scope: 'col' }, c)))), tbody)),
    h('div', { class: 'row pager' }, count, more));
    heading.focus();
    let after = '';
    let shown = 0;
    const page = async () => {
      let r;
      try { r = await api('GET', `/api/reports/chats?${query({ ...extra, after, limit: '50' })}`); } catch (e) { derr.show(e.message); return; }
      tbody.append(...r.chats.map((c) => h('tr', { dataset: { chat: c.id } },
        h('td', {}, h('a', { href: `#/chats/${c.id}` }, c.visitor_name)),
        h('td', {}, started(c.started_at)), h('td', {}, c.group_name), h('td', {}, c.agent_name || '—'),
        h('td', {}, OUTCOME_LABEL[c.outcome] || c.outcome),
        ['wait_ms', 'first_response_ms', 'handling_ms'].map((k) => h('td', {}, figureText(k, c[k]))),
        h('td', {}, c.rating ? h('span', { class: `pill rating-${c.rating}` }, c.rating === 'good' ? 'Good' : 'Bad') : '—'),
        h('td', {}, c.ticket ? 'Yes' : '—'))));
      shown += r.chats.length;
      after = r.next || '';
      more.hidden = !r.next;
      count.textContent = shown ? `${shown} chats shown${r.next ? '' : ', all of them'}` : 'No chats behind this number.';
    };
    more.onclick = page;
    await page();
  };

  const cell = (field, f, measure, who, scope) => {
    const text = figureText(field, f[field]);
    if (!measure || !f[field] || field === 'satisfaction_pct') return h('td', { class: 'num' }, text);
    return h('td', { class: 'num' }, h('button', { type: 'button', class: 'link', 'aria-label': `${text} ${field.replace(/_/g, ' ')} of ${who}: list the chats`,
      onclick: () => openDrill(`${who} · ${MEASURE_LABEL[measure]}`, { ...scope, measure }) }, text));
  };

  const table = (id, first, rows, total, agents) => {
    const cols = COLUMNS.filter(([, , , forAgents]) => !agents || forAgents);
    const line = (name, f, scope, cls) => h('tr', { class: cls }, h('th', { scope: 'row' }, name || '(deleted)'),
      cols.map(([field, , measure]) => cell(field, f, measure, name || 'a deleted group', scope)));
    return h('div', { class: 'table-box' }, h('table', { id, class: 'figures-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, first), cols.map(([, label]) => h('th', { scope: 'col', class: 'num' }, label)))),
      h('tbody', {}, rows.map((r) => line(r.name, r, agents ? { agent: r.agent } : { group: r.group })),
        total ? line('Total', total, {}, 'total') : null)));
  };

  const draw = (rep) => {
    const t = rep.total;
    const card = (id, label, value, measure, note) => h('div', { class: 'figure', id: `fig-${id}` },
      measure && value !== '0' && value !== '—'
        ? h('button', { type: 'button', class: 'link big', 'aria-label': `${value} ${label}: list the chats`, onclick: () => openDrill(`All groups · ${MEASURE_LABEL[measure]}`, { measure }) }, value)
        : h('span', { class: 'big' }, value),
      h('span', { class: 'label' }, label), note ? h('span', { class: 'muted small' }, note) : null);
    body.replaceChildren(
      h('p', { class: 'muted', id: 'report-range' }, `${shortDate(rep.from)} – ${shortDate(rep.to)} ${rep.to.slice(0, 4)}, ${rep.zone.replace(/_/g, ' ')}${rep.business_hours ? ', times in business hours only' : ''}`),
      h('div', { class: 'figures', id: 'report-cards' },
        card('chats', 'chats', String(t.chats), 'chats'),
        card('answered', 'answered', String(t.answered), 'answered'),
        card('missed', 'missed', String(t.missed), 'missed', 'nobody took it in time'),
        card('abandoned', 'abandoned', String(t.abandoned), 'abandoned', 'the visitor left first'),
        card('wait', 'average wait', figureText('wait_avg_ms', t.wait_avg_ms), null, t.wait_p90_ms != null ? `90 % within ${span(t.wait_p90_ms)}` : null),
        card('first-response', 'first response', figureText('first_response_avg_ms', t.first_response_avg_ms)),
        card('handling', 'handling time', figureText('handling_avg_ms', t.handling_avg_ms)),
        card('satisfaction', 'satisfied', figureText('satisfaction_pct', t.satisfaction_pct), null, `${t.rated_good} good, ${t.rated_bad} bad`),
        card('tickets', 'tickets from chats', String(t.tickets), 'tickets'),
        card('solved', 'solved by an article', String(t.solved_by_article))),
      h('div', { class: 'grid2' },
        h('section', { class: 'card', id: 'chart-days' }, h('div', { class: 'row spread' }, h('h2', {}, 'Chats per day'), csvLink('days')), dayChart(rep.days),
          h('p', { class: 'muted small' }, 'Ended chats, on the day they started.')),
        h('section', { class: 'card', id: 'chart-heatmap' }, h('div', { class: 'row spread' }, h('h2', {}, 'Busy hours'), csvLink('heatmap')), heatmap(rep.heatmap),
          h('p', { class: 'muted small' }, `Chats started, by weekday and hour, ${rep.zone.replace(/_/g, ' ')} time. Darker is busier.`))),
      h('section', { class: 'card' }, h('div', { class: 'row spread' }, h('h2', {}, 'Groups'), csvLink('groups')),
        rep.groups.length ? table('report-groups', 'Group', rep.groups, rep.total, false) : h('p', { class: 'muted' }, 'No groups to show.')),
      h('section', { class: 'card' }, h('div', { class: 'row spread' }, h('h2', {}, 'Agents'), csvLink('agents')),
        rep.agents.length ? table('report-agents', 'Agent', rep.agents, null, true) : h('p', { class: 'muted' }, 'No agents to show.'),
        h('p', { class: 'muted small' }, 'Wait: start to the first accept. First response: start to the first agent message. Handling: accept to end. A transferred chat counts for the agent and group it ended with.')));
  };

  async function load() {
    q.from = fromIn.value; q.to = toIn.value; q.zone = zone.value; q.group = group.value; q.business = business.checked;
    drill.hidden = true;
    if (q.from && q.to) {
      const n = dayCount(q.from, q.to);
      if (n < 1) { err.show('“From” must be on or before “To”.'); return; }
      if (n > 731) { err.show('A report covers at most 731 days (two years): choose a later “From”.'); return; }
    }
    let rep;
    try { rep = await api('GET', `/api/reports?${query()}`); err.clear(); } catch (e) { err.show(e.message); return; }
    // The server's dates (its "today" in the zone when none were chosen).
    fromIn.value = q.from = rep.from;
    toIn.value = q.to = rep.to;
    draw(rep);
  }
  // First visit: no dates, so the server's default, the last 7 days
  // ending today in the zone.
  await load();
  return root;
}
