// gantry lab: the page. One session (experiment) per tab on the gantry process (docs/LAB.md); the
// controls write its config, the frames of its event stream are drawn by the layered view, the
// model graph and the charts; every hyperparameter is mirrored in the URL.

import { api, ApiError } from './api.js';
import { FIELDS, parseField, configFromQuery, queryFromConfig } from './urlstate.js';
import { LayeredView, LAYERS } from './view.js';
import { ModelGraph } from './graph.js';
import { SeriesChart } from './charts.js';
import { toast } from './toast.js';

const $ = (sel) => document.querySelector(sel);

const state = {
  options: null,
  id: null,
  config: null,
  epoch: 0,
  playing: false,
  slow: false,
  frame: null,
  trace: null,
  traceMode: false,
  drawMode: false,
  wasPlaying: false,
  events: null,
  rate: [],            // [time ms, epoch] of the recent frames: epochs/s
  busy: 0,
};

const view = new LayeredView($('#view'));
const graph = new ModelGraph($('#graph'));
const lossChart = new SeriesChart($('#chart-loss'), [{ label: 'loss_D', color: '#0ea5e9' }, { label: 'loss_G', color: '#8b5cf6' }]);
const divChart = new SeriesChart($('#chart-div'), [{ label: 'KL', color: '#e11d48' }, { label: 'JS', color: '#f59e0b' }], { yMin: 0 });

// --- small helpers ---------------------------------------------------------------------------------

function fmtEpoch(e) {
  const s = String(Math.max(0, Math.floor(e))).padStart(6, '0');
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
const fmt = (v, d) => (Number.isFinite(v) ? v.toFixed(d) : '–');

function setConn(text, cls) {
  const c = $('#conn');
  c.textContent = text;
  c.className = `conn ${cls || ''}`;
}

// --- the session -----------------------------------------------------------------------------------
function requestConfig(c) {
  // the whole config for a new session: drawn points only with drawn data
  const out = { ...c };
  if (out.data !== 'drawn') delete out.drawn;
  return out;
}

async function createSession(config) {
  const s = await api.create(config ? requestConfig(config) : {});
  state.id = s.id;
  document.body.dataset.session = s.id;
  applySession(s);
  openEvents();
  return s;
}

// Runs fn(id); a session the server no longer has (freed when idle) is created again with the
// config we had, and fn runs once more.
async function withSession(fn) {
  try {
    return await fn(state.id);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && state.config) {
      await createSession(state.config);
      return await fn(state.id);
    }
    throw e;
  }
}

function applySession(s) {
  const before = state.config;
  const prevEpoch = state.epoch;
  state.config = s.config;
  state.playing = !!s.playing;
  if (typeof s.slow === 'boolean') state.slow = s.slow;
  state.epoch = s.epoch;
  if (s.epoch < prevEpoch || (s.epoch === 0 && prevEpoch !== 0)) {
    lossChart.clear(); divChart.clear(); state.rate = [];
    if (state.trace) { state.trace = null; view.setTrace(null); }
  }
  syncControls();
  syncTransport();
  $('#epoch').textContent = fmtEpoch(state.epoch);
  if (!before || JSON.stringify(before) !== JSON.stringify(s.config)) {
    $('#graph-caption').textContent = graph.update(s.config);
    writeUrl();
  }
}

function syncControls() {
  const c = state.config;
  for (const el of document.querySelectorAll('[data-field]')) {
    const f = el.dataset.field;
    if (c[f] === undefined || document.activeElement === el && el.tagName === 'INPUT') continue;
    const v = FIELDS[f] === 'float' ? String(+Number(c[f]).toPrecision(6)) : String(c[f]);
    if (el.value !== v) el.value = v;
    el.classList.remove('invalid');
  }
  $('#gp').disabled = c.loss !== 'wgan-gp';
  $('#data-select').dataset.value = c.data;
}

function syncTransport() {
  $('#play').hidden = state.playing;
  $('#pause').hidden = !state.playing;
  document.body.dataset.playing = state.playing ? 'true' : 'false';
  $('#slow').checked = state.slow;
}

