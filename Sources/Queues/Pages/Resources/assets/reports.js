/**
 * Reports page: what happened over a range of local days, for one branch or every branch of the user's, split by
 * day, hour, weekday, service, counter or staff member ("staff performance"). The form drives one request to
 * `GET /api/v1/reports`; its answer fills the figure tiles, three SVG charts drawn here (no library) and the table
 * with every row. The form is kept in the address, so a reload, a bookmark or a shared link shows the same report,
 * and the download links carry the same query to `/api/v1/reports.csv` and `.pdf`.
 */
import { api, format, pageData, problemText, t } from './api.js';

const data = pageData();
const me = data.me;
const lang = data.lang || document.documentElement.lang || 'en';
const isAdmin = me.role === 'admin';

const $ = (id) => document.getElementById(id);
const form = $('report-form');
const branchSelect = $('report-branch');
const rangeSelect = $('report-range');
const fromInput = $('report-from');
const toInput = $('report-to');
const groupSelect = $('report-group');
const operatorSelect = $('report-operator');
const results = $('report-results');
const problem = $('report-problem');

/** One staff member's figures are grouped by day, weekday or as a whole: the API refuses the other groupings. */
const OPERATOR_GROUPS = ['day', 'weekday', 'operator'];
const PRESETS = ['today', 'yesterday', 'this_week', 'last_week', 'this_month', 'last_month', 'custom'];
const GROUPS = ['day', 'hour', 'weekday', 'service', 'counter', 'operator'];
const PAD = { top: 14, right: 14, bottom: 30, left: 56 };
/** Room per x-axis label, so labels never overlap: the others are skipped (every bar keeps its tooltip). */
const LABEL_SPACE = 58;

let branches = [];
let staff = [];
let controller = null;
let shown = null; // the report on screen, redrawn when the charts change width
let drawnWidth = 0;

// ---- building elements ------------------------------------------------------------------------------

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) if (value != null && value !== false) node.setAttribute(name, String(value));
  node.append(...children.filter((child) => child != null && child !== false));
  return node;
}
const h = (tag, attrs = {}, ...children) => build(document.createElement(tag), attrs, children);
const s = (tag, attrs = {}, ...children) => build(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);

// ---- numbers, durations, days -----------------------------------------------------------------------

const integer = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 });
const NONE = '—';

/** A figure of a report row (snake_case, `wait_p50_s`); the API leaves out those a row has no value for. */
function figure(row, key) {
  return row?.[key] ?? null;
}

