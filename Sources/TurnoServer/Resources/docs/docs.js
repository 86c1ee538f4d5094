/**
 * docs.js — "Try it" on the API documentation page (/docs): each operation's form sends its request to this server
 * with fetch and shows the answer's status, the headers that matter and the body, pretty-printed when it is JSON.
 * The page's CSP allows only same-origin scripts, so everything is wired here (no inline script or handler); the
 * forms are hidden in the HTML and shown by this script, so a page without it shows no form that cannot work.
 *
 * Credentials: a bearer token typed at the top of the page (kept in sessionStorage, so it is forgotten when the tab
 * closes) is sent as `Authorization: Bearer`, and the cookie is left out so the answer is the token's alone. Without
 * a token the page's sign-in session cookie is sent (credentials: 'same-origin'). The server refuses a cookie's change
 * (anything but GET) without the session's CSRF token in X-CSRF-Token, which api.js reads from the page's csrf-token
 * meta tag; this page is rendered once at startup and has no such tag, so the token is read from GET /api/v1/me
 * (its csrf_token) before the first change, and then sent the same way.
 */

const TOKEN_KEY = 'turno.docs.bearer';
/** A request that has not answered by then will not: the form says so instead of waiting forever. */
const REQUEST_TIMEOUT_MS = 20_000;
/** An event stream never ends: what arrives in its first seconds is shown, then it is closed. */
const STREAM_PREVIEW_MS = 5_000;
/** The answer's headers worth showing; the others are in the browser's network panel. */
const SHOWN_HEADERS = ['content-type', 'location', 'retry-after', 'www-authenticate'];

const tokenInput = document.getElementById('docs-token');

/** The stored bearer token, '' without one (or when the browser keeps no session storage). */
function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return tokenInput?.value.trim() ?? '';
  }
}

function storeToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage is off (a private window's setting): the token then lives in the field only, which storedToken reads.
  }
}

let sessionCSRFToken = '';

