/**
 * Administration page: a live overview of one branch, the branch set-up (branches, services, counters and the
 * customer alerts), staff accounts, API keys and webhooks. The URL hash picks the section; sections and buttons the signed-in role may
 * not use are never shown (the server checks again). Every list is re-read from the API after a change.
 */
import { LiveConnection } from './live.js';
import { api, format, pageData, problemText, t, toast } from './api.js';

const data = pageData();
const me = data.me;
const isAdmin = me.role === 'admin';
const setup = isAdmin || me.role === 'manager';
const allowed = { overview: true, branches: setup, staff: setup, 'api-keys': isAdmin, webhooks: isAdmin };

const $ = (id) => document.getElementById(id);
const clock = new Intl.DateTimeFormat(data.lang, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTime = new Intl.DateTimeFormat(data.lang, { dateStyle: 'short', timeStyle: 'short' });

const state = { branches: [], users: [], branchID: null, services: [], queues: [], loaded: new Set() };

// ---- small helpers ----------------------------------------------------------------------------------

/** Successes, in the visible status line (aria-live polite); cleared first so a repeat is read again. */
function announce(message) {
  const region = $('admin-announce');
  region.textContent = '';
  requestAnimationFrame(() => { region.textContent = message; });
}

/** Failures outside a form: a toast (itself a polite live region) with the server's explanation. */
const fail = (error) => toast(problemText(error), 'error');

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((child) => child != null && child !== undefined));
  return node;
}

function button(text, onClick, variant = '') {
  const node = el('button', { type: 'button', textContent: text, className: `button small ${variant}` });
  node.addEventListener('click', () => onClick(node));
  return node;
}

const actions = (...buttons) => el('div', { className: 'row-actions' }, ...buttons.filter(Boolean));
function badge(text, value) {
  const node = el('span', { className: 'state-badge', textContent: text });
  node.dataset.state = value;
  return node;
}

function duration(seconds) {
  const minutes = Math.round(Math.max(0, seconds) / 60);
  if (minutes < 1) return t('admin_under_minute');
  if (minutes < 60) return format(t('admin_minutes'), { n: minutes });
  return format(t('admin_hours'), { h: Math.floor(minutes / 60), m: minutes % 60 });
}

/** Fills a table body; an empty list gets one row saying so, spanning every column. */
function fillTable(id, rows) {
  const table = $(id);
  const body = table.tBodies[0];
  if (!rows.length) {
    const cell = el('td', { className: 'muted', textContent: t('admin_empty'), colSpan: table.tHead.rows[0].cells.length });
    body.replaceChildren(el('tr', {}, cell));
    return;
  }
  body.replaceChildren(...rows.map((cells) => el('tr', {}, ...cells.map((cell) => el('td', {}, cell || '')))));
}

/** Runs a request from a row button: busy while it runs, a toast with the server's reason when it fails. */
async function act(node, work, success) {
  node.disabled = true;
  node.setAttribute('aria-busy', 'true');
  try {
    await work();
    if (success) announce(success);
  } catch (error) {
    fail(error);
  } finally {
    node.disabled = false;
    node.removeAttribute('aria-busy');
  }
}

/** Asks before anything that cannot be undone; resolves true only when the confirm button was chosen. */
function ask(text, okLabel) {
  const dialog = $('confirm-dialog');
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }));
}

function checkboxes(fieldset, items, checked = []) {
  const legend = fieldset.querySelector('legend');
  const boxes = items.map(({ value, label }) => el('label', {},
    el('input', { type: 'checkbox', value: String(value), checked: checked.includes(value) }), ` ${label}`));
  fieldset.replaceChildren(legend, ...(boxes.length ? boxes : [el('p', { className: 'muted', textContent: t('admin_empty') })]));
}

const checkedIDs = (fieldset) => [...fieldset.querySelectorAll('input:checked')].map((box) => Number(box.value));

/**
 * Create/edit forms: native constraint validation first (its messages are the browser's, in the user's
 * language), then the form's own rule, then the request; the server's problem detail is shown in the form.
 */
function setupForm(form, { submit, validate, onMode }) {
  const error = form.querySelector('.form-error');
  const setMode = (id) => {
    form.dataset.id = id ?? '';
    for (const node of form.querySelectorAll('[data-create]')) node.textContent = id ? node.dataset.edit : node.dataset.create;
    const cancel = form.querySelector('[type=reset]');
    if (cancel) cancel.hidden = !id;
    error.textContent = '';
    onMode?.(!!id);
  };
  form.addEventListener('reset', () => setMode(null));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    const rule = validate?.();
    if (rule) {
      error.textContent = rule;
      return;
    }
    const submitButton = form.querySelector('[type=submit]');
    submitButton.disabled = true;
    submitButton.setAttribute('aria-busy', 'true');
    try {
      const message = await submit(form.dataset.id ? Number(form.dataset.id) : null);
      form.reset();
      announce(message);
    } catch (failure) {
      error.textContent = problemText(failure);
    } finally {
      submitButton.disabled = false;
      submitButton.removeAttribute('aria-busy');
    }
  });
  setMode(null);
  return {
    reset: () => form.reset(),
    edit(id, values) {
      form.reset();
      for (const [name, value] of Object.entries(values)) form.elements[name].value = value;
      setMode(id);
      form.scrollIntoView({ block: 'nearest' });
      form.querySelector('input:not([type=hidden]):not([readonly])')?.focus();
    },
  };
}

const branchName = (id) => state.branches.find((b) => b.id === id)?.name ?? `#${id}`;
const userName = (id) => state.users.find((u) => u.id === id)?.username ?? `#${id}`;
const counterLabel = (queue) => format(t('admin_counter_name'), { counter: queue.counter, name: queue.name });

