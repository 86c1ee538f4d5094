/**
 * athletes.js — the organization's athletes, for staff (`/sessions`).
 * One table read from `GET /api/v1/sessions/users`, the most recently active athlete first, a page at a time
 * ("Load more" follows the API's cursor). The search box narrows it to user ids starting with what is typed
 * (debounced; the answers to older searches are cancelled) and is kept in the address, so a reload or a shared
 * link shows the same list.
 */
import { api, format, pageData, problemText, t, toast } from '/assets/api.js';

const data = pageData();
const lang = data.lang || document.documentElement.lang || 'en';
/** The viewer's own variant of the page language (en-GB dates for a British browser), for numbers and dates. */
const locale = (navigator.languages ?? []).find((tag) => tag.toLowerCase().split('-')[0] === lang) ?? lang;

const SPORTS = ['run', 'ride', 'swim', 'walk', 'hike', 'row', 'strength', 'yoga', 'other'];
const PAGE_SIZE = 50;
const DEBOUNCE_MS = 300;
/** What a user id is made of (the API refuses anything else in `q`). */
const USER_ID_PART = /^[A-Za-z0-9_.:@-]*$/;

const $ = (id) => document.getElementById(id);
const form = $('athlete-search');
const input = $('athlete-q');
const rowsBody = $('athletes-rows');
const moreButton = $('athletes-more');
const section = $('athletes');

let controller = null; // cancels the answers of the previous search
let query = '';
let cursor = null;
let shown = 0;
let debounceTimer = 0;

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value != null) node.setAttribute(name, String(value));
  node.append(...children.filter((child) => child != null));
  return node;
}

// Numbers, durations, dates

const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const km = new Intl.NumberFormat(locale, { style: 'unit', unit: 'kilometer', maximumFractionDigits: 1 });
const meters = new Intl.NumberFormat(locale, { style: 'unit', unit: 'meter', maximumFractionDigits: 0 });
const day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
const dayThisYear = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' });
const clock = new Intl.DateTimeFormat(locale, { timeStyle: 'short' });
const full = new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' });
const plurals = new Intl.PluralRules(lang);

const distance = (m) => (m < 1000 ? meters.format(m) : km.format(m / 1000));
const sportName = (sport) => (SPORTS.includes(sport) ? t(`sessions_sport_${sport}`) : String(sport));
const counted = (base, n) => format(t(`${base}_${plurals.select(n) === 'one' ? 'one' : 'other'}`), { n: integer.format(n) });

function duration(seconds) {
  const total = Math.round(Math.max(0, seconds ?? 0));
  const hours = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  if (hours) return format(t('sessions_duration_hm'), { h: integer.format(hours), m: String(m).padStart(2, '0') });
  if (m) return format(t('sessions_duration_m'), { m });
  return format(t('sessions_duration_s'), { s: total });
}

// Rows

/** Ids this long may break anywhere; shorter ones stay on one line (not broken at their dashes). */
const LONG_ID = 16;

function athleteRow(athlete) {
  const id = String(athlete.user_id);
  const count = athlete.session_count ?? 0;
  const last = new Date(athlete.last_session_at);
  const sports = (athlete.sports ?? []).map(sportName).join(', ');
  const number = (text, extra = '') => h('td', { class: `num${extra}` }, text);
  const lastDay = (last.getFullYear() === new Date().getFullYear() ? dayThisYear : day).format(last);
  return h('tr', {},
    h('th', { scope: 'row' },
      h('a', { href: `/sessions/users/${encodeURIComponent(id)}`, class: id.length > LONG_ID ? 'long-id' : null }, id),
      // Under the id: the sports, and on narrow screens (where the sessions column is left out) the count.
      h('span', { class: 'athlete-meta' },
        h('span', { class: 'athlete-count' }, counted('sessions_count', count), ' · '),
        h('span', { class: 'visually-hidden' }, `${t('sessions_sports_prefix')} `), sports)),
    number(integer.format(count), ' col-count'),
    number(distance(athlete.distance_m ?? 0)),
    number(duration(athlete.duration_s)),
    // In the viewer's time zone, the year only when it is not this one; day and time on two lines on narrow screens.
    h('td', { class: 'last' }, h('time', { datetime: athlete.last_session_at, title: full.format(last) },
      h('span', { class: 'last-day' }, lastDay), ' ', h('span', { class: 'last-time' }, clock.format(last)))));
}

/** Shows a page of athletes (`null` after a failure: nothing, rather than rows for another search). */
function showAthletes(page, append) {
  const rows = (page?.items ?? []).map(athleteRow);
  if (append) rowsBody.append(...rows);
  else rowsBody.replaceChildren(...rows);
  shown = (append ? shown : 0) + rows.length;
  cursor = page?.next_cursor ?? null;
  moreButton.hidden = !cursor;
  const empty = $('athletes-empty');
  empty.hidden = !page || shown > 0;
  empty.textContent = query ? format(t('sessions_athletes_none_match'), { q: query }) : t('sessions_athletes_empty');
  $('athletes-count').textContent = page && shown ? counted('sessions_athletes_shown', shown) : '';
  // Keyboard and screen-reader users continue at the first new athlete, not back at the top.
  if (append) rows[0]?.querySelector('a')?.focus();
}

const showProblem = (text) => { $('athletes-problem').textContent = text; };

const listPath = (extra) => `/api/v1/sessions/users?${new URLSearchParams({ ...(query ? { q: query } : {}), limit: PAGE_SIZE, ...extra })}`;

async function load() {
  clearTimeout(debounceTimer);
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  query = input.value.trim();
  history.replaceState(null, '', query ? `${location.pathname}?${new URLSearchParams({ q: query })}` : location.pathname);

  const valid = USER_ID_PART.test(query);
  input.setAttribute('aria-invalid', String(!valid));
  if (!valid) {
    // No user id has these characters: say so rather than ask the server.
    section.setAttribute('aria-busy', 'false');
    showProblem(t('sessions_search_invalid'));
    showAthletes(null, false);
    return;
  }
  section.setAttribute('aria-busy', 'true');
  try {
    const page = await api('GET', listPath({}), undefined, { signal });
    if (signal.aborted) return;
    showProblem('');
    showAthletes(page, false);
  } catch (error) {
    if (signal.aborted) return; // a newer search is already loading
    showProblem(problemText(error));
    showAthletes(null, false);
  } finally {
    if (!signal.aborted) section.setAttribute('aria-busy', 'false');
  }
}

moreButton.addEventListener('click', async () => {
  if (!cursor || !controller) return;
  const { signal } = controller;
  moreButton.disabled = true;
  try {
    const page = await api('GET', listPath({ cursor }), undefined, { signal });
    if (!signal.aborted) showAthletes(page, true);
  } catch (error) {
    // Said next to the button the person just pressed, not in the alert at the top of the page.
    if (!signal.aborted) toast(problemText(error), 'error');
  } finally {
    moreButton.disabled = false;
  }
});

// Start

if (data.me?.username) $('me-name').textContent = data.me.username;
input.value = new URLSearchParams(location.search).get('q') ?? '';
input.addEventListener('input', () => {
  clearTimeout(debounceTimer);
  debounceTimer = setTimeout(load, DEBOUNCE_MS);
});
// Enter searches at once instead of reloading the page.
form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
load();
