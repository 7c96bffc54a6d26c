// gantry lab's page in a real browser (playwright-core driving Debian's Chromium, headless) against a
// real `gantry lab --port 0` server. Five scenarios, each with a screenshot in GANTRY_SCREENSHOTS:
//   1 ring     : pick the ring, play: the KL divergence on the page falls
//   2 draw     : paint a distribution with the mouse, train on it: the fakes move onto it
//   3 layers   : each layer of the layered view switches off (its canvas empties) and on again
//   4 model    : a new loss and new layer counts reach the server's session and the model graph; training runs
//   5 url      : a link's hyperparameters land in the controls and the session; export; step through
// Env: GANTRY_BIN (the gantry program), GANTRY_WEB (the web folder), GANTRY_SCREENSHOTS (a folder).
// The server is killed and the browser closed at the end, also on failure; exit 1 on any failed check.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failures, run, log, check, Fatal, must, sleep, WEB, BIN, SHOTS, CHROMIUM, requireWeb as require } from './harness.mjs';


// The page answers a control after the server has: read its state until it holds (or 15 s pass),
// so that a loaded machine gives the same verdict as a quiet one; returns the last value read.
async function until(probe, ok, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const shown = (page, sel) => page.waitForSelector(sel, { state: 'visible', timeout: 15000 }).then(() => true, () => false);

// --- the server -------------------------------------------------------------------------------------------
function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['lab', '--port', '0', '--web', WEB], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', done = false;
    const timer = setTimeout(() => { if (!done) { done = true; reject(new Error(`no URL from the server in 20 s; stdout: ${out}`)); } }, 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (!done && out.includes('\n')) {
        done = true; clearTimeout(timer);
        const m = line.match(/^gantry lab: (http:\/\/[^\s/]+:\d+\/)\s*$/);
        if (m) resolve({ proc, url: m[1] }); else reject(new Error(`unexpected first line: ${JSON.stringify(line)}`));
      }
    });
    proc.stderr.on('data', (d) => process.stderr.write(`[gantry] ${d}`));
    proc.on('error', (e) => { if (!done) { done = true; clearTimeout(timer); reject(e); } });
    proc.on('exit', (code, sig) => { if (!done) { done = true; clearTimeout(timer); reject(new Error(`server exited (${code ?? sig}) before printing its URL`)); } });
  });
}

function stopServer(proc) {
  return new Promise((resolve) => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve(proc ? proc.exitCode : null);
    const kill = setTimeout(() => { proc.kill('SIGKILL'); }, 30000);
    proc.once('exit', (code, sig) => { clearTimeout(kill); resolve(code ?? sig); });
    proc.kill('SIGTERM');
  });
}

// --- helpers ------------------------------------------------------------------------------------------------
let BASE = '';
async function api(method, p, body) {
  const r = await fetch(new URL(p, BASE), { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function openPage(browser, query = '') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => { page.errors.push(e.message); log(`page error: ${e.message}`); });
  page.on('console', (m) => { if (m.type() === 'error') log(`console: ${m.text()}`); });
  await page.goto(BASE + query);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
  // the guide opens on a first visit: close it (and check it closes)
  if (await page.locator('#guide').evaluate((d) => d.open)) {
    await page.click('#guide summary');
    check(!(await page.locator('#guide').evaluate((d) => d.open)), 'the guide panel collapses');
  }
  return page;
}

const sessionId = (page) => page.evaluate(() => window.gantryLab.state.id);
async function session(page) { return (await api('GET', `/api/sessions/${await sessionId(page)}`)).json; }
const epochShown = async (page) => Number((await page.textContent('#epoch')).replace(/\D/g, ''));
const numShown = async (page, sel) => Number.parseFloat(await page.textContent(sel));
async function waitEpoch(page, n, timeout = 30000) {
  await page.waitForFunction((k) => Number(document.querySelector('#epoch').textContent.replace(/\D/g, '')) >= k, n, { timeout });
}
async function waitSession(page, pred, what, timeout = 15000) {
  const t = Date.now();
  let s = null;
  while (Date.now() - t < timeout) {
    s = await session(page);
    if (s && pred(s)) return s;
    await sleep(100);
  }
  check(false, `server session: ${what} (last: ${JSON.stringify(s && s.config)})`);
  return s;
}
// pixels with alpha > 0 on a layer's canvas (and those near an RGB colour, if given)
function layerPixels(page, layer, rgb = null, tol = 40) {
  return page.evaluate(([l, c, t]) => {
    const cv = document.getElementById(`view-${l}`);
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) continue;
      if (!c || (Math.abs(d[i] - c[0]) < t && Math.abs(d[i + 1] - c[1]) < t && Math.abs(d[i + 2] - c[2]) < t && d[i + 3] > 150)) n++;
    }
    return n;
  }, [layer, rgb, tol]);
}
const mean = (pts) => pts.reduce((a, [x, y]) => [a[0] + x / pts.length, a[1] + y / pts.length], [0, 0]);
async function shot(page, name) {
  const file = path.join(SHOTS, `lab-${name}.png`);
  await page.screenshot({ path: file });
  log(`screenshot ${file}`);
}
async function setInput(page, sel, value) {
  await page.fill(sel, String(value));
  await page.press(sel, 'Tab'); // the change event
}