// ---- overview ---------------------------------------------------------------------------------------

let overviewLive = null;
let overviewTimer = 0;

async function loadOverview() {
  const branchID = $('overview-branch').value;
  if (!branchID) return;
  try {
    const board = await api('GET', `/api/v1/branches/${branchID}/dashboard`);
    if (String(board.branch_id) !== $('overview-branch').value) return;
    fillTable('overview-queues', board.queues.map((q) => [
      counterLabel(q), badge(t(`admin_queue_${q.state}`), q.state), q.now_serving ?? '—', String(q.waiting),
      q.waiting ? duration(q.longest_wait_s) : '—', String(q.served_today), q.served_today ? duration(q.average_wait_s) : '—',
      el('meter', { min: 0, max: 1, low: 0.5, high: 0.8, optimum: 0, value: q.load,
        title: format(t('admin_load_value'), { n: Math.round(q.load * 100) }) }),
    ]));
    fillTable('overview-services', board.services.map((s) => {
      const late = s.expected_wait_s != null && s.expected_wait_s > s.target_wait_s;
      const chance = s.probability_of_waiting == null
        ? el('strong', { className: 'warn', textContent: t(s.open_counters ? 'admin_overloaded' : 'admin_no_counter') })
        : `${Math.round(s.probability_of_waiting * 100)} %`;
      const expected = s.expected_wait_s == null ? '—'
        : el('span', { className: late ? 'warn' : '', textContent: duration(s.expected_wait_s) + (late ? ` ${t('admin_over_target')}` : '') });
      return [s.name, String(s.waiting), String(s.arrivals_last_hour), String(s.open_counters), chance, expected, duration(s.target_wait_s)];
    }));
    renderStaffNow(board);
    $('overview-updated').textContent = format(t('admin_updated_at'), { time: clock.format(new Date()) });
  } catch (error) {
    fail(error);
  }
}

