// Issue 9 finding 6: a flow's http node reaches only hosts on the configured allow-list; private,
// loopback, link-local and metadata addresses are refused unless listed, on the address actually
// connected to (a listed name that resolves to 127.0.0.1 is refused), and every redirect is re-checked.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { guardedFetch, parseHttpAllowList, urlRefusal } from '../../src/flow/httpAllowList.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { validateFlow } from '../../src/flow/validate.ts';
import { ScriptedTts, startFlow } from '../flow/helpers.ts';

let server: Server;
let port = 0;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/to-metadata') res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    else if (req.url === '/to-self') res.writeHead(302, { location: '/ok' }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const list = (...entries: string[]) => {
  const parsed = parseHttpAllowList(entries);
  expect(parsed.problems).toEqual([]);
  return parsed.list;
};

describe('the allow-list', () => {
  it('refuses hosts not listed, and private, loopback, link-local and metadata addresses unless listed', () => {
    const any = list('*');
    expect(urlRefusal(any, new URL('https://api.example.com/x'))).toBeUndefined();
    for (const u of ['http://127.0.0.1/', 'http://10.1.2.3/', 'http://192.168.0.1/', 'http://169.254.169.254/latest', 'http://[::1]/', 'http://[fd00:ec2::254]/', 'http://[::ffff:127.0.0.1]/', 'http://0.0.0.0/', 'http://100.100.100.200/']) {
      expect(urlRefusal(any, new URL(u)), u).toMatch(/not allowed/);
    }
    const named = list('api.example.com', '*.crm.example.com', '10.1.0.0/16');
    expect(urlRefusal(named, new URL('https://api.example.com/'))).toBeUndefined();
    expect(urlRefusal(named, new URL('https://eu.crm.example.com/'))).toBeUndefined();
    expect(urlRefusal(named, new URL('https://crm.example.com.evil.test/'))).toMatch(/not allowed/);
    expect(urlRefusal(named, new URL('https://other.example.com/'))).toMatch(/not allowed/);
    expect(urlRefusal(named, new URL('http://10.1.2.3/'))).toBeUndefined();
    expect(urlRefusal(named, new URL('http://10.2.0.1/'))).toMatch(/not allowed/);
    expect(urlRefusal(list(), new URL('https://api.example.com/'))).toMatch(/FLOW_HTTP_ALLOW_HOSTS/);
    expect(urlRefusal(any, new URL('ftp://api.example.com/'))).toMatch(/http/);
  });

  it('is configured by FLOW_HTTP_ALLOW_HOSTS, with bad entries named', () => {
    expect(loadConfig({ FLOW_HTTP_ALLOW_HOSTS: 'api.example.com, 10.0.0.0/8' }).flowHttpAllowHosts).toEqual(['api.example.com', '10.0.0.0/8']);
    expect(() => loadConfig({ FLOW_HTTP_ALLOW_HOSTS: 'http://x.test/, 10.0.0.0/99' })).toThrow(/FLOW_HTTP_ALLOW_HOSTS.*http:\/\/x\.test\/.*10\.0\.0\.0\/99/s);
  });
});

describe('guardedFetch', () => {
  it('refuses a listed name that resolves to a loopback address (checked on the connected address)', async () => {
    hits.length = 0;
    const f = guardedFetch(list('localhost'));
    await expect(f(new URL(`http://localhost:${port}/ok`))).rejects.toMatchObject({ code: 'GW_ERR_FLOW_HTTP_NOT_ALLOWED' });
    expect(hits).toEqual([]);
  });

  it('reaches a listed private address and follows a redirect that stays allowed', async () => {
    const f = guardedFetch(list('127.0.0.1'));
    const res = await f(new URL(`http://127.0.0.1:${port}/to-self`));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('re-checks redirects: a hop to the metadata address is refused', async () => {
    const f = guardedFetch(list('127.0.0.1'));
    await expect(f(new URL(`http://127.0.0.1:${port}/to-metadata`))).rejects.toMatchObject({ code: 'GW_ERR_FLOW_HTTP_NOT_ALLOWED' });
  });
});

describe('the http node', () => {
  const flow = (url: string): FlowDefinition => ({
    id: 'ssrf',
    start: 'fetch',
    nodes: {
      fetch: { type: 'http', url, next: 'bye', onError: 'oops' },
      oops: { type: 'say', text: 'Lookup failed.', next: 'bye' },
      bye: { type: 'hangup' },
    },
  });

  it('takes onError for a target off the list, without sending the request', async () => {
    hits.length = 0;
    const h = startFlow(flow(`http://127.0.0.1:${port}/ok`), { deps: { tts: new ScriptedTts() } });
    await h.finish();
    expect(h.path()).toEqual(['fetch', 'oops', 'bye']);
    expect(h.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ code: 'GW_ERR_FLOW_HTTP_NOT_ALLOWED' });
    expect(hits).toEqual([]);
  });

  it('checks the list even when a fetch is injected', async () => {
    let called = 0;
    const fetchSpy = (async () => {
      called++;
      return new Response('{}');
    }) as typeof fetch;
    const h = startFlow(flow('http://169.254.169.254/latest/meta-data/'), { deps: { tts: new ScriptedTts(), fetch: fetchSpy, httpAllowList: list('*') } });
    await h.finish();
    expect(called).toBe(0);
    expect(h.path()).toEqual(['fetch', 'oops', 'bye']);
  });
});

describe('flow validation', () => {
  const flow = (url: string) => ({ id: 'v', start: 'a', nodes: { a: { type: 'http', url, next: 'z', onError: 'z' }, z: { type: 'hangup' } } });

  it('warns when an http node targets a host the allow-list refuses (the flow is still accepted)', () => {
    const refused = validateFlow(flow('https://api.example.com/x'), { httpAllowList: list('other.example.com') });
    expect(refused.ok).toBe(true);
    expect(refused.warnings).toContainEqual({ path: 'nodes.a.url', message: expect.stringMatching(/FLOW_HTTP_ALLOW_HOSTS.*onError/) });
    expect(validateFlow(flow('https://api.example.com/x'), { httpAllowList: list('api.example.com') }).warnings).toEqual([]);
    const templated = validateFlow(flow('https://{{vars.host}}/x'), { httpAllowList: list() });
    expect(templated.warnings.map((w) => w.path)).toEqual(['nodes.a.url']);
  });
});
