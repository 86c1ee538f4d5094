/**
 * Complaints page: the inbox of what customers reported about their finished tickets, for administrators and
 * managers. The list is read from `GET /api/v1/complaints` (the chosen states comma-separated, newest first, a page at
 * a time); the URL hash `#complaint-ID` opens one, with its text, its timeline and the form that acknowledges,
 * resolves or reopens it (a state change needs an internal note or a reply to the customer), assigns it and writes
 * notes and replies (`PATCH /api/v1/complaints/{id}`). Times are the branch's, 24-hour.
 */
import { api, format, pageData, problemText, t } from './api.js';

const data = pageData();
const me = data.me;
const lang = data.lang || document.documentElement.lang || 'en';
const isAdmin = me.role === 'admin';
const PAGE_SIZE = 25;
const STATES = ['open', 'acknowledged', 'resolved'];

const $ = (id) => document.getElementById(id);
const filters = $('complaint-filters');
const branchFilter = $('filter-branch');
const assigneeFilter = $('filter-assignee');
const actionForm = $('complaint-action');

let branches = [];
let assignable = []; // admins and managers this user may assign to (a manager: only themselves)
let items = [];
let cursor = null; // where the next page starts, null when there is none
let listSeq = 0;
let detail = null; // the complaint open, with its notes
let detailSeq = 0;

// ---- small helpers ----------------------------------------------------------------------------------

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) if (value != null && value !== false) node.setAttribute(name, String(value));
  node.append(...children.filter((child) => child != null && child !== false));
  return node;
}
const h = (tag, attrs = {}, ...children) => build(document.createElement(tag), attrs, children);

function announce(message) {
  const region = $('complaints-announce');
  region.textContent = '';
  requestAnimationFrame(() => { region.textContent = message; });
}
const showProblem = (text) => { $('complaints-problem').textContent = text ?? ''; };

const timeZone = (branchID) => branches.find((b) => b.id === branchID)?.time_zone;
const formats = new Map();
/** A moment as the branch's clocks show it: its time zone, 24-hour. */
function branchTime(iso, branchID) {
  if (!iso) return '—';
  const zone = timeZone(branchID) ?? 'UTC';
  if (!formats.has(zone)) {
    const options = { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    try {
      formats.set(zone, new Intl.DateTimeFormat(lang, { ...options, timeZone: zone }));
    } catch {
      formats.set(zone, new Intl.DateTimeFormat(lang, options)); // an unknown zone name throws
    }
  }
  return formats.get(zone).format(new Date(iso));
}

/** How long ago: minutes, then hours, then days. */
function age(iso) {
  const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60_000));
  if (minutes < 60) return format(t('complaints_age_minutes'), { n: minutes });
  if (minutes < 48 * 60) return format(t('complaints_age_hours'), { n: Math.floor(minutes / 60) });
  return format(t('complaints_age_days'), { n: Math.floor(minutes / 1440) });
}

function badge(state) {
  const node = h('span', { class: 'state-badge complaint-badge' }, t(`complaints_state_${state}`));
  node.dataset.state = state;
  return node;
}

function person(user) {
  if (!user) return '—';
  const name = user.username ?? `#${user.id}`;
  return user.id === me.user_id ? format(t('complaints_you'), { name }) : name;
}
function userName(id) {
  if (id === me.user_id) return format(t('complaints_you'), { name: me.username ?? '' });
  return assignable.find((user) => user.id === id)?.username ?? `#${id}`;
}

// ---- the list ---------------------------------------------------------------------------------------

/** The states asked for, comma-separated (the API's default is open and acknowledged); none ticked means all. */
function checkedStates() {
  const states = [...filters.querySelectorAll('input[name=state]:checked')].map((box) => box.value);
  return (states.length ? states : STATES).join(',');
}

/** The first page for the filters, or (`more`) the next one after those on screen. The API gives the newest first. */
async function loadList({ more = false } = {}) {
  const seq = ++listSeq;
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), state: checkedStates() });
  if (branchFilter.value) query.set('branch', branchFilter.value);
  if (assigneeFilter.value) query.set('assignee', assigneeFilter.value);
  if (more && cursor) query.set('cursor', cursor);
  $('complaint-table').setAttribute('aria-busy', 'true');
  try {
    const page = await api('GET', `/api/v1/complaints?${query}`);
    if (seq !== listSeq) return;
    const found = [...(more ? items : []), ...(page.items ?? [])];
    items = [...new Map(found.map((item) => [item.id, item])).values()];
    cursor = page.next_cursor ?? null;
    showProblem('');
    renderList();
  } catch (error) {
    if (seq === listSeq) showProblem(problemText(error));
  } finally {
    if (seq === listSeq) $('complaint-table').setAttribute('aria-busy', 'false');
  }
}

