// gantry lab: the model overview graph (SVG, drawn with d3): noise -> G -> fake samples -> D <- real
// samples, D -> loss_D and loss_G, G's gradient back from loss_G; each net with its hidden layers.

const d3 = window.d3;

const DATA_NAMES = { line: 'line', gaussians: 'Gaussians', ring: 'ring', disjoint: 'disjoint', drawn: 'drawn' };
const LOSS_NAMES = { log: 'log loss', ls: 'least squares', hinge: 'hinge', 'wgan-gp': 'WGAN-GP' };

const BOX = {
  noise: { x: 4, y: 22, w: 72, h: 56 },
  g: { x: 94, y: 6, w: 134, h: 104 },
  fake: { x: 246, y: 22, w: 66, h: 56 },
  real: { x: 246, y: 128, w: 66, h: 56 },
  d: { x: 330, y: 6, w: 126, h: 178 },
  lossD: { x: 246, y: 202, w: 100, h: 40 },
  lossG: { x: 356, y: 202, w: 100, h: 40 },
};

function hiddenDesc(layers, neurons) {
  if (layers === 0) return 'no hidden layer';
  return `${layers} hidden layer${layers > 1 ? 's' : ''} × ${neurons}`;
}

export class ModelGraph {
  constructor(svgEl) {
    this.svg = d3.select(svgEl);
    this.svg.selectAll('*').remove();
    const defs = this.svg.append('defs');
    for (const [id, color] of [['arrow', '#9aa3b5'], ['arrow-back', '#f59e0b']]) {
      defs.append('marker').attr('id', id).attr('viewBox', '0 0 10 10').attr('refX', 9).attr('refY', 5)
        .attr('markerWidth', 7).attr('markerHeight', 7).attr('orient', 'auto-start-reverse')
        .append('path').attr('d', 'M0,0 L10,5 L0,10 z').attr('fill', color);
    }
    this.edges = this.svg.append('g').attr('class', 'edges');
    this.nodes = this.svg.append('g').attr('class', 'nodes');
    this.drawEdges();
    this.node('noise', 'noise', 'Noise z', '');
    this.node('g', 'g', 'Generator G', '');
    this.node('fake', 'fake', 'Fake', 'samples');
    this.node('real', 'real', 'Real', 'samples');
    this.node('d', 'd', 'Discriminator D', '');
    this.lossNode('lossD', 'loss-d', 'loss', 'D');
    this.lossNode('lossG', 'loss-g', 'loss', 'G');
    this.sampleDots('fake', '#8b5cf6', 11);
    this.sampleDots('real', '#12a06b', 23);
  }

  drawEdges() {
    const e = this.edges;
    const line = (pts, cls = 'edge', marker = 'arrow') =>
      e.append('path').attr('class', cls).attr('d', d3.line()(pts)).attr('marker-end', `url(#${marker})`);
    const mid = (b) => b.y + b.h / 2;
    line([[BOX.noise.x + BOX.noise.w, mid(BOX.noise)], [BOX.g.x - 2, mid(BOX.noise)]]);
    line([[BOX.g.x + BOX.g.w, mid(BOX.fake)], [BOX.fake.x - 2, mid(BOX.fake)]]);
    line([[BOX.fake.x + BOX.fake.w, mid(BOX.fake)], [BOX.d.x - 2, mid(BOX.fake)]]);
    line([[BOX.real.x + BOX.real.w, mid(BOX.real)], [BOX.d.x - 2, mid(BOX.real)]]);
    // D's outputs down to the two losses
    const dx = BOX.d.x + BOX.d.w / 2, dy = BOX.d.y + BOX.d.h;
    line([[dx - 20, dy], [dx - 20, dy + 8], [BOX.lossD.x + BOX.lossD.w / 2, dy + 8], [BOX.lossD.x + BOX.lossD.w / 2, BOX.lossD.y - 2]]);
    line([[dx + 8, dy], [dx + 8, BOX.lossG.y - 2]]);
    // G's gradient: from loss_G back to G (dashed)
    const gx = BOX.g.x + BOX.g.w / 2;
    line([[BOX.lossG.x + BOX.lossG.w - 10, BOX.lossG.y + BOX.lossG.h], [BOX.lossG.x + BOX.lossG.w - 10, 250],
      [gx, 250], [gx, BOX.g.y + BOX.g.h + 2]], 'edge back', 'arrow-back');
    e.append('text').attr('class', 'sub').attr('x', BOX.noise.x + 2).attr('y', 226).text('G learns from');
    e.append('text').attr('class', 'sub').attr('x', BOX.noise.x + 2).attr('y', 239).text("D's gradient ∂loss_G/∂θ_G");
  }

  node(key, cls, title, sub) {
    const b = BOX[key];
    const g = this.nodes.append('g').attr('class', `node ${cls}`).attr('id', `graph-${cls}`)
      .attr('transform', `translate(${b.x},${b.y})`);
    g.append('rect').attr('class', 'box').attr('width', b.w).attr('height', b.h).attr('rx', 8);
    g.append('text').attr('class', 'title').attr('x', b.w / 2).attr('y', 16).attr('text-anchor', 'middle').text(title);
    g.append('text').attr('class', 'sub').attr('id', `graph-${cls}-desc`).attr('x', b.w / 2).attr('y', 29).attr('text-anchor', 'middle').text(sub);
    this[`n_${key}`] = g;
    return g;
  }

