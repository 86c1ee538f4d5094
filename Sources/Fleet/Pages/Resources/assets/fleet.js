/**
 * fleet.js — the dispatch operators' screen (`/fleet`): a live map of the drones, the deliveries table, the fleet
 * statistics and a form to post a delivery.
 *
 * Everything is read from the API once, then kept current by the `fleet` live topic:
 * - `drone.registered|changed` (a whole drone) and `drone.positions` (pushed only, at most once a second, for the
 *   drones that moved) update the drones; each drone glides from where it is drawn to its new position over about
 *   the time between its updates, so the map moves smoothly although positions arrive once a second.
 * - `delivery.*` (a whole delivery) updates the table (when it matches the state filter) and the pending markers.
 * - The statistics (and the charging points' pads in use, which have no event of their own) are re-read every
 *   5 s, and within a second of an event that changes them.
 * After a reconnect (`onResync`) drones, deliveries, statistics and charging points are re-read. Loads that race
 * live messages replay the delivery messages that arrived meanwhile, and versions keep older data from
 * overwriting newer.
 *
 * The map is drawn on two stacked canvases: the still layer (the area and its zones) only when it changes, the
 * live layer (drones, lines to their targets, pending origins, charging points, labels, selections) on animation
 * frames while something moves. World y grows northwards; the screen's grows downwards, so y is flipped.
 */
import { LiveConnection } from '/assets/live.js';
import { api, format, pageData, problemText, t, toast } from '/assets/api.js';

const data = pageData();
const lang = data.lang || document.documentElement.lang || 'en';

const DRONE_STATES = ['idle', 'assigned', 'delivering', 'returning', 'charging', 'retiring', 'offline', 'inactive'];
const DRONE_TYPES = ['light', 'medium', 'heavy'];
const DELIVERY_STATES = ['pending', 'assigned', 'picked_up', 'delivered', 'failed', 'cancelled'];
const CANCELLABLE = new Set(['pending', 'assigned']);
/** Rows in the table, newest first (the API's page size); live additions push the oldest out. */
const TABLE_LIMIT = 200;
/** Pending deliveries read for the markers at start; live messages add the later ones. */
const PENDING_LIMIT = 200;
const STATS_EVERY_MS = 5_000;
const STATS_AFTER_EVENT_MS = 1_000;
const TABLE_DEBOUNCE_MS = 150;
/** Legend counts and the map summary: text, not animation; once a second is plenty. */
const COUNTS_EVERY_MS = 1_000;
/** A glide lasts as long as the gap between the drone's last two updates, within these limits. */
const GLIDE_MIN_MS = 250;
const GLIDE_MAX_MS = 2_000;
const GLIDE_DEFAULT_MS = 1_000;
/** Big fleets are drawn at about 30 frames a second: the motion is as smooth to the eye, and half the work. */
const BUSY_FLEET = 3_000;
const BUSY_FRAME_MS = 30;
/** How near (in CSS pixels) the pointer must be to a drone to point at it. */
const HIT_RADIUS = 9;
/** Room around the map's bounds for the dots and labels at the edge. */
const MAP_PAD = 10;
/** Delivery messages remembered to replay over a load they raced. */
const EVENT_LOG_SIZE = 2_000;
const TAU = Math.PI * 2;

const $ = (id) => document.getElementById(id);
const mapBox = $('map-box');
const stage = $('map-stage');
const baseCanvas = $('map-base');
const liveCanvas = $('map-live');
const tip = $('map-tip');
const rowsBody = $('deliveries-rows');
const filterSelect = $('filter-state');
const form = $('new-delivery');
const pickButton = $('pick-on-map');
const input = {
  originX: $('origin-x'), originY: $('origin-y'), destinationX: $('destination-x'), destinationY: $('destination-y'),
  weight: $('weight'), priority: $('priority'),
};

// State

let bounds = null; // { min_x, min_y, max_x, max_y }
let zones = [];
let chargingPoints = [];
/** id → drone as drawn: the API's fields plus its glide (x0,y0 at t0 → x1,y1 at t1) and its place on screen (sx,sy). */
const drones = new Map();
/** id → origin of each pending delivery, for the markers. */
const pending = new Map();
/** id → delivery, those in the table (matching the filter). */
const tableModel = new Map();
/** id → { tr, key } of the rows on screen. */
const rows = new Map();
/** Which layers the legend has switched off: drone states and 'pending'. */
const hiddenLayers = new Set();

let selectedDroneID = null; // pinned by a click, the drone column or the find form
let hoveredDroneID = null;
let selectedHubID = null; // a charging point pinned by a click
let hoveredHubID = null;
let selectedDelivery = null; // shown on the map from the table
let pick = null; // null | 'origin' | 'destination': the next map click fills that point of the form
let attempt = null; // { body, key } of the last submission that did not come back with a delivery
let posting = false;

let eventSeq = 0;
const deliveryLog = []; // [seq, delivery] of the latest delivery messages
let tableController = null;
let tableTimer = 0;
let dronesSeq = 0;
let pendingSeq = 0;
let statsTimer = 0;
let statsDueAt = Infinity;
let statsSeq = 0;
let countsDirty = true;
let dronesLoaded = false;
let colors = {};

// Building elements, numbers, times

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value != null) node.setAttribute(name, String(value));
  node.append(...children.filter((child) => child != null));
  return node;
}

const integer = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
const kilograms = new Intl.NumberFormat(lang, { style: 'unit', unit: 'kilogram', maximumFractionDigits: 2 });
const seconds = new Intl.NumberFormat(lang, { style: 'unit', unit: 'second', maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 0 });
const clock = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayAndClock = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const fullTime = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' });

const noValue = () => t('fleet_no_value');
const shortID = (id) => String(id ?? '').slice(0, 8);
const droneStateName = (state) => (DRONE_STATES.includes(state) ? t(`fleet_drone_${state}`) : String(state ?? noValue()));
const droneTypeName = (type) => (DRONE_TYPES.includes(type) ? t(`fleet_type_${type}`) : noValue());
const deliveryStateName = (state) => (DELIVERY_STATES.includes(state) ? t(`fleet_delivery_${state}`) : String(state ?? ''));
const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

/** A time of day for today's times, with the day for older ones. */
function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return noValue();
  return date.toDateString() === new Date().toDateString() ? clock.format(date) : dayAndClock.format(date);
}

function timeCell(iso) {
  if (!iso) return h('td', {}, noValue());
  return h('td', { class: 'time' }, h('time', { datetime: iso, title: fullTime.format(new Date(iso)) }, when(iso)));
}

/** Seconds as "0.4 s", "5 min 10 s" or "1 h 02 min". */
function duration(value) {
  if (value == null || !Number.isFinite(value)) return noValue();
  if (value < 60) return seconds.format(value);
  const total = Math.round(value);
  if (total < 3600) return format(t('fleet_duration_min_s'), { m: Math.floor(total / 60), s: String(total % 60).padStart(2, '0') });
  return format(t('fleet_duration_h_min'), { h: integer.format(Math.floor(total / 3600)), m: String(Math.floor((total % 3600) / 60)).padStart(2, '0') });
}

const percentiles = (p) => format(t('fleet_stat_percentiles'), { p50: duration(p?.p50), p95: duration(p?.p95) });

