// http node against a local server (JSON into variables; 500, timeout and bad JSON to the error
// exit), and the flow-level fallback when a node fails without an error exit.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHttpAllowList } from '../../src/flow/httpAllowList.ts';
import type { FlowDefinition, HttpNode } from '../../src/flow/types.ts';
import { ScriptedTts, startFlow } from './helpers.ts';

let server: Server;
let base = '';
const requests: Array<{ method: string; url: string; body: string; auth: string | undefined }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', body, auth: req.headers.authorization });
      if (req.url?.startsWith('/balance')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ balance: 42.5, plan: { name: 'gold' } }));
      } else if (req.url === '/fail') {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
      } else if (req.url === '/slow') {
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 2000).unref();
      } else if (req.url === '/notjson') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>');
      } else if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(2 * 1024 * 1024));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

// The local test server is on loopback, which flows may reach only when it is listed.
const httpAllowList = parseHttpAllowList(['127.0.0.1']).list;

const httpFlow = (node: Partial<HttpNode>): FlowDefinition => ({
  id: 'lookup',
  start: 'fetch',
  nodes: {
    fetch: { type: 'http', url: `${base}/balance`, next: 'tell', onError: 'oops', ...node },
    tell: { type: 'say', text: 'Your balance is {{vars.balance}} on {{http.body.plan.name}}.', next: 'bye' },
    oops: { type: 'say', text: 'Lookup failed.', next: 'bye' },
    bye: { type: 'hangup' },
  },
});

describe('http node', () => {
  it('calls the URL with templated parts and assigns the JSON response into variables', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(
      httpFlow({
        url: `${base}/balance?caller={{call.from}}`,
        method: 'POST',
        headers: { Authorization: 'Bearer {{vars.token}}' },
        body: { caller: '{{call.from}}', tags: ['{{vars.token}}'] },
        assign: { balance: 'http.body.balance', tier: 'upper(http.body.plan.name)' },
      }),
      { deps: { tts, httpAllowList }, variables: { token: 't0k' } },
    );
    const result = await h.finish();
    expect(result.variables).toMatchObject({ balance: 42.5, tier: 'GOLD' });
    expect(tts.said).toEqual(['Your balance is 42.5 on gold.']);
    const req = requests.at(-1);
    expect(req).toMatchObject({ method: 'POST', url: '/balance?caller=+14155550100', auth: 'Bearer t0k' });
    expect(JSON.parse(req?.body ?? '')).toEqual({ caller: '+14155550100', tags: ['t0k'] });
    // The timeline keeps origin and path only (query strings may carry secrets).
    expect(h.flowEvents().find((e) => e.type === 'flow.http.request')?.data).toMatchObject({ url: `${base}/balance`, method: 'POST' });
    expect(h.flowEvents().find((e) => e.type === 'flow.http.response')?.data).toMatchObject({ status: 200, ok: true });
  });

  it.each([
    ['/fail', 'GW_ERR_FLOW_HTTP_STATUS', {}],
    ['/slow', 'GW_ERR_FLOW_HTTP_TIMEOUT', { timeoutMs: 200 }],
    ['/notjson', 'GW_ERR_FLOW_HTTP_BAD_JSON', {}],
    ['/big', 'GW_ERR_FLOW_HTTP_TOO_LARGE', {}],
  ])('takes the error exit on %s (%s)', async (pathname, code, extra) => {
    const tts = new ScriptedTts();
    const h = startFlow(httpFlow({ url: `${base}${pathname}`, ...extra }), { deps: { tts, httpAllowList } });
    await h.finish();
    expect(h.path()).toEqual(['fetch', 'oops', 'bye']);
    expect(h.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ node: 'fetch', code });
    expect(tts.said).toEqual(['Lookup failed.']);
  });

  it('takes the error exit when the server is unreachable', async () => {
    const h = startFlow(httpFlow({ url: 'http://127.0.0.1:1/x' }), { deps: { tts: new ScriptedTts(), httpAllowList } });
    await h.finish();
    expect(h.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ code: 'GW_ERR_FLOW_HTTP_FAILED' });
  });
});

