// The anycost editor (anycost.html?run=NAME&ckpt=FILE; docs/anycost/editor.md): an anycost
// checkpoint's class directions as sliders, a latency budget, a seed. While a slider moves, the
// preview comes from the most accurate sub-generator whose latency (measured by the server when it
// opened the checkpoint) fits the budget; Finalize renders the full generator. Both times are shown.
// Requests: one preview in flight (the newest settings are sent when it answers), a final apart.
// The settings are in the URL (seed, budget, e=K:S,...).

import { ApiError } from './api.js';
import { toast } from './toast.js';

const $ = (s) => document.querySelector(s);
const MAX_S = 10;

async function post(path, body) {
  let r;
  try {
    r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(`cannot reach the gantry process (${e.message})`, 0);
  }
  let j = null;
  try { j = await r.json(); } catch { j = null; }
  if (!r.ok) throw new ApiError((j && j.error) || `${path}: HTTP ${r.status}`, r.status);
  return j;
}

const q = new URLSearchParams(location.search);
const run = q.get('run') || '';
let ckpt = q.get('ckpt') || 'last.safetensors';
const st = {
  seed: Math.max(0, Math.round(Number(q.get('seed')) || 0)),
  budgetPos: q.has('b') ? Math.min(1000, Math.max(0, Number(q.get('b')) || 0)) : 250,
  edits: new Map(), // direction index -> strength
  source: 'seed', // or 'projected': the uploaded picture's w (kept by the server's editor)
};
for (const part of (q.get('e') || '').split(',')) {
  const m = part.match(/^(\d+):(-?[\d.]+)$/);
  if (m) st.edits.set(Number(m[1]), Math.max(-MAX_S, Math.min(MAX_S, Number(m[2]))));
}

let ed = null; // the open answer
let lo = 0.01, hi = 10; // the budget slider's range (ms, log scale)
let inflight = false, queued = false, finalBusy = false, finalKey = null, projections = 0;
const counts = { preview: 0, final: 0 };

