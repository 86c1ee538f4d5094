/**
 * Kiosk: big service buttons that issue a ticket, then the ticket itself (number, counter, QR code to follow
 * it on a phone) for twelve seconds before the next customer. Availability follows the branch live: a counter
 * opening, pausing or closing reloads the snapshot, so nobody taps a service that cannot take tickets.
 * A branch with opening hours says when it is closed (and when it opens next) or no longer takes tickets before
 * closing; no live event marks those moments, so the snapshot is read again when they come.
 */
import { LiveConnection } from './live.js';
import { api, format, pageData, problemText, t } from './api.js';

const data = pageData();
const $ = (id) => document.getElementById(id);
const RETURN_AFTER_S = 12;
// A tap on the same choice within a minute of a failure is the same customer retrying: reusing the
// Idempotency-Key means a request that did reach the server cannot give them a second ticket. Later taps
// are probably the next customer, who must not receive the earlier ticket.
const RETRY_WINDOW_MS = 60_000;
// The snapshot is read again at the next opening or closing, and at least this often while the branch has hours.
const BOUNDARY_MAX_WAIT_MS = 10 * 60_000;
// Tickets stop some minutes before closing (up to four hours; the snapshot does not say how many): while tickets are
// taken and the closing is that near, the snapshot is read every minute.
const LAST_TICKET_WINDOW_MS = 240 * 60_000;
const LAST_TICKET_POLL_MS = 60_000;

let branch = data.branch;
let busy = false;
let attempt = null; // { service, klass, key, at } of the last tap that did not end in a ticket
let countdown = 0;
let refreshTimer = 0;
let refreshSeq = 0;
let boundaryTimer = 0;

const timeFormat = clockFormat(branch.time_zone);
const dateFormat = zonedFormat(branch.time_zone, 'en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' });
const dayFormat = zonedFormat(branch.time_zone, data.lang, { weekday: 'long', day: 'numeric', month: 'long' });