describe('errors and the flow fallback', () => {
  it('a missing template variable takes the node error exit', async () => {
    const tts = new ScriptedTts();
    const flow: FlowDefinition = {
      id: 'e',
      start: 'a',
      nodes: { a: { type: 'say', text: 'Hi {{contact.firstName}}', next: 'z', onError: 'b' }, b: { type: 'say', text: 'Hi there', next: 'z' }, z: { type: 'hangup' } },
    };
    const h = startFlow(flow, { deps: { tts } });
    await h.finish();
    expect(tts.said).toEqual(['Hi there']);
    expect(h.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ node: 'a', code: 'GW_ERR_FLOW_MISSING_VARIABLE' });
  });

  it('without an error exit, apologises and transfers as the flow fallback says', async () => {
    const tts = new ScriptedTts();
    const flow: FlowDefinition = {
      id: 'e',
      start: 'a',
      fallback: { text: 'Sorry {{contact.firstName ?? "friend"}}, transferring you.', transferTo: '+14155550177' },
      nodes: { a: { type: 'http', url: `${base}/fail`, next: 'z', onError: 'z' }, z: { type: 'say', text: '{{vars.nope}}', next: 'end' }, end: { type: 'hangup' } },
    };
    const h = startFlow(flow, { deps: { tts } });
    const result = await h.finish();
    expect(result.outcome).toBe('transferred');
    expect(tts.said).toEqual(['Sorry friend, transferring you.']);
    expect(h.carrier.transfers.map((t) => t.number)).toEqual(['+14155550177']);
    expect(h.flowEvents().find((e) => e.type === 'flow.fallback')?.data).toMatchObject({ node: 'z', code: 'GW_ERR_FLOW_MISSING_VARIABLE' });
  });

  it('when even the apology fails (TTS down), still hangs up: the call never hangs silent', async () => {
    const tts = new ScriptedTts();
    tts.failWith = new Error('TTS provider down');
    const flow: FlowDefinition = { id: 'e', start: 'a', nodes: { a: { type: 'say', text: 'Hello', next: 'b' }, b: { type: 'hangup' } } };
    const h = startFlow(flow, { deps: { tts } });
    const result = await h.finish();
    expect(result.outcome).toBe('failed');
    expect(result.reason).toBe('GW_ERR_FLOW_TTS_FAILED');
    expect(h.carrier.hangups).toBe(1);
    expect(h.tc.session.ended).toBe(true);
    const errors = h.flowEvents().filter((e) => e.type === 'flow.error').map((e) => e.data?.code);
    expect(errors).toEqual(['GW_ERR_FLOW_TTS_FAILED', 'GW_ERR_FLOW_TTS_FAILED']);
  });

  it('survives an unvalidated definition: unknown node types and dangling exits end in the fallback', async () => {
    const bad = { id: 'raw', start: 'a', nodes: { a: { type: 'teleport' } } } as unknown as FlowDefinition;
    const h = startFlow(bad, {});
    const result = await h.finish();
    expect(result).toMatchObject({ outcome: 'failed', reason: 'GW_ERR_FLOW_UNKNOWN_NODE_TYPE' });
    expect(h.carrier.hangups).toBe(1);
    const dangling = { id: 'raw', start: 'a', nodes: { a: { type: 'set', values: { x: { expr: 'vars.nothing' } }, next: 'gone' } } } as unknown as FlowDefinition;
    const h2 = startFlow(dangling, {});
    expect(await h2.finish()).toMatchObject({ outcome: 'failed', reason: 'GW_ERR_FLOW_UNKNOWN_NODE', variables: { x: null } });
  });

  it('stops a flow that loops without waiting for anything', async () => {
    const flow: FlowDefinition = {
      id: 'loop',
      start: 'a',
      nodes: { a: { type: 'set', values: { n: { expr: '(vars.n ?? 0) + 1' } }, next: 'b' }, b: { type: 'branch', conditions: [], default: 'a' } },
    };
    const h = startFlow(flow, { deps: { maxSteps: 50 } });
    const result = await h.finish();
    expect(result.outcome).toBe('failed');
    expect(result.reason).toBe('GW_ERR_FLOW_LOOP');
    // 50 visits in a row that did not wait (the first may overlap the harness's first frame).
    expect(result.steps).toBeGreaterThanOrEqual(50);
    expect(result.steps).toBeLessThanOrEqual(51);
  });

  it('lets a long flow run as long as it waits for something on every round', async () => {
    const flow: FlowDefinition = {
      id: 'rounds',
      start: 'say',
      nodes: {
        say: { type: 'say', text: 'Tick.', next: 'count' },
        count: { type: 'set', values: { n: { expr: '(vars.n ?? 0) + 1' } }, next: 'check' },
        check: { type: 'branch', conditions: [{ when: 'vars.n >= 30', next: 'end' }], default: 'say' },
        end: { type: 'hangup' },
      },
    };
    const h = startFlow(flow, { deps: { tts: new ScriptedTts(), maxSteps: 10 } });
    const result = await h.finish();
    expect(result).toMatchObject({ outcome: 'hangup', steps: 91, variables: { n: 30 } });
  });

  it('takes the same path at the same media times on every run (deterministic on the media clock)', async () => {
    const flow: FlowDefinition = {
      id: 'det',
      start: 'ask',
      nodes: {
        ask: { type: 'gather', prompt: { text: 'Press one.' }, retries: 1, noInputTimeoutMs: 1500, next: 'bye', noInput: 'bye' },
        bye: { type: 'hangup' },
      },
    };
    const timeline = async (): Promise<string[]> => {
      const h = startFlow(flow, { deps: { tts: new ScriptedTts() } });
      await h.finish();
      return h.tc.events.filter((e) => e.type.startsWith('flow.') || e.type.startsWith('playout.')).map((e) => `${e.atMs} ${e.type}`);
    };
    const first = await timeline();
    expect(first.length).toBeGreaterThan(6);
    expect(await timeline()).toEqual(first);
  });
});