/** The newest of a delivery's step times: when it last moved on. */
function lastStep(delivery) {
  let best = null;
  for (const iso of [delivery.created_at, delivery.assigned_at, delivery.picked_up_at, delivery.delivered_at, delivery.ended_at]) {
    if (iso && (best === null || Date.parse(iso) > Date.parse(best))) best = iso;
  }
  return best;
}

const newestFirst = (a, b) => (Date.parse(b.created_at) || 0) - (Date.parse(a.created_at) || 0) || String(b.id).localeCompare(String(a.id));

/** An Idempotency-Key. crypto.randomUUID exists only in secure contexts; getRandomValues works on plain HTTP too. */
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return 'fleet-' + Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

const showProblem = (text) => { $('fleet-problem').textContent = text; };

// Map geometry
// World (metres, y northwards) ↔ CSS pixels of the stage (y downwards). `view` is set by layoutMap().

const view = { width: 0, height: 0, scale: 1, dpr: 1, offsetX: 0, offsetY: 0 };
const screenX = (x) => view.offsetX + (x - bounds.min_x) * view.scale;
const screenY = (y) => view.offsetY + (bounds.max_y - y) * view.scale;
const worldX = (sx) => bounds.min_x + (sx - view.offsetX) / view.scale;
const worldY = (sy) => bounds.max_y - (sy - view.offsetY) / view.scale;

/**
 * Sizes the canvases to the map's box, which fleet.css sizes: on wide screens it fills the map's card, a screen
 * high beside the side panels; on narrow ones it is the page's width and as high as the area's aspect ratio (set
 * here, as --map-aspect) allows. The area is drawn centred in the box at the largest scale that fits.
 */
function layoutMap() {
  if (!bounds) return;
  const worldWidth = Math.max(1, bounds.max_x - bounds.min_x);
  const worldHeight = Math.max(1, bounds.max_y - bounds.min_y);
  mapBox.style.setProperty('--map-aspect', String(worldWidth / worldHeight));
  const width = Math.floor(Math.max(120, mapBox.clientWidth));
  const height = Math.floor(Math.max(120, mapBox.clientHeight));
  const dpr = window.devicePixelRatio || 1;
  if (width === view.width && height === view.height && dpr === view.dpr) return;
  Object.assign(view, { width, height, dpr });
  view.scale = Math.min((width - 2 * MAP_PAD) / worldWidth, (height - 2 * MAP_PAD) / worldHeight);
  view.offsetX = (width - worldWidth * view.scale) / 2;
  view.offsetY = (height - worldHeight * view.scale) / 2;
  landmarks = null;
  for (const canvas of [baseCanvas, liveCanvas]) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  drawBase();
  invalidate();
}

/** The theme's colours for the canvas, from fleet.css's custom properties (they follow light and dark mode). */
function readColors() {
  const style = getComputedStyle(stage);
  const read = (name) => style.getPropertyValue(name).trim() || '#888';
  colors = {
    background: read('--map-bg'), bounds: read('--map-bounds'), zone: read('--map-zone'), zoneFill: read('--map-zone-fill'),
    text: read('--map-text'), halo: read('--map-halo'), chargingPoint: read('--map-cp'), pending: read('--pending'),
    selection: read('--map-select'), origin: read('--mark-origin'), destination: read('--mark-destination'),
    font: style.fontFamily || 'sans-serif',
  };
  for (const state of DRONE_STATES) colors[state] = read(`--state-${state}`);
  landmarks = null;
}

/** Text with a halo in the background colour, so labels stay legible over lines and dots. */
function label(ctx, text, x, y, align = 'left') {
  ctx.textAlign = align;
  ctx.lineWidth = 3;
  ctx.strokeStyle = colors.halo;
  ctx.strokeText(text, x, y);
  ctx.fillStyle = colors.text;
  ctx.fillText(text, x, y);
}

// Canvas rather than SVG: at 10,000 drones SVG means 10,000 circles and lines in the DOM, each moved every
// frame through style and layout; a canvas redraws them all in a few milliseconds, grouped by state (measured
// with 10,000 drones: about 20 ms a frame in headless Chromium's software rasterizer, far less on a GPU). The
// price — no DOM element per drone — is paid back with a hit test for pointing and the find form.

/** The still layer: the area and its zones. */
function drawBase() {
  if (!bounds || !view.width) return;
  const ctx = baseCanvas.getContext('2d');
  ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
  ctx.clearRect(0, 0, view.width, view.height);
  const left = screenX(bounds.min_x);
  const top = screenY(bounds.max_y);
  const right = screenX(bounds.max_x);
  const bottom = screenY(bounds.min_y);
  ctx.fillStyle = colors.background;
  ctx.fillRect(left, top, right - left, bottom - top);

  ctx.setLineDash([6, 4]);
  for (const zone of zones) {
    const b = zone.bounds;
    if (!b) continue;
    const x = screenX(b.min_x);
    const y = screenY(b.max_y);
    const w = screenX(b.max_x) - x;
    const hgt = screenY(b.min_y) - y;
    ctx.fillStyle = colors.zoneFill;
    ctx.fillRect(x, y, w, hgt);
    ctx.strokeStyle = colors.zone;
    ctx.lineWidth = 1.25;
    ctx.strokeRect(x + 0.5, y + 0.5, w - 1, hgt - 1);
  }
  ctx.setLineDash([]);
  ctx.strokeStyle = colors.bounds;
  ctx.lineWidth = 1.5;
  ctx.strokeRect(left, top, right - left, bottom - top);
}

// Landmarks: zone names, charging points and their labels

/** Label fonts (CSS px): zone names, hubs' labels. */
const ZONE_FONT_PX = 12;
const HUB_FONT_PX = 11;
/** Half the side of a hub's mark, with its halo. */
const HUB_MARK = 7;
/** Room kept between two labels, or a label and a mark (the labels' halos are 1.5 px wide). */
const LABEL_GAP = 3;
/** The laid-out labels; null when the map's size, the zones, the charging points or the fonts change. */
let landmarks = null;

/**
 * The name of a zone or a charging point in the page's language. The server seeds the standard map with fixed
 * English names ("North-East", "North-East hub"): those have strings `fleet_place_<name in snake case>`; any
 * other name (one an operator gave) has none and is shown as it is.
 */
function placeName(name) {
  const text = String(name ?? '');
  const key = `fleet_place_${text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`;
  const translated = data.strings?.[key];
  return typeof translated === 'string' && translated ? translated : text;
}

const hubName = (point) => placeName(point.name ?? point.id);
const padsText = (point) => format(t('fleet_pads'), { used: integer.format(point.pads_in_use ?? 0), total: integer.format(point.pads ?? 0) });
const hasPosition = (point) => Number.isFinite(point?.position?.x) && Number.isFinite(point?.position?.y);
/** Charging points in the order of their ids: the order their labels are placed in, so a map always looks the same. */
const hubsInOrder = () => chargingPoints.filter(hasPosition).sort((a, b) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0));

/** Whether two boxes ({x, y, w, h}, CSS px) come nearer than LABEL_GAP. */
const collide = (a, b) => a.x < b.x + b.w + LABEL_GAP && b.x < a.x + a.w + LABEL_GAP && a.y < b.y + b.h + LABEL_GAP && b.y < a.y + a.h + LABEL_GAP;

