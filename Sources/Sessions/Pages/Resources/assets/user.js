/**
 * user.js — one athlete's exercise sessions, for staff (`/sessions/users/{user}`).
 * The filters (dates, sport, grouping, time zone) drive everything: the statistics, three charts drawn as
 * plain SVG, and the paged session table. A filter change re-reads it all from the API (debounced, and
 * cancelling the answers still on their way), and is kept in the address so a reload or a shared link
 * shows the same view. Someone with no sessions at all is no athlete: the statistics answer 404 and the page says
 * so instead of showing zeros (the server answers 404 for the page itself too; this covers the sessions deleted
 * while the page is open).
 */
import { api, format, pageData, problemText, t, toast } from '/assets/api.js';

const data = pageData();
const userID = String(data.user_id ?? '');
const lang = data.lang || document.documentElement.lang || 'en';

const SPORTS = ['run', 'ride', 'swim', 'walk', 'hike', 'row', 'strength', 'yoga', 'other'];
/** Sports read as a pace, and the distance each pace is given for (swimmers count 100 m, rowers 500 m). */
const PACE_PER_M = { run: 1000, walk: 1000, hike: 1000, swim: 100, row: 500 };
const PAGE_SIZE = 50;
/** Long enough to let someone type a date or arrow through a select without a request per keystroke. */
const DEBOUNCE_MS = 350;
/** Twelve weeks: a trend at the default weekly grouping, and a short list. */
const DEFAULT_DAYS = 84;
const CHART_HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 60 };
/** Room per x-axis label, so labels never overlap: the rest are skipped (the bars keep their tooltips). */
const LABEL_SPACE = 64;

const $ = (id) => document.getElementById(id);
const fromInput = $('filter-from');
const toInput = $('filter-to');
const sportSelect = $('filter-sport');
const bucketSelect = $('filter-bucket');
const tzSelect = $('filter-tz');
const csvLink = $('download-csv');
const rowsBody = $('sessions-rows');
const moreButton = $('sessions-more');
const charts = $('charts');

let controller = null; // cancels the answers of the previous filters
let listQuery = null; // the filters of the rows on screen, for "Load more"
let cursor = null;
let shown = 0;
let active = null; // the filters of the numbers on screen (the inputs may already say otherwise)
let lastStats = null; // redrawn when the charts change width
let drawnWidth = 0;
let debounceTimer = 0;

// Building elements

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) if (value != null) node.setAttribute(name, String(value));
  node.append(...children.filter((child) => child != null));
  return node;
}
const h = (tag, attrs = {}, ...children) => build(document.createElement(tag), attrs, children);
const s = (tag, attrs = {}, ...children) => build(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);

// Numbers, durations, dates

const unitFormat = (unit, digits) => new Intl.NumberFormat(lang, { style: 'unit', unit, maximumFractionDigits: digits });
const integer = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
const km = unitFormat('kilometer', 1);
const meters = unitFormat('meter', 0);
const kmh = unitFormat('kilometer-per-hour', 1);
const hours = unitFormat('hour', 1);
const minutes = unitFormat('minute', 0);
const percent = new Intl.NumberFormat(lang, { style: 'percent' });
const plurals = new Intl.PluralRules(lang);

/** `{n} session` / `{n} sessions`: keys `<base>_one` and `<base>_other`. */
const counted = (base, n) => format(t(`${base}_${plurals.select(n) === 'one' ? 'one' : 'other'}`), { n: integer.format(n) });
const distance = (m) => (m < 1000 ? meters.format(m) : km.format(m / 1000));
const bpm = (n) => format(t('sessions_bpm'), { n: integer.format(n) });
const kcal = (n) => format(t('sessions_kcal'), { n: integer.format(n) });
const sportName = (sport) => (SPORTS.includes(sport) ? t(`sessions_sport_${sport}`) : String(sport));
const sportClass = (sport) => `sport-${SPORTS.includes(sport) ? sport : 'other'}`;

