/**
 * Ticket page: the customer's own ticket, live. Positions arrive as `ticket.position` pushes; the ticket's own
 * events (called, recalled, served…) are shown at once and then re-read from the API. The last status is kept
 * in localStorage so the page still shows something, marked as old, when the phone is offline (sw.js serves
 * cached pages and answers then, marking the answers with `X-Turno-Offline`). Alerts: a vibration and a
 * notification once the turn is near, a full-screen "go to counter N" when called.
 *
 * "Tell me when it's nearly my turn": while the ticket waits or is called, the customer can ask the server to tell
 * them even with the page closed, by what `GET …/followers` offers: web push (this browser's subscription, shown by
 * sw.js), Telegram (the bot's link) or e-mail; what is on is listed, each with a button to stop it.
 */
import { LiveConnection } from './live.js';
import { api, format, pageData, problemText, t } from './api.js';

const data = pageData();
const token = data.token;
const nearAhead = data.near_ahead ?? 2;
const path = `/api/v1/tickets/${encodeURIComponent(token)}`;
const storeKey = `turno.ticket.${token}`;
const CANCELLABLE = ['waiting', 'held', 'called'];
const FINISHED = ['served', 'no_show', 'cancelled', 'expired'];
/** A problem can be reported about a ticket that reached a counter, for seven days after it ended. */
const COMPLAINABLE = ['served', 'no_show'];
const COMPLAINT_WINDOW_MS = 7 * 24 * 3600 * 1000;
/** Alerts can be asked for while the ticket waits or is called (the server says 409 otherwise). */
const ALERTABLE = ['waiting', 'called'];
const NONE = '—';
const $ = (id) => document.getElementById(id);
const timeFormat = new Intl.DateTimeFormat(data.lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

// What this phone remembers about the ticket: { status, savedAt, liveId, nearAlerted, rated }, where liveId is
// the newest live event seen when the status was saved: it tells which of two copies is newer.
const saved = load();
let status = null;
let live = null;
let followed = '';
let fetching = false;
let fetchAgain = false;
let returnFocus = null;
// The customer's complaint about this ticket: undefined until asked, null when there is none.
let complaint;
let complaintLoading = false;
// What GET …/followers answered: { push_key?, telegram_link?, email, items }; null until known.
let offer = null;
let offerLoading = false;
let offerState = '';

/** Browsers refuse (and complain about) vibration before the user has touched the page, so only ask after. */
function vibrate(pattern) {
  if (navigator.userActivation?.hasBeenActive) navigator.vibrate?.(pattern);
}

function load() {
  try {
    return JSON.parse(localStorage.getItem(storeKey)) ?? {};
  } catch {
    return {};
  }
}

function save() {
  try {
    localStorage.setItem(storeKey, JSON.stringify(saved));
  } catch {
    // Private browsing or a full store: the page works, it just cannot remember.
  }
}

const isNear = (s) => s.state === 'waiting' && (s.near || (s.ahead != null && s.ahead <= nearAhead));

function eta(seconds) {
  if (seconds == null) return NONE;
  if (seconds < 60) return t('ticket_eta_soon');
  return format(t('ticket_eta_minutes'), { n: Math.round(seconds / 60) });
}

/**
 * Shows a status and raises the alerts it calls for. A fresh one (from the API or a live message) is also
 * remembered; the one the page opened with may come from the service worker's cache, so it is not.
 */
function setStatus(next, { fresh = true } = {}) {
  const previous = status;
  status = next;
  if (fresh) {
    Object.assign(saved, { status: next, savedAt: Date.now(), liveId: Math.max(live?.lastId ?? 0, data.live_id ?? 0) });
    save();
    $('ticket-offline').hidden = true;
  }
  render();
  if (next.state === 'called' && previous?.state !== 'called') showCalled();
  if (next.state !== 'called') hideCalled();
  alertIfNear();
  follow();
  // What can be asked for depends on the state: read again when it changes.
  if (next.state !== offerState) loadOffer();
}

function render() {
  const s = status;
  $('ticket').dataset.state = s.state;
  $('ticket-number').textContent = s.number;
  $('ticket-service').textContent = s.service;
  const state = $('ticket-state');
  state.textContent = t(`ticket_state_${s.state}`);
  state.dataset.state = s.state;
  const held = $('ticket-held');
  // A ticket is held for one reason only; the page says it in the branch's language (held_reason is the API's English).
  held.hidden = s.state !== 'held';
  held.textContent = format(t('ticket_held_no_counter'), { service: s.service ?? '' });
  $('ticket-near').hidden = !isNear(s);
  $('ticket-facts').hidden = FINISHED.includes(s.state);
  $('ticket-position').textContent = s.position ?? NONE;
  $('ticket-ahead').textContent = s.ahead ?? NONE;
  // Pooled branches pick the counter only when calling.
  $('ticket-counter').textContent = s.counter ?? t('ticket_counter_pending');
  $('now-serving').textContent = s.now_serving ?? NONE;
  $('ticket-eta').textContent = eta(s.eta_s);
  $('ticket-cancel').hidden = !CANCELLABLE.includes(s.state);
  $('ticket-rate').hidden = s.state !== 'served';
  $('rating-form').hidden = Boolean(saved.rated);
  $('ticket-thanks').hidden = !saved.rated;
  updateNotifyButton();
  renderAlerts();
  renderComplaint();
}

// ---- reporting a problem ----------------------------------------------------------------------------

/** Within seven days of the end; a server that does not say when the ticket ended leaves it to the API to decide. */
function mayComplain(s) {
  if (!COMPLAINABLE.includes(s?.state)) return false;
  if (s.finished_at === undefined) return true;
  const finished = Date.parse(s.finished_at ?? '');
  return Number.isFinite(finished) && Date.now() - finished < COMPLAINT_WINDOW_MS;
}

function renderComplaint() {
  const has = complaint != null;
  const offer = !has && complaint === null && mayComplain(status);
  const formOpen = !$('complaint-form').hidden;
  $('ticket-complaint').hidden = !(has || offer);
  $('complaint-open').hidden = !offer || formOpen;
  if (!offer && formOpen) $('complaint-form').hidden = true;
  $('complaint-status').hidden = !has;
  if (!has) return;
  const state = $('complaint-state');
  state.textContent = t(`ticket_complaint_state_${complaint.state}`);
  state.dataset.state = complaint.state;
  $('complaint-sent').hidden = !complaint.text;
  $('complaint-sent').textContent = complaint.text ?? '';
  $('complaint-reply-box').hidden = complaint.reply == null;
  $('complaint-reply').textContent = complaint.reply ?? '';
}

/** Reads the complaint (404: there is none) once the ticket has ended, and again whenever the status is re-read. */
async function loadComplaint() {
  if (!COMPLAINABLE.includes(status?.state) || complaintLoading) return;
  complaintLoading = true;
  try {
    complaint = await api('GET', `${path}/complaint`);
  } catch (error) {
    // Offline or failing: a complaint already seen stays shown; otherwise the form is offered and the API decides.
    if (error.problem?.status === 404 || complaint === undefined) complaint = null;
  } finally {
    complaintLoading = false;
  }
  renderComplaint();
}

function showComplaintError(text) {
  const error = $('complaint-error');
  error.textContent = text;
  error.hidden = !text;
}

function toggleComplaintForm(open) {
  $('complaint-form').hidden = !open;
  $('complaint-open').setAttribute('aria-expanded', String(open));
  showComplaintError('');
  renderComplaint();
  if (open) $('complaint-text').focus();
  else $('complaint-open').focus();
}

/** The status could not be refreshed: show the remembered one, saying how old it is. */
function showOffline() {
  const note = $('ticket-offline');
  note.textContent = saved.savedAt
    ? format(t('ticket_offline'), { time: timeFormat.format(new Date(saved.savedAt)) })
    : t('ticket_unavailable');
  note.hidden = false;
}

function showMessage(text) {
  const message = $('ticket-message');
  message.textContent = text;
  message.hidden = !text;
}

/**
 * Re-reads the status. Plain fetch rather than api(): a cached answer from the service worker looks like any
 * other 200 unless its X-Turno-Offline header is read, and it must not pass for fresh.
 */
async function refetch() {
  // One request at a time; anything asked for meanwhile is served by one more request afterwards.
  if (fetching) {
    fetchAgain = true;
    return;
  }
  fetching = true;
  try {
    do {
      fetchAgain = false;
      const response = await fetch(path, {
        cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(20_000),
      });
      if (response.status === 404) {
        showMessage((await response.json().catch(() => null))?.detail || t('error_no_ticket'));
        return;
      }
      if (!response.ok || response.headers.has('X-Turno-Offline')) {
        showOffline();
        return;
      }
      setStatus(await response.json());
    } while (fetchAgain);
    loadComplaint();
  } catch {
    showOffline(); // no network, or no answer in time
  } finally {
    fetching = false;
  }
}

/** Notifications reach a phone in a pocket; Android shows them only through the service worker. */
async function notify(title, body) {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  // The tag of the server's push alerts about this ticket: one replaces the other instead of both showing.
  const tag = status?.id != null ? `ticket-${status.id}` : `turno-${token}`;
  const options = { body, tag, renotify: true, icon: '/assets/icon.svg', data: { url: location.pathname } };
  try {
    const registration = await navigator.serviceWorker?.getRegistration('/t/');
    if (registration) await registration.showNotification(title, options);
    else new Notification(title, options);
  } catch {
    // A notification is an extra: the page shows the same thing.
  }
}

function alertIfNear() {
  if (!isNear(status) || saved.nearAlerted) return;
  saved.nearAlerted = true; // once per ticket, also across reloads
  save();
  vibrate([200, 100, 200]);
  notify(t('ticket_near_title'), format(t('ticket_near_body'), { number: status.number, ahead: status.ahead ?? 0 }));
}

function updateNotifyButton() {
  // Only worth offering while there is something to be told, and only when the browser can still ask; when the
  // server offers push alerts, the alerts box asks for the permission itself.
  $('ticket-notify').hidden = !('Notification' in window) || Notification.permission !== 'default'
    || !['waiting', 'held'].includes(status?.state) || pushOffered();
}

// ---- alerts: "tell me when it's nearly my turn" ------------------------------------------------------

/** Web push needs a service worker, the Push API and notifications (an iPhone has them only once the page is installed). */
function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window && window.isSecureContext;
}