function renderList() {
  const rows = items.map((item) => {
    const link = h('a', { href: `#complaint-${item.id}`, class: 'complaint-link' }, item.ticket_number ?? `#${item.ticket_id}`);
    link.setAttribute('aria-label', format(t('complaints_open_label'), { number: item.ticket_number ?? item.ticket_id, service: item.service ?? '' }));
    const row = h('tr', { 'data-id': item.id, 'aria-current': detail?.id === item.id ? 'true' : null },
      h('th', { scope: 'row' }, link),
      h('td', {}, item.service ?? '—', branches.length > 1 && item.branch ? h('span', { class: 'muted small branch-name' }, ` · ${item.branch}`) : null),
      h('td', {}, item.counter ?? '—'),
      h('td', {}, person(item.served_by)),
      h('td', {}, h('time', { datetime: item.created_at, title: branchTime(item.created_at, item.branch_id) }, age(item.created_at))),
      h('td', {}, badge(item.state)),
      h('td', {}, item.assignee ? person(item.assignee) : h('span', { class: 'muted' }, t('complaints_unassigned'))));
    return row;
  });
  $('complaint-rows').replaceChildren(...rows);
  $('complaint-count').textContent = String(items.length);
  $('complaints-empty').hidden = items.length > 0;
  $('complaint-table').closest('.table-wrap').hidden = items.length === 0;
  $('complaints-more').hidden = !cursor;
}

// ---- one complaint ----------------------------------------------------------------------------------

function openFromHash() {
  const match = /^#complaint-(\d+)$/.exec(location.hash);
  if (!match) {
    closeDetail(false);
    return;
  }
  openDetail(Number(match[1]));
}

async function openDetail(id) {
  const seq = ++detailSeq;
  try {
    const complaint = await api('GET', `/api/v1/complaints/${id}`);
    if (seq !== detailSeq) return;
    showProblem('');
    renderDetail(complaint);
    $('detail-title').focus();
  } catch (error) {
    if (seq === detailSeq) showProblem(problemText(error));
  }
}

function closeDetail(clearHash = true) {
  const open = detail;
  detail = null;
  $('complaint-detail').hidden = true;
  document.querySelector('.complaints-layout').classList.remove('has-detail');
  if (clearHash && location.hash) history.replaceState(null, '', location.pathname + location.search);
  renderList();
  if (open) document.querySelector(`#complaint-rows tr[data-id="${open.id}"] a`)?.focus();
}

function fact(label, value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value ?? '—'));
}

function timelineEntry(at, by, lines, branchID) {
  return h('li', {},
    h('p', { class: 'timeline-head' }, h('time', { datetime: at }, branchTime(at, branchID)), by ? ` · ${by}` : ''),
    ...lines);
}

function renderDetail(complaint) {
  detail = complaint;
  const section = $('complaint-detail');
  section.hidden = false;
  document.querySelector('.complaints-layout').classList.add('has-detail');
  $('detail-title').textContent = format(t('complaints_detail_title'), { number: complaint.ticket_number ?? `#${complaint.ticket_id}` });
  const state = $('detail-state');
  state.textContent = t(`complaints_state_${complaint.state}`);
  state.dataset.state = complaint.state;
  $('detail-facts').replaceChildren(
    fact(t('complaints_branch'), complaint.branch),
    fact(t('complaints_service'), complaint.service),
    fact(t('complaints_counter'), complaint.counter),
    fact(t('complaints_served_by'), person(complaint.served_by)),
    fact(t('complaints_received'), branchTime(complaint.created_at, complaint.branch_id)),
    fact(t('complaints_assignee'), complaint.assignee ? person(complaint.assignee) : t('complaints_unassigned')));
  const text = $('detail-text');
  text.textContent = complaint.text ?? t('complaints_text_erased');
  text.classList.toggle('erased', complaint.text == null);
  $('detail-reply-box').hidden = complaint.reply == null;
  $('detail-reply').textContent = complaint.reply ?? '';

  const entries = [timelineEntry(complaint.created_at, t('complaints_the_customer'), [h('p', {}, t('complaints_event_received'))], complaint.branch_id)];
  for (const note of complaint.notes ?? []) {
    const lines = [];
    if (note.state) lines.push(h('p', {}, format(t('complaints_event_state'), { state: t(`complaints_state_${note.state}`) })));
    if (note.assignee_id != null) lines.push(h('p', {}, format(t('complaints_event_assigned'), { name: userName(note.assignee_id) })));
    if (note.unassigned) lines.push(h('p', {}, t('complaints_event_unassigned')));
    if (note.note) lines.push(h('p', { class: 'timeline-note' }, h('strong', {}, `${t('complaints_event_note')} `), note.note));
    if (note.reply) lines.push(h('p', { class: 'timeline-reply' }, h('strong', {}, `${t('complaints_event_reply')} `), note.reply));
    if (!lines.length) continue;
    entries.push(timelineEntry(note.at, note.by ? person(note.by) : t('complaints_system'), lines, complaint.branch_id));
  }
  $('detail-timeline').replaceChildren(...entries);

  fillAssignees(complaint);
  $('action-acknowledge').hidden = complaint.state !== 'open';
  $('action-resolve').hidden = complaint.state === 'resolved';
  $('action-reopen').hidden = complaint.state !== 'resolved';
  $('action-error').textContent = '';
  renderList();
}

