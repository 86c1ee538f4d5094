/**
 * Administration page: a live overview of one branch, the branch set-up (branches, services, counters),
 * staff accounts and API keys. The URL hash picks the section; sections and buttons the signed-in role may
 * not use are never shown (the server checks again). Every list is re-read from the API after a change.
 */
import { LiveConnection } from './live.js';
import { api, format, pageData, problemText, t, toast } from './api.js';

const data = pageData();
const me = data.me;
const isAdmin = me.role === 'admin';
const setup = isAdmin || me.role === 'manager';
const allowed = { overview: true, branches: setup, staff: setup, 'api-keys': isAdmin };

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
    $('overview-updated').textContent = format(t('admin_updated_at'), { time: clock.format(new Date()) });
  } catch (error) {
    fail(error);
  }
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

$('key-copy').addEventListener('click', async () => {
  const field = $('key-secret-value');
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    announce(t('admin_copied'));
  } catch {
    // Clipboard access can be refused (no HTTPS, permissions): the text stays selected for Ctrl+C.
    announce(t('admin_copy_manually'));
  }
});

$('key-dismiss').addEventListener('click', () => {
  $('key-secret-value').value = '';
  $('key-secret').hidden = true;
});

// ---- navigation -------------------------------------------------------------------------------------

const loaders = { staff: loadUsers, 'api-keys': loadKeys };

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
