// A stalled database must not keep a new call from being answered, greeted and run: the webhook answers
// at once (the caller hears ringing while it waits: it waited 1.0-2.1 s before, on the rate limit's
// shared count, the called number's flow and the record's insert), the record is written when the
// database returns, and everything written about the call afterwards (stream, answer, end) lands in
// order behind it. A webhook the carrier retries gets the same call; the rate limit holds in memory.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { composeGateway, type Composition } from '../../src/composition.ts';
import { startPostgresCluster, type PostgresCluster } from '../faults/helpers/postgresCluster.ts';
import { PUBLIC_URL, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { replayYes, voiceWebhook } from '../helpers/carrierStream.ts';

/**
 * A voice webhook's answer during the stall, in wall time. It waits VOICE_WEBHOOK_DB_WAIT_MS and the
 * rate limit's 20 ms for the database (about 80 ms measured); the rest is slack for a machine loaded
 * with other test files (486 ms seen in a full run at load average 20). The old code waited 1 s for
 * the record alone, and 0.8 s more for a number not looked up before.
 */
const ANSWER_BOUND_MS = 900;

describe('a call arriving while the database is stalled', () => {
  let gw: TestGateway;
  let release: () => void = () => undefined;
  beforeAll(async () => {
    gw = await startTestGateway('pglite', { env: { WEBHOOK_RATE_LIMIT_PER_MINUTE: '6' } });
  });
  afterAll(async () => {
    release();
    await gw?.close();
  });

  it('is answered, greeted and hung up; its record and timeline are written once the database returns', async () => {
    // Fault injection at the database boundary: every query waits until the gate opens.
    const pool = gw.tdb.db.pool;
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    const gate = new Promise<void>((r) => (release = r));
    let stalled = true;
    (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
      if (stalled) await gate;
      return query(...args);
    };

    // Webhooks for new calls, each to a number never looked up (its flow not in the read cache).
    const answers: Array<{ ms: number; status: number; callId: string | undefined }> = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const { status, params } = await voiceWebhook(gw, `CA3000000000000000000000000000000${i}`, `+1415555031${i}`);
      answers.push({ ms: performance.now() - t0, status, callId: params.callId });
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    console.log(`[stall] voice webhook answers during the stall: ${answers.map((a) => Math.round(a.ms)).join(', ')} ms`);
    for (const a of answers) expect(a.ms).toBeLessThan(ANSWER_BOUND_MS);
    // The carrier retries the first: the same call, not a second one.
    const retried = await voiceWebhook(gw, 'CA30000000000000000000000000000000', '+14155550310');
    expect(retried.params.callId).toBe(answers[0]?.callId);

    const started = performance.now();
    const result = await replayYes(gw);
    // The default flow spoke its greeting and hung up, all while no query could complete.
    expect(result.endReason).toBe('gateway-closed');
    expect(result.receivedAudioMs).toBeGreaterThan(2000);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(gw.eventLog.stats().written).toBe(0);
    // The webhook limit (6 a minute here) holds in memory while the database cannot count: five used
    // (three calls, a retry, the replayed call), one more is let through, the next refused — at once.
    expect((await voiceWebhook(gw, 'CA30000000000000000000000000000005')).status).toBe(200);
    const t0 = performance.now();
    expect((await voiceWebhook(gw, 'CA30000000000000000000000000000006')).status).toBe(429);
    expect(performance.now() - t0).toBeLessThan(ANSWER_BOUND_MS);

    stalled = false;
    release();
    await gw.app.gateway.settle();
    await gw.eventLog.flush();
    const { status, body } = await gw.api(`/v1/calls/${result.callId}`);
    expect(status).toBe(200);
    expect(body.call).toMatchObject({ carrierCallId: result.carrierCallId, streamId: result.streamId, status: 'completed', endReason: 'default_flow_done' });
    expect(body.call.answeredAt).not.toBeNull();
    const types = (body.events as Array<{ type: string }>).map((e) => e.type);
    expect(types[0]).toBe('call.started');
    expect(types).toContain('call.ended');
    // The webhooks answered during the stall have their records too, once each.
    for (const a of answers) expect((await gw.calls.get(a.callId ?? ''))?.status).toBe('ringing');
    const { rows } = await gw.tdb.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM calls WHERE carrier_call_id LIKE 'CA3%'");
    expect(rows[0]?.n).toBe(4);
  }, 60_000);
});

describe('voice webhooks while PostgreSQL is frozen (SIGSTOP)', () => {
  let cluster: PostgresCluster;
  let dataDir: string;
  let runtime: Composition;
  let app: FastifyInstance;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-frozen-pg-'));
    const config = loadConfig({ PORT: '0', PUBLIC_URL, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: cluster.url }, path.resolve(import.meta.dirname, '../..'));
    runtime = await composeGateway(config, pino({ level: 'silent' }), { apiKey: 'k'.repeat(32) });
    app = await buildApp({ ...runtime.appDeps, logger: false });
    await runtime.warmedUp;
  }, 120_000);
  afterAll(async () => {
    cluster?.thaw();
    await app?.close();
    await runtime?.close();
    await cluster?.destroy();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers each at once (1.0-2.1 s before) and writes every record once the server runs again', async () => {
    const webhook = async (sid: string, to: string): Promise<{ ms: number; status: number }> => {
      const t0 = performance.now();
      const res = await app.inject({ method: 'POST', url: '/voice/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ CallSid: sid, From: '+14155550100', To: to }).toString() });
      return { ms: performance.now() - t0, status: res.statusCode };
    };
    expect((await webhook('CA40000000000000000000000000000000', '+14155550199')).status).toBe(200);
    cluster.freeze();
    const answers: Array<{ ms: number; status: number }> = [];
    // A number looked up before, and numbers never looked up.
    for (let i = 1; i <= 4; i++) answers.push(await webhook(`CA4000000000000000000000000000000${i}`, i % 2 === 0 ? '+14155550199' : `+1415555041${i}`));
    cluster.thaw();
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    console.log(`[stall] voice webhook answers during the stall: ${answers.map((a) => Math.round(a.ms)).join(', ')} ms`);
    for (const a of answers) expect(a.ms).toBeLessThan(ANSWER_BOUND_MS);
    let written = 0;
    for (let i = 0; i < 100 && written < 5; i++) {
      written = (await cluster.query<{ n: number }>("SELECT count(*)::int AS n FROM calls WHERE carrier_call_id LIKE 'CA4%'"))[0]?.n ?? 0;
      if (written < 5) await new Promise((r) => setTimeout(r, 100));
    }
    expect(written).toBe(5);
  }, 60_000);
});
