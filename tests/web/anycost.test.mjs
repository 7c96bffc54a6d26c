// The anycost editor (web/anycost.html, docs/anycost/editor.md) in a real browser (playwright-core
// driving Debian's Chromium, headless) against `gantry lab --port 0 --runs RUNS`, on a tiny anycost
// run trained for 2 steps by `gantry train` (32 px gray, widths 32..8) and a tiny DCGAN run. Each step
// saves a screenshot in GANTRY_SCREENSHOTS:
//   1 open     : from the runs list's "edit" link: the checkpoint opens, 12 sub-generators measured,
//                10 class sliders, a preview and a final render with their times
//   2 slider   : a class slider dragged: the preview image changes (new PNG), the final is marked stale
//   3 budget   : the budget at its minimum previews the smallest config (8 px), at its maximum the full
//   4 finalize : Finalize renders the full generator with the edit: both latencies shown (> 0 ms)
//   5 upload   : a picture uploaded (the final render saved as a PNG file): projected (its error falls),
//                then previewed and finalized with the edit
//   6 error    : a DCGAN run in the editor: the server's message names the family
// Env: GANTRY_BIN (the gantry program), GANTRY_WEB (the web folder), GANTRY_SCREENSHOTS (a folder).
// The server is killed, the browser closed and the runs folder removed at the end, also on failure;
// exit 1 on any failed check.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failures, run, log, check, Fatal, must, WEB, BIN, SHOTS, CHROMIUM, requireWeb as require,
  track, killAll, exited, stop, startServer, shot, waitFor } from './harness.mjs';

const COMMON = ['--data', 'fashion-mnist', '--res', '32', '--batch', '8', '--data-limit', '256', '--threads', '1', '--steps', '2',
  '--log-every', '1', '--sample-every', '0', '--ckpt-every', '0', '--n-samples', '4', '--quiet'];
const ANYCOST = [...COMMON, '--model', 'anycost', '--nz', '32', '--model-opts', 'w_dim=32,n_mlp=2,ch=8,ch_max=32,dch=8'];
const DCGAN = [...COMMON, '--model', 'dcgan', '--nz', '16', '--ngf', '8', '--ndf', '8'];

// --- processes ---------------------------------------------------------------------------------------
async function train(args, out) {
  const p = track(spawn(BIN, ['train', ...args, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] }), `train ${path.basename(out)}`);
  const r = await exited(p);
  must(r.code === 0, `gantry train ${path.basename(out)} (${JSON.stringify(r)} ${p.stderrText.slice(-400)})`);
}

// --- page helpers ------------------------------------------------------------------------------------
let BASE = '';
const counts = (page) => page.evaluate(() => ({ ...window.gantryAnycost.counts }));
const imgState = (page, which) => page.evaluate((w) => {
  const i = document.querySelector(`#${w}-img`);
  return { src: i.getAttribute('src') || '', w: i.naturalWidth, n: Number(i.dataset.requests), ms: Number(document.querySelector(`#${w}-ms`).dataset.value),
    msText: document.querySelector(`#${w}-ms`).textContent, cfg: document.querySelector(`#${w}-cap`).dataset.config || '', cap: document.querySelector(`#${w}-cap`).textContent };
}, which);
// the pixels of an image (gray values), to see that two pictures differ in what they show
const pixels = (page, which) => page.evaluate((w) => {
  const i = document.querySelector(`#${w}-img`);
  const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(i, 0, 0);
  return Array.from(g.getImageData(0, 0, c.width, c.height).data.filter((_, k) => k % 4 === 0));
}, which);
async function drag(page, sel, from, to) {
  const b = await page.locator(sel).boundingBox();
  await page.mouse.move(b.x + b.width * from, b.y + b.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width * to, b.y + b.height / 2, { steps: 10 });
  await page.mouse.up();
}
// the preview settles: no request in flight nor queued, and the image loaded
const settled = (page, n) => waitFor(page, (k) => {
  const i = document.querySelector('#preview-img');
  return Number(i.dataset.requests) > k && document.querySelector('#preview-busy').hidden && i.complete && i.naturalWidth > 0;
}, n, 'the preview answers', 15000);

