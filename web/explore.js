// gantry lab --runs: the latent explorer of a checkpoint (#/explore/NAME?ckpt=FILE&...). A grid of
// images from a seed's latents, with chosen latent dimensions set by sliders, a truncation, a class
// for conditional models; or an interpolation between two seeds. Every change asks POST /api/explore
// again (debounced, one request in flight: the newest settings are sent when it answers); the PNG is
// shown from a blob URL with the server's generation time (X-Gantry-Ms). The settings are in the URL.

import { runsApi, h, fmtInt } from './runsapi.js';

const MAX_DIMS = 16;
const DEBOUNCE_MS = 50;
const CLASS_NAMES = {
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  cifar10: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
};

function classNames(data, n) {
  if (!data) return null;
  const d = String(data).toLowerCase().replace(/[:/].*$/, '').replace('_', '-');
  const key = d === 'fmnist' || d === 'fashion-mnist' ? 'fashion-mnist' : d.startsWith('cifar') ? 'cifar10' : d === 'mnist' ? 'mnist' : null;
  return key && CLASS_NAMES[key].length === n ? CLASS_NAMES[key] : null;
}

// the settings <-> the hash's query
function readSettings(q) {
  const num = (k, d, lo, hi) => {
    const v = Number(q.get(k));
    return q.has(k) && q.get(k) !== '' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : d;
  };
  const dims = [];
  for (const part of (q.get('dims') || '').split(',')) {
    const m = part.match(/^(\d+):(-?[\d.]+)$/);
    if (m && dims.length < MAX_DIMS && !dims.some((d) => d.index === +m[1])) dims.push({ index: +m[1], value: Math.max(-3, Math.min(3, +m[2])) });
  }
  return {
    mode: q.get('mode') === 'interp' ? 'interp' : 'grid',
    seed: Math.round(num('seed', 0, 0, 2 ** 31 - 1)),
    seed_b: Math.round(num('seed_b', 1, 0, 2 ** 31 - 1)),
    n: Math.round(num('n', 16, 1, 64)),
    frames: Math.round(num('frames', 8, 2, 16)),
    truncation: num('t', 0, 0, 4),
    class: Math.round(num('class', -1, -1, 1e6)),
    ema: q.get('ema') !== '0',
    scale: Math.round(num('scale', 2, 1, 4)),
    dims,
  };
}

function writeSettings(s, ckpt) {
  const q = new URLSearchParams();
  q.set('ckpt', ckpt);
  if (s.mode !== 'grid') q.set('mode', s.mode);
  q.set('seed', String(s.seed));
  if (s.mode === 'interp') { q.set('seed_b', String(s.seed_b)); q.set('frames', String(s.frames)); } else q.set('n', String(s.n));
  if (s.truncation > 0) q.set('t', String(s.truncation));
  if (s.class >= 0) q.set('class', String(s.class));
  if (!s.ema) q.set('ema', '0');
  if (s.scale !== 2) q.set('scale', String(s.scale));
  if (s.dims.length) q.set('dims', s.dims.map((d) => `${d.index}:${+d.value.toFixed(2)}`).join(','));
  return q.toString().replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%2F/gi, '/');
}