/** A branch's clock time of an instant, 24-hour. */
function branchClock(iso, branchID) {
  const zone = state.branches.find((b) => b.id === branchID)?.time_zone;
  const options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  try {
    return new Intl.DateTimeFormat(data.lang, { ...options, timeZone: zone }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(data.lang, options).format(new Date(iso)); // an unknown zone name throws
  }
}

/**
 * Staff now: everyone on a shift at the branch now, then those working a counter without one; whether each is signed
 * in, "not signed in" in words (and colour) for those planned.
 */
function renderStaffNow(board) {
  const box = $('overview-staff-box');
  if (!Array.isArray(board.staff_now)) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const staff = board.staff_now;
  const missing = staff.filter((s) => s.planned && !s.signed_in).length;
  const summary = $('overview-staff-summary');
  const counts = format(t('admin_staff_counts'), { planned: board.planned_now ?? 0, signed_in: board.signed_in_now ?? 0 });
  summary.replaceChildren(counts, ...(missing ? [' ', el('strong', { className: 'warn', textContent: format(t('admin_staff_missing'), { n: missing }) })] : []));
  fillTable('overview-staff', staff.map((s) => [
    s.username ?? `#${s.user_id}`,
    s.counter ?? '—',
    s.planned
      ? (s.shift_ends_at ? format(t('admin_staff_until'), { time: branchClock(s.shift_ends_at, board.branch_id) }) : t('admin_staff_planned'))
      : t('admin_staff_unplanned'),
    s.signed_in ? t('admin_staff_yes') : el('strong', { className: s.planned ? 'warn' : '', textContent: t('admin_staff_no') }),
  ]));
}

function scheduleOverview() {
  clearTimeout(overviewTimer);
  overviewTimer = setTimeout(loadOverview, 300);
}

function followOverview() {
  const branchID = $('overview-branch').value;
  const since = overviewLive ? overviewLive.lastId : data.live_id;
  overviewLive?.stop();
  overviewLive = null;
  const publicID = state.branches.find((b) => String(b.id) === branchID)?.public_id;
  if (!publicID) return;
  overviewLive = new LiveConnection({
    topics: [`branch:${publicID}`],
    since,
    onMessage: (message) => { if (/^(ticket|queue)\./.test(message.type)) scheduleOverview(); },
    onResync: scheduleOverview,
    dot: document.querySelector('.live-dot'),
    strings: data.strings,
  });
  overviewLive.start();
  loadOverview();
}

$('overview-branch').addEventListener('change', followOverview);

/**
 * The first-start checklist on the overview, for the roles that set branches up: each step is worked out from
 * what the API says now (the user's password change, the branches, the first branch's services and counters,
 * the operators, the first openings of its kiosk and display), so it ticks itself whoever did the step.
 */
async function loadChecklist() {
  const box = $('first-start');
  if (!setup) return;
  try {
    const branch = state.branches.find((b) => String(b.id) === $('overview-branch').value) ?? state.branches[0];
    const [mine, services, queues] = await Promise.all([
      api('GET', `/api/v1/users/${me.user_id}`),
      branch ? api('GET', `/api/v1/branches/${branch.id}/services`) : { items: [] },
      branch ? api('GET', `/api/v1/branches/${branch.id}/queues`) : { items: [] },
    ]);
    const editMe = () => {
      location.hash = '#staff';
      userForm.edit(mine.id, { username: mine.username, role: mine.role });
      fillUserBranches(mine.branch_ids);
      $('user-form').elements.password.focus();
    };
    const setUp = () => { location.hash = '#branches'; if (branch) selectBranch(branch.id); };
    const steps = [
      { key: 'password', done: !!mine.password_changed_at, go: editMe },
      { key: 'branch', done: !!branch, go: () => { location.hash = '#branches'; $('branch-form').elements.name.focus(); } },
      { key: 'services', done: services.items.length > 0, go: branch && setUp },
      { key: 'counters', done: queues.items.length > 0, go: branch && setUp },
      { key: 'operator', done: state.users.some((u) => u.role === 'operator' && u.active), go: () => { location.hash = '#staff'; } },
      { key: 'kiosk', done: !!branch?.kiosk_opened_at, href: branch && `/b/${branch.public_id}/kiosk` },
      { key: 'display', done: !!branch?.display_opened_at, href: branch && `/b/${branch.public_id}/display` },
    ];
    const next = steps.find((step) => !step.done);
    box.hidden = !next;
    $('first-start-steps').replaceChildren(...steps.map((step) => {
      const item = el('li', {},
        el('span', { className: 'mark' }),
        el('span', { className: 'step-text', textContent: t(`admin_step_${step.key}`) }),
        el('span', { className: 'visually-hidden', textContent: ` (${t(step.done ? 'admin_step_done' : 'admin_step_todo')})` }));
      item.dataset.step = step.key;
      item.dataset.done = String(step.done);
      if (step === next) item.dataset.next = 'true';
      if (!step.done && step.href) {
        item.append(el('a', { className: 'button small step-action', href: step.href, target: '_blank', textContent: t('admin_step_open') }));
      } else if (!step.done && step.go) {
        item.append(button(t('admin_step_go'), step.go, step === next ? 'primary step-action' : 'step-action'));
      }
      return item;
    }));
  } catch (error) {
    fail(error);
  }
}

// Back from opening the kiosk or display in another tab: those steps may be done now.
window.addEventListener('focus', () => {
  if (!$('overview').hidden && !$('first-start').hidden) loadBranches().then(loadChecklist).catch(fail);
});

/** With no branch there is nothing to show live: say what to do instead of empty tables and a dot that never connects. */
function showOverviewEmpty() {
  const empty = state.branches.length === 0;
  $('overview-empty').hidden = !empty;
  $('overview-board').hidden = empty;
  $('overview-branch-label').hidden = empty;
  document.querySelector('.live-dot').hidden = empty;
}
// Averages and waits move with time even without events.
setInterval(() => { if (!$('overview').hidden && !document.hidden) loadOverview(); }, 30_000);

// ---- branches ---------------------------------------------------------------------------------------

const branchForm = setupForm($('branch-form'), {
  // Managers edit their branches but only administrators create new ones.
  onMode: (editing) => { $('branch-form').hidden = !isAdmin && !editing; },
  async submit(id) {
    const values = Object.fromEntries(new FormData($('branch-form')));
    const body = { name: values.name.trim(), time_zone: values.time_zone.trim(), language: values.language, routing_mode: values.routing_mode };
    const saved = await api(id ? 'PATCH' : 'POST', id ? `/api/v1/branches/${id}` : '/api/v1/branches', body);
    await loadBranches();
    return format(t('admin_saved'), { name: saved.name });
  },
});

/** A language tag's name (`it-IT` → Italiano), or the tag itself for a language these pages have no name for. */
function languageName(tag) {
  return pageData().strings?.[`admin_language_${tag.split('-')[0]}`] ?? tag;
}

async function loadBranches() {
  state.branches = (await api('GET', '/api/v1/branches')).items;
  const select = $('overview-branch');
  const previous = select.value;
  select.replaceChildren(...state.branches.map((b) => new Option(b.name, b.id)));
  if (state.branches.some((b) => String(b.id) === previous)) select.value = previous;
  if (select.value !== previous) followOverview();
  fillTable('branch-list', state.branches.map((b) => [
    b.name, b.time_zone, languageName(b.language), t(`admin_routing_${b.routing_mode}_short`),
    // The branch's public pages, to open on the device that will show them.
    el('span', { className: 'branch-links' },
      el('a', { href: `/b/${b.public_id}/kiosk`, target: '_blank', textContent: t('admin_kiosk_link') }), ' · ',
      el('a', { href: `/b/${b.public_id}/display`, target: '_blank', textContent: t('admin_display_link') })),
    badge(t(b.is_open ? 'admin_branch_open' : 'admin_branch_closed'), b.is_open ? 'open' : 'closed'),
    actions(
      button(t('admin_manage'), () => selectBranch(b.id), 'primary'),
      button(t('admin_edit'), () => branchForm.edit(b.id, { name: b.name, time_zone: b.time_zone, language: b.language, routing_mode: b.routing_mode })),
      button(t(b.is_open ? 'admin_branch_close' : 'admin_branch_open_action'), (node) => toggleBranch(node, b)),
    ),
  ]));
  showOverviewEmpty();
  if (state.branchID && !state.branches.some((b) => b.id === state.branchID)) state.branchID = null;
  $('branch-detail').hidden = !state.branchID;
  fillUserBranches();
}

async function toggleBranch(node, branch) {
  if (branch.is_open && !await ask(format(t('admin_branch_close_confirm'), { name: branch.name }), t('admin_branch_close'))) return;
  await act(node, async () => {
    await api('PATCH', `/api/v1/branches/${branch.id}`, { is_open: !branch.is_open });
    await loadBranches();
  }, format(t('admin_saved'), { name: branch.name }));
}

async function selectBranch(id) {
  state.branchID = id;
  $('branch-detail').hidden = false;
  $('branch-detail-title').textContent = format(t('admin_branch_setup'), { name: branchName(id) });
  serviceForm.reset();
  queueForm.reset();
  loadAlerts();
  try {
    await loadSetup();
    $('branch-detail-title').scrollIntoView({ block: 'start' });
  } catch (error) {
    fail(error);
  }
}

async function loadSetup() {
  const id = state.branchID;
  const [services, queues] = await Promise.all([
    api('GET', `/api/v1/branches/${id}/services`), api('GET', `/api/v1/branches/${id}/queues`),
  ]);
  if (id !== state.branchID) return;
  state.services = services.items;
  state.queues = queues.items;
  fillTable('service-list', state.services.map((s) => [
    s.name, s.prefix, String(s.priority_weight), duration(s.target_wait_s), duration(s.default_service_s),
    actions(
      button(t('admin_edit'), () => serviceForm.edit(s.id, {
        name: s.name, prefix: s.prefix, priority_weight: s.priority_weight,
        target_wait_min: Math.max(1, Math.round(s.target_wait_s / 60)), default_service_min: Math.max(1, Math.round(s.default_service_s / 60)),
      })),
      button(t('admin_delete'), (node) => removeService(node, s), 'danger'),
    ),
  ]));
  const serviceName = (sid) => state.services.find((s) => s.id === sid)?.name ?? `#${sid}`;
  fillTable('queue-list', state.queues.map((q) => [
    q.counter, q.name, badge(t(`admin_queue_${q.state}`), q.state),
    q.services.map(serviceName).join(', ') || '—',
    q.operators.length ? q.operators.map(userName).join(', ') : t('admin_operators_anyone'),
    actions(
      q.state !== 'open' && button(t('admin_queue_open_action'), (node) => queueState(node, q, 'open')),
      q.state === 'open' && button(t('admin_queue_pause_action'), (node) => queueState(node, q, 'pause')),
      q.state !== 'closed' && button(t('admin_queue_close_action'), (node) => queueState(node, q, 'close')),
      button(t('admin_edit'), () => editQueue(q)),
      button(t('admin_delete'), (node) => removeQueue(node, q), 'danger'),
    ),
  ]));
  fillQueueChecks();
}

function fillQueueChecks(services = [], operators = []) {
  checkboxes($('queue-services'), state.services.map((s) => ({ value: s.id, label: `${s.name} (${s.prefix})` })), services);
  const branchOperators = state.users.filter((u) => u.active && u.role === 'operator' && u.branch_ids.includes(state.branchID));
  checkboxes($('queue-operators'), branchOperators.map((u) => ({ value: u.id, label: u.username })), operators);
  const help = el('p', { className: 'muted', textContent: t('admin_operators_help') });
  $('queue-operators').append(help);
}

const serviceForm = setupForm($('service-form'), {
  async submit(id) {
    const v = Object.fromEntries(new FormData($('service-form')));
    const body = {
      name: v.name.trim(), prefix: v.prefix.trim().toUpperCase(), priority_weight: Number(v.priority_weight),
      target_wait_s: Math.round(Number(v.target_wait_min) * 60), default_service_s: Math.round(Number(v.default_service_min) * 60),
    };
    const saved = await api(id ? 'PATCH' : 'POST', id ? `/api/v1/services/${id}` : `/api/v1/branches/${state.branchID}/services`, body);
    await loadSetup();
    return format(t('admin_saved'), { name: saved.name });
  },
});

async function removeService(node, service) {
  if (!await ask(format(t('admin_service_delete_confirm'), { name: service.name }), t('admin_delete'))) return;
  await act(node, async () => {
    await api('DELETE', `/api/v1/services/${service.id}`);
    await loadSetup();
  }, format(t('admin_deleted'), { name: service.name }));
}

const queueForm = setupForm($('queue-form'), {
  onMode: (editing) => { if (!editing) fillQueueChecks(); },
  validate: () => (checkedIDs($('queue-services')).length ? '' : t('admin_queue_needs_service')),
  async submit(id) {
    const v = Object.fromEntries(new FormData($('queue-form')));
    const body = { name: v.name.trim(), counter: v.counter.trim(), services: checkedIDs($('queue-services')), operators: checkedIDs($('queue-operators')) };
    const saved = await api(id ? 'PATCH' : 'POST', id ? `/api/v1/queues/${id}` : `/api/v1/branches/${state.branchID}/queues`, body);
    await loadSetup();
    return format(t('admin_saved'), { name: counterLabel(saved) });
  },
});

function editQueue(queue) {
  queueForm.edit(queue.id, { name: queue.name, counter: queue.counter });
  fillQueueChecks(queue.services, queue.operators);
}

async function queueState(node, queue, action) {
  if (action === 'close' && !await ask(format(t('admin_queue_close_confirm'), { counter: queue.counter }), t('admin_queue_close_action'))) return;
  await act(node, async () => {
    await api('POST', `/api/v1/queues/${queue.id}/${action}`);
    await loadSetup();
  }, format(t(`admin_queue_done_${action}`), { counter: queue.counter }));
}

async function removeQueue(node, queue) {
  if (!await ask(format(t('admin_queue_delete_confirm'), { counter: queue.counter }), t('admin_delete'))) return;
  await act(node, async () => {
    await api('DELETE', `/api/v1/queues/${queue.id}`);
    await loadSetup();
  }, format(t('admin_deleted'), { name: counterLabel(queue) }));
}

// ---- customer alerts of the branch ------------------------------------------------------------------
// `GET|PUT /api/v1/branches/{id}/alerts`: when "nearly your turn" is said, which channels customers may choose and the
// branch's own texts. PUT replaces everything: a threshold that is off is left out, an empty text means the standard one.

const ALERT_KINDS = ['following', 'near', 'called', 'recalled', 'transferred', 'moved', 'held', 'closed'];
const ALERT_LANGUAGES = ['en', 'it'];
const alertsForm = $('alerts-form');

/** One folding group per language, a textarea per kind; the placeholder is the standard text it replaces. */
function buildAlertTexts() {
  const standard = data.alert_texts ?? {};
  $('alerts-texts').append(...ALERT_LANGUAGES.map((language) => {
    const group = el('details', { className: 'alert-language' },
      el('summary', { textContent: languageName(language) }));
    group.dataset.language = language;
    for (const kind of ALERT_KINDS) {
      const id = `alert-text-${language}-${kind}`;
      const area = el('textarea', { id, rows: 2, maxLength: 500, lang: language, placeholder: standard[language]?.[kind] ?? '' });
      area.dataset.language = language;
      area.dataset.kind = kind;
      area.setAttribute('aria-describedby', `${id}-help alerts-placeholders`);
      group.append(el('div', { className: 'alert-text' },
        el('label', { htmlFor: id, textContent: t(`admin_alert_kind_${kind}`) }),
        el('small', { id: `${id}-help`, className: 'muted', textContent: t(`admin_alert_kind_${kind}_help`) }),
        area));
    }
    return group;
  }));
}

/** A threshold that is off has its number field disabled (and so neither checked nor sent). */
function syncThresholds() {
  const fields = alertsForm.elements;
  fields.near_ahead.disabled = !fields.near_ahead_on.checked;
  fields.near_minutes.disabled = !fields.near_minutes_on.checked;
}

function fillAlerts(settings) {
  const fields = alertsForm.elements;
  fields.near_ahead_on.checked = settings.near_ahead != null;
  fields.near_ahead.value = settings.near_ahead ?? 3;
  fields.near_minutes_on.checked = settings.near_minutes != null;
  fields.near_minutes.value = settings.near_minutes ?? 5;
  for (const channel of ['push', 'telegram', 'email']) fields[channel].checked = Boolean(settings[channel]);
  for (const area of alertsForm.querySelectorAll('textarea[data-kind]')) {
    area.value = settings.texts?.[area.dataset.language]?.[area.dataset.kind] ?? '';
  }
  // A language with texts of the branch's own opens, so they are seen.
  for (const group of alertsForm.querySelectorAll('.alert-language')) {
    group.open = Object.keys(settings.texts?.[group.dataset.language] ?? {}).length > 0;
  }
  syncThresholds();
}

async function loadAlerts() {
  const id = state.branchID;
  const error = alertsForm.querySelector('.form-error');
  error.textContent = '';
  alertsForm.dataset.branch = '';
  try {
    const settings = await api('GET', `/api/v1/branches/${id}/alerts`);
    if (id !== state.branchID) return;
    fillAlerts(settings);
    alertsForm.dataset.branch = String(id);
  } catch (failure) {
    if (id === state.branchID) error.textContent = problemText(failure);
  }
}

alertsForm.addEventListener('change', (event) => {
  if (event.target.name === 'near_ahead_on' || event.target.name === 'near_minutes_on') syncThresholds();
});

$('alerts-undo').addEventListener('click', loadAlerts);

alertsForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = alertsForm.querySelector('.form-error');
  error.textContent = '';
  const id = Number(alertsForm.dataset.branch);
  if (!id) {
    loadAlerts();
    return;
  }
  if (!alertsForm.checkValidity()) {
    alertsForm.reportValidity();
    return;
  }
  const fields = alertsForm.elements;
  const body = { push: fields.push.checked, telegram: fields.telegram.checked, email: fields.email.checked, texts: {} };
  // The API refuses null: a threshold that is off is left out.
  if (fields.near_ahead_on.checked) body.near_ahead = Number(fields.near_ahead.value);
  if (fields.near_minutes_on.checked) body.near_minutes = Number(fields.near_minutes.value);
  for (const area of alertsForm.querySelectorAll('textarea[data-kind]')) {
    const text = area.value.trim();
    if (text) (body.texts[area.dataset.language] ??= {})[area.dataset.kind] = text;
  }
  const submitButton = alertsForm.querySelector('[type=submit]');
  submitButton.disabled = true;
  submitButton.setAttribute('aria-busy', 'true');
  try {
    fillAlerts(await api('PUT', `/api/v1/branches/${id}/alerts`, body));
    announce(format(t('admin_alerts_saved'), { name: branchName(id) }));
  } catch (failure) {
    error.textContent = problemText(failure);
  } finally {
    submitButton.disabled = false;
    submitButton.removeAttribute('aria-busy');
  }
});