const fmtMs = (ms) => (ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const cfgText = (c) => `${c.channels}× channels @ ${c.res} px`;
const budgetMs = () => lo * (hi / lo) ** (st.budgetPos / 1000);

const source = () => (st.source === 'projected' ? { projected: true } : { seed: st.seed });

function editsBody() {
  const o = {};
  for (const [k, v] of st.edits) if (v !== 0) o[String(k)] = v;
  return o;
}
const stateKey = () => JSON.stringify([st.source === 'projected' ? `p${projections}` : st.seed, [...st.edits].filter(([, v]) => v !== 0).sort((a, b) => a[0] - b[0])]);

function writeUrl() {
  const p = new URLSearchParams({ run, ckpt, seed: String(st.seed), b: String(st.budgetPos) });
  const e = [...st.edits].filter(([, v]) => v !== 0).map(([k, v]) => `${k}:${+v.toFixed(2)}`).join(',');
  if (e) p.set('e', e);
  history.replaceState(null, '', `${location.pathname}?${p.toString().replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%2F/gi, '/')}`);
}

// the config the server will pick for a budget (the same rule), to show it beside the slider
function pick(budget) {
  let best = null;
  for (const c of ed.configs) if (c.latency_ms <= budget && (!best || c.macs >= best.macs)) best = c;
  return best || ed.configs[0];
}

function showBudget() {
  if (!ed) { $('#ac-budget-out').textContent = '–'; return; }
  const b = budgetMs();
  $('#ac-budget-out').textContent = `${fmtMs(b)} ms`;
  $('#ac-budget').dataset.ms = String(b);
  const c = pick(b);
  $('#ac-budget-pick').textContent = `→ ${cfgText(c)} (${fmtMs(c.latency_ms)} ms, ${(c.macs / ed.full.macs * 100).toFixed(0)}% of the full MACs)`;
  for (const tr of document.querySelectorAll('#ac-cfgs tbody tr')) tr.classList.toggle('picked', tr.dataset.key === `${c.channels}@${c.res}`);
}

function showError(msg) {
  const e = $('#ac-error');
  e.hidden = !msg;
  e.textContent = msg || '';
}

function setImage(which, r) {
  const img = $(`#${which}-img`);
  img.src = `data:image/png;base64,${r.png}`;
  counts[which]++;
  img.dataset.requests = String(counts[which]);
  img.dataset.res = String(r.width);
  const ms = $(`#${which}-ms`);
  ms.textContent = `${fmtMs(r.latency_ms)} ms`;
  ms.dataset.value = String(r.latency_ms);
  ms.title = `generation ${fmtMs(r.latency_ms)} ms (+ edit ${fmtMs(r.edit_ms)} ms, ${fmtMs(r.total_ms)} ms with the PNG)`;
  const cfg = r.final ? `full · ${r.config.res} px` : cfgText(r.config);
  $(`#${which}-cfg`).textContent = cfg;
  $(`#${which}-cap`).textContent = `${cfg} · ${fmtMs(r.latency_ms)} ms · ${r.projected ? 'your picture' : `seed ${r.seed}`}`;
  $(`#${which}-cap`).dataset.config = `${r.config.channels}@${r.config.res}`;
}

async function withEditor(fn) {
  try {
    return await fn();
  } catch (e) {
    if (e.status !== 404 || !ed) throw e;
    await openEditor(false); // freed after 10 idle minutes: open it again, once
    if (st.source === 'projected') { // the picture's w went with the old editor
      useSeed();
      toast('The editor was reopened: the uploaded picture is gone, back to the seed');
    }
    return fn();
  }
}

async function preview() {
  if (!ed) return;
  if (inflight) { queued = true; return; }
  inflight = true;
  $('#preview-busy').hidden = false;
  writeUrl();
  try {
    const r = await withEditor(() => post('/api/anycost/render', { id: ed.id, ...source(), edits: editsBody(), budget_ms: budgetMs() }));
    setImage('preview', r);
    showError('');
  } catch (e) {
    showError(e.message);
    if (e.status === 503) queued = true;
  } finally {
    inflight = false;
    $('#preview-busy').hidden = true;
  }
  syncStale();
  if (queued) { queued = false; setTimeout(preview, 0); }
}

async function finalize() {
  if (!ed || finalBusy) return;
  finalBusy = true;
  $('#ac-finalize').disabled = true;
  $('#final-busy').hidden = false;
  const key = stateKey();
  try {
    const r = await withEditor(() => post('/api/anycost/render', { id: ed.id, ...source(), edits: editsBody(), final: true }));
    setImage('final', r);
    finalKey = key;
    showError('');
  } catch (e) {
    showError(e.message);
  } finally {
    finalBusy = false;
    $('#ac-finalize').disabled = false;
    $('#final-busy').hidden = true;
  }
  syncStale();
}

function syncStale() {
  const stale = finalKey !== null && finalKey !== stateKey();
  $('#final-stale').hidden = !stale;
  $('#final-img').classList.toggle('stale', stale);
}

function renderDirs() {
  const box = $('#ac-dirs');
  box.replaceChildren();
  ed.directions.forEach((label, k) => {
    const v = st.edits.get(k) || 0;
    const row = document.createElement('div');
    row.className = 'ac-dir';
    row.dataset.index = String(k);
    row.innerHTML = '<span class="ac-dir-name"></span><input type="range" min="-6" max="6" step="0.1"><output></output>';
    row.querySelector('.ac-dir-name').textContent = label;
    const range = row.querySelector('input');
    const out = row.querySelector('output');
    range.value = String(v);
    range.setAttribute('aria-label', `strength towards ${label}`);
    out.textContent = v.toFixed(1);
    const set = (x) => { st.edits.set(k, x); out.textContent = x.toFixed(1); row.classList.toggle('on', x !== 0); syncStale(); preview(); };
    range.addEventListener('input', () => set(Number(range.value)));
    range.addEventListener('dblclick', () => { range.value = '0'; set(0); });
    row.classList.toggle('on', v !== 0);
    if (ed.directions_active && !ed.directions_active[k]) { // no generated item fell into this class
      row.classList.add('dead');
      range.disabled = true;
      row.title = `No direction: none of the 1000 generated items was classified as ${label}`;
    }
    box.append(row);
  });
  $('#ac-dirs-note').textContent = ed.directions.length
    ? 'Class directions in w (a linear classifier on w of 1000 generated items): + moves an item towards the class, − away.'
    : ed.directions_note || 'This checkpoint has no attribute directions.';
}

function renderConfigs() {
  const tb = $('#ac-cfgs tbody');
  const maxMs = Math.max(...ed.configs.map((c) => c.latency_ms));
  tb.replaceChildren(...ed.configs.map((c) => {
    const tr = document.createElement('tr');
    tr.dataset.key = `${c.channels}@${c.res}`;
    tr.innerHTML = `<td>${c.channels}×</td><td>${c.res}</td><td class="num">${(c.macs / 1e6).toFixed(2)}</td><td class="num">${fmtMs(c.latency_ms)} ms</td><td class="ac-bar-cell"><div class="ac-bar"></div></td>`;
    tr.querySelector('.ac-bar').style.width = `${(c.latency_ms / maxMs * 100).toFixed(1)}%`;
    tr.title = 'Click: set the budget to this latency';
    tr.addEventListener('click', () => {
      st.budgetPos = Math.min(1000, Math.max(0, Math.round(1000 * Math.log(c.latency_ms / lo) / Math.log(hi / lo)) + 1));
      $('#ac-budget').value = String(st.budgetPos);
      showBudget();
      preview();
    });
    return tr;
  }));
}

async function openEditor(first = true) {
  ed = await post('/api/anycost/open', { run, ckpt });
  const ms = ed.configs.map((c) => c.latency_ms);
  lo = Math.max(0.001, Math.min(...ms) * 0.5);
  hi = Math.max(lo * 4, Math.max(...ms) * 1.5);
  if (!first) return;
  for (const k of [...st.edits.keys()]) if (k >= ed.directions.length) st.edits.delete(k);
  const o = ed.open_ms || {};
  $('#ac-info').textContent = [`${ed.res}×${ed.res}`, ed.channels === 1 ? 'gray' : `${ed.channels} channels`, ed.ema ? 'EMA weights' : 'G weights',
    Number.isFinite(ed.step) ? `step ${ed.step.toLocaleString('en-US')}` : null, `${ed.configs.length} sub-generators`,
    `opened in ${Math.round((o.load || 0) + (o.measure || 0) + (o.directions || 0))} ms`].filter(Boolean).join(' · ');
  $('#ac-controls').dataset.ready = 'true';
  renderDirs();
  renderConfigs();
  showBudget();
}

async function loadCheckpoints() {
  const sel = $('#ac-ckpt');
  sel.replaceChildren(new Option(ckpt, ckpt, true, true));
  try {
    const r = await fetch(`/api/runs/${encodeURIComponent(run)}`);
    if (!r.ok) return;
    const j = await r.json();
    const files = (j.checkpoints || []).map((c) => c.file);
    if (!files.includes(ckpt)) files.push(ckpt);
    sel.replaceChildren(...files.map((f) => {
      const c = (j.checkpoints || []).find((x) => x.file === f);
      return new Option(c && Number.isFinite(c.step) ? `${f} (step ${c.step})` : f, f, f === ckpt, f === ckpt);
    }));
  } catch { /* the list is a nicety */ }
}

async function start() {
  document.title = `Anycost editor · ${run} · gantry lab`;
  const link = $('#ac-run-link');
  link.textContent = run || '?';
  link.href = `/#/runs/${encodeURIComponent(run)}`;
  $('#ac-seed').value = String(st.seed);
  $('#ac-budget').value = String(st.budgetPos);
  if (!run) { showError('No run: open this page as anycost.html?run=NAME (from the runs list).'); return; }
  loadCheckpoints();
  try {
    await openEditor();
  } catch (e) {
    $('#ac-info').textContent = '';
    showError(`${run} / ${ckpt}: ${e.message}`);
    return;
  }
  $('#ac-finalize').disabled = false;
  await preview();
  await finalize();
}

// an uploaded picture: centre-cropped, drawn at the model's size (gray for a 1-channel model,
// optionally inverted), sent as pixel values; the server projects it into w (Adam steps with the
// consistency loss across sub-generators) and keeps it for renders with "projected": true
async function upload(file) {
  if (!ed || !file) return;
  const R = ed.res, C = ed.channels, invert = $('#ac-invert').checked;
  let bmp;
  try { bmp = await createImageBitmap(file); } catch { toast(`${file.name}: not a picture the browser can read`, 'error'); return; }
  const c = $('#ac-target');
  c.width = R; c.height = R;
  const g = c.getContext('2d');
  g.fillStyle = invert ? '#fff' : '#000';
  g.fillRect(0, 0, R, R);
  const side = Math.min(bmp.width, bmp.height);
  g.imageSmoothingQuality = 'high';
  g.drawImage(bmp, (bmp.width - side) / 2, (bmp.height - side) / 2, side, side, 0, 0, R, R);
  const img = g.getImageData(0, 0, R, R);
  const d = img.data, px = [];
  for (let i = 0; i < R * R; i++) {
    const rgb = [d[4 * i], d[4 * i + 1], d[4 * i + 2]].map((v) => (invert ? 255 - v : v));
    const vals = C === 1 ? [Math.round(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])] : rgb;
    px.push(...vals);
    for (let k = 0; k < 3; k++) d[4 * i + k] = C === 1 ? vals[0] : vals[k];
  }
  g.putImageData(img, 0, 0);
  const box = $('#ac-proj'), status = $('#ac-proj-status');
  box.hidden = false;
  box.classList.add('busy');
  status.textContent = `projecting ${file.name}…`;
  try {
    const r = await withEditor(() => post('/api/anycost/project', { id: ed.id, pixels: px, steps: 100 }));
    projections++;
    st.source = 'projected';
    $('#ac-controls').dataset.source = 'projected';
    status.textContent = `your picture: MSE ${r.mse_before.toFixed(3)} → ${r.mse_after.toFixed(3)} (${r.steps} steps, ${(r.ms / 1000).toFixed(1)} s)`;
    status.dataset.mse = String(r.mse_after);
    status.dataset.before = String(r.mse_before);
    showError('');
    await preview();
    await finalize();
  } catch (e) {
    status.textContent = `projection failed: ${e.message}`;
    showError(e.message);
  } finally {
    box.classList.remove('busy');
  }
}

