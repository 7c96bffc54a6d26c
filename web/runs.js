// gantry lab --runs: the list of runs (#/runs), live from /api/runs/events. Tick runs to compare them.

import { runsApi, h, fmtNum, fmtInt, fmtAgo, stateBadge } from './runsapi.js';

const selected = new Set(); // kept while the page lives: back from a run, the ticks are still there

export function mountRuns(root, ctx) {
  let runs = [];
  let dir = '';
  let es = null;
  let closed = false;
  const rows = new Map();

  const compareBtn = h('button', { class: 'primary-btn', id: 'compare-btn', dataset: { testid: 'compare-btn' }, disabled: true,
    onclick: () => { if (selected.size >= 2) ctx.navigate(`#/compare/${[...selected].map(encodeURIComponent).join(',')}`); } }, 'Compare');
  const clearBtn = h('button', { class: 'ghost-btn', onclick: () => { selected.clear(); render(); } }, 'Clear');
  const dirEl = h('span', { class: 'muted', id: 'runs-dir' });
  const countEl = h('span', { class: 'muted', id: 'runs-count' });
  const tbody = h('tbody');
  const empty = h('div', { class: 'runs-empty', hidden: true });
  const table = h('table', { class: 'runs-table', id: 'runs-table', dataset: { testid: 'runs-table' } },
    h('thead', null, h('tr', null,
      h('th', { class: 'c-pick', title: 'Tick runs to compare them' }, ''),
      h('th', null, 'Run'), h('th', null, 'Model'), h('th', null, 'Data'),
      h('th', { class: 'c-progress' }, 'Progress'), h('th', null, 'State'),
      h('th', { class: 'num' }, 'loss', h('sub', null, 'D')), h('th', { class: 'num' }, 'loss', h('sub', null, 'G')),
      h('th', { class: 'num' }, 'FID'), h('th', { class: 'num' }, 'Updated'))),
    tbody);

  root.append(h('section', { class: 'panel dash-panel' },
    h('div', { class: 'panel-head' },
      h('h2', null, 'Runs'), h('div', { class: 'head-info' }, dirEl, countEl),
      h('div', { class: 'head-actions' }, h('span', { class: 'muted', id: 'pick-hint' }, 'Tick two or more runs to compare them'), clearBtn, compareBtn)),
    h('div', { class: 'table-wrap' }, table), empty));

  function cell(tr, cls) { return tr.querySelector(`.${cls}`); }

  function makeRow(name) {
    const cb = h('input', { type: 'checkbox', 'aria-label': `Compare ${name}`, dataset: { testid: 'pick' } });
    cb.addEventListener('change', () => { if (cb.checked) selected.add(name); else selected.delete(name); syncPick(); });
    const bar = h('div', { class: 'bar' }, h('div', { class: 'bar-fill' }));
    const tr = h('tr', { dataset: { run: name } },
      h('td', { class: 'c-pick' }, cb),
      h('td', { class: 'c-name' }, h('a', { href: `#/runs/${encodeURIComponent(name)}` }, name)),
      h('td', { class: 'c-model' }), h('td', { class: 'c-data' }),
      h('td', { class: 'c-progress' }, h('div', { class: 'progress' }, bar, h('span', { class: 'c-step' }))),
      h('td', { class: 'c-state' }),
      h('td', { class: 'num c-loss-d' }), h('td', { class: 'num c-loss-g' }), h('td', { class: 'num c-fid' }),
      h('td', { class: 'num c-updated' }));
    return tr;
  }

  function fill(tr, r) {
    cell(tr, 'c-model').textContent = r.model || '–';
    if (r.model === 'anycost' && !tr.querySelector('.anycost-link')) // its checkpoints open in the anycost editor
      cell(tr, 'c-name').append(' ', h('a', { class: 'anycost-link', href: `anycost.html?run=${encodeURIComponent(r.name)}`, title: 'Open the last checkpoint in the anycost editor', style: 'font-size: 11px; font-weight: 550; margin-left: 6px' }, 'edit'));
    cell(tr, 'c-data').textContent = r.data || '–';
    cell(tr, 'c-data').title = r.data || '';
    const steps = Number(r.steps) || 0, step = Number(r.step) || 0;
    const frac = steps > 0 ? Math.min(1, step / steps) : 0;
    tr.querySelector('.bar-fill').style.width = `${(frac * 100).toFixed(1)}%`;
    tr.querySelector('.bar').className = `bar bar-${r.state || 'unknown'}`;
    const st = cell(tr, 'c-step');
    st.textContent = `${fmtInt(r.step)} / ${fmtInt(r.steps)}`;
    st.dataset.value = String(step);
    const sc = cell(tr, 'c-state');
    if (sc.dataset.state !== r.state) { sc.replaceChildren(stateBadge(r.state)); sc.dataset.state = r.state || ''; }
    sc.title = r.state === 'failed' && r.message ? r.message : '';
    let msg = tr.querySelector('.run-msg');
    if (r.state === 'failed' && r.message) {
      if (!msg) { msg = h('div', { class: 'run-msg' }); cell(tr, 'c-name').append(msg); }
      msg.textContent = r.message;
    } else if (msg) msg.remove();
    cell(tr, 'c-loss-d').textContent = fmtNum(r.loss_d, 4);
    cell(tr, 'c-loss-g').textContent = fmtNum(r.loss_g, 4);
    const fid = cell(tr, 'c-fid');
    fid.textContent = fmtNum(r.fid, 4);
    fid.title = Number.isFinite(r.fid_step) ? `at step ${fmtInt(r.fid_step)}` : '';
    tr.dataset.updated = String(r.updated_unix ?? '');
    tr.dataset.state = r.state || '';
    tr.querySelector('.c-pick input').checked = selected.has(r.name);
  }

  function tick() {
    const now = Date.now() / 1000;
    for (const tr of rows.values()) {
      const u = Number(tr.dataset.updated);
      const c = cell(tr, 'c-updated');
      c.textContent = tr.dataset.updated === '' ? '–' : fmtAgo(u, now);
      c.title = Number.isFinite(u) && tr.dataset.updated !== '' ? new Date(u * 1000).toLocaleString() : '';
    }
  }

  function syncPick() {
    for (const n of [...selected]) if (!rows.has(n)) selected.delete(n);
    compareBtn.disabled = selected.size < 2;
    compareBtn.textContent = selected.size >= 2 ? `Compare ${selected.size} runs` : 'Compare';
    clearBtn.hidden = selected.size === 0;
  }

  function render() {
    const seen = new Set();
    runs.forEach((r, i) => {
      seen.add(r.name);
      let tr = rows.get(r.name);
      if (!tr) { tr = makeRow(r.name); rows.set(r.name, tr); }
      fill(tr, r);
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    });
    for (const [n, tr] of rows) if (!seen.has(n)) { tr.remove(); rows.delete(n); }
    tick();
    syncPick();
    dirEl.textContent = dir ? `in ${dir}` : '';
    countEl.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
    table.dataset.count = String(runs.length);
    empty.hidden = runs.length > 0;
    table.hidden = runs.length === 0;
    empty.replaceChildren(h('p', null, `No runs in ${dir || 'the runs folder'} yet.`),
      h('p', { class: 'muted' }, 'Start one (it appears here as it starts):'),
      h('pre', null, `gantry train --data fashion-mnist --model dcgan --res 28 --steps 5000 --out ${dir || 'runs'}/my-run`));
  }

  function apply(j) {
    if (closed || !j) return;
    if (Array.isArray(j.runs)) runs = j.runs;
    if (typeof j.dir === 'string') dir = j.dir;
    if (j.truncated) ctx.toast('More than 1000 runs: the newest 1000 are listed');
    render();
  }

  runsApi.list().then(apply).catch((e) => ctx.report(e));
  function open() {
    es = new EventSource(runsApi.listEventsUrl());
    ctx.setConn('connecting…');
    es.addEventListener('runs', (ev) => { try { apply(JSON.parse(ev.data)); } catch (e) { console.error('bad runs event', e); } });
    es.onopen = () => ctx.setConn('live', 'ok');
    es.onerror = () => {
      if (closed) return;
      ctx.setConn(es.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…', 'bad');
      if (es.readyState === EventSource.CLOSED) setTimeout(() => { if (!closed) open(); }, 2000);
    };
  }
  open();
  const timer = setInterval(tick, 1000);
  render();

  return {
    title: 'Runs',
    dispose() { closed = true; clearInterval(timer); if (es) es.close(); },
  };
}
