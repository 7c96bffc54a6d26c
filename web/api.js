// gantry lab: the HTTP API of docs/LAB.md, as the page uses it.

export class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

async function request(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(`cannot reach the gantry process (${e.message})`, 0);
  }
  let json = null;
  if (r.status !== 204) {
    const text = await r.text();
    if (text) { try { json = JSON.parse(text); } catch { json = null; } }
  }
  if (!r.ok) throw new ApiError((json && json.error) || `${method} ${path}: HTTP ${r.status}`, r.status);
  return json;
}

export const api = {
  options: () => request('GET', '/api/options'),
  create: (config) => request('POST', '/api/sessions', config || {}),
  get: (id) => request('GET', `/api/sessions/${id}`),
  remove: (id) => fetch(`/api/sessions/${id}`, { method: 'DELETE', keepalive: true }).catch(() => {}),
  configure: (id, partial) => request('POST', `/api/sessions/${id}/config`, partial),
  control: (id, body) => request('POST', `/api/sessions/${id}/control`, body),
  frame: (id) => request('GET', `/api/sessions/${id}/frame`),
  history: (id, max = 2000) => request('GET', `/api/sessions/${id}/history?max=${max}`),
  trace: (id) => request('POST', `/api/sessions/${id}/trace`),
  exportUrl: (id) => `/api/sessions/${id}/export`,
  eventsUrl: (id, fps = 30) => `/api/sessions/${id}/events?fps=${fps}`,
};