buildAlertTexts();

// ---- webhooks ---------------------------------------------------------------------------------------
// Administrators only (the API says 403 to managers). Each endpoint is a card: its state (a red banner when disabled,
// with the reason), its events, its buttons and its delivery log, read when unfolded. A secret is shown once, after
// creating an endpoint or rotating its secret.

const webhooks = { families: [], items: [] };
const LOG_PAGE = 20;
const DELIVERY_BADGE = { pending: 'paused', delivered: 'open', failed: 'closed', cancelled: 'closed' };

/** The event types the form asks for: the families ticked, then the exact types typed (spaces or commas between). */
function webhookTypes() {
  const form = $('webhook-form');
  const ticked = [...$('webhook-families').querySelectorAll('input:checked')].map((box) => box.value);
  const typed = form.elements.types.value.split(/[\s,]+/).filter(Boolean);
  return [...new Set([...ticked, ...typed])];
}

function fillFamilies(checked = []) {
  checkboxes($('webhook-families'), webhooks.families.map((family) => ({ value: family, label: family })), checked);
  for (const label of $('webhook-families').querySelectorAll('label')) label.classList.add('mono');
}

const webhookForm = setupForm($('webhook-form'), {
  onMode: (editing) => { if (!editing) fillFamilies(); },
  validate: () => (webhookTypes().length ? '' : t('admin_webhook_needs_types')),
  async submit(id) {
    const form = $('webhook-form');
    const body = { url: form.elements.url.value.trim(), event_types: webhookTypes(), description: form.elements.description.value.trim() };
    if (id) {
      const saved = await api('PATCH', `/api/v1/webhooks/${id}`, body);
      await loadWebhooks();
      return format(t('admin_saved'), { name: saved.url });
    }
    const created = await api('POST', '/api/v1/webhooks', body);
    showWebhookSecret(created.secret, 'created');
    await loadWebhooks();
    return format(t('admin_webhook_created'), { url: created.url });
  },
});