const pushOffered = () => Boolean(offer?.push_key) && ALERTABLE.includes(status?.state) && pushSupported();

/** A short message in the alerts box (a polite live region): the outcome of the last thing asked for. */
function sayAlerts(text, kind = 'ok') {
  const message = $('alerts-message');
  message.textContent = '';
  message.dataset.kind = kind;
  // Set after a moment, so that the same message said twice is read twice.
  requestAnimationFrame(() => { message.textContent = text; });
}

async function loadOffer() {
  if (!status || offerLoading) return;
  offerLoading = true;
  offerState = status.state;
  try {
    offer = await api('GET', `${path}/followers`);
  } catch (error) {
    // A finished or vanished ticket has nothing to offer; offline, what was known stays shown.
    if ([404, 409, 410].includes(error.problem?.status)) offer = null;
  } finally {
    offerLoading = false;
  }
  if (status && status.state !== offerState) {
    loadOffer();
    return;
  }
  renderAlerts();
  updateNotifyButton();
}

const CHANNEL_KEYS = { push: 'ticket_alerts_channel_push', telegram: 'ticket_alerts_channel_telegram', email: 'ticket_alerts_channel_email' };

function renderAlerts() {
  const items = offer?.items ?? [];
  const asking = ALERTABLE.includes(status?.state);
  const has = (channel) => items.some((item) => item.channel === channel);
  const canPush = asking && Boolean(offer?.push_key) && !has('push');
  const canTelegram = asking && Boolean(offer?.telegram_link) && !has('telegram');
  const canEmail = asking && Boolean(offer?.email);
  // What is on can still be stopped while the ticket is on hold; a finished ticket is told nothing more.
  const showItems = items.length > 0 && !FINISHED.includes(status?.state) && status?.state !== 'serving';
  $('ticket-alerts').hidden = !(canPush || canTelegram || canEmail || showItems);

  $('alerts-on-box').hidden = !showItems;
  $('alerts-on').replaceChildren(...(showItems ? items : []).map((item) => {
    const label = t(CHANNEL_KEYS[item.channel] ?? 'ticket_alerts_channel_other');
    const row = document.createElement('li');
    const text = document.createElement('span');
    text.className = 'ticket-alerts-channel';
    text.textContent = label;
    const since = document.createElement('span');
    since.className = 'ticket-hint';
    since.textContent = format(t('ticket_alerts_since'), { time: timeFormat.format(new Date(item.created_at)) });
    const stop = document.createElement('button');
    stop.type = 'button';
    stop.textContent = t('ticket_alerts_stop');
    stop.setAttribute('aria-label', format(t('ticket_alerts_stop_label'), { channel: label }));
    stop.addEventListener('click', () => stopAlert(stop, item, label));
    row.append(text, since, stop);
    return row;
  }));

  // Push: offered by the server; said plainly when this browser cannot, or when notifications are blocked here.
  const note = $('alerts-push-note');
  let noteText = '';
  if (canPush && !pushSupported()) noteText = t('ticket_alerts_push_unsupported');
  else if (canPush && Notification.permission === 'denied') noteText = t('ticket_alerts_push_blocked');
  $('alerts-push').hidden = !canPush || noteText !== '';
  note.textContent = noteText;
  note.hidden = !noteText;

  const telegram = $('alerts-telegram');
  telegram.hidden = !canTelegram;
  if (canTelegram) telegram.href = offer.telegram_link;
  $('alerts-email-form').hidden = !canEmail;
}

