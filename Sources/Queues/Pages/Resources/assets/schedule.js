/**
 * Schedule page: a branch's opening hours and the shifts of one week, against the counters its forecast needs, for
 * administrators and managers.
 *
 * The week view reads `GET /api/v1/branches/{id}/schedule` (templates, assignments, absences, swaps and the shifts
 * they make) and `GET …/staffing` (per half hour the counters needed for the forecast arrivals and those planned). Each
 * day lists its shifts, with a "Swap…" button that fills the swap form, the shifts nobody works because their person
 * is away, and the half hours merged into runs with the same needs, short ones marked in words and colour.
 * The sections below edit the opening hours (`PUT …/hours`), shift templates, assignments, absences and swaps; the
 * server's reason for refusing a change (a double booking, a shift outside the hours…) is shown next to the form,
 * which keeps what was typed. Dates and "HH:MM" times are the branch's wall clock as the API gives them; instants are
 * shown in the branch's time zone. The address keeps the branch and the week (`?branch=3&week=2026-12-07`).
 */
import { api, format, pageData, problemText, t } from './api.js';

const data = pageData();
const me = data.me;
const lang = data.lang || document.documentElement.lang || 'en';
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WORKING_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];
const MAX_RANGES = 4;
const TIME_PATTERN = '([01][0-9]|2[0-3]):[0-5][0-9]|24:00';
const WORKER_ROLES = new Set(['admin', 'manager', 'operator']);

const $ = (id) => document.getElementById(id);
const controls = $('schedule-controls');
const branchSelect = $('schedule-branch');
const weekInput = $('week-date');
const levelSelect = $('service-level');

const state = {
  branches: [],
  branch: null, // the chosen branch, from GET /branches
  week: null, // its Monday, YYYY-MM-DD
  schedule: null, // GET …/schedule of the week
  staffing: null, // GET …/staffing of the week, null when it could not be read
  hours: null, // GET …/hours
  people: [], // who may work at the branch: [{id, username, role}]
  queues: [], // the branch's counters
};
let allUsers = null; // GET /users, read once
let weekSeq = 0;
let branchSeq = 0;
let uid = 0;

// ---- small helpers ----------------------------------------------------------------------------------

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.flat().filter((child) => child != null && child !== false));
  return node;
}
const h = (tag, attrs = {}, ...children) => build(document.createElement(tag), attrs, children);
const nextID = (prefix) => `${prefix}-${++uid}`;

function announce(message) {
  const region = $('schedule-announce');
  region.textContent = '';
  requestAnimationFrame(() => { region.textContent = message; });
}
const showProblem = (text) => { $('schedule-problem').textContent = text ?? ''; };

const plurals = new Intl.PluralRules(lang);
/** `key_one` or `key_other` (the language's plural of `n`), with `{n}` filled in. */
function plural(key, n, values = {}) {
  const form = plurals.select(n) === 'one' ? 'one' : 'other';
  return format(t(`${key}_${form}`), { ...values, n });
}

function button(text, onClick, { variant = '', label } = {}) {
  const node = h('button', { type: 'button', class: `button small ${variant}`.trim(), 'aria-label': label }, text);
  node.addEventListener('click', () => onClick(node));
  return node;
}

/** Asks before removing anything; resolves true only when the confirm button was chosen. */
function ask(text, okLabel = t('schedule_remove')) {
  const dialog = $('confirm-dialog');
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }));
}

// ---- dates and times ----------------------------------------------------------------------------------
// Dates are calendar dates (YYYY-MM-DD) of the branch's wall clock: computed on UTC midnights, never on local time.

const utc = (date) => Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);
const addDays = (date, days) => isoDate(utc(date) + days * 86_400_000);
const weekdayOf = (date) => WEEKDAYS[(new Date(utc(date)).getUTCDay() + 6) % 7];
const mondayOf = (date) => addDays(date, -WEEKDAYS.indexOf(weekdayOf(date)));
const validDate = (text) => /^\d{4}-\d{2}-\d{2}$/.test(text ?? '') && !Number.isNaN(utc(text)) && isoDate(utc(text)) === text;

function dateFormat(options) {
  return new Intl.DateTimeFormat(lang, { ...options, timeZone: 'UTC' });
}
const dayLong = dateFormat({ weekday: 'long', day: 'numeric', month: 'long' });
const dayShort = dateFormat({ weekday: 'short', day: 'numeric', month: 'short' });
const dateMedium = dateFormat({ day: 'numeric', month: 'short', year: 'numeric' });
const rangeFormat = dateFormat({ day: 'numeric', month: 'long', year: 'numeric' });
// 2024-01-01 was a Monday.
const weekdayLong = Object.fromEntries(WEEKDAYS.map((day, i) => [day, dateFormat({ weekday: 'long' }).format(Date.UTC(2024, 0, 1 + i))]));
const weekdayShort = Object.fromEntries(WEEKDAYS.map((day, i) => [day, dateFormat({ weekday: 'short' }).format(Date.UTC(2024, 0, 1 + i))]));
const showDate = (date) => (date ? dateMedium.format(utc(date)) : '—');