/**
 * Places the labels so that none covers another label or a hub's mark, and none leaves the map: each zone's name in
 * the first corner of the zone with room (top left, top right, bottom left, bottom right); then, hub by hub, its
 * label on the first side of its mark with room (right, left, above, below), inside the area if it can be, else in
 * the margin around it. The labels say each hub's name and pads in use when all of them find room; otherwise they
 * say the names alone, so that names come before numbers and all hubs are labelled alike. A hub whose label finds no
 * room has none (pointing at or clicking its mark shows its name and pads). Widths are measured on the canvas;
 * nothing depends on the drones or the time, so the same map is always labelled alike.
 */
function layoutLandmarks(ctx) {
  const inside = (box, area) => box.x >= area.x && box.y >= area.y && box.x + box.w <= area.x + area.w && box.y + box.h <= area.y + area.h;
  const stageArea = { x: 1, y: 1, w: view.width - 2, h: view.height - 2 };
  const worldArea = {
    x: screenX(bounds.min_x) + 2, y: screenY(bounds.max_y) + 2,
    w: (bounds.max_x - bounds.min_x) * view.scale - 4, h: (bounds.max_y - bounds.min_y) * view.scale - 4,
  };
  const hubs = hubsInOrder().map((point) => ({ point, x: screenX(point.position.x), y: screenY(point.position.y), label: null }));
  const marks = hubs.map((hub) => ({ x: hub.x - HUB_MARK, y: hub.y - HUB_MARK, w: HUB_MARK * 2, h: HUB_MARK * 2 }));

  const placed = [...marks]; // boxes taken: hubs' marks and the labels placed so far
  const free = (box, area) => inside(box, area) && !placed.some((other) => collide(box, other));
  const zoneLabels = [];
  ctx.font = `600 ${ZONE_FONT_PX}px ${colors.font}`;
  for (const zone of zones) {
    const b = zone.bounds;
    if (!b) continue;
    const text = placeName(zone.name ?? zone.id);
    const area = { x: screenX(b.min_x) + 4, y: screenY(b.max_y) + 3, w: (b.max_x - b.min_x) * view.scale - 8, h: (b.max_y - b.min_y) * view.scale - 6 };
    const w = Math.ceil(ctx.measureText(text).width);
    const h = ZONE_FONT_PX + 2;
    const corners = [[area.x, area.y], [area.x + area.w - w, area.y], [area.x, area.y + area.h - h], [area.x + area.w - w, area.y + area.h - h]];
    const box = corners.map(([x, y]) => ({ x, y, w, h })).find((candidate) => free(candidate, area));
    if (box) {
      placed.push(box);
      zoneLabels.push({ text, ...box });
    }
  }

  ctx.font = `${HUB_FONT_PX}px ${colors.font}`;
  const taken = placed.length;
  const h = HUB_FONT_PX + 2;
  const reach = HUB_MARK + LABEL_GAP;
  /** Places every hub's label, with its pads or without; true when every hub found room. */
  const placeHubLabels = (withPads) => {
    placed.length = taken;
    let all = true;
    for (const hub of hubs) {
      const name = hubName(hub.point);
      const text = withPads ? `${name} · ${padsText(hub.point)}` : name;
      // Room for the widest count of pads in use (all of them), so that labels stay put as pads fill and empty.
      const w = Math.ceil(ctx.measureText(withPads ? `${name} · ${padsText({ pads_in_use: hub.point.pads, pads: hub.point.pads })}` : name).width);
      const sides = [
        { x: hub.x + reach, y: hub.y - h / 2, w, h, align: 'left' }, { x: hub.x - reach - w, y: hub.y - h / 2, w, h, align: 'right' },
        { x: hub.x - w / 2, y: hub.y - reach - h, w, h, align: 'center' }, { x: hub.x - w / 2, y: hub.y + reach, w, h, align: 'center' },
      ];
      const box = sides.find((candidate) => free(candidate, worldArea)) ?? sides.find((candidate) => free(candidate, stageArea));
      hub.label = box ? { text, ...box } : null;
      if (box) placed.push(box);
      else all = false;
    }
    return all;
  };
  if (!placeHubLabels(true)) placeHubLabels(false);
  return { zoneLabels, hubs };
}

/** Zone names and charging points, drawn over the drones (on the live layer) so a busy map does not bury them. */
function drawLandmarks(ctx) {
  landmarks ??= layoutLandmarks(ctx);
  ctx.textBaseline = 'middle';
  ctx.font = `600 ${ZONE_FONT_PX}px ${colors.font}`;
  for (const box of landmarks.zoneLabels) label(ctx, box.text, box.x, box.y + box.h / 2);
  ctx.fillStyle = colors.chargingPoint;
  ctx.strokeStyle = colors.halo;
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (const hub of landmarks.hubs) ctx.rect(hub.x - 6, hub.y - 6, 12, 12);
  ctx.fill();
  ctx.stroke();
  ctx.font = `${HUB_FONT_PX}px ${colors.font}`;
  for (const { label: box } of landmarks.hubs) {
    if (!box) continue;
    const x = box.align === 'right' ? box.x + box.w : box.align === 'center' ? box.x + box.w / 2 : box.x;
    label(ctx, box.text, x, box.y + box.h / 2, box.align);
  }
}

/** The charging point whose mark is at the point (CSS pixels of the stage), if any. */
function hubAt(px, py) {
  let best = null;
  let bestDistance = Infinity;
  for (const hub of landmarks?.hubs ?? []) {
    const distance = Math.max(Math.abs(hub.x - px), Math.abs(hub.y - py));
    if (distance <= HUB_MARK + 2 && distance < bestDistance) {
      best = hub.point;
      bestDistance = distance;
    }
  }
  return best;
}

const hubDetails = (point) => [
  [t('fleet_tip_pads'), format(t('fleet_tip_pads_value'), { used: integer.format(point.pads_in_use ?? 0), total: integer.format(point.pads ?? 0) })],
];

// Drones

/** Where the drone is drawn at `now` (its glide so far), in world units. */
function glidePosition(drone, now) {
  const k = drone.t1 > drone.t0 ? clamp((now - drone.t0) / (drone.t1 - drone.t0), 0, 1) : 1;
  return [drone.x0 + (drone.x1 - drone.x0) * k, drone.y0 + (drone.y1 - drone.y0) * k];
}

/** Starts a glide from where the drone is drawn now to (x, y), as long as the gap since its last update. */
function moveDrone(drone, x, y, now) {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  if (drone.x1 === undefined) {
    Object.assign(drone, { x0: x, y0: y, x1: x, y1: y, t0: now, t1: now });
  } else if (x !== drone.x1 || y !== drone.y1) {
    const [cx, cy] = glidePosition(drone, now);
    const gap = drone.seen ? now - drone.seen : GLIDE_DEFAULT_MS;
    Object.assign(drone, { x0: cx, y0: cy, x1: x, y1: y, t0: now, t1: now + clamp(gap, GLIDE_MIN_MS, GLIDE_MAX_MS) });
  }
  drone.seen = now;
}

