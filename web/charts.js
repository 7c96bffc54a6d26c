// gantry lab: the loss chart and the KL / JS chart (uPlot), fed from the frames and the history.

const uPlot = window.uPlot;

export class SeriesChart {
  // series: [{label, color}], one y per point
  constructor(el, series, { yMin = null } = {}) {
    this.el = el;
    this.n = series.length;
    this.data = [[], ...series.map(() => [])];
    this.max = 2000;
    this.dirty = false;
    const opts = {
      width: Math.max(200, el.clientWidth),
      height: el.clientHeight || 150,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      padding: [8, 8, 0, 0],
      scales: { x: { time: false }, y: { range: (u, lo, hi) => {
        const a = yMin !== null ? Math.min(yMin, lo) : lo;
        const pad = (hi - a) * 0.08 || 0.1;
        return [yMin !== null ? a : a - pad, hi + pad];
      } } },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#eef0f4', width: 1 }, ticks: { stroke: '#e3e6ec', width: 1 }, font: '11px system-ui', size: 30 },
        { stroke: '#6b7280', grid: { stroke: '#eef0f4', width: 1 }, ticks: { stroke: '#e3e6ec', width: 1 }, font: '11px system-ui', size: 42 },
      ],
      series: [{ label: 'epoch' }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.6, points: { show: false } }))],
    };
    this.plot = new uPlot(opts, this.data, el);
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(200, el.clientWidth), height: el.clientHeight || 150 })).observe(el);
  }

  clear() { this.data = [[], ...Array.from({ length: this.n }, () => [])]; this.dirty = true; }

  // points: [[epoch, y1, y2, ...], ...] oldest first
  setAll(points) {
    this.clear();
    for (const p of points) this.push(p[0], p.slice(1));
  }

  push(x, ys) {
    const xs = this.data[0];
    if (xs.length && x <= xs[xs.length - 1]) {
      if (x < xs[xs.length - 1]) this.clear(); else return; // epoch went back: a reset
    }
    this.data[0].push(x);
    for (let i = 0; i < this.n; i++) this.data[i + 1].push(Number.isFinite(ys[i]) ? ys[i] : null);
    if (this.data[0].length > this.max) {
      // keep every other point of the older half: the chart stays light over long runs
      for (let k = 0; k <= this.n; k++) {
        const a = this.data[k], half = a.length >> 1;
        this.data[k] = a.slice(0, half).filter((_, i) => i % 2 === 0).concat(a.slice(half));
      }
    }
    this.dirty = true;
  }

  flush() {
    if (!this.dirty) return;
    this.dirty = false;
    this.plot.setData(this.data);
  }
}