const zone = () => state.branch?.time_zone || 'UTC';
const zoneFormats = new Map();
function zoned(kind) {
  const key = `${zone()}|${kind}`;
  if (!zoneFormats.has(key)) {
    const options = kind === 'time'
      ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : { year: 'numeric', month: '2-digit', day: '2-digit' };
    let formatter;
    try {
      formatter = new Intl.DateTimeFormat(kind === 'time' ? lang : 'en-CA', { ...options, timeZone: zone() });
    } catch {
      formatter = new Intl.DateTimeFormat(kind === 'time' ? lang : 'en-CA', { ...options, timeZone: 'UTC' }); // an unknown zone throws
    }
    zoneFormats.set(key, formatter);
  }
  return zoneFormats.get(key);
}
/** The branch's date of an instant, YYYY-MM-DD. */
function branchDate(instant) {
  const parts = Object.fromEntries(zoned('date').formatToParts(instant).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}
const branchTime = (instant) => zoned('time').format(instant);
const today = () => branchDate(new Date());

/** "today at 08:30", "tomorrow at 08:30", "Monday 7 December at 08:30": when an instant comes, as the branch says it. */
function when(iso) {
  const instant = new Date(iso);
  const date = branchDate(instant);
  const time = branchTime(instant);
  if (date === today()) return format(t('schedule_today_at'), { time });
  if (date === addDays(today(), 1)) return format(t('schedule_tomorrow_at'), { time });
  return format(t('schedule_day_at'), { day: dayLong.format(utc(date)), time });
}

const rangeText = (range) => `${range.from}–${range.to}`;
const minutes = (time) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
const clockText = (total) => `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;

/** "8:30", "830", "8.30" → "08:30"; anything else stays as typed, for the pattern to refuse. */
function normalTime(text) {
  const value = text.trim();
  let match = /^(\d{1,2})[:.h](\d{2})$/.exec(value);
  if (!match) match = /^(\d{1,2})(\d{2})$/.exec(value);
  if (!match) match = /^(\d{1,2})$/.exec(value) && [value, value, '00'];
  return match ? `${match[1].padStart(2, '0')}:${match[2]}` : value;
}
document.addEventListener('change', (event) => {
  if (event.target.matches?.('input.time-input')) event.target.value = normalTime(event.target.value);
});

// ---- names ------------------------------------------------------------------------------------------

const personName = (user) => user?.username ?? state.people.find((p) => p.id === user?.id)?.username ?? `#${user?.id}`;
const counterText = (queue) => format(t('schedule_counter_option'), { counter: queue.counter, name: queue.name });
function counterOf(queueID, fallback) {
  const queue = state.queues.find((q) => q.id === queueID);
  if (queue) return format(t('schedule_counter_short'), { counter: queue.counter });
  return fallback ? format(t('schedule_counter_short'), { counter: fallback }) : `#${queueID}`;
}
const templateByID = (id) => state.schedule?.templates.find((tpl) => tpl.id === id);
const daysText = (days) => (days.length === 7 ? t('schedule_every_day') : days.map((d) => weekdayShort[d]).join(', '));

// ---- loading ----------------------------------------------------------------------------------------

function saveAddress() {
  const query = new URLSearchParams({ branch: String(state.branch.id), week: state.week });
  history.replaceState(null, '', `${location.pathname}?${query}${location.hash}`);
}

async function loadPeople(branch) {
  if (!allUsers) {
    try {
      allUsers = (await api('GET', '/api/v1/users')).items;
    } catch {
      allUsers = [];
    }
  }
  let people = allUsers.filter((user) => user.active && WORKER_ROLES.has(user.role)
    && (user.role === 'admin' || (user.branch_ids ?? []).includes(branch.id)));
  if (!allUsers.length) {
    // Without the staff list: the branch's counter operators, and oneself.
    const operators = (await api('GET', `/api/v1/branches/${branch.id}/operators`).catch(() => ({ items: [] }))).items;
    people = operators.map((o) => ({ id: o.id, username: o.username, role: 'operator' }));
    if (!people.some((p) => p.id === me.user_id)) people.push({ id: me.user_id, username: me.username, role: me.role });
  }
  return people.sort((a, b) => a.username.localeCompare(b.username, lang));
}

/** A branch chosen: its staff, counters and hours, then its week. */
async function loadBranch() {
  const seq = ++branchSeq;
  const branch = state.branches.find((b) => String(b.id) === branchSelect.value);
  if (!branch) return;
  state.branch = branch;
  state.schedule = null;
  try {
    const [people, queues, hours] = await Promise.all([
      loadPeople(branch),
      api('GET', `/api/v1/branches/${branch.id}/queues`),
      api('GET', `/api/v1/branches/${branch.id}/hours`),
    ]);
    if (seq !== branchSeq) return;
    state.people = people;
    state.queues = queues.items.slice().sort((a, b) => a.counter.localeCompare(b.counter, undefined, { numeric: true }));
    state.hours = hours;
    if (!state.week) state.week = mondayOf(today());
    renderHours();
    fillSelects();
    showProblem('');
  } catch (error) {
    if (seq === branchSeq) showProblem(problemText(error));
    return;
  }
  await loadWeek();
}

/** The week's plan and staffing; the staffing alone may fail (the plan is still shown). */
async function loadWeek() {
  if (!state.branch) return;
  const seq = ++weekSeq;
  const branchID = state.branch.id;
  const from = state.week;
  weekInput.value = from;
  saveAddress();
  $('week-days').setAttribute('aria-busy', 'true');
  const query = new URLSearchParams({ from, days: '7' });
  const staffingQuery = new URLSearchParams({ from, days: '7', service_level: levelSelect.value });
  const [schedule, staffing] = await Promise.allSettled([
    api('GET', `/api/v1/branches/${branchID}/schedule?${query}`),
    api('GET', `/api/v1/branches/${branchID}/staffing?${staffingQuery}`),
  ]);
  if (seq !== weekSeq) return;
  $('week-days').setAttribute('aria-busy', 'false');
  if (schedule.status === 'rejected') {
    showProblem(problemText(schedule.reason));
    return;
  }
  state.schedule = schedule.value;
  state.staffing = staffing.status === 'fulfilled' ? staffing.value : null;
  showProblem(staffing.status === 'rejected' ? format(t('schedule_staffing_failed'), { reason: problemText(staffing.reason) }) : '');
  renderWeek();
  renderLists();
  fillSelects();
}

async function reloadStaffing() {
  if (!state.schedule) return;
  const seq = weekSeq;
  try {
    const query = new URLSearchParams({ from: state.week, days: '7', service_level: levelSelect.value });
    const staffing = await api('GET', `/api/v1/branches/${state.branch.id}/staffing?${query}`);
    if (seq !== weekSeq) return;
    state.staffing = staffing;
    renderWeek();
    announce(format(t('schedule_level_changed'), { level: Math.round(Number(levelSelect.value) * 100) }));
  } catch (error) {
    showProblem(problemText(error));
  }
}

// ---- the week -----------------------------------------------------------------------------------------

/** The hours in force on a date: its special day's, else its weekday's. */
function hoursOn(date) {
  const hours = state.schedule?.opening_hours;
  if (!hours) return null;
  const special = hours.special_days?.find((day) => day.date === date);
  return { special, ranges: (special ? special.hours : hours.week?.[weekdayOf(date)] ?? []).slice().sort((a, b) => a.from.localeCompare(b.from)) };
}

function hoursLine(date) {
  const hours = hoursOn(date);
  if (!hours) return h('p', { class: 'day-hours muted' }, t('schedule_no_hours_short'));
  const ranges = hours.ranges.map(rangeText).join(', ');
  let text;
  if (hours.special) {
    text = ranges ? format(t('schedule_day_special_open'), { name: hours.special.name, hours: ranges }) : format(t('schedule_day_special_closed'), { name: hours.special.name });
  } else {
    text = ranges ? format(t('schedule_day_open'), { hours: ranges }) : t('schedule_day_closed');
  }
  return h('p', { class: `day-hours${ranges ? '' : ' closed'}` }, text);
}

/**
 * The shifts a date would have that nobody works: their person (or the colleague swapped in) is away. The schedule's
 * shifts leave them out; the week shows them so that somebody can be found to cover.
 */
function uncovered(date) {
  const { assignments, absences, swaps, shifts } = state.schedule;
  const hours = hoursOn(date);
  if (hours?.special && hours.ranges.length === 0) return [];
  const worked = new Set(shifts.filter((s) => s.date === date).map((s) => s.assignment_id));
  const result = [];
  for (const assignment of assignments) {
    const template = templateByID(assignment.template_id);
    if (!template || worked.has(assignment.id)) continue;
    if (date < assignment.first_date || (assignment.last_date && date > assignment.last_date)) continue;
    if (!template.weekdays.includes(weekdayOf(date))) continue;
    const swap = swaps.find((s) => s.assignment_id === assignment.id && s.date === date);
    const worker = swap ? swap.substitute : assignment.user;
    if (!absences.some((a) => a.user.id === worker.id && a.first_date <= date && date <= a.last_date)) continue;
    result.push({ assignment, template, date, away: worker, swapped: !!swap });
  }
  return result.sort((a, b) => a.template.from.localeCompare(b.template.from));
}

/** A day's half hours, consecutive ones with the same needs merged: [{from, to, arrivals, needed, scheduled, gap}]. */
function coverage(date) {
  const slots = (state.staffing?.slots ?? []).filter((slot) => slot.date === date)
    .sort((a, b) => a.time.localeCompare(b.time));
  const runs = [];
  for (const slot of slots) {
    const start = minutes(slot.time);
    const last = runs.at(-1);
    if (last && last.end === start && last.needed === slot.needed && last.scheduled === slot.scheduled) {
      last.end = start + 30;
      last.arrivals += slot.arrivals;
      last.slots += 1;
    } else {
      runs.push({ start, end: start + 30, arrivals: slot.arrivals, needed: slot.needed, scheduled: slot.scheduled, gap: slot.gap, slots: 1 });
    }
  }
  return runs;
}

function coverageText(run) {
  const values = { needed: run.needed, scheduled: run.scheduled, n: Math.abs(run.gap) };
  if (run.gap > 0) return format(t('schedule_slot_short'), values);
  if (run.gap < 0) return format(t('schedule_slot_spare'), values);
  return format(t('schedule_slot_covered'), values);
}

const arrivalsFormat = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });

