// The runs dashboard and the latent explorer (docs/DASHBOARD.md) in a real browser (playwright-core
// driving Debian's Chromium, headless) against `gantry lab --port 0 --runs RUNS` and real training
// runs in a temporary runs folder: a tiny finished run, then a live one trained in the background
// while the page watches. Each step saves a screenshot in GANTRY_SCREENSHOTS:
//   1 list     : the finished run is listed; the live run appears without a reload, its step advances
//   2 run      : the live run's page: its step advances and its loss chart grows while it trains
//   3 grids    : the sample grid timeline fills live; scrubbing shows an earlier grid (one at a time)
//   4 compare  : the two runs ticked and compared: a chart per metric, the config keys that differ
//   5 explore  : a checkpoint in the latent explorer: a latent dimension's slider regenerates the grid
//   6 stop     : the trainer stopped (SIGTERM): the list shows how it ended
// Env: GANTRY_BIN (the gantry program), GANTRY_WEB (the web folder), GANTRY_SCREENSHOTS (a folder).
// The trainers and the server are killed, the browser closed and the runs folder removed at the end,
// also on failure; exit 1 on any failed check.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failures, run, log, check, Fatal, must, sleep, WEB, BIN, SHOTS, CHROMIUM, requireWeb as require,
  track, killAll, exited, stop, startServer, shot, waitFor } from './harness.mjs';


// the runs: small nets on 2048 Fashion-MNIST images, one thread (the browser gets a core). The live
// run logs every 20 steps at ~75-120 it/s here (its 20000 steps would take minutes: the test stops
// it after ~30 s, so it still runs on a faster machine), a grid every 250 steps, a checkpoint every
// 1000, FID (256 images, ~0.1 s) every 500.
const COMMON = ['--data', 'fashion-mnist', '--model', 'dcgan', '--res', '28', '--ngf', '16', '--ndf', '16', '--batch', '16',
  '--data-limit', '2048', '--threads', '1', '--eval-n', '256', '--quiet'];
const SMALL = [...COMMON, '--steps', '300', '--log-every', '10', '--sample-every', '100', '--ckpt-every', '100', '--eval-every', '300'];
const LIVE = [...COMMON, '--steps', '20000', '--log-every', '20', '--sample-every', '250', '--ckpt-every', '1000', '--eval-every', '500', '--seed', '1'];


// --- processes ---------------------------------------------------------------------------------------

function train(args, out) {
  return track(spawn(BIN, ['train', ...args, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] }), `train ${path.basename(out)}`);
}


// --- page helpers ------------------------------------------------------------------------------------
let BASE = '';
const attr = (page, sel, name) => page.evaluate(([s, n]) => { const el = document.querySelector(s); return el ? el.getAttribute(n) : null; }, [sel, name]);
const numAttr = async (page, sel, name) => { const v = await attr(page, sel, name); return v === null ? NaN : Number(v); };
const rowStep = (page, name) => numAttr(page, `#runs-table tr[data-run="${name}"] .c-step`, 'data-value');