/** A whole drone from the API or a `drone.*` message; older versions than the one drawn are ignored. */
function applyDrone(item, now = performance.now()) {
  if (!item?.id) return;
  let drone = drones.get(item.id);
  if (drone && Number.isFinite(item.version) && Number.isFinite(drone.version) && item.version < drone.version) return;
  if (!drone) {
    drone = { id: item.id };
    drones.set(item.id, drone);
  }
  Object.assign(drone, {
    type: item.type, state: item.state, battery: item.battery, version: item.version,
    delivery_id: item.delivery_id ?? null, charging_point_id: item.charging_point_id ?? null,
    reports_telemetry: Boolean(item.reports_telemetry),
    tx: item.target?.x ?? null, ty: item.target?.y ?? null,
  });
  if (item.position) moveDrone(drone, item.position.x, item.position.y, now);
  countsDirty = true;
}

/** `drone.positions`: the drones that moved since the last push, in short form. */
function applyPositions(list) {
  const now = performance.now();
  for (const item of list ?? []) {
    if (!item?.id) continue;
    let drone = drones.get(item.id);
    if (!drone) {
      // Registered while this page was loading: the rest arrives with the next drone message or resync.
      drone = { id: item.id, type: null, delivery_id: null, charging_point_id: null };
      drones.set(item.id, drone);
      countsDirty = true;
    }
    if (item.state && item.state !== drone.state) countsDirty = true;
    if (item.state) drone.state = item.state;
    if (Number.isFinite(item.battery)) drone.battery = item.battery;
    drone.tx = item.tx ?? null;
    drone.ty = item.ty ?? null;
    moveDrone(drone, item.x, item.y, now);
  }
  invalidate();
}

async function loadDrones() {
  const seq = ++dronesSeq;
  const answer = await api('GET', '/api/v1/drones');
  if (seq !== dronesSeq) return;
  const now = performance.now();
  const seen = new Set();
  for (const item of answer?.drones ?? []) {
    seen.add(item.id);
    applyDrone(item, now);
  }
  for (const id of drones.keys()) if (!seen.has(id)) drones.delete(id);
  dronesLoaded = true;
  showEmptyHint();
  countsDirty = true;
  invalidate();
}

/**
 * An empty map says how to fill it, instead of leaving a new user wondering; the hint goes as soon as a drone is
 * known (read, registered or moving), and is not shown before the drones have been read.
 */
function showEmptyHint() {
  const hint = $('map-empty');
  const empty = dronesLoaded && drones.size === 0;
  if (empty && !hint.hasChildNodes()) {
    // The request, the option and the variable as code, each kept on one line.
    const code = { register: 'POST /api/v1/drones', flag: '--simulate-drones 200', variable: 'TURNO_SIMULATE_DRONES=200' };
    hint.append(...t('fleet_map_empty').split(/\{(\w+)\}/).map((part, i) => (i % 2 === 0 ? part : code[part] ? h('code', {}, code[part]) : `{${part}}`)));
  }
  hint.hidden = !empty;
}

// Drawing the live layer

let frameRequested = false;
let lastFrame = 0;
let mapOnScreen = true;

function invalidate() {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(frame);
}

function frame(now) {
  frameRequested = false;
  // Off screen (scrolled to the table) nothing is drawn; coming back into view draws the present at once.
  if (!bounds || !view.width || !mapOnScreen) return;
  if (drones.size > BUSY_FLEET && now - lastFrame < BUSY_FRAME_MS) {
    invalidate();
    return;
  }
  lastFrame = now;
  const moving = drawLive(now);
  placeTip();
  if (moving) invalidate();
}

/** Draws drones, their target lines, pending origins and the selections; true while any drone still glides. */
function drawLive(now) {
  const ctx = liveCanvas.getContext('2d');
  ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
  ctx.clearRect(0, 0, view.width, view.height);
  const { scale, offsetX, offsetY } = view;
  const minX = bounds.min_x;
  const maxY = bounds.max_y;

  if (!hiddenLayers.has('pending') && pending.size) {
    const path = new Path2D();
    for (const origin of pending.values()) {
      const x = offsetX + (origin.x - minX) * scale;
      const y = offsetY + (maxY - origin.y) * scale;
      path.moveTo(x, y - 4);
      path.lineTo(x + 4, y);
      path.lineTo(x, y + 4);
      path.lineTo(x - 4, y);
      path.closePath();
    }
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = colors.pending;
    ctx.stroke(path);
  }

  // Dots and lines grouped by state: one colour change per state, whatever the fleet's size.
  const radius = drones.size > BUSY_FLEET ? 2 : drones.size > 500 ? 2.75 : 3.5;
  const dots = {};
  const lines = {};
  let moving = false;
  for (const drone of drones.values()) {
    if (drone.x1 === undefined) continue;
    let x = drone.x1;
    let y = drone.y1;
    if (now < drone.t1) {
      [x, y] = glidePosition(drone, now);
      moving = true;
    }
    const sx = offsetX + (x - minX) * scale;
    const sy = offsetY + (maxY - y) * scale;
    drone.sx = sx;
    drone.sy = sy;
    const state = DRONE_STATES.includes(drone.state) ? drone.state : 'offline';
    drone.visible = !hiddenLayers.has(state);
    if (!drone.visible) continue;
    if (drone.tx != null && drone.ty != null) {
      const line = (lines[state] ??= new Path2D());
      line.moveTo(sx, sy);
      line.lineTo(offsetX + (drone.tx - minX) * scale, offsetY + (maxY - drone.ty) * scale);
    }
    (dots[state] ??= []).push(sx, sy);
  }
  ctx.lineWidth = 0.75;
  ctx.globalAlpha = 0.4;
  for (const [state, path] of Object.entries(lines)) {
    ctx.strokeStyle = colors[state];
    ctx.stroke(path);
  }
  ctx.globalAlpha = 1;
  // Round dots while they are few; squares (fillRect, the fastest thing a canvas draws) for big fleets, where a
  // dot is a few pixels across and the difference is hard to see.
  const big = drones.size > BUSY_FLEET;
  const side = radius * 2;
  for (const [state, list] of Object.entries(dots)) {
    ctx.fillStyle = colors[state];
    if (big) {
      for (let i = 0; i < list.length; i += 2) ctx.fillRect(list[i] - radius, list[i + 1] - radius, side, side);
    } else {
      const path = new Path2D();
      for (let i = 0; i < list.length; i += 2) {
        path.moveTo(list[i] + radius, list[i + 1]);
        path.arc(list[i], list[i + 1], radius, 0, TAU);
      }
      ctx.fill(path);
    }
  }

  drawLandmarks(ctx);
  drawSelectedDelivery(ctx);
  drawFormPoints(ctx);
  for (const id of new Set([hoveredDroneID, selectedDroneID])) {
    const drone = id && drones.get(id);
    if (!drone?.visible) continue;
    ctx.lineWidth = 2;
    ctx.strokeStyle = colors.selection;
    ctx.beginPath();
    ctx.arc(drone.sx, drone.sy, radius + 4, 0, TAU);
    ctx.stroke();
    if (id === selectedDroneID && drone.tx != null) {
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = colors[drone.state] ?? colors.selection;
      ctx.beginPath();
      ctx.moveTo(drone.sx, drone.sy);
      ctx.lineTo(screenX(drone.tx), screenY(drone.ty));
      ctx.stroke();
    }
  }
  return moving;
}

