/**
 * Operator console: the signed-in staff member picks one of their counters, sees its current ticket and its
 * line, and works it with buttons or single-key shortcuts. The line is always re-read from the API (on live
 * events, after every action, after reconnects), so the page never has to reconcile events by itself.
 * The counter it starts on: the one the address names (`?queue=ID`), else that of the user's shift under way, else
 * the last one chosen on this device, else the only one there is. "My shifts" lists the coming week's shifts.
 */
import { LiveConnection } from './live.js';
import { api, format, pageData, problemText, t, toast } from './api.js';

const data = pageData();
const me = data.me;
const managing = me.role === 'admin' || me.role === 'manager';
// Receptionists may look at a line and transfer tickets, but the counter actions are not theirs.
const operating = me.role !== 'reception';
const storeKey = `turno.console.queue.${me.user_id}`;

const $ = (id) => document.getElementById(id);
const select = $('counter-select');
const announcer = $('console-announce');
/** Times as the branch's clocks and display show them: its time zone, 24-hour. */
function branchTime(date) {
  const options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  try {
    return new Intl.DateTimeFormat(data.lang, { ...options, timeZone: chosen?.branch.timeZone }).format(date);
  } catch {
    return new Intl.DateTimeFormat(data.lang, options).format(date); // an unknown zone name throws
  }
}

let counters = []; // [{ queue: QueueView, branch: { id, name } }]
let chosen = null;
let line = null; // the last GET /queues/{id}/tickets answer
let fetchedAt = 0;
let live = null;
let busy = false;
let refreshTimer = 0;
let refreshSeq = 0;
let alertsTicket = null; // the ticket whose alerts are shown
let alertsSeq = 0;

/** Failures: a toast (itself a polite live region) with the server's explanation. */
const fail = (error) => toast(problemText(error), 'error');

/** What just happened, in the visible status line (aria-live polite); cleared first so a repeat is read again. */
function announce(message) {
  announcer.textContent = '';
  requestAnimationFrame(() => { announcer.textContent = message; });
}

function duration(seconds) {
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  if (minutes < 1) return t('console_under_minute');
  if (minutes < 60) return format(t('console_minutes'), { n: minutes });
  return format(t('console_hours'), { h: Math.floor(minutes / 60), m: minutes % 60 });
}

const counterName = (queue) => format(t('console_counter_option'), { counter: queue.counter, name: queue.name });
const naturalOrder = (a, b) => a.localeCompare(b, undefined, { numeric: true });

/**
 * The counters this user may work. Admins and managers read the set-up API; the other roles cannot, so
 * they go through the public snapshot of each of their branches and each queue's line (which carries its
 * assigned operators).
 */
async function loadCounters() {
  const found = [];
  if (managing) {
    const branches = (await api('GET', '/api/v1/branches')).items;
    await Promise.all(branches.map(async (branch) => {
      const queues = (await api('GET', `/api/v1/branches/${branch.id}/queues`)).items;
      for (const queue of queues) found.push({ queue, branch: { id: branch.id, name: branch.name, publicId: branch.public_id, timeZone: branch.time_zone } });
    }));
  } else {
    await Promise.all(me.branch_ids.map(async (id) => {
      const snapshot = await api('GET', `/api/v1/branches/${id}/snapshot`);
      const lines = await Promise.all(snapshot.queues.map((q) => api('GET', `/api/v1/queues/${q.id}/tickets`)));
      for (const { queue } of lines) found.push({ queue, branch: { id, name: snapshot.name, publicId: snapshot.public_id, timeZone: snapshot.time_zone } });
    }));
  }
  counters = found
    .filter(({ queue }) => me.role !== 'operator' || queue.operators.length === 0 || queue.operators.includes(me.user_id))
    .sort((a, b) => naturalOrder(a.branch.name, b.branch.name) || naturalOrder(a.queue.counter, b.queue.counter));
  fillSelect();
}

function fillSelect() {
  const placeholder = select.options[0];
  select.replaceChildren(placeholder);
  const grouped = new Set(counters.map((c) => c.branch.id)).size > 1;
  let group = null;
  for (const { queue, branch } of counters) {
    if (grouped && group?.dataset.branch !== String(branch.id)) {
      group = document.createElement('optgroup');
      group.label = branch.name;
      group.dataset.branch = branch.id;
      select.append(group);
    }
    (grouped ? group : select).append(new Option(counterName(queue), queue.id));
  }
  $('console-empty').textContent = counters.length ? t('console_pick_first') : t('console_no_counters');
}

