// The carrier's webhook for an outbound call we placed is answered from memory, not after a database
// read: with every query stalled it still answers at once (within the webhook rate limit's own
// 250 ms wait for its shared count, rateLimitStore.ts) with the stream (and the call's flow and AMD
// choice), and the carrier's call id it brings is written once the database is back. With two
// instances on one PostgreSQL, the call placed by one is announced on the change feed, so the webhook
// landing on the other is answered from memory as well.
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { composeGateway } from '../../src/composition.ts';
import { postVoiceWebhook } from '../../src/replay/webhook.ts';
import { PLACED_CALLS_CHANNEL, PlacedCalls } from '../../src/store/placedCalls.ts';
import type { CallRecord } from '../../src/store/calls.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { testDatabases } from '../helpers/db.ts';

const gateways: TestGateway[] = [];
const releases: Array<() => void> = [];
afterEach(async () => {
  for (const r of releases.splice(0)) r();
  for (const g of gateways.splice(0)) await g.close();
});

/** Every query of `gw` waits until the returned function is called. */
function stall(gw: TestGateway): () => void {
  const pool = gw.tdb.db.pool;
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let stalled = true;
  (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
    if (stalled) await gate;
    return query(...args);
  };
  const open = (): void => {
    stalled = false;
    release();
  };
  releases.push(open);
  return open;
}

async function placeRecord(calls: TestGateway['calls']): Promise<CallRecord> {
  const { call } = await calls.create({
    carrier: 'twilio',
    direction: 'outbound',
    fromNumber: '+15005550006',
    toNumber: '+15005550001',
    status: 'queued',
    flowId: 'outbound-reminder',
    metadata: { variables: { name: 'Ada' }, amd: false },
  });
  return call;
}

async function answerDuringStall(gw: TestGateway, call: CallRecord): Promise<{ ms: number; parameters: Record<string, string> }> {
  const callSid = `CA${'0'.repeat(22)}${call.id.slice(0, 8)}`;
  const t0 = performance.now();
  const answer = await postVoiceWebhook({
    carrier: 'twilio',
    url: `${gw.httpUrl}/voice/twilio?callId=${call.id}`,
    params: { CallSid: callSid, AccountSid: `AC${'0'.repeat(32)}`, From: call.fromNumber, To: call.toNumber, Direction: 'outbound-api', CallStatus: 'in-progress' },
  });
  const ms = performance.now() - t0;
  const stream = answer.twiml.stream;
  expect(stream, answer.body).toBeDefined();
  return { ms, parameters: stream?.parameters ?? {} };
}

const waitFor = async (what: string, ok: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('placed calls in memory', () => {
  it('are bounded and expire', () => {
    let now = 0;
    const placed = new PlacedCalls({ ttlMs: 1000, maxEntries: 2, now: () => now });
    const rec = (id: string): CallRecord => ({ id, direction: 'outbound', carrier: 'twilio', endedAt: null, metadata: {} }) as unknown as CallRecord;
    placed.remember(rec('a'));
    placed.remember(rec('b'));
    placed.remember(rec('c'));
    expect(placed.size).toBe(2);
    expect(placed.get('a')).toBeUndefined();
    expect(placed.get('c')?.id).toBe('c');
    now = 1001;
    expect(placed.get('c')).toBeUndefined();
    // An announced record comes back whole; one too big for NOTIFY is announced by id, to be read.
    expect(placed.receive(JSON.stringify({ id: 'd' }))).toEqual({ readId: 'd' });
    expect(placed.receive(JSON.stringify(rec('e')))).toBeUndefined();
    expect(placed.get('e')?.id).toBe('e');
    expect(placed.receive('not json')).toBeUndefined();
  });

  for (const kind of testDatabases()) {
    it(`are announced by the INSERT that records them, as the record reads back; a big one by id (${kind})`, async () => {
      const gw = await startTestGateway(kind);
      gateways.push(gw);
      const payloads: string[] = [];
      const off = gw.tdb.db.changes.subscribe(PLACED_CALLS_CHANNEL, (p) => payloads.push(p));
      try {
        await gw.tdb.db.changes.ready();
        const call = await placeRecord(gw.calls);
        await gw.calls.create({ carrier: 'twilio', carrierCallId: 'CA-inbound-not-announced', direction: 'inbound', fromNumber: '+15005550001', toNumber: '+15005550006' });
        const { call: big } = await gw.calls.create({ carrier: 'twilio', direction: 'outbound', fromNumber: '+15005550006', toNumber: '+15005550002', metadata: { variables: { notes: 'x'.repeat(9000) } } });
        await waitFor('both announcements', () => payloads.length >= 2, 5000);
        await new Promise((r) => setTimeout(r, 200));
        expect(payloads.map((p) => JSON.parse(p) as unknown)).toEqual([await gw.calls.get(call.id), { id: big.id }]);
      } finally {
        off();
      }
    }, 60_000);

    it(`answer the webhook of an outbound call at once while the database is stalled, and the record converges (${kind})`, async () => {
      const gw = await startTestGateway(kind);
      gateways.push(gw);
      const call = await placeRecord(gw.calls);
      // The same call, but not in memory (placed before a restart): its answer waits for the database.
      const unknown = await placeRecord(gw.calls);
      // (after its own announcement has come back from the change feed)
      await waitFor('the announcements', () => (gw.calls.placed?.counters.announced ?? 0) >= 2, 5000);
      gw.calls.placed?.forget(unknown.id);
      const open = stall(gw);
      const { ms, parameters } = await answerDuringStall(gw, call);
      expect(ms).toBeLessThan(600);
      expect(parameters.callId).toBe(call.id);
      expect(parameters.flowId).toBe('outbound-reminder');
      expect(parameters.amd).toBe('off');
      let fallbackAnswered = false;
      const fallback = answerDuringStall(gw, unknown).finally(() => (fallbackAnswered = true));
      await new Promise((r) => setTimeout(r, 1500));
      expect(fallbackAnswered).toBe(false);
      open();
      const late = await fallback;
      expect(late.parameters.callId).toBe(unknown.id);
      process.stdout.write(`outbound webhook during a 1.5 s database stall (${kind}): in memory ${ms.toFixed(1)} ms; read from the database ${late.ms.toFixed(0)} ms\n`);
      await gw.app.gateway.settle();
      const stored = await gw.calls.get(call.id);
      expect(stored?.carrierCallId).toMatch(/^CA0+/);
    }, 60_000);
  }

  if (testDatabases().includes('postgres')) {
    it('reach the other instances through the change feed, whose webhooks then answer without the database', async () => {
      const b = await startTestGateway('postgres');
      gateways.push(b);
      const url = b.tdb.databaseUrl ?? '';
      const config = loadConfig({ PORT: '0', DATABASE_URL: url, DATA_DIR: b.tdb.dataDir, LOG_LEVEL: 'silent', CAMPAIGN_ENGINE: 'false' }, path.resolve(import.meta.dirname, '../..'));
      const a = await composeGateway(config, pino({ level: 'silent' }), { apiKey: 'placing-instance-key-0123456789' });
      try {
        const call = await placeRecord(a.appDeps.calls);
        await waitFor('the other instance to learn of the placed call', () => b.calls.placed?.has(call.id) === true, 5000);
        stall(b);
        const { ms, parameters } = await answerDuringStall(b, call);
        expect(ms).toBeLessThan(600);
        expect(parameters.callId).toBe(call.id);
      } finally {
        await a.close(500);
      }
    }, 60_000);
  }
});
