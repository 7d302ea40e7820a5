// The durable call-write path: ordered per call, retried through an outage until the record converges,
// permanent errors not retried, bounded and counted — and, through the real gateway, a call that ends
// while the database refuses connections still ends up `completed` (issue 9, finding 1).
import { describe, expect, it } from 'vitest';
import { CallWrites, notRecordedYet } from '../../src/gateway/callWrites.ts';
import { gatewayForSuite } from '../helpers/gateway.ts';
import { replayYes } from '../helpers/carrierStream.ts';

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const fast = { initialDelayMs: 5, maxDelayMs: 20 };

describe('CallWrites', () => {
  it('retries a failing write until it succeeds, and runs the call\'s later writes after it, in order', async () => {
    const writes = new CallWrites(fast);
    const done: string[] = [];
    let failures = 3;
    const first = writes.enqueue('c1', 'first', async () => {
      if (failures-- > 0) throw refused();
      done.push('first');
      return 'one';
    });
    const second = writes.enqueue('c1', 'second', async () => void done.push('second'));
    const other = writes.enqueue('c2', 'other call', async () => void done.push('other'));
    expect(await first).toBe('one');
    await Promise.all([second, other]);
    expect(done.indexOf('first')).toBeLessThan(done.indexOf('second'));
    expect(writes.stats()).toMatchObject({ pending: 0, written: 3, retries: 3, gaveUp: 0 });
  });

  it('retries "not recorded yet" (the row is written later) but not data errors, and gives up at the deadline', async () => {
    const writes = new CallWrites({ ...fast, retryDeadlineMs: 100 });
    let exists = false;
    setTimeout(() => (exists = true), 30);
    const waited = writes.enqueue('c1', 'status', async () => {
      if (!exists) throw notRecordedYet('status');
      return 'applied';
    });
    let dataAttempts = 0;
    const bad = writes.enqueue('c2', 'bad data', async () => {
      dataAttempts++;
      throw Object.assign(new Error('invalid input syntax'), { code: '22P02' });
    });
    const never = writes.enqueue('c3', 'down for good', async () => {
      throw refused();
    });
    expect(await waited).toBe('applied');
    expect(await bad).toBeUndefined();
    expect(dataAttempts).toBe(1);
    expect(await never).toBeUndefined();
    expect(writes.stats()).toMatchObject({ written: 1, rejected: 1, gaveUp: 1 });
  });

  it('is bounded: beyond maxPending a write is refused and counted, not queued', async () => {
    const writes = new CallWrites({ ...fast, maxPending: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = writes.enqueue('c1', 'a', () => gate);
    const b = writes.enqueue('c2', 'b', () => gate);
    expect(await writes.enqueue('c3', 'c', async () => 'never')).toBeUndefined();
    expect(writes.stats()).toMatchObject({ pending: 2, overflowed: 1 });
    release();
    await Promise.all([a, b]);
    expect(await writes.enqueue('c3', 'c', async () => 'now')).toBe('now');
  });

  it('close() abandons writes still retrying (counted) and refuses new ones', async () => {
    const writes = new CallWrites(fast);
    const stuck = writes.enqueue('c1', 'stuck', async () => {
      throw refused();
    });
    await new Promise((r) => setTimeout(r, 30));
    await writes.close(500);
    expect(await stuck).toBeUndefined();
    expect(await writes.enqueue('c2', 'late', async () => 'x')).toBeUndefined();
    expect(writes.stats().gaveUp).toBe(1);
  });
});

describe('a call that ends while the database refuses connections', () => {
  const gw = gatewayForSuite('pglite');

  it('is recorded completed, with its end reason, once the database is back', async () => {
    const pool = gw.tdb.db.pool;
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    let down = false;
    let refusedQueries = 0;
    (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
      if (down) {
        refusedQueries++;
        throw refused();
      }
      return query(...args);
    };
    const result = await replayYes(gw, {
      onEvent: (e) => {
        // The database goes away once the call is live, before its end is written.
        if (e.event === 'mark') down = true;
      },
    });
    expect(result.endReason).toBe('gateway-closed');
    await new Promise((r) => setTimeout(r, 300));
    expect(refusedQueries).toBeGreaterThan(0);
    const during = await gw.calls.findByCarrierCallId('twilio', result.carrierCallId).catch(() => null);
    expect(during).toBeNull(); // the database really was unreachable

    down = false;
    expect(await gw.runtime.appDeps.writes.settle(15_000)).toBe(true);
    await gw.eventLog.flush();
    const call = await gw.calls.get(result.callId ?? '');
    expect(call).toMatchObject({ status: 'completed', endReason: 'default_flow_done', streamId: result.streamId });
    expect(call?.endedAt).not.toBeNull();
    expect(call?.answeredAt).not.toBeNull();
    expect(gw.app.gateway.callWrites().retries).toBeGreaterThan(0);
    const events = await gw.eventLog.listEvents(result.callId ?? '');
    expect(events.map((e) => e.type)).toContain('call.ended');
  }, 60_000);
});
