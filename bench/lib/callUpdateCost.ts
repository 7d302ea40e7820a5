// The database's own cost of one call-row update, on a scratch database of a few thousand calls:
// the AMD verdict as one UPDATE per call against one UPDATE … FROM unnest for a batch, and the
// stream start as two UPDATEs (stream, then answer) against one. Timed from the client (round trip
// included) over many calls, per engine. `node bench/lib/callUpdateCost.ts [pglite|postgres]`
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CallStore } from '../../src/store/calls.ts';
import { openDatabase } from '../../src/store/db.ts';
import { benchDatabaseUrl, createScratchDatabase } from './scratchDb.ts';

const kind = process.argv[2] === 'postgres' ? 'postgres' : 'pglite';
const base = benchDatabaseUrl();
const scratch = kind === 'postgres' && base !== undefined ? await createScratchDatabase(base) : undefined;
const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-update-cost-'));
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const db = await openDatabase({ databaseUrl: scratch?.url, dataDir, log: quiet });
try {
  const SEED = 5000;
  await db.pool.query(
    `INSERT INTO calls (id, carrier, carrier_call_id, direction, from_number, to_number, status, flow_id, created_at, answered_at, ended_at, amd_result, amd_decision_ms, outcome)
     SELECT 'old' || i, 'twilio', 'CAold' || i, 'outbound', '+1555' || (i % 500), '+1666', 'completed', 'f' || (i % 20), now() - interval '1 day' + i * interval '1 s',
            now() - interval '1 day' + i * interval '1 s', now() - interval '1 day' + i * interval '1 s' + interval '30 s', 'human', 1000 + i % 3000, 'completed'
       FROM generate_series(1, $1::int) AS i`,
    [SEED],
  );
  await db.pool.query('ANALYZE calls');
  const one = new CallStore(db.pool, { instanceId: 'i' });
  const batched = new CallStore(db.pool, { instanceId: 'i', batchWindowMs: 1 });
  const N = 200;
  const fresh = async (tag: string): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < N; i++) ids.push((await one.create({ id: `${tag}${i}`, carrier: 'twilio', carrierCallId: `CA${tag}${i}`, direction: 'outbound', fromNumber: '+1', toNumber: '+2' })).call.id);
    return ids;
  };
  const time = async (label: string, work: () => Promise<unknown>): Promise<void> => {
    const t0 = performance.now();
    await work();
    console.log(`${kind}: ${label}: ${((performance.now() - t0) / N).toFixed(3)} ms per call`);
  };
  const amd = { result: 'human' as const, answeredBy: 'human' as const, confidence: 0.9, decisionMs: 1800 };
  for (const round of [1, 2]) {
    const a = await fresh(`a${round}-`);
    await time(`AMD verdict, one UPDATE each, one after another (round ${round})`, async () => {
      for (const id of a) await one.setAmd({ id }, amd);
    });
    const b = await fresh(`b${round}-`);
    await time(`AMD verdict, batches of 10 (round ${round})`, async () => {
      for (let i = 0; i < N; i += 10) await Promise.all(b.slice(i, i + 10).map((id) => batched.setAmd({ id }, amd)));
    });
    const c = await fresh(`c${round}-`);
    await time(`stream start, attachStream + applyStatus (round ${round})`, async () => {
      for (const id of c) {
        await one.attachStream({ id }, `MZ${id}`);
        await one.applyStatus('twilio', `CA${id}`, 'in-progress', new Date());
      }
    });
    const d = await fresh(`d${round}-`);
    await time(`stream start, startStream (round ${round})`, async () => {
      for (const id of d) await one.startStream(id, `MZ${id}`, new Date());
    });
  }
  const plan = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) UPDATE calls SET amd_result = 'machine', amd_decision_ms = 2500 WHERE id = 'a1-0'`);
  console.log(`${kind}: EXPLAIN ANALYZE of an AMD UPDATE:\n  ${plan.rows.map((r) => r['QUERY PLAN']).join('\n  ')}`);
  const hot = await db.pool.query<{ n_tup_upd: string; n_tup_hot_upd: string }>(`SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'calls'`);
  console.log(`${kind}: updates of calls ${hot.rows[0]?.n_tup_upd}, of which HOT ${hot.rows[0]?.n_tup_hot_upd}`);
} finally {
  await db.close();
  await scratch?.drop();
  await rm(dataDir, { recursive: true, force: true });
}