function choose(queueID) {
  const found = counters.find((c) => String(c.queue.id) === String(queueID));
  chosen = found ?? null;
  line = null;
  alertsTicket = null;
  $('current-alerts').hidden = true;
  select.value = found ? String(found.queue.id) : '';
  $('console-work').hidden = !found;
  $('console-empty').hidden = !!found;
  const since = live ? live.lastId : data.live_id;
  live?.stop();
  live = null;
  if (!found) {
    localStorage.removeItem(storeKey);
    return;
  }
  localStorage.setItem(storeKey, String(found.queue.id));
  live = new LiveConnection({
    topics: [`queue:${me.organization_id}:${found.queue.id}`, `branch:${found.branch.publicId}`],
    since,
    onMessage: (message) => { if (/^(ticket|queue)\./.test(message.type)) scheduleRefresh(); },
    onResync: scheduleRefresh,
    dot: document.querySelector('.live-dot'),
    strings: data.strings,
  });
  live.start();
  render();
  refresh();
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 200);
}

async function refresh() {
  if (!chosen) return;
  const seq = ++refreshSeq;
  const queueID = chosen.queue.id;
  try {
    const answer = await api('GET', `/api/v1/queues/${queueID}/tickets`);
    // A slower, older answer (or one for the previous counter) must not overwrite a newer one.
    if (seq !== refreshSeq || chosen?.queue.id !== queueID) return;
    line = answer;
    fetchedAt = Date.now();
    chosen.queue = answer.queue;
    render();
    loadAlerts();
  } catch (error) {
    if (seq !== refreshSeq) return;
    fail(error);
    // The counter was removed or taken away from this operator: back to choosing.
    if (error.problem?.status === 404 || error.problem?.status === 403) {
      choose(null);
      loadCounters().catch(fail);
    }
  }
}

function render() {
  if (!chosen) return;
  const queue = chosen.queue;
  $('queue-title').textContent = counterName(queue);
  const badge = $('queue-state');
  badge.textContent = t(`console_queue_${queue.state}`);
  badge.dataset.state = queue.state;

  const current = line?.current ?? null;
  const box = $('current-ticket');
  box.dataset.state = current?.state ?? 'none';
  $('current-number').textContent = current ? current.number : (line ? t('console_no_current') : '…');
  $('current-details').hidden = !current;
  if (current) {
    $('current-service').textContent = current.service;
    $('current-state').textContent = t(`console_ticket_${current.state}`);
    $('current-recalls').textContent = String(current.recall_count);
  }

  const rows = (line?.items ?? []).map((item) => {
    const row = document.createElement('tr');
    const cells = [item.position, item.number, item.service, ''];
    for (const text of cells) row.insertCell().textContent = String(text);
    if (item.customer_class !== 'regular') {
      const tag = document.createElement('span');
      tag.className = 'class-tag';
      tag.textContent = t(`console_class_${item.customer_class}`);
      row.cells[1].append(' ', tag);
    }
    if (item.transferred_at) {
      // It keeps its issue time, so it may stand first: say so rather than let it look like a jump in the line.
      const tag = document.createElement('span');
      tag.className = 'transfer-tag';
      tag.textContent = t('console_transferred');
      tag.title = format(t('console_transferred_why'), { time: branchTime(new Date(item.transferred_at)), issued: branchTime(new Date(item.issued_at)) });
      row.cells[1].append(' ', tag);
      const why = document.createElement('span');
      why.className = 'visually-hidden';
      why.textContent = ` (${tag.title})`;
      tag.append(why);
    }
    row.cells[3].className = 'waited';
    row.cells[3].dataset.waited = item.waited_s;
    return row;
  });
  $('waiting-rows').replaceChildren(...rows);
  $('waiting-count').textContent = String(rows.length);
  $('waiting-empty').hidden = rows.length > 0 || !line;
  updateTimes();
  updateButtons();
}