// --- the scenarios ------------------------------------------------------------------------------------------
async function scenarioRing(browser) {
  const page = await openPage(browser);
  await page.selectOption('#data-select', 'ring');
  await waitSession(page, (s) => s.config.data === 'ring' && s.epoch === 0, 'data is ring');
  check((await page.textContent('#graph-real-desc')) === 'ring', 'the model graph names the ring');
  // GAN Lab's default nets (1 hidden layer of 8) do not settle on the ring in 20,000 epochs here
  // (KL 3.5-4); with 16 neurons in each net and seed 3 the KL goes from 4.18 to 0.6-1.1 after
  // epoch 500 (measured to epoch 4000; seeds 1, 2, 4: 0.8-2.1)
  await setInput(page, '#g-neurons', RING_NEURONS);
  await setInput(page, '#d-neurons', RING_NEURONS);
  await setInput(page, '#seed', RING_SEED);
  await waitSession(page, (s) => s.config.g_neurons === RING_NEURONS && s.config.d_neurons === RING_NEURONS && s.config.seed === RING_SEED,
    `G and D have ${RING_NEURONS} neurons, seed ${RING_SEED}`);
  const q = await until(() => new URL(page.url()).searchParams,
    (x) => x.get('data') === 'ring' && x.get('g_neurons') === String(RING_NEURONS) && x.get('seed') === String(RING_SEED));
  check(q.get('data') === 'ring' && q.get('g_neurons') === String(RING_NEURONS) && q.get('seed') === String(RING_SEED), `the URL carries the ring, the nets and the seed (${q})`);
  await page.click('#play');
  check(await shown(page, '#pause'), 'play shows the pause button');
  await waitEpoch(page, 20, 15000);
  const e0 = await epochShown(page), kl0 = await numShown(page, '#kl-value');
  log(`early: epoch ${e0}, KL ${kl0}`);
  await waitEpoch(page, RING_LATE_EPOCH, LATE_WAIT_MS);
  // the KL moves as G and D chase each other: the lowest of a few readings over half a second
  let kl1 = Infinity;
  for (let i = 0; i < 5; i++) { kl1 = Math.min(kl1, await numShown(page, '#kl-value')); await sleep(100); }
  const e1 = await epochShown(page);
  log(`later: epoch ${e1}, KL ${kl1}`);
  check(Number.isFinite(kl0) && Number.isFinite(kl1), 'KL is shown as a number');
  check(kl1 < 0.5 * kl0 && kl1 < KL_RING_LATE, `KL falls on the ring: ${kl0.toFixed(3)} at epoch ${e0} -> ${kl1.toFixed(3)} at epoch ${e1} (want < half and < ${KL_RING_LATE})`);
  const eps = Number(await page.getAttribute('#eps', 'data-value'));
  check(eps > 10, `epochs/s shown (${eps.toFixed(0)})`);
  const pts = await page.evaluate(() => [window.gantryLab.lossChart.data[0].length, window.gantryLab.divChart.data[0].length]);
  check(pts[0] > 10 && pts[1] > 10, `the loss and KL/JS charts have points (${pts})`);
  const ld = await numShown(page, '#loss-d-value'), gl = await page.textContent('#graph-loss-d-value');
  check(Number.isFinite(ld) && Number.isFinite(Number.parseFloat(gl)), `the losses are on the page and on the model graph (${ld}, ${gl})`);
  await shot(page, '1-ring');
  await page.click('#pause');
  const s = await waitSession(page, (x) => !x.playing, 'paused');
  check(s && !s.playing, 'pause stops the session');
  await page.context().close();
}