function base64urlBytes(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function sameBytes(buffer, bytes) {
  if (!buffer) return false;
  const other = new Uint8Array(buffer);
  return other.length === bytes.length && other.every((byte, i) => byte === bytes[i]);
}

/** navigator.serviceWorker.ready never settles when the worker could not be registered: give up after a while. */
function withinSeconds(promise, seconds) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), seconds * 1000))]);
}

async function followByPush(button) {
  if (!pushSupported()) {
    sayAlerts(t('ticket_alerts_push_unsupported'), 'error');
    return;
  }
  button.disabled = true;
  try {
    const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
    if (permission !== 'granted') {
      sayAlerts(t('ticket_alerts_push_denied'), 'error');
      return;
    }
    sayAlerts(t('ticket_alerts_push_working'));
    let subscription;
    try {
      const registration = await withinSeconds(navigator.serviceWorker.ready, 10);
      const key = base64urlBytes(offer.push_key);
      subscription = await registration.pushManager.getSubscription();
      // A subscription made for another server key cannot be used: it is replaced.
      if (subscription && !sameBytes(subscription.options?.applicationServerKey, key)) {
        await subscription.unsubscribe();
        subscription = null;
      }
      // A browser without a reachable push service may never answer.
      subscription ??= await withinSeconds(registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }), 30);
    } catch (error) {
      console.warn('turno: no push subscription', error);
      sayAlerts(t('ticket_alerts_push_failed'), 'error');
      return;
    }
    // Browsers say `"expirationTime": null`; the API takes no nulls, so empty fields are left out.
    const json = Object.fromEntries(Object.entries(subscription.toJSON()).filter(([, value]) => value != null));
    const item = await api('POST', `${path}/followers`, { channel: 'push', subscription: json, language: data.lang });
    offer.items = [...(offer.items ?? []), item];
    sayAlerts(t('ticket_alerts_push_done'));
  } catch (error) {
    sayAlerts(problemText(error), 'error');
  } finally {
    button.disabled = false;
    renderAlerts();
    updateNotifyButton();
  }
}

