// The dashboard's only way to the server: the /v1 API with the session cookie, and the session's CSRF
// token on every change. Errors carry the API's code, message and body (flow validation errors).
let csrfToken = null;

export function setCsrfToken(token) {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `request failed (${status})`);
    this.status = status;
    this.code = body?.code;
    this.body = body;
  }
}

/** True when the endpoint does not exist on this gateway (an API not deployed yet). */
export const isMissing = (err) => err instanceof ApiError && err.status === 404 && (err.code === undefined || err.code === 'FST_ERR_NOT_FOUND' || /^Route /.test(err.message));

export async function api(path, { method = 'GET', body, raw, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) init.headers['x-csrf-token'] = csrfToken;
  if (raw !== undefined) init.body = raw;
  else if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/v1${path}`, init);
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/auth/')) window.dispatchEvent(new CustomEvent('gw:signed-out'));
    throw new ApiError(res.status, typeof data === 'object' ? data : { message: data });
  }
  return data;
}

export const qs = (params) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
};
