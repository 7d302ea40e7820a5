// A stalled database must not keep a new call from being answered, greeted and run: the webhook answers
// within a bounded wait, the record is written when the database returns, and everything written about
// the call afterwards (stream, answer, end) lands in order behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { replayYes } from '../helpers/carrierStream.ts';

describe('a call arriving while the database is stalled', () => {
  let gw: TestGateway;
  let release: () => void = () => undefined;
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
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

    const started = performance.now();
    const result = await replayYes(gw);
    // The default flow spoke its greeting and hung up, all while no query could complete.
    expect(result.endReason).toBe('gateway-closed');
    expect(result.receivedAudioMs).toBeGreaterThan(2000);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(gw.eventLog.stats().written).toBe(0);

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
  }, 60_000);
});