function coverageTable(date, runs) {
  if (!state.staffing) return null;
  if (!runs.length) return h('p', { class: 'muted small' }, t('schedule_nothing_expected'));
  const caption = h('caption', {}, t('schedule_coverage_caption'));
  const rows = runs.map((run) => {
    const row = h('tr', { class: run.gap > 0 ? 'slot-short' : run.gap < 0 ? 'slot-spare' : 'slot-covered' },
      h('th', { scope: 'row' }, `${clockText(run.start)}–${clockText(run.end)}`),
      h('td', { class: 'num' }, arrivalsFormat.format(run.arrivals)),
      h('td', {}, run.gap > 0 ? h('strong', {}, h('span', { class: 'slot-mark', 'aria-hidden': 'true' }, '⚠ '), coverageText(run)) : coverageText(run)));
    row.dataset.gap = String(run.gap);
    return row;
  });
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table coverage-table', 'data-date': date },
      caption,
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('schedule_time')),
        h('th', { scope: 'col', class: 'num' }, t('schedule_expected')),
        h('th', { scope: 'col' }, t('schedule_counters')))),
      h('tbody', {}, rows)));
}

function shiftLabel(shift) {
  return format(t('schedule_shift_label'), {
    day: dayShort.format(utc(shift.date)), hours: rangeText(shift), template: shift.template ?? '', name: personName(shift.user),
    counter: counterOf(shift.queue_id, shift.counter),
  });
}