// --- the steps ---------------------------------------------------------------------------------------
async function stepOpen(page) {
  await page.goto(`${BASE}#/runs`);
  await page.waitForSelector('#runs-table tr[data-run="ac"] a.anycost-link', { timeout: 15000 });
  check(!(await page.$('#runs-table tr[data-run="dc"] a.anycost-link')), 'no editor link on the DCGAN run');
  await page.click('#runs-table tr[data-run="ac"] a.anycost-link');
  await page.waitForSelector('#ac-controls[data-ready="true"]', { timeout: 30000 });
  check(/\/anycost\.html\?run=ac/.test(page.url()), `the editor has its link (${page.url()})`);
  await waitFor(page, () => Number(document.querySelector('#preview-img').dataset.requests) >= 1 && Number(document.querySelector('#final-img').dataset.requests) >= 1,
    null, 'the first preview and final render', 20000);
  const sliders = await page.$$eval('#ac-dirs .ac-dir', (rows) => rows.map((r) => r.querySelector('.ac-dir-name').textContent));
  check(sliders.length === 10 && sliders[3] === 'Dress' && sliders[9] === 'Ankle boot', `10 class sliders (${sliders.join(', ')})`);
  const rows = await page.$$eval('#ac-cfgs tbody tr', (t) => t.map((r) => r.dataset.key));
  check(rows.length === 12 && rows[0] === '0.25@8' && rows[11] === '1@32', `12 sub-generators, cheapest first (${rows.join(' ')})`);
  const info = await page.textContent('#ac-info');
  check(/32×32/.test(info) && /step 2/.test(info), `the checkpoint's info (${info})`);
  const p = await imgState(page, 'preview'), f = await imgState(page, 'final');
  check(p.ms > 0 && f.ms > 0 && f.w === 32 && f.cfg === '1@32', `both rendered: preview ${p.msText} (${p.cfg}), final ${f.msText} (${f.cfg})`);
  await shot(page, 'anycost', '1-open');
}

async function stepSlider(page, ctx) {
  const before = await imgState(page, 'preview');
  const px0 = await pixels(page, 'preview');
  // the first class that has a direction (an untrained G's items fall into a few classes only)
  const dead = await page.$$eval('#ac-dirs .ac-dir.dead', (r) => r.map((x) => x.querySelector('.ac-dir-name').textContent));
  const k = Number(await page.$eval('#ac-dirs .ac-dir:not(.dead)', (r) => r.dataset.index));
  const name = await page.$eval(`#ac-dirs .ac-dir[data-index="${k}"] .ac-dir-name`, (x) => x.textContent);
  check(dead.length < 10 && (await page.$$eval('#ac-dirs .ac-dir.dead input:disabled', (x) => x.length)) === dead.length,
    `classes without a direction have their slider off (${dead.join(', ') || 'none'})`);
  await drag(page, `#ac-dirs .ac-dir[data-index="${k}"] input`, 0.5, 0.95);
  const v = await page.evaluate((i) => window.gantryAnycost.state.edits.get(i), k);
  check(v > 3, `the slider sets the strength towards ${name} (${v})`);
  await settled(page, before.n);
  await page.waitForTimeout(300); // the last position's request
  await settled(page, (await counts(page)).preview - 1);
  const after = await imgState(page, 'preview');
  const px1 = await pixels(page, 'preview');
  const diff = px0.length === px1.length ? px0.reduce((s, x, k) => s + Math.abs(x - px1[k]), 0) / px0.length : Infinity;
  check(after.n > before.n && after.src !== before.src, `the preview updates while the slider moves (${before.n} -> ${after.n} renders, a new PNG)`);
  check(diff > 0.5, `the picture changes (mean |Δ| ${diff.toFixed(2)} gray levels of ${px1.length} pixels)`);
  check(after.n - before.n <= 12, `one request at a time: ${after.n - before.n} renders for the drag's 11 moves`);
  check(await page.isVisible('#final-stale'), 'the final render is marked as out of date');
  check(new RegExp(`e=${k}:`).test(page.url()), `the edit is in the link (${page.url().split('?')[1]})`);
  ctx.previewMs = after.ms;
  await shot(page, 'anycost', '2-slider');
}

async function stepBudget(page) {
  let n = (await counts(page)).preview;
  await page.$eval('#ac-budget', (el) => { el.value = '0'; el.dispatchEvent(new Event('input', { bubbles: true })); });
  await settled(page, n);
  let p = await imgState(page, 'preview');
  check(p.cfg === '0.25@8' && p.w === 8, `the smallest budget previews the smallest sub-generator (${p.cap}, ${p.w} px)`);
  check((await page.textContent('#ac-budget-pick')).includes('0.25× channels @ 8 px'), 'the budget says which config it picks');
  n = (await counts(page)).preview;
  await page.$eval('#ac-budget', (el) => { el.value = '1000'; el.dispatchEvent(new Event('input', { bubbles: true })); });
  await settled(page, n);
  p = await imgState(page, 'preview');
  check(p.cfg === '1@32' && p.w === 32, `the largest budget previews the full generator (${p.cap})`);
  // back to a middle budget: the config the page shows is the one the server used
  n = (await counts(page)).preview;
  await page.$eval('#ac-budget', (el) => { el.value = '700'; el.dispatchEvent(new Event('input', { bubbles: true })); });
  await settled(page, n);
  p = await imgState(page, 'preview');
  const picked = await page.$eval('#ac-cfgs tr.picked', (t) => t.dataset.key);
  check(p.cfg === picked, `a middle budget (${(await page.textContent('#ac-budget-out'))}): the server used ${p.cfg}, the table marks ${picked}`);
  await shot(page, 'anycost', '3-budget');
}

