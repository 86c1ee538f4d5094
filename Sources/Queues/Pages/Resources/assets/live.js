/**
 * live.js — keeps a page following live topics (`branch:1`, `queue:2`, `ticket:<token>`) of the Turno server.
 *
 *   const live = new LiveConnection({ topics: ['branch:1'], since: data.live_id, onMessage, onResync, dot, strings });
 *   live.start();   // … live.stop();  live.lastId
 *
 * Transports, best first: WebSocket `/live/ws`, Server-Sent Events `/live/sse`, long polling `/live/poll`.
 * A transport that fails twice in a row and has never opened on this page is given up for the next one
 * (proxies that refuse upgrades, or buffer streams, are the usual reason); going back online starts again
 * from WebSocket. Every reconnect resumes from the last message id
 * seen and then calls `onResync()`, because pushed-only messages (ticket positions) are never replayed and
 * pages must not show stale numbers. A `{"type":"resync"}` message calls `onResync()` too.
 *
 * The instances are listed on `window.turnoLive` (with `.transport` and `.state`) for tests and debugging.
 */
import { pageData } from './api.js';

const TRANSPORTS = ['ws', 'sse', 'poll'];
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** Without a single byte for this long a stream is dead even if the socket still looks open (sleep, NAT drop). */
const SILENCE_LIMIT_MS = 45_000;
/** A WebSocket or stream that has not opened by then is stuck behind something (a proxy holding the upgrade). */
const OPEN_TIMEOUT_MS = 10_000;
/** Long-poll wait asked of the server, and how much longer a poll may take before it counts as lost. */
const POLL_WAIT_S = 25;
const POLL_GRACE_MS = 15_000;
/** A connection that closes sooner than this after opening did not really work: keep backing off. */
const STABLE_MS = 5_000;
/** After this many failures in a row the dot says "offline" rather than "connecting". */
const OFFLINE_AFTER_FAILURES = 3;

/** Equal jitter: half the exponential step is fixed, half random, so clients restarted together spread out. */
function backoffDelay(attempt) {
  const step = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
  return Math.max(BACKOFF_MIN_MS, step / 2 + Math.random() * (step / 2));
}

function isHeartbeat(message) {
  return message.type === 'heartbeat' || message.type === 'ping';
}

export class LiveConnection {
  #topics;
  #onMessage;
  #onResync;
  #dot;
  #strings;
  #lastId;
  #startedWithPosition;

  #running = false;
  #transport = TRANSPORTS[0];
  #level = 0; // index into TRANSPORTS
  #failedBeforeOpen = 0; // consecutive failures of the current transport that never opened
  #attempt = 0; // backoff exponent
  #failures = 0; // consecutive failures, for the dot
  #everOpened = false;
  /** Transports that have opened on this page: a server restart must not push them aside. */
  #worked = new Set();
  #state = 'connecting';

  /** Each connection attempt gets a generation; callbacks from older ones are ignored. */
  #generation = 0;
  #close = null; // closes the current transport
  #opened = false;
  #openedAt = 0;
  #attemptAtOpen = 0;
  #lastActivity = 0;
  #watchSilence = false;
  #retryTimer = 0;
  #openTimer = 0;
  #silenceTimer = 0;

  #listeners = [];

  /**
   * @param {object} options
   * @param {string[]} options.topics topics to follow, e.g. ['branch:1', 'queue:2']
   * @param {number|null} [options.since] id of the newest message the page already reflects (page data `live_id`)
   * @param {(message: object) => void} [options.onMessage] every message except resyncs and heartbeats
   * @param {() => void} [options.onResync] reload the full state: after a reconnect or a `resync` message
   * @param {Element|null} [options.dot] the `.live-dot` to keep current; left out: the page's first `.live-dot`
   * @param {object} [options.strings] texts `live_connected`, `live_connecting`, `live_offline`; default: page data
   */
  constructor({ topics, since = null, onMessage = () => {}, onResync = () => {}, dot, strings } = {}) {
    if (!Array.isArray(topics) || topics.length === 0) throw new TypeError('LiveConnection needs at least one topic');
    this.#topics = topics.map(String);
    this.#lastId = Number.isFinite(since) && since >= 0 ? since : null;
    this.#startedWithPosition = this.#lastId !== null;
    this.#onMessage = onMessage;
    this.#onResync = onResync;
    this.#dot = dot === undefined ? document.querySelector('.live-dot') : dot;
    this.#strings = strings ?? pageData().strings ?? {};
    // Old browsers without WebSocket (or with it disabled by policy) start at SSE right away.
    if (typeof WebSocket !== 'function') this.#level = 1;
    this.#transport = TRANSPORTS[this.#level];
  }

