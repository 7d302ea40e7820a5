// Issue 16 Low item: lists and caches are bounded. List endpoints page (limit ≤ 500 and an `after`
// cursor), a call's timeline pages by sequence, and the built-in flow cache does not remember misses
// (any id asked for used to add an entry forever).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlowResolver } from '../../src/flow/resolve.ts';
import { testDatabases } from '../helpers/db.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

describe.each(testDatabases())('paged list endpoints on %s', (kind) => {
  let gw: TestGateway;
  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    gw.app.inject({ method, url, headers: { authorization: `Bearer ${gw.apiKey}` }, ...(payload === undefined ? {} : { payload }) });

  beforeAll(async () => {
    gw = await startTestGateway(kind);
    for (const id of ['f1', 'f2', 'f3']) {
      const res = await call('POST', '/v1/flows', { id, start: 'bye', nodes: { bye: { type: 'hangup' } } });
      expect(res.statusCode, res.body).toBe(201);
    }
    for (const reason of ['a', 'b']) expect((await call('POST', '/v1/flows', { id: 'f1', start: 'bye', nodes: { bye: { type: 'hangup', reason } } })).statusCode).toBe(201);
    for (const n of ['+14155550101', '+14155550102', '+14155550103']) expect((await call('PUT', `/v1/numbers/${encodeURIComponent(n)}`, { flowId: 'f1' })).statusCode).toBeLessThan(300);
    for (const d of ['d1', 'd2', 'd3']) expect((await call('PUT', `/v1/departments/${d}`, { numbers: ['+14155550111'], timeZone: 'UTC' })).statusCode).toBeLessThan(300);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it.each([
    ['/v1/flows', 'flows', (x: { id: string }) => x.id, ['f1', 'f2', 'f3']],
    ['/v1/numbers', 'numbers', (x: { e164: string }) => x.e164, ['+14155550101', '+14155550102', '+14155550103']],
    ['/v1/departments', 'departments', (x: { name: string }) => x.name, ['d1', 'd2', 'd3']],
    ['/v1/flows/f1/versions', 'versions', (x: { version: number }) => String(x.version), ['1', '2', '3']],
  ] as const)('%s pages with limit and after', async (url, field, key, all) => {
    const first = (await call('GET', `${url}?limit=2`)).json();
    expect(first[field].map(key)).toEqual(all.slice(0, 2));
    expect(first.next).toBe(all[1]);
    const second = (await call('GET', `${url}?limit=2&after=${encodeURIComponent(first.next)}`)).json();
    expect(second[field].map(key)).toEqual(all.slice(2));
    expect(second.next).toBeNull();
    expect((await call('GET', `${url}?limit=501`)).statusCode).toBe(400);
  });

  it('pages a call timeline by sequence', async () => {
    const { call: record } = await gw.calls.create({ carrier: 'twilio', carrierCallId: 'CA00000000000000000000000000000077', direction: 'inbound', fromNumber: '+14155550100', toNumber: '+14155550199', status: 'ringing' });
    for (let i = 0; i < 5; i++) gw.eventLog.append(record.id, { type: 'dtmf', atMs: i * 100, digit: String(i), source: 'carrier' });
    await gw.eventLog.flush();
    const first = (await call('GET', `/v1/calls/${record.id}?eventsLimit=2`)).json();
    expect(first.events.map((e: { digit: string }) => e.digit)).toEqual(['0', '1']);
    expect(first.nextEventsAfter).toBe(2);
    const rest = (await call('GET', `/v1/calls/${record.id}?eventsLimit=10&eventsAfter=2`)).json();
    expect(rest.events.map((e: { digit: string }) => e.digit)).toEqual(['2', '3', '4']);
    expect(rest.nextEventsAfter).toBeNull();
    expect((await call('GET', `/v1/calls/${record.id}?eventsLimit=5000`)).statusCode).toBe(400);
  });
});

describe('built-in flow cache', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gw-builtins-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('does not remember ids that were not found', async () => {
    const resolver = createFlowResolver({ defaultFlowId: 'default', builtinDir: dir });
    for (let i = 0; i < 100; i++) expect(await resolver.load(`missing-${i}`)).toBeUndefined();
    expect(await resolver.load('later')).toBeUndefined();
    const shipped = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../flows/default.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(dir, 'later.json'), JSON.stringify({ ...shipped, id: 'later' }));
    expect((await resolver.load('later'))?.flow.id).toBe('later');
  });
});
