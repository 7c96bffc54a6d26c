// gantry lab: the layered view. One square plot over [0,1]^2 (y up), one canvas per layer, so that a
// layer switched off is an empty canvas: D's decision heatmap, G's manifold, real points, fake
// points, gradient arrows; and the brush of the draw mode.

export const LAYERS = ['heat', 'manifold', 'real', 'fake', 'grad'];

const COLORS = {
  real: '#12a06b',
  realStroke: '#ffffff',
  fake: '#8b5cf6',
  fakeStroke: '#ffffff',
  manifold: [139, 92, 246],
  manifoldLine: 'rgba(91, 33, 182, 0.45)',
  grad: '#b45309',
  trace: '#ea580c',
  drawn: '#12a06b',
};

// D's probability of real -> a colour: purple (fake) through white to green (real), as GAN Lab.
function heatLut() {
  const lut = new Uint8ClampedArray(256 * 4);
  const fake = [167, 139, 250], mid = [252, 252, 253], real = [110, 211, 170];
  for (let i = 0; i < 256; i++) {
    const p = i / 255;
    const [a, b, t] = p < 0.5 ? [fake, mid, p / 0.5] : [mid, real, (p - 0.5) / 0.5];
    for (let k = 0; k < 3; k++) lut[4 * i + k] = Math.round(a[k] + (b[k] - a[k]) * t);
    lut[4 * i + 3] = Math.round(255 * (0.25 + 0.6 * Math.abs(p - 0.5) * 2));
  }
  return lut;
}

export class LayeredView {
  constructor(root) {
    this.root = root;
    this.canvas = {};
    for (const c of root.querySelectorAll('canvas.layer')) this.canvas[c.dataset.layer || 'draw'] = c;
    this.enabled = Object.fromEntries(LAYERS.map((l) => [l, true]));
    this.frame = null;
    this.trace = null;
    this.drawing = false;
    this.drawn = [];
    this.maxDrawn = 4096;
    this.onDrawChange = null;
    this.gradScale = 0;        // a running max of the arrows' norms: lengths stay comparable over time
    this.lut = heatLut();
    this.heatCanvas = document.createElement('canvas');
    this.heatCanvas.width = this.heatCanvas.height = 30;
    this.resize();
    new ResizeObserver(() => { this.resize(); this.render(); }).observe(root);
    this.installBrush();
    this.updateAttr();
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    this.css = this.root.clientWidth;
    this.size = Math.round(this.css * dpr);
    this.dpr = dpr;
    for (const c of Object.values(this.canvas)) { c.width = this.size; c.height = this.size; }
  }

  X(x) { return x * this.size; }
  Y(y) { return (1 - y) * this.size; }
  // points outside [0,1]^2 are drawn on the border (GAN Lab's plot has no outside either)
  clampX(x) { const m = 3 * this.dpr; return Math.min(this.size - m, Math.max(m, this.X(x))); }
  clampY(y) { const m = 3 * this.dpr; return Math.min(this.size - m, Math.max(m, this.Y(y))); }

  setLayer(name, on) { this.enabled[name] = on; this.updateAttr(); this.render(); }
  setFrame(f) { this.frame = f; }
  setTrace(t) { this.trace = t; this.gradScale = 0; }

  updateAttr() {
    this.root.dataset.layers = LAYERS.filter((l) => this.enabled[l]).join(' ');
    this.root.classList.toggle('drawing', this.drawing);
  }

