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
