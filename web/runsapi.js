// gantry lab --runs: the runs dashboard's and the latent explorer's HTTP API (docs/DASHBOARD.md),
// as the page uses it. Errors are ApiError (api.js) with the server's {"error": ...} message.

import { ApiError } from './api.js';

async function getJson(path, init, pending = null) {
  let r;
  try {
    r = await (pending || fetch(path, init));
  } catch (e) {
    throw new ApiError(`cannot reach the gantry process (${e.message})`, 0);
  }
  const text = await r.text();
  let json = null;
  if (text) { try { json = JSON.parse(text); } catch { json = null; } }
  if (!r.ok) throw new ApiError((json && json.error) || `${path}: HTTP ${r.status}`, r.status);
  return json;
}

const enc = encodeURIComponent;

export const runsApi = {
  list: () => getJson('/api/runs'),
  listEventsUrl: () => '/api/runs/events',
  run: (name) => getJson(`/api/runs/${enc(name)}`),
  metrics: (name, max = 2000, keys = null) =>
    getJson(`/api/runs/${enc(name)}/metrics?max=${max}${keys && keys.length ? `&keys=${keys.map(enc).join(',')}` : ''}`),
  // the metrics index.html asked for before the modules loaded (a run's page opened by its link)
  prefetchedMetrics(name) {
    const p = window.gantryPrefetch;
    if (!p || !p.metrics) return null;
    window.gantryPrefetch = null;
    let n = p.name;
    try { n = decodeURIComponent(n); } catch { /* as is */ }
    return n === name ? getJson('/api/runs/…/metrics', null, p.metrics) : null;
  },
  eventsUrl: (name) => `/api/runs/${enc(name)}/events`,
  grids: (name, offset = 0, limit = 200) => getJson(`/api/runs/${enc(name)}/grids?offset=${offset}&limit=${limit}`),
  // FILE is 'samples/step_000500.png': its slash stays a slash
  fileUrl: (name, file) => `/api/runs/${enc(name)}/file/${file.split('/').map(enc).join('/')}`,
  // the slash of checkpoints/step_N.safetensors stays a slash (the server reads %2F as no slash)
  exploreInfo: (name, ckpt) => getJson(`/api/explore/info?run=${enc(name)}&ckpt=${ckpt.split('/').map(enc).join('/')}`),

  // POST /api/explore: a PNG; {blob, ms (the server's X-Gantry-Ms), wall (ms, here)}
  async explore(body, signal) {
    const t0 = performance.now();
    let r;
    try {
      r = await fetch('/api/explore', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(`cannot reach the gantry process (${e.message})`, 0);
    }
    if (!r.ok) {
      let msg = `explore: HTTP ${r.status}`;
      try { const j = await r.json(); if (j && j.error) msg = j.error; } catch { /* not JSON */ }
      throw new ApiError(msg, r.status);
    }
    const blob = await r.blob();
    const h = r.headers.get('X-Gantry-Ms');
    return { blob, ms: h !== null && h !== '' ? Number(h) : NaN, wall: performance.now() - t0 };
  },
};

// --- small shared helpers of the dashboard's views --------------------------------------------------

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style') el.style.cssText = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function fmtNum(v, digits = 4) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return '–';
  const x = Number(v);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2);
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return String(+x.toPrecision(digits));
}

export function fmtInt(v) {
  return Number.isFinite(Number(v)) && v !== null ? Math.round(Number(v)).toLocaleString('en-US') : '–';
}

export function fmtBytes(b) {
  if (!Number.isFinite(b)) return '–';
  if (b < 1024) return `${b} B`;
  const u = ['KB', 'MB', 'GB', 'TB'];
  let x = b / 1024, i = 0;
  while (x >= 1024 && i < u.length - 1) { x /= 1024; i++; }
  return `${x < 10 ? x.toFixed(1) : Math.round(x)} ${u[i]}`;
}

export function fmtAgo(unix, now = Date.now() / 1000) {
  if (!Number.isFinite(unix) || unix === null) return '–';
  const s = Math.max(0, Math.round(now - unix));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// a link to the latent explorer of a run's checkpoint
export function exploreHref(name, file) {
  return `#/explore/${encodeURIComponent(name)}?ckpt=${String(file).split('/').map(encodeURIComponent).join('/')}`;
}

export const STATES = ['running', 'finished', 'interrupted', 'failed'];

export function stateBadge(state) {
  const s = STATES.includes(state) ? state : 'unknown';
  return h('span', { class: `state state-${s}`, dataset: { state: s } }, state || 'unknown');
}

// config.json -> [[dotted key, value], ...] (model.ngf, ...); arrays are kept whole
export function flatten(obj, prefix = '', out = []) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    out.push([prefix, obj]);
    return out;
  }
  const keys = Object.keys(obj);
  if (!keys.length && prefix) out.push([prefix, {}]);
  for (const k of keys) flatten(obj[k], prefix ? `${prefix}.${k}` : k, out);
  return out;
}

export function fmtValue(v) {
  if (v === undefined) return '—';
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

// series colours (runs in compare, series in a chart)
export const PALETTE = ['#2563eb', '#e11d48', '#12a06b', '#f59e0b', '#8b5cf6', '#0891b2', '#db2777', '#65a30d', '#ea580c', '#475569'];