function editWebhook(webhook) {
  const families = webhook.event_types.filter((type) => webhooks.families.includes(type));
  const exact = webhook.event_types.filter((type) => !webhooks.families.includes(type));
  webhookForm.edit(webhook.id, { url: webhook.url, description: webhook.description ?? '', types: exact.join(' ') });
  fillFamilies(families);
}

function showWebhookSecret(secret, why) {
  const warning = $('webhook-secret-warning');
  warning.textContent = why === 'rotated' ? warning.dataset.rotated : warning.dataset.created;
  $('webhook-secret').hidden = false;
  $('webhook-secret-value').value = secret ?? '';
  $('webhook-secret').scrollIntoView({ block: 'nearest' });
  $('webhook-secret-value').focus();
  $('webhook-secret-value').select();
}

async function loadWebhooks() {
  const answer = await api('GET', '/api/v1/webhooks');
  const familiesChanged = JSON.stringify(answer.event_families ?? []) !== JSON.stringify(webhooks.families);
  webhooks.families = answer.event_families ?? [];
  webhooks.items = answer.items;
  // What is ticked in a form being filled in stays ticked, unless the families themselves changed.
  if (familiesChanged) {
    const ticked = [...$('webhook-families').querySelectorAll('input:checked')].map((box) => box.value);
    fillFamilies(ticked);
  }
  const open = new Set([...document.querySelectorAll('.webhook-log[open]')].map((log) => log.dataset.id));
  const cards = webhooks.items.map(webhookCard);
  $('webhook-list').replaceChildren(...(cards.length ? cards : [el('p', { className: 'empty-state', textContent: t('admin_webhooks_empty') })]));
  // Logs that were unfolded stay so, read again.
  for (const card of cards) {
    const log = card.querySelector('.webhook-log');
    if (open.has(log.dataset.id)) log.open = true;
  }
}