function shiftItem(shift) {
  const item = h('li', { class: 'shift' },
    h('div', { class: 'shift-main' },
      h('span', { class: 'shift-time' }, rangeText(shift)), ' ',
      h('span', { class: 'shift-template' }, shift.template ?? ''),
      h('span', { class: 'shift-who' }, personName(shift.user), ' · ', counterOf(shift.queue_id, shift.counter))),
    shift.swapped_from
      ? h('p', { class: 'shift-note' }, format(t('schedule_covering_for'), { name: personName(shift.swapped_from) }))
      : button(t('schedule_swap_button'), () => startSwap(shift.assignment_id, shift.date), {
        label: format(t('schedule_swap_button_label'), { name: personName(shift.user), day: dayLong.format(utc(shift.date)), hours: rangeText(shift) }),
      }));
  item.dataset.assignment = shift.assignment_id;
  item.dataset.date = shift.date;
  return item;
}

function missingItem(missing) {
  const { assignment, template, date, away } = missing;
  const item = h('li', { class: 'shift shift-missing' },
    h('div', { class: 'shift-main' },
      h('span', { class: 'shift-time' }, rangeText(template)), ' ',
      h('span', { class: 'shift-template' }, template.name),
      h('span', { class: 'shift-who' }, personName(assignment.user), ' · ', counterOf(assignment.queue_id, assignment.counter))),
    h('p', { class: 'shift-note shift-away' }, h('strong', {}, format(t('schedule_not_worked'), { name: personName(away) }))),
    missing.swapped ? null : button(t('schedule_find_cover'), () => startSwap(assignment.id, date), {
      label: format(t('schedule_find_cover_label'), { name: personName(assignment.user), day: dayLong.format(utc(date)), hours: rangeText(template) }),
    }));
  item.dataset.assignment = assignment.id;
  item.dataset.date = date;
  return item;
}

function renderWeek() {
  const schedule = state.schedule;
  const from = state.week;
  const to = addDays(from, 6);
  let title;
  try {
    title = rangeFormat.formatRange(utc(from), utc(to));
  } catch {
    title = `${rangeFormat.format(utc(from))} – ${rangeFormat.format(utc(to))}`;
  }
  $('week-title').textContent = format(t('schedule_week_title'), { range: title });
  $('week-zone').textContent = format(t('schedule_time_zone'), { zone: schedule.time_zone });
  const now = today();
  let shortRuns = 0;
  let shortSlots = 0;
  let openShifts = 0;
  const cards = [];
  for (let offset = 0; offset < 7; offset += 1) {
    const date = addDays(from, offset);
    const shifts = schedule.shifts.filter((s) => s.date === date)
      .sort((a, b) => a.from.localeCompare(b.from) || String(a.counter).localeCompare(String(b.counter), undefined, { numeric: true }));
    const missing = uncovered(date);
    openShifts += missing.filter((m) => !m.swapped).length;
    const runs = coverage(date);
    const short = runs.filter((run) => run.gap > 0);
    shortRuns += short.length;
    shortSlots += short.reduce((sum, run) => sum + run.slots, 0);
    const away = schedule.absences.filter((a) => a.first_date <= date && date <= a.last_date);
    const titleID = `day-${date}`;
    const status = !state.staffing ? null
      : short.length
        ? h('p', { class: 'day-status short' }, h('strong', {}, plural('schedule_day_short', short.reduce((sum, run) => sum + run.slots, 0))))
        : runs.length ? h('p', { class: 'day-status covered' }, t('schedule_day_covered')) : null;
    const card = h('article', { class: `day-card${date === now ? ' today' : ''}${short.length ? ' has-gap' : ''}`, 'aria-labelledby': titleID, 'data-date': date },
      h('h3', { id: titleID }, dayLong.format(utc(date)), date === now ? h('span', { class: 'today-badge' }, ` · ${t('schedule_today')}`) : null),
      hoursLine(date),
      status,
      away.length ? h('p', { class: 'day-away' }, format(t('schedule_away'), { names: away.map((a) => personName(a.user)).join(', ') })) : null,
      h('h4', {}, t('schedule_shifts')),
      shifts.length || missing.length
        ? h('ul', { class: 'shift-list' }, shifts.map(shiftItem), missing.map(missingItem))
        : h('p', { class: 'muted small' }, t('schedule_no_shifts')),
      state.staffing ? h('h4', {}, t('schedule_coverage')) : null,
      coverageTable(date, runs));
    cards.push(card);
  }
  $('week-days').replaceChildren(...cards);
  const summary = $('week-summary');
  const parts = [];
  if (!state.staffing) parts.push(t('schedule_summary_no_staffing'));
  else if (shortRuns) parts.push(plural('schedule_summary_short', shortSlots));
  else parts.push(t('schedule_summary_covered'));
  if (openShifts) parts.push(plural('schedule_summary_uncovered', openShifts));
  summary.textContent = parts.join(' ');
  summary.classList.toggle('short', shortRuns > 0 || openShifts > 0);
}

// ---- lists --------------------------------------------------------------------------------------------

function fillTable(id, rows) {
  const table = $(id);
  const body = table.tBodies[0];
  if (!rows.length) {
    const cell = h('td', { class: 'muted', colspan: table.tHead.rows[0].cells.length }, t('schedule_none'));
    body.replaceChildren(h('tr', {}, cell));
    return;
  }
  body.replaceChildren(...rows.map((cells) => h('tr', {}, cells.map((cell, i) => (i === 0 ? h('th', { scope: 'row' }, cell) : h('td', {}, cell))))));
}

/** A row's remove button: asks, deletes, reloads the week; the server's reason when it refuses goes in the alert. */
function removeButton(text, label, question, path, done, okLabel) {
  return button(text, async (node) => {
    if (!(await ask(question, okLabel ?? text))) return node.focus();
    node.disabled = true;
    node.setAttribute('aria-busy', 'true');
    // The row goes with the button: the list keeps the keyboard's place.
    const list = node.closest('.table-wrap');
    try {
      await api('DELETE', path);
      showProblem('');
      announce(done);
      await loadWeek();
      list?.focus();
    } catch (error) {
      showProblem(problemText(error));
      node.disabled = false;
      node.removeAttribute('aria-busy');
      node.focus();
    }
  }, { label });
}