// --- the steps ---------------------------------------------------------------------------------------
async function stepList(page, ctx) {
  await page.goto(`${BASE}#/runs`);
  await page.waitForSelector('#runs-table tr[data-run="small"]', { timeout: 15000 });
  check((await attr(page, '#runs-table tr[data-run="small"]', 'data-state')) === 'finished', 'the finished run is listed as finished');
  const small = await page.evaluate(() => {
    const tr = document.querySelector('#runs-table tr[data-run="small"]');
    return { model: tr.querySelector('.c-model').textContent, data: tr.querySelector('.c-data').textContent, step: tr.querySelector('.c-step').textContent,
      fid: tr.querySelector('.c-fid').textContent, ld: tr.querySelector('.c-loss-d').textContent, upd: tr.querySelector('.c-updated').textContent,
      bar: tr.querySelector('.bar-fill').style.width };
  });
  check(small.model === 'dcgan' && /fashion/.test(small.data) && small.step.replace(/\D/g, '') === '300300', `its model, data and step / steps (${JSON.stringify(small)})`);
  check(Number.isFinite(Number.parseFloat(small.ld)) && Number.isFinite(Number.parseFloat(small.fid)) && /ago/.test(small.upd) && small.bar === '100%',
    `its last loss_D, FID, "updated … ago" and a full progress bar (${small.ld}, ${small.fid}, ${small.upd}, ${small.bar})`);
  // now the live run starts: it must show up without a reload
  await page.evaluate(() => { window.noReload = true; });
  const mounts = await page.evaluate(() => window.gantryDash.mounts);
  ctx.live = train(LIVE, path.join(ctx.runs, 'live'));
  log(`live trainer started (pid ${ctx.live.pid})`);
  await waitFor(page, () => !!document.querySelector('#runs-table tr[data-run="live"]'), null, 'the live run appears in the list', 20000);
  check(await page.evaluate((m) => window.noReload === true && window.gantryDash.mounts === m, mounts), 'it appeared without a reload (the page and the view are the same)');
  await waitFor(page, () => Number(document.querySelector('#runs-table tr[data-run="live"] .c-step')?.dataset.value) > 0, null, 'the live run\'s step is shown', 20000);
  const s0 = await rowStep(page, 'live');
  await waitFor(page, (a) => Number(document.querySelector('#runs-table tr[data-run="live"] .c-step').dataset.value) > a, s0, 'the live run\'s step advances', 15000);
  const s1 = await rowStep(page, 'live');
  check(s1 > s0, `the step shown advances: ${s0} -> ${s1}`);
  check((await attr(page, '#runs-table tr[data-run="live"]', 'data-state')) === 'running', `the live run is running (${await attr(page, '#runs-table tr[data-run="live"]', 'data-state')})`);
  const order = await page.evaluate(() => [...document.querySelectorAll('#runs-table tbody tr')].map((t) => t.dataset.run));
  check(order[0] === 'live', `the newest updated run comes first (${order})`);
  await shot(page, 'dashboard', '1-list');
}

async function stepRun(page) {
  await page.click('#runs-table tr[data-run="live"] .c-name a');
  await page.waitForSelector('#view-run', { timeout: 5000 });
  check(page.url().endsWith('#/runs/live'), `the run's page has its link (${page.url()})`);
  await waitFor(page, () => Number(document.querySelector('#run-chart-loss')?.dataset.points) > 0, null, 'the loss chart has points', 15000);
  const p0 = await numAttr(page, '#run-chart-loss', 'data-points');
  const st0 = await numAttr(page, '#run-step', 'data-value');
  await waitFor(page, (p) => Number(document.querySelector('#run-chart-loss').dataset.points) >= p + 3, p0, 'the loss chart grows', 20000);
  const p1 = await numAttr(page, '#run-chart-loss', 'data-points');
  const st1 = await numAttr(page, '#run-step', 'data-value');
  check(p1 > p0, `the loss chart grows while it trains: ${p0} -> ${p1} points`);
  check(st1 > st0, `the displayed step advances: ${st0} -> ${st1}`);
  const charts = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('.dchart')].map((c) => [c.id, Number(c.dataset.points)])));
  check(charts['run-chart-dout'] > 0 && charts['run-chart-speed'] > 0, `D(x)/D(G(z)) and it/s, img/s charts have points (${JSON.stringify(charts)})`);
  const readout = await page.textContent('#run-chart-loss .dchart-readout');
  check(/loss_G\s*-?\d/.test(readout) && /loss_D\s*-?\d/.test(readout), `the loss chart reads out loss_G and loss_D ("${readout}")`);
  // hover: the readout follows the cursor
  const box = await page.locator('#run-chart-loss .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.waitForTimeout(150);
  const hover = await page.textContent('#run-chart-loss .dchart-readout');
  check(!/last/.test(hover) && /step/.test(hover), `hovering reads the values under the cursor ("${hover}")`);
  // drag: zoom on the steps, double-click: back
  const xs0 = await page.evaluate(() => { const u = window.gantryDash.run.charts.get('loss').chart.plot; return [u.scales.x.min, u.scales.x.max]; });
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  const xs1 = await page.evaluate(() => { const u = window.gantryDash.run.charts.get('loss').chart.plot; return [u.scales.x.min, u.scales.x.max]; });
  check(xs1[1] - xs1[0] < 0.6 * (xs0[1] - xs0[0]), `dragging zooms in on the steps ([${xs0.map(Math.round)}] -> [${xs1.map(Math.round)}])`);
  await page.mouse.dblclick(box.x + box.width * 0.5, box.y + box.height / 2);
  await page.mouse.move(0, 0);
  const cfg = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#config-table tr')].map((r) => [r.cells[0].textContent, r.cells[1].textContent])));
  check(cfg.steps === '20000' && cfg['model.ngf'] === '16' && cfg.data === 'fashion-mnist', `the config table (steps ${cfg.steps}, model.ngf ${cfg['model.ngf']}, data ${cfg.data})`);
  check((await page.textContent('#run-state')).trim() === 'running', 'the status says running');
  await shot(page, 'dashboard', '2-run');
}