function fact(term, ...value) {
  return el('div', {}, el('dt', { textContent: term }), el('dd', {}, ...value));
}

function webhookCard(webhook) {
  const titleID = `webhook-${webhook.id}-title`;
  const card = el('article', { className: 'webhook' });
  card.dataset.id = String(webhook.id);
  card.dataset.enabled = String(webhook.enabled);
  card.setAttribute('aria-labelledby', titleID);
  card.append(el('div', { className: 'webhook-head' },
    el('h3', { id: titleID, className: 'webhook-url', textContent: webhook.url }),
    badge(t(webhook.enabled ? 'admin_webhook_enabled' : 'admin_webhook_disabled'), webhook.enabled ? 'open' : 'closed')));
  if (!webhook.enabled) {
    card.append(el('p', { className: 'webhook-banner' },
      el('strong', { textContent: t('admin_webhook_disabled_banner') }), ' ',
      webhook.disabled_reason || t('admin_webhook_disabled_no_reason')));
  } else if (webhook.failing_since) {
    card.append(el('p', { className: 'warn', textContent: format(t('admin_webhook_failing'), { time: dateTime.format(new Date(webhook.failing_since)) }) }));
  }
  if (webhook.description) card.append(el('p', { className: 'muted', textContent: webhook.description }));
  const facts = el('dl', { className: 'webhook-facts' },
    fact(t('admin_webhook_events'), ...webhook.event_types.flatMap((type, i) => [i ? ' ' : null, el('code', { textContent: type })])),
    fact(t('admin_created'), dateTime.format(new Date(webhook.created_at))));
  const previous = webhook.previous_secret_until && new Date(webhook.previous_secret_until);
  if (previous && previous > new Date()) facts.append(fact(t('admin_webhook_old_secret'), format(t('admin_webhook_old_secret_until'), { time: dateTime.format(previous) })));
  card.append(facts);
  card.append(actions(
    button(t('admin_edit'), () => editWebhook(webhook)),
    button(t(webhook.enabled ? 'admin_webhook_disable' : 'admin_webhook_enable'), (node) => toggleWebhook(node, webhook), webhook.enabled ? 'danger' : ''),
    button(t('admin_webhook_rotate'), (node) => rotateSecret(node, webhook)),
    button(t('admin_delete'), (node) => removeWebhook(node, webhook), 'danger'),
  ));
  card.append(deliveryLog(webhook));
  return card;
}

/** The endpoint's deliveries, newest first, read when unfolded; more on demand. */
const DELIVERY_COLUMNS = ['admin_delivery_time', 'admin_delivery_event', 'admin_state', 'admin_delivery_attempts', 'admin_delivery_code',
  'admin_delivery_latency', 'admin_delivery_error'];

function deliveryLog(webhook) {
  const columns = DELIVERY_COLUMNS;
  const head = el('tr', {}, ...columns.map((key) => el('th', { scope: 'col', textContent: t(key) })),
    el('th', { scope: 'col' }, el('span', { className: 'visually-hidden', textContent: t('admin_actions') })));
  const table = el('table', { className: 'table delivery-log' }, el('thead', {}, head), el('tbody'));
  const more = button(t('admin_delivery_more'), (node) => act(node, () => readLog(log, webhook, { more: true })));
  more.hidden = true;
  more.classList.add('log-more');
  const refresh = button(t('admin_delivery_refresh'), (node) => act(node, () => readLog(log, webhook)));
  const log = el('details', { className: 'webhook-log' },
    el('summary', { textContent: t('admin_delivery_log') }),
    el('div', { className: 'table-wrap' }, table),
    actions(refresh, more));
  log.dataset.id = String(webhook.id);
  log.addEventListener('toggle', () => { if (log.open) readLog(log, webhook).catch(fail); });
  return log;
}

