/**
 * api.js — what every Turno page script shares: calling the JSON API, reading the page data and its strings,
 * filling `{placeholders}`, turning errors into sentences for people, and short toast messages.
 *
 *   import { api, problemText, t, format, pageData, toast } from './api.js';
 *   try { const ticket = await api('POST', `/api/v1/branches/${id}/tickets`, { service: 3 }, { idempotencyKey }); }
 *   catch (error) { toast(problemText(error), 'error'); }
 */

/** A request that has not answered by then will not: the page says so instead of waiting forever. */
const REQUEST_TIMEOUT_MS = 20_000;
const TOAST_MS = { ok: 4_000, error: 7_000 };

let cachedPageData;

/** The page data the server rendered into `<script type="application/json" id="page-data">`, parsed once. */
export function pageData() {
  if (cachedPageData === undefined) {
    const element = document.getElementById('page-data');
    try {
      cachedPageData = (element && JSON.parse(element.textContent || '{}')) || {};
    } catch (error) {
      console.error('turno: the page data is not JSON', error);
      cachedPageData = {};
    }
  }
  return cachedPageData;
}

const reportedMissing = new Set();

/** The text for `key` in the page's language; the key itself (and a console warning) when there is none. */
export function t(key) {
  const text = pageData().strings?.[key];
  if (typeof text === 'string') return text;
  if (!reportedMissing.has(key)) {
    reportedMissing.add(key);
    console.warn(`turno: no string for "${key}"`);
  }
  return key;
}

/**
 * Replaces `{name}` in `str` with `values.name`. Placeholders without a value stay visible, so a missing
 * value shows up in testing instead of reading as an empty gap.
 */
export function format(str, values = {}) {
  return String(str ?? '').replace(/\{(\w+)\}/g, (whole, name) => {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    return value === undefined || value === null ? whole : String(value);
  });
}

/** Every error thrown by `api()` carries `.status` and `.problem` (`{title, status, detail}`). */
function apiError(problem, cause) {
  const error = new Error(problem.detail || problem.title || `HTTP ${problem.status}`, cause ? { cause } : undefined);
  error.name = 'ApiError';
  error.status = problem.status;
  error.problem = problem;
  return error;
}

/**
 * Calls the Turno API and returns the parsed JSON answer (null when there is none, e.g. 204).
 * Sends the session cookie and, when the page has `<meta name="csrf-token">`, the `X-CSRF-Token` header.
 * On a non-2xx answer, a network failure or a timeout throws an Error with `.status` (0 without an answer)
 * and `.problem`, the application/problem+json body; its message is the problem's detail.
 *
 * @param {string} method 'GET', 'POST', 'PATCH', 'DELETE'…
 * @param {string} path e.g. '/api/v1/tickets/abc'
 * @param {unknown} [body] sent as JSON when given
 * @param {{idempotencyKey?: string, signal?: AbortSignal}} [options] the key makes retried POSTs safe
 */
export async function api(method, path, body, { idempotencyKey, signal } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const init = { method: method.toUpperCase(), headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined && body !== null) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content');
  if (csrf) headers['X-CSRF-Token'] = csrf;
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  init.signal = signal ? AbortSignal.any([signal, timeout]) : timeout;

  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    // The caller's own abort is theirs to handle; everything else becomes a problem like the server's.
    if (signal?.aborted) throw error;
    const timedOut = timeout.aborted;
    throw apiError({ title: timedOut ? 'Timeout' : 'Network error', status: 0, detail: '', timeout: timedOut }, error);
  }

  const type = response.headers.get('Content-Type') ?? '';
  const text = response.status === 204 || response.status === 205 ? '' : await response.text().catch(() => '');
  let parsed = null;
  if (text && /json/i.test(type)) {
    try { parsed = JSON.parse(text); } catch { parsed = null; }
  }
  if (!response.ok) {
    const problem = parsed && typeof parsed === 'object' ? { ...parsed } : {};
    problem.status = Number.isFinite(problem.status) ? problem.status : response.status;
    problem.title ??= response.statusText || `HTTP ${response.status}`;
    problem.detail ??= '';
    throw apiError(problem);
  }
  if (!text) return null;
  return parsed ?? text;
}

/**
 * A sentence for people about an error from `api()` (or anything thrown). The server's detail is shown
 * when it explains the case (404, 409…); failures without a useful detail get the page's own words.
 */
export function problemText(err) {
  const problem = err?.problem;
  if (problem) {
    const status = problem.status;
    if (status === 0) return t(problem.timeout ? 'api_timeout' : 'api_network_error');
    if (status === 401) return t('api_sign_in_again');
    if (status === 429) return problem.detail || t('api_rate_limited');
    if (status >= 500) return t('api_server_error');
    return problem.detail || problem.title || format(t('api_error_status'), { status });
  }
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') return t('api_timeout');
  if (err instanceof TypeError) return t('api_network_error');
  return err?.message || t('api_error_generic');
}

let toastTimer = 0;

/** The toast region, made on first use; it stays in the page so screen readers keep following it. */
function toastElement() {
  let element = document.getElementById('toast');
  if (!element) {
    element = document.createElement('div');
    element.id = 'toast';
    element.setAttribute('role', 'status');
    element.setAttribute('aria-live', 'polite');
    element.setAttribute('aria-atomic', 'true');
    element.addEventListener('click', () => hideToast(element));
    document.body.append(element);
  }
  return element;
}

function hideToast(element) {
  clearTimeout(toastTimer);
  element.classList.remove('is-visible');
  // Cleared after the fade, so the old message is not read again later.
  toastTimer = setTimeout(() => { element.textContent = ''; }, 300);
}

/**
 * Shows `message` for a few seconds at the bottom of the screen and has screen readers read it.
 * @param {string} message
 * @param {'ok'|'error'} [kind]
 */
export function toast(message, kind = 'ok') {
  const element = toastElement();
  clearTimeout(toastTimer);
  element.textContent = '';
  element.dataset.kind = kind === 'error' ? 'error' : 'ok';
  // Set after a moment: a live region that was just created, or whose text does not change, is not announced.
  toastTimer = setTimeout(() => {
    element.textContent = String(message ?? '');
    element.classList.add('is-visible');
    toastTimer = setTimeout(() => hideToast(element), TOAST_MS[element.dataset.kind]);
  }, 50);
}
