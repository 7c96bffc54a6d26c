// The browser tests' checks (tests/web/*.test.mjs): a log line per check with the time since the
// start and the scenario running (run.current), the failures collected for the summary, Fatal to
// stop a scenario, sleep.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';

// what ctest passes (CMakeLists.txt): the program, the page's folder, where screenshots go
const here = path.dirname(fileURLToPath(import.meta.url));
export const WEB = path.resolve(process.env.GANTRY_WEB || path.join(here, '..', '..', 'web'));
export const BIN = process.env.GANTRY_BIN;
export const SHOTS = path.resolve(process.env.GANTRY_SCREENSHOTS || path.join(os.tmpdir(), 'gantry-lab-screenshots'));
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// ES modules ignore NODE_PATH: playwright-core from web/node_modules
export const requireWeb = createRequire(path.join(WEB, 'node_modules', 'index.js'));

export const failures = [];
export const run = { current: '' };
const T0 = Date.now();
export function log(...a) {
  console.log(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(5)}s]${run.current ? ` ${run.current}:` : ''}`, ...a);
}
export function check(cond, msg) {
  if (cond) log(`ok   ${msg}`);
  else { log(`FAIL ${msg}`); failures.push(`${run.current}: ${msg}`); }
  return !!cond;
}
export class Fatal extends Error {}
export function must(cond, msg) { if (!check(cond, msg)) throw new Fatal(msg); }
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- processes (a gantry program the test started) and pages, for the tests that run `gantry lab --runs` ---------
export const procs = new Set();
export function track(proc, name) {
  procs.add(proc);
  proc.name = name;
  proc.stderrText = '';
  proc.stderr.on('data', (d) => { proc.stderrText += d; if (proc.stderrText.length > 20000) proc.stderrText = proc.stderrText.slice(-10000); });
  proc.on('exit', () => procs.delete(proc));
  return proc;
}
export function killAll() { for (const p of procs) { try { p.kill('SIGKILL'); } catch { /* gone */ } } }
export function exited(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve({ code: proc.exitCode, signal: proc.signalCode });
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}
export async function stop(proc, timeout = 8000) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return proc ? { code: proc.exitCode, signal: proc.signalCode } : null;
  const kill = setTimeout(() => { proc.kill('SIGKILL'); }, timeout);
  proc.kill('SIGTERM');
  const r = await exited(proc);
  clearTimeout(kill);
  return r;
}
// `gantry lab --port 0 --runs DIR`: resolves { proc, url } once it prints its URL
export function startServer(runs, spawn) {
  return new Promise((resolve, reject) => {
    const proc = track(spawn(BIN, ['lab', '--port', '0', '--runs', runs, '--web', WEB], { stdio: ['ignore', 'pipe', 'pipe'] }), 'lab');
    let out = '', done = false;
    const timer = setTimeout(() => { if (!done) { done = true; reject(new Error(`no URL from the server in 20 s; stdout: ${out}`)); } }, 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      if (!done && out.includes('\n')) {
        done = true; clearTimeout(timer);
        const line = out.split('\n')[0];
        const m = line.match(/^gantry lab: (http:\/\/[^\s/]+:\d+\/)\s*$/);
        if (m) resolve({ proc, url: m[1] }); else reject(new Error(`unexpected first line: ${JSON.stringify(line)}`));
      }
    });
    proc.stderr.on('data', (d) => process.stderr.write(`[gantry lab] ${d}`));
    proc.on('error', (e) => { if (!done) { done = true; clearTimeout(timer); reject(e); } });
    proc.on('exit', (code, sig) => { if (!done) { done = true; clearTimeout(timer); reject(new Error(`server exited (${code ?? sig}) before printing its URL: ${proc.stderrText}`)); } });
  });
}
// a screenshot into SHOTS/PREFIX-NAME.png
export async function shot(page, prefix, name) {
  const file = path.join(SHOTS, `${prefix}-${name}.png`);
  await page.screenshot({ path: file });
  log(`screenshot ${file}`);
}
// waits until fn(arg) is true in the page; a failed check (not an exception) when it is not within timeout
export async function waitFor(page, fn, arg, what, timeout = 15000, polling = 50) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling });
    return true;
  } catch {
    check(false, `${what} (within ${timeout / 1000} s)`);
    return false;
  }
}