async function readLog(log, webhook, { more = false } = {}) {
  const query = new URLSearchParams({ limit: String(LOG_PAGE) });
  if (more && log.dataset.cursor) query.set('cursor', log.dataset.cursor);
  const answer = await api('GET', `/api/v1/webhooks/${webhook.id}/notifications?${query}`);
  const table = log.querySelector('table');
  const rows = answer.items.map((delivery) => deliveryRow(log, webhook, delivery));
  if (more) table.tBodies[0].append(...rows);
  else if (rows.length) table.tBodies[0].replaceChildren(...rows);
  else {
    const cell = el('td', { className: 'muted', textContent: t('admin_delivery_none'), colSpan: table.tHead.rows[0].cells.length });
    table.tBodies[0].replaceChildren(el('tr', {}, cell));
  }
  log.dataset.cursor = answer.next_cursor ?? '';
  log.querySelector('.log-more').hidden = !answer.next_cursor;
}

function deliveryRow(log, webhook, delivery) {
  const when = el('span', { textContent: dateTime.format(new Date(delivery.created_at)) });
  const event = el('span', {}, el('code', { textContent: delivery.kind }));
  if (delivery.resend_of) event.append(el('br'), el('small', { className: 'muted', textContent: format(t('admin_delivery_resend_of'), { id: delivery.resend_of }) }));
  const error = el('span', { className: 'delivery-error', textContent: delivery.error ?? '' });
  if (delivery.state === 'pending' && delivery.next_attempt_at) {
    error.append(el('small', { className: 'muted', textContent: ` ${format(t('admin_delivery_next'), { time: clock.format(new Date(delivery.next_attempt_at)) })}` }));
  }
  const cells = [
    when, event, badge(t(`admin_delivery_${delivery.state}`), DELIVERY_BADGE[delivery.state] ?? ''), String(delivery.attempts),
    delivery.response_code != null ? String(delivery.response_code) : '—',
    delivery.latency_ms != null ? format(t('admin_delivery_ms'), { n: delivery.latency_ms }) : '—',
    error,
    // Waiting to go already: sending it again would send it twice.
    delivery.state !== 'pending' && actions(button(t('admin_delivery_resend'), (node) => act(node, async () => {
      await api('POST', `/api/v1/webhooks/${webhook.id}/notifications/${delivery.id}/resend`);
      await readLog(log, webhook);
    }, format(t('admin_delivery_resent'), { kind: delivery.kind })))),
  ];
  // Each cell says its column, for the phone layout where the header row is not shown.
  return el('tr', {}, ...cells.map((cell, i) => {
    const td = el('td', {}, cell || '');
    if (DELIVERY_COLUMNS[i]) td.dataset.label = t(DELIVERY_COLUMNS[i]);
    return td;
  }));
}

async function toggleWebhook(node, webhook) {
  if (webhook.enabled && !await ask(format(t('admin_webhook_disable_confirm'), { url: webhook.url }), t('admin_webhook_disable'))) return;
  await act(node, async () => {
    await api('PATCH', `/api/v1/webhooks/${webhook.id}`, { enabled: !webhook.enabled });
    await loadWebhooks();
  }, format(t(webhook.enabled ? 'admin_webhook_disabled_done' : 'admin_webhook_enabled_done'), { url: webhook.url }));
}

async function rotateSecret(node, webhook) {
  if (!await ask(format(t('admin_webhook_rotate_confirm'), { url: webhook.url }), t('admin_webhook_rotate'))) return;
  await act(node, async () => {
    const rotated = await api('POST', `/api/v1/webhooks/${webhook.id}/secret`);
    await loadWebhooks();
    showWebhookSecret(rotated.secret, 'rotated');
  }, format(t('admin_webhook_rotated'), { url: webhook.url }));
}

async function removeWebhook(node, webhook) {
  if (!await ask(format(t('admin_webhook_delete_confirm'), { url: webhook.url }), t('admin_delete'))) return;
  await act(node, async () => {
    await api('DELETE', `/api/v1/webhooks/${webhook.id}`);
    if ($('webhook-form').dataset.id === String(webhook.id)) webhookForm.reset();
    await loadWebhooks();
  }, format(t('admin_deleted'), { name: webhook.url }));
}

$('webhook-copy').addEventListener('click', () => copyField($('webhook-secret-value'), 'admin_webhook_copy_manually'));

$('webhook-dismiss').addEventListener('click', () => {
  $('webhook-secret-value').value = '';
  $('webhook-secret').hidden = true;
});

// ---- staff ------------------------------------------------------------------------------------------

const userForm = setupForm($('user-form'), {
  onMode(editing) {
    const form = $('user-form');
    form.elements.username.readOnly = editing;
    form.elements.password.required = !editing;
    if (!editing) fillUserBranches();
  },
  validate() {
    const role = $('user-form').elements.role.value;
    return role !== 'admin' && !checkedIDs($('user-branches')).length ? t('admin_user_needs_branch') : '';
  },
  async submit(id) {
    const form = $('user-form');
    const body = { role: form.elements.role.value, branch_ids: checkedIDs($('user-branches')) };
    if (form.elements.password.value) body.password = form.elements.password.value;
    if (!id) body.username = form.elements.username.value.trim();
    const saved = await api(id ? 'PATCH' : 'POST', id ? `/api/v1/users/${id}` : '/api/v1/users', body);
    await loadUsers();
    return format(t('admin_saved'), { name: saved.username });
  },
});

function fillUserBranches(checked = []) {
  checkboxes($('user-branches'), state.branches.map((b) => ({ value: b.id, label: b.name })), checked);
}