function renderLists() {
  const schedule = state.schedule;
  const from = state.week;
  const now = today();

  fillTable('template-list', schedule.templates.map((tpl) => [
    tpl.name, rangeText(tpl), daysText(tpl.weekdays),
    removeButton(t('schedule_remove'), format(t('schedule_template_remove_label'), { name: tpl.name }),
      format(t('schedule_template_remove_confirm'), { name: tpl.name }), `/api/v1/shift-templates/${tpl.id}`,
      format(t('schedule_template_removed'), { name: tpl.name })),
  ]));

  const assignments = schedule.assignments.filter((a) => !a.last_date || a.last_date >= from)
    .sort((a, b) => personName(a.user).localeCompare(personName(b.user), lang) || a.first_date.localeCompare(b.first_date));
  fillTable('assignment-list', assignments.map((a) => {
    const tpl = templateByID(a.template_id);
    const shift = tpl ? `${tpl.name} ${rangeText(tpl)}` : `#${a.template_id}`;
    const started = a.first_date < now;
    const values = { name: personName(a.user), shift, counter: counterOf(a.queue_id, a.counter) };
    return [
      personName(a.user), shift, counterOf(a.queue_id, a.counter), showDate(a.first_date),
      a.last_date ? (a.last_date === a.first_date ? format(t('schedule_one_off'), { date: showDate(a.last_date) }) : showDate(a.last_date)) : t('schedule_open_ended'),
      removeButton(t(started ? 'schedule_end' : 'schedule_remove'), format(t(started ? 'schedule_assignment_end_label' : 'schedule_assignment_remove_label'), values),
        format(t(started ? 'schedule_assignment_end_confirm' : 'schedule_assignment_remove_confirm'), values), `/api/v1/shift-assignments/${a.id}`,
        format(t(started ? 'schedule_assignment_ended' : 'schedule_assignment_removed'), values)),
    ];
  }));

  const absences = schedule.absences.filter((a) => a.last_date >= from).sort((a, b) => a.first_date.localeCompare(b.first_date));
  fillTable('absence-list', absences.map((a) => {
    const values = { name: personName(a.user), from: showDate(a.first_date), to: showDate(a.last_date) };
    return [
      personName(a.user), showDate(a.first_date), showDate(a.last_date), a.reason || '—',
      removeButton(t('schedule_remove'), format(t('schedule_absence_remove_label'), values), format(t('schedule_absence_remove_confirm'), values),
        `/api/v1/absences/${a.id}`, format(t('schedule_absence_removed'), values)),
    ];
  }));

  const swaps = schedule.swaps.filter((s) => s.date >= from).sort((a, b) => a.date.localeCompare(b.date));
  fillTable('swap-list', swaps.map((s) => {
    const assignment = schedule.assignments.find((a) => a.id === s.assignment_id);
    const tpl = assignment && templateByID(assignment.template_id);
    const shift = tpl ? `${tpl.name} ${rangeText(tpl)} · ${counterOf(assignment.queue_id, assignment.counter)}` : `#${s.assignment_id}`;
    const values = { name: personName(s.substitute), other: assignment ? personName(assignment.user) : '—', date: showDate(s.date) };
    return [
      dayShort.format(utc(s.date)), shift, values.other, values.name,
      removeButton(t('schedule_remove'), format(t('schedule_swap_remove_label'), values), format(t('schedule_swap_remove_confirm'), values),
        `/api/v1/shift-swaps/${s.id}`, format(t('schedule_swap_removed'), values)),
    ];
  }));
}

// ---- form selects -------------------------------------------------------------------------------------

function fillSelect(select, options, placeholder) {
  const previous = select.value;
  select.replaceChildren(new Option(placeholder, ''), ...options.map(([label, value]) => new Option(label, String(value))));
  if ([...select.options].some((option) => option.value === previous)) select.value = previous;
}

function fillSelects() {
  const personOptions = state.people.map((p) => [format(t('schedule_person_option'), { name: p.username, role: t(`schedule_role_${p.role}`) }), p.id]);
  for (const id of ['assignment-user', 'absence-user', 'swap-substitute']) fillSelect($(id), personOptions, t('schedule_choose_person'));
  fillSelect($('assignment-queue'), state.queues.map((q) => [counterText(q), q.id]), t(state.queues.length ? 'schedule_choose_counter' : 'schedule_no_counters'));
  const templates = state.schedule?.templates ?? [];
  fillSelect($('assignment-template'), templates.map((tpl) => [format(t('schedule_template_option'), { name: tpl.name, hours: rangeText(tpl), days: daysText(tpl.weekdays) }), tpl.id]),
    t(templates.length ? 'schedule_choose_template' : 'schedule_no_templates'));
  // The week's shifts that may still get a substitute: worked ones not swapped yet, and those nobody works.
  const shiftOptions = [];
  if (state.schedule) {
    for (let offset = 0; offset < 7; offset += 1) {
      const date = addDays(state.week, offset);
      for (const shift of state.schedule.shifts.filter((s) => s.date === date && !s.swapped_from).sort((a, b) => a.from.localeCompare(b.from))) {
        shiftOptions.push([shiftLabel(shift), `${shift.assignment_id}|${date}`]);
      }
      for (const missing of uncovered(date).filter((m) => !m.swapped)) {
        const shift = { date, from: missing.template.from, to: missing.template.to, template: missing.template.name, user: missing.assignment.user,
          queue_id: missing.assignment.queue_id, counter: missing.assignment.counter };
        shiftOptions.push([`${shiftLabel(shift)} ${format(t('schedule_option_away'), { name: personName(missing.away) })}`, `${missing.assignment.id}|${date}`]);
      }
    }
  }
  fillSelect($('swap-shift'), shiftOptions, t(shiftOptions.length ? 'schedule_choose_shift' : 'schedule_no_shifts_week'));
  const first = $('assignment-first');
  if (!first.value) first.value = state.week && state.week > today() ? state.week : today();
}

