// The fleetmap review page: fleet health table, history charts (uPlot), the published map
// (MapLibre GL on our vector tiles), version picker, change list and feature evidence.
// Everything comes from this service (/api/*, /tiles/*, /vendor/*). Data goes into the DOM only
// through textContent and attribute values, never as HTML.
import { Map as MapLibreMap, NavigationControl, Popup } from '/vendor/maplibre-gl/maplibre-gl.mjs';
import uPlot from '/vendor/uplot/uPlot.esm.js';

// One table of class styles: the map layers and the legend are built from it.
export const CLASSES = {
  lane_divider: { colour: '#ffd60a', kind: 'line', label: 'lane divider' },
  road_boundary: { colour: '#ff6d00', kind: 'line', label: 'road boundary' },
  stop_line: { colour: '#ff1744', kind: 'line', label: 'stop line' },
  crosswalk: { colour: '#00b4d8', kind: 'polygon', label: 'crosswalk' },
  traffic_sign: { colour: '#70e000', kind: 'point', label: 'traffic sign' },
  traffic_light: { colour: '#9d4edd', kind: 'point', label: 'traffic light' },
};
const HIGHLIGHT = '#ff2bd6'; // added / moved in this version
const REMOVED = '#a0a0a0'; // gone since the previous version (drawn from it, dashed)
const COVERAGE = '#3a86ff';
const DASHES = { dashed: [2, 2], mixed: [4, 1.5, 1, 1.5] };
const REFRESH_MS = 10_000;

const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
};

const state = { version: null, versions: [], diff: null, samples: [], tileMinZoom: 12, tileMaxZoom: 16, map: null, charts: {} };
const cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
// For people debugging in the console, and for the browser tests.
window.fleetmap = { state, CLASSES, cspViolations };