// Managers look after receptionists and operators only; everyone else's row is read-only for them.
const mayManage = (user) => isAdmin || user.role === 'reception' || user.role === 'operator';

async function loadUsers() {
  state.users = (await api('GET', '/api/v1/users')).items;
  fillTable('user-list', state.users.map((u) => [
    u.id === me.user_id ? format(t('admin_you'), { name: u.username }) : u.username,
    t(`admin_role_${u.role}`),
    u.role === 'admin' ? t('admin_all_branches') : u.branch_ids.map(branchName).join(', ') || '—',
    badge(t(u.active ? 'admin_user_active' : 'admin_user_disabled'), u.active ? 'open' : 'closed'),
    mayManage(u) && actions(
      button(t('admin_edit'), () => { userForm.edit(u.id, { username: u.username, role: u.role }); fillUserBranches(u.branch_ids); }),
      u.id !== me.user_id && button(t(u.active ? 'admin_user_disable' : 'admin_user_enable'), (node) => toggleUser(node, u), u.active ? 'danger' : ''),
    ),
  ]));
}

async function toggleUser(node, user) {
  if (user.active && !await ask(format(t('admin_user_disable_confirm'), { name: user.username }), t('admin_user_disable'))) return;
  await act(node, async () => {
    await api('PATCH', `/api/v1/users/${user.id}`, { active: !user.active });
    await loadUsers();
  }, format(t('admin_saved'), { name: user.username }));
}

// ---- API keys ---------------------------------------------------------------------------------------

setupForm($('key-form'), {
  validate: () => ($('key-scopes').querySelector('input:checked') ? '' : t('admin_key_needs_scope')),
  async submit() {
    const form = $('key-form');
    const scopes = [...$('key-scopes').querySelectorAll('input:checked')].map((box) => box.value);
    const created = await api('POST', '/api/v1/api-keys', { name: form.elements.name.value.trim(), scopes });
    $('key-secret').hidden = false;
    $('key-secret-value').value = created.key;
    $('key-secret-value').focus();
    $('key-secret-value').select();
    await loadKeys();
    return format(t('admin_key_created'), { name: created.name });
  },
});

async function loadKeys() {
  const keys = (await api('GET', '/api/v1/api-keys')).items;
  fillTable('key-list', keys.map((k) => [
    k.name, el('code', { textContent: k.prefix }), k.scopes.join(', '), dateTime.format(new Date(k.created_at)),
    k.last_used_at ? dateTime.format(new Date(k.last_used_at)) : t('admin_never'),
    k.revoked_at ? badge(format(t('admin_key_revoked'), { date: dateTime.format(new Date(k.revoked_at)) }), 'closed') : badge(t('admin_key_active'), 'open'),
    !k.revoked_at && actions(button(t('admin_revoke'), (node) => revokeKey(node, k), 'danger')),
  ]));
}

async function revokeKey(node, key) {
  if (!await ask(format(t('admin_key_revoke_confirm'), { name: key.name }), t('admin_revoke'))) return;
  await act(node, async () => {
    await api('DELETE', `/api/v1/api-keys/${key.id}`);
    await loadKeys();
  }, format(t('admin_key_revoked_done'), { name: key.name }));
}

/** Copies a secret shown once; `manually` says what to do when the browser refuses. */
async function copyField(field, manually) {
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    announce(t('admin_copied'));
  } catch {
    // Clipboard access can be refused (no HTTPS, permissions): the text stays selected for Ctrl+C.
    announce(t(manually));
  }
}

$('key-copy').addEventListener('click', () => copyField($('key-secret-value'), 'admin_copy_manually'));

$('key-dismiss').addEventListener('click', () => {
  $('key-secret-value').value = '';
  $('key-secret').hidden = true;
});

// ---- navigation -------------------------------------------------------------------------------------

const loaders = { staff: loadUsers, 'api-keys': loadKeys };
/** Sections read again at each visit: what they show also changes without this page (webhooks fail and get disabled). */
const reloaders = { webhooks: loadWebhooks };

function route(focus) {
  const wanted = location.hash.slice(1);
  const name = allowed[wanted] ? wanted : 'overview';
  // A success message belongs to the section it was said in.
  if (focus) $('admin-announce').textContent = '';
  for (const section of document.querySelectorAll('.admin-section')) section.hidden = section.id !== name;
  for (const link of document.querySelectorAll('.admin-nav a')) {
    if (link.dataset.section === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  // On first load the overview is fetched as soon as its branch is known; afterwards, on each return to it.
  if (focus) {
    $(name).focus();
    if (name === 'overview') {
      loadOverview();
      loadChecklist();
    }
  }
  if (loaders[name] && !state.loaded.has(name)) {
    state.loaded.add(name);
    loaders[name]().catch(fail);
  }
  if (reloaders[name]) reloaders[name]().catch(fail);
}

for (const link of document.querySelectorAll('.admin-nav a')) link.hidden = !allowed[link.dataset.section];
if (!isAdmin) for (const option of document.querySelectorAll('[data-admin-only]')) option.remove();
$('me-name').textContent = format(t('admin_signed_in_as'), { name: me.username ?? '', role: t(`admin_role_${me.role}`) });
if (typeof Intl.supportedValuesOf === 'function') {
  $('time-zones').replaceChildren(...Intl.supportedValuesOf('timeZone').map((zone) => new Option(zone)));
}
window.addEventListener('hashchange', () => route(true));

// Users are needed for the counters' operators too, so set-up roles load them up front (after the branches,
// whose names the staff list shows).
loadBranches()
  .then(() => setup && loadUsers().then(() => state.loaded.add('staff')))
  .then(() => route(false))
  .then(loadChecklist)
  .catch(fail);