async function stepGrids(page, ctx) {
  await waitFor(page, () => Number(document.querySelector('#grid-panel')?.dataset.total) >= 4, null, 'at least 4 grids in the timeline', 60000);
  // the page opened afresh on a run with several grids: one grid list page and one image, not all
  const fileRequests = [], gridRequests = [];
  const onReq = (r) => {
    if (/\/api\/runs\/live\/file\//.test(r.url())) fileRequests.push(r.url());
    if (/\/api\/runs\/live\/grids\?/.test(r.url())) gridRequests.push(r.url());
  };
  page.on('request', onReq);
  await page.reload();
  await page.waitForSelector('#view-run', { timeout: 5000 });
  await waitFor(page, () => { const i = document.querySelector('#grid-img'); return i.complete && i.naturalWidth > 0 && i.dataset.loaded === i.dataset.step; }, null, 'the newest grid is shown', 10000);
  const total0 = await numAttr(page, '#grid-panel', 'data-total');
  const last = await numAttr(page, '#grid-img', 'data-step');
  await page.waitForTimeout(500);
  // (a grid every ~2.5 s: one may come while the page loads)
  check(total0 >= 4 && fileRequests.length <= 2 && gridRequests.length >= 1 && gridRequests.every((u) => /limit=\d+/.test(u)),
    `one grid image loaded of ${total0} (${fileRequests.length} image requests, grid list asked by pages: ${gridRequests.map((u) => u.split('?')[1]).join(' ')})`);
  page.off('request', onReq);
  // live: the timeline follows a new grid while at its end
  await waitFor(page, (t) => Number(document.querySelector('#grid-panel').dataset.total) > t, total0, 'a new grid arrives while watching', 30000);
  await waitFor(page, (s) => Number(document.querySelector('#grid-img').dataset.step) > s, last, 'the timeline follows the new grid', 5000);
  const newest = await numAttr(page, '#grid-img', 'data-step');
  const total1 = await numAttr(page, '#grid-panel', 'data-total');
  check(newest > last, `the timeline follows new grids at its end: step ${last} -> ${newest} (${total0} -> ${total1} grids)`);
  // scrub: drag the slider's thumb to the left end
  const src0 = await attr(page, '#grid-img', 'src');
  const sb = await page.locator('#grid-slider').boundingBox();
  await page.mouse.move(sb.x + sb.width - 6, sb.y + sb.height / 2);
  await page.mouse.down();
  await page.mouse.move(sb.x + sb.width * 0.5, sb.y + sb.height / 2, { steps: 8 });
  await page.mouse.move(sb.x + 2, sb.y + sb.height / 2, { steps: 8 });
  await page.mouse.up();
  await waitFor(page, () => { const i = document.querySelector('#grid-img'); return Number(i.dataset.step) <= 250 && i.complete && i.naturalWidth > 0 && i.dataset.loaded === i.dataset.step; }, null, 'scrubbing to the start shows the first grid', 10000);
  const src1 = await attr(page, '#grid-img', 'src');
  const step1 = await numAttr(page, '#grid-img', 'data-step');
  const label = await page.textContent('#grid-step');
  check(src1 !== src0 && step1 < newest && /step_000250/.test(src1), `the image changes to an earlier step: ${src0.split('/').pop()} -> ${src1.split('/').pop()} (label ${label})`);
  // ▶ steps one grid forward; scrubbed back, a new grid does not move the view
  await page.click('#grid-panel .grid-controls button:nth-of-type(2)');
  await waitFor(page, () => Number(document.querySelector('#grid-img').dataset.step) === 500, null, '▶ steps to the next grid', 5000);
  const t2 = await numAttr(page, '#grid-panel', 'data-total');
  if (await waitFor(page, (t) => Number(document.querySelector('#grid-panel').dataset.total) > t, t2, 'another grid arrives', 15000)) {
    await page.waitForTimeout(200);
    check((await numAttr(page, '#grid-img', 'data-step')) === 500, `a new grid (${t2} -> ${await numAttr(page, '#grid-panel', 'data-total')}) leaves the scrubbed-back view at step 500`);
  }
  await shot(page, 'dashboard', '3-grids');
}

async function stepCompare(page) {
  await page.click('#dash-crumbs a[href="#/runs"]');
  await page.waitForSelector('#runs-table tr[data-run="small"]', { timeout: 5000 });
  check(await page.isDisabled('#compare-btn'), 'Compare is off with fewer than two runs ticked');
  await page.check('#runs-table tr[data-run="live"] .c-pick input');
  await page.check('#runs-table tr[data-run="small"] .c-pick input');
  check(!(await page.isDisabled('#compare-btn')), 'two runs ticked: Compare is on');
  await page.click('#compare-btn');
  await page.waitForSelector('#view-compare', { timeout: 5000 });
  check(/#\/compare\/(live,small|small,live)$/.test(page.url()), `the comparison has its link (${page.url()})`);
  await waitFor(page, () => !!document.querySelector('#diff-table tr[data-key="steps"]'), null, 'the config differences are listed', 10000);
  const diff = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#diff-table tbody tr.differs')].map((r) => [r.dataset.key, [...r.cells].slice(1).map((c) => c.textContent)])));
  log(`differing keys: ${JSON.stringify(diff)}`);
  check(diff.steps && diff.steps.includes('20000') && diff.steps.includes('300'), `steps differ: ${JSON.stringify(diff.steps)}`);
  check(diff.log_every && diff.sample_every && diff.eval_every && diff.seed, 'log_every, sample_every, eval_every and seed differ');
  check(!('model.ngf' in diff) && !('data' in diff) && !('batch' in diff), 'the keys that are the same (model.ngf, data, batch) are not listed');
  await waitFor(page, () => Number(document.querySelector('.cmp-charts')?.dataset.charts) >= 5, null, 'a chart per metric', 10000);
  const ch = await page.evaluate(() => [...window.gantryDash.compare.charts.entries()].map(([k, c]) => [k, c.series.length, c.data.slice(1).map((ys) => ys.filter((v) => v !== null && v !== undefined).length)]));
  log(`compare charts: ${JSON.stringify(ch)}`);
  const lossG = ch.find((c) => c[0] === 'loss_g');
  check(lossG && lossG[1] === 2 && lossG[2].every((n) => n > 0), `loss_G overlays both runs (${JSON.stringify(lossG)})`);
  check(ch.some((c) => c[0] === 'eval.fid' && c[2].every((n) => n > 0)), 'FID overlays both runs');
  await page.click('#diff-all');
  const all = await page.evaluate(() => document.querySelectorAll('#diff-table tbody tr').length);
  check(all > Object.keys(diff).length, `"all keys" lists the same keys too (${all} rows)`);
  await page.click('#diff-all');
  await shot(page, 'dashboard', '4-compare');
}

async function stepExplore(page) {
  await page.click('#cmp-summary tr[data-run="small"] a');
  await page.waitForSelector('#view-run', { timeout: 5000 });
  await page.waitForSelector('#ckpt-table tr[data-file="last.safetensors"] a.explore-link', { timeout: 10000 });
  const ckpts = await page.evaluate(() => [...document.querySelectorAll('#ckpt-table tbody tr')].map((r) => r.dataset.file));
  check(ckpts.includes('last.safetensors') && ckpts.some((f) => /^checkpoints\/step_\d+\.safetensors$/.test(f)), `the checkpoints are listed (${ckpts})`);
  await page.click('#ckpt-table tr[data-file="last.safetensors"] a.explore-link');
  await page.waitForSelector('#view-explore', { timeout: 5000 });
  check(/#\/explore\/small\?ckpt=last\.safetensors/.test(page.url()), `the explorer has its link (${page.url()})`);
  await waitFor(page, () => document.querySelector('#explore-img')?.src.startsWith('blob:') && Number(document.querySelector('#explore-img').dataset.requests) >= 1, null, 'the first grid is generated', 20000);
  const info = await page.textContent('#explore-info');
  check(/nz 100/.test(info) && /dcgan/.test(info), `the checkpoint's info (${info})`);
  check(await page.isHidden('#explore-class'), 'no class picker for an unconditional model');
  const src0 = await attr(page, '#explore-img', 'src');
  const n0 = await numAttr(page, '#explore-img', 'data-requests');
  // pick latent dimension 7 and drag its slider to the right
  await page.fill('#dim-add-index', '7');
  await page.click('#dim-add');
  await page.waitForSelector('.dim-row[data-index="7"] input[type="range"]', { timeout: 3000 });
  await waitFor(page, (n) => Number(document.querySelector('#explore-img').dataset.requests) > n, n0, 'adding a dimension regenerates', 15000);
  const n1 = await numAttr(page, '#explore-img', 'data-requests');
  const src1 = await attr(page, '#explore-img', 'src');
  const rb = await page.locator('.dim-row[data-index="7"] input[type="range"]').boundingBox();
  await page.mouse.move(rb.x + rb.width / 2, rb.y + rb.height / 2);
  await page.mouse.down();
  await page.mouse.move(rb.x + rb.width * 0.9, rb.y + rb.height / 2, { steps: 10 });
  await page.mouse.up();
  const v = await page.evaluate(() => window.gantryDash.explore.settings.dims.find((d) => d.index === 7).value);
  check(v > 1.5, `the slider sets z[7] (${v})`);
  await waitFor(page, ([n, s]) => { const i = document.querySelector('#explore-img'); return Number(i.dataset.requests) > n && i.src !== s && i.complete && i.naturalWidth > 0; }, [n1, src1], 'moving the slider regenerates the grid', 15000);
  await page.waitForTimeout(400); // the last slider position's request
  const src2 = await attr(page, '#explore-img', 'src');
  const n2 = await numAttr(page, '#explore-img', 'data-requests');
  const ms = await numAttr(page, '#explore-ms', 'data-value');
  const msText = await page.textContent('#explore-ms');
  check(src2.startsWith('blob:') && src2 !== src0 && src2 !== src1, `a new blob URL (${src1.slice(-12)} -> ${src2.slice(-12)})`);
  check(Number.isFinite(ms) && ms >= 0 && /ms/.test(msText), `the generation time is shown ("${msText}")`);
  check(n2 - n1 <= 12, `the slider's drag (11 moves) sent at most one request per move (${n2 - n1} requests)`);
  check(/dims=7:/.test(page.url()), `the settings are in the link (${page.url().split('?')[1]})`);
  // the pixels: the grid is not blank
  const stats = await page.evaluate(async () => {
    const i = document.querySelector('#explore-img');
    const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;
    const g = c.getContext('2d'); g.drawImage(i, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let lo = 255, hi = 0;
    for (let k = 0; k < d.length; k += 4) { lo = Math.min(lo, d[k]); hi = Math.max(hi, d[k]); }
    return { w: c.width, h: c.height, lo, hi };
  });
  check(stats.w >= 28 && stats.hi - stats.lo > 50, `the image is a grid of pictures (${stats.w}x${stats.h}, values ${stats.lo}..${stats.hi})`);
  // interpolation mode
  await page.click('#mode-interp');
  await waitFor(page, (n) => Number(document.querySelector('#explore-img').dataset.requests) > n, n2, 'interpolation mode generates', 15000);
  check(/mode=interp/.test(page.url()), 'interpolation is in the link');
  await page.click('.segs .seg[data-mode="grid"]');
  await waitFor(page, (n) => Number(document.querySelector('#explore-img').dataset.requests) > n + 1, n2, 'back to the grid', 15000);
  await page.waitForTimeout(300);
  await shot(page, 'dashboard', '5-explore');
  // another checkpoint of the run: a step checkpoint (its file has a slash)
  await page.selectOption('#explore-ckpt', 'checkpoints/step_000200.safetensors');
  await waitFor(page, () => /step 200/.test(document.querySelector('#explore-info').textContent) && Number(document.querySelector('#explore-img')?.dataset.requests) >= 1,
    null, 'the step 200 checkpoint opens', 15000);
  check(/ckpt=checkpoints\/step_000200\.safetensors/.test(page.url()) && /dims=7:/.test(page.url()), `the explorer follows the chosen checkpoint, keeping the settings (${page.url().split('#')[1]})`);
  check(await page.isHidden('#explore-error'), 'no error');
}

async function stepStop(page, ctx) {
  const r = await stop(ctx.live, 15000);
  log(`live trainer ended: ${JSON.stringify(r)}`);
  const want = r.signal === 'SIGTERM' || r.code !== 0 ? 'interrupted' : 'finished';
  await page.goto(`${BASE}#/runs`);
  await waitFor(page, (w) => document.querySelector('#runs-table tr[data-run="live"]')?.dataset.state === w, want, `the list shows the stopped run as ${want}`, 10000);
  check((await attr(page, '#runs-table tr[data-run="live"]', 'data-state')) === want, `the live run is ${want} after the trainer ended`);
  await shot(page, 'dashboard', '6-stopped');
}

// --- main --------------------------------------------------------------------------------------------
async function main() {
  if (!BIN) { console.error('GANTRY_BIN is not set (the gantry program)'); return 2; }
  fs.mkdirSync(SHOTS, { recursive: true });
  const { chromium } = require('playwright-core');
  const ctx = { runs: fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-dash-')), live: null };
  let server = null, browser = null;
  const cleanup = () => { killAll(); fs.rmSync(ctx.runs, { recursive: true, force: true }); };
  const onSignal = (sig) => { log(`${sig}: cleaning up`); cleanup(); process.exit(1); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    run.current = 'setup';
    const small = train(SMALL, path.join(ctx.runs, 'small'));
    const r = await exited(small);
    must(r.code === 0, `the finished run trains (${JSON.stringify(r)} ${small.stderrText.slice(-400)})`);
    server = await startServer(ctx.runs, spawn);
    BASE = server.url;
    log(`server at ${BASE}, runs in ${ctx.runs}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (e) => { page.errors.push(e.message); log(`page error: ${e.message}`); });
    page.on('console', (m) => { if (m.type() === 'error') log(`console: ${m.text()}`); });
    run.current = '';
    for (const [name, fn] of [['1-list', stepList], ['2-run', stepRun], ['3-grids', stepGrids], ['4-compare', stepCompare], ['5-explore', stepExplore], ['6-stop', stepStop]]) {
      run.current = name;
      const t = Date.now();
      try { await fn(page, ctx); } catch (e) {
        if (!(e instanceof Fatal)) { log(`FAIL ${e.stack || e}`); failures.push(`${name}: ${e.message}`); }
        try { await shot(page, 'dashboard', `${name}-failed`); } catch { /* the page is gone */ }
        if (name === '1-list') break; // nothing to look at
      }
      log(`done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    run.current = '';
    check(page.errors.length === 0, `no page errors (${page.errors.join('; ')})`);
  } catch (e) {
    failures.push(`${run.current || 'setup'}: ${e.message}`);
    log(`FAIL ${e.stack || e}`);
  } finally {
    run.current = '';
    if (browser) await browser.close().catch(() => {});
    if (ctx.live) await stop(ctx.live, 5000);
    if (server) {
      const r = await stop(server.proc, 5000);
      check(r && r.code === 0, `the server exits 0 on SIGTERM (${JSON.stringify(r)})`);
    }
    cleanup();
    check(!fs.existsSync(ctx.runs), 'the runs folder is removed');
  }
  log(failures.length ? `${failures.length} failed:\n  ${failures.join('\n  ')}` : 'all checks passed');
  return failures.length ? 1 : 0;
}

process.exitCode = await main();
