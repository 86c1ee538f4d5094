/**
 * Display: the branch's public screen. Renders the snapshot (counters, last calls, waiting counts), applies a
 * call the moment its event arrives (tile, last calls, flash, announcement) and re-reads the snapshot shortly
 * after every change, so counts are always the server's. Announcements go through a FIFO, one at a time:
 * a two-tone chime, then speech, never overlapping.
 */
import { LiveConnection } from './live.js';
import { api, format, pageData, t } from './api.js';

const data = pageData();
const $ = (id) => document.getElementById(id);
const MAX_CALLS = 8;
const LOG_LIMIT = 50; // a display runs for days: the log and the done list must not grow forever
const SPEECH_TIMEOUT_MS = 8000; // a missing voice or a stuck engine must not block the queue
const STALE_MS = 60_000; // older announcements (a backlog, a replay after reconnecting) are only logged
const FLASH_MS = 6000;
const NONE = '—';

let branch = data.branch;
let calls = branch.last_calls.slice(0, MAX_CALLS);
let appliedId = data.live_id ?? 0; // the newest call event already on screen
let refreshTimer = 0;
let refreshing = false;
let refreshAgain = false;
const flashTimers = new Map();

const pending = []; // [{ text, at }]
const spoken = [];
let announcing = false;
let soundOn = false;
const audio = 'AudioContext' in window ? new AudioContext() : null;
// The announcements are in the page's language: the branch's own tag when it names a region of it (en-US), else a default voice.
const speechLang = branch.language?.split('-')[0] === data.lang && branch.language.includes('-')
  ? branch.language
  : (data.lang === 'it' ? 'it-IT' : 'en-GB');

// For tests and for whoever debugs a silent display from the console.
window.turnoDisplay = {
  get queue() { return pending.map((item) => item.text); },
  spoken,
};