function duration(seconds) {
  const total = Math.round(Math.max(0, seconds ?? 0));
  const wholeHours = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  if (wholeHours) return format(t('sessions_duration_hm'), { h: integer.format(wholeHours), m: String(m).padStart(2, '0') });
  if (m) return format(t('sessions_duration_m'), { m });
  return format(t('sessions_duration_s'), { s: total });
}

/** `5:12 /km`, or per 100 m / 500 m for the sports that count those. */
function pace(secondsPerKm, sport) {
  const per = PACE_PER_M[sport] ?? 1000;
  const total = Math.round((secondsPerKm * per) / 1000);
  const text = `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
  return format(t(`sessions_pace_${per}m`), { pace: text });
}

/** One session's pace (foot, water) or speed (wheels and the rest); empty without a distance. */
function sessionPace({ sport, duration_s: seconds, distance_m: m }) {
  if (!(seconds > 0 && m > 0)) return '';
  return sport in PACE_PER_M ? pace(seconds / (m / 1000), sport) : kmh.format(m / 1000 / (seconds / 3600));
}

const dateFormats = new Map();
function dateFormat(options) {
  const key = JSON.stringify(options);
  if (!dateFormats.has(key)) dateFormats.set(key, new Intl.DateTimeFormat(lang, options));
  return dateFormats.get(key);
}

/** A calendar day ("2026-11-16", already local to the chosen zone): formatted in UTC so it never shifts. */
const formatDay = (ymd, options) => dateFormat({ ...options, timeZone: 'UTC' }).format(new Date(`${String(ymd).slice(0, 10)}T00:00:00Z`));
const sessionTime = (iso, options) => dateFormat({ ...options, timeZone: active.tz }).format(new Date(iso));

const SHORT_BUCKET = { day: { day: 'numeric', month: 'short' }, week: { day: 'numeric', month: 'short' }, month: { month: 'short', year: '2-digit' } };
const bucketShort = (start, bucket) => formatDay(start, SHORT_BUCKET[bucket] ?? SHORT_BUCKET.day);
function bucketLong(start, bucket) {
  if (bucket === 'month') return formatDay(start, { month: 'long', year: 'numeric' });
  const day = formatDay(start, { dateStyle: 'medium' });
  return bucket === 'week' ? format(t('sessions_week_of'), { date: day }) : day;
}

// Days in a time zone
// The date inputs hold calendar days of the chosen zone; the API wants instants. A day runs from its local
// midnight to the next one, so "to" is sent as the midnight after the chosen day.

const isDay = (value) => /^\d{4}-\d{2}-\d{2}$/.test(value ?? '');

function validZone(zone) {
  if (!zone) return false;
  try { new Intl.DateTimeFormat('en', { timeZone: zone }); return true; } catch { return false; }
}

const zoneParts = new Map();
function partsIn(ms, zone) {
  if (!zoneParts.has(zone)) {
    zoneParts.set(zone, new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    }));
  }
  return Object.fromEntries(zoneParts.get(zone).formatToParts(ms).map((part) => [part.type, Number(part.value)]));
}

function dayIn(ms, zone) {
  const p = partsIn(ms, zone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

function addDays(ymd, days) {
  const date = new Date(`${ymd}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** How far the zone's wall clock is ahead of UTC at that instant. */
function offsetAt(ms, zone) {
  const whole = Math.floor(ms / 1000) * 1000;
  const p = partsIn(whole, zone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
}

/** Local midnight of `ymd` in `zone` as "2026-11-16T23:00:00Z" (no fractional seconds: the server's ISO-8601). */
function midnight(ymd, zone) {
  const wall = Date.parse(`${ymd}T00:00:00Z`);
  // Twice: the first guess may sit on the other side of a daylight-saving change.
  const first = wall - offsetAt(wall, zone);
  const ms = wall - offsetAt(first, zone);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// Filters

function setUpFilters() {
  const query = new URLSearchParams(location.search);
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const zone = validZone(query.get('tz')) ? query.get('tz') : browserZone;
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const zones = [...new Set([...known, browserZone, 'UTC', zone])].sort();
  tzSelect.replaceChildren(...zones.map((name) => new Option(name.replaceAll('_', ' '), name)));
  tzSelect.value = zone;

  // An empty date in the address is kept (no bound); a missing or broken one gets the default range.
  const day = (name, fallback) => {
    const value = query.get(name);
    return value === '' || isDay(value) ? value : fallback;
  };
  toInput.value = day('to', dayIn(Date.now(), zone));
  fromInput.value = day('from', addDays(toInput.value || dayIn(Date.now(), zone), 1 - DEFAULT_DAYS));
  for (const [select, name] of [[sportSelect, 'sport'], [bucketSelect, 'bucket']]) {
    const value = query.get(name);
    if ([...select.options].some((option) => option.value === value)) select.value = value;
  }
}

function currentFilters() {
  return { from: fromInput.value, to: toInput.value, sport: sportSelect.value, bucket: bucketSelect.value, tz: tzSelect.value };
}

/** The list's query: the range as instants (the end is exclusive), and the sport unless it is "all". */
function rangeQuery(filters) {
  const query = {};
  if (filters.from) query.from = midnight(filters.from, filters.tz);
  if (filters.to) query.to = midnight(addDays(filters.to, 1), filters.tz);
  if (filters.sport !== 'all') query.sport = filters.sport;
  return query;
}

/** Statistics count whole local days of the zone: they take the calendar days themselves, both included. */
function statsQuery(filters) {
  const query = { bucket: filters.bucket, tz: filters.tz };
  if (filters.from) query.from = filters.from;
  if (filters.to) query.to = filters.to;
  if (filters.sport !== 'all') query.sport = filters.sport;
  return query;
}

const search = (params) => new URLSearchParams(params).toString();

function scheduleReload() {
  clearTimeout(debounceTimer);
  debounceTimer = setTimeout(reload, DEBOUNCE_MS);
}

/** The alert region (role="alert"): new text is announced; empty, it is not shown. */
const showProblem = (text) => { $('sessions-problem').textContent = text; };

function setBusy(busy) {
  for (const id of ['stats', 'charts', 'list']) $(id).setAttribute('aria-busy', String(busy));
}

async function reload() {
  clearTimeout(debounceTimer);
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  const filters = currentFilters();
  active = filters;
  history.replaceState(null, '', `${location.pathname}?${search(filters)}`);

  const backwards = Boolean(filters.from && filters.to && filters.from > filters.to);
  fromInput.setAttribute('aria-invalid', String(backwards));
  toInput.setAttribute('aria-invalid', String(backwards));
  if (backwards) {
    // Numbers for other dates would read as answers to these: clear them and say why.
    showProblem(t('sessions_invalid_range'));
    setBusy(false); // an aborted load may have left it set
    csvLink.removeAttribute('href');
    showStats(null);
    showSessions(null, false);
    return;
  }

  const range = rangeQuery(filters);
  listQuery = { user_id: userID, ...range, limit: PAGE_SIZE };
  csvLink.href = `/api/v1/sessions.csv?${search({ user_id: userID, ...range })}`;
  setBusy(true);
  const [stats, list] = await Promise.allSettled([
    api('GET', `/api/v1/users/${encodeURIComponent(userID)}/stats?${search(statsQuery(filters))}`, undefined, { signal }),
    api('GET', `/api/v1/sessions?${search(listQuery)}`, undefined, { signal }),
  ]);
  if (signal.aborted) return; // newer filters are already loading
  setBusy(false);
  if (stats.status === 'rejected' && stats.reason?.status === 404) {
    showNotFound();
    return;
  }
  showStats(stats.status === 'fulfilled' ? stats.value : null);
  showSessions(list.status === 'fulfilled' ? list.value : null, false);
  // Both usually fail for the same reason (an invalid range): one message is enough.
  const failure = [stats, list].find((result) => result.status === 'rejected');
  showProblem(failure ? problemText(failure.reason) : '');
}

/** Nobody called that: everything about an athlete goes, the sentence and the way back to the list stay. */
function showNotFound() {
  clearTimeout(debounceTimer);
  for (const id of ['athlete', 'filters', 'sessions-problem', 'stats', 'charts', 'list']) $(id).hidden = true;
  const heading = $('not-found-title');
  heading.textContent = format(t('sessions_no_athlete'), { id: userID });
  $('not-found').hidden = false;
  document.title = `${t('error_not_found_title')} · ${t('app_name')}`;
  heading.focus();
}

// Statistics

/** Fills a `<dl>` with label/value pairs; without any, the "no data" note that follows it shows instead. */
function fillList(dl, items) {
  dl.hidden = !items.length;
  dl.nextElementSibling.hidden = items.length > 0;
  dl.replaceChildren(...items.map(([label, value]) => h('div', {}, h('dt', {}, label), h('dd', {}, value))));
}

function averageItems(averages, sport) {
  const items = [];
  // The figure people compare for the sport: pace on foot and in water, speed on wheels, both for a mix;
  // neither for strength or yoga, where a distance means little.
  const all = sport === 'all';
  if ((all || sport in PACE_PER_M) && averages.pace_s_per_km != null) items.push([t('sessions_avg_pace'), pace(averages.pace_s_per_km, sport)]);
  if ((all || sport === 'ride' || sport === 'other') && averages.speed_kmh != null) items.push([t('sessions_avg_speed'), kmh.format(averages.speed_kmh)]);
  if (averages.heart_rate_bpm != null) items.push([t('sessions_avg_hr'), bpm(averages.heart_rate_bpm)]);
  return items;
}

function bestSession(session, value) {
  return format(t('sessions_best_value'), {
    value, sport: sportName(session.sport), date: sessionTime(session.started_at, { dateStyle: 'medium' }),
  });
}

function showStats(stats) {
  lastStats = stats;
  const totals = stats?.totals;
  const cards = totals ? [
    [t('sessions_total_count'), integer.format(totals.count ?? 0)],
    [t('sessions_total_duration'), duration(totals.duration_s)],
    [t('sessions_total_distance'), distance(totals.distance_m ?? 0)],
    [t('sessions_total_calories'), kcal(totals.calories_kcal ?? 0)],
    [t('sessions_total_elevation'), meters.format(totals.elevation_gain_m ?? 0)],
  ] : [];
  $('stats-totals').replaceChildren(...cards.map(([label, value]) =>
    h('li', { class: 'stat-card' }, h('span', { class: 'stat-label' }, label), h('span', { class: 'stat-value' }, value))));

  fillList($('stats-averages'), stats ? averageItems(stats.averages ?? {}, active.sport) : []);

  const bests = stats?.bests ?? {};
  const bestItems = [];
  if (bests.longest_duration) bestItems.push([t('sessions_best_duration'), bestSession(bests.longest_duration, duration(bests.longest_duration.duration_s))]);
  if (bests.longest_distance) bestItems.push([t('sessions_best_distance'), bestSession(bests.longest_distance, distance(bests.longest_distance.distance_m ?? 0))]);
  if (bests.biggest_week) {
    const week = bests.biggest_week;
    bestItems.push([t('sessions_best_week'), format(t('sessions_best_week_value'), {
      distance: distance(week.distance_m ?? 0), sessions: counted('sessions_count', week.count ?? 0), week: bucketLong(week.start, 'week'),
    })]);
  }
  fillList($('stats-bests'), bestItems);

  const streaks = stats?.streaks;
  fillList($('stats-streaks'), streaks ? [
    [t('sessions_streak_current'), counted('sessions_days', streaks.current_days ?? 0)],
    [t('sessions_streak_longest'), counted('sessions_days', streaks.longest_days ?? 0)],
  ] : []);

  drawCharts();
}

// Charts
// Each chart is an SVG image (role="img" with a sentence summing it up) plus a visually hidden table with
// the same numbers, so screen-reader users get both the gist and the details. The SVG is drawn at the
// width of its box (not scaled), so the text stays readable on a phone.

function drawCharts() {
  drawnWidth = charts.clientWidth;
  drawDistance(lastStats);
  drawSports(lastStats);
  drawHeartRate(lastStats);
}

const boxWidth = (box) => Math.max(280, Math.round(box.clientWidth));
const emptyChart = () => h('p', { class: 'chart-empty muted' }, t('sessions_chart_empty'));

function chartImage(width, height, label) {
  return s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label });
}

/** Hidden in a box of its own: a table is as wide as its cells whatever its own width, and would widen the page. */
function dataTable(caption, headers, rows) {
  return h('div', { class: 'visually-hidden' }, h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, h('th', { scope: 'row' }, cells[0]), ...cells.slice(1).map((text) => h('td', {}, text)))))));
}

