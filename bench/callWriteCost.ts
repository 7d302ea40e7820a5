// What a call's record and events cost the database, whole calls counted: N calls (webhook, stream,
// greeting, listening, AMD on outbound calls, end) against a gateway child, then every query the
// gateway made for them, by statement, with the embedded database's thread CPU per call (PGlite: it
// is the gateway process's own CPU). The cluster bench's steady window and the media section's pass
// see only part of a call; this sees all of it. `--root dir` runs another checkout's gateway (before →
// after on the same machine, back to back).
// `node bench/callWriteCost.ts [--db pglite|postgres] [--calls 40] [--direction inbound|outbound] [--root dir]`
import { parseArgs } from 'node:util';
import { startGateway } from './lib/gateway.ts';
import { LoadGenerators } from './lib/loadgen.ts';
import { benchDatabaseUrl, createScratchDatabase } from './lib/scratchDb.ts';
import { sleep, waitUntil } from './lib/section.ts';

const { values: args } = parseArgs({
  options: { db: { type: 'string', default: 'pglite' }, calls: { type: 'string', default: '40' }, direction: { type: 'string', default: 'outbound' }, root: { type: 'string' } },
});
const calls = Number(args.calls);
const direction = args.direction === 'inbound' ? 'inbound' : 'outbound';
const url = args.db === 'postgres' ? benchDatabaseUrl() : undefined;
if (args.db === 'postgres' && url === undefined) throw new Error('--db postgres needs BENCH_DATABASE_URL or TEST_DATABASE_URL');
const scratch = url === undefined ? undefined : await createScratchDatabase(url);
const gw = await startGateway({ ...(scratch === undefined ? {} : { databaseUrl: scratch.url }), ...(args.root === undefined ? {} : { root: args.root }) });
const gens = await LoadGenerators.start(1);
try {
  await sleep(3000); // start-up work (warming, the first heartbeats) is not a call's
  await gw.resetQueries();
  const before = await gw.stats();
  const run = await gens.run({ wsUrl: gw.wsUrl, calls, audioMs: 8000, holdMs: 500, speed: 1, rampMs: calls * 50, timeoutMs: 120_000, direction });
  await waitUntil(async () => (await gw.stats()).activeCalls === 0, 15_000, 250);
  await sleep(1500); // the ordered writes behind each end (outcome) and the last event batch
  const after = await gw.stats();
  const ok = run.outcomes.filter((o) => o.ok).length;
  const total = after.queries.reduce((n, q) => n + q.count, 0);
  const engineMs = after.engineCpuUs === null || before.engineCpuUs === null ? null : (after.engineCpuUs - before.engineCpuUs) / 1000;
  console.log(`${gw.database}, ${calls} ${direction} calls (${ok} ok), ${Math.round((after.wallMs - before.wallMs) / 1000)} s: ${total} queries, ${(total / calls).toFixed(2)} per call${engineMs === null ? '' : `; PGlite's thread ${engineMs.toFixed(0)} ms, ${(engineMs / calls).toFixed(2)} ms per call`}; main thread ${((after.mainThreadCpuUs - before.mainThreadCpuUs) / 1000).toFixed(0)} ms`);
  for (const q of [...after.queries].sort((a, b) => b.count - a.count)) console.log(`  ${String(q.count).padStart(5)}  ${(q.count / calls).toFixed(2).padStart(5)}/call  mean ${q.meanMs} ms  ${q.sql}`);
} finally {
  await gens.stop();
  await gw.stop();
  await scratch?.drop();
}