  /** The id of the last message received: what a reconnect resumes from. */
  get lastId() { return this.#lastId; }
  /** 'ws' | 'sse' | 'poll' — the transport in use or being tried. */
  get transport() { return this.#transport; }
  /** 'live' | 'connecting' | 'offline' */
  get state() { return this.#state; }

  start() {
    if (this.#running) return this;
    this.#running = true;
    (window.turnoLive ??= []).push(this);
    this.#listen(window, 'online', () => this.#wentOnline());
    this.#listen(window, 'offline', () => this.#wentOffline());
    // Background tabs get their timers throttled: when the page is seen again, do not wait out a long backoff.
    this.#listen(document, 'visibilitychange', () => {
      if (document.visibilityState === 'visible' && !this.#opened && this.#retryTimer) this.#connectNow();
    });
    // Back from the back/forward cache: the old connection is gone, the page content is old.
    this.#listen(window, 'pageshow', (event) => { if (event.persisted) this.#connectNow(); });
    if (navigator.onLine === false) {
      this.#setState('offline');
      this.#scheduleRetry(); // navigator.onLine can be wrong: keep trying, with backoff
    } else {
      this.#connect();
    }
    return this;
  }

  stop() {
    if (!this.#running) return;
    this.#running = false;
    this.#generation++;
    this.#teardown();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = 0;
    for (const [target, type, handler] of this.#listeners) target.removeEventListener(type, handler);
    this.#listeners = [];
    const list = window.turnoLive ?? [];
    const index = list.indexOf(this);
    if (index >= 0) list.splice(index, 1);
    this.#state = 'offline';
  }

  // MARK: connection lifecycle

  #listen(target, type, handler) {
    target.addEventListener(type, handler);
    this.#listeners.push([target, type, handler]);
  }

  #wentOnline() {
    if (!this.#running) return;
    // Failures while offline said nothing about the transports: start again from the best one.
    this.#level = typeof WebSocket === 'function' ? 0 : 1;
    this.#failedBeforeOpen = 0;
    this.#attempt = 0;
    this.#connectNow();
  }

  #wentOffline() {
    if (!this.#running) return;
    this.#generation++;
    this.#teardown();
    this.#setState('offline');
    this.#scheduleRetry();
  }

  /** Drops whatever is going on (a wait or a half-open connection) and connects now. */
  #connectNow() {
    if (!this.#running) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = 0;
    this.#connect();
  }

  #connect() {
    this.#generation++;
    this.#teardown();
    const generation = this.#generation;
    const current = (fn) => (...args) => { if (generation === this.#generation) fn(...args); };
    this.#transport = TRANSPORTS[this.#level];
    this.#opened = false;
    this.#watchSilence = false;
    this.#lastActivity = Date.now();
    this.#setState(this.#failures >= OFFLINE_AFTER_FAILURES || navigator.onLine === false ? 'offline' : 'connecting');

    let done = false;
    const events = {
      open: current(() => this.#handleOpen()),
      activity: current(() => { this.#lastActivity = Date.now(); }),
      message: current((message) => this.#handleMessage(message)),
      // Several things can notice the end of one connection (error, close, watchdog): act once.
      fail: current((reason) => { if (!done) { done = true; this.#handleFailure(reason); } }),
    };
    try {
      if (this.#transport === 'ws') this.#close = this.#openWebSocket(events);
      else if (this.#transport === 'sse') this.#close = this.#openEventStream(events);
      else this.#close = this.#openPolling(events);
    } catch (error) {
      queueMicrotask(() => events.fail(error));
      return;
    }
    if (this.#transport !== 'poll') {
      // Long polls legitimately take POLL_WAIT_S to answer; they have their own limit.
      this.#openTimer = setTimeout(() => { if (!this.#opened) events.fail(new Error('open timed out')); }, OPEN_TIMEOUT_MS);
    }
    this.#silenceTimer = setInterval(() => {
      if (this.#watchSilence && Date.now() - this.#lastActivity > SILENCE_LIMIT_MS) events.fail(new Error('silent for too long'));
    }, 5_000);
  }

  #teardown() {
    clearTimeout(this.#openTimer);
    clearInterval(this.#silenceTimer);
    this.#openTimer = 0;
    this.#silenceTimer = 0;
    const close = this.#close;
    this.#close = null;
    if (close) {
      try { close(); } catch { /* already closed */ }
    }
  }

  #handleOpen() {
    if (this.#opened) return;
    this.#opened = true;
    this.#openedAt = Date.now();
    this.#lastActivity = this.#openedAt;
    this.#attemptAtOpen = this.#attempt;
    this.#attempt = 0;
    this.#failures = 0;
    this.#failedBeforeOpen = 0;
    this.#worked.add(this.#transport);
    clearTimeout(this.#openTimer);
    // SSE always carries heartbeat comments; WebSocket pings are invisible to scripts (see #openWebSocket).
    this.#watchSilence = this.#transport === 'sse';
    this.#setState('live');
    // The first connection needs no reload: the page was rendered at `since` and the server replays from there.
    // Without a position, events between rendering and a late first connection are lost: reload then too.
    const reconnect = this.#everOpened || (!this.#startedWithPosition && this.#attemptAtOpen > 0);
    this.#everOpened = true;
    if (reconnect) this.#call(this.#onResync);
  }

  #handleFailure(reason) {
    if (!this.#running) return;
    const wasOpen = this.#opened;
    this.#opened = false;
    this.#generation++; // nothing more from this connection
    this.#teardown();
    if (!wasOpen) {
      // Only failures that say something about the transport count: not while the network is gone, and not
      // for a transport that has worked here before (then it is the server that is away, e.g. restarting).
      const telling = navigator.onLine !== false && !this.#worked.has(this.#transport);
      if (telling && ++this.#failedBeforeOpen >= 2 && this.#level < TRANSPORTS.length - 1) {
        this.#level++;
        this.#failedBeforeOpen = 0;
      }
    } else if (Date.now() - this.#openedAt < STABLE_MS) {
      // Opened and closed at once (server refusing us, restarting): back off as if it had not opened.
      this.#attempt = this.#attemptAtOpen + 1;
    }
    this.#failures++;
    if (reason) console.debug('turno live:', this.#transport, 'lost:', reason?.message ?? reason);
    this.#setState(this.#failures >= OFFLINE_AFTER_FAILURES || navigator.onLine === false ? 'offline' : 'connecting');
    this.#scheduleRetry();
  }

  #scheduleRetry() {
    clearTimeout(this.#retryTimer);
    const delay = backoffDelay(this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 10);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = 0;
      if (this.#running) this.#connect();
    }, delay);
  }

  #handleMessage(message) {
    this.#lastActivity = Date.now();
    if (!message || typeof message !== 'object') return;
    if (isHeartbeat(message)) {
      // An application-level heartbeat on a WebSocket makes silence meaningful there too.
      this.#watchSilence = true;
      return;
    }
    if (message.type === 'resync') {
      // Taken as is, even when lower: a restarted server counts from its own latest id, and resuming
      // from a higher one would only get another resync.
      if (Number.isFinite(message.id)) this.#lastId = message.id;
      this.#call(this.#onResync);
      return;
    }
    // No de-duplication by id: position messages reuse the id of the event that moved the queue.
    if (Number.isFinite(message.id)) this.#lastId = this.#lastId === null ? message.id : Math.max(this.#lastId, message.id);
    this.#call(this.#onMessage, message);
  }

  /** Page handlers must not break the connection: their errors are reported, not thrown here. */
  #call(fn, ...args) {
    try {
      fn?.(...args);
    } catch (error) {
      console.error('turno live: page handler failed', error);
    }
  }

  #setState(state) {
    this.#state = state;
    const dot = this.#dot;
    if (!dot) return;
    const key = { live: 'live_connected', connecting: 'live_connecting', offline: 'live_offline' }[state];
    const text = this.#strings[key] ?? key;
    if (dot.getAttribute('data-state') !== state) dot.setAttribute('data-state', state);
    if (dot.getAttribute('title') !== text) {
      dot.setAttribute('title', text);
      dot.setAttribute('aria-label', text);
    }
  }

  #url(path, extra = {}) {
    const url = new URL(path, location.href);
    url.searchParams.set('topics', this.#topics.join(','));
    if (this.#lastId !== null) url.searchParams.set('since', String(this.#lastId));
    for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, String(value));
    return url;
  }

  // MARK: transports — each returns a function that closes it without reporting a failure

  #openWebSocket(events) {
    const url = this.#url('/live/ws');
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    // The server's pings are answered by the browser and never reach scripts, so silence on a quiet branch
    // is normal here: the silence watchdog only runs once the server sends heartbeat messages.
    socket.onopen = () => events.open();
    socket.onmessage = (event) => {
      events.activity();
      if (typeof event.data !== 'string') return;
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      events.message(message);
    };
    socket.onerror = () => {}; // a close event follows, with more to say
    socket.onclose = (event) => events.fail(new Error(`closed ${event.code} ${event.reason}`));
    return () => {
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      socket.close(1000);
    };
  }

  /**
   * SSE read with fetch rather than EventSource: EventSource hides the heartbeat comments (so silence could
   * not be told from a dead connection) and reconnects on its own, which would fight the backoff here.
   */
  #openEventStream(events) {
    const controller = new AbortController();
    const run = async () => {
      const response = await fetch(this.#url('/live/sse'), {
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { Accept: 'text/event-stream' },
        signal: controller.signal,
      });
      const type = response.headers.get('Content-Type') ?? '';
      if (!response.ok || !response.body || !type.startsWith('text/event-stream')) {
        throw new Error(`SSE answered ${response.status} ${type}`);
      }
      events.open();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let data = [];
      let name = '';
      let id = null;
      const dispatch = () => {
        if (data.length > 0) {
          const text = data.join('\n');
          if (name === '' || name === 'message') {
            let message = null;
            try { message = JSON.parse(text); } catch { /* not ours */ }
            if (message && typeof message === 'object') {
              if (!Number.isFinite(message.id) && id !== null && /^\d+$/.test(id)) message.id = Number(id);
              events.message(message);
            }
          } else if (name === 'close') {
            // The server ends the stream right after this (shutting down, or we were too slow).
            console.debug('turno live: server closed the stream:', text);
          }
        }
        data = [];
        name = '';
      };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        events.activity();
        buffer += value;
        // Lines end in \n, \r\n or \r; a \r at the very end may be half of a \r\n still on its way.
        const lines = buffer.split(/\r\n|\r(?!$)|\n/);
        buffer = lines.pop();
        for (const line of lines) {
          if (line === '') { dispatch(); continue; }
          if (line.startsWith(':')) continue; // comment: a heartbeat, activity already noted
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') data.push(value);
          else if (field === 'event') name = value;
          else if (field === 'id') id = value;
          // `retry:` is for EventSource's own reconnects; the backoff here decides.
        }
      }
      throw new Error('stream ended');
    };
    run().catch((error) => { if (!controller.signal.aborted) events.fail(error); });
    return () => controller.abort();
  }

  #openPolling(events) {
    const controller = new AbortController();
    const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const run = async () => {
      for (;;) {
        const began = Date.now();
        const response = await fetch(this.#url('/live/poll', { wait: POLL_WAIT_S }), {
          credentials: 'same-origin',
          cache: 'no-store',
          headers: { Accept: 'application/json' },
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(POLL_WAIT_S * 1000 + POLL_GRACE_MS)]),
        });
        // Any non-2xx (rate limited, proxy error, server restarting) goes through the backoff.
        if (!response.ok) throw new Error(`poll answered ${response.status}`);
        const body = await response.json();
        if (controller.signal.aborted) return;
        events.open();
        events.activity();
        const messages = Array.isArray(body?.messages) ? body.messages : [];
        for (const message of messages) events.message(message);
        // The server's position is the truth (it may have restarted and count from lower).
        if (Number.isFinite(body?.last_id)) this.#lastId = body.last_id;
        if (messages.length === 0 && Date.now() - began < 1_000) {
          // An immediate empty answer (the first poll without a position) must not turn into a busy loop.
          await pause(1_000);
        }
        if (controller.signal.aborted) return;
      }
    };
    run().catch((error) => { if (!controller.signal.aborted) events.fail(error); });
    return () => controller.abort();
  }
}