async function scenarioDraw(browser) {
  // nets of 16 neurons (from the link): the fakes settle on the drawing within 500 epochs
  const page = await openPage(browser, `?g_neurons=${RING_NEURONS}&d_neurons=${RING_NEURONS}`);
  await page.click('#draw-mode');
  check(await shown(page, '#draw-bar'), 'the draw mode opens');
  const box = await page.locator('#view').boundingBox();
  const at = (x, y) => [box.x + x * box.width, box.y + (1 - y) * box.height];
  // two strokes in the upper left: a short arc and a line
  const strokes = [
    Array.from({ length: 16 }, (_, i) => [0.15 + 0.3 * (i / 15), 0.8 + 0.05 * Math.sin((i / 15) * Math.PI)]),
    Array.from({ length: 12 }, (_, i) => [0.2 + 0.2 * (i / 11), 0.65]),
  ];
  for (const st of strokes) {
    await page.mouse.move(...at(...st[0]));
    await page.mouse.down();
    for (const p of st.slice(1)) await page.mouse.move(...at(...p), { steps: 3 });
    await page.mouse.up();
  }
  const drawn = await page.evaluate(() => window.gantryLab.view.drawn);
  const count = Number(await page.textContent('#draw-count'));
  check(count === drawn.length && count >= 50, `points drawn with the mouse (${count})`);
  const dm = mean(drawn);
  check(dm[0] > 0.2 && dm[0] < 0.4 && dm[1] > 0.65 && dm[1] < 0.85, `the drawn points lie where the mouse went (mean ${dm.map((v) => v.toFixed(3))})`);
  // every frame the page gets from now on (the first: epoch 0 of the drawn data)
  await page.evaluate(() => { window.seen = []; window.gantryLab.frameListeners.add((f) => window.seen.push({ epoch: f.epoch, kl: f.kl, fake: f.fake })); });
  await page.click('#draw-train');
  const s = await waitSession(page, (x) => x.config.data === 'drawn' && x.playing, 'drawn data, playing');
  check(s && s.config.drawn.length === count, `the session trains on the ${count} drawn points (${s && s.config.drawn.length})`);
  log(`the experiment's link: ${page.url()}`);
  check(page.url().includes('data=drawn') && page.url().includes('drawn='), 'the URL carries the drawn points');
  await waitEpoch(page, 10, 15000);
  const f0 = await page.evaluate(() => window.seen[0]);
  check(f0 && f0.epoch === 0, `the page shows the drawn data's epoch 0 first (epoch ${f0 && f0.epoch})`);
  const d0 = Math.hypot(...mean(f0.fake).map((v, i) => v - dm[i]));
  const kl0 = f0.kl;
  await waitEpoch(page, DRAW_LATE_EPOCH, LATE_WAIT_MS);
  let best = null;
  for (let i = 0; i < 5; i++) {
    const f = await page.evaluate(() => window.gantryLab.state.frame);
    const d = Math.hypot(...mean(f.fake).map((v, k) => v - dm[k]));
    if (!best || f.kl < best.kl) best = { kl: f.kl, d, epoch: f.epoch };
    await sleep(100);
  }
  const klShown = await numShown(page, '#kl-value');
  log(`fakes' mean to the drawn mean: ${d0.toFixed(3)} at epoch ${f0.epoch} -> ${best.d.toFixed(3)} at epoch ${best.epoch}; KL ${kl0} -> ${best.kl} (shown ${klShown})`);
  check(best.d < DRAW_MEAN_DIST && best.d < d0, `the fakes move onto the drawing: mean distance ${d0.toFixed(3)} -> ${best.d.toFixed(3)} (want < ${DRAW_MEAN_DIST})`);
  check(best.kl < DRAW_KL_RATIO * kl0, `KL falls on the drawing: ${kl0.toFixed(3)} -> ${best.kl.toFixed(3)} (want < ${DRAW_KL_RATIO} x)`);
  await shot(page, '2-draw');
  await page.click('#pause');
  await page.context().close();
}

