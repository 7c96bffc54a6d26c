// gantry lab: every hyperparameter in the URL's query, so that an experiment is a link.
// Only the fields that differ from the server's defaults are written; a drawn distribution travels
// as `drawn=` (base64url, one byte per coordinate: 1/255 steps over [0,1]).

export const FIELDS = {
  data: 'data', noise_dim: 'int', noise: 'noise',
  g_layers: 'int', g_neurons: 'int', d_layers: 'int', d_neurons: 'int',
  loss: 'loss', gp: 'float', r1: 'float', optim: 'optim',
  lr_g: 'float', lr_d: 'float', d_steps: 'int', g_steps: 'int', batch: 'int', seed: 'int',
};

// [min, max] of each numeric field (from /api/options' limits where it has them)
export function rangeOf(field, limits) {
  const L = limits || {};
  switch (field) {
    case 'g_layers': case 'd_layers': return L.layers || [0, 5];
    case 'g_neurons': case 'd_neurons': return L.neurons || [1, 256];
    case 'lr_g': case 'lr_d': return L.lr || [0, 10];
    case 'd_steps': case 'g_steps': return L.steps || [0, 10];
    case 'batch': return L.batch || [1, 1024];
    case 'noise_dim': return [1, 2];
    case 'gp': case 'r1': return [0, 1e6];
    case 'seed': return [0, Number.MAX_SAFE_INTEGER];
    default: return null;
  }
}

// A value from text, checked against the options; {value} or {error}.
export function parseField(field, text, options) {
  const kind = FIELDS[field];
  if (!kind) return { error: `unknown field ${field}` };
  const s = String(text).trim();
  if (kind === 'int' || kind === 'float') {
    if (s === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return { error: `${field} must be a number` };
    const v = Number(s);
    if (kind === 'int' && !Number.isInteger(v)) return { error: `${field} must be a whole number` };
    const [lo, hi] = rangeOf(field, options && options.limits);
    if (v < lo || v > hi) return { error: `${field} must be in [${lo}, ${hi}]` };
    if ((field === 'lr_g' || field === 'lr_d') && v <= 0) return { error: `${field} must be > 0` };
    return { value: v };
  }
  const allowed = options && options[kind];
  if (allowed && !allowed.includes(s)) return { error: `${field} must be one of ${allowed.join(', ')}` };
  return { value: s };
}

export function encodePoints(points) {
  const bytes = new Uint8Array(points.length * 2);
  points.forEach(([x, y], i) => {
    bytes[2 * i] = Math.max(0, Math.min(255, Math.round(x * 255)));
    bytes[2 * i + 1] = Math.max(0, Math.min(255, Math.round(y * 255)));
  });
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodePoints(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const pts = [];
  for (let i = 0; i + 1 < bin.length; i += 2) pts.push([bin.charCodeAt(i) / 255, bin.charCodeAt(i + 1) / 255]);
  return pts;
}

// The query -> a partial config and the warnings about what was left out.
export function configFromQuery(search, options) {
  const q = new URLSearchParams(search);
  const config = {};
  const warnings = [];
  for (const [field] of Object.entries(FIELDS)) {
    if (!q.has(field)) continue;
    const r = parseField(field, q.get(field), options);
    if (r.error) warnings.push(`link: ${r.error} (ignored)`);
    else config[field] = r.value;
  }
  if (config.data === 'drawn') {
    let pts = [];
    try { pts = q.has('drawn') ? decodePoints(q.get('drawn')) : []; } catch { pts = []; }
    const max = (options && options.limits && options.limits.drawn) || 4096;
    if (pts.length === 0) {
      warnings.push('link: data=drawn without drawn points (ignored)');
      delete config.data;
    } else config.drawn = pts.slice(0, max);
  }
  return { config, warnings };
}

function same(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  return a === b;
}

export function queryFromConfig(config, defaults) {
  const q = new URLSearchParams();
  for (const field of Object.keys(FIELDS)) {
    const v = config[field];
    if (v === undefined || v === null) continue;
    if (defaults && defaults[field] !== undefined && same(v, defaults[field])) continue;
    q.set(field, typeof v === 'number' ? String(+v.toPrecision(6)) : String(v));
  }
  if (config.data === 'drawn' && Array.isArray(config.drawn) && config.drawn.length) q.set('drawn', encodePoints(config.drawn));
  return q.toString();
}