/** "Swap…" on a shift: the swap form with that shift chosen, ready for the substitute. */
function startSwap(assignmentID, date) {
  const select = $('swap-shift');
  const value = `${assignmentID}|${date}`;
  if (![...select.options].some((option) => option.value === value)) fillSelects();
  select.value = value;
  const form = $('swap-form');
  form.querySelector('.form-error').textContent = '';
  form.scrollIntoView({ block: 'center', behavior: 'smooth' });
  $('swap-substitute').focus({ preventScroll: true });
  announce(format(t('schedule_swap_started'), { shift: select.selectedOptions[0]?.text ?? '' }));
}

// ---- forms --------------------------------------------------------------------------------------------

/**
 * Native validation first, then the form's own rule, then the request; the server's reason is shown in the form,
 * which keeps its values. On success the announcement, a fresh week, and `after` (to clear what should be).
 */
function handleForm(form, { validate, submit, after }) {
  const error = form.querySelector('.form-error');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    for (const input of form.querySelectorAll('input.time-input')) input.value = normalTime(input.value);
    for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    const rule = validate?.();
    if (rule) {
      error.textContent = rule.message;
      if (rule.field) {
        rule.field.setAttribute('aria-invalid', 'true');
        rule.field.focus();
      }
      return;
    }
    const submitButton = form.querySelector('[type=submit]');
    submitButton.disabled = true;
    submitButton.setAttribute('aria-busy', 'true');
    try {
      const message = await submit();
      after?.();
      announce(message);
      showProblem('');
    } catch (failure) {
      error.textContent = problemText(failure);
    } finally {
      submitButton.disabled = false;
      submitButton.removeAttribute('aria-busy');
    }
  });
}

const values = (form) => Object.fromEntries(new FormData(form));

// Shift templates ----------------------------------------------------------------

const templateForm = $('template-form');
$('template-weekdays').append(...WEEKDAYS.map((day) => h('label', { class: 'check' },
  h('input', { type: 'checkbox', name: 'weekdays', value: day, checked: WORKING_DAYS.includes(day) }), ` ${weekdayLong[day]}`)));
handleForm(templateForm, {
  validate() {
    const { from, to } = values(templateForm);
    if (minutes(from) >= minutes(to)) return { message: format(t('schedule_range_backwards'), { day: t('schedule_the_shift'), hours: `${from}–${to}` }), field: $('template-to') };
    if (!templateForm.querySelector('input[name=weekdays]:checked')) return { message: t('schedule_pick_a_day'), field: templateForm.querySelector('input[name=weekdays]') };
    return null;
  },
  async submit() {
    const form = values(templateForm);
    const weekdays = [...templateForm.querySelectorAll('input[name=weekdays]:checked')].map((box) => box.value);
    const created = await api('POST', `/api/v1/branches/${state.branch.id}/shift-templates`, { name: form.name.trim(), from: form.from, to: form.to, weekdays });
    await loadWeek();
    return format(t('schedule_template_added'), { name: created.name, hours: rangeText(created) });
  },
  after() {
    templateForm.elements.name.value = '';
    templateForm.elements.from.value = '';
    templateForm.elements.to.value = '';
  },
});

// Assignments -------------------------------------------------------------------

const assignmentForm = $('assignment-form');
handleForm(assignmentForm, {
  validate() {
    const { first_date: first, last_date: last } = values(assignmentForm);
    if (last && last < first) return { message: t('schedule_dates_backwards'), field: $('assignment-last') };
    return null;
  },
  async submit() {
    const form = values(assignmentForm);
    const body = { template_id: Number(form.template_id), user_id: Number(form.user_id), queue_id: Number(form.queue_id), first_date: form.first_date };
    if (form.last_date) body.last_date = form.last_date;
    const created = await api('POST', `/api/v1/branches/${state.branch.id}/shift-assignments`, body);
    await loadWeek();
    const tpl = templateByID(created.template_id);
    return format(t('schedule_assignment_added'), {
      name: personName(created.user), shift: tpl ? `${tpl.name} ${rangeText(tpl)}` : '', counter: counterOf(created.queue_id, created.counter),
    });
  },
  after() {
    $('assignment-user').value = '';
    $('assignment-last').value = '';
  },
});

// Absences ----------------------------------------------------------------------

const absenceForm = $('absence-form');
$('absence-first').addEventListener('change', () => {
  const first = $('absence-first').value;
  const last = $('absence-last');
  if (first && (!last.value || last.value < first)) last.value = first;
});
handleForm(absenceForm, {
  validate() {
    const { first_date: first, last_date: last } = values(absenceForm);
    if (last < first) return { message: t('schedule_dates_backwards'), field: $('absence-last') };
    return null;
  },
  async submit() {
    const form = values(absenceForm);
    const body = { user_id: Number(form.user_id), first_date: form.first_date, last_date: form.last_date };
    if (form.reason.trim()) body.reason = form.reason.trim();
    const created = await api('POST', `/api/v1/branches/${state.branch.id}/absences`, body);
    await loadWeek();
    return format(t('schedule_absence_added'), { name: personName(created.user), from: showDate(created.first_date), to: showDate(created.last_date) });
  },
  after() {
    absenceForm.reset();
  },
});

// Swaps ---------------------------------------------------------------------------