export function mountExplore(root, ctx, name, query) {
  let closed = false;
  const q = new URLSearchParams(query);
  const ckpt = q.get('ckpt') || 'last.safetensors';
  const s = readSettings(q);
  let info = null;
  let inflight = false, queued = false, debounce = null, lastUrl = null, requests = 0;

  // --- the page ------------------------------------------------------------------------------------------
  const infoEl = h('div', { class: 'run-meta muted', id: 'explore-info' }, 'loading the checkpoint…');
  const ckptSel = h('select', { id: 'explore-ckpt', title: 'Checkpoint' }, h('option', { value: ckpt }, ckpt));
  const img = h('img', { id: 'explore-img', class: 'explore-img', alt: 'generated images', dataset: { testid: 'explore-img' } });
  const msEl = h('span', { id: 'explore-ms', class: 'explore-ms', dataset: { testid: 'explore-ms' } }, '–');
  const errEl = h('div', { class: 'explore-error', id: 'explore-error', hidden: true });
  const busyEl = h('span', { class: 'spinner', hidden: true });

  const field = (label, ...inputs) => h('div', { class: 'field' }, h('label', null, label), ...inputs);
  const modeGrid = h('button', { class: 'seg', dataset: { mode: 'grid' } }, 'Grid');
  const modeInterp = h('button', { class: 'seg', dataset: { mode: 'interp' }, id: 'mode-interp' }, 'Interpolation');
  const seedIn = h('input', { type: 'number', id: 'explore-seed', min: 0, step: 1, value: s.seed });
  const dice = h('button', { class: 'ghost-btn small', title: 'A random seed' }, 'Random');
  const seedBIn = h('input', { type: 'number', id: 'explore-seed-b', min: 0, step: 1, value: s.seed_b });
  const nIn = h('input', { type: 'range', id: 'explore-n', min: 1, max: 64, step: 1, value: s.n });
  const nOut = h('output', null, String(s.n));
  const framesIn = h('input', { type: 'range', id: 'explore-frames', min: 2, max: 16, step: 1, value: s.frames });
  const framesOut = h('output', null, String(s.frames));
  const truncIn = h('input', { type: 'range', id: 'explore-trunc', min: 0, max: 4, step: 0.1, value: s.truncation });
  const truncOut = h('output', null, '');
  const classSel = h('select', { id: 'explore-class' });
  const classField = field('Class', classSel);
  classField.hidden = true;
  const emaIn = h('input', { type: 'checkbox', id: 'explore-ema', checked: s.ema });
  const emaField = h('label', { class: 'check', title: "The generator's exponential moving average (usually the better images)" }, emaIn, ' EMA weights');
  emaField.hidden = true;
  const scaleSel = h('select', { id: 'explore-scale' }, ...[1, 2, 3, 4].map((k) => h('option', { value: k, selected: k === s.scale }, `${k}×`)));

  const dimsList = h('div', { class: 'dims-list', id: 'dims-list' });
  const dimIdx = h('input', { type: 'number', id: 'dim-add-index', min: 0, step: 1, value: 0, 'aria-label': 'Latent dimension to add' });
  const dimAdd = h('button', { class: 'ghost-btn small', id: 'dim-add', dataset: { testid: 'dim-add' } }, 'Add');
  const dimRand = h('button', { class: 'ghost-btn small', title: 'Add 4 random dimensions' }, '+4 random');
  const dimZero = h('button', { class: 'ghost-btn small', title: 'Every chosen dimension back to 0' }, 'Zero');
  const dimClear = h('button', { class: 'ghost-btn small', title: 'Remove every chosen dimension (the seed\'s own values again)' }, 'Clear');
  const dimsHint = h('div', { class: 'muted small-text' }, 'Pick latent dimensions and move their sliders: every image (and every frame of an interpolation) gets that value in that dimension.');

  const gridOnly = h('div', { class: 'grid-only' }, field('Images', h('div', { class: 'range-row' }, nIn, nOut)));
  const interpOnly = h('div', { class: 'interp-only' },
    field('Seed B', seedBIn), field('Frames', h('div', { class: 'range-row' }, framesIn, framesOut)));

  const controls = h('aside', { class: 'panel dash-panel explore-controls' },
    h('div', { class: 'segs', role: 'group', 'aria-label': 'Mode' }, modeGrid, modeInterp),
    field('Seed', h('div', { class: 'seed-row' }, seedIn, dice)),
    gridOnly, interpOnly,
    field('Truncation', h('div', { class: 'range-row' }, truncIn, truncOut)),
    classField,
    h('div', { class: 'grid2' }, field('Scale', scaleSel), h('div', { class: 'field ema-cell' }, emaField)),
    h('section', { class: 'dims' },
      h('h2', null, 'Latent dimensions'),
      dimsHint,
      h('div', { class: 'dim-add-row' }, dimIdx, dimAdd, dimRand),
      dimsList,
      h('div', { class: 'dim-add-row' }, dimZero, dimClear)));

  root.append(
    h('section', { class: 'panel dash-panel run-head' },
      h('div', { class: 'run-head-row' },
        h('a', { href: `#/runs/${encodeURIComponent(name)}`, class: 'back' }, `← ${name}`),
        h('h1', { class: 'run-title' }, 'Latent explorer'), ckptSel, h('div', { class: 'grow' }),
        h('span', { class: 'muted' }, 'generated in '), msEl, busyEl),
      infoEl),
    h('div', { class: 'explore-cols' }, controls,
      h('section', { class: 'panel dash-panel explore-view' }, errEl, h('div', { class: 'explore-frame' }, img))));

  // --- controls -> settings -----------------------------------------------------------------------------
  function syncControls() {
    modeGrid.classList.toggle('active', s.mode === 'grid');
    modeInterp.classList.toggle('active', s.mode === 'interp');
    gridOnly.hidden = s.mode !== 'grid';
    interpOnly.hidden = s.mode !== 'interp';
    nOut.textContent = String(s.n);
    framesOut.textContent = String(s.frames);
    truncOut.textContent = s.truncation > 0 ? `|z| ≤ ${s.truncation.toFixed(1)}` : 'off';
    dimAdd.disabled = s.dims.length >= MAX_DIMS;
    dimRand.disabled = s.dims.length >= MAX_DIMS;
    root.dataset.mode = s.mode;
  }

  function renderDims() {
    dimsList.replaceChildren(...s.dims.map((d) => {
      const range = h('input', { type: 'range', min: -3, max: 3, step: 0.05, value: d.value, 'aria-label': `z[${d.index}]`, dataset: { index: d.index } });
      const out = h('output', null, d.value.toFixed(2));
      range.addEventListener('input', () => { d.value = Number(range.value); out.textContent = d.value.toFixed(2); schedule(); });
      range.addEventListener('dblclick', () => { d.value = 0; range.value = '0'; out.textContent = '0.00'; schedule(); });
      const rm = h('button', { class: 'icon-x', title: 'Remove this dimension', 'aria-label': `Remove z[${d.index}]` }, '×');
      rm.addEventListener('click', () => { s.dims = s.dims.filter((x) => x !== d); renderDims(); schedule(); });
      return h('div', { class: 'dim-row', dataset: { index: d.index } }, h('span', { class: 'dim-name mono' }, `z[${d.index}]`), range, out, rm);
    }));
    dimsList.dataset.count = String(s.dims.length);
    syncControls();
  }

  function addDim(i) {
    const nz = info ? info.nz : Infinity;
    if (!Number.isInteger(i) || i < 0 || i >= nz) { ctx.toast(`a latent dimension is 0..${Number.isFinite(nz) ? nz - 1 : 'nz-1'}`, 'error'); return false; }
    if (s.dims.some((d) => d.index === i) || s.dims.length >= MAX_DIMS) return false;
    s.dims.push({ index: i, value: 0 });
    return true;
  }

  modeGrid.addEventListener('click', () => { s.mode = 'grid'; syncControls(); schedule(0); });
  modeInterp.addEventListener('click', () => { s.mode = 'interp'; syncControls(); schedule(0); });
  const intIn = (el, key, lo, hi) => el.addEventListener('input', () => {
    const v = Math.round(Number(el.value));
    if (el.value === '' || !Number.isFinite(v)) return;
    s[key] = Math.min(hi, Math.max(lo, v));
    syncControls();
    schedule();
  });
  intIn(seedIn, 'seed', 0, 2 ** 31 - 1);
  intIn(seedBIn, 'seed_b', 0, 2 ** 31 - 1);
  intIn(nIn, 'n', 1, 64);
  intIn(framesIn, 'frames', 2, 16);
  truncIn.addEventListener('input', () => { const v = Number(truncIn.value); s.truncation = v < 0.1 ? 0 : v; syncControls(); schedule(); });
  classSel.addEventListener('change', () => { s.class = Number(classSel.value); schedule(0); });
  emaIn.addEventListener('change', () => { s.ema = emaIn.checked; schedule(0); });
  scaleSel.addEventListener('change', () => { s.scale = Number(scaleSel.value); schedule(0); });
  dice.addEventListener('click', () => { s.seed = Math.floor(Math.random() * 100000); seedIn.value = String(s.seed); schedule(0); });
  dimAdd.addEventListener('click', () => { if (addDim(Math.round(Number(dimIdx.value)))) { dimIdx.value = String(Math.min((info ? info.nz : 1e9) - 1, Number(dimIdx.value) + 1)); renderDims(); schedule(0); } });
  dimIdx.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') dimAdd.click(); });
  dimRand.addEventListener('click', () => {
    const nz = info ? info.nz : 100;
    for (let k = 0, tries = 0; k < 4 && tries < 200 && s.dims.length < MAX_DIMS; tries++) if (addDim(Math.floor(Math.random() * nz))) k++;
    renderDims();
    schedule(0);
  });
  dimZero.addEventListener('click', () => { for (const d of s.dims) d.value = 0; renderDims(); schedule(0); });
  dimClear.addEventListener('click', () => { s.dims = []; renderDims(); schedule(0); });
  ckptSel.addEventListener('change', () => ctx.navigate(`#/explore/${encodeURIComponent(name)}?${writeSettings(s, ckptSel.value)}`, true));

  // --- requests: debounced, one in flight ----------------------------------------------------------------
  function body() {
    const b = { run: name, ckpt, mode: s.mode, seed: s.seed, truncation: s.truncation, scale: s.scale };
    if (info && info.has_ema) b.ema = s.ema;
    if (s.mode === 'grid') b.n = s.n; else { b.seed_b = s.seed_b; b.frames = s.frames; }
    if (s.dims.length) b.dims = s.dims.map((d) => ({ index: d.index, value: d.value }));
    if (info && info.conditional) b.class = s.class;
    return b;
  }

  function schedule(delay = DEBOUNCE_MS) {
    if (closed || !info) return;
    clearTimeout(debounce);
    debounce = setTimeout(send, delay);
  }

  async function send() {
    if (closed) return;
    if (inflight) { queued = true; return; }
    inflight = true;
    busyEl.hidden = false;
    const b = body();
    history.replaceState(null, '', `${location.pathname}${location.search}#/explore/${encodeURIComponent(name)}?${writeSettings(s, ckpt)}`);
    try {
      const r = await runsApi.explore(b);
      if (closed) return;
      const url = URL.createObjectURL(r.blob);
      const old = lastUrl;
      lastUrl = url;
      img.onload = () => { if (old) URL.revokeObjectURL(old); };
      img.src = url;
      requests++;
      img.dataset.requests = String(requests);
      img.dataset.seed = String(b.seed);
      msEl.textContent = Number.isFinite(r.ms) ? `${r.ms.toFixed(r.ms < 10 ? 1 : 0)} ms` : '–';
      msEl.title = `${Math.round(r.wall)} ms with the round trip`;
      msEl.dataset.value = String(r.ms);
      msEl.dataset.wall = String(Math.round(r.wall));
      errEl.hidden = true;
    } catch (e) {
      if (closed) return;
      errEl.hidden = false;
      errEl.textContent = e.message;
      if (e.status === 503) queued = true; // busy: try again with the newest settings
    } finally {
      inflight = false;
      if (!closed) busyEl.hidden = true;
    }
    if (queued && !closed) { queued = false; debounce = setTimeout(send, 0); }
  }

  // --- start ---------------------------------------------------------------------------------------------
  async function start() {
    try {
      info = await runsApi.exploreInfo(name, ckpt);
    } catch (e) {
      if (closed) return;
      infoEl.textContent = '';
      errEl.hidden = false;
      errEl.textContent = `${name} / ${ckpt}: ${e.message}`;
      return;
    }
    if (closed) return;
    let run = null;
    try { run = await runsApi.run(name); } catch { /* the checkpoint list is a nicety */ }
    if (closed) return;
    if (run && Array.isArray(run.checkpoints)) {
      const files = run.checkpoints.map((c) => c.file);
      if (!files.includes(ckpt)) files.push(ckpt);
      ckptSel.replaceChildren(...files.map((f) => {
        const c = run.checkpoints.find((x) => x.file === f);
        return h('option', { value: f, selected: f === ckpt }, c ? `${f} (step ${fmtInt(c.step)})` : f);
      }));
    }
    infoEl.textContent = [info.family, `${info.res}×${info.res}`, info.channels === 1 ? 'gray' : `${info.channels} channels`,
      `nz ${info.nz}`, info.conditional ? `${info.n_classes} classes` : 'unconditional', info.has_ema ? 'EMA weights' : 'no EMA',
      Number.isFinite(info.step) ? `step ${fmtInt(info.step)}` : null].filter(Boolean).join(' · ');
    root.dataset.nz = String(info.nz);
    dimIdx.max = String(info.nz - 1);
    s.dims = s.dims.filter((d) => d.index < info.nz);
    emaField.hidden = !info.has_ema;
    if (info.conditional && info.n_classes > 0) {
      const names = classNames(run && run.data, info.n_classes);
      classSel.replaceChildren(h('option', { value: -1 }, 'each class in turn'),
        ...Array.from({ length: info.n_classes }, (_, k) => h('option', { value: k }, names ? `${k} · ${names[k]}` : `class ${k}`)));
      if (s.class >= info.n_classes) s.class = -1;
      classSel.value = String(s.class);
      classField.hidden = false;
    } else s.class = -1;
    renderDims();
    root.dataset.ready = 'true';
    schedule(0);
  }

  syncControls();
  renderDims();
  start();
  ctx.setConn('', '');

  window.gantryDash.explore = { settings: s, get info() { return info; } };
  return {
    title: 'Explore',
    dispose() {
      closed = true;
      clearTimeout(debounce);
      if (lastUrl) URL.revokeObjectURL(lastUrl);
      window.gantryDash.explore = null;
    },
  };
}