async function scenarioLayers(browser) {
  const page = await openPage(browser);
  for (let i = 0; i < 3; i++) await page.click('#step-both');
  await page.waitForFunction(() => window.gantryLab.state.epoch >= 3, null, { timeout: 15000 });
  await page.waitForTimeout(200);
  const layers = ['real', 'fake', 'heat', 'manifold', 'grad'];
  for (const l of layers) check((await layerPixels(page, l)) > 100, `layer ${l} is drawn (${await layerPixels(page, l)} pixels)`);
  for (const l of layers) {
    await page.uncheck(`#layer-${l}`);
    const off = await layerPixels(page, l);
    const attr = await page.getAttribute('#view', 'data-layers');
    const others = await Promise.all(layers.filter((k) => k !== l).map((k) => layerPixels(page, k)));
    check(off === 0 && !attr.split(' ').includes(l) && others.every((n) => n > 0),
      `layer ${l} off: its canvas is empty, the others are not (data-layers "${attr}")`);
    if (l === 'heat') await shot(page, '3-layers-no-heat');
    await page.check(`#layer-${l}`);
    const on = await layerPixels(page, l);
    check(on > 100 && (await page.getAttribute('#view', 'data-layers')).split(' ').includes(l), `layer ${l} on again (${on} pixels)`);
  }
  // the colours: real points green, fake points purple
  check((await layerPixels(page, 'real', [18, 160, 107])) > 50, 'real points are green');
  check((await layerPixels(page, 'fake', [139, 92, 246])) > 50, 'fake points are purple');
  await page.context().close();
}

async function scenarioModel(browser) {
  const page = await openPage(browser);
  await page.selectOption('#loss-select', 'hinge');
  await waitSession(page, (s) => s.config.loss === 'hinge', 'loss is hinge');
  await setInput(page, '#g-layers', 3);
  await setInput(page, '#d-layers', 0);
  await setInput(page, '#g-neurons', 12);
  const s = await waitSession(page, (x) => x.config.g_layers === 3 && x.config.d_layers === 0 && x.config.g_neurons === 12, 'g_layers 3, d_layers 0, g_neurons 12');
  check(s && s.config.loss === 'hinge' && s.config.g_layers === 3, `server config: loss ${s && s.config.loss}, g_layers ${s && s.config.g_layers}`);
  const g = await until(() => page.evaluate(() => ({
    layers: document.querySelector('#graph-g').getAttribute('data-layers'),
    hidden: document.querySelectorAll('#graph-g .hidden-layer').length,
    desc: document.querySelector('#graph-g-desc').textContent,
    dHidden: document.querySelectorAll('#graph-d .hidden-layer').length,
    dDesc: document.querySelector('#graph-d-desc').textContent,
    caption: document.querySelector('#graph-caption').textContent,
  })), (x) => x.layers === '3' && x.hidden === 3 && /× 12/.test(x.desc) && x.dHidden === 0 && /hinge/i.test(x.caption));
  check(g.layers === '3' && g.hidden === 3 && /3 hidden layers × 12/.test(g.desc), `the model graph shows G's 3 hidden layers of 12 ("${g.desc}", ${g.hidden} columns)`);
  check(g.dHidden === 0 && /no hidden layer/.test(g.dDesc), `the model graph shows D without hidden layers ("${g.dDesc}")`);
  check(/hinge/i.test(g.caption), `the model graph names the loss ("${g.caption}")`);
  const u = await until(() => new URL(page.url()).searchParams,
    (x) => x.get('loss') === 'hinge' && x.get('g_layers') === '3' && x.get('d_layers') === '0');
  check(u.get('loss') === 'hinge' && u.get('g_layers') === '3' && u.get('d_layers') === '0', `the URL follows (${u})`);
  await page.click('#play');
  await waitEpoch(page, 200, 30000);
  const ld = await numShown(page, '#loss-d-value'), lg = await numShown(page, '#loss-g-value');
  check(Number.isFinite(ld) && Number.isFinite(lg), `training runs with the new model (epoch ${await epochShown(page)}, loss_D ${ld}, loss_G ${lg})`);
  await shot(page, '4-model');
  await page.click('#pause');
  await page.context().close();
}