function useSeed() {
  st.source = 'seed';
  $('#ac-controls').dataset.source = 'seed';
  $('#ac-proj').hidden = true;
  syncStale();
  preview();
}

$('#ac-upload').addEventListener('change', () => { const f = $('#ac-upload').files[0]; $('#ac-upload').value = ''; upload(f); });
$('#ac-use-seed').addEventListener('click', useSeed);
$('#ac-seed').addEventListener('input', () => {
  const v = Math.round(Number($('#ac-seed').value));
  if ($('#ac-seed').value === '' || !Number.isFinite(v) || v < 0) return;
  st.seed = v;
  if (st.source !== 'seed') useSeed(); else { syncStale(); preview(); }
});
$('#ac-dice').addEventListener('click', () => {
  st.seed = Math.floor(Math.random() * 100000);
  $('#ac-seed').value = String(st.seed);
  if (st.source !== 'seed') useSeed(); else { syncStale(); preview(); }
});
$('#ac-budget').addEventListener('input', () => { st.budgetPos = Number($('#ac-budget').value); showBudget(); preview(); });
$('#ac-finalize').addEventListener('click', finalize);
$('#ac-zero').addEventListener('click', () => { st.edits.clear(); if (ed) renderDirs(); syncStale(); preview(); });
$('#ac-ckpt').addEventListener('change', () => {
  ckpt = $('#ac-ckpt').value;
  writeUrl();
  location.reload();
});
addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) finalize(); });
window.addEventListener('unhandledrejection', (ev) => toast(String(ev.reason && ev.reason.message || ev.reason), 'error'));

showBudget();
window.gantryAnycost = { state: st, get editor() { return ed; }, counts, budgetMs };
start();
