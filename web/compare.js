// gantry lab --runs: several runs side by side (#/compare/A,B,...): one chart per logged metric and
// per eval metric with a series per run, a summary of each, and the config keys that differ
// (nested keys flattened: model.ngf). The curves are reloaded (downsampled) every 15 s while a run
// of them is running.

import { runsApi, h, fmtNum, fmtInt, stateBadge, flatten, fmtValue, PALETTE } from './runsapi.js';
import { StepChart, monotone } from './dashcharts.js';
import { TRAIN_CHARTS, SKIP_KEYS, SKIP_EVAL, evalTitle } from './run.js';

const MAX_POINTS = 1000; // per run and chart: a handful of runs stay light
const LABELS = Object.fromEntries(TRAIN_CHARTS.flatMap((c) => c[2].map(([k, label]) => [k, label])));
const ORDER = TRAIN_CHARTS.flatMap((c) => c[2].map((s) => s[0]));

// the config keys whose values differ between the configs: [[key, [value per run]], ...]
export function configDiff(configs, all = false) {
  const flat = configs.map((c) => new Map(flatten(c || {})));
  const keys = [];
  const seen = new Set();
  for (const f of flat) for (const k of f.keys()) if (!seen.has(k)) { seen.add(k); keys.push(k); }
  const out = [];
  for (const k of keys) {
    const vals = flat.map((f) => (f.has(k) ? f.get(k) : undefined));
    const first = JSON.stringify(vals[0]);
    const differs = vals.some((v) => JSON.stringify(v) !== first);
    if (differs || all) out.push([k, vals, differs]);
  }
  return out;
}

