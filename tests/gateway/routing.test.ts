// A re-routed number takes effect on the next call (issue 9, finding 3): on this instance at once, on
// another instance sharing the database within a second (LISTEN/NOTIFY); and while the database does
// not answer, the last known route is still served (when the call's stream starts: the voice webhook
// does not wait for it).
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type CallStarter } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { composeGateway } from '../../src/composition.ts';
import { openDatabase } from '../../src/store/db.ts';
import { parseTwiml } from '../../src/telephony/twiml.ts';
import type { FastifyInstance } from 'fastify';
import { PUBLIC_URL, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { testDatabases } from '../helpers/db.ts';

const NUMBER = '+14155550142';
const flow = (id: string) => ({ id, start: 'hi', nodes: { hi: { type: 'say', text: `This is ${id}.`, next: 'bye' }, bye: { type: 'hangup', reason: 'done' } } });

let sid = 0;
/**
 * The flow the next call to NUMBER runs: the one its webhook's TwiML names, or — when the webhook
 * answered before the route was read (VOICE_WEBHOOK_DB_WAIT_MS, a loaded machine) — the one its
 * stream's start resolves.
 */
async function flowIdOfNextCall(app: FastifyInstance, program: Pick<CallStarter, 'resolveFlowId'>): Promise<string | undefined> {
  const res = await app.inject({
    method: 'POST',
    url: '/voice/twilio',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ CallSid: `CA${String(++sid).padStart(32, '0')}`, From: '+14155550100', To: NUMBER }).toString(),
  });
  const named = parseTwiml(res.body).stream?.parameters.flowId;
  return named === '' ? await program.resolveFlowId(NUMBER) : named;
}

describe.each(testDatabases())('number routing on %s', (kind) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(kind);
    for (const id of ['route-a', 'route-b']) expect((await gw.api('/v1/flows', { body: flow(id) })).status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('the next call after PUT /v1/numbers runs the new flow', async () => {
    expect((await gw.api(`/v1/numbers/${NUMBER}`, { method: 'PUT', body: { flowId: 'route-a' } })).status).toBe(200);
    expect(await flowIdOfNextCall(gw.app, gw.runtime.appDeps.program)).toBe('route-a');
    expect(await flowIdOfNextCall(gw.app, gw.runtime.appDeps.program)).toBe('route-a'); // now cached
    expect((await gw.api(`/v1/numbers/${NUMBER}`, { method: 'PUT', body: { flowId: 'route-b' } })).status).toBe(200);
    expect(await flowIdOfNextCall(gw.app, gw.runtime.appDeps.program)).toBe('route-b');
    expect((await gw.api(`/v1/numbers/${NUMBER}`, { method: 'DELETE' })).status).toBe(204);
    expect(await flowIdOfNextCall(gw.app, gw.runtime.appDeps.program)).toBe('');
  });

  it('serves the last known route while the database does not answer, even after an invalidation', async () => {
    expect((await gw.api(`/v1/numbers/${NUMBER}`, { method: 'PUT', body: { flowId: 'route-a' } })).status).toBe(200);
    expect(await flowIdOfNextCall(gw.app, gw.runtime.appDeps.program)).toBe('route-a');
    // Written again: the cached route is invalidated, so the next call must ask the database first.
    expect((await gw.api(`/v1/numbers/${NUMBER}`, { method: 'PUT', body: { flowId: 'route-a' } })).status).toBe(200);
    const pool = gw.tdb.db.pool;
    const query = pool.query.bind(pool);
    // Stalled: no query answers until the stall ends, when they fail (as on a connection cut) and the
    // gateway's writes retry on the restored pool — otherwise they would hang until close()'s budgets.
    const held: Array<(err: Error) => void> = [];
    (pool as unknown as { query: unknown }).query = () => new Promise((_, reject) => held.push(reject));
    try {
      const started = performance.now();
      const res = await gw.app.inject({
        method: 'POST',
        url: '/voice/twilio',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ CallSid: 'CA7'.padEnd(34, '0'), From: '+14155550100', To: NUMBER }).toString(),
      });
      // The webhook answers at once, without waiting for the route (the caller would hear ringing)…
      expect(performance.now() - started).toBeLessThan(1000);
      expect(parseTwiml(res.body).stream?.parameters.flowId).toBe('');
      // …and the stream's start resolves the number: the last known route, the database still silent.
      expect(await gw.runtime.appDeps.program.resolveFlowId(NUMBER)).toBe('route-a');
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      (pool as unknown as { query: unknown }).query = query;
      for (const reject of held) reject(new Error('connection terminated (test stall over)'));
    }
  });

  if (kind === 'postgres') {
    it('reaches a second instance on the same database within a second', async () => {
      const db = await openDatabase({ databaseUrl: gw.tdb.databaseUrl, dataDir: gw.tdb.dataDir, log: gw.tdb.log });
      const config = loadConfig({ PORT: '0', PUBLIC_URL, DATA_DIR: gw.tdb.dataDir, LOG_LEVEL: 'silent' }, path.resolve(import.meta.dirname, '../..'));
      const runtime = await composeGateway(config, pino({ level: 'silent' }), { db, apiKey: 'k'.repeat(32) });
      const second = await buildApp({ ...runtime.appDeps, logger: false });
      try {
        await db.changes.ready();
        expect((await gw.api(`/v1/numbers/${NUMBER}`, { method: 'PUT', body: { flowId: 'route-a' } })).status).toBe(200);
        expect(await flowIdOfNextCall(second, runtime.appDeps.program)).toBe('route-a');
        expect((await gw.api(`/v1/numbers/${NUMBER}`, { method: 'PUT', body: { flowId: 'route-b' } })).status).toBe(200);
        const written = performance.now();
        let seen: string | undefined;
        while ((seen = await flowIdOfNextCall(second, runtime.appDeps.program)) !== 'route-b' && performance.now() - written < 1000) await new Promise((r) => setTimeout(r, 20));
        expect(seen).toBe('route-b');
        expect(performance.now() - written).toBeLessThan(1000);
      } finally {
        await second.close();
        await runtime.close();
        await db.close();
      }
    }, 30_000);
  }
});
