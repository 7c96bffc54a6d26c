// gantry lab: the tabs (Lab, Runs) and the hash routes of the runs dashboard (docs/DASHBOARD.md):
//   #/ or no hash            the lab (lab.js, as it was)
//   #/runs                   every run of `gantry lab --runs DIR`, live
//   #/runs/NAME              one run: curves, sample grid timeline, config, checkpoints
//   #/compare/A,B,...        runs overlaid, and their config differences
//   #/explore/NAME?ckpt=F    the latent explorer of a checkpoint
// Each dashboard view is mounted into <main id="dash"> and disposed (event streams closed, blob URLs
// revoked) when the route changes.

import { mountRuns } from './runs.js';
import { mountRun } from './run.js';
import { mountCompare } from './compare.js';
import { mountExplore } from './explore.js';
import { toast } from './toast.js';

const $ = (sel) => document.querySelector(sel);
window.gantryDash = { route: null, view: null, run: null, compare: null, explore: null, mounts: 0 };

// --- the frame: <main id="dash"> and the dashboard's bar in the top bar ------------------------------
const dash = document.createElement('main');
dash.id = 'dash';
dash.className = 'dash';
dash.hidden = true;
document.querySelector('main.layout').after(dash);

const bar = document.createElement('div');
bar.id = 'dash-bar';
bar.className = 'dash-bar';
bar.hidden = true;
bar.innerHTML = '<nav class="crumbs" id="dash-crumbs"></nav><span id="dash-conn" class="conn"></span>';
document.querySelector('.topbar .brand').after(bar);


const ctx = {
  toast,
  report(e) { console.error(e); toast(e.message || String(e), 'error'); },
  navigate(hash, replace = false) {
    if (replace) { history.replaceState(null, '', `${location.pathname}${location.search}${hash}`); route(); } else location.hash = hash;
  },
  setConn(text, cls) {
    const c = $('#dash-conn');
    c.textContent = text;
    c.className = `conn ${cls || ''}`;
    c.hidden = !text;
  },
};

// --- routes ------------------------------------------------------------------------------------------
export function parseRoute(hash) {
  const raw = (hash || '').replace(/^#/, '');
  const qi = raw.indexOf('?');
  const p = qi < 0 ? raw : raw.slice(0, qi);
  const query = qi < 0 ? '' : raw.slice(qi + 1);
  const parts = p.split('/').filter(Boolean).map((x) => { try { return decodeURIComponent(x); } catch { return x; } });
  if (parts[0] === 'runs' && parts.length === 1) return { view: 'runs' };
  if (parts[0] === 'runs' && parts.length >= 2) return { view: 'run', name: parts[1] };
  if (parts[0] === 'compare' && parts.length >= 2) return { view: 'compare', names: [...new Set(parts[1].split(',').filter(Boolean))] };
  if (parts[0] === 'explore' && parts.length >= 2) return { view: 'explore', name: parts[1], query };
  return { view: 'lab' };
}

function crumbs(r) {
  const c = $('#dash-crumbs');
  const a = (href, text) => { const el = document.createElement('a'); el.href = href; el.textContent = text; return el; };
  const sep = () => { const s = document.createElement('span'); s.className = 'sep'; s.textContent = '/'; return s; };
  const items = [a('#/runs', 'runs')];
  if (r.view === 'run' || r.view === 'explore') items.push(sep(), a(`#/runs/${encodeURIComponent(r.name)}`, r.name));
  if (r.view === 'explore') { const s = document.createElement('span'); s.textContent = 'explore'; items.push(sep(), s); }
  if (r.view === 'compare') { const s = document.createElement('span'); s.textContent = `compare ${r.names.join(', ')}`; items.push(sep(), s); }
  c.replaceChildren(...items);
}

let current = null;
let currentKey = '';
function route() {
  const r = parseRoute(location.hash);
  const key = JSON.stringify(r);
  const tab = r.view === 'lab' ? 'lab' : 'dash';
  document.documentElement.dataset.tab = tab;
  document.body.dataset.tab = tab;
  for (const t of document.querySelectorAll('.tabs [data-tab]')) {
    const on = t.dataset.tab === (tab === 'lab' ? 'lab' : 'runs');
    t.classList.toggle('active', on);
    if (on) t.setAttribute('aria-current', 'page'); else t.removeAttribute('aria-current');
  }
  $('main.layout').hidden = tab !== 'lab';
  dash.hidden = tab === 'lab';
  bar.hidden = tab === 'lab';
  if (key === currentKey) return;
  currentKey = key;
  if (current) { try { current.dispose(); } catch (e) { console.error(e); } current = null; }
  dash.replaceChildren();
  dash.dataset.view = r.view;
  window.gantryDash.route = r;
  if (tab === 'lab') { document.title = 'gantry lab · GAN Lab in C'; return; }
  crumbs(r);
  const root = document.createElement('div');
  root.className = `dash-view view-${r.view}`;
  root.id = `view-${r.view}`;
  dash.append(root);
  if (r.view === 'runs') current = mountRuns(root, ctx);
  else if (r.view === 'run') current = mountRun(root, ctx, r.name);
  else if (r.view === 'compare') current = mountCompare(root, ctx, r.names);
  else if (r.view === 'explore') current = mountExplore(root, ctx, r.name, r.query);
  window.gantryDash.view = r.view;
  window.gantryDash.mounts++;
  document.title = `${current && current.title ? current.title : r.view} · gantry runs`;
  window.scrollTo(0, 0);
}

window.addEventListener('hashchange', route);
// the lab's space bar (play / pause) stays on the lab's tab
window.addEventListener('keydown', (ev) => {
  if (ev.code === 'Space' && document.body.dataset.tab === 'dash') ev.stopImmediatePropagation();
}, true);
route();
