// Outcomes of real calls placed through POST /v1/calls against the carrier simulator (signed
// webhooks, status callbacks and media streams), one per way an outbound call ends: a person, a
// voicemail, busy, no answer, a carrier failure. Then the analytics summary counts them, from the
// rollup as from the raw calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshAll } from '../../src/analytics/rollup.ts';
import { summary } from '../../src/analytics/summary.ts';
import { startSimGateway, waitFor, type SimGateway } from '../campaign/harness.ts';
import { testDatabases } from '../helpers/db.ts';

// The simulator answers by the last digit (src/sim/behaviors.ts): 0 a person, 1 busy, 2 no answer,
// 3 failed, 4 a voicemail greeting with a beep.
const ENDINGS = [
  { to: '+12125550100', category: 'completed', reason: null, disposition: 'reached' },
  { to: '+12125550101', category: 'failed', reason: 'busy', disposition: null },
  { to: '+12125550102', category: 'failed', reason: 'no-answer', disposition: null },
  { to: '+12125550103', category: 'failed', reason: 'carrier-failed', disposition: null },
  { to: '+12125550104', category: 'voicemail-dropped', reason: null, disposition: null },
] as const;

interface CallView {
  outcome: { category: string; failureReason: string | null; disposition: string | null } | null;
}

describe.each(testDatabases())('outcomes of simulated calls (%s)', (kind) => {
  let s: SimGateway;
  const ids = new Map<string, string>();
  beforeAll(async () => {
    s = await startSimGateway(kind);
    for (const e of ENDINGS) {
      const placed = await s.gw.api('/v1/calls', { body: { to: e.to, from: '+14155550100', flowId: 'campaign-test', timeoutS: 5 } });
      expect(placed.status).toBe(201);
      ids.set(e.to, placed.body.id as string);
    }
  });
  afterAll(() => s?.close());

  it.each(ENDINGS)('$to ends $category ($reason)', async (e) => {
    const id = ids.get(e.to) as string;
    const view = await waitFor(`the outcome of ${e.to}`, async () => {
      const r = await s.gw.api(`/v1/calls/${id}`);
      return (r.body as CallView).outcome ?? undefined;
    }, 90_000);
    expect(view).toMatchObject({ category: e.category, failureReason: e.reason, disposition: e.disposition });
  });

  it('counts them in the summary, from the rollup as from the raw calls', async () => {
    const today = { since: new Date(Date.now() - 3600_000 * 2).toISOString(), until: new Date(Date.now() + 3600_000).toISOString() };
    await refreshAll(s.gw.tdb.db.pool);
    const rolled = await summary(s.gw.tdb.db.pool, today);
    expect(rolled).toEqual(await summary(s.gw.tdb.db.pool, today, { useRollup: false }));
    expect(rolled.calls).toBe(ENDINGS.length);
    expect(rolled.outcomes).toMatchObject({ completed: 1, 'voicemail-dropped': 1, failed: 3 });
    expect(rolled.failureReasons).toEqual([
      { reason: 'busy', count: 1 },
      { reason: 'carrier-failed', count: 1 },
      { reason: 'no-answer', count: 1 },
    ]);
  });
});