/** The waits shown grow locally between fetches, so the list need not be re-read just because time passed. */
function updateTimes() {
  const extra = line ? (Date.now() - fetchedAt) / 1000 : 0;
  for (const cell of document.querySelectorAll('#waiting-rows .waited')) {
    cell.textContent = duration(Number(cell.dataset.waited) + extra);
  }
  const current = line?.current;
  if (current?.called_at) {
    const called = new Date(current.called_at);
    $('current-since').textContent = format(t('console_since_value'), {
      time: branchTime(called), ago: duration((Date.now() - called.getTime()) / 1000),
    });
  }
}

function updateButtons() {
  const state = chosen?.queue.state;
  const current = line?.current ?? null;
  const called = current?.state === 'called';
  const applies = {
    'queue-open': operating && state !== 'open',
    'queue-pause': operating && state === 'open',
    'queue-close': operating && state !== 'closed',
    // Calling stays possible on an empty-looking line: the list may be a moment old, and 204 says so.
    'call-next': operating && state !== 'closed',
    recall: operating && called,
    start: operating && called,
    finish: operating && (called || current?.state === 'serving'),
    'no-show': operating && called,
    transfer: !!current,
  };
  for (const [id, ok] of Object.entries(applies)) $(id).disabled = busy || !line || !ok;
}

/** Runs one request with its button showing busy; failures become a toast with the server's explanation. */
async function run(button, work) {
  if (busy) return;
  busy = true;
  button.setAttribute('aria-busy', 'true');
  updateButtons();
  try {
    announce(await work());
  } catch (error) {
    fail(error);
  } finally {
    busy = false;
    button.removeAttribute('aria-busy');
    updateButtons();
    await refresh();
    if (MY_DAY_ACTIONS.has(button.id)) loadMyDay();
  }
}

function ticketAction(action, messageKey) {
  const ticket = line.current;
  return async () => {
    const result = await api('POST', `/api/v1/tickets/${ticket.id}/${action}`);
    // Too many recalls turn into a no-show on the server.
    if (action === 'recall' && result.state !== 'called') return format(t('console_done_recall_no_show'), { number: ticket.number });
    return format(t(messageKey), { number: ticket.number });
  };
}

function queueAction(action) {
  const queue = chosen.queue;
  return async () => {
    const result = await api('POST', `/api/v1/queues/${queue.id}/${action}`);
    return format(t(`console_done_${action}`), { counter: queue.counter, n: result.reallocated.length });
  };
}

async function callNext() {
  const ticket = await api('POST', `/api/v1/queues/${chosen.queue.id}/call-next`);
  if (!ticket) return t('console_nobody_waiting');
  return format(t('console_done_call'), { number: ticket.number });
}

/** A modal confirm built on <dialog>: resolves with the button's value ('' when dismissed with Escape). */
function ask(dialog) {
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
}

/**
 * Transfer: to another service's line, to one counter (open or paused) that serves the ticket's service, or to a
 * colleague (the server picks the least busy of their counters). Every choice is one option of one select.
 */
async function openTransfer(button) {
  const ticket = line.current;
  const dialog = $('transfer-dialog');
  const choice = $('transfer-target');
  let snapshot, operators;
  try {
    [snapshot, operators] = await Promise.all([
      api('GET', `/api/v1/branches/${chosen.branch.id}/snapshot`),
      api('GET', `/api/v1/branches/${chosen.branch.id}/operators`),
    ]);
  } catch (error) {
    fail(error);
    return;
  }
  const serves = (queue) => queue.state !== 'closed' && queue.service_ids.includes(ticket.service_id);
  const counters = snapshot.queues.filter((q) => q.id !== chosen.queue.id && serves(q))
    .sort((a, b) => naturalOrder(a.counter, b.counter));
  const open = new Set(snapshot.queues.filter(serves).map((q) => q.id));
  const colleagues = operators.items.filter((o) => o.id !== me.user_id && o.queues.some((id) => open.has(id)));
  const targets = [
    ['console_transfer_services', snapshot.services.filter((s) => s.id !== ticket.service_id).map((s) => ({
      label: s.available ? s.name : format(t('console_transfer_unavailable'), { name: s.name }), body: { service: s.id }, name: s.name,
    }))],
    ['console_transfer_counters', counters.map((q) => ({ label: counterName(q), body: { queue: q.id }, name: counterName(q) }))],
    ['console_transfer_colleagues', colleagues.map((o) => ({ label: o.username, body: { user: o.id }, name: o.username }))],
  ].filter(([, items]) => items.length);
  if (!targets.length) {
    toast(t('console_transfer_none'));
    return;
  }
  const all = targets.flatMap(([, items]) => items);
  choice.replaceChildren(...targets.map(([key, items]) => {
    const group = document.createElement('optgroup');
    group.label = t(key);
    group.append(...items.map((item) => new Option(item.label, String(all.indexOf(item)))));
    return group;
  }));
  $('transfer-ticket').textContent = format(t('console_transfer_text'), { number: ticket.number, service: ticket.service });
  if (await ask(dialog) !== 'confirm') return button.focus();
  const target = all[Number(choice.value)];
  await run(button, async () => {
    await api('POST', `/api/v1/tickets/${ticket.id}/transfer`, target.body);
    return format(t('console_done_transfer'), { number: ticket.number, service: target.name });
  });
}