/** The sign-in session's CSRF token, '' when the page has no session (the request then goes without it). */
async function csrfToken() {
  if (sessionCSRFToken) return sessionCSRFToken;
  try {
    const response = await fetch('/api/v1/me', { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    if (response.ok) sessionCSRFToken = (await response.json()).csrf_token ?? '';
  } catch {
    // No answer: the request itself will show what is wrong.
  }
  return sessionCSRFToken;
}

/** The request a form describes: its URL with path and query parameters filled in, and its headers. */
function requestOf(form) {
  let path = form.dataset.path;
  const query = [];
  const headers = { Accept: 'application/json, application/problem+json, */*' };
  for (const field of form.querySelectorAll('[data-in]')) {
    const value = field.value.trim();
    if (!value) continue;
    const name = field.dataset.name;
    if (field.dataset.in === 'path') {
      path = path.replace(`{${name}}`, encodeURIComponent(value));
    } else if (field.dataset.in === 'query') {
      // Commas stay as they are: list parameters (state=pending,assigned) are comma-separated.
      query.push(`${encodeURIComponent(name)}=${encodeURIComponent(value).replace(/%2C/gi, ',')}`);
    } else {
      headers[name] = value;
    }
  }
  return { url: query.length ? `${path}?${query.join('&')}` : path, headers };
}

/** Reads an event stream for a few seconds, then closes it. */
async function readBriefly(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const stop = setTimeout(() => reader.cancel(), STREAM_PREVIEW_MS);
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(stop);
  }
  return `${text}\n(the stream was closed after ${STREAM_PREVIEW_MS / 1000} seconds)`;
}

function prettyBody(text, type) {
  if (!text) return '(no body)';
  if (!/json/i.test(type)) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Shows an answer under the form; built with textContent, so nothing the server sends is read as HTML. */
function showAnswer(section, response, text, elapsed) {
  const status = section.querySelector('.try-status');
  const answer = section.querySelector('.try-answer');
  status.textContent = `Answer: ${response.status} ${response.statusText} (${elapsed} ms)`;
  status.dataset.kind = response.ok ? 'ok' : 'error';
  answer.replaceChildren();

  const headers = document.createElement('dl');
  headers.className = 'try-headers';
  for (const name of SHOWN_HEADERS) {
    const value = response.headers.get(name);
    if (value === null) continue;
    const term = document.createElement('dt');
    term.textContent = name;
    const definition = document.createElement('dd');
    definition.textContent = value;
    headers.append(term, definition);
  }
  if (headers.childElementCount) answer.append(headers);

  const type = response.headers.get('content-type') ?? '';
  const pre = document.createElement('pre');
  pre.tabIndex = 0;
  const code = document.createElement('code');
  code.textContent = prettyBody(text, type);
  pre.append(code);
  answer.append(pre);

  // A sign-in's access token can be used for the next requests at once.
  let accessToken;
  try {
    accessToken = /json/i.test(type) ? JSON.parse(text)?.access_token : undefined;
  } catch {
    accessToken = undefined;
  }
  if (typeof accessToken === 'string' && tokenInput) {
    const use = document.createElement('button');
    use.type = 'button';
    use.className = 'button';
    use.textContent = 'Use this access token for “Try it”';
    use.addEventListener('click', () => {
      tokenInput.value = accessToken;
      storeToken(accessToken);
      use.textContent = 'Access token in use';
      use.disabled = true;
    });
    answer.append(use);
  }
  answer.hidden = false;
}

function showFailure(section, message) {
  const status = section.querySelector('.try-status');
  status.textContent = message;
  status.dataset.kind = 'error';
  section.querySelector('.try-answer').hidden = true;
}

async function send(section, form) {
  const { url, headers } = requestOf(form);
  const method = form.dataset.method;
  const bodyField = form.querySelector('[data-body]');
  const init = { method, headers, cache: 'no-store' };
  if (bodyField && bodyField.value.trim()) {
    const contentType = bodyField.dataset.contentType || 'application/json';
    if (/json/i.test(contentType)) {
      try {
        JSON.parse(bodyField.value);
        bodyField.removeAttribute('aria-invalid');
      } catch (error) {
        bodyField.setAttribute('aria-invalid', 'true');
        bodyField.focus();
        showFailure(section, `The body is not valid JSON: ${error.message}`);
        return;
      }
    }
    headers['Content-Type'] = contentType;
    init.body = bodyField.value;
  }
  const token = storedToken();
  if (token) {
    headers.Authorization = `Bearer ${token}`;
    init.credentials = 'omit';
  } else {
    init.credentials = 'same-origin';
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) {
      const csrf = await csrfToken();
      if (csrf) headers['X-CSRF-Token'] = csrf;
    }
  }

  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  section.querySelector('.try-status').textContent = 'Sending…';
  const started = performance.now();
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  init.signal = controller.signal;
  try {
    const response = await fetch(url, init);
    const type = response.headers.get('content-type') ?? '';
    const text = type.startsWith('text/event-stream') ? await readBriefly(response) : await response.text();
    showAnswer(section, response, text, Math.round(performance.now() - started));
  } catch (error) {
    showFailure(section, controller.signal.aborted
      ? `No answer within ${REQUEST_TIMEOUT_MS / 1000} seconds.`
      : `The request failed: ${error.message}`);
  } finally {
    clearTimeout(timeout);
    button.disabled = false;
  }
}

/** Opens the operation or schema a link points to (and the sections around it), so the link shows something. */
function openLinkTarget() {
  const id = decodeURIComponent(location.hash.slice(1));
  const element = id ? document.getElementById(id) : null;
  if (!element) return;
  for (let details = element.closest('details'); details; details = details.parentElement?.closest('details')) {
    details.open = true;
  }
  element.scrollIntoView();
}

if (tokenInput) {
  tokenInput.value = storedToken();
  tokenInput.addEventListener('input', () => storeToken(tokenInput.value.trim()));
}
for (const section of document.querySelectorAll('[data-try-it]')) section.hidden = false;
for (const form of document.querySelectorAll('form.try-form')) {
  const section = form.closest('.try-it');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send(section, form);
  });
}
window.addEventListener('hashchange', openLinkTarget);
openLinkTarget();
