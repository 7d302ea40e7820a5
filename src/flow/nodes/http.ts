// `http`: call an external URL, put the response in `http` ({ status, ok, body }) and copy parts of
// it into vars with `assign` expressions. Non-2xx answers, timeouts, network errors, oversized or
// unparsable bodies take the node's onError exit. The timeout is wall-clock on purpose: it bounds a
// network request, which runs in real time whatever the speed of the media (a replay at 20× still
// waits for a real server).
import { createError, isAbortError } from '../../errors.ts';
import { exit, type NodeResult, type RunContext } from '../context.ts';
import { evaluate } from '../expression.ts';
import { EMPTY_HTTP_ALLOW_LIST, guardedFetch, urlRefusal } from '../httpAllowList.ts';
import type { HttpNode } from '../types.ts';

export const HTTP_DEFAULT_TIMEOUT_MS = 5000;
/** Responses are for a few variables, not documents: 1 MiB is plenty and bounds memory per call. */
export const HTTP_MAX_BODY_BYTES = 1 << 20;

export async function runHttp(ctx: RunContext, node: HttpNode): Promise<NodeResult> {
  const url = ctx.render(node.url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw createError('GW_ERR_FLOW_HTTP_BAD_URL', 'the http node URL is not a valid URL', { details: { url } });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw createError('GW_ERR_FLOW_HTTP_BAD_URL', 'the http node URL must use http or https', { details: { url } });
  }
  // Checked here whatever fetch is used; the default one also checks the connected address and redirects.
  const allowList = ctx.deps.httpAllowList ?? EMPTY_HTTP_ALLOW_LIST;
  const refusal = urlRefusal(allowList, parsed);
  if (refusal !== undefined) {
    ctx.emit('flow.http.refused', { node: ctx.nodeId, url: redactUrl(parsed), reason: refusal });
    throw createError('GW_ERR_FLOW_HTTP_NOT_ALLOWED', `the http request is not allowed: ${refusal}`);
  }
  const method = node.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [k, v] of Object.entries(node.headers ?? {})) headers[k.toLowerCase()] = ctx.render(v);
  let body: string | undefined;
  if (node.body !== undefined && method !== 'GET') {
    body = JSON.stringify(ctx.renderDeep(node.body));
    headers['content-type'] ??= 'application/json';
  }
  const timeoutMs = node.timeoutMs ?? HTTP_DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timeout]);
  const doFetch: (url: URL, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal; redirect: 'follow' }) => Promise<Response> =
    ctx.deps.fetch ?? guardedFetch(allowList);
  const started = performance.now();
  ctx.emit('flow.http.request', { node: ctx.nodeId, method, url: redactUrl(parsed) });

  let status: number;
  let text: string;
  let contentType: string;
  try {
    const res = await doFetch(parsed, { method, headers, ...(body !== undefined ? { body } : {}), signal, redirect: 'follow' });
    status = res.status;
    contentType = res.headers.get('content-type') ?? '';
    text = await readLimited(res, HTTP_MAX_BODY_BYTES);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (timeout.aborted || isAbortError(err) || (err as Error).name === 'TimeoutError') {
      throw createError('GW_ERR_FLOW_HTTP_TIMEOUT', `the http request did not answer within ${timeoutMs} ms`, { retryable: true, cause: err });
    }
    const code = (err as { code?: string }).code;
    if (code === 'GW_ERR_FLOW_HTTP_TOO_LARGE' || code === 'GW_ERR_FLOW_HTTP_NOT_ALLOWED') throw err;
    throw createError('GW_ERR_FLOW_HTTP_FAILED', `the http request failed: ${(err as Error).message}`, { retryable: true, cause: err });
  }
  const durationMs = Math.round(performance.now() - started);
  let data: unknown = text;
  if (/\bjson\b/i.test(contentType) && text !== '') {
    try {
      data = JSON.parse(text);
    } catch (cause) {
      ctx.emit('flow.http.response', { node: ctx.nodeId, status, durationMs, ok: false });
      throw createError('GW_ERR_FLOW_HTTP_BAD_JSON', 'the http response says it is JSON but does not parse', { cause });
    }
  }
  const ok = status >= 200 && status < 300;
  ctx.emit('flow.http.response', { node: ctx.nodeId, status, durationMs, ok });
  ctx.setRoot('http', { status, ok, body: data });
  if (!ok) {
    throw createError('GW_ERR_FLOW_HTTP_STATUS', `the http request answered ${status}`, { retryable: status >= 500 || status === 429 || status === 408, details: { status } });
  }
  for (const [name, expr] of Object.entries(node.assign ?? {})) {
    ctx.setVar(name, evaluate(ctx.templates.expression(expr), ctx.scope) ?? null);
  }
  return exit('next', node.next);
}

async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw createError('GW_ERR_FLOW_HTTP_TOO_LARGE', `the http response is larger than ${maxBytes} bytes`);
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw createError('GW_ERR_FLOW_HTTP_TOO_LARGE', `the http response is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Query strings often carry tokens: the timeline keeps only origin and path. */
function redactUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