/** Admins and the branch's managers; a manager assigns only themselves. The current assignee is always there. */
function fillAssignees(complaint) {
  const select = $('action-assignee');
  const people = assignable.filter((user) => user.id === me.user_id || user.role === 'admin' || user.branch_ids?.includes(complaint.branch_id));
  if (!people.some((user) => user.id === me.user_id)) people.unshift({ id: me.user_id, username: me.username ?? '' });
  if (complaint.assignee && !people.some((user) => user.id === complaint.assignee.id)) people.push(complaint.assignee);
  select.replaceChildren(new Option(t('complaints_nobody'), 'none'),
    ...people.map((user) => new Option(person(user), String(user.id))));
  select.value = complaint.assignee ? String(complaint.assignee.id) : 'none';
}

actionForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!detail) return;
  const button = event.submitter;
  const target = button?.value || '';
  const error = $('action-error');
  const note = $('action-note').value.trim();
  const reply = $('action-reply').value.trim();
  const assignee = $('action-assignee').value;
  const body = {};
  if (target) body.state = target;
  if (note) body.note = note;
  if (reply) body.reply = reply;
  if (assignee !== (detail.assignee ? String(detail.assignee.id) : 'none')) {
    // Taking it away from everyone is `unassign` (a null assignee_id reads as "no change").
    if (assignee === 'none') body.unassign = true;
    else body.assignee_id = Number(assignee);
  }
  if (target && !note && !reply) {
    error.textContent = t('complaints_needs_note');
    $('action-note').focus();
    return;
  }
  if (!Object.keys(body).length) {
    error.textContent = t('complaints_nothing_to_save');
    return;
  }
  error.textContent = '';
  const buttons = [...actionForm.querySelectorAll('button')];
  for (const node of buttons) node.disabled = true;
  button?.setAttribute('aria-busy', 'true');
  const number = detail.ticket_number ?? `#${detail.ticket_id}`;
  try {
    const updated = await api('PATCH', `/api/v1/complaints/${detail.id}`, body);
    actionForm.reset();
    renderDetail(updated);
    announce(format(t(target ? `complaints_done_${target}` : 'complaints_done_saved'), { number }));
    await loadList();
  } catch (failure) {
    error.textContent = problemText(failure);
  } finally {
    for (const node of buttons) node.disabled = false;
    button?.removeAttribute('aria-busy');
  }
});

// ---- start ------------------------------------------------------------------------------------------

$('me-name').textContent = format(t('complaints_signed_in_as'), { name: me.username ?? '', role: t(`complaints_role_${me.role}`) });

filters.addEventListener('submit', (event) => {
  event.preventDefault();
  loadList();
});
filters.addEventListener('change', () => loadList());
$('complaints-more').addEventListener('click', () => loadList({ more: true }));
$('detail-close').addEventListener('click', () => closeDetail());
window.addEventListener('hashchange', openFromHash);
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && detail && !event.target.closest?.('textarea, select')) closeDetail();
});

(async () => {
  try {
    branches = (await api('GET', '/api/v1/branches')).items;
    branchFilter.append(...branches.map((b) => new Option(b.name, b.id)));
    if (isAdmin) {
      const users = (await api('GET', '/api/v1/users')).items;
      assignable = users.filter((user) => user.active && (user.role === 'admin' || user.role === 'manager'))
        .sort((a, b) => a.username.localeCompare(b.username, lang));
    }
  } catch (error) {
    showProblem(problemText(error));
  }
  const others = assignable.filter((user) => user.id !== me.user_id);
  assigneeFilter.append(new Option(format(t('complaints_you'), { name: me.username ?? '' }), String(me.user_id)),
    ...others.map((user) => new Option(user.username, String(user.id))));
  await loadList();
  openFromHash();
})();