  ctx(name) {
    const c = this.canvas[name];
    const g = c.getContext('2d');
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, c.width, c.height);
    return g;
  }

  render() {
    const f = this.frame;
    for (const name of LAYERS) {
      const g = this.ctx(name);
      if (!this.enabled[name] || !f) continue;
      this[`draw_${name}`](g, f);
    }
    this.drawBrush();
    this.root.dataset.epoch = f ? String(f.epoch) : '';
  }

  draw_heat(g, f) {
    const heat = f.heat;
    if (!heat || !heat.length) return;
    const n = heat.length, m = heat[0].length;
    if (this.heatCanvas.width !== m || this.heatCanvas.height !== n) { this.heatCanvas.width = m; this.heatCanvas.height = n; }
    const hc = this.heatCanvas.getContext('2d');
    const img = hc.createImageData(m, n);
    for (let r = 0; r < n; r++) {
      const row = heat[r], y = n - 1 - r;            // row 0 is y = 0, the bottom
      for (let c = 0; c < m; c++) {
        const p = Math.max(0, Math.min(1, +row[c] || 0));
        const i = Math.round(p * 255) * 4, o = (y * m + c) * 4;
        img.data[o] = this.lut[i]; img.data[o + 1] = this.lut[i + 1]; img.data[o + 2] = this.lut[i + 2]; img.data[o + 3] = this.lut[i + 3];
      }
    }
    hc.putImageData(img, 0, 0);
    g.imageSmoothingEnabled = true;
    g.imageSmoothingQuality = 'high';
    // the cells' centres sit at (c + 0.5) / m: stretch the 30 px image over the whole plot
    g.drawImage(this.heatCanvas, 0, 0, this.size, this.size);
  }

  draw_manifold(g, f) {
    const M = f.manifold;
    if (!M || !M.points || !M.points.length) return;
    const { w, h, points, density } = M;
    const [r, gg, b] = COLORS.manifold;
    g.lineJoin = 'round';
    if (h <= 1) {
      // 1-D noise: the curve G draws, each segment as thick and dark as its density
      for (let i = 0; i + 1 < points.length; i++) {
        const d = density ? +density[i] || 0 : 0.5;
        g.strokeStyle = `rgba(${r},${gg},${b},${0.3 + 0.6 * d})`;
        g.lineWidth = (1.2 + 4 * d) * this.dpr;
        g.beginPath();
        g.moveTo(this.X(points[i][0]), this.Y(points[i][1]));
        g.lineTo(this.X(points[i + 1][0]), this.Y(points[i + 1][1]));
        g.stroke();
      }
      return;
    }
    const P = (i, j) => points[j * w + i];
    for (let j = 0; j + 1 < h; j++) {
      for (let i = 0; i + 1 < w; i++) {
        const d = density ? +density[j * (w - 1) + i] || 0 : 0.3;
        const a = P(i, j), bq = P(i + 1, j), c = P(i + 1, j + 1), e = P(i, j + 1);
        g.fillStyle = `rgba(${r},${gg},${b},${0.04 + 0.42 * d})`;
        g.beginPath();
        g.moveTo(this.X(a[0]), this.Y(a[1])); g.lineTo(this.X(bq[0]), this.Y(bq[1]));
        g.lineTo(this.X(c[0]), this.Y(c[1])); g.lineTo(this.X(e[0]), this.Y(e[1]));
        g.closePath();
        g.fill();
      }
    }
    g.strokeStyle = COLORS.manifoldLine;
    g.lineWidth = 0.6 * this.dpr;
    g.beginPath();
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) {
      const p = P(i, j);
      if (i === 0) g.moveTo(this.X(p[0]), this.Y(p[1])); else g.lineTo(this.X(p[0]), this.Y(p[1]));
    }
    for (let i = 0; i < w; i++) for (let j = 0; j < h; j++) {
      const p = P(i, j);
      if (j === 0) g.moveTo(this.X(p[0]), this.Y(p[1])); else g.lineTo(this.X(p[0]), this.Y(p[1]));
    }
    g.stroke();
  }

  dots(g, pts, fill, stroke) {
    const r = 3.1 * this.dpr;
    g.fillStyle = fill;
    g.strokeStyle = stroke;
    g.lineWidth = 0.9 * this.dpr;
    g.beginPath();
    for (const [x, y] of pts) {
      const px = this.clampX(x), py = this.clampY(y);
      g.moveTo(px + r, py);
      g.arc(px, py, r, 0, 2 * Math.PI);
    }
    g.fill();
    g.stroke();
  }

  draw_real(g, f) { this.dots(g, f.real || [], COLORS.real, COLORS.realStroke); }
  draw_fake(g, f) { this.dots(g, this.trace ? this.trace.fake : f.fake || [], COLORS.fake, COLORS.fakeStroke); }

  draw_grad(g, f) {
    const fake = this.trace ? this.trace.fake : f.fake;
    const grad = this.trace ? this.trace.grad_g : f.grad;
    if (!fake || !grad || !grad.length) return;
    let max = 0;
    for (const [dx, dy] of grad) max = Math.max(max, Math.hypot(dx, dy));
    if (!(max > 0)) return;
    // the longest arrow 7% of the plot, against a slowly decaying running max
    this.gradScale = Math.max(max, this.gradScale * 0.97);
    const k = 0.07 / this.gradScale;
    g.strokeStyle = this.trace ? COLORS.trace : COLORS.grad;
    g.fillStyle = g.strokeStyle;
    g.lineWidth = (this.trace ? 1.8 : 1.1) * this.dpr;
    g.globalAlpha = this.trace ? 1 : 0.85;
    const head = 4 * this.dpr;
    for (let i = 0; i < Math.min(fake.length, grad.length); i++) {
      const [x, y] = fake[i], [dx, dy] = grad[i];
      const x0 = this.clampX(x), y0 = this.clampY(y);
      const x1 = x0 + dx * k * this.size, y1 = y0 - dy * k * this.size;
      const len = Math.hypot(x1 - x0, y1 - y0);
      if (len < 0.5) continue;
      g.beginPath(); g.moveTo(x0, y0); g.lineTo(x1, y1); g.stroke();
      const ux = (x1 - x0) / len, uy = (y1 - y0) / len, hl = Math.min(head, len * 0.6);
      g.beginPath();
      g.moveTo(x1, y1);
      g.lineTo(x1 - ux * hl - uy * hl * 0.5, y1 - uy * hl + ux * hl * 0.5);
      g.lineTo(x1 - ux * hl + uy * hl * 0.5, y1 - uy * hl - ux * hl * 0.5);
      g.closePath(); g.fill();
    }
    g.globalAlpha = 1;
  }

  // --- the brush ------------------------------------------------------------------------------
  startDrawing(points) {
    this.drawing = true;
    this.drawn = points ? points.slice() : [];
    this.resetBrush();
    this.updateAttr();
    this.render();
  }
  stopDrawing() { this.drawing = false; this.updateAttr(); this.render(); }

  drawBrush() {
    const g = this.ctx('draw');
    if (!this.drawing) return;
    // a light grid helps placing strokes
    g.strokeStyle = '#eef0f4';
    g.lineWidth = this.dpr;
    g.beginPath();
    for (let i = 1; i < 10; i++) {
      const t = (i / 10) * this.size;
      g.moveTo(t, 0); g.lineTo(t, this.size); g.moveTo(0, t); g.lineTo(this.size, t);
    }
    g.stroke();
    this.dots(g, this.drawn, COLORS.drawn, '#ffffff');
  }

  installBrush() {
    let down = false, last = null;
    const toData = (ev) => {
      const r = this.root.getBoundingClientRect();
      return [(ev.clientX - r.left) / r.width, 1 - (ev.clientY - r.top) / r.height];
    };
    // a seeded generator (mulberry32): the same strokes paint the same points
    let seed = 0x6a09e667;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    this.resetBrush = () => { seed = 0x6a09e667; };
    const spray = (p) => {
      // a few points around the cursor (a spray can, as GAN Lab's brush)
      for (let k = 0; k < 2 && this.drawn.length < this.maxDrawn; k++) {
        const a = random() * 2 * Math.PI, rad = 0.018 * Math.sqrt(random());
        const x = Math.min(1, Math.max(0, p[0] + rad * Math.cos(a)));
        const y = Math.min(1, Math.max(0, p[1] + rad * Math.sin(a)));
        this.drawn.push([x, y]);
      }
    };
    this.root.addEventListener('pointerdown', (ev) => {
      if (!this.drawing) return;
      down = true; last = toData(ev);
      this.root.setPointerCapture?.(ev.pointerId);
      spray(last); this.drawBrush(); this.onDrawChange?.(this.drawn);
      ev.preventDefault();
    });
    this.root.addEventListener('pointermove', (ev) => {
      if (!this.drawing || !down) return;
      const p = toData(ev);
      // fill long moves so that a fast stroke stays continuous
      const steps = Math.max(1, Math.ceil(Math.hypot(p[0] - last[0], p[1] - last[1]) / 0.012));
      for (let s = 1; s <= steps; s++) spray([last[0] + ((p[0] - last[0]) * s) / steps, last[1] + ((p[1] - last[1]) * s) / steps]);
      last = p;
      this.drawBrush(); this.onDrawChange?.(this.drawn);
    });
    const up = () => { down = false; };
    this.root.addEventListener('pointerup', up);
    this.root.addEventListener('pointercancel', up);
  }
}