async function getJson(url) {
  const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

function status(text) {
  $('status').textContent = text;
}

// ---- time and number formatting ----

function ago(seconds) {
  if (seconds === null || seconds === undefined) return 'never';
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}
function duration(seconds) {
  return seconds === null || seconds === undefined ? '-' : ago(seconds).replace(' ago', '');
}
const iso = (ms) => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-');
const bytes = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`);
const counts = (r) => {
  const e = Object.entries(r ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return e.length ? e.map(([k, n]) => `${k}:${n}`).join(', ') : '-';
};

// ---- health table ----

async function refreshHealth() {
  const h = await getJson('/api/health');
  const body = $('health').tBodies[0];
  body.replaceChildren();
  if (!h.available) {
    $('health-summary').textContent = 'no health/fleet.json in the store yet (no ingest has written one)';
    return;
  }
  const silent = h.vehicles.filter((v) => v.silent).length;
  $('health-summary').textContent = `${h.vehicles.length} vehicles, ${silent} silent (not seen for over ${duration(h.thresholds.silentAfterS)}); health updated ${iso(h.updatedUnixMs)}`;
  for (const v of h.vehicles) {
    const tr = document.createElement('tr');
    tr.dataset.vehicle = v.vehicleId;
    tr.dataset.silent = String(v.silent);
    if (v.trouble.length) tr.classList.add('trouble');
    if (v.silent) tr.classList.add('silent');
    const cells = [
      ['vehicle', v.vehicleId],
      ['trouble', v.trouble.length ? v.trouble.map((t) => t.code).join(', ') : '-'],
      ['lastSeen', ago(v.lagS)],
      ['batches', v.batchesStored],
      ['duplicates', v.duplicates],
      ['refused', v.rejectedTotal ? counts(v.rejected) : '0'],
      ['stored', bytes(v.bytesStored)],
      ['observations', v.observationsStored],
      ['queue', v.lastQueueDepth ?? '-'],
      ['oldestUnsent', duration(v.oldestUnsentAgeS)],
      ['drops', v.dropsTotal ? counts(v.dropsByReason) : '0'],
      ['lastSeq', v.lastSeq ?? '-'],
    ];
    for (const [col, text] of cells) {
      const td = el('td', text);
      td.dataset.col = col;
      tr.append(td);
    }
    tr.title = v.trouble.map((t) => `${t.code}: ${t.detail}`).join('\n') + (v.lastRejectedReason ? `\nlast refusal: ${v.lastRejectedReason}` : '');
    body.append(tr);
  }
  const u = h.unattributed;
  $('unattributed').textContent = `refusals nobody authenticated: ${counts(u.rejected)}${u.recentUnknownSenders.length ? `; recent unauthenticated senders: ${u.recentUnknownSenders.join(', ')}` : ''}`;
}

// ---- history charts ----

/**
 * The samples with a gap marker (null) wherever the service was not sampling (a spacing over 3x
 * the median spacing: a restart, another interval), so the charts break there instead of
 * drawing a line across.
 */
function withGaps(samples) {
  const d = samples.slice(1).map((s, i) => s.tUnixMs - samples[i].tUnixMs).sort((a, b) => a - b);
  const median = d.length ? d[d.length >> 1] : 0;
  const out = [];
  samples.forEach((s, i) => {
    if (i > 0 && s.tUnixMs - samples[i - 1].tUnixMs > 3 * median) out.push({ gap: true, tUnixMs: (s.tUnixMs + samples[i - 1].tUnixMs) / 2 });
    out.push(s);
  });
  return out;
}

/** Increase of a cumulative figure since the previous sample; null at and just after a gap. */
function perSample(rows, key) {
  return rows.map((s, i) => (i === 0 || s.gap || rows[i - 1].gap ? null : Math.max(0, s[key] - rows[i - 1][key])));
}
const value = (rows, key) => rows.map((s) => (s.gap ? null : s[key] ?? null));

async function refreshHistory() {
  const last = state.samples.at(-1);
  const h = await getJson(last ? `/api/history?sinceUnixMs=${last.tUnixMs}` : '/api/history');
  state.samples = [...state.samples, ...h.samples].slice(-h.maxSamples);
  const s = state.samples;
  $('history-summary').textContent = s.length
    ? `${s.length} sample${s.length === 1 ? '' : 's'} (this service samples every ${h.intervalS} s and keeps the last ${h.maxSamples}), ${iso(s[0].tUnixMs)} to ${iso(s[s.length - 1].tUnixMs)}`
    : 'no samples yet (the service samples fleet health while it runs)';
  const rows = withGaps(s);
  const t = rows.map((x) => x.tUnixMs / 1000);
  const width = Math.max(320, Math.min(520, Math.floor((document.body.clientWidth - 80) / 3)));
  const make = (id, series, data) => {
    const opts = { width, height: 180, series: [{}, ...series], scales: { x: { time: true } }, axes: [{ stroke: '#9aa4ae', grid: { stroke: '#2c343d' } }, { stroke: '#9aa4ae', grid: { stroke: '#2c343d' }, size: 64 }] };
    if (state.charts[id]) state.charts[id].setData([t, ...data]);
    else state.charts[id] = new uPlot(opts, [t, ...data], $(id));
    // one sample: a few intervals of time around it, not uPlot's years-wide default
    if (t.length === 1) state.charts[id].setScale('x', { min: t[0] - 10 * h.intervalS, max: t[0] + h.intervalS });
  };
  make('chart-uploads', [{ label: 'batches', stroke: '#3a86ff', width: 2 }], [perSample(rows, 'batchesStored')]);
  make('chart-lag', [
    { label: 'max since seen s', stroke: '#ff5c5c', width: 2 },
    { label: 'median since seen s', stroke: '#ffb020', width: 2 },
    { label: 'oldest unsent s', stroke: '#70e000', width: 2 },
  ], [value(rows, 'maxLagS'), value(rows, 'medianLagS'), value(rows, 'maxOldestUnsentS')]);
  make('chart-drops', [
    { label: 'refused', stroke: '#ff5c5c', width: 2 },
    { label: 'duplicates', stroke: '#9aa4ae', width: 2 },
    { label: 'dropped on vehicles', stroke: '#ffb020', width: 2 },
  ], [perSample(rows, 'rejected'), perSample(rows, 'duplicates'), perSample(rows, 'drops')]);
}

// ---- map ----

const tileUrl = (v) => `${location.origin}/tiles/${v}/{z}/{x}/{y}.pbf`;
const NONE = ['literal', ['']];

function classLayers(source, idPrefix, filterIds) {
  const layers = [];
  const idFilter = (f) => (filterIds ? ['all', ['in', ['get', 'id'], filterIds], f] : f);
  const width = ['interpolate', ['linear'], ['zoom'], 14, 1.5, 18, 3, 21, 7];
  for (const [cls, st] of Object.entries(CLASSES)) {
    const base = { source, 'source-layer': cls };
    if (st.kind === 'line' && cls === 'lane_divider') {
      layers.push({ ...base, id: `${idPrefix}${cls}-solid`, type: 'line', filter: idFilter(['!', ['in', ['get', 'style'], ['literal', ['dashed', 'mixed']]]]), paint: { 'line-color': st.colour, 'line-width': width } });
      for (const [style, dash] of Object.entries(DASHES)) {
        layers.push({ ...base, id: `${idPrefix}${cls}-${style}`, type: 'line', filter: idFilter(['==', ['get', 'style'], style]), paint: { 'line-color': st.colour, 'line-width': width, 'line-dasharray': dash } });
      }
    } else if (st.kind === 'line') {
      layers.push({ ...base, id: `${idPrefix}${cls}`, type: 'line', filter: idFilter(['has', 'id']), paint: { 'line-color': st.colour, 'line-width': width } });
    } else if (st.kind === 'polygon') {
      layers.push({ ...base, id: `${idPrefix}${cls}-fill`, type: 'fill', filter: idFilter(['has', 'id']), paint: { 'fill-color': st.colour, 'fill-opacity': 0.35 } });
      layers.push({ ...base, id: `${idPrefix}${cls}`, type: 'line', filter: idFilter(['has', 'id']), paint: { 'line-color': st.colour, 'line-width': 1.5 } });
    } else {
      layers.push({ ...base, id: `${idPrefix}${cls}`, type: 'circle', filter: idFilter(['has', 'id']), paint: { 'circle-color': st.colour, 'circle-radius': ['interpolate', ['linear'], ['zoom'], 14, 2.5, 19, 6], 'circle-stroke-color': '#14181d', 'circle-stroke-width': 1 } });
    }
  }
  return layers;
}

/** Glow (added / moved) or grey dashed ghost (removed) under or over the class layers. */
function changeLayers(source, prefix, colour, dashed) {
  return Object.entries(CLASSES).map(([cls, st]) => {
    const base = { source, 'source-layer': cls, id: `${prefix}${cls}`, filter: ['in', ['get', 'id'], NONE] };
    if (st.kind === 'point') return { ...base, type: 'circle', paint: { 'circle-color': colour, 'circle-radius': dashed ? 7 : 11, 'circle-opacity': dashed ? 1 : 0.55 } };
    const paint = { 'line-color': colour, 'line-width': dashed ? 3 : 11, 'line-opacity': dashed ? 1 : 0.55 };
    if (dashed) paint['line-dasharray'] = [1.5, 1.5];
    return { ...base, type: 'line', paint };
  });
}

export const FEATURE_LAYERS = classLayers('map', 'map-').map((l) => l.id);

/** Without a version (or a previous one) the layers of that source start hidden: no tile requests. */
function buildStyle(version, previous) {
  const src = (v) => ({ type: 'vector', tiles: [tileUrl(v ?? version ?? 0)], minzoom: state.tileMinZoom, maxzoom: state.tileMaxZoom });
  const hidden = (layers, hide) => (hide ? layers.map((l) => ({ ...l, layout: { ...l.layout, visibility: 'none' } })) : layers);
  return {
    version: 8,
    sources: { map: src(version), prev: src(previous), coverage: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } } },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#14181d' } },
      { id: 'coverage', type: 'fill', source: 'coverage', paint: { 'fill-color': COVERAGE, 'fill-opacity': ['interpolate', ['linear'], ['get', 'drives'], 1, 0.1, 10, 0.3] } },
      ...hidden(changeLayers('map', 'changed-', HIGHLIGHT, false), version === null),
      ...hidden(classLayers('map', 'map-'), version === null),
      ...hidden(changeLayers('prev', 'removed-', REMOVED, true), previous === null),
    ],
  };
}

function legend() {
  const box = $('legend');
  box.replaceChildren();
  const row = (colour, label, dashed) => {
    const d = el('div');
    const sw = el('span', '', `swatch${dashed ? ' dashed' : ''}`);
    sw.style.backgroundColor = colour;
    sw.style.color = colour;
    d.append(sw, el('span', label));
    box.append(d);
  };
  for (const st of Object.values(CLASSES)) row(st.colour, st.label);
  row(CLASSES.lane_divider.colour, 'lane divider, dashed', true);
  row(HIGHLIGHT, 'added / moved in this version');
  row(REMOVED, 'removed since the previous version', true);
  row(COVERAGE, 'observed coverage (where drives saw something)');
}

function setChangeFilters(diff) {
  const map = state.map;
  const hi = diff && diff.previousVersion !== null ? diff.highlightIds : [];
  const rm = diff && diff.previousVersion !== null ? diff.removedIds : [];
  for (const cls of Object.keys(CLASSES)) {
    map.setFilter(`changed-${cls}`, ['in', ['get', 'id'], ['literal', hi.length ? hi : ['']]]);
    map.setFilter(`removed-${cls}`, ['in', ['get', 'id'], ['literal', rm.length ? rm : ['']]]);
  }
}

function renderDiff(diff) {
  const list = $('diff');
  list.replaceChildren();
  if (!diff) return;
  const t = diff.totals;
  const sum = (c) => Object.values(c ?? {}).reduce((a, n) => a + n, 0);
  if (diff.previousVersion === null) {
    $('diff-summary').textContent = `v${diff.version} is the first version: every feature is new (not highlighted)`;
    return;
  }
  $('diff-summary').textContent = `v${diff.version} against v${diff.previousVersion}: ${sum(t.added)} added, ${sum(t.moved)} moved, ${sum(t.removed)} removed (low-confidence churn: ${sum(t.lowConfidence.added)} appeared, ${sum(t.lowConfidence.removed)} disappeared)${diff.truncated ? `; ${diff.truncated} more not listed` : ''}`;
  for (const e of diff.entries) {
    const li = el('li', `${e.change} ${e.class ?? '?'} ${e.id} (tile ${e.tile})`, e.change);
    li.dataset.id = e.id;
    li.dataset.change = e.change;
    if (e.at) li.addEventListener('click', () => state.map.flyTo({ center: e.at, zoom: Math.max(state.map.getZoom(), 18) }));
    list.append(li);
  }
}

function setVisible(prefix, on) {
  for (const l of state.map.getStyle().layers) if (l.id.startsWith(prefix)) state.map.setLayoutProperty(l.id, 'visibility', on ? 'visible' : 'none');
}

async function setVersion(v) {
  const meta = state.versions.find((x) => x.version === v);
  if (!meta) return;
  state.version = v;
  document.body.dataset.version = String(v);
  $('version').value = String(v);
  $('version-info').textContent = `published ${iso(meta.createdUnixMs)}, ${meta.features} features in ${meta.tiles} tiles, from ${meta.inputBatchCount} batches`;
  const map = state.map;
  map.getSource('map').setTiles([tileUrl(v)]);
  if (meta.previousVersion !== null) map.getSource('prev').setTiles([tileUrl(meta.previousVersion)]);
  // a source whose layers are all hidden loads no tiles
  setVisible('map-', true);
  setVisible('changed-', true);
  setVisible('removed-', meta.previousVersion !== null);
  state.diff = await getJson(`/api/versions/${v}/diff`);
  if (state.version !== v) return; // another pick came in meanwhile
  setChangeFilters(state.diff);
  renderDiff(state.diff);
}

function showEvidence(f) {
  const p = f.properties;
  const cls = f.sourceLayer ?? f.layer['source-layer'];
  const rows = [
    ['class', cls],
    ['id', p.id],
    ...(p.style !== undefined ? [['style', p.style]] : []),
    ...(p.kind !== undefined ? [['kind', p.kind]] : []),
    ...(p.signCode !== undefined ? [['sign code', p.signCode]] : []),
    ['score', typeof p.score === 'number' ? p.score.toFixed(3) : '-'],
    ['support', `${p.supportDrives} drives, ${p.supportObservations} observations`],
    ['spread', typeof p.spreadM === 'number' ? `${(p.spreadM * 100).toFixed(1)} cm (drives around the consensus)` : 'n/a (measured for lines)'],
    ['seen by', typeof p.seenShare === 'number' ? `${Math.round(p.seenShare * 100)} % of the drives that passed` : '-'],
    ['first seen', iso(p.firstSeenUnixMs)],
    ['last seen', iso(p.lastSeenUnixMs)],
    ['version', `v${state.version}`],
  ];
  const fill = (dl) => {
    dl.replaceChildren();
    for (const [k, v] of rows) dl.append(el('dt', k), el('dd', v));
    return dl;
  };
  fill($('evidence'));
  $('evidence-hint').textContent = '';
  return fill(document.createElement('dl'));
}

async function refreshCoverage() {
  const c = await getJson('/api/coverage');
  state.map.getSource('coverage').setData(c);
  state.coverage = { cells: c.features.length, maxDrives: c.maxDrives, source: c.source };
  $('coverage-summary').textContent = c.features.length
    ? `${c.source}: ${c.features.length} cells from ${c.batches} batches, up to ${c.maxDrives} drives in a cell${c.skippedBatches ? ` (${c.skippedBatches} unreadable batches skipped)` : ''}`
    : `no coverage: the store holds no readable batches${c.skippedBatches ? ` (${c.skippedBatches} unreadable)` : ''}`;
}

async function startMap() {
  const vs = await getJson('/api/versions');
  state.versions = vs.versions;
  state.tileMinZoom = vs.tileMinZoom;
  state.tileMaxZoom = vs.tileMaxZoom;
  const select = $('version');
  select.replaceChildren();
  for (const v of vs.versions) {
    const o = el('option', `v${v.version}${v.version === vs.latest ? ' (latest)' : ''}`);
    o.value = String(v.version);
    select.append(o);
  }
  select.disabled = vs.versions.length === 0;
  const first = vs.latest;
  const firstMeta = vs.versions.find((x) => x.version === first);
  const map = new MapLibreMap({
    container: 'map',
    style: buildStyle(first, firstMeta?.previousVersion ?? null),
    bounds: vs.bounds ?? undefined,
    fitBoundsOptions: { padding: 20 },
    center: vs.bounds ? undefined : [0, 0],
    zoom: vs.bounds ? undefined : 1,
    attributionControl: false,
    canvasContextAttributes: { preserveDrawingBuffer: true },
    maxZoom: 22,
  });
  state.map = map;
  window.fleetmap.map = map;
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  legend();
  await new Promise((resolve) => map.once('load', resolve));
  select.addEventListener('change', () => void setVersion(Number(select.value)).catch((e) => status(String(e.message))));
  map.on('click', (e) => {
    const box = [[e.point.x - 5, e.point.y - 5], [e.point.x + 5, e.point.y + 5]];
    const hits = map.queryRenderedFeatures(box, { layers: FEATURE_LAYERS });
    if (!hits.length) return;
    new Popup({ closeButton: true, maxWidth: '320px' }).setLngLat(e.lngLat).setDOMContent(showEvidence(hits[0])).addTo(map);
  });
  for (const id of FEATURE_LAYERS) {
    map.on('mouseenter', id, () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', id, () => (map.getCanvas().style.cursor = ''));
  }
  await refreshCoverage();
  if (first !== null) await setVersion(first);
  else $('diff-summary').textContent = 'no published map version yet (run fleetmap cloud merge)';
}

async function main() {
  // Opened with ?token=: the service answered with a cookie; keep the token out of the address bar and history.
  if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', location.pathname);
  status('loading');
  const results = await Promise.allSettled([refreshHealth(), refreshHistory(), startMap()]);
  const failed = results.filter((r) => r.status === 'rejected');
  status(failed.length ? `failed: ${failed.map((r) => r.reason?.message ?? r.reason).join('; ')}` : 'ready');
  document.body.dataset.ready = 'true';
  setInterval(() => {
    Promise.all([refreshHealth(), refreshHistory()]).catch((e) => status(`refresh failed: ${e.message}`));
  }, REFRESH_MS);
}

void main();