async function scenarioUrl(browser) {
  const page = await openPage(browser, '?data=gaussians&g_layers=2&loss=ls&d_neurons=12&lr_d=0.02');
  const c = await page.evaluate(() => ({
    data: document.querySelector('#data-select').value, g_layers: document.querySelector('#g-layers').value,
    loss: document.querySelector('#loss-select').value, d_neurons: document.querySelector('#d-neurons').value, lr_d: document.querySelector('#lr-d').value,
  }));
  check(c.data === 'gaussians' && c.g_layers === '2' && c.loss === 'ls' && c.d_neurons === '12' && Number(c.lr_d) === 0.02, `the link sets the controls (${JSON.stringify(c)})`);
  const s = await until(() => session(page), (x) => x && x.config.data === 'gaussians' && x.config.g_layers === 2 && x.config.loss === 'ls');
  check(s.config.data === 'gaussians' && s.config.g_layers === 2 && s.config.loss === 'ls' && s.config.d_neurons === 12 && Math.abs(s.config.lr_d - 0.02) < 1e-6,
    `the link sets the session (${JSON.stringify(s.config)})`);
  check(await until(() => page.evaluate(() => document.querySelectorAll('#graph-g .hidden-layer').length), (n) => n === 2) === 2, 'the model graph shows G\'s 2 hidden layers');
  // a bad value in a link is left out, the page still starts
  const bad = await openPage(browser, '?g_layers=9&loss=nope&batch=64');
  const sb = await session(bad);
  check(sb.config.batch === 64 && sb.config.g_layers !== 9 && sb.config.loss !== 'nope', `a link's out-of-range values are ignored, the rest kept (batch ${sb.config.batch}, g_layers ${sb.config.g_layers})`);
  await bad.context().close();

  // train a little, then export
  for (let i = 0; i < 5; i++) await page.click('#step-both');
  await page.waitForFunction(() => window.gantryLab.state.epoch >= 5, null, { timeout: 15000 });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.click('#export')]);
  const file = path.join(SHOTS, 'lab-export.safetensors');
  await download.saveAs(file);
  const buf = fs.readFileSync(file);
  let header = null;
  try {
    const n = Number(buf.readBigUInt64LE(0));
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch (e) { log(`export: ${e.message}`); }
  const names = header ? Object.keys(header).filter((k) => k !== '__metadata__') : [];
  check(buf.length > 8 && /^gantry-lab-\d+\.safetensors$/.test(download.suggestedFilename()), `export downloads ${download.suggestedFilename()} (${buf.length} bytes)`);
  check(names.some((k) => k.startsWith('G.')) && names.some((k) => k.startsWith('D.')), `the export holds G.* and D.* tensors (${names.slice(0, 6).join(', ')}…)`);
  const meta = header && header.__metadata__ && header.__metadata__['gantry.lab.config'];
  check(meta && JSON.parse(meta).loss === 'ls', 'the export carries the config (loss ls)');

  // 300 more epochs (through the API: the page follows its event stream), then step through
  await api('POST', `/api/sessions/${await sessionId(page)}/control`, { action: 'step', epochs: 300 });
  await waitEpoch(page, 305, 60000);
  await page.click('#trace-switch');
  check(await shown(page, '#trace-panel'), 'step-through mode opens its panel');
  const e0 = (await session(page)).epoch;
  await page.click('#trace-step');
  await page.waitForSelector('#trace-panel[data-steps="1"]', { timeout: 15000 });
  const t = await page.evaluate(() => {
    const v = (id) => Number(document.getElementById(id).dataset.value);
    return { gd: v('trace-grad-norm-d'), gg: v('trace-grad-norm-g'), ud: v('trace-update-norm-d'), ug: v('trace-update-norm-g'), gm: v('trace-grad-mean'),
      text: document.getElementById('trace-grad-norm-g').textContent, n: window.gantryLab.state.trace.grad_g.length };
  });
  check(t.gd > 0 && t.gg > 0 && t.ud > 0 && t.ug > 0 && Number.isFinite(t.gd + t.gg), `step through shows the gradient and update norms (|grad D| ${t.gd}, |grad G| ${t.gg}, shown "${t.text}")`);
  check(t.gm > 0 && t.n > 0, `step through has G's gradient on ${t.n} fakes (mean norm ${t.gm})`);
  await page.waitForTimeout(100);
  const orange = await page.evaluate(() => {
    const cv = document.getElementById('view-grad');
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 60 && d[i] > d[i + 1] + 60 && d[i] > d[i + 2] + 100) n++;
    return n;
  });
  check(orange > 30, `the step's gradient arrows are drawn on the fakes (${orange} arrow pixels)`);
  await page.click('#trace-step');
  await page.waitForSelector('#trace-panel[data-steps="2"]', { timeout: 15000 });
  const e1 = (await session(page)).epoch;
  check(e1 > e0, `each step takes an update (epoch ${e0} -> ${e1})`);
  await shot(page, '5-step-through');
  check(page.errors.length === 0, 'no page errors');
  await page.context().close();
}