/** HH:MM in the branch's time zone (the receipt may be read far from the kiosk's own clock settings). */
function clockFormat(timeZone) {
  const options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  try {
    return new Intl.DateTimeFormat(data.lang, { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat(data.lang, options); // an unknown zone name throws
  }
}

function zonedFormat(timeZone, locale, options) {
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat(locale, options);
  }
}

/** The branch's calendar date of an instant, YYYY-MM-DD. */
function branchDate(instant) {
  const parts = Object.fromEntries(dateFormat.formatToParts(instant).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** The branch has opening hours and does not take tickets now (it is open by the staff's switch). */
const outsideHours = () => branch.is_open && branch.opening && !branch.opening.takes_tickets;

/**
 * What the opening hours say now, in two lines: closed (on a special day, its name) and when it opens next ("Opens
 * tomorrow at 08:30"), or that tickets have stopped before closing.
 */
function openingNotice(opening) {
  if (opening.open) {
    const time = opening.closes_at ? timeFormat.format(new Date(opening.closes_at)) : '';
    return [format(t('kiosk_no_more_tickets'), { time }), ''];
  }
  const title = opening.special_day ? format(t('kiosk_closed_special'), { name: opening.special_day }) : t('kiosk_closed_now');
  if (!opening.opens_at) return [title, ''];
  const opens = new Date(opening.opens_at);
  const time = timeFormat.format(opens);
  const today = branchDate(new Date());
  const date = branchDate(opens);
  // The calendar's next day, whatever the length of today (23 or 25 hours when the clocks change).
  const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  let next;
  if (date === today) next = format(t('kiosk_opens_today'), { time });
  else if (date === tomorrow) next = format(t('kiosk_opens_tomorrow'), { time });
  else next = format(t('kiosk_opens_on'), { day: dayFormat.format(opens), time });
  return [title, next];
}

function span(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

function renderServices() {
  $('kiosk-branch').textContent = branch.name;
  const list = $('kiosk-services');
  const focused = document.activeElement?.dataset?.serviceId;
  list.replaceChildren(...branch.services.map((service) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'kiosk-service';
    button.dataset.serviceId = service.id;
    button.disabled = !service.available;
    button.append(span('kiosk-service-name', service.name));
    if (service.available) {
      // How many are ahead of whoever takes a ticket now: the first thing a customer at the door wants to know.
      button.append(span('kiosk-service-waiting', format(t('kiosk_waiting'), { count: service.waiting })));
    } else {
      let reason = branch.is_open ? 'kiosk_reason_no_counter' : 'kiosk_reason_closed';
      if (outsideHours()) reason = branch.opening.open ? 'kiosk_reason_no_more_tickets' : 'kiosk_reason_closed';
      button.append(span('kiosk-service-reason', t(reason)));
    }
    const item = document.createElement('li');
    item.append(button);
    return item;
  }));
  // Only the classes this branch lets customers choose; with regular alone there is nothing to choose.
  const classes = new Set(branch.self_service_classes ?? ['regular']);
  for (const input of document.querySelectorAll('input[name="class"]')) {
    input.closest('label').hidden = !classes.has(input.value);
    if (!classes.has(input.value) && input.checked) document.querySelector('input[name="class"][value="regular"]').checked = true;
  }
  document.querySelector('.kiosk-classes').hidden = classes.size < 2;
  const notice = $('kiosk-notice');
  notice.hidden = branch.is_open && branch.services.length > 0 && !outsideHours();
  notice.dataset.state = outsideHours() ? (branch.opening.open ? 'last-tickets' : 'closed') : branch.is_open ? 'open' : 'closed';
  const [title, next] = outsideHours() ? openingNotice(branch.opening) : ['', t(branch.is_open ? 'kiosk_no_services' : 'kiosk_closed')];
  // Only a change is written: the notice is a live region, and the snapshot is read again every minute near closing.
  if (notice.dataset.text !== `${title}|${next}`) {
    notice.dataset.text = `${title}|${next}`;
    const strong = document.createElement('strong');
    strong.textContent = title;
    notice.replaceChildren(...(title ? [strong] : []), ...(title && next ? [document.createElement('br')] : []), next);
  }
  scheduleBoundary();
  // Re-rendering replaced the buttons: keep a keyboard user where they were.
  if (focused) list.querySelector(`[data-service-id="${focused}"]`)?.focus();
}

/** Shows one of the kiosk's screens: the choice, "printing…", the ticket or an error. */
function show(view) {
  $('kiosk-start').hidden = view !== 'start';
  $('kiosk-busy').hidden = view !== 'busy';
  $('kiosk-result').hidden = view !== 'receipt' && view !== 'error';
  $('receipt').hidden = view !== 'receipt';
  $('kiosk-error').hidden = view !== 'error';
  $('kiosk-print').hidden = view !== 'receipt' || data.print === 'auto';
  if (view === 'receipt') $('receipt').focus();
  if (view === 'error') $('kiosk-error').focus();
  if (view === 'start') $('kiosk-services').querySelector('button:enabled')?.focus({ preventScroll: true });
}

function newKey() {
  // crypto.randomUUID exists only in secure contexts; a kiosk on a plain-HTTP LAN still has getRandomValues.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return 'kiosk-' + Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

async function issue(service) {
  if (busy) return;
  busy = true;
  const klass = document.querySelector('input[name="class"]:checked')?.value ?? 'regular';
  const now = Date.now();
  if (!attempt || attempt.service !== service || attempt.klass !== klass || now - attempt.at > RETRY_WINDOW_MS) {
    attempt = { service, klass, key: newKey() };
  }
  attempt.at = now;
  show('busy');
  try {
    const ticket = await api('POST', `/api/v1/branches/${branch.public_id}/tickets`,
      { service, class: klass }, { idempotencyKey: attempt.key });
    attempt = null;
    await showTicket(ticket);
  } catch (error) {
    showError(error);
  } finally {
    busy = false;
  }
}

/** Resolves once the image has loaded or failed, or after 3 s: a slow QR code must not hold up printing. */
function imageSettled(image) {
  return new Promise((resolve) => {
    image.addEventListener('load', resolve, { once: true });
    image.addEventListener('error', resolve, { once: true });
    setTimeout(resolve, 3000);
  });
}

async function showTicket(ticket) {
  $('receipt-branch').textContent = branch.name;
  $('receipt-number').textContent = ticket.number;
  $('receipt-service').textContent = ticket.service;
  $('receipt-where').textContent = ticket.counter == null
    ? t('kiosk_wait_for_call')
    : format(t('kiosk_go_to_counter'), { counter: ticket.counter });
  const ahead = $('receipt-ahead');
  ahead.hidden = ticket.ahead == null;
  ahead.textContent = format(t('kiosk_ahead'), { n: ticket.ahead });
  // The answer has no issue time; the kiosk's "now" is the same minute.
  $('receipt-time').textContent = format(t('kiosk_issued_at'), { time: timeFormat.format(new Date()) });
  // The link may wrap only before the token, never inside it: a customer copying it by hand reads it whole.
  const url = location.origin + ticket.page_url;
  const cut = url.lastIndexOf('/') + 1;
  const token = document.createElement('span');
  token.className = 'receipt-token';
  token.textContent = url.slice(cut);
  $('receipt-link').replaceChildren(url.slice(0, cut), document.createElement('wbr'), token);
  const qr = $('receipt-qr');
  const settled = imageSettled(qr);
  qr.src = `/qr/${encodeURIComponent(ticket.token)}.svg`;
  show('receipt');
  if (data.print === 'auto') {
    await settled; // print with the QR code on the paper
    window.print();
  }
  // Started after printing: the print dialog blocks timers, and the customer still needs time to read.
  startCountdown();
}

function showError(error) {
  const status = error.problem?.status ?? error.status;
  const reasons = { 409: 'kiosk_error_unavailable', 429: 'kiosk_error_rate_limited' };
  $('kiosk-error-reason').textContent = status ? (reasons[status] ? t(reasons[status]) : problemText(error)) : t('kiosk_error_network');
  // The server's detail says exactly what is wrong ("try again in 40 seconds"), worth showing under the summary.
  const detail = $('kiosk-error-detail');
  detail.textContent = reasons[status] ? problemText(error) : '';
  detail.hidden = !detail.textContent;
  show('error');
  startCountdown();
  // A 409 means availability changed under us: the start screen must show it. When the opening hours are why,
  // their words (in the branch's language and time) replace the server's.
  if (status === 409) {
    clearTimeout(refreshTimer);
    refresh().then(() => {
      if (!outsideHours() || $('kiosk-error').hidden) return;
      detail.textContent = openingNotice(branch.opening).filter(Boolean).join(' ');
      detail.hidden = false;
    });
  }
}

function startCountdown() {
  clearInterval(countdown);
  let left = RETURN_AFTER_S;
  const tick = () => {
    if (left <= 0) return backToStart();
    $('kiosk-countdown').textContent = format(t('kiosk_countdown'), { s: left });
    left -= 1;
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function backToStart() {
  clearInterval(countdown);
  $('kiosk-countdown').textContent = '';
  // The next customer starts from the default class, not the previous customer's choice.
  document.querySelector('input[name="class"][value="regular"]').checked = true;
  show('start');
}

/**
 * Reads the snapshot again when the opening hours change what the kiosk may do (the next opening or closing, a
 * moment after it), at most ten minutes from now, and every minute while tickets may stop before closing.
 */
function scheduleBoundary() {
  clearTimeout(boundaryTimer);
  const opening = branch.opening;
  if (!opening) return;
  const now = Date.now();
  let wait = BOUNDARY_MAX_WAIT_MS;
  const next = Date.parse(opening.open ? opening.closes_at : opening.opens_at);
  // A few seconds late, spread over kiosks, so that the server's clock has passed the moment too.
  if (Number.isFinite(next)) wait = Math.min(wait, Math.max(5_000, next - now + 2_000 + Math.random() * 3_000));
  if (opening.takes_tickets && opening.closes_at && Date.parse(opening.closes_at) - now <= LAST_TICKET_WINDOW_MS) {
    wait = Math.min(wait, LAST_TICKET_POLL_MS);
  }
  boundaryTimer = setTimeout(refresh, wait);
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 300);
}

async function refresh() {
  const seq = ++refreshSeq;
  try {
    const snapshot = await api('GET', `/api/v1/branches/${branch.public_id}/snapshot`);
    if (seq !== refreshSeq) return; // a newer refresh was started; its answer wins
    branch = snapshot;
    renderServices();
  } catch {
    // Keep the last known services: the next event or reconnect refreshes again (and so does the opening hours' timer).
    if (seq === refreshSeq && branch.opening) {
      clearTimeout(boundaryTimer);
      boundaryTimer = setTimeout(refresh, 30_000);
    }
  }
}

$('kiosk-services').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-service-id]');
  if (button && !button.disabled) issue(Number(button.dataset.serviceId));
});
$('kiosk-done').addEventListener('click', backToStart);
$('kiosk-print').addEventListener('click', () => window.print());

renderServices();
new LiveConnection({
  topics: [`branch:${branch.public_id}`],
  since: data.live_id,
  onMessage: (message) => {
    if (message.type.startsWith('queue.')) refreshSoon();
  },
  onResync: refreshSoon,
  dot: document.querySelector('.live-dot'),
  strings: data.strings,
}).start();