const swapForm = $('swap-form');
handleForm(swapForm, {
  async submit() {
    const form = values(swapForm);
    const [assignmentID, date] = form.shift.split('|');
    const created = await api('POST', `/api/v1/branches/${state.branch.id}/shift-swaps`,
      { assignment_id: Number(assignmentID), date, substitute_id: Number(form.substitute_id) });
    await loadWeek();
    return format(t('schedule_swap_added'), { name: personName(created.substitute), date: dayLong.format(utc(created.date)) });
  },
  after() {
    swapForm.reset();
  },
});

// Opening hours -------------------------------------------------------------------

const hoursForm = $('hours-form');

function timeField(labelKey, value, name) {
  const id = nextID('time');
  return h('div', { class: 'field' },
    h('label', { for: id }, t(labelKey)),
    h('input', { id, name, class: 'time-input', value: value ?? '', required: true, pattern: TIME_PATTERN, maxlength: 5, placeholder: name === 'from' ? '08:30' : '12:30', autocomplete: 'off' }));
}

/** The ranges of one day (a weekday or a special day), with add and remove; none means closed that day. */
function rangeEditor(ranges, dayName) {
  const list = h('div', { class: 'ranges' });
  const empty = h('p', { class: 'muted small ranges-empty' }, t('schedule_closed_all_day'));
  const add = h('button', { type: 'button', class: 'button small' }, t('schedule_add_range'));
  add.setAttribute('aria-label', format(t('schedule_add_range_label'), { day: dayName() }));
  const editor = h('div', { class: 'range-editor' }, list, empty, add);
  const update = () => {
    const count = list.children.length;
    empty.hidden = count > 0;
    add.disabled = count >= MAX_RANGES;
    add.title = count >= MAX_RANGES ? format(t('schedule_max_ranges'), { n: MAX_RANGES }) : '';
    [...list.children].forEach((row, i) => {
      row.querySelector('.range-remove').setAttribute('aria-label', format(t('schedule_remove_range_label'), { day: dayName(), n: i + 1 }));
    });
  };
  const addRow = (range, focus) => {
    const remove = h('button', { type: 'button', class: 'button small range-remove' }, t('schedule_remove'));
    const row = h('div', { class: 'range-row' }, timeField('schedule_from_time', range?.from, 'from'), timeField('schedule_to_time', range?.to, 'to'), remove);
    remove.addEventListener('click', () => {
      const next = row.nextElementSibling ?? row.previousElementSibling;
      row.remove();
      update();
      (next?.querySelector('input') ?? add).focus();
    });
    list.append(row);
    update();
    if (focus) row.querySelector('input').focus();
  };
  add.addEventListener('click', () => addRow(null, true));
  for (const range of ranges) addRow(range, false);
  update();
  editor.read = () => [...list.children].map((row) => ({
    from: normalTime(row.querySelector('input[name=from]').value), to: normalTime(row.querySelector('input[name=to]').value),
  }));
  editor.rows = () => [...list.children];
  editor.update = update;
  editor.set = (newRanges) => {
    list.replaceChildren();
    for (const range of newRanges) addRow(range, false);
    update();
  };
  return editor;
}

let dayEditors = {};

function specialDayRow(day) {
  const dateID = nextID('special-date');
  const nameID = nextID('special-name');
  const legend = h('legend', {});
  const fieldset = h('fieldset', { class: 'special-day' }, legend);
  const dateInput = h('input', { id: dateID, name: 'date', type: 'date', required: true, value: day?.date ?? '' });
  const nameInput = h('input', { id: nameID, name: 'name', required: true, maxlength: 100, value: day?.name ?? '', autocomplete: 'off' });
  const label = () => nameInput.value.trim() || (dateInput.value ? showDate(dateInput.value) : t('schedule_special_day'));
  const setLegend = () => { legend.textContent = dateInput.value ? `${label()} · ${showDate(dateInput.value)}` : label(); };
  const editor = rangeEditor(day?.hours ?? [], label);
  const remove = h('button', { type: 'button', class: 'button small' }, t('schedule_special_remove'));
  const sync = () => {
    setLegend();
    remove.setAttribute('aria-label', format(t('schedule_special_remove_label'), { name: label() }));
  };
  remove.addEventListener('click', () => {
    const next = fieldset.nextElementSibling ?? fieldset.previousElementSibling;
    fieldset.remove();
    (next?.querySelector('input') ?? $('special-add')).focus();
  });
  dateInput.addEventListener('change', sync);
  nameInput.addEventListener('input', sync);
  fieldset.append(
    h('div', { class: 'form-pair' },
      h('div', { class: 'field' }, h('label', { for: dateID }, t('schedule_date')), dateInput),
      h('div', { class: 'field' }, h('label', { for: nameID }, t('schedule_special_name')), nameInput)),
    editor, remove);
  fieldset.read = () => ({ date: dateInput.value, name: nameInput.value.trim(), hours: editor.read() });
  fieldset.editor = editor;
  sync();
  return fieldset;
}

function renderHoursNow() {
  const hours = state.hours;
  const line = $('hours-now');
  if (!hours?.opening_hours || !hours.now) {
    line.textContent = t('schedule_no_hours');
    line.dataset.state = 'none';
    return;
  }
  const now = hours.now;
  let text;
  if (now.open && now.takes_tickets) text = format(t('schedule_now_open'), { time: now.closes_at ? branchTime(new Date(now.closes_at)) : '—' });
  else if (now.open) text = format(t('schedule_now_last_tickets'), { time: now.closes_at ? branchTime(new Date(now.closes_at)) : '—' });
  else {
    text = now.special_day ? format(t('schedule_now_closed_special'), { name: now.special_day }) : t('schedule_now_closed');
    if (now.opens_at) text += ` ${format(t('schedule_now_opens'), { when: when(now.opens_at) })}`;
  }
  line.textContent = text;
  line.dataset.state = now.takes_tickets ? 'open' : 'closed';
}

