// gantry lab --runs: one run's page (#/runs/NAME): its status, its curves (loss, D's outputs, speed,
// every eval metric, anything else it logs) from /metrics?max=2000 then appended live from its event
// stream, its sample grids as a timeline (one image at a time, pages of the grid list fetched as the
// slider reaches them), its config and its checkpoints (each opens in the latent explorer).

import { runsApi, h, fmtNum, fmtInt, fmtAgo, fmtBytes, stateBadge, flatten, fmtValue, exploreHref } from './runsapi.js';
import { StepChart } from './dashcharts.js';

export const MAX_POINTS = 2000;   // points asked of the server per chart
const GRID_PAGE = 200;           // grids per page of /grids

// the charts of a run's logged lines: [id, title, [[key, label, colour, scale]]]
export const TRAIN_CHARTS = [
  ['loss', 'Losses', [['loss_g', 'loss_G', '#8b5cf6'], ['loss_d', 'loss_D', '#0ea5e9']]],
  ['dout', "D's outputs", [['d_real', 'D(x)', '#12a06b'], ['d_fake', 'D(G(z))', '#e11d48']]],
  // img/s is it/s times the batch: drawn dashed under it, on its own axis (right)
  ['speed', 'Speed', [['img_s', 'img/s', '#94a3b8', 'y2', [5, 4]], ['it_s', 'it/s', '#f59e0b', 'y']]],
];
// logged keys that are not curves of their own
export const SKIP_KEYS = new Set(['step', 'unix', 'time_s', 'eval']);
export const SKIP_EVAL = new Set(['step', 'n', 'time_s', 'extractor', 'unix']);
export const EVAL_NAMES = { fid: 'FID', kid: 'KID', is: 'Inception score', is_std: 'IS (std)', precision: 'Precision', recall: 'Recall', density: 'Density', coverage: 'Coverage' };
export const evalTitle = (k) => EVAL_NAMES[k] || k;

