// The runs dashboard's first paint on a long run: a run folder with 1,000,000 logged metrics lines
// (and an eval line every 10,000), `gantry lab --runs` on it, and Chromium timing the run's page from
// navigation to its loss chart drawn (the page's performance.mark('chart-drawn'), relative to the
// navigation's start). The first visit comes right after the server printed its URL (it may still be
// reading the file); then 5 visits in fresh browser contexts (nothing cached), median printed.
// The folder is deleted at the end, also on failure.
// usage: node bench/bench_first_paint.mjs [lines (1000000)]
// env: GANTRY_BIN (default build/gantry), GANTRY_WEB (default web), CHROMIUM (/usr/bin/chromium)

import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.resolve(process.env.GANTRY_BIN || path.join(root, 'build', 'gantry'));
const WEB = path.resolve(process.env.GANTRY_WEB || path.join(root, 'web'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LINES = Number(process.argv[2] || 1000000);
const require = createRequire(path.join(WEB, 'node_modules', 'index.js'));

const config = {
  model: { name: 'dcgan', res: 28, channels: 1, nz: 100, ngf: 32, ndf: 32, d_norm: 'batch' },
  data: 'fashion-mnist', data_limit: 0, out: 'runs/big', steps: LINES * 10, batch: 64, lr_g: 0.0002, lr_d: 0.0002,
  beta1: 0.5, beta2: 0.999, n_critic: 1, ema: 0.999, seed: '0', loss: 'ns', gp: 0, clip: 0, log_every: 10,
  sample_every: 0, ckpt_every: 0, keep_ckpts: 2, n_samples: 64, threads: 0, eval_every: 100000, eval_n: 2000,
  eval_extractor: 'fmnist', eval_metrics: 'fid',
};

// metrics.jsonl through a write stream, in ~1 MB chunks, waiting for 'drain'
async function writeMetrics(file, n) {
  const out = fs.createWriteStream(file);
  const t0 = 1796500000;
  let chunk = '';
  let bytes = 0;
  for (let i = 1; i <= n; i++) {
    const step = i * 10;
    const x = step / (n * 10);
    const ld = 0.6 + 0.3 * Math.exp(-8 * x) + 0.1 * Math.sin(i * 0.37) * Math.cos(i * 0.011);
    const lg = 1.8 + 1.2 * Math.exp(-5 * x) + 0.3 * Math.sin(i * 0.13);
    chunk += `{"step":${step},"loss_d":${ld.toFixed(6)},"loss_g":${lg.toFixed(6)},"gp":0,"d_real":${(0.7 + 0.05 * Math.sin(i * 0.2)).toFixed(6)},` +
      `"d_fake":${(0.3 + 0.05 * Math.cos(i * 0.2)).toFixed(6)},"it_s":${(24 + Math.sin(i * 0.05)).toFixed(3)},"img_s":${(1550 + 60 * Math.sin(i * 0.05)).toFixed(2)},` +
      `"time_s":${(step / 24).toFixed(3)},"unix":${t0 + Math.floor(step / 24)}}\n`;
    if (i % 10000 === 0) chunk += `{"step":${step},"eval":{"fid":${(30 + 200 * Math.exp(-6 * x)).toFixed(4)},"extractor":"fmnist","n":2000,"time_s":0.2}}\n`;
    if (chunk.length > 1 << 20) {
      bytes += chunk.length;
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      chunk = '';
    }
  }
  bytes += chunk.length;
  await new Promise((resolve, reject) => { out.end(chunk, resolve); out.on('error', reject); });
  return bytes;
}

function startServer(runs) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['lab', '--port', '0', '--runs', runs, '--web', WEB, '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error('no URL from the server in 60 s')), 60000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^gantry lab: (http:\/\/[^\s/]+:\d+\/)/);
      if (m) { clearTimeout(timer); resolve({ proc, url: m[1] }); }
    });
    proc.on('exit', (c, s) => { clearTimeout(timer); reject(new Error(`server exited (${c ?? s})`)); });
  });
}

async function visit(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName('chart-drawn').length > 0, null, { timeout: 120000, polling: 'raf' });
  const wall = Date.now() - t0;
  const r = await page.evaluate(() => ({
    ms: performance.getEntriesByName('chart-drawn')[0].startTime,
    points: Number(document.querySelector('#run-chart-loss').dataset.points),
    note: document.querySelector('#metrics-note').textContent,
  }));
  await context.close();
  return { ...r, wall };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-paint-'));
  let server = null, browser = null;
  try {
    const run = path.join(tmp, 'big');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'config.json'), JSON.stringify(config, null, 1));
    const now = Math.floor(Date.now() / 1000);
    fs.writeFileSync(path.join(run, 'status.json'), JSON.stringify({ state: 'finished', pid: 1, host: os.hostname(), step: LINES * 10, steps: LINES * 10, started_unix: now - 3600, updated_unix: now, message: '' }));
    let t = Date.now();
    const bytes = await writeMetrics(path.join(run, 'metrics.jsonl'), LINES);
    console.log(`metrics.jsonl: ${LINES.toLocaleString('en-US')} lines + ${Math.floor(LINES / 10000)} eval lines, ${(bytes / 1e6).toFixed(0)} MB, written in ${Date.now() - t} ms`);

    t = Date.now();
    server = await startServer(tmp);
    console.log(`server: URL printed after ${Date.now() - t} ms`);
    const { chromium } = require('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const url = `${server.url}#/runs/big`;
    const cold = await visit(browser, url);
    console.log(`first visit (right after start): loss chart drawn at ${cold.ms.toFixed(0)} ms after navigation (${cold.wall} ms by the driver), ${cold.points} points; ${cold.note}`);
    const warm = [];
    for (let i = 0; i < 5; i++) warm.push(await visit(browser, url));
    const ms = warm.map((w) => w.ms).sort((a, b) => a - b);
    console.log(`next 5 visits (fresh contexts): ${ms.map((v) => v.toFixed(0)).join(', ')} ms`);
    console.log(`first paint of a ${LINES.toLocaleString('en-US')}-line run's loss chart: ${ms[2].toFixed(0)} ms (median of 5; first visit ${cold.ms.toFixed(0)} ms)`);
    const r = await fetch(`${server.url}api/runs/big/metrics?max=2000`);
    const body = await r.text();
    console.log(`GET /api/runs/big/metrics?max=2000: ${(body.length / 1024).toFixed(0)} KB`);
    return 0;
  } catch (e) {
    console.error(`bench_first_paint: ${e.stack || e}`);
    return 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) {
      server.proc.kill('SIGTERM');
      await new Promise((r) => { if (server.proc.exitCode !== null) r(); else server.proc.once('exit', r); setTimeout(r, 5000); });
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = await main();