  lossNode(key, cls, name, who) {
    const b = BOX[key];
    const g = this.nodes.append('g').attr('class', 'node loss').attr('id', `graph-${cls}`).attr('transform', `translate(${b.x},${b.y})`);
    g.append('rect').attr('class', 'box').attr('width', b.w).attr('height', b.h).attr('rx', 8);
    g.append('text').attr('class', 'sub').attr('x', 10).attr('y', 15).text(`${who === 'D' ? 'discriminator' : 'generator'} ${name}`);
    g.append('text').attr('class', 'value').attr('id', `graph-${cls}-value`).attr('x', 10).attr('y', 33)
      .attr('fill', who === 'D' ? '#0284c7' : '#7c3aed').text('–');
  }

  sampleDots(key, color, seed) {
    const b = BOX[key];
    let s = seed;
    const rnd = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
    const g = this[`n_${key}`].append('g').attr('transform', `translate(${b.w / 2},${b.h - 14})`);
    for (let i = 0; i < 9; i++) {
      const a = (i / 9) * 2 * Math.PI;
      const r = key === 'real' ? 8 : 3 + 6 * rnd();
      g.append('circle').attr('cx', Math.cos(a) * r * 1.6 + (rnd() - 0.5) * 3).attr('cy', Math.sin(a) * r * 0.55).attr('r', 2).attr('fill', color);
    }
  }

  // one column of neurons per layer (input, hidden..., output); at most 6 dots shown per column
  net(g, b, sizes, color) {
    g.selectAll('.netdraw').remove();
    const nd = g.append('g').attr('class', 'netdraw');
    const top = 38, bottom = b.h - 10, left = 14, right = b.w - 14;
    const cols = sizes.length;
    const xs = sizes.map((_, i) => (cols === 1 ? (left + right) / 2 : left + ((right - left) * i) / (cols - 1)));
    const shown = sizes.map((n) => Math.min(n, 6));
    const ys = shown.map((n) => d3.range(n).map((j) => (n === 1 ? (top + bottom) / 2 : top + ((bottom - top) * j) / (n - 1))));
    for (let i = 0; i + 1 < cols; i++)
      for (const y0 of ys[i]) for (const y1 of ys[i + 1])
        nd.append('line').attr('class', 'wire').attr('x1', xs[i]).attr('y1', y0).attr('x2', xs[i + 1]).attr('y2', y1);
    sizes.forEach((n, i) => {
      const hidden = i > 0 && i < cols - 1;
      const col = nd.append('g').attr('class', hidden ? 'layer hidden-layer' : 'layer io-layer').attr('data-neurons', n);
      for (const y of ys[i]) col.append('circle').attr('class', 'neuron').attr('cx', xs[i]).attr('cy', y).attr('r', hidden ? 3.6 : 3)
        .attr('fill', hidden ? color : '#94a3b8');
      if (n > 6) col.append('text').attr('class', 'more').attr('x', xs[i]).attr('y', bottom + 8.5).attr('text-anchor', 'middle').text(n);
    });
  }

  update(config) {
    const gl = config.g_layers, gn = config.g_neurons, dl = config.d_layers, dn = config.d_neurons;
    const g = this.n_g, d = this.n_d;
    g.attr('data-layers', gl).attr('data-neurons', gn);
    d.attr('data-layers', dl).attr('data-neurons', dn);
    d3.select('#graph-g-desc').text(hiddenDesc(gl, gn));
    d3.select('#graph-d-desc').text(hiddenDesc(dl, dn));
    d3.select('#graph-noise-desc').text(`${config.noise_dim}-D ${config.noise}`);
    d3.select('#graph-real-desc').text(DATA_NAMES[config.data] || config.data);
    this.net(g, BOX.g, [config.noise_dim, ...Array(gl).fill(gn), 2], '#8b5cf6');
    this.net(d, BOX.d, [2, ...Array(dl).fill(dn), 1], '#0ea5e9');
    // the noise's own little picture: a segment (1-D) or a square (2-D)
    this.n_noise.selectAll('.noise-pic').remove();
    const pic = this.n_noise.append('g').attr('class', 'noise-pic').attr('transform', `translate(${BOX.noise.w / 2},${BOX.noise.h - 14})`);
    if (config.noise_dim === 1) pic.append('line').attr('x1', -16).attr('x2', 16).attr('stroke', '#64748b').attr('stroke-width', 2).attr('stroke-linecap', 'round');
    else pic.append('rect').attr('x', -9).attr('y', -8).attr('width', 18).attr('height', 14).attr('fill', '#e2e8f0').attr('stroke', '#64748b');
    return `${LOSS_NAMES[config.loss] || config.loss}${config.r1 > 0 ? ` + R1 ${config.r1}` : ''} · ${config.optim === 'adam' ? 'Adam' : 'SGD'}`;
  }

  setLosses(ld, lg) {
    const fmt = (v) => (Number.isFinite(v) ? v.toFixed(4) : '–');
    d3.select('#graph-loss-d-value').text(fmt(ld));
    d3.select('#graph-loss-g-value').text(fmt(lg));
  }
}