/** The hours form as the server has them (also Undo). */
function renderHours() {
  const hours = state.hours;
  const opening = hours?.opening_hours;
  $('hours-enabled').checked = !!opening;
  $('follow-shifts').checked = !!hours?.counters_follow_shifts;
  $('last-ticket').value = String(opening?.last_ticket_minutes ?? 0);
  dayEditors = {};
  $('hours-days').replaceChildren(...WEEKDAYS.map((day) => {
    const editor = rangeEditor(opening?.week?.[day] ?? [], () => weekdayLong[day]);
    dayEditors[day] = editor;
    const fieldset = h('fieldset', { class: 'hours-day', 'data-day': day }, h('legend', {}, weekdayLong[day]), editor);
    return fieldset;
  }));
  $('special-days').replaceChildren(...(opening?.special_days ?? []).map(specialDayRow));
  hoursForm.querySelector('.form-error').textContent = '';
  showHoursEditor();
  renderHoursNow();
}

function showHoursEditor() {
  const on = $('hours-enabled').checked;
  $('hours-editor').hidden = !on;
  for (const node of $('hours-editor').querySelectorAll('input, button')) node.disabled = !on;
  // Enabling every button again: those that add a fifth range stay off.
  if (on) for (const editor of $('hours-editor').querySelectorAll('.range-editor')) editor.update();
}

$('hours-enabled').addEventListener('change', showHoursEditor);
$('hours-undo').addEventListener('click', () => {
  renderHours();
  announce(t('schedule_hours_undone'));
});
$('special-add').addEventListener('click', () => {
  const row = specialDayRow(null);
  $('special-days').append(row);
  row.querySelector('input').focus();
});
$('hours-copy-monday').addEventListener('click', () => {
  const monday = dayEditors.mon.read();
  for (const day of WORKING_DAYS.slice(1)) dayEditors[day].set(monday);
  announce(t('schedule_hours_copied'));
});

/** Ranges that start before they end and do not overlap; the first one that does not, as a message and a field. */
function checkRanges(ranges, rows, dayName) {
  const order = ranges.map((range, i) => ({ ...range, i })).sort((a, b) => minutes(a.from) - minutes(b.from));
  for (const range of order) {
    if (minutes(range.from) >= minutes(range.to)) {
      return { message: format(t('schedule_range_backwards'), { day: dayName, hours: rangeText(range) }), field: rows[range.i].querySelector('input[name=to]') };
    }
  }
  for (let i = 1; i < order.length; i += 1) {
    if (minutes(order[i].from) < minutes(order[i - 1].to)) {
      return { message: format(t('schedule_range_overlap'), { day: dayName, first: rangeText(order[i - 1]), second: rangeText(order[i]) }), field: rows[order[i].i].querySelector('input[name=from]') };
    }
  }
  return null;
}

function readHours() {
  const week = Object.fromEntries(WEEKDAYS.map((day) => [day, dayEditors[day].read()]));
  const specials = [...$('special-days').children].map((row) => row.read());
  return { week, special_days: specials, last_ticket_minutes: Number($('last-ticket').value) };
}

handleForm(hoursForm, {
  validate() {
    if (!$('hours-enabled').checked) return null;
    for (const day of WEEKDAYS) {
      const problem = checkRanges(dayEditors[day].read(), dayEditors[day].rows(), weekdayLong[day]);
      if (problem) return problem;
    }
    const seen = new Set();
    for (const row of $('special-days').children) {
      const day = row.read();
      if (seen.has(day.date)) return { message: format(t('schedule_special_twice'), { date: showDate(day.date) }), field: row.querySelector('input[name=date]') };
      seen.add(day.date);
      const problem = checkRanges(day.hours, row.editor.rows(), day.name || showDate(day.date));
      if (problem) return problem;
    }
    return null;
  },
  async submit() {
    const body = { counters_follow_shifts: $('follow-shifts').checked };
    if ($('hours-enabled').checked) body.opening_hours = readHours();
    state.hours = await api('PUT', `/api/v1/branches/${state.branch.id}/hours`, body);
    renderHours();
    await loadWeek();
    return format(t(body.opening_hours ? 'schedule_hours_saved' : 'schedule_hours_removed'), { branch: state.branch.name });
  },
});

// ---- start --------------------------------------------------------------------------------------------

$('me-name').textContent = format(t('schedule_signed_in_as'), { name: me.username ?? '', role: t(`schedule_role_${me.role}`) });

function goToWeek(date) {
  state.week = mondayOf(date);
  loadWeek();
}

$('week-prev').addEventListener('click', () => goToWeek(addDays(state.week, -7)));
$('week-next').addEventListener('click', () => goToWeek(addDays(state.week, 7)));
$('week-this').addEventListener('click', () => goToWeek(today()));
controls.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!validDate(weekInput.value)) {
    weekInput.reportValidity();
    return;
  }
  goToWeek(weekInput.value);
});
// The same week at another branch, to compare them.
branchSelect.addEventListener('change', loadBranch);
levelSelect.addEventListener('change', reloadStaffing);

(async () => {
  try {
    state.branches = (await api('GET', '/api/v1/branches')).items;
  } catch (error) {
    showProblem(problemText(error));
    return;
  }
  if (!state.branches.length) {
    showProblem(t('schedule_no_branches'));
    $('week-days').setAttribute('aria-busy', 'false');
    return;
  }
  branchSelect.replaceChildren(...state.branches.map((b) => new Option(b.name, String(b.id))));
  const query = new URLSearchParams(location.search);
  if (state.branches.some((b) => String(b.id) === query.get('branch'))) branchSelect.value = query.get('branch');
  if (validDate(query.get('week'))) state.week = mondayOf(query.get('week'));
  await loadBranch();
})();