export function mountRun(root, ctx, name) {
  let closed = false;
  let es = null;
  let info = null;           // GET /api/runs/NAME
  let summary = null;
  let metricsLoaded = false;
  const pending = [];        // metrics lines that came before the first /metrics answer
  const charts = new Map();  // id -> {chart, keys, eval?}
  let refetchTimer = null;
  let infoTimer = null;

  // --- the skeleton: the loss chart exists at once (first paint) -------------------------------------
  const title = h('h1', { class: 'run-title' }, name);
  const badge = h('span', { id: 'run-state' });
  const stepEl = h('span', { id: 'run-step', class: 'run-step', dataset: { testid: 'run-step' } }, '–');
  const bar = h('div', { class: 'bar big' }, h('div', { class: 'bar-fill' }));
  const metaEl = h('div', { class: 'run-meta muted' });
  const msgEl = h('div', { class: 'run-message', hidden: true });
  const lastEl = h('div', { class: 'run-last' });
  const removedEl = h('div', { class: 'run-removed', hidden: true }, 'This run folder was removed.');
  const exploreLast = h('a', { class: 'ghost-btn', href: exploreHref(name, 'last.safetensors'), hidden: true }, 'Explore the latents');

  const chartsCol = h('div', { class: 'run-charts' });
  const evalBox = h('div', { class: 'chart-group' });
  const otherBox = h('div', { class: 'chart-group' });
  const downNote = h('span', { class: 'muted', id: 'metrics-note' });
  const chartsPanel = h('section', { class: 'panel dash-panel' },
    h('div', { class: 'panel-head' }, h('h2', null, 'Curves'), downNote,
      h('span', { class: 'muted' }, 'drag to zoom · double-click to zoom out · hover for values')),
    chartsCol);

  // grid timeline
  const gridImg = h('img', { id: 'grid-img', class: 'grid-img', alt: 'sample grid', dataset: { testid: 'grid-img' } });
  const gridStep = h('span', { id: 'grid-step', class: 'grid-step' }, '–');
  const gridPos = h('span', { class: 'muted', id: 'grid-pos' });
  const slider = h('input', { type: 'range', id: 'grid-slider', class: 'grid-slider', min: 0, max: 0, value: 0, step: 1, dataset: { testid: 'grid-slider' }, 'aria-label': 'Sample grid timeline' });
  const prevBtn = h('button', { class: 'ghost-btn small', title: 'Earlier grid (←)' }, '◀');
  const nextBtn = h('button', { class: 'ghost-btn small', title: 'Later grid (→)' }, '▶');
  const liveBtn = h('button', { class: 'ghost-btn small', id: 'grid-live', title: 'Jump to the newest grid and follow new ones' }, 'Latest');
  const gridEmpty = h('div', { class: 'grid-empty muted' }, 'No sample grids yet.');
  const gridFrame = h('div', { class: 'grid-frame' }, gridImg, gridEmpty);
  const gridPanel = h('section', { class: 'panel dash-panel', id: 'grid-panel' },
    h('div', { class: 'panel-head' }, h('h2', null, 'Samples'), h('div', { class: 'grid-label' }, 'step ', gridStep, ' ', gridPos)),
    gridFrame,
    h('div', { class: 'grid-controls' }, prevBtn, slider, nextBtn, liveBtn));

  const ckptBody = h('tbody');
  const ckptPanel = h('section', { class: 'panel dash-panel' },
    h('div', { class: 'panel-head' }, h('h2', null, 'Checkpoints')),
    h('table', { class: 'kv-table ckpt-table', id: 'ckpt-table' },
      h('thead', null, h('tr', null, h('th', null, 'File'), h('th', { class: 'num' }, 'Step'), h('th', { class: 'num' }, 'Size'), h('th', null, ''))),
      ckptBody));
  const cfgBody = h('tbody');
  const cfgPanel = h('section', { class: 'panel dash-panel' },
    h('div', { class: 'panel-head' }, h('h2', null, 'Config'), h('span', { class: 'muted' }, 'config.json')),
    h('table', { class: 'kv-table cfg-table', id: 'config-table' }, cfgBody));

  root.append(
    h('section', { class: 'panel dash-panel run-head' },
      h('div', { class: 'run-head-row' },
        h('a', { href: '#/runs', class: 'back' }, '← Runs'), title, badge, h('div', { class: 'grow' }), exploreLast),
      h('div', { class: 'run-head-row' }, stepEl, bar, lastEl),
      metaEl, msgEl, removedEl),
    h('div', { class: 'run-cols' },
      h('div', { class: 'run-main' }, chartsPanel),
      h('div', { class: 'run-side' }, gridPanel, ckptPanel, cfgPanel)));

  // --- charts ------------------------------------------------------------------------------------------
  function addChart(id, parent, chartTitle, series, opts = {}) {
    const c = new StepChart(parent, {
      id: `run-chart-${id}`, title: chartTitle, height: opts.height || 170, spanGaps: true,
      series: series.map(([, label, color, scale, dash]) => ({ label, color, scale, dash, points: opts.points })),
      onFirstDraw: opts.onFirstDraw,
    });
    const entry = { chart: c, keys: series.map((s) => s[0]), eval: !!opts.eval };
    charts.set(id, entry);
    return entry;
  }

  addChart('loss', chartsCol, TRAIN_CHARTS[0][1], TRAIN_CHARTS[0][2], {
    height: 210,
    onFirstDraw: () => {
      performance.mark('chart-drawn');
      document.body.dataset.chartDrawn = 'true';
    },
  });
  addChart('dout', chartsCol, TRAIN_CHARTS[1][1], TRAIN_CHARTS[1][2]);
  addChart('speed', chartsCol, TRAIN_CHARTS[2][1], TRAIN_CHARTS[2][2], { height: 140 });
  chartsCol.append(evalBox, otherBox);
  const trainKeys = new Set(TRAIN_CHARTS.flatMap((c) => c[2].map((s) => s[0])));

  function ensureEvalChart(key) {
    const id = `eval-${key}`;
    if (charts.has(id)) return charts.get(id);
    return addChart(id, evalBox, evalTitle(key), [[key, evalTitle(key), '#db2777']], { height: 150, points: true, eval: true });
  }
  function ensureOtherChart(key) {
    const id = `other-${key}`;
    if (charts.has(id)) return charts.get(id);
    return addChart(id, otherBox, key, [[key, key, '#0891b2']], { height: 120 });
  }

  function applyMetrics(m) {
    const steps = m.step || [];
    const series = m.series || {};
    for (const [, entry] of charts) {
      if (entry.eval) continue;
      entry.chart.setData(steps, entry.keys.map((k) => series[k] || []));
    }
    for (const k of Object.keys(series)) {
      if (trainKeys.has(k) || SKIP_KEYS.has(k)) continue;
      const v = series[k];
      if (!v.some((x) => Number.isFinite(x) && x !== 0)) continue; // a penalty that is off: 0 throughout
      ensureOtherChart(k).chart.setData(steps, [v]);
    }
    const ev = m.eval || {};
    const evSteps = ev.step || [];
    for (const k of Object.keys(ev)) {
      if (SKIP_EVAL.has(k) || !Array.isArray(ev[k])) continue;
      ensureEvalChart(k).chart.setData(evSteps, [ev[k]]);
    }
    downsampled = !!m.downsampled;
    showLines(m.n);
    metricsLoaded = true;
  }

  let nLines = 0, downsampled = false;
  function showLines(n) {
    if (!Number.isFinite(n)) return;
    nLines = n;
    downNote.textContent = `${fmtInt(n)} lines logged${downsampled ? ' · drawn downsampled (each bucket\'s min and max)' : ''}`;
    downNote.dataset.lines = String(n);
  }

  function appendLine(line) {
    if (!line || !Number.isFinite(line.step)) return;
    if (line.eval && typeof line.eval === 'object') {
      for (const [k, v] of Object.entries(line.eval)) {
        if (SKIP_EVAL.has(k) || typeof v !== 'number') continue;
        ensureEvalChart(k).chart.append(line.step, [v]);
      }
      return;
    }
    let longest = 0;
    for (const [, entry] of charts) {
      if (entry.eval) continue;
      if (entry.keys.some((k) => k in line)) entry.chart.append(line.step, entry.keys.map((k) => line[k]));
      longest = Math.max(longest, entry.chart.length);
    }
    for (const [k, v] of Object.entries(line)) {
      if (trainKeys.has(k) || SKIP_KEYS.has(k) || typeof v !== 'number') continue;
      if (!charts.has(`other-${k}`) && v === 0) continue;
      ensureOtherChart(k).chart.append(line.step, [v]);
    }
    // a long live session: ask the server for a fresh downsampled copy instead of growing without end
    if (longest > 2 * MAX_POINTS && !refetchTimer) refetchTimer = setTimeout(refetchMetrics, 1000);
  }

  async function refetchMetrics() {
    try {
      const m = await runsApi.metrics(name, MAX_POINTS);
      if (!closed) applyMetrics(m);
    } catch (e) { if (!closed) ctx.report(e); }
    refetchTimer = null;
  }

  const flushTimer = setInterval(() => { for (const [, e] of charts) e.chart.flush(); }, 250);

  // --- status ------------------------------------------------------------------------------------------
  function showSummary(s) {
    if (!s) return;
    summary = { ...(summary || {}), ...s };
    s = summary;
    badge.replaceChildren(stateBadge(s.state));
    badge.dataset.state = s.state || '';
    const step = Number(s.step) || 0, steps = Number(s.steps) || 0;
    stepEl.textContent = `step ${fmtInt(s.step)} / ${fmtInt(s.steps)}`;
    stepEl.dataset.value = String(step);
    bar.className = `bar big bar-${s.state || 'unknown'}`;
    bar.firstChild.style.width = `${steps > 0 ? Math.min(100, (100 * step) / steps).toFixed(1) : 0}%`;
    const eta = s.state === 'running' && Number.isFinite(s.it_s) && s.it_s > 0 && steps > step ? (steps - step) / s.it_s : NaN;
    lastEl.replaceChildren(...[
      h('span', null, 'loss', h('sub', null, 'D'), ' ', h('b', null, fmtNum(s.loss_d))),
      h('span', null, 'loss', h('sub', null, 'G'), ' ', h('b', null, fmtNum(s.loss_g))),
      h('span', null, 'D(x) ', h('b', null, fmtNum(s.d_real, 3))),
      h('span', null, 'D(G(z)) ', h('b', null, fmtNum(s.d_fake, 3))),
      h('span', null, h('b', null, fmtNum(s.it_s, 3)), ' it/s'),
      Number.isFinite(s.fid) ? h('span', null, 'FID ', h('b', null, fmtNum(s.fid)), h('span', { class: 'muted' }, ` @${fmtInt(s.fid_step)}`)) : null,
      Number.isFinite(eta) ? h('span', { class: 'muted' }, `ETA ${eta < 90 ? `${Math.round(eta)} s` : eta < 5400 ? `${Math.round(eta / 60)} min` : `${(eta / 3600).toFixed(1)} h`}`) : null].filter(Boolean));
    msgEl.hidden = !s.message;
    msgEl.textContent = s.message || '';
    showMeta();
  }
  function showMeta() {
    const s = summary || {};
    const parts = [];
    if (s.model) parts.push(s.model);
    if (s.data) parts.push(s.data);
    if (s.loss) parts.push(`loss ${s.loss}`);
    if (s.pid) parts.push(`pid ${s.pid}${s.host ? ` on ${s.host}` : ''}`);
    if (Number.isFinite(s.started_unix)) parts.push(`started ${new Date(s.started_unix * 1000).toLocaleString()}`);
    if (Number.isFinite(s.updated_unix)) parts.push(`updated ${fmtAgo(s.updated_unix)}`);
    if (info && info.bad_lines) parts.push(`${info.bad_lines} unreadable metrics line${info.bad_lines > 1 ? 's' : ''} skipped`);
    metaEl.textContent = parts.join(' · ');
  }
  const agoTimer = setInterval(showMeta, 1000);

  // --- checkpoints and config --------------------------------------------------------------------------
  let ckpts = [];
  function showCheckpoints() {
    const sorted = [...ckpts].sort((a, b) => (a.file === 'last.safetensors') - (b.file === 'last.safetensors') || a.step - b.step);
    ckptBody.replaceChildren(...sorted.map((c) => h('tr', { dataset: { file: c.file } },
      h('td', { class: 'mono', title: c.file }, c.file.replace(/^checkpoints\//, '')), h('td', { class: 'num' }, fmtInt(c.step)), h('td', { class: 'num' }, fmtBytes(c.bytes)),
      h('td', null, h('a', { class: 'explore-link', href: exploreHref(name, c.file), dataset: { testid: 'explore-link' } }, 'Explore')))));
    if (!sorted.length) ckptBody.append(h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'No checkpoints yet.')));
    exploreLast.hidden = !ckpts.some((c) => c.file === 'last.safetensors');
    if (exploreLast.hidden && sorted.length) {
      exploreLast.hidden = false;
      exploreLast.href = exploreHref(name, sorted[sorted.length - 1].file);
    }
  }
  function showConfig(cfg) {
    const rows = flatten(cfg || {});
    cfgBody.replaceChildren(...rows.map(([k, v]) => h('tr', null, h('th', { class: 'mono' }, k), h('td', { class: 'mono' }, fmtValue(v)))));
  }

  function applyInfo(j) {
    info = j;
    const { config, checkpoints, grids, metric_keys: keys, bad_lines: bad, ...s } = j;
    showSummary(s);
    showConfig(config);
    ckpts = Array.isArray(checkpoints) ? checkpoints.slice() : [];
    showCheckpoints();
    if (Number.isFinite(grids) && !timeline.started) timeline.start(grids);
  }
  function refreshInfo() {
    clearTimeout(infoTimer);
    infoTimer = setTimeout(async () => {
      try { const j = await runsApi.run(name); if (!closed) applyInfo(j); } catch { /* the next event tries again */ }
    }, 600);
  }

  // --- the grid timeline: one image at a time, pages fetched on demand -----------------------------------
  const timeline = {
    started: false,
    total: 0,
    pages: new Map(),   // page index -> Promise of its grids
    loaded: new Map(),  // page index -> grids
    idx: -1,
    follow: true,
    shown: null,
    token: 0,

    ready: false,
    early: [],          // grids announced while the first page was on its way

    async start(countHint) {
      this.started = true;
      const last = Math.max(0, countHint - 1);
      await this.page(Math.floor(last / GRID_PAGE));
      // the page that holds the last grid: its answer's total may be larger than the hint
      const lp = Math.floor(Math.max(0, this.total - 1) / GRID_PAGE);
      if (!this.loaded.has(lp)) await this.page(lp);
      this.ready = true;
      for (const g of this.early.splice(0)) this.add(g);
      if (this.total > 0 && this.idx < 0) this.go(this.total - 1, true);
      this.sync();
    },
    lastStep() {
      const i = this.total - 1;
      const page = this.loaded.get(Math.floor(i / GRID_PAGE));
      const g = page && page[i - Math.floor(i / GRID_PAGE) * GRID_PAGE];
      return g ? g.step : -Infinity;
    },
    page(p) {
      if (this.pages.has(p)) return this.pages.get(p);
      const pr = runsApi.grids(name, p * GRID_PAGE, GRID_PAGE).then((j) => {
        if (closed) return [];
        this.total = Math.max(this.total, j.total || 0);
        this.loaded.set(p, j.grids || []);
        return j.grids || [];
      }).catch((e) => { this.pages.delete(p); ctx.report(e); return []; });
      this.pages.set(p, pr);
      return pr;
    },
    async at(i) {
      const p = Math.floor(i / GRID_PAGE);
      if (!this.loaded.has(p)) await this.page(p);
      let g = this.loaded.get(p);
      if (g && !g[i - p * GRID_PAGE]) {
        // a page that missed a live grid: ask again
        this.pages.delete(p); this.loaded.delete(p);
        g = await this.page(p);
      }
      return g ? g[i - p * GRID_PAGE] : undefined;
    },
    async go(i, follow = false) {
      if (this.total === 0) return;
      i = Math.max(0, Math.min(this.total - 1, i));
      this.idx = i;
      this.follow = follow || i === this.total - 1;
      this.sync();
      slider.value = String(i);
      const tok = ++this.token;
      const g = await this.at(i);
      if (tok !== this.token || closed || !g) return;
      if (this.shown !== g.file) {
        this.shown = g.file;
        gridImg.src = runsApi.fileUrl(name, g.file);
        gridImg.dataset.step = String(g.step);
        gridImg.dataset.file = g.file;
      }
      gridStep.textContent = fmtInt(g.step);
      gridStep.dataset.value = String(g.step);
    },
    add(g) {
      // a new grid from the event stream: at the end of the list (grids come in step order)
      if (!this.ready) { this.early.push(g); return; }
      if (this.total > 0 && g.step <= this.lastStep()) return; // already listed
      const i = this.total;
      const p = Math.floor(i / GRID_PAGE);
      const page = this.loaded.get(p);
      if (page && page.length === i - p * GRID_PAGE) page.push(g);
      else if (!page && i % GRID_PAGE === 0) { this.loaded.set(p, [g]); this.pages.set(p, Promise.resolve(this.loaded.get(p))); }
      this.total = i + 1;
      if (this.follow || this.idx < 0) this.go(this.total - 1, true); else this.sync();
    },
    sync() {
      slider.max = String(Math.max(0, this.total - 1));
      slider.disabled = this.total <= 1;
      gridPanel.dataset.total = String(this.total);
      gridPos.textContent = this.total ? `· ${fmtInt(this.idx + 1)} of ${fmtInt(this.total)}${this.follow ? ' · following' : ''}` : '';
      gridEmpty.hidden = this.total > 0;
      gridImg.hidden = this.total === 0;
      prevBtn.disabled = this.idx <= 0;
      nextBtn.disabled = this.idx >= this.total - 1;
      liveBtn.classList.toggle('active', this.follow);
    },
  };
  let slideTimer = null;
  slider.addEventListener('input', () => {
    // while dragging: at most one image request per 80 ms; the last position always loads
    clearTimeout(slideTimer);
    const v = Number(slider.value);
    timeline.idx = v;
    timeline.follow = v === timeline.total - 1;
    timeline.sync();
    slideTimer = setTimeout(() => timeline.go(v), 80);
  });
  prevBtn.addEventListener('click', () => timeline.go(timeline.idx - 1));
  nextBtn.addEventListener('click', () => timeline.go(timeline.idx + 1));
  liveBtn.addEventListener('click', () => timeline.go(timeline.total - 1, true));
  gridFrame.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowLeft') timeline.go(timeline.idx - 1);
    if (ev.key === 'ArrowRight') timeline.go(timeline.idx + 1);
  });
  gridFrame.tabIndex = 0;
  gridImg.addEventListener('load', () => { gridImg.dataset.loaded = gridImg.dataset.step; });
  timeline.sync();

  // --- load, then follow live ----------------------------------------------------------------------------
  function onMetricsEvent(ev) {
    let d;
    try { d = JSON.parse(ev.data); } catch { return; }
    const lines = Array.isArray(d.lines) ? d.lines : [];
    if (!metricsLoaded) { pending.push(...lines); return; }
    for (const l of lines) appendLine(l);
    if (Number.isFinite(d.n)) {
      // an event holds at most the newest 500 lines: after a bigger burst, reload the curves
      const logged = lines.filter((l) => !l.eval).length;
      if (d.n - nLines > logged && !refetchTimer) refetchTimer = setTimeout(refetchMetrics, 300);
      showLines(d.n);
    }
  }

  let opened = false;
  function open() {
    es = new EventSource(runsApi.eventsUrl(name));
    ctx.setConn('connecting…');
    es.addEventListener('metrics', onMetricsEvent);
    es.addEventListener('status', (ev) => { try { showSummary(JSON.parse(ev.data)); } catch { /* ignore */ } });
    es.addEventListener('grid', (ev) => {
      try {
        const g = JSON.parse(ev.data);
        if (timeline.started) timeline.add(g); else refreshInfo();
      } catch { /* ignore */ }
    });
    es.addEventListener('checkpoint', (ev) => {
      try {
        const c = JSON.parse(ev.data);
        ckpts = ckpts.filter((x) => x.file !== c.file).concat([c]);
        showCheckpoints();
        refreshInfo(); // old step checkpoints are rotated away: the server's list is the truth
      } catch { /* ignore */ }
    });
    es.addEventListener('removed', () => {
      removedEl.hidden = false;
      es.close();
      ctx.setConn('run removed', 'bad');
    });
    es.onopen = () => {
      ctx.setConn('live', 'ok');
      // back after a lost connection: the lines logged meanwhile came in no event
      if (opened && metricsLoaded && !refetchTimer) refetchTimer = setTimeout(refetchMetrics, 100);
      opened = true;
    };
    es.onerror = () => {
      if (closed || !removedEl.hidden) return;
      ctx.setConn(es.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…', 'bad');
      if (es.readyState === EventSource.CLOSED) setTimeout(() => { if (!closed) { es = null; open(); } }, 2000);
    };
  }

  open();
  (runsApi.prefetchedMetrics(name) || runsApi.metrics(name, MAX_POINTS)).then((m) => {
    if (closed) return;
    applyMetrics(m);
    for (const [, e] of charts) e.chart.flush();
    for (const l of pending.splice(0)) appendLine(l);
  }).catch((e) => { if (!closed) { metricsLoaded = true; ctx.report(e); } });
  runsApi.run(name).then((j) => { if (!closed) applyInfo(j); }).catch((e) => {
    if (closed) return;
    if (e.status === 404) { title.textContent = `${name} (no such run)`; ctx.report(e); } else ctx.report(e);
  });

  window.gantryDash.run = { name, charts, timeline, get summary() { return summary; } };
  return {
    title: name,
    dispose() {
      closed = true;
      if (es) es.close();
      clearInterval(flushTimer); clearInterval(agoTimer); clearTimeout(refetchTimer); clearTimeout(infoTimer); clearTimeout(slideTimer);
      for (const [, e] of charts) e.chart.destroy();
      if (window.gantryDash.run && window.gantryDash.run.name === name) window.gantryDash.run = null;
    },
  };
}