// thresholds: measured on the engine with margin (see the scenario logs)
const RING_NEURONS = 16;
const RING_SEED = 3;
const RING_LATE_EPOCH = 2000;
const KL_RING_LATE = 2.0;
// the test's strokes, seed 1, 16 neurons: mean distance 0.95 at epoch 0, 0.002-0.023 from epoch
// 500 to 5000; KL 5.24 -> 3.28-3.54
const DRAW_LATE_EPOCH = 1500;
const DRAW_MEAN_DIST = 0.05;
const DRAW_KL_RATIO = 0.8;
// the waits for those late epochs: the sanitized server under a loaded machine ran the ring at ~40
// epochs/s (52 s to epoch 2000, once past the 60 s this wait used to allow; a quiet machine: ~25 s)
const LATE_WAIT_MS = 240000;

// --- main -----------------------------------------------------------------------------------------------------
async function main() {
  if (!BIN) { console.error('GANTRY_BIN is not set (the gantry program)'); return 2; }
  fs.mkdirSync(SHOTS, { recursive: true });
  const { chromium } = require('playwright-core');
  let server = null, browser = null;
  try {
    server = await startServer();
    BASE = server.url;
    log(`server at ${BASE}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const only = process.env.LAB_TEST_ONLY ? process.env.LAB_TEST_ONLY.split(',') : null;
    for (const [name, fn] of [['1-ring', scenarioRing], ['2-draw', scenarioDraw], ['3-layers', scenarioLayers], ['4-model', scenarioModel], ['5-url', scenarioUrl]]) {
      if (only && !only.some((o) => name.includes(o))) continue;
      run.current = name;
      const t = Date.now();
      try { await fn(browser); } catch (e) {
        if (!(e instanceof Fatal)) { log(`FAIL ${e.stack || e}`); failures.push(`${name}: ${e.message}`); }
      }
      log(`done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      run.current = '';
    }
  } catch (e) {
    failures.push(`setup: ${e.message}`);
    log(`FAIL ${e.stack || e}`);
  } finally {
    run.current = '';
    if (browser) await browser.close().catch(() => {});
    if (server) {
      const code = await stopServer(server.proc);
      check(code === 0, `the server exits 0 on SIGTERM (${code})`);
    }
  }
  log(failures.length ? `${failures.length} failed:\n  ${failures.join('\n  ')}` : 'all checks passed');
  return failures.length ? 1 : 0;
}

process.exitCode = await main();