async function stopAlert(button, item, label) {
  button.disabled = true;
  try {
    await api('DELETE', `${path}/followers/${item.id}`);
    sayAlerts(format(t('ticket_alerts_stopped'), { channel: label }));
  } catch (error) {
    // Already gone (stopped from Telegram, or the ticket moved on): the list is re-read either way.
    if (error.problem?.status !== 404) {
      sayAlerts(problemText(error), 'error');
      button.disabled = false;
      return;
    }
  }
  if (offer) offer.items = offer.items.filter((other) => other.id !== item.id);
  renderAlerts();
  // The focused button went with its row: focus moves to the next one, or to the box's heading.
  ($('alerts-on').querySelector('button') ?? $('alerts-title')).focus();
  loadOffer();
}

function calledText() {
  return status.counter == null ? t('ticket_called_no_counter') : format(t('ticket_go_to_counter'), { counter: status.counter });
}

function showCalled() {
  const overlay = $('called-overlay');
  $('called-number').textContent = status.number;
  $('called-text').textContent = calledText();
  if (overlay.hidden) returnFocus = document.activeElement;
  overlay.hidden = false;
  // The page behind is out of reach (keyboard and screen readers) until the customer acknowledges.
  $('ticket').inert = true;
  $('called-ok').focus();
  vibrate([300, 150, 300, 150, 300]);
  notify(calledText(), status.number);
}