/** A round mark with a letter: the form's origin (A) and destination (B), a delivery's ends. */
function pointMark(ctx, x, y, text, color) {
  ctx.beginPath();
  ctx.arc(x, y, 8, 0, TAU);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = colors.halo;
  ctx.stroke();
  ctx.fillStyle = colors.halo;
  ctx.font = `700 10px ${colors.font}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, x, y + 0.5);
}

function route(ctx, origin, destination) {
  const a = origin && [screenX(origin.x), screenY(origin.y)];
  const b = destination && [screenX(destination.x), screenY(destination.y)];
  if (a && b) {
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = colors.selection;
    ctx.beginPath();
    ctx.moveTo(...a);
    ctx.lineTo(...b);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (a) pointMark(ctx, a[0], a[1], t('fleet_origin_mark'), colors.origin);
  if (b) pointMark(ctx, b[0], b[1], t('fleet_destination_mark'), colors.destination);
}

function drawSelectedDelivery(ctx) {
  if (selectedDelivery) route(ctx, selectedDelivery.origin, selectedDelivery.destination);
}

function drawFormPoints(ctx) {
  const point = (xInput, yInput) => {
    const x = xInput.valueAsNumber;
    const y = yInput.valueAsNumber;
    return Number.isFinite(x) && Number.isFinite(y) ? { x, y } : null;
  };
  route(ctx, point(input.originX, input.originY), point(input.destinationX, input.destinationY));
}

// Pointing at drones

/** The visible drone nearest to the point (CSS pixels of the stage), within HIT_RADIUS. */
function droneAt(px, py) {
  let best = null;
  let bestDistance = HIT_RADIUS * HIT_RADIUS;
  for (const drone of drones.values()) {
    if (!drone.visible) continue;
    const dx = drone.sx - px;
    const dy = drone.sy - py;
    const distance = dx * dx + dy * dy;
    if (distance <= bestDistance) {
      best = drone;
      bestDistance = distance;
    }
  }
  return best;
}

function droneDetails(drone) {
  const items = [
    [t('fleet_tip_type'), droneTypeName(drone.type)],
    [t('fleet_tip_state'), droneStateName(drone.state)],
    [t('fleet_tip_battery'), Number.isFinite(drone.battery) ? percent.format(drone.battery / 100) : noValue()],
    [t('fleet_tip_delivery'), drone.delivery_id ? shortID(drone.delivery_id) : t('fleet_tip_none')],
  ];
  if (drone.charging_point_id) {
    const point = chargingPoints.find((p) => p.id === drone.charging_point_id);
    items.push([t('fleet_tip_charging_point'), point ? hubName(point) : drone.charging_point_id]);
  }
  return items;
}

let tipKey = '';

/** What the tip is about: the drone pointed at, else the hub pointed at, else the pinned drone or hub; or null. */
function tipSubject() {
  const drone = (id) => {
    const item = id ? drones.get(id) : null;
    return item?.visible ? { key: `d:${item.id}`, title: item.id, mono: true, details: droneDetails(item), x: item.sx, y: item.sy } : null;
  };
  const hub = (id) => {
    const point = id ? chargingPoints.find((p) => p.id === id) : null;
    if (!hasPosition(point)) return null;
    return { key: `h:${point.id}`, title: hubName(point), mono: false, details: hubDetails(point), x: screenX(point.position.x), y: screenY(point.position.y) };
  };
  return drone(hoveredDroneID) ?? hub(hoveredHubID) ?? drone(selectedDroneID) ?? hub(selectedHubID);
}

/** Keeps the tip next to the drone or hub it is about, and its text current. */
function placeTip() {
  const subject = tipSubject();
  if (!subject) {
    tip.hidden = true;
    tipKey = '';
    return;
  }
  const key = subject.key + subject.title + subject.details.flat().join('|');
  if (key !== tipKey) {
    tipKey = key;
    tip.replaceChildren(
      h('strong', { class: subject.mono ? null : 'tip-place' }, subject.title),
      h('dl', {}, ...subject.details.map(([name, value]) => h('div', {}, h('dt', {}, name), h('dd', {}, value)))),
    );
  }
  tip.hidden = false;
  const width = tip.offsetWidth;
  const height = tip.offsetHeight;
  let left = subject.x + 12;
  let top = subject.y + 12;
  if (left + width > view.width) left = subject.x - 12 - width;
  if (top + height > view.height) top = subject.y - 12 - height;
  tip.style.left = `${Math.max(0, left)}px`;
  tip.style.top = `${Math.max(0, top)}px`;
}

/** Pins a drone (or none): ringed on the map, its tip shown, its details said to screen readers. */
function selectDrone(id) {
  selectedDroneID = id && drones.has(id) ? id : null;
  selectedHubID = null;
  const drone = drones.get(selectedDroneID);
  $('selection-status').textContent = drone
    ? [drone.id, ...droneDetails(drone).map(([name, value]) => `${name}: ${value}`)].join(' · ')
    : '';
  invalidate();
}

/** Pins a charging point's tip (or none), and says its name and pads to screen readers: on touch screens, and when its label found no room. */
function selectHub(id) {
  const point = id ? chargingPoints.find((p) => p.id === id) : null;
  selectedHubID = point ? point.id : null;
  selectedDroneID = null;
  $('selection-status').textContent = point ? [hubName(point), ...hubDetails(point).map(([name, value]) => `${name}: ${value}`)].join(' · ') : '';
  invalidate();
}

function pointerPosition(event) {
  const rect = liveCanvas.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

liveCanvas.addEventListener('pointermove', (event) => {
  if (!bounds) return;
  const [px, py] = pointerPosition(event);
  const drone = pick ? null : droneAt(px, py);
  const hub = pick || drone ? null : hubAt(px, py);
  stage.classList.toggle('is-pointing', Boolean(drone || hub));
  if ((drone?.id ?? null) !== hoveredDroneID || (hub?.id ?? null) !== hoveredHubID) {
    hoveredDroneID = drone?.id ?? null;
    hoveredHubID = hub?.id ?? null;
    invalidate();
  }
});

liveCanvas.addEventListener('pointerleave', () => {
  stage.classList.remove('is-pointing');
  if (hoveredDroneID || hoveredHubID) {
    hoveredDroneID = null;
    hoveredHubID = null;
    invalidate();
  }
});

liveCanvas.addEventListener('click', (event) => {
  if (!bounds) return;
  const [px, py] = pointerPosition(event);
  if (pick) {
    pickPoint(px, py);
    return;
  }
  const drone = droneAt(px, py);
  const hub = drone ? null : hubAt(px, py);
  if (hub) selectHub(hub.id !== selectedHubID ? hub.id : null);
  else selectDrone(drone && drone.id !== selectedDroneID ? drone.id : null);
  if (!drone && !hub) showDeliveryOnMap(null);
});

$('find-drone').addEventListener('submit', (event) => {
  event.preventDefault();
  const wanted = $('find-drone-id').value.trim();
  if (!wanted) return selectDrone(null);
  const id = drones.has(wanted) ? wanted : [...drones.keys()].find((key) => key.toLowerCase() === wanted.toLowerCase());
  if (!id) {
    $('selection-status').textContent = format(t('fleet_find_none'), { id: wanted });
    return;
  }
  hiddenLayers.delete(drones.get(id).state);
  syncLegend();
  selectDrone(id);
});

// Legend: each entry switches its layer on and off

function syncLegend() {
  for (const button of document.querySelectorAll('.legend-item')) {
    button.setAttribute('aria-pressed', String(!hiddenLayers.has(button.dataset.layer)));
  }
}

$('map-legend').addEventListener('click', (event) => {
  const button = event.target.closest('.legend-item');
  if (!button) return;
  const layer = button.dataset.layer;
  if (hiddenLayers.has(layer)) hiddenLayers.delete(layer);
  else hiddenLayers.add(layer);
  syncLegend();
  invalidate();
});

/** Legend counts and the map's summary (visible, and the canvas's accessible name). */
function updateCounts() {
  if (!countsDirty) return;
  countsDirty = false;
  const counts = Object.fromEntries(DRONE_STATES.map((state) => [state, 0]));
  for (const drone of drones.values()) if (drone.state in counts) counts[drone.state]++;
  counts.pending = pending.size;
  for (const button of document.querySelectorAll('.legend-item')) {
    button.querySelector('.legend-count').textContent = integer.format(counts[button.dataset.layer] ?? 0);
  }
  const summary = format(t('fleet_map_summary'), {
    drones: integer.format(drones.size), pending: integer.format(pending.size), points: integer.format(chargingPoints.length),
  });
  $('map-summary').textContent = summary;
  liveCanvas.setAttribute('aria-label', `${t('fleet_map')}: ${summary}`);
  showEmptyHint();
}

// Zones and charging points

async function loadZones() {
  const answer = await api('GET', '/api/v1/zones');
  bounds = answer?.bounds ?? null;
  zones = answer?.zones ?? [];
  if (!bounds) return;
  $('map-loading').hidden = true;
  updateCoordinateLimits();
  view.width = 0; // lay out again even at the same size
  layoutMap();
}

/** Charging points change their pads in use without an event: re-read with the statistics. */
async function loadChargingPoints() {
  const answer = await api('GET', '/api/v1/charging-points');
  const next = answer?.charging_points ?? [];
  const key = (list) => JSON.stringify(list.map((p) => [p.id, p.name, p.position?.x, p.position?.y, p.pads, p.pads_in_use]));
  if (key(next) === key(chargingPoints)) return;
  chargingPoints = next;
  landmarks = null;
  countsDirty = true;
  invalidate();
}

// Deliveries: the table, the pending markers

/** A delivery from the API or a message, into the pending markers, the table and the selection. */
function applyDelivery(delivery) {
  if (!delivery?.id) return;
  if (delivery.state === 'pending' && delivery.origin) pending.set(delivery.id, delivery.origin);
  else pending.delete(delivery.id);
  countsDirty = true;
  const current = tableModel.get(delivery.id);
  const newer = !current || !Number.isFinite(current.version) || !Number.isFinite(delivery.version) || delivery.version >= current.version;
  if (newer) {
    const filter = filterSelect.value;
    if (!filter || delivery.state === filter) tableModel.set(delivery.id, delivery);
    else tableModel.delete(delivery.id);
    scheduleTable();
  }
  if (selectedDelivery?.id === delivery.id && newer) selectedDelivery = delivery;
  invalidate();
}

function logDelivery(delivery) {
  deliveryLog.push([++eventSeq, delivery]);
  if (deliveryLog.length > EVENT_LOG_SIZE) deliveryLog.splice(0, deliveryLog.length - EVENT_LOG_SIZE);
}

/** Delivery messages that arrived after `seq`: replayed over a load that may have been read before them. */
const loggedSince = (seq) => deliveryLog.filter(([at]) => at > seq).map(([, delivery]) => delivery);

async function loadTable() {
  tableController?.abort();
  tableController = new AbortController();
  const { signal } = tableController;
  const startedAt = eventSeq;
  const query = new URLSearchParams({ limit: String(TABLE_LIMIT) });
  if (filterSelect.value) query.set('state', filterSelect.value);
  $('deliveries').setAttribute('aria-busy', 'true');
  try {
    const answer = await api('GET', `/api/v1/deliveries?${query}`, undefined, { signal });
    if (signal.aborted) return;
    tableModel.clear();
    for (const delivery of answer?.deliveries ?? []) tableModel.set(delivery.id, delivery);
    for (const delivery of loggedSince(startedAt)) applyDelivery(delivery);
    renderTable();
  } catch (error) {
    if (signal.aborted) return;
    tableModel.clear();
    renderTable();
    toast(problemText(error), 'error');
  } finally {
    if (!signal.aborted) $('deliveries').setAttribute('aria-busy', 'false');
  }
}

async function loadPending() {
  const seq = ++pendingSeq;
  const startedAt = eventSeq;
  const answer = await api('GET', `/api/v1/deliveries?state=pending&limit=${PENDING_LIMIT}`);
  if (seq !== pendingSeq) return;
  pending.clear();
  for (const delivery of answer?.deliveries ?? []) if (delivery.origin) pending.set(delivery.id, delivery.origin);
  for (const delivery of loggedSince(startedAt)) {
    if (delivery.state === 'pending' && delivery.origin) pending.set(delivery.id, delivery.origin);
    else pending.delete(delivery.id);
  }
  countsDirty = true;
  invalidate();
}

function scheduleTable() {
  if (!tableTimer) tableTimer = setTimeout(() => { tableTimer = 0; renderTable(); }, TABLE_DEBOUNCE_MS);
}

function fillRow(tr, delivery) {
  const hadFocus = tr.contains(document.activeElement) ? document.activeElement.dataset.action : null;
  const reason = delivery.reason ? h('span', { class: 'reason small muted' }, delivery.reason) : null;
  const droneCell = delivery.drone_id
    ? h('button', { type: 'button', class: 'link-button mono', 'data-action': 'drone', 'data-drone': delivery.drone_id,
      'aria-label': format(t('fleet_show_drone'), { id: delivery.drone_id }) }, delivery.drone_id)
    : noValue();
  const actions = CANCELLABLE.has(delivery.state)
    ? h('button', { type: 'button', class: 'button small-button', 'data-action': 'cancel',
      'aria-label': format(t('fleet_cancel_delivery'), { id: shortID(delivery.id) }) }, t('fleet_cancel'))
    : null;
  tr.replaceChildren(
    h('td', {}, h('button', { type: 'button', class: 'link-button mono', 'data-action': 'show', title: delivery.id,
      'aria-label': format(t('fleet_show_delivery'), { id: shortID(delivery.id) }) }, shortID(delivery.id))),
    h('td', {}, h('span', { class: `dstate dstate-${delivery.state}` }, deliveryStateName(delivery.state)), reason ? ' ' : null, reason),
    h('td', { class: 'num' }, Number.isFinite(delivery.weight_kg) ? kilograms.format(delivery.weight_kg) : noValue()),
    h('td', { class: 'num' }, Number.isFinite(delivery.priority) ? integer.format(delivery.priority) : noValue()),
    h('td', {}, droneCell),
    timeCell(delivery.created_at),
    timeCell(lastStep(delivery)),
    h('td', { class: 'actions' }, actions),
  );
  tr.dataset.id = delivery.id;
  tr.classList.toggle('is-selected', selectedDelivery?.id === delivery.id);
  // A row that changed under the keyboard keeps its focus on the same control, when it still has one.
  if (hadFocus) (tr.querySelector(`[data-action="${hadFocus}"]`) ?? tr.querySelector('button'))?.focus();
}

/**
 * Brings the rows in line with the model without rebuilding the table: unchanged rows stay (with their focus),
 * changed ones are refilled, new ones are inserted in place (rows never move: creation times do not change).
 */
function renderTable() {
  clearTimeout(tableTimer);
  tableTimer = 0;
  const list = [...tableModel.values()].sort(newestFirst);
  for (const delivery of list.slice(TABLE_LIMIT)) tableModel.delete(delivery.id);
  list.length = Math.min(list.length, TABLE_LIMIT);
  const wanted = new Set(list.map((delivery) => delivery.id));
  for (const [id, row] of rows) {
    if (!wanted.has(id)) {
      row.tr.remove();
      rows.delete(id);
    }
  }
  let next = rowsBody.firstElementChild;
  for (const delivery of list) {
    let row = rows.get(delivery.id);
    if (!row) {
      row = { tr: h('tr'), key: '' };
      rows.set(delivery.id, row);
    }
    const key = `${delivery.version}|${delivery.state}|${delivery.drone_id}|${selectedDelivery?.id === delivery.id}`;
    if (row.key !== key) {
      fillRow(row.tr, delivery);
      row.key = key;
    }
    if (row.tr === next) next = next.nextElementSibling;
    else rowsBody.insertBefore(row.tr, next);
  }
  $('deliveries-empty').hidden = list.length > 0;
  $('deliveries-count').textContent = list.length ? format(t('fleet_deliveries_shown'), { n: integer.format(list.length) }) : '';
}

/** Shows a delivery's route on the map (and pins its drone); null clears it. */
function showDeliveryOnMap(delivery) {
  if (!delivery && !selectedDelivery) return;
  const previous = selectedDelivery?.id;
  selectedDelivery = delivery && delivery.id !== previous ? delivery : null;
  for (const row of rows.values()) row.key = ''; // the selected row's highlight
  renderTable();
  if (selectedDelivery?.drone_id && drones.has(selectedDelivery.drone_id)) selectDrone(selectedDelivery.drone_id);
  if (selectedDelivery) {
    $('selection-status').textContent = format(t('fleet_delivery_on_map'), {
      id: shortID(selectedDelivery.id), state: deliveryStateName(selectedDelivery.state),
    });
    revealMap();
  }
  invalidate();
}

function revealMap() {
  const rect = mapBox.getBoundingClientRect();
  if (rect.bottom < 0 || rect.top > window.innerHeight) {
    const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    mapBox.scrollIntoView({ block: 'nearest', behavior: smooth ? 'smooth' : 'auto' });
  }
}

/** A modal confirm built on <dialog>: resolves with the button's value ('' when dismissed with Escape). */
function ask(dialog) {
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
}

async function cancelDelivery(id, button) {
  $('cancel-text').textContent = format(t('fleet_cancel_question'), { id: shortID(id) });
  if (await ask($('cancel-dialog')) !== 'confirm') {
    button.focus();
    return;
  }
  button.disabled = true;
  try {
    const delivery = await api('POST', `/api/v1/deliveries/${encodeURIComponent(id)}/cancel`);
    applyDelivery(delivery);
    renderTable();
    toast(format(t('fleet_cancelled'), { id: shortID(id) }));
    scheduleStats(0);
  } catch (error) {
    toast(problemText(error), 'error');
  } finally {
    if (button.isConnected) button.disabled = false;
  }
}

rowsBody.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  const id = button?.closest('tr')?.dataset.id;
  if (!button || !id) return;
  if (button.dataset.action === 'cancel') cancelDelivery(id, button);
  else if (button.dataset.action === 'show') showDeliveryOnMap(tableModel.get(id) ?? null);
  else if (button.dataset.action === 'drone') {
    const droneID = button.dataset.drone;
    if (!drones.has(droneID)) {
      $('selection-status').textContent = format(t('fleet_find_none'), { id: droneID });
      return;
    }
    hiddenLayers.delete(drones.get(droneID).state);
    syncLegend();
    selectDrone(droneID);
    revealMap();
  }
});

filterSelect.addEventListener('change', () => {
  tableModel.clear();
  loadTable();
});

// Statistics

/** Loads the statistics at the latest `delay` ms from now (an earlier call that is due sooner wins). */
function scheduleStats(delay) {
  const due = Date.now() + delay;
  if (statsTimer && due >= statsDueAt) return;
  clearTimeout(statsTimer);
  statsDueAt = due;
  statsTimer = setTimeout(loadStats, delay);
}

async function loadStats() {
  statsTimer = 0;
  statsDueAt = Infinity;
  // A tab nobody looks at does not poll; it catches up when it is seen again.
  if (document.hidden) return;
  const seq = ++statsSeq;
  const [stats, points] = await Promise.allSettled([api('GET', '/api/v1/fleet/stats'), loadChargingPoints()]);
  if (seq !== statsSeq) return;
  if (stats.status === 'fulfilled') {
    showStats(stats.value);
    $('stats-problem').textContent = '';
  } else {
    $('stats-problem').textContent = problemText(stats.reason);
  }
  if (points.status === 'rejected') console.debug('turno fleet: charging points not read', points.reason);
  scheduleStats(STATS_EVERY_MS);
}

function showStats(stats) {
  const count = (value) => (Number.isFinite(value) ? integer.format(value) : noValue());
  $('stat-backlog').textContent = count(stats?.backlog);
  $('stat-delivered').textContent = count(stats?.delivered_last_hour);
  $('stat-failed').textContent = count(stats?.failed_last_hour);
  $('stat-assignment').textContent = percentiles(stats?.assignment_latency_seconds);
  $('stat-delivery-time').textContent = percentiles(stats?.delivery_time_seconds);
  const byState = stats?.drones ?? {};
  const states = [...DRONE_STATES, ...Object.keys(byState).filter((state) => !DRONE_STATES.includes(state))];
  let total = 0;
  $('stat-drones').replaceChildren(...states.map((state) => {
    const n = Number(byState[state] ?? 0);
    total += n;
    return h('li', { class: n ? null : 'is-zero' },
      h('span', { class: `swatch state-${state}` }), h('span', { class: 'state-name' }, droneStateName(state)),
      h('span', { class: 'state-count' }, integer.format(n)));
  }));
  $('stat-drones-total').textContent = format(t('fleet_stat_drones_total'), { n: integer.format(total) });
  $('stats-updated').textContent = format(t('fleet_stats_updated'), { time: clock.format(new Date()) });
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) scheduleStats(0);
});

// The new-delivery form

function updateCoordinateLimits() {
  if (!bounds) return;
  for (const [field, axis] of [[input.originX, 'x'], [input.originY, 'y'], [input.destinationX, 'x'], [input.destinationY, 'y']]) {
    field.min = String(bounds[`min_${axis}`]);
    field.max = String(bounds[`max_${axis}`]);
  }
}

function setPick(mode) {
  pick = mode;
  pickButton.setAttribute('aria-pressed', String(Boolean(mode)));
  stage.classList.toggle('is-picking', Boolean(mode));
  const text = mode ? t(`fleet_pick_${mode}`) : '';
  $('pick-status').textContent = text;
  $('map-pick-hint').textContent = text;
  $('map-pick-hint').hidden = !mode;
  if (mode) {
    hoveredDroneID = null;
    hoveredHubID = null;
    revealMap();
  }
  invalidate();
}

/** Fills the point being picked from a click on the map (whole units, within the bounds); origin, then destination. */
function pickPoint(px, py) {
  const x = Math.round(clamp(worldX(px), bounds.min_x, bounds.max_x));
  const y = Math.round(clamp(worldY(py), bounds.min_y, bounds.max_y));
  const [xInput, yInput] = pick === 'origin' ? [input.originX, input.originY] : [input.destinationX, input.destinationY];
  xInput.value = String(x);
  yInput.value = String(y);
  xInput.removeAttribute('aria-invalid');
  yInput.removeAttribute('aria-invalid');
  if (pick === 'origin') {
    setPick('destination');
  } else {
    setPick(null);
    $('pick-status').textContent = t('fleet_pick_done');
    if (!input.weight.value) input.weight.focus({ preventScroll: true });
  }
}

pickButton.addEventListener('click', () => setPick(pick ? null : 'origin'));

document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || document.querySelector('dialog[open]')) return;
  if (pick) setPick(null);
  else if (selectedDroneID || selectedHubID || selectedDelivery) {
    selectDrone(null);
    showDeliveryOnMap(null);
  }
});

/** Reads and checks the form: `{ body }`, or `{ error, field }` for the first field to fix. */
function readForm() {
  for (const field of Object.values(input)) field.removeAttribute('aria-invalid');
  const coordinate = (field, axis) => {
    const value = field.valueAsNumber;
    if (!Number.isFinite(value)) return { error: t('fleet_error_coordinate_missing'), field };
    if (bounds && (value < bounds[`min_${axis}`] || value > bounds[`max_${axis}`])) {
      return { error: format(t('fleet_error_coordinate_range'), {
        axis: t(`fleet_${axis}`), min: integer.format(bounds[`min_${axis}`]), max: integer.format(bounds[`max_${axis}`]),
      }), field };
    }
    return { value };
  };
  const parts = [
    coordinate(input.originX, 'x'), coordinate(input.originY, 'y'),
    coordinate(input.destinationX, 'x'), coordinate(input.destinationY, 'y'),
  ];
  const failed = parts.find((part) => part.error);
  if (failed) return failed;
  const weight = input.weight.valueAsNumber;
  if (!(weight > 0)) return { error: t('fleet_error_weight'), field: input.weight };
  const priority = input.priority.value === '' ? 0 : input.priority.valueAsNumber;
  if (!Number.isInteger(priority) || priority < 0 || priority > 9) return { error: t('fleet_error_priority'), field: input.priority };
  const [ox, oy, dx, dy] = parts.map((part) => part.value);
  return { body: { origin: { x: ox, y: oy }, destination: { x: dx, y: dy }, weight_kg: weight, priority } };
}

const showFormProblem = (text) => { $('new-problem').textContent = text; };

form.addEventListener('input', () => invalidate());

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (posting) return;
  const checked = readForm();
  if (checked.error) {
    checked.field.setAttribute('aria-invalid', 'true');
    showFormProblem(checked.error);
    checked.field.focus();
    return;
  }
  // The same values sent again after a failure are a retry: the same key, so the server makes one delivery.
  const body = JSON.stringify(checked.body);
  if (attempt?.body !== body) attempt = { body, key: newKey() };
  posting = true;
  $('new-submit').disabled = true;
  form.setAttribute('aria-busy', 'true');
  showFormProblem('');
  try {
    const delivery = await api('POST', '/api/v1/deliveries', checked.body, { idempotencyKey: attempt.key });
    attempt = null;
    applyDelivery(delivery);
    renderTable();
    toast(format(t('fleet_posted'), { id: shortID(delivery?.id) }));
    for (const field of [input.originX, input.originY, input.destinationX, input.destinationY, input.weight]) field.value = '';
    $('pick-status').textContent = '';
    scheduleStats(0);
  } catch (error) {
    showFormProblem(problemText(error));
  } finally {
    posting = false;
    $('new-submit').disabled = false;
    form.setAttribute('aria-busy', 'false');
    invalidate();
  }
});

// Live

function onMessage(message) {
  const type = String(message?.type ?? '');
  if (type === 'drone.positions') {
    applyPositions(message.data?.drones);
  } else if (type === 'drone.registered' || type === 'drone.changed') {
    applyDrone(message.data);
    if (selectedDroneID === message.data?.id) selectDrone(selectedDroneID);
    invalidate();
    scheduleStats(STATS_AFTER_EVENT_MS);
  } else if (type.startsWith('delivery.')) {
    logDelivery(message.data);
    applyDelivery(message.data);
    scheduleStats(STATS_AFTER_EVENT_MS);
  }
}

/** After a reconnect: positions pushed meanwhile are lost, so everything is read again. */
async function reloadAll() {
  scheduleStats(0);
  const results = await Promise.allSettled([
    bounds ? Promise.resolve() : loadZones(),
    loadDrones(),
    loadPending(),
    loadTable(),
  ]);
  const failure = results.find((result) => result.status === 'rejected');
  showProblem(failure ? problemText(failure.reason) : '');
}

// Start

if (data.me?.username) $('me-name').textContent = data.me.username;
readColors();
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  readColors();
  drawBase();
  invalidate();
});
// fleet.css makes the map a screen high less what is above the page's main part (the header, and any bar the layout
// adds): measured here, again when any of that changes height (a header wraps on a narrow window).
const main = document.querySelector('main.fleet');
function measureTop() {
  const top = `${Math.round(main.getBoundingClientRect().top + window.scrollY)}px`;
  if (document.body.style.getPropertyValue('--fleet-top') !== top) document.body.style.setProperty('--fleet-top', top);
}
const aboveMain = new ResizeObserver(measureTop);
for (let element = main.previousElementSibling; element; element = element.previousElementSibling) aboveMain.observe(element);
measureTop();
new ResizeObserver(() => layoutMap()).observe(mapBox);
new IntersectionObserver(([entry]) => {
  mapOnScreen = entry.isIntersecting;
  if (mapOnScreen) invalidate();
}).observe(stage);
window.addEventListener('resize', () => {
  measureTop();
  layoutMap();
});
setInterval(updateCounts, COUNTS_EVERY_MS);

/** For tests and the curious: the map's labels as laid out (CSS px of the map), shown or not. */
window.turnoFleet = {
  labels: () => [
    ...(landmarks?.zoneLabels ?? []).map(({ text, x, y, w, h }) => ({ kind: 'zone', text, x, y, w, h, shown: true })),
    ...(landmarks?.hubs ?? []).map((hub) => ({ kind: 'hub', id: hub.point.id, text: hub.label?.text ?? hubName(hub.point), ...(hub.label ?? {}), shown: Boolean(hub.label) })),
    ...(landmarks?.hubs ?? []).map((hub) => ({ kind: 'mark', id: hub.point.id, text: `mark ${hub.point.id}`, x: hub.x - 6, y: hub.y - 6, w: 12, h: 12, shown: true })),
  ],
};

new LiveConnection({ topics: [String(data.topic)], since: data.live_id, onMessage, onResync: reloadAll, strings: data.strings }).start();
reloadAll().then(updateCounts);