/** A duration as a clock reads it: m:ss, or h:mm:ss from an hour. */
function clock(seconds) {
  if (seconds == null) return NONE;
  const total = Math.round(Math.max(0, seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

const count = (value) => (value == null ? NONE : integer.format(value));
const share = (value) => (value == null ? NONE : percent.format(value));
function rating(row) {
  const mean = figure(row, 'rating_mean');
  const ratings = figure(row, 'rating_count') ?? 0;
  return mean == null || !ratings ? NONE : format(t('reports_rating_value'), { mean: decimal.format(mean), n: integer.format(ratings) });
}

const dateFormats = new Map();
/** A calendar day (`2026-11-16`): formatted in UTC, so that it never shifts by the viewer's time zone. */
function formatDay(day, options) {
  const key = JSON.stringify(options);
  if (!dateFormats.has(key)) dateFormats.set(key, new Intl.DateTimeFormat(lang, { ...options, timeZone: 'UTC' }));
  return dateFormats.get(key).format(new Date(`${day}T00:00:00Z`));
}

const dayDate = (day) => new Date(`${day}T00:00:00Z`);
const dayString = (date) => date.toISOString().slice(0, 10);
function addDays(day, n) {
  const date = dayDate(day);
  date.setUTCDate(date.getUTCDate() + n);
  return dayString(date);
}
const isoWeekday = (day) => ((dayDate(day).getUTCDay() + 6) % 7) + 1;
const isDay = (text) => /^\d{4}-\d{2}-\d{2}$/.test(text ?? '') && !Number.isNaN(dayDate(text).getTime());
/** 1 = Monday … 7 = Sunday, named in the page's language (1 January 2024 was a Monday). */
const weekdayName = (n, style = 'long') => formatDay(addDays('2024-01-01', (Number(n) || 1) - 1), { weekday: style });

/** Today in the branch's time zone: the branch's day, not the viewer's. */
function today(timeZone) {
  const options = { year: 'numeric', month: '2-digit', day: '2-digit' };
  let parts;
  try {
    parts = new Intl.DateTimeFormat('en', { ...options, timeZone: timeZone || 'UTC' }).formatToParts(new Date());
  } catch {
    parts = new Intl.DateTimeFormat('en', options).formatToParts(new Date()); // an unknown zone name throws
  }
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** The time zone the presets count days in: the chosen branch's, or (as the server does) the first branch's. */
function rangeZone() {
  const chosen = branches.find((b) => String(b.id) === branchSelect.value) ?? branches[0];
  return chosen?.time_zone ?? 'UTC';
}

/** The days of a preset, both included; weeks run Monday to Sunday. */
function presetRange(preset) {
  const now = today(rangeZone());
  const monday = addDays(now, 1 - isoWeekday(now));
  const monthStart = `${now.slice(0, 7)}-01`;
  const monthEnd = (start) => addDays(`${addDays(start, 31).slice(0, 7)}-01`, -1);
  switch (preset) {
    case 'yesterday': return [addDays(now, -1), addDays(now, -1)];
    case 'this_week': return [monday, addDays(monday, 6)];
    case 'last_week': return [addDays(monday, -7), addDays(monday, -1)];
    case 'this_month': return [monthStart, monthEnd(monthStart)];
    case 'last_month': {
      const start = `${addDays(monthStart, -1).slice(0, 7)}-01`;
      return [start, monthEnd(start)];
    }
    default: return [now, now];
  }
}

// ---- the form ---------------------------------------------------------------------------------------

function applyPreset() {
  if (rangeSelect.value === 'custom') return;
  [fromInput.value, toInput.value] = presetRange(rangeSelect.value);
}

/** With one staff member chosen only some groupings apply; the others are offered again without one. */
function limitGroups() {
  const single = operatorSelect.value !== '';
  $('report-operator-help').hidden = !single;
  for (const option of groupSelect.options) option.disabled = single && !OPERATOR_GROUPS.includes(option.value);
  if (single && !OPERATOR_GROUPS.includes(groupSelect.value)) groupSelect.value = 'day';
}

/** The API's query for the form as it is (`branch` and `operator` only when chosen). */
function apiQuery() {
  const query = new URLSearchParams();
  if (branchSelect.value) query.set('branch', branchSelect.value);
  query.set('from', fromInput.value);
  query.set('to', toInput.value);
  query.set('group', groupSelect.value);
  if (operatorSelect.value) query.set('operator', operatorSelect.value);
  return query;
}

/** The page's own address keeps the preset rather than its days, so that "this week" stays this week. */
function pageQuery() {
  const query = apiQuery();
  if (rangeSelect.value !== 'custom') {
    query.delete('from');
    query.delete('to');
    query.set('range', rangeSelect.value);
  }
  return query;
}

/** The form from the address (`?branch=&range=&from=&to=&group=&operator=`), with defaults for what is missing. */
function readAddress() {
  const query = new URLSearchParams(location.search);
  const branch = query.get('branch') ?? '';
  if ([...branchSelect.options].some((o) => o.value === branch)) branchSelect.value = branch;
  const operator = query.get('operator') ?? '';
  if ([...operatorSelect.options].some((o) => o.value === operator)) operatorSelect.value = operator;
  groupSelect.value = GROUPS.includes(query.get('group')) ? query.get('group') : 'day';
  limitGroups();
  const from = query.get('from');
  const to = query.get('to');
  if (isDay(from) && isDay(to)) {
    rangeSelect.value = 'custom';
    fromInput.value = from;
    toInput.value = to;
  } else {
    rangeSelect.value = PRESETS.includes(query.get('range')) && query.get('range') !== 'custom' ? query.get('range') : 'today';
    applyPreset();
  }
}

function showProblem(text) {
  problem.textContent = text ?? '';
}

/** What the form asks for is checked here first, in the page's words; the server checks again (and says why). */
function formProblem() {
  if (!isDay(fromInput.value) || !isDay(toInput.value)) return t('reports_dates_needed');
  if (fromInput.value > toInput.value) return t('reports_from_after_to');
  return '';
}

async function load() {
  const wrong = formProblem();
  fromInput.setAttribute('aria-invalid', String(!!wrong && (!isDay(fromInput.value) || fromInput.value > toInput.value)));
  toInput.setAttribute('aria-invalid', String(!!wrong && !isDay(toInput.value)));
  if (wrong) {
    showProblem(wrong);
    return;
  }
  const query = apiQuery();
  history.replaceState(null, '', `${location.pathname}?${pageQuery()}`);
  $('download-csv').href = `/api/v1/reports.csv?${query}`;
  $('download-pdf').href = `/api/v1/reports.pdf?${query}`;
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  results.setAttribute('aria-busy', 'true');
  try {
    const report = await api('GET', `/api/v1/reports?${query}`, null, { signal });
    showProblem('');
    render(report);
  } catch (error) {
    if (signal.aborted) return;
    showProblem(problemText(error));
  } finally {
    if (!signal.aborted) results.setAttribute('aria-busy', 'false');
  }
}

// ---- the report -------------------------------------------------------------------------------------

/** Nothing happened: no ticket, no rating, no complaint, no counter open. */
function isEmpty(total) {
  const counted = ['issued', 'served', 'no_shows', 'cancelled', 'expired', 'transfers', 'rating_count', 'complaints', 'open_s'];
  return counted.every((key) => !figure(total, key));
}

const staffName = (id) => staff.find((u) => String(u.id) === String(id))?.username ?? `#${id}`;

function rangeText(report) {
  if (report.from === report.to) return formatDay(report.from, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  return format(t('reports_range_value'), {
    from: formatDay(report.from, { day: 'numeric', month: 'short', year: 'numeric' }),
    to: formatDay(report.to, { day: 'numeric', month: 'short', year: 'numeric' }),
  });
}

/** The name of a row in the table and the charts' tooltips: days and weekdays in the page's language. */
function rowName(group, row) {
  switch (group) {
    case 'day': return formatDay(row.key, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
    case 'hour': return format(t('reports_hour_value'), { from: `${String(row.key).padStart(2, '0')}:00`, to: `${String((Number(row.key) + 1) % 24).padStart(2, '0')}:00` });
    case 'weekday': return weekdayName(row.key);
    default: return row.label ?? row.key;
  }
}

/** The short name under a chart's bar. */
function tickName(group, row) {
  switch (group) {
    case 'day': return formatDay(row.key, { day: 'numeric', month: 'short' });
    case 'hour': return String(row.key).padStart(2, '0');
    case 'weekday': return weekdayName(row.key, 'short');
    default: {
      const text = String(row.label ?? row.key);
      return text.length > 10 ? `${text.slice(0, 9)}…` : text;
    }
  }
}

function render(report) {
  shown = report;
  const group = report.group ?? groupSelect.value;
  const staffView = group === 'operator';
  const branchNames = (report.branches ?? []).map((b) => b.name).join(', ');
  $('report-heading').textContent = format(t(staffView ? 'reports_heading_staff' : 'reports_heading'), { range: rangeText(report) });
  const scope = [branchNames || t('reports_all_branches'), t(`reports_by_${group}`)];
  if (report.operator_id != null) scope.push(format(t('reports_of_staff_member'), { name: staffName(report.operator_id) }));
  $('report-scope').textContent = scope.join(' · ');
  $('table-title').textContent = t(staffView ? 'reports_staff_performance' : 'reports_details');

  const empty = isEmpty(report.total);
  $('report-empty').hidden = !empty;
  $('report-body').hidden = empty;
  if (empty) return;
  renderTiles(report.total);
  renderTable(report, group);
  drawCharts();
}

function renderTiles(total) {
  const p50 = figure(total, 'wait_p50_s');
  const p90 = figure(total, 'wait_p90_s');
  const noShowRate = figure(total, 'no_show_rate');
  const tiles = [
    ['issued', t('reports_issued'), count(figure(total, 'issued'))],
    ['served', t('reports_served'), count(figure(total, 'served'))],
    ['no_shows', t('reports_no_shows'), count(figure(total, 'no_shows')), noShowRate == null ? '' : format(t('reports_of_called'), { share: share(noShowRate) })],
    ['abandonment', t('reports_abandonment'), share(figure(total, 'abandonment_rate')), t('reports_abandonment_help')],
    ['wait', t('reports_wait_p50_p90'), p50 == null && p90 == null ? NONE : `${clock(p50)} / ${clock(p90)}`, t('reports_wait_help')],
    ['within_target', t('reports_within_target'), share(figure(total, 'within_target_share'))],
    ['service', t('reports_service_p50'), clock(figure(total, 'service_p50_s'))],
    ['utilisation', t('reports_utilisation'), share(figure(total, 'utilisation'))],
    ['rating', t('reports_rating'), rating(total)],
    ['complaints', t('reports_complaints'), count(figure(total, 'complaints'))],
  ];
  $('report-tiles').replaceChildren(...tiles.map(([key, label, value, note]) => h('li', { class: 'stat-card', 'data-figure': key },
    h('span', { class: 'stat-label' }, label),
    h('span', { class: 'stat-value' }, value),
    note ? h('span', { class: 'stat-note' }, note) : null)));
}

// ---- the table --------------------------------------------------------------------------------------

const COLUMNS = {
  issued: [t('reports_issued'), (r) => count(figure(r, 'issued'))],
  served: [t('reports_served'), (r) => count(figure(r, 'served'))],
  no_shows: [t('reports_no_shows'), (r) => count(figure(r, 'no_shows'))],
  cancelled: [t('reports_cancelled'), (r) => count(figure(r, 'cancelled'))],
  expired: [t('reports_expired'), (r) => count(figure(r, 'expired'))],
  transfers: [t('reports_transfers'), (r) => count(figure(r, 'transfers'))],
  abandonment: [t('reports_abandonment'), (r) => share(figure(r, 'abandonment_rate'))],
  no_show_rate: [t('reports_no_show_rate'), (r) => share(figure(r, 'no_show_rate'))],
  wait_p50: [t('reports_wait_p50'), (r) => clock(figure(r, 'wait_p50_s'))],
  wait_p90: [t('reports_wait_p90'), (r) => clock(figure(r, 'wait_p90_s'))],
  wait_max: [t('reports_wait_max'), (r) => clock(figure(r, 'wait_max_s'))],
  within_target: [t('reports_within_target'), (r) => share(figure(r, 'within_target_share'))],
  service_p50: [t('reports_service_p50'), (r) => clock(figure(r, 'service_p50_s'))],
  service_p90: [t('reports_service_p90'), (r) => clock(figure(r, 'service_p90_s'))],
  utilisation: [t('reports_utilisation'), (r) => share(figure(r, 'utilisation'))],
  open: [t('reports_open_time'), (r) => clock(figure(r, 'open_s'))],
  idle: [t('reports_idle_time'), (r) => clock(figure(r, 'idle_s'))],
  rating: [t('reports_rating'), rating],
  complaints: [t('reports_complaints'), (r) => count(figure(r, 'complaints'))],
};
const ALL_COLUMNS = ['issued', 'served', 'no_shows', 'cancelled', 'expired', 'transfers', 'abandonment', 'no_show_rate', 'wait_p50', 'wait_p90',
  'wait_max', 'within_target', 'service_p50', 'service_p90', 'utilisation', 'open', 'idle', 'rating', 'complaints'];
/** Staff performance: what each person did at the counter, and how long they were there. */
const STAFF_COLUMNS = ['served', 'service_p50', 'service_p90', 'no_shows', 'no_show_rate', 'transfers', 'rating', 'idle', 'open', 'complaints'];

function renderTable(report, group) {
  const keys = group === 'operator' ? STAFF_COLUMNS : ALL_COLUMNS;
  const table = $('report-table');
  table.tHead.replaceChildren(h('tr', {},
    h('th', { scope: 'col' }, t(`reports_col_${group}`)),
    ...keys.map((key) => h('th', { scope: 'col', class: 'num' }, COLUMNS[key][0]))));
  const line = (name, row) => h('tr', {}, h('th', { scope: 'row' }, name), ...keys.map((key) => h('td', { class: 'num' }, COLUMNS[key][1](row))));
  const rows = report.rows ?? [];
  table.tBodies[0].replaceChildren(...(rows.length ? rows.map((row) => line(rowName(group, row), row))
    : [h('tr', {}, h('td', { colspan: keys.length + 1, class: 'muted' }, t('reports_no_rows')))]));
  table.tFoot.replaceChildren(line(t('reports_total'), report.total));
}

// ---- charts -----------------------------------------------------------------------------------------
// Each chart is an SVG image (role="img", a <title> and an aria-label summing it up); the table below holds every
// number it shows, and the rating chart, whose counts are not in it, brings its own hidden table. Charts are drawn
// at the width of their box (not scaled), so the text stays readable on a phone, and again when that width changes.

const boxWidth = (box) => Math.max(260, Math.round(box.clientWidth));
const emptyChart = (key) => h('p', { class: 'chart-empty muted' }, t(key));

function chartImage(width, height, label) {
  return s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label }, s('title', {}, label));
}

/** Tick values from 0 to at least `high` in round steps (1, 2, 2.5, 5 × 10ⁿ, whole numbers when `whole`). */
function ticks(high, { whole = false, count = 4 } = {}) {
  const raw = high / count || 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw);
  if (whole) step = Math.max(1, Math.ceil(step));
  const values = [0];
  while (values.at(-1) < high - step * 1e-9) values.push(Number((values.at(-1) + step).toPrecision(12)));
  if (values.length === 1) values.push(step);
  return values;
}

/** Nice steps for durations: 1, 2, 5, 10, 15, 30 minutes, then hours. */
function durationTicks(high) {
  const steps = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600];
  const step = steps.find((candidate) => candidate * 4 >= high) ?? Math.ceil(high / 4 / 3600) * 3600;
  const values = [0];
  while (values.at(-1) < high) values.push(values.at(-1) + step);
  if (values.length === 1) values.push(step);
  return values;
}

/** Horizontal grid lines with their labels on the left, and the axis's name; returns the value → y mapping. */
function yAxis(svg, width, height, values, label, name) {
  const high = values.at(-1);
  const plot = height - PAD.top - PAD.bottom;
  const y = (value) => PAD.top + plot * (1 - value / (high || 1));
  for (const value of values) {
    svg.append(
      s('line', { class: 'gridline', x1: PAD.left, x2: width - PAD.right, y1: y(value), y2: y(value) }),
      s('text', { class: 'tick', x: PAD.left - 6, y: y(value), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, label(value)));
  }
  svg.append(s('text', { class: 'axis-name', x: 12, y: PAD.top + plot / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${PAD.top + plot / 2})` }, name));
  svg.append(s('line', { class: 'axis', x1: PAD.left, x2: width - PAD.right, y1: y(0), y2: y(0) }));
  return y;
}

function xLabels(svg, height, labels, x, plotWidth) {
  const every = Math.max(1, Math.ceil((labels.length * LABEL_SPACE) / plotWidth));
  labels.forEach((text, i) => {
    if (i % every === 0) svg.append(s('text', { class: 'tick', x: x(i), y: height - PAD.bottom + 18, 'text-anchor': 'middle' }, text));
  });
}

function legend(items) {
  return h('ul', { class: 'chart-legend', 'aria-hidden': 'true' }, ...items.map(([kind, text]) => h('li', {}, h('span', { class: `swatch ${kind}` }), text)));
}

function drawCharts() {
  if (!shown || $('report-body').hidden) return;
  drawnWidth = $('chart-volume').clientWidth;
  const group = shown.group ?? groupSelect.value;
  drawVolume(shown, group);
  drawWait(shown, group);
  drawRatings(shown.total);
}

/** Issued (light, wide) and served (dark, narrow, in front) per row. Counters and staff have no issued tickets. */
function drawVolume(report, group) {
  const box = $('chart-volume');
  const rows = report.rows ?? [];
  const withIssued = rows.some((row) => figure(row, 'issued') != null);
  const issued = rows.map((row) => figure(row, 'issued') ?? 0);
  const served = rows.map((row) => figure(row, 'served') ?? 0);
  const max = Math.max(0, ...issued, ...served);
  if (!rows.length || !max) {
    box.replaceChildren(emptyChart('reports_chart_nothing'));
    return;
  }
  const width = boxWidth(box);
  const height = 240;
  const plotWidth = width - PAD.left - PAD.right;
  const band = plotWidth / rows.length;
  const x = (i) => PAD.left + band * (i + 0.5);
  const busiest = (withIssued ? issued : served).indexOf(Math.max(...(withIssued ? issued : served)));
  const summary = format(t(withIssued ? 'reports_chart_volume_summary' : 'reports_chart_served_summary'), {
    per: t(`reports_per_${group}`),
    issued: count(figure(report.total, 'issued') ?? issued.reduce((a, b) => a + b, 0)),
    served: count(figure(report.total, 'served') ?? served.reduce((a, b) => a + b, 0)),
    peak: rowName(group, rows[busiest]),
    peak_n: count(withIssued ? issued[busiest] : served[busiest]),
  });
  const svg = chartImage(width, height, summary);
  const y = yAxis(svg, width, height, ticks(max, { whole: true }), (value) => integer.format(value), t('reports_axis_tickets'));
  rows.forEach((row, i) => {
    const name = rowName(group, row);
    if (withIssued) {
      const wide = Math.max(1, Math.min(band * 0.8, 64));
      svg.append(s('rect', { class: 'bar bar-issued', x: x(i) - wide / 2, y: y(issued[i]), width: wide, height: Math.max(0, y(0) - y(issued[i])) },
        s('title', {}, `${name}: ${format(t('reports_n_issued'), { n: count(issued[i]) })}`)));
    }
    const narrow = Math.max(1, Math.min(band * (withIssued ? 0.45 : 0.7), withIssued ? 36 : 64));
    svg.append(s('rect', { class: 'bar bar-served', x: x(i) - narrow / 2, y: y(served[i]), width: narrow, height: Math.max(0, y(0) - y(served[i])) },
      s('title', {}, `${name}: ${format(t('reports_n_served'), { n: count(served[i]) })}`)));
  });
  svg.append(s('line', { class: 'axis', x1: PAD.left, x2: width - PAD.right, y1: y(0), y2: y(0) }));
  xLabels(svg, height, rows.map((row) => tickName(group, row)), x, plotWidth);
  box.replaceChildren(svg, legend([...(withIssued ? [['swatch-issued', t('reports_issued')]] : []), ['swatch-served', t('reports_served')]]));
}

/** The median and 90th-percentile wait per row, as two lines (solid and dashed); rows without waits leave a gap. */
function drawWait(report, group) {
  const box = $('chart-wait');
  const rows = report.rows ?? [];
  const p50 = rows.map((row) => figure(row, 'wait_p50_s'));
  const p90 = rows.map((row) => figure(row, 'wait_p90_s'));
  const known = [...p50, ...p90].filter((value) => value != null);
  if (!rows.length || !known.length) {
    box.replaceChildren(emptyChart('reports_chart_no_waits'));
    return;
  }
  const width = boxWidth(box);
  const height = 220;
  const plotWidth = width - PAD.left - PAD.right;
  const x = (i) => PAD.left + (plotWidth / rows.length) * (i + 0.5);
  const high = Math.max(60, ...known);
  const worst = p90.indexOf(Math.max(...p90.filter((value) => value != null)));
  const svg = chartImage(width, height, format(t('reports_chart_wait_summary'), {
    per: t(`reports_per_${group}`),
    p50: clock(figure(report.total, 'wait_p50_s')),
    p90: clock(figure(report.total, 'wait_p90_s')),
    worst: worst >= 0 ? rowName(group, rows[worst]) : NONE,
    worst_p90: worst >= 0 ? clock(p90[worst]) : NONE,
  }));
  const y = yAxis(svg, width, height, durationTicks(high), clock, t('reports_axis_minutes'));
  for (const [series, kind, key] of [[p90, 'line-p90', 'reports_wait_p90'], [p50, 'line-p50', 'reports_wait_p50']]) {
    let path = '';
    let drawing = false;
    series.forEach((value, i) => {
      if (value == null) {
        drawing = false;
        return;
      }
      path += `${drawing ? 'L' : 'M'}${x(i).toFixed(1)} ${y(value).toFixed(1)} `;
      drawing = true;
    });
    svg.append(s('path', { class: `line ${kind}`, d: path.trim() }));
    series.forEach((value, i) => {
      if (value != null) svg.append(s('circle', { class: `dot ${kind}`, cx: x(i), cy: y(value), r: 3.5 }, s('title', {}, `${rowName(group, rows[i])}: ${t(key)} ${clock(value)}`)));
    });
  }
  xLabels(svg, height, rows.map((row) => tickName(group, row)), x, plotWidth);
  box.replaceChildren(svg, legend([['swatch-p50', t('reports_wait_p50')], ['swatch-p90', t('reports_wait_p90')]]));
}

/** How many ratings gave 5, 4 … 1 stars, as horizontal bars with their counts. */
function drawRatings(total) {
  const box = $('chart-ratings');
  const distribution = figure(total, 'rating_distribution') ?? [];
  const counts = [1, 2, 3, 4, 5].map((stars) => Number(distribution[stars - 1] ?? 0));
  const all = counts.reduce((a, b) => a + b, 0);
  if (!all) {
    box.replaceChildren(emptyChart('reports_chart_no_ratings'));
    return;
  }
  const width = boxWidth(box);
  const rowHeight = 30;
  const top = 8;
  const left = 64;
  const right = 44;
  const height = top + rowHeight * 5 + 34;
  const max = Math.max(...counts);
  const values = ticks(max, { whole: true });
  const plotWidth = width - left - right;
  const x = (value) => left + plotWidth * (value / values.at(-1));
  const starsName = (stars) => format(t(stars === 1 ? 'reports_stars_one' : 'reports_stars_other'), { n: stars });
  const summary = format(t('reports_chart_ratings_summary'), {
    n: integer.format(all),
    mean: figure(total, 'rating_mean') == null ? NONE : decimal.format(figure(total, 'rating_mean')),
    list: [5, 4, 3, 2, 1].map((stars) => `${starsName(stars)}: ${integer.format(counts[stars - 1])}`).join(', '),
  });
  const svg = chartImage(width, height, summary);
  const bottom = top + rowHeight * 5;
  for (const value of values) {
    svg.append(
      s('line', { class: 'gridline', x1: x(value), x2: x(value), y1: top, y2: bottom }),
      s('text', { class: 'tick', x: x(value), y: bottom + 16, 'text-anchor': 'middle' }, integer.format(value)));
  }
  svg.append(s('text', { class: 'axis-name', x: left + plotWidth / 2, y: bottom + 31, 'text-anchor': 'middle' }, t('reports_axis_ratings')));
  [5, 4, 3, 2, 1].forEach((stars, i) => {
    const n = counts[stars - 1];
    const yTop = top + i * rowHeight + 5;
    svg.append(
      s('text', { class: 'tick star-label', x: left - 8, y: yTop + (rowHeight - 10) / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, `${stars} ★`),
      s('rect', { class: `bar bar-stars stars-${stars}`, x: left, y: yTop, width: Math.max(n ? 2 : 0, x(n) - left), height: rowHeight - 10 },
        s('title', {}, `${starsName(stars)}: ${integer.format(n)}`)),
      s('text', { class: 'tick bar-count', x: x(n) + 6, y: yTop + (rowHeight - 10) / 2, 'dominant-baseline': 'middle' }, integer.format(n)));
  });
  svg.append(s('line', { class: 'axis', x1: left, x2: left, y1: top, y2: bottom }));
  const table = h('div', { class: 'visually-hidden' }, h('table', {},
    h('caption', {}, t('reports_chart_ratings')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('reports_stars')), h('th', { scope: 'col' }, t('reports_ratings')))),
    h('tbody', {}, ...[5, 4, 3, 2, 1].map((stars) => h('tr', {}, h('th', { scope: 'row' }, starsName(stars)), h('td', {}, integer.format(counts[stars - 1])))))));
  box.replaceChildren(svg, table);
}

// Redrawn at the new width when the window (or the print layout) changes it.
new ResizeObserver(() => {
  const width = $('chart-volume').clientWidth;
  if (shown && width && Math.abs(width - drawnWidth) > 4) drawCharts();
}).observe($('report-body'));

// ---- start ------------------------------------------------------------------------------------------

/** Staff for the picker: `/api/v1/users` (admins see everyone, managers their branches' staff), else the operators. */
async function loadStaff() {
  try {
    staff = (await api('GET', '/api/v1/users')).items;
  } catch {
    const lists = await Promise.all(branches.map((b) => api('GET', `/api/v1/branches/${b.id}/operators`).then((answer) => answer.items).catch(() => [])));
    const byID = new Map(lists.flat().map((user) => [user.id, { ...user, active: true }]));
    staff = [...byID.values()];
  }
  staff.sort((a, b) => a.username.localeCompare(b.username, lang));
  operatorSelect.append(...staff.map((user) => new Option(user.active === false ? format(t('reports_staff_disabled'), { name: user.username }) : user.username, user.id)));
}

$('me-name').textContent = format(t('reports_signed_in_as'), { name: me.username ?? '', role: t(`reports_role_${me.role}`) });

rangeSelect.addEventListener('change', () => {
  applyPreset();
  load();
});
for (const input of [fromInput, toInput]) {
  input.addEventListener('change', () => {
    rangeSelect.value = 'custom';
    load();
  });
}
branchSelect.addEventListener('change', () => {
  applyPreset(); // the branch's time zone may put "today" on another day
  load();
});
groupSelect.addEventListener('change', load);
operatorSelect.addEventListener('change', () => {
  limitGroups();
  load();
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  load();
});
$('report-staff').addEventListener('click', async () => {
  operatorSelect.value = '';
  limitGroups();
  groupSelect.value = 'operator';
  await load();
  $('report-heading').focus();
});
$('report-print').addEventListener('click', () => window.print());

(async () => {
  try {
    branches = (await api('GET', '/api/v1/branches')).items;
    branchSelect.append(...branches.map((b) => new Option(b.name, b.id)));
    await loadStaff();
  } catch (error) {
    showProblem(problemText(error));
  }
  // Managers see only their branches' staff; an administrator's list is everyone's.
  if (!isAdmin && !staff.length) operatorSelect.closest('.field').hidden = true;
  readAddress();
  await load();
})();
