/**
 * sw.js — service worker of the customer's ticket page, served at `/sw.js` and registered by ticket.js with
 * scope `/t/`. It keeps the ticket readable when the phone loses its signal in the waiting room:
 *
 * - the shared assets are precached at install;
 * - ticket pages (`/t/…` navigations), ticket status (`GET /api/v1/tickets/…`) and the ticket's QR code are
 *   network-first: the last good answer is kept and served when offline (API answers then carry the header
 *   `X-Turno-Offline: 1`, so the page can say the figures may be old);
 * - `/assets/` is cache-first when the URL is versioned (`?v=…`, the layout's links) and network-first when
 *   not (modules imported as `./live.js` carry no version, and must not stay old after an update);
 * - `/live/` (streams and long polls) and everything that is not a same-origin GET are left to the network.
 *
 * It also shows the server's push alerts (`push`, a JSON payload `{title, body, url, tag}`), and a tap on any
 * notification (`notificationclick`) focuses or opens the ticket page it is about.
 */

const VERSION = 'v1';
const CACHE = `turno-${VERSION}`;
const PRECACHE = [
  '/assets/turno.css',
  '/assets/ticket.css',
  '/assets/ticket.js',
  '/assets/live.js',
  '/assets/api.js',
  '/assets/icon.svg',
];
/** Where the last ticket page opened is remembered, so the installed app's start URL `/t/` can open it. */
const LAST_TICKET = '/t/?turno-last-ticket';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // One by one: a missing file must not keep the worker from installing (addAll is all or nothing).
    await Promise.allSettled(PRECACHE.map(async (path) => {
      const response = await fetch(path, { cache: 'no-cache' });
      if (response.ok) await cache.put(path, response);
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith('turno-') && name !== CACHE).map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/live/')) return; // live data is never stale-served

  if (request.mode === 'navigate' && url.pathname.startsWith('/t/')) {
    event.respondWith(url.pathname === '/t/' ? openLastTicket(request) : ticketPage(request));
  } else if (url.pathname.startsWith('/api/v1/tickets/') || url.pathname.startsWith('/qr/')) {
    event.respondWith(networkFirst(request, { markOffline: url.pathname.startsWith('/api/') }));
  } else if (url.pathname.startsWith('/assets/')) {
    event.respondWith(url.searchParams.has('v') ? versionedAsset(request) : networkFirst(request, { ignoreSearch: true }));
  }
});

async function ticketPage(request) {
  const response = await networkFirst(request, {});
  if (response.ok && !response.headers.has('X-Turno-Offline')) {
    const cache = await caches.open(CACHE);
    await cache.put(LAST_TICKET, new Response(new URL(request.url).pathname, { headers: { 'Content-Type': 'text/plain' } }));
  }
  return response;
}

/** `/t/` itself is no page: it is the installed app's start, which opens the ticket the customer last had. */
async function openLastTicket(request) {
  const last = await (await caches.open(CACHE)).match(LAST_TICKET);
  const path = last ? await last.text() : '';
  if (path.startsWith('/t/') && path.length > 3) return Response.redirect(path, 302);
  return fetch(request);
}

/**
 * The network's answer, stored when it is good; the stored one when the network fails.
 * Only 2xx answers are kept: a 404 for a mistyped link must not replace a working page.
 */
async function networkFirst(request, { ignoreSearch = false, markOffline = false }) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === 'basic') {
      const copy = response.clone();
      cache.put(request, copy).catch(() => {}); // a full disk only loses the offline copy
    }
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch, ignoreVary: true });
    if (!cached) throw error;
    if (!markOffline) return cached;
    const headers = new Headers(cached.headers);
    headers.set('X-Turno-Offline', '1');
    return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
  }
}

/** A versioned asset never changes: the cache answers; older versions of the same file are dropped. */
async function versionedAsset(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  try {
    const response = await fetch(request);
    if (response.ok && response.type === 'basic') {
      const url = new URL(request.url);
      const stale = await cache.keys(request, { ignoreSearch: true });
      await Promise.all(stale.filter((old) => {
        const oldURL = new URL(old.url);
        return oldURL.search !== '' && oldURL.search !== url.search;
      }).map((old) => cache.delete(old)));
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    // Offline with a version not seen yet: the precached copy of the file is better than nothing.
    const fallback = await cache.match(request, { ignoreSearch: true });
    if (fallback) return fallback;
    throw error;
  }
}

/**
 * An alert the server pushed about a followed ticket: `{title, body, url, tag}`. The tag (`ticket-<id>`) is the one
 * ticket.js uses for its own notifications, so a newer alert replaces an older one rather than piling up.
 */
self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data?.json() ?? {};
  } catch {
    message = { body: event.data?.text() ?? '' };
  }
  const title = typeof message.title === 'string' && message.title ? message.title : 'Turno';
  const options = { body: typeof message.body === 'string' ? message.body : '', icon: '/assets/icon.svg', data: { url: message.url ?? null } };
  if (typeof message.tag === 'string' && message.tag) Object.assign(options, { tag: message.tag, renotify: true });
  // userVisibleOnly: every push must show a notification, or the browser may stop delivering them.
  event.waitUntil(self.registration.showNotification(title, options));
});

/**
 * The page a notification is about, on this origin: its `data.url` (the server's alerts, and ticket.js's own), or
 * the ticket of a `turno-<token>` tag (notifications shown before alerts existed), or the app's start.
 */
function notificationPath(notification) {
  const url = notification.data?.url;
  if (typeof url === 'string' && url) {
    try {
      const target = new URL(url, self.location.origin);
      if (target.origin === self.location.origin) return target.pathname + target.search;
      // The server's public address may differ from the one this phone uses: the ticket's path is what counts.
      if (target.pathname.startsWith('/t/')) return target.pathname;
    } catch {
      // not a URL: fall back on the tag
    }
  }
  const tag = notification.tag ?? '';
  return tag.startsWith('turno-') ? `/t/${encodeURIComponent(tag.slice('turno-'.length))}` : '/t/';
}

/** A tap on a notification ("nearly your turn", "your turn"…) brings its ticket page back, or opens it. */
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const path = notificationPath(event.notification);
  const pathname = new URL(path, self.location.origin).pathname;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const at = (client) => new URL(client.url).pathname;
    // The ticket's own page, else another ticket page (this worker controls only those), else a new window.
    const open = windows.find((client) => at(client) === pathname) ?? windows.find((client) => at(client).startsWith('/t/'));
    if (open) {
      try {
        await open.focus();
        if (at(open) !== pathname && 'navigate' in open) await open.navigate(path);
        return;
      } catch {
        // focus or navigation refused: a new window serves
      }
    }
    await self.clients.openWindow(path);
  })());
});