export function mountCompare(root, ctx, names) {
  let closed = false;
  const runs = names.map((name, i) => ({ name, color: PALETTE[i % PALETTE.length], info: null, metrics: null }));
  const charts = new Map();
  let showAll = false;

  const sumBody = h('tbody');
  const diffBody = h('tbody');
  const diffHead = h('tr');
  const allBox = h('input', { type: 'checkbox', id: 'diff-all' });
  const diffNote = h('span', { class: 'muted', id: 'diff-note' });
  const chartsBox = h('div', { class: 'cmp-charts' });
  const trainBox = h('div', { class: 'cmp-grid' });
  const evalBox = h('div', { class: 'cmp-grid' });
  chartsBox.append(trainBox, evalBox);

  root.append(
    h('section', { class: 'panel dash-panel run-head' },
      h('div', { class: 'run-head-row' }, h('a', { href: '#/runs', class: 'back' }, '← Runs'),
        h('h1', { class: 'run-title' }, `Comparing ${names.length} runs`), h('div', { class: 'grow' }),
        h('button', { class: 'ghost-btn', onclick: () => loadMetrics() }, 'Reload curves')),
      h('table', { class: 'runs-table cmp-summary', id: 'cmp-summary' },
        h('thead', null, h('tr', null, h('th', null, 'Run'), h('th', null, 'State'), h('th', { class: 'num' }, 'Step'),
          h('th', { class: 'num' }, 'loss', h('sub', null, 'D')), h('th', { class: 'num' }, 'loss', h('sub', null, 'G')), h('th', { class: 'num' }, 'FID'))),
        sumBody)),
    h('div', { class: 'cmp-cols' },
      h('section', { class: 'panel dash-panel cmp-main' },
        h('div', { class: 'panel-head' }, h('h2', null, 'Curves'), h('span', { class: 'muted' }, 'a series per run · drag to zoom · double-click to zoom out')),
        chartsBox),
      h('section', { class: 'panel dash-panel cmp-side' },
        h('div', { class: 'panel-head' }, h('h2', null, 'Config differences'),
          h('label', { class: 'muted check' }, allBox, ' all keys')),
        diffNote,
        h('div', { class: 'table-wrap' }, h('table', { class: 'kv-table diff-table', id: 'diff-table', dataset: { testid: 'diff-table' } },
          h('thead', null, diffHead), diffBody)))));

  allBox.addEventListener('change', () => { showAll = allBox.checked; showDiff(); });

  function runCell(r) {
    return h('span', { class: 'run-chip' }, h('i', { style: `background:${r.color}` }), h('a', { href: `#/runs/${encodeURIComponent(r.name)}` }, r.name));
  }

  function showSummary() {
    sumBody.replaceChildren(...runs.map((r) => {
      const s = r.info || {};
      return h('tr', { dataset: { run: r.name } }, h('td', null, runCell(r)), h('td', null, r.error ? h('span', { class: 'state state-failed' }, r.error) : stateBadge(s.state)),
        h('td', { class: 'num' }, `${fmtInt(s.step)} / ${fmtInt(s.steps)}`), h('td', { class: 'num' }, fmtNum(s.loss_d)),
        h('td', { class: 'num' }, fmtNum(s.loss_g)), h('td', { class: 'num' }, fmtNum(s.fid)));
    }));
  }

  function showDiff() {
    const ok = runs.filter((r) => r.info);
    diffHead.replaceChildren(h('th', null, 'key'), ...ok.map((r) => h('th', null, runCell(r))));
    const rows = configDiff(ok.map((r) => r.info.config), showAll);
    const nDiff = rows.filter((r) => r[2]).length;
    diffNote.textContent = ok.length < 2 ? 'Needs two runs.' : nDiff ? `${nDiff} key${nDiff > 1 ? 's' : ''} differ${nDiff > 1 ? '' : 's'}` : 'The configs are the same.';
    diffBody.replaceChildren(...rows.map(([k, vals, differs]) => h('tr', { dataset: { key: k }, class: differs ? 'differs' : 'same' },
      h('th', { class: 'mono' }, k), ...vals.map((v) => h('td', { class: 'mono' }, fmtValue(v))))));
  }

  function chartFor(key, parent, title, isEval) {
    if (charts.has(key)) return charts.get(key);
    const c = new StepChart(parent, {
      id: `cmp-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`, title, height: 160, spanGaps: true,
      series: runs.map((r) => ({ label: r.name, color: r.color, points: isEval })),
    });
    charts.set(key, c);
    return c;
  }

  function showCharts() {
    const ok = runs.filter((r) => r.metrics);
    if (!ok.length) return;
    const trainKeys = new Set(), evalKeys = new Set();
    for (const r of ok) {
      for (const [k, v] of Object.entries(r.metrics.series || {})) {
        if (SKIP_KEYS.has(k)) continue;
        if (!ORDER.includes(k) && !v.some((x) => Number.isFinite(x) && x !== 0)) continue;
        trainKeys.add(k);
      }
      for (const [k, v] of Object.entries(r.metrics.eval || {})) if (!SKIP_EVAL.has(k) && Array.isArray(v)) evalKeys.add(k);
    }
    const tk = [...trainKeys].sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
    const join = (pick) => {
      const tables = runs.map((r) => {
        const t = r.metrics ? pick(r.metrics) : null;
        if (!t || !t[0].length) return [[], []];
        const [xs, [ys]] = monotone(t[0], [t[1]]);
        return [xs, ys];
      });
      return window.uPlot.join(tables);
    };
    for (const k of tk) {
      const d = join((m) => [m.step || [], m.series[k] || []]);
      chartFor(k, trainBox, LABELS[k] || k, false).setData(d[0], d.slice(1));
    }
    for (const k of evalKeys) {
      const d = join((m) => (m.eval && m.eval[k] ? [m.eval.step, m.eval[k]] : null));
      chartFor(`eval.${k}`, evalBox, evalTitle(k), true).setData(d[0], d.slice(1));
    }
    chartsBox.dataset.charts = String(charts.size);
  }

  async function loadInfo() {
    await Promise.all(runs.map(async (r) => {
      try { r.info = await runsApi.run(r.name); r.error = null; } catch (e) { r.error = e.message; }
    }));
    if (closed) return;
    showSummary();
    showDiff();
  }
  async function loadMetrics() {
    await Promise.all(runs.map(async (r) => {
      try { r.metrics = await runsApi.metrics(r.name, MAX_POINTS); } catch (e) { r.error = r.error || e.message; }
    }));
    if (!closed) showCharts();
  }

  loadInfo();
  loadMetrics();
  const timer = setInterval(async () => {
    if (!runs.some((r) => r.info && r.info.state === 'running')) return;
    await loadInfo();
    await loadMetrics();
  }, 15000);
  ctx.setConn('', '');

  window.gantryDash.compare = { runs, charts };
  return {
    title: 'Compare',
    dispose() {
      closed = true;
      clearInterval(timer);
      for (const c of charts.values()) c.destroy();
      window.gantryDash.compare = null;
    },
  };
}