function hideCalled() {
  const overlay = $('called-overlay');
  if (overlay.hidden) return;
  overlay.hidden = true;
  $('ticket').inert = false;
  returnFocus?.focus?.();
  returnFocus = null;
}

function onMessage(message) {
  if (message.type === 'ticket.position') {
    setStatus(message.data);
    if (fetching) fetchAgain = true; // a request already on its way may answer with older positions
    return;
  }
  // Our own events come on the ticket topic, or on the branch topic when both are followed.
  const own = message.topic === `ticket:${token}` || (status && message.data?.id === status.id);
  if (!own || !message.type.startsWith('ticket.')) return;
  // Show the new state at once (the overlay must not wait for a round trip), then re-read the rest.
  const next = { ...status, ...message.data };
  if (next.state !== 'waiting') Object.assign(next, { position: null, ahead: null, eta_s: null, near: false });
  setStatus(next);
  if (message.type === 'ticket.recalled') showCalled();
  refetch();
}

/** Follows the ticket and, once its branch is known, the branch; restarts only when that changes. */
function follow() {
  const topics = [`ticket:${token}`];
  if (status?.branch_public_id) topics.push(`branch:${status.branch_public_id}`);
  if (topics.join() === followed) return;
  followed = topics.join();
  const since = live ? live.lastId : data.live_id;
  live?.stop();
  live = new LiveConnection({
    topics,
    since,
    onMessage,
    onResync: refetch,
    dot: document.querySelector('.live-dot'),
    strings: data.strings,
  });
  live.start();
}