async function confirmClose(button) {
  const waiting = line.items.length;
  $('close-text').textContent = format(t(waiting ? 'console_close_confirm' : 'console_close_confirm_empty'), {
    counter: chosen.queue.counter, n: waiting,
  });
  if (await ask($('close-dialog')) !== 'confirm') return button.focus();
  await run(button, queueAction('close'));
}

const actions = {
  'call-next': (b) => run(b, callNext),
  recall: (b) => run(b, ticketAction('recall', 'console_done_recall')),
  start: (b) => run(b, ticketAction('start', 'console_done_start')),
  finish: (b) => run(b, ticketAction('finish', 'console_done_finish')),
  'no-show': (b) => run(b, ticketAction('no-show', 'console_done_no_show')),
  transfer: openTransfer,
  'queue-open': (b) => run(b, queueAction('open')),
  'queue-pause': (b) => run(b, queueAction('pause')),
  'queue-close': confirmClose,
};

const shortcuts = { n: 'call-next', r: 'recall', s: 'start', f: 'finish', x: 'no-show', t: 'transfer', o: 'queue-open', p: 'queue-pause', c: 'queue-close' };

document.addEventListener('click', (event) => {
  const button = event.target.closest('button[id]');
  if (button && actions[button.id] && !button.disabled) actions[button.id](button);
});

document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  if (document.querySelector('dialog[open]')) return;
  const target = event.target;
  if (target instanceof Element && (target.closest('input, select, textarea') || target.isContentEditable)) return;
  const id = shortcuts[event.key.toLowerCase()];
  const button = id && $(id);
  if (!button || button.disabled || $('console-work').hidden) return;
  event.preventDefault();
  button.click();
});

select.addEventListener('change', () => choose(select.value || null));
setInterval(updateTimes, 30_000);

// ---- the current ticket's alerts ------------------------------------------------------------------
// What the customer was told about the current ticket (push, Telegram, e-mail), from its history: read when the
// ticket changes, and at every refresh while unfolded. Quiet on failure, like "my day".

const alertsBox = $('current-alerts');
const alertsKey = `turno.console.alerts.${me.user_id}`;

function alertTime(record) {
  return branchTime(new Date(record.delivered_at ?? record.last_attempt_at ?? record.created_at));
}

async function loadAlerts() {
  const current = line?.current ?? null;
  if (!current) {
    alertsTicket = null;
    alertsBox.hidden = true;
    return;
  }
  if (current.id === alertsTicket && !alertsBox.open) return;
  const seq = ++alertsSeq;
  try {
    const history = await api('GET', `/api/v1/tickets/${current.id}/history`);
    if (seq !== alertsSeq || line?.current?.id !== current.id) return;
    alertsTicket = current.id;
    const records = history.notifications ?? [];
    $('current-alerts-list').tBodies[0].replaceChildren(...records.map((record) => {
      const row = document.createElement('tr');
      const state = document.createElement('span');
      state.className = 'alert-state';
      state.dataset.state = record.state;
      state.textContent = t(`console_alert_state_${record.state}`);
      if (record.error) {
        // The reason, on hover, and read out by screen readers.
        state.title = record.error;
        const reason = document.createElement('span');
        reason.className = 'visually-hidden';
        reason.textContent = ` (${record.error})`;
        state.append(reason);
      }
      row.insertCell().textContent = t(`console_alert_channel_${record.channel}`);
      row.insertCell().textContent = t(`console_alert_kind_${record.kind}`);
      row.insertCell().append(state);
      row.insertCell().textContent = alertTime(record);
      return row;
    }));
    $('current-alerts-list').hidden = records.length === 0;
    $('current-alerts-empty').hidden = records.length > 0;
    $('current-alerts-count').textContent = String(records.length);
    alertsBox.hidden = false;
  } catch (error) {
    console.warn('turno: the ticket\'s alerts could not be read', error);
  }
}