/** Tick values from `low` to at least `high` in round steps (1, 2, 2.5, 5 × 10ⁿ), about `count` of them. */
function ticks(low, high, count = 4) {
  const raw = (high - low) / count || 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw);
  const values = [low];
  while (values.at(-1) < high - step * 1e-9) values.push(Number((values.at(-1) + step).toPrecision(12)));
  return values;
}

/** Horizontal grid lines with their labels on the left; returns the value → y mapping. */
function yAxis(svg, width, values, label) {
  const low = values[0];
  const high = values.at(-1);
  const plot = CHART_HEIGHT - PAD.top - PAD.bottom;
  const y = (value) => PAD.top + plot * (1 - (value - low) / (high - low || 1));
  for (const value of values) {
    svg.append(
      s('line', { class: 'gridline', x1: PAD.left, x2: width - PAD.right, y1: y(value), y2: y(value) }),
      s('text', { class: 'tick', x: PAD.left - 6, y: y(value), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, label(value)));
  }
  return y;
}

function xLabels(svg, labels, x, plotWidth) {
  const every = Math.max(1, Math.ceil((labels.length * LABEL_SPACE) / plotWidth));
  labels.forEach((text, i) => {
    if (i % every === 0) svg.append(s('text', { class: 'tick', x: x(i), y: CHART_HEIGHT - PAD.bottom + 18, 'text-anchor': 'middle' }, text));
  });
}

/** Distance per bucket, or time when none of the sessions has a distance (strength, yoga…). */
function drawDistance(stats) {
  const box = $('chart-distance');
  const series = stats?.series ?? [];
  const bucket = stats?.bucket ?? active.bucket;
  const byDistance = series.some((point) => point.distance_m > 0);
  const metric = byDistance
    ? { name: t('sessions_chart_distance'), value: (p) => p.distance_m ?? 0, text: distance }
    : { name: t('sessions_chart_duration'), value: (p) => p.duration_s ?? 0, text: duration };
  $('chart-distance-title').textContent = metric.name;
  const values = series.map(metric.value);
  const max = Math.max(0, ...values);
  if (!max) {
    box.replaceChildren(emptyChart());
    return;
  }

  // Axis in km, or hours (minutes for short spans), so the tick labels stay short.
  const unit = byDistance ? { size: 1000, format: km } : max >= 7200 ? { size: 3600, format: hours } : { size: 60, format: minutes };
  const width = boxWidth(box);
  const plotWidth = width - PAD.left - PAD.right;
  const band = plotWidth / series.length;
  const x = (i) => PAD.left + band * (i + 0.5);
  const longs = series.map((point) => bucketLong(point.start, bucket));
  const peak = values.indexOf(max);
  const svg = chartImage(width, CHART_HEIGHT, format(t('sessions_chart_bars_summary'), {
    metric: metric.name, first: longs[0], last: longs.at(-1),
    total: metric.text(values.reduce((sum, value) => sum + value, 0)), max: metric.text(max), max_label: longs[peak],
  }));
  const y = yAxis(svg, width, ticks(0, max / unit.size), (value) => unit.format.format(value));
  const barWidth = Math.max(1, band * 0.7);
  series.forEach((point, i) => {
    const top = y(values[i] / unit.size);
    svg.append(s('rect', { class: 'bar', x: x(i) - barWidth / 2, y: top, width: barWidth, height: Math.max(0, y(0) - top) },
      s('title', {}, `${longs[i]}: ${metric.text(values[i])} · ${counted('sessions_count', point.count ?? 0)}`)));
  });
  svg.append(s('line', { class: 'axis', x1: PAD.left, x2: width - PAD.right, y1: y(0), y2: y(0) }));
  xLabels(svg, series.map((point) => bucketShort(point.start, bucket)), x, plotWidth);
  box.replaceChildren(svg, dataTable(metric.name, [t('sessions_col_period'), metric.name, t('sessions_total_count')],
    series.map((point, i) => [longs[i], metric.text(values[i]), integer.format(point.count ?? 0)])));
}

/** Share of training time per sport, as one horizontal stacked bar with a legend. */
function drawSports(stats) {
  const box = $('chart-sports');
  const entries = Object.entries(stats?.by_sport ?? {})
    .filter(([, totals]) => totals.duration_s > 0)
    .sort((a, b) => b[1].duration_s - a[1].duration_s);
  const total = entries.reduce((sum, [, totals]) => sum + totals.duration_s, 0);
  if (!total) {
    box.replaceChildren(emptyChart());
    return;
  }
  const share = (totals) => percent.format(totals.duration_s / total);
  const width = boxWidth(box);
  const height = 40;
  const svg = chartImage(width, height, format(t('sessions_chart_sports_summary'), {
    list: entries.map(([sport, totals]) => `${sportName(sport)} ${share(totals)}`).join(', '),
  }));
  let left = 0;
  for (const [sport, totals] of entries) {
    const part = (totals.duration_s / total) * width;
    svg.append(s('rect', { class: `segment ${sportClass(sport)}`, x: left, y: 0, width: part, height },
      s('title', {}, `${sportName(sport)}: ${share(totals)} · ${duration(totals.duration_s)} · ${counted('sessions_count', totals.count ?? 0)}`)));
    left += part;
  }
  // The legend repeats what the table says, so it is hidden from screen readers.
  const legend = h('ul', { class: 'chart-legend', 'aria-hidden': 'true' }, ...entries.map(([sport, totals]) =>
    h('li', {}, h('span', { class: `swatch ${sportClass(sport)}` }), `${sportName(sport)} ${share(totals)} · ${duration(totals.duration_s)}`)));
  box.replaceChildren(svg, legend, dataTable(t('sessions_chart_sports'),
    [t('sessions_col_sport'), t('sessions_total_count'), t('sessions_total_duration'), t('sessions_total_distance'), t('sessions_col_share')],
    entries.map(([sport, totals]) => [sportName(sport), integer.format(totals.count ?? 0), duration(totals.duration_s), distance(totals.distance_m ?? 0), share(totals)])));
}

/** Average heart rate per bucket, on the same buckets (and x positions) as the distance chart. */
function drawHeartRate(stats) {
  const box = $('chart-heart-rate');
  const points = (stats?.heart_rate ?? []).filter((point) => point.avg_hr_bpm > 0);
  if (!points.length) {
    box.replaceChildren(emptyChart());
    return;
  }
  const bucket = stats.bucket ?? active.bucket;
  const starts = stats.series?.length ? stats.series.map((point) => point.start) : points.map((point) => point.start);
  const slot = new Map(starts.map((start, i) => [start, i]));
  const width = boxWidth(box);
  const plotWidth = width - PAD.left - PAD.right;
  const x = (i) => PAD.left + (plotWidth / starts.length) * (i + 0.5);
  const rates = points.map((point) => point.avg_hr_bpm);
  const low = Math.min(...rates);
  const high = Math.max(...rates);
  const longs = points.map((point) => bucketLong(point.start, bucket));
  const svg = chartImage(width, CHART_HEIGHT, format(t('sessions_chart_hr_summary'), {
    first: longs[0], last: longs.at(-1), min: bpm(low), max: bpm(high), latest: bpm(rates.at(-1)),
  }));
  // A little room above and below, on round numbers, so a flat line does not hug an edge.
  const y = yAxis(svg, width, ticks(Math.floor((low - 5) / 10) * 10, Math.ceil((high + 5) / 10) * 10), bpm);
  const coordinates = points.map((point, i) => [x(slot.get(point.start) ?? i), y(point.avg_hr_bpm)]);
  svg.append(s('path', { class: 'line', d: coordinates.map(([cx, cy], i) => `${i ? 'L' : 'M'}${cx.toFixed(1)} ${cy.toFixed(1)}`).join(' ') }));
  coordinates.forEach(([cx, cy], i) => {
    svg.append(s('circle', { class: 'dot', cx, cy, r: 4 }, s('title', {}, `${longs[i]}: ${bpm(rates[i])}`)));
  });
  xLabels(svg, starts.map((start) => bucketShort(start, bucket)), x, plotWidth);
  box.replaceChildren(svg, dataTable(t('sessions_chart_hr'), [t('sessions_col_period'), t('sessions_col_hr')],
    points.map((point, i) => [longs[i], bpm(rates[i])])));
}

// Session table

function sessionRow(session) {
  const number = (text) => h('td', { class: 'num' }, text);
  return h('tr', { tabindex: '-1' },
    h('td', {}, h('time', { datetime: session.started_at }, sessionTime(session.started_at, { dateStyle: 'medium', timeStyle: 'short' }))),
    h('td', {}, h('span', { class: `swatch ${sportClass(session.sport)}` }), ' ', sportName(session.sport)),
    number(duration(session.duration_s)),
    number(session.distance_m > 0 ? distance(session.distance_m) : ''),
    number(sessionPace(session)),
    number(session.avg_hr_bpm ? bpm(session.avg_hr_bpm) : ''),
    number(session.calories_kcal != null ? kcal(session.calories_kcal) : ''),
    number(session.elevation_gain_m != null ? meters.format(session.elevation_gain_m) : ''),
    // Cut to one line on screen; the whole note stays in the title and for screen readers.
    h('td', { class: 'notes', title: session.notes }, session.notes ?? ''));
}

/** Shows a page of sessions (`null` after a failure: nothing, rather than rows for other filters). */
function showSessions(page, append) {
  const rows = (page?.items ?? []).map(sessionRow);
  if (append) rowsBody.append(...rows);
  else rowsBody.replaceChildren(...rows);
  shown = (append ? shown : 0) + rows.length;
  cursor = page?.next_cursor ?? null;
  moreButton.hidden = !cursor;
  $('sessions-empty').hidden = !page || shown > 0;
  $('sessions-count').textContent = page && shown ? counted('sessions_shown', shown) : '';
  // Keyboard and screen-reader users continue at the first new row, not back at the top.
  if (append) rows[0]?.focus();
}

moreButton.addEventListener('click', async () => {
  if (!cursor || !controller) return;
  const { signal } = controller;
  moreButton.disabled = true;
  try {
    const page = await api('GET', `/api/v1/sessions?${search({ ...listQuery, cursor })}`, undefined, { signal });
    if (!signal.aborted) showSessions(page, true);
  } catch (error) {
    // Said next to the button the person just pressed, not in the alert at the top of the page.
    if (!signal.aborted) toast(problemText(error), 'error');
  } finally {
    moreButton.disabled = false;
  }
});

// Start

$('athlete').textContent = format(t('sessions_athlete'), { id: userID });
if (data.me?.username) $('me-name').textContent = data.me.username;
setUpFilters();
const filtersForm = $('filters');
filtersForm.addEventListener('input', scheduleReload);
filtersForm.addEventListener('change', scheduleReload);
// Enter in a field reloads at once instead of submitting the form away.
filtersForm.addEventListener('submit', (event) => { event.preventDefault(); reload(); });
new ResizeObserver(() => {
  // Only once something is drawn: before the first answer the boxes stay empty rather than say "no data".
  if (drawnWidth && charts.clientWidth !== drawnWidth) requestAnimationFrame(drawCharts);
}).observe(charts);
reload();
