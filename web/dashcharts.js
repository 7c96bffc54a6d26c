// gantry lab --runs: a chart of some series against the step (uPlot): drag to zoom on the steps,
// double-click to zoom out, hover to read the values (the readout shows the last values otherwise).
// Live points are appended; while zoomed in, new points do not move the view. The chart element
// carries data-points (the number of steps drawn) for the tests.

const uPlot = window.uPlot;

const AXIS = { stroke: '#6b7280', grid: { stroke: '#eef0f4', width: 1 }, ticks: { stroke: '#e3e6ec', width: 1 }, font: '11px system-ui' };

function fmtV(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return String(+v.toPrecision(4));
}

// steps that go back (a run resumed from an earlier checkpoint logs those steps again): the later
// lines replace the earlier ones, so the steps are strictly increasing as uPlot wants them
export function monotone(xs, yss) {
  let ok = true;
  for (let i = 1; i < xs.length && ok; i++) ok = xs[i] > xs[i - 1];
  if (ok) return [xs, yss];
  const keep = [];
  for (let i = 0; i < xs.length; i++) {
    while (keep.length && xs[keep[keep.length - 1]] >= xs[i]) keep.pop();
    keep.push(i);
  }
  return [keep.map((i) => xs[i]), yss.map((ys) => keep.map((i) => ys[i]))];
}

export class StepChart {
  // series: [{label, color, scale ('y' or 'y2': a second axis on the right), dash}]
  constructor(parent, { id, title, series, height = 170, spanGaps = false, onFirstDraw = null }) {
    this.series = series;
    this.onFirstDraw = onFirstDraw;
    this.drawnOnce = false;
    this.zoomed = false;
    this.data = [[], ...series.map(() => [])];
    this.dirty = false;
    this.el = document.createElement('div');
    this.el.className = 'dchart';
    if (id) { this.el.id = id; this.el.dataset.testid = id; }
    this.el.dataset.points = '0';
    const head = document.createElement('div');
    head.className = 'dchart-head';
    const t = document.createElement('div');
    t.className = 'dchart-title';
    t.textContent = title;
    this.readout = document.createElement('div');
    this.readout.className = 'dchart-readout';
    head.append(t, this.readout);
    this.body = document.createElement('div');
    this.body.className = 'dchart-body';
    this.body.style.height = `${height}px`;
    this.body.title = 'Drag to zoom on the steps, double-click to zoom out';
    this.el.append(head, this.body);
    parent.append(this.el);

    const twoAxes = series.some((s) => s.scale === 'y2');
    const scales = { x: { time: false } };
    const range = (u, lo, hi) => {
      if (lo === null || hi === null) return [0, 1];
      const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.1 || 0.1;
      return [lo - pad, hi + pad];
    };
    scales.y = { range };
    if (twoAxes) scales.y2 = { range };
    const axes = [{ ...AXIS, size: 30 }, { ...AXIS, size: 50, scale: 'y' }];
    if (twoAxes) axes.push({ ...AXIS, size: 50, scale: 'y2', side: 1, grid: { show: false } });
    const opts = {
      width: Math.max(200, this.body.clientWidth || 400),
      height,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 6 } },
      padding: [8, twoAxes ? 6 : 22, 0, 0],
      scales,
      axes,
      series: [{ label: 'step' }, ...series.map((s) => ({
        label: s.label, stroke: s.color, width: 1.5, scale: s.scale || 'y', spanGaps,
        dash: s.dash, points: { show: s.points ?? false, size: 5, fill: s.color },
      }))],
      hooks: {
        setCursor: [(u) => this.showReadout(u.cursor.idx)],
        setSelect: [(u) => { if (u.select.width > 2) this.zoomed = true; }],
        draw: [() => {
          if (!this.drawnOnce && this.data[0].length > 0) {
            this.drawnOnce = true;
            this.el.dataset.drawn = 'true';
            if (this.onFirstDraw) this.onFirstDraw(this);
          }
        }],
      },
    };
    this.plot = new uPlot(opts, this.data, this.body);
    this.body.addEventListener('dblclick', () => { this.zoomed = false; this.plot.setData(this.data, true); });
    this.ro = new ResizeObserver(() => {
      const w = Math.max(200, this.body.clientWidth);
      if (w !== this.plot.width) this.plot.setSize({ width: w, height });
    });
    this.ro.observe(this.body);
    this.showReadout(null);
  }

  showReadout(idx) {
    const n = this.data[0].length;
    const i = idx === null || idx === undefined ? n - 1 : idx;
    this.readout.replaceChildren();
    if (i < 0 || i >= n) { this.readout.textContent = 'no data yet'; return; }
    const step = document.createElement('span');
    step.className = 'ro-step';
    step.textContent = `${idx === null || idx === undefined ? 'last · ' : ''}step ${Math.round(this.data[0][i]).toLocaleString('en-US')}`;
    this.readout.append(step);
    this.series.forEach((s, k) => {
      const sp = document.createElement('span');
      sp.className = 'ro-val';
      const sw = document.createElement('i');
      sw.style.background = s.color;
      sp.append(sw, `${s.label} `);
      const b = document.createElement('b');
      let v = this.data[k + 1][i];
      if (idx === null || idx === undefined) {
        // not hovering: each series' last value (runs of different lengths share the steps)
        const ys = this.data[k + 1];
        for (let j = i; j >= 0 && (v === null || v === undefined); j--) v = ys[j];
      }
      b.textContent = fmtV(v);
      sp.append(b);
      this.readout.append(sp);
    });
  }

  // xs: steps (ascending); ys: one array per series
  setData(xs0, ys0) {
    const [xs, ys] = monotone(Array.from(xs0), this.series.map((_, k) => Array.from(ys0[k] || [])));
    this.data = [xs, ...ys.map((a) => a.map((v) => (Number.isFinite(v) ? v : null)))];
    this.dirty = true;
    this.flush();
  }

  append(x, ys) {
    const xs = this.data[0];
    if (xs.length && x === xs[xs.length - 1]) return false; // had it
    // a step back: a resumed run logs from its checkpoint again, the new lines replace the old
    while (xs.length && x < xs[xs.length - 1]) for (const a of this.data) a.pop();
    xs.push(x);
    this.series.forEach((_, k) => this.data[k + 1].push(Number.isFinite(ys[k]) ? ys[k] : null));
    this.dirty = true;
    return true;
  }

  get length() { return this.data[0].length; }

  flush() {
    if (!this.dirty) return;
    this.dirty = false;
    this.plot.setData(this.data, !this.zoomed);
    this.el.dataset.points = String(this.data[0].length);
    if (this.plot.cursor.idx === null || this.plot.cursor.idx === undefined) this.showReadout(null);
  }

  destroy() {
    this.ro.disconnect();
    this.plot.destroy();
    this.el.remove();
  }
}
