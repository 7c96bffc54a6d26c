// The browser tests' checks (tests/web/*.test.mjs): a log line per check with the time since the
// start and the scenario running (run.current), the failures collected for the summary, Fatal to
// stop a scenario, sleep.
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