function span(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

const counterLabel = (counter) => format(t('display_counter'), { counter });

function clockFormat(timeZone) {
  const options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  try {
    return new Intl.DateTimeFormat(data.lang, { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat(data.lang, options); // an unknown zone name throws
  }
}

const clockText = clockFormat(branch.time_zone);
function tickClock() {
  const text = clockText.format(new Date());
  if ($('clock').textContent !== text) $('clock').textContent = text;
}

/** Updates the tiles in place: rebuilding them would cut a running flash short. */
function renderCounters() {
  const list = $('counters');
  const tiles = branch.queues.filter((queue) => queue.state !== 'closed').map((queue) => {
    let tile = list.querySelector(`[data-queue-id="${queue.id}"]`);
    if (!tile) {
      tile = document.createElement('li');
      tile.className = 'display-counter';
      tile.dataset.queueId = queue.id;
      tile.append(span('display-counter-label', ''), span('display-counter-name', ''), span('now-serving', ''));
    }
    tile.dataset.state = queue.state;
    tile.querySelector('.display-counter-label').textContent = counterLabel(queue.counter);
    // The counter's own name ("Parcels desk") under its number, unless it only repeats it.
    tile.querySelector('.display-counter-name').textContent = queue.name === queue.counter ? '' : queue.name;
    tile.querySelector('.now-serving').textContent = queue.now_serving ?? NONE;
    tile.classList.toggle('idle', queue.now_serving == null);
    return tile;
  });
  if (tiles.length !== list.children.length || tiles.some((tile, index) => list.children[index] !== tile)) {
    list.replaceChildren(...tiles);
  }
  // The stylesheet sizes the type by how many tiles share the screen.
  list.dataset.count = tiles.length <= 3 ? tiles.length : tiles.length <= 4 ? 4 : tiles.length <= 6 ? 6 : tiles.length <= 9 ? 9 : 'many';
  $('display-empty').hidden = tiles.length > 0;
}

function renderCalls() {
  $('last-calls').replaceChildren(...calls.map((call) => {
    const item = document.createElement('li');
    item.append(span('display-call-number', call.number), span('display-call-counter', call.counter == null ? '' : counterLabel(call.counter)));
    return item;
  }));
}

function renderWaiting() {
  $('waiting').replaceChildren(...branch.services.map((service) => {
    const item = document.createElement('li');
    item.append(span('display-waiting-name', service.name), span('display-waiting-count', service.waiting));
    return item;
  }));
}

function renderSnapshot() {
  $('display-branch').textContent = branch.name;
  renderCounters();
  renderCalls();
  renderWaiting();
}

function flash(tile) {
  clearTimeout(flashTimers.get(tile));
  tile.classList.remove('flash');
  void tile.offsetWidth; // restarts the animation when the counter calls again while still flashing
  tile.classList.add('flash');
  // A timer, not animationend: with reduced motion there is no animation, only a steady highlight.
  flashTimers.set(tile, setTimeout(() => tile.classList.remove('flash'), FLASH_MS));
}

/** A call (or recall) from a live event: on screen at once, announced, and confirmed by the next snapshot. */
function showCall(ticket, isRecall) {
  const tile = $('counters').querySelector(`[data-queue-id="${ticket.queue_id}"]`);
  if (tile) {
    tile.querySelector('.now-serving').textContent = ticket.number;
    tile.classList.remove('idle');
    flash(tile);
  }
  if (!isRecall) {
    calls = [{ number: ticket.number, counter: ticket.counter }, ...calls.filter((call) => call.number !== ticket.number)].slice(0, MAX_CALLS);
    renderCalls();
  }
  enqueue(ticket.counter == null
    ? format(t('display_announce_no_counter'), { spoken: ticket.spoken })
    : format(t('display_announce'), { spoken: ticket.spoken, counter: ticket.counter }));
}

function enqueue(text) {
  const log = $('announcements');
  const item = document.createElement('li');
  item.textContent = text;
  log.append(item);
  while (log.children.length > LOG_LIMIT) log.firstElementChild.remove();
  pending.push({ text, at: Date.now() });
  announce();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Works through the queue one announcement at a time; waits (keeping the queue) while sound is locked. */
async function announce() {
  if (announcing) return;
  announcing = true;
  while (pending.length && soundOn) {
    const { text, at } = pending[0];
    if (Date.now() - at < STALE_MS) {
      await chime();
      await speak(text);
      await sleep(400); // a breath between two calls
    }
    pending.shift();
    spoken.push(text);
    if (spoken.length > LOG_LIMIT) spoken.shift();
  }
  announcing = false;
}

/** Two short sine tones, scheduled on the audio clock; resolves when they are over. */
function chime() {
  if (!audio) return Promise.resolve();
  const start = audio.currentTime + 0.05;
  for (const [frequency, offset] of [[880, 0], [660, 0.35]]) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = 'sine';
    oscillator.frequency.value = frequency;
    // Ramped in and out: a tone that starts or stops at full volume clicks.
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.35, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.3);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + 0.32);
  }
  return sleep(800);
}

function voiceFor(lang) {
  const voices = speechSynthesis.getVoices();
  return voices.find((voice) => voice.lang.replace('_', '-') === lang)
    ?? voices.find((voice) => voice.lang.startsWith(lang.slice(0, 2)));
}

function speak(text) {
  if (!('speechSynthesis' in window)) return Promise.resolve();
  return new Promise((resolve) => {
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = speechLang;
    const voice = voiceFor(speechLang);
    if (voice) utterance.voice = voice;
    utterance.rate = 0.9;
    const timer = setTimeout(() => {
      speechSynthesis.cancel(); // so a late utterance cannot overlap the next one
      resolve();
    }, SPEECH_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    utterance.addEventListener('end', done);
    utterance.addEventListener('error', done);
    speechSynthesis.speak(utterance);
  });
}

function setSound(on) {
  soundOn = on;
  $('sound-enable').hidden = on;
  if (on) announce();
}

$('sound-enable').addEventListener('click', () => {
  audio?.resume().catch(() => {}); // without an output device this fails; speech may still work
  // Safari unlocks speech only from a gesture: an empty utterance spoken now opens it for later ones.
  if ('speechSynthesis' in window) speechSynthesis.speak(new SpeechSynthesisUtterance(''));
  setSound(true);
});

function refreshSoon(delay = 300) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, delay);
}

async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  try {
    let attempts = 0;
    do {
      refreshAgain = false;
      const snapshot = await api('GET', `/api/v1/branches/${branch.public_id}/snapshot`);
      attempts += 1;
      // Taken before a call already on screen, it would put the previous number back: ask again (a few times).
      if (snapshot.live_id < appliedId && attempts < 3) {
        refreshAgain = true;
        await sleep(300);
        continue;
      }
      branch = snapshot;
      appliedId = snapshot.live_id;
      calls = snapshot.last_calls.slice(0, MAX_CALLS);
      renderSnapshot();
    } while (refreshAgain);
  } catch {
    // Keep what is on screen: the next event or reconnect refreshes again.
  } finally {
    refreshing = false;
  }
}

function onMessage(message) {
  if (message.type === 'ticket.called' || message.type === 'ticket.recalled') {
    appliedId = Math.max(appliedId, message.id);
    showCall(message.data, message.type === 'ticket.recalled');
  }
  // Any ticket or counter change moves counts or tiles; the snapshot has them all.
  if (message.type.startsWith('ticket.') || message.type.startsWith('queue.')) refreshSoon();
}

renderSnapshot();
tickClock();
setInterval(tickClock, 1000);
// Kiosk browsers started with autoplay allowed need no click; elsewhere the context starts suspended.
setSound(audio?.state === 'running');
audio?.addEventListener('statechange', () => {
  if (audio.state === 'running') setSound(true);
});

new LiveConnection({
  topics: [`branch:${branch.public_id}`],
  since: data.live_id,
  onMessage,
  onResync: () => refreshSoon(0),
  dot: document.querySelector('.live-dot'),
  strings: data.strings,
}).start();