function confirmCancel() {
  const dialog = $('cancel-dialog');
  if (typeof dialog.showModal !== 'function') return Promise.resolve(window.confirm(t('ticket_cancel_confirm')));
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'cancel'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

$('ticket-cancel').addEventListener('click', async () => {
  if (!(await confirmCancel())) return;
  showMessage('');
  try {
    setStatus(await api('DELETE', path));
  } catch (error) {
    showMessage(problemText(error));
    refetch();
  }
});

$('ticket-notify').addEventListener('click', () => {
  Notification.requestPermission().then(updateNotifyButton);
});

$('alerts-push').addEventListener('click', (event) => followByPush(event.currentTarget));

$('alerts-email-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const field = $('alerts-email-address');
  const address = field.value.trim();
  if (!address || !field.checkValidity()) {
    field.setAttribute('aria-invalid', 'true');
    sayAlerts(t('ticket_alerts_email_invalid'), 'error');
    field.focus();
    return;
  }
  field.removeAttribute('aria-invalid');
  const send = $('alerts-email-send');
  send.disabled = true;
  try {
    const item = await api('POST', `${path}/followers`, { channel: 'email', address, language: data.lang });
    if (offer) offer.items = [...(offer.items ?? []), item];
    event.target.reset();
    sayAlerts(format(t('ticket_alerts_email_done'), { address }));
    renderAlerts();
  } catch (error) {
    if (error.problem?.status === 422) field.setAttribute('aria-invalid', 'true');
    sayAlerts(problemText(error), 'error');
  } finally {
    send.disabled = false;
  }
});

// Telegram follows the ticket once the customer presses Start in the bot: back on the page, the list is re-read.
$('alerts-telegram').addEventListener('click', () => sayAlerts(t('ticket_alerts_telegram_next')));

$('called-ok').addEventListener('click', hideCalled);
$('called-overlay').addEventListener('keydown', (event) => {
  if (event.key === 'Escape') hideCalled();
});

$('ticket-stars').addEventListener('change', (event) => {
  $('ticket-stars').dataset.rating = event.target.value; // lights the stars up to the chosen one
});

$('complaint-open').addEventListener('click', () => toggleComplaintForm(true));
$('complaint-cancel').addEventListener('click', () => toggleComplaintForm(false));

$('complaint-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const field = $('complaint-text');
  const text = field.value.trim();
  if (!text) {
    showComplaintError(t('ticket_complaint_empty'));
    field.setAttribute('aria-invalid', 'true');
    field.focus();
    return;
  }
  field.removeAttribute('aria-invalid');
  const send = $('complaint-send');
  send.disabled = true;
  showComplaintError('');
  try {
    complaint = await api('POST', `${path}/complaint`, { text });
    event.target.reset();
    $('complaint-form').hidden = true;
    $('complaint-open').setAttribute('aria-expanded', 'false');
    renderComplaint();
    $('complaint-state-line').focus();
  } catch (error) {
    showComplaintError(problemText(error));
    // 409: one was sent already (another tab, an earlier visit) or the seven days are over: show what there is.
    if ((error.problem?.status ?? error.status) === 409) loadComplaint();
  } finally {
    send.disabled = false;
  }
});

$('rating-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const rating = Number(form.elements.rating.value);
  const comment = form.elements.comment.value.trim();
  const send = $('rating-send');
  send.disabled = true;
  showMessage('');
  try {
    await api('POST', `${path}/rating`, comment ? { rating, comment } : { rating });
    saved.rated = true;
  } catch (error) {
    // 409: already rated, from another tab or an earlier visit; thanking again is the right answer.
    if ((error.problem?.status ?? error.status) === 409) saved.rated = true;
    else showMessage(problemText(error));
  } finally {
    send.disabled = false;
  }
  save();
  render();
});

// Phones freeze background tabs: coming back, or back online, the numbers must be current at once.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  refetch();
  loadOffer();
});
window.addEventListener('online', () => {
  refetch();
  loadOffer();
});

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/t/' }).catch(() => {
    // Without it the page only loses its offline copy.
  });
}

// A page the service worker served from its cache carries old page data (or none): the copy on this phone is
// newer when it was saved after a later live event. Either way the status is re-read at once.
const savedIsNewer = saved.status && (data.status == null || (saved.liveId ?? -1) > (data.live_id ?? -1));
const initial = savedIsNewer ? saved.status : data.status;
if (initial) setStatus(initial, { fresh: false });
follow();
refetch();