function writeUrl() {
  if (!state.config) return;
  const q = queryFromConfig(state.config, state.options && state.options.defaults);
  const url = `${location.pathname}${q ? `?${q}` : ''}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
}

// --- frames ----------------------------------------------------------------------------------------
let renderQueued = false;
function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    view.render();
  });
}

const frameListeners = new Set();
function onFrame(f) {
  state.frame = f;
  for (const fn of frameListeners) fn(f);
  if (f.epoch < state.epoch) { lossChart.clear(); divChart.clear(); state.rate = []; }
  state.epoch = f.epoch;
  const now = performance.now();
  state.rate.push([now, f.epoch]);
  while (state.rate.length > 2 && now - state.rate[0][0] > 1500) state.rate.shift();
  $('#epoch').textContent = fmtEpoch(f.epoch);
  $('#epoch').dataset.value = String(f.epoch);
  showMetrics(f);
  if (f.epoch > 0) {
    lossChart.push(f.epoch, [f.loss_d, f.loss_g]);
    divChart.push(f.epoch, [f.kl, f.js]);
  }
  view.setFrame(f);
  queueRender();
}

function showMetrics(f) {
  const set = (id, v, d) => { const el = $(id); el.textContent = fmt(v, d); el.dataset.value = String(v); };
  set('#kl-value', f.kl, 3);
  set('#js-value', f.js, 3);
  set('#loss-d-value', f.loss_d, 4);
  set('#loss-g-value', f.loss_g, 4);
  graph.setLosses(f.loss_d, f.loss_g);
}

function updateRate() {
  const r = state.rate, now = performance.now();
  let eps = 0;
  if (r.length >= 2 && now - r[r.length - 1][0] < 1000) {
    const [t0, e0] = r[0], [t1, e1] = r[r.length - 1];
    if (t1 > t0) eps = ((e1 - e0) * 1000) / (t1 - t0);
  }
  const el = $('#eps');
  el.textContent = `${eps >= 100 ? Math.round(eps) : eps.toFixed(1)} epochs/s`;
  el.dataset.value = String(eps);
}
setInterval(updateRate, 400);
setInterval(() => { lossChart.flush(); divChart.flush(); }, 150);

async function refreshFrame() {
  try {
    const f = await withSession((id) => api.frame(id));
    onFrame(f);
  } catch (e) { report(e); }
}

async function loadHistory() {
  try {
    const h = await withSession((id) => api.history(id));
    const pts = (h && h.points) || [];
    lossChart.setAll(pts.map((p) => [p[0], p[1], p[2]]));
    divChart.setAll(pts.map((p) => [p[0], p[3], p[4]]));
  } catch (e) { report(e); }
}

function openEvents() {
  if (state.events) state.events.close();
  const id = state.id;
  const es = new EventSource(api.eventsUrl(id, 30));
  state.events = es;
  setConn('connecting…');
  es.addEventListener('frame', (ev) => {
    if (state.id !== id) return;
    try { onFrame(JSON.parse(ev.data)); } catch (e) { console.error('bad frame', e); }
  });
  es.onopen = () => { setConn('live', 'ok'); loadHistory(); };
  es.onerror = async () => {
    if (state.id !== id) return;
    setConn(es.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…', 'bad');
    if (es.readyState === EventSource.CLOSED) {
      // the session may have been freed: make a new one with the same config
      try { await api.get(id); setTimeout(() => { if (state.id === id) openEvents(); }, 1000); } catch (e) {
        if (e instanceof ApiError && e.status === 404) { try { await createSession(state.config); } catch (e2) { report(e2); } }
        else setTimeout(() => { if (state.id === id) openEvents(); }, 2000);
      }
    }
  };
}

function report(e) {
  console.error(e);
  toast(e.message || String(e), 'error');
}

// --- controls --------------------------------------------------------------------------------------
// Answers to config changes made in quick succession may arrive out of order: only the newest
// request's answer (the server applies them in turn, so it holds them all) updates the page.
let configSeq = 0;
async function configure(partial) {
  const seq = ++configSeq;
  try {
    const s = await withSession((id) => api.configure(id, partial));
    if (seq !== configSeq) return true;
    applySession(s);
    await refreshFrame();
    return true;
  } catch (e) {
    report(e);
    syncControls();
    return false;
  }
}

async function control(body) {
  try {
    const s = await withSession((id) => api.control(id, body));
    applySession(s);
    return s;
  } catch (e) { report(e); return null; }
}

function onFieldChange(ev) {
  const el = ev.target;
  const field = el.dataset.field;
  const r = parseField(field, el.value, state.options);
  if (r.error) {
    el.classList.add('invalid');
    toast(r.error, 'error');
    return;
  }
  el.classList.remove('invalid');
  if (field === 'data' && r.value === 'drawn') {
    // drawn data comes from the brush: open the draw mode (the points drawn last time, if any)
    el.value = state.config.data;
    enterDraw();
    return;
  }
  if (state.config && state.config[field] === r.value) return;
  configure({ [field]: r.value });
}

for (const el of document.querySelectorAll('[data-field]')) el.addEventListener('change', onFieldChange);

$('#play').addEventListener('click', async () => {
  if (state.drawMode) exitDraw();
  if (state.traceMode) setTraceMode(false);
  await control({ action: 'play', slow: state.slow });
});
$('#pause').addEventListener('click', () => control({ action: 'pause' }));
$('#reset').addEventListener('click', async () => {
  const s = await control({ action: 'reset' });
  if (s) { lossChart.clear(); divChart.clear(); state.trace = null; view.setTrace(null); await refreshFrame(); }
});
for (const [id, which] of [['#step-d', 'd'], ['#step-g', 'g'], ['#step-both', 'both']]) {
  $(id).addEventListener('click', async () => {
    if (state.trace) { state.trace = null; view.setTrace(null); }
    const s = await control({ action: 'step', which, epochs: 1 });
    if (s) await refreshFrame();
  });
}
$('#slow').addEventListener('change', (ev) => {
  state.slow = ev.target.checked;
  control({ action: state.playing ? 'play' : 'pause', slow: state.slow });
});

for (const cb of document.querySelectorAll('#layer-toggles input[data-layer]')) {
  cb.addEventListener('change', () => view.setLayer(cb.dataset.layer, cb.checked));
}

$('#export').addEventListener('click', () => {
  if (!state.id) return;
  const a = document.createElement('a');
  a.href = api.exportUrl(state.id);
  a.download = `gantry-lab-${state.epoch}.safetensors`;
  document.body.appendChild(a);
  a.click();
  a.remove();
});

$('#copy-link').addEventListener('click', async () => {
  writeUrl();
  try { await navigator.clipboard.writeText(location.href); toast('Link copied: it opens this experiment'); } catch {
    toast(location.href);
  }
});

// --- step through ------------------------------------------------------------------------------------
async function setTraceMode(on) {
  state.traceMode = on;
  $('#trace-mode').checked = on;
  $('#trace-panel').hidden = !on;
  document.body.dataset.trace = on ? 'true' : 'false';
  if (on) {
    if (state.drawMode) exitDraw();
    if (state.playing) await control({ action: 'pause' });
  } else {
    state.trace = null;
    view.setTrace(null);
    queueRender();
  }
}
$('#trace-mode').addEventListener('change', (ev) => setTraceMode(ev.target.checked));

$('#trace-step').addEventListener('click', async () => {
  try {
    const t = await withSession((id) => api.trace(id));
    state.trace = t;
    view.setTrace(t);
    const set = (id, v, d) => { const el = $(id); el.textContent = Number.isFinite(v) ? (d === 0 ? v.toLocaleString('en-US') : v.toPrecision(d)) : '–'; el.dataset.value = String(v); };
    set('#trace-loss-d', t.loss_d, 4); set('#trace-loss-g', t.loss_g, 4);
    set('#trace-grad-norm-d', t.grad_norm_d, 4); set('#trace-grad-norm-g', t.grad_norm_g, 4);
    set('#trace-update-norm-d', t.update_norm_d, 4); set('#trace-update-norm-g', t.update_norm_g, 4);
    set('#trace-params-d', t.n_params_d, 0); set('#trace-params-g', t.n_params_g, 0);
    $('#trace-epoch').textContent = String(t.epoch);
    const g = t.grad_g || [];
    const mean = g.length ? g.reduce((s, [dx, dy]) => s + Math.hypot(dx, dy), 0) / g.length : NaN;
    set('#trace-grad-mean', mean, 4);
    $('#trace-panel').dataset.steps = String((+$('#trace-panel').dataset.steps || 0) + 1);
    await refreshFrame();
  } catch (e) { report(e); }
});

// --- the draw mode -------------------------------------------------------------------------------------
function onDrawn(pts) {
  $('#draw-count').textContent = String(pts.length);
  $('#draw-train').disabled = pts.length < 2;
  $('#draw-hint').hidden = pts.length > 0;
}
view.onDrawChange = onDrawn;
view.maxDrawn = 4096;

async function enterDraw() {
  if (state.drawMode) return;
  if (state.traceMode) await setTraceMode(false);
  state.drawMode = true;
  state.wasPlaying = state.playing;
  if (state.playing) await control({ action: 'pause' });
  const pts = state.config && state.config.data === 'drawn' ? state.config.drawn : [];
  view.startDrawing(pts);
  onDrawn(view.drawn);
  $('#draw-bar').hidden = false;
  $('#draw-mode').classList.add('active');
  document.body.dataset.drawing = 'true';
}

function exitDraw() {
  state.drawMode = false;
  view.stopDrawing();
  $('#draw-bar').hidden = true;
  $('#draw-hint').hidden = true;
  $('#draw-mode').classList.remove('active');
  document.body.dataset.drawing = 'false';
}

$('#draw-mode').addEventListener('click', () => (state.drawMode ? exitDraw() : enterDraw()));
$('#draw-clear').addEventListener('click', () => { view.drawn = []; view.resetBrush(); onDrawn(view.drawn); view.render(); });
$('#draw-cancel').addEventListener('click', async () => {
  exitDraw();
  if (state.wasPlaying) await control({ action: 'play', slow: state.slow });
});
$('#draw-train').addEventListener('click', async () => {
  const pts = view.drawn.map(([x, y]) => [+x.toFixed(4), +y.toFixed(4)]);
  if (pts.length < 2) return;
  const ok = await configure({ data: 'drawn', drawn: pts });
  if (!ok) return;
  exitDraw();
  await control({ action: 'play', slow: state.slow });
});

// --- the keyboard: space plays / pauses ------------------------------------------------------------------
document.addEventListener('keydown', (ev) => {
  if (ev.code !== 'Space' || ev.target.closest('input, select, textarea, button, summary')) return;
  ev.preventDefault();
  (state.playing ? $('#pause') : $('#play')).click();
});

// --- the guide: open on a first visit, then as the visitor left it ----------------------------------------
const guide = $('#guide');
try { guide.open = localStorage.getItem('gantry-lab-guide') !== 'closed'; } catch { guide.open = true; }
guide.addEventListener('toggle', () => { try { localStorage.setItem('gantry-lab-guide', guide.open ? 'open' : 'closed'); } catch { /* private mode */ } });

// --- start -----------------------------------------------------------------------------------------------
function fillSelect(sel, values, labels) {
  if (!values || !values.length) return;
  const old = new Map([...sel.options].map((o) => [o.value, o.textContent]));
  sel.replaceChildren(...values.map((v) => {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = (labels && labels[v]) || old.get(v) || v;
    return o;
  }));
}

async function start() {
  for (const l of LAYERS) view.setLayer(l, $(`#layer-${l}`).checked);
  try {
    state.options = await api.options();
  } catch (e) {
    setConn('no server', 'bad');
    report(e);
    return;
  }
  const o = state.options;
  fillSelect($('#data-select'), o.data);
  fillSelect($('#loss-select'), o.loss);
  fillSelect($('#noise-select'), o.noise);
  fillSelect($('#optim-select'), o.optim, { sgd: 'SGD', adam: 'Adam' });
  if (o.limits) {
    for (const [id, key] of [['#g-layers', 'layers'], ['#d-layers', 'layers'], ['#g-neurons', 'neurons'], ['#d-neurons', 'neurons'],
      ['#lr-g', 'lr'], ['#lr-d', 'lr'], ['#g-steps', 'steps'], ['#d-steps', 'steps'], ['#batch', 'batch']]) {
      const lim = o.limits[key];
      if (lim) { $(id).min = lim[0]; $(id).max = lim[1]; }
    }
    if (o.limits.drawn) view.maxDrawn = o.limits.drawn;
  }
  const { config, warnings } = configFromQuery(location.search, o);
  for (const w of warnings) toast(w, 'error');
  try {
    await createSession(config);
  } catch (e) {
    report(e);
    try { await createSession({}); } catch (e2) { setConn('no server', 'bad'); report(e2); return; }
  }
  await refreshFrame();
  document.body.dataset.ready = 'true';
}

window.addEventListener('pagehide', () => { if (state.id) api.remove(state.id); });

// for the browser tests and the curious: the session and the last frame
window.gantryLab = { state, view, lossChart, divChart, frameListeners };

// opened on the Runs tab (dash.js): the lab's session starts when the Lab tab is first shown
const onRunsTab = () => /^#\/(runs|compare|explore)\b/.test(location.hash);
if (onRunsTab()) {
  const later = () => { if (!onRunsTab()) { window.removeEventListener('hashchange', later); start(); } };
  window.addEventListener('hashchange', later);
} else start();
