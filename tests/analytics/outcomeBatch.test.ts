// Ended calls' outcomes share one UPDATE when they come within the call store's batch window (one
// round trip for many calls' ends), and a row the database refuses (a disposition over its 64
// characters) is written alone, so the others are not lost with it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyFacts } from '../../src/analytics/outcome.ts';
import { OutcomeStore } from '../../src/analytics/outcomeStore.ts';
import { CallStore } from '../../src/store/calls.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';

describe.each(testDatabases())('outcomes of calls ending together (%s)', (kind) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('are written by one statement, a refused row alone', async () => {
    const calls = new CallStore(t.db.pool);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { call } = await calls.create({ carrier: 'twilio', carrierCallId: `CA-outcome-${i}`, direction: 'inbound', fromNumber: '+15005550001', toNumber: '+15005550006' });
      await calls.end({ id: call.id }, 'caller_hangup', 'completed');
      ids.push(call.id);
    }
    const updates: string[] = [];
    const pool = new Proxy(t.db.pool, {
      get: (target, prop) =>
        prop === 'query'
          ? (text: string, values?: unknown[]) => {
              if (text.includes('SET outcome')) updates.push(text);
              return target.query(text, values);
            }
          : Reflect.get(target, prop),
    });
    const outcomes = new OutcomeStore(pool, { batchWindowMs: 50 });
    const facts = (disposition: string) => ({ ...emptyFacts(), flowEnded: { outcome: 'completed', reason: 'done', success: true, disposition, dispositions: [] } });
    const [a, b] = await Promise.all([outcomes.record(ids[0] ?? '', facts('booked')), outcomes.record(ids[1] ?? '', facts('callback'))]);
    expect([a?.disposition, b?.disposition]).toEqual(['booked', 'callback']);
    expect(updates).toHaveLength(1);

    updates.length = 0;
    const results = await Promise.allSettled([outcomes.record(ids[2] ?? '', facts('x'.repeat(65))), outcomes.record(ids[0] ?? '', facts('kept'))]);
    expect(results[0].status).toBe('rejected');
    expect(results[1].status).toBe('fulfilled');
    expect(updates).toHaveLength(3); // the batch, then each row alone
    const { rows } = await t.db.pool.query<{ id: string; disposition: string | null; outcome: string | null }>('SELECT id, disposition, outcome FROM calls WHERE id = ANY($1)', [ids]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(ids[0] ?? '')?.disposition).toBe('kept');
    expect(byId.get(ids[1] ?? '')?.disposition).toBe('callback');
    expect(byId.get(ids[2] ?? '')?.outcome).toBeNull();
  });
});