async function stepFinalize(page) {
  const before = await imgState(page, 'final');
  await page.click('#ac-finalize');
  await waitFor(page, (n) => Number(document.querySelector('#final-img').dataset.requests) > n && document.querySelector('#final-img').complete, before.n, 'Finalize renders', 15000);
  const f = await imgState(page, 'final'), p = await imgState(page, 'preview');
  check(f.src !== before.src && f.w === 32 && f.cfg === '1@32', `the final picture is the full generator's with the edit (${f.cap})`);
  check(await page.isHidden('#final-stale'), 'no longer marked out of date');
  const shown = await page.evaluate(() => [document.querySelector('#preview-ms').textContent, document.querySelector('#final-ms').textContent]);
  const nums = shown.map((t) => Number.parseFloat(t));
  check(nums.every((x) => Number.isFinite(x) && x > 0) && shown.every((t) => /ms/.test(t)), `both latencies are shown: preview ${shown[0]}, final ${shown[1]}`);
  check(p.ms > 0 && f.ms > 0, `their values: preview ${p.ms} ms (${p.cfg}), final ${f.ms} ms`);
  check(await page.isHidden('#ac-error'), 'no error');
  await shot(page, 'anycost', '4-finalize');
}

async function stepUpload(page, ctx) {
  const final = await imgState(page, 'final');
  const file = path.join(ctx.runs, 'upload.png');
  fs.writeFileSync(file, Buffer.from(final.src.replace(/^data:image\/png;base64,/, ''), 'base64'));
  const n = (await counts(page)).final;
  await page.setInputFiles('#ac-upload', file);
  await waitFor(page, (k) => Number(document.querySelector('#final-img').dataset.requests) > k && /your picture/.test(document.querySelector('#final-cap').textContent),
    n, 'the uploaded picture is projected, previewed and finalized', 60000);
  const st = await page.$eval('#ac-proj-status', (x) => ({ text: x.textContent, mse: Number(x.dataset.mse), before: Number(x.dataset.before) }));
  check(st.mse < st.before, `the projection lowers the error ("${st.text}")`);
  const p = await imgState(page, 'preview'), f = await imgState(page, 'final');
  check(/your picture/.test(p.cap) && f.w === 32 && f.ms > 0, `preview and final of the picture (${p.cap}; ${f.cap})`);
  check(await page.isVisible('#ac-target'), 'the uploaded picture is shown as the model sees it');
  await shot(page, 'anycost', '5-upload');
  await page.click('#ac-use-seed');
  await settled(page, p.n);
  check(/seed 0/.test((await imgState(page, 'preview')).cap), 'back to the seed');
}

async function stepError(page) {
  await page.goto(`${BASE}anycost.html?run=dc`);
  await waitFor(page, () => !document.querySelector('#ac-error').hidden, null, 'an error for a DCGAN run', 15000);
  const msg = await page.textContent('#ac-error');
  check(/'dcgan' model, not anycost/.test(msg), `the message names the family ("${msg}")`);
  await shot(page, 'anycost', '6-error');
}

// --- main --------------------------------------------------------------------------------------------
async function main() {
  if (!BIN) { console.error('GANTRY_BIN is not set (the gantry program)'); return 2; }
  fs.mkdirSync(SHOTS, { recursive: true });
  const { chromium } = require('playwright-core');
  const ctx = { runs: fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-anycost-')) };
  let server = null, browser = null;
  const cleanup = () => { killAll(); fs.rmSync(ctx.runs, { recursive: true, force: true }); };
  const onSignal = (sig) => { log(`${sig}: cleaning up`); cleanup(); process.exit(1); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    run.current = 'setup';
    await train(ANYCOST, path.join(ctx.runs, 'ac'));
    await train(DCGAN, path.join(ctx.runs, 'dc'));
    server = await startServer(ctx.runs, spawn);
    BASE = server.url;
    log(`server at ${BASE}, runs in ${ctx.runs}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 820 } });
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (e) => { page.errors.push(e.message); log(`page error: ${e.message}`); });
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 400/.test(m.text())) log(`console: ${m.text()}`); });
    for (const [name, fn] of [['1-open', stepOpen], ['2-slider', stepSlider], ['3-budget', stepBudget], ['4-finalize', stepFinalize], ['5-upload', stepUpload], ['6-error', stepError]]) {
      run.current = name;
      const t = Date.now();
      try { await fn(page, ctx); } catch (e) {
        if (!(e instanceof Fatal)) { log(`FAIL ${e.stack || e}`); failures.push(`${name}: ${e.message}`); }
        try { await shot(page, 'anycost', `${name}-failed`); } catch { /* the page is gone */ }
        if (name === '1-open') break;
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