alertsBox.open = localStorage.getItem(alertsKey) === 'open';
alertsBox.addEventListener('toggle', () => {
  localStorage.setItem(alertsKey, alertsBox.open ? 'open' : 'closed');
  if (alertsBox.open) {
    alertsTicket = null;
    loadAlerts();
  }
});

// ---- my day -----------------------------------------------------------------------------------------
// The signed-in operator's own figures for today (`GET /api/v1/me/report`, all their branches): read at start, after
// every ticket they finish, mark as a no-show or transfer, and every minute. Quiet on failure: it must never get in
// the way of calling. Open or folded, as the operator left it.

const MY_DAY_ACTIONS = new Set(['finish', 'no-show', 'recall', 'transfer']);
const myDay = $('my-day');
const myDayKey = `turno.console.my-day.${me.user_id}`;
const integer = new Intl.NumberFormat(data.lang, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(data.lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** A figure of a report row; the API leaves out those a row has no value for. */
function figure(row, key) {
  return row?.[key] ?? null;
}

/** m:ss, or h:mm:ss from an hour. */
function clock(seconds) {
  const total = Math.round(Math.max(0, seconds));
  const hours = Math.floor(total / 3600);
  const rest = `${String(Math.floor((total % 3600) / 60)).padStart(hours ? 2 : 1, '0')}:${String(total % 60).padStart(2, '0')}`;
  return hours ? `${hours}:${rest}` : rest;
}

async function loadMyDay() {
  if (!operating) return;
  try {
    const report = await api('GET', '/api/v1/me/report?group=operator');
    const row = report.rows?.[0] ?? report.total;
    const served = figure(row, 'served') ?? 0;
    const ratings = figure(row, 'rating_count') ?? 0;
    const mean = figure(row, 'rating_mean');
    const p50 = figure(row, 'service_p50_s');
    const open = figure(row, 'open_s');
    const idle = figure(row, 'idle_s');
    const rating = mean == null || !ratings ? '—' : format(t('console_my_rating_value'), { mean: decimal.format(mean), n: integer.format(ratings) });
    const values = {
      served: integer.format(served),
      service_p50: p50 == null ? '—' : clock(p50),
      no_shows: integer.format(figure(row, 'no_shows') ?? 0),
      transfers: integer.format(figure(row, 'transfers') ?? 0),
      rating,
      open: open ? duration(open) : '—',
      idle: idle == null ? '—' : duration(idle),
    };
    for (const [key, value] of Object.entries(values)) myDay.querySelector(`[data-figure="${key}"]`).textContent = value;
    myDay.dataset.served = String(served);
    $('my-day-summary').textContent = format(t('console_my_day_summary'), { n: integer.format(served) });
    $('my-day-updated').textContent = format(t('console_my_day_updated'), { time: branchTime(new Date()) });
    myDay.hidden = false;
  } catch (error) {
    console.warn('turno: my day could not be read', error);
  }
}

myDay.open = localStorage.getItem(myDayKey) !== 'closed';
myDay.addEventListener('toggle', () => localStorage.setItem(myDayKey, myDay.open ? 'open' : 'closed'));
setInterval(() => { if (!document.hidden) loadMyDay(); }, 60_000);
document.addEventListener('visibilitychange', () => { if (!document.hidden) loadMyDay(); });
loadMyDay();

// ---- my shifts --------------------------------------------------------------------------------------
// The signed-in user's shifts of the coming seven days (`GET /api/v1/me/shifts`, every branch they work at): read at
// start, every five minutes and when the page is shown again. Hidden when there are none; quiet on failure.

const myShifts = $('my-shifts');
const myShiftsKey = `turno.console.my-shifts.${me.user_id}`;
const shiftDay = new Intl.DateTimeFormat(data.lang, { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });

/** A branch's calendar date now, YYYY-MM-DD. */
function dateIn(timeZone) {
  let formatter;
  try {
    formatter = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone });
  } catch {
    formatter = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' });
  }
  const parts = Object.fromEntries(formatter.formatToParts(new Date()).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

function shiftBranch(shift) {
  return counters.find((c) => c.branch.id === shift.branch_id)?.branch;
}

function shiftCounter(shift, manyBranches) {
  const counter = shift.counter == null ? `#${shift.queue_id}` : format(t('console_shift_counter_value'), { counter: shift.counter });
  const branch = shiftBranch(shift);
  return manyBranches && branch ? `${counter} · ${branch.name}` : counter;
}

function renderMyShifts(answer) {
  const shifts = answer.shifts ?? [];
  const now = answer.now ?? null;
  const isNow = (shift) => now && shift.assignment_id === now.assignment_id && shift.date === now.date;
  const manyBranches = new Set(shifts.map((s) => s.branch_id)).size > 1;
  const rows = shifts.map((shift) => {
    const row = document.createElement('tr');
    const branch = shiftBranch(shift);
    const today = shift.date === dateIn(branch?.timeZone ?? 'UTC');
    row.insertCell().textContent = today ? format(t('console_shift_today'), { day: shiftDay.format(Date.parse(`${shift.date}T00:00:00Z`)) })
      : shiftDay.format(Date.parse(`${shift.date}T00:00:00Z`));
    row.insertCell().textContent = shift.template ? `${shift.from}–${shift.to} · ${shift.template}` : `${shift.from}–${shift.to}`;
    row.insertCell().textContent = shiftCounter(shift, manyBranches);
    const note = row.insertCell();
    if (isNow(shift)) {
      const strong = document.createElement('strong');
      strong.textContent = t('console_shift_now');
      note.append(strong);
      row.dataset.now = 'true';
    }
    if (shift.swapped_from) {
      if (note.childNodes.length) note.append(' · ');
      note.append(format(t('console_shift_covering'), { name: shift.swapped_from.username ?? `#${shift.swapped_from.id}` }));
    }
    return row;
  });
  $('my-shifts-list').tBodies[0].replaceChildren(...rows);
  const next = shifts.find((shift) => !isNow(shift) && Date.parse(shift.starts_at) > Date.now());
  let summary = '';
  if (now) summary = format(t('console_my_shifts_now'), { hours: `${now.from}–${now.to}`, counter: shiftCounter(now, manyBranches) });
  else if (next) summary = format(t('console_my_shifts_next'), { day: shiftDay.format(Date.parse(`${next.date}T00:00:00Z`)), hours: `${next.from}–${next.to}` });
  $('my-shifts-summary').textContent = summary;
  myShifts.hidden = shifts.length === 0 && !now;
}

async function loadMyShifts() {
  try {
    const answer = await api('GET', '/api/v1/me/shifts?days=7');
    renderMyShifts(answer);
    return answer;
  } catch (error) {
    console.warn('turno: my shifts could not be read', error);
    return null;
  }
}

myShifts.open = localStorage.getItem(myShiftsKey) !== 'closed';
myShifts.addEventListener('toggle', () => localStorage.setItem(myShiftsKey, myShifts.open ? 'open' : 'closed'));
setInterval(() => { if (!document.hidden) loadMyShifts(); }, 5 * 60_000);
document.addEventListener('visibilitychange', () => { if (!document.hidden) loadMyShifts(); });
const myShiftsReady = loadMyShifts();

$('me-name').textContent = format(t('console_signed_in_as'), { name: me.username ?? '', role: t(`console_role_${me.role}`) });

loadCounters()
  .then(async () => {
    const shifts = await myShiftsReady;
    // Again, with the counters' branches known: their names and time zones.
    if (shifts) renderMyShifts(shifts);
    const known = (id) => id != null && counters.some((c) => String(c.queue.id) === String(id));
    const asked = new URLSearchParams(location.search).get('queue');
    const planned = shifts?.now?.queue_id;
    const saved = localStorage.getItem(storeKey);
    const only = counters.length === 1 ? counters[0].queue.id : null;
    if (known(asked)) choose(asked);
    else if (known(planned)) {
      choose(planned);
      announce(format(t('console_shift_counter_chosen'), { counter: chosen.queue.counter, to: shifts.now.to }));
    } else choose(known(saved) ? saved : only);
  })
  .catch(fail);
