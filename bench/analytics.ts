// Analytics at scale (issue 12): summary and volume over a month, and the streamed export, on a database
// filled with generated calls (generate_series: a month of traffic, realistic mix of outcomes). Prints
// query times, export rows/s and the peak RSS growth during the export.
//
//   node bench/analytics.ts [--rows 1000000] [--db postgres|pglite]
//
// PostgreSQL: a scratch database next to BENCH_DATABASE_URL/TEST_DATABASE_URL. Not yet a section of
// bench/run.ts (see the analytics note in the README).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { exportRows, exportStream } from '../src/analytics/export.ts';
import { summary, volume } from '../src/analytics/summary.ts';
import { openDatabase } from '../src/store/db.ts';
import { benchDatabaseUrl, createScratchDatabase } from './lib/scratchDb.ts';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const kind = arg('db') ?? (benchDatabaseUrl() !== undefined ? 'postgres' : 'pglite');
const rows = Number(arg('rows') ?? (kind === 'postgres' ? 1_000_000 : 100_000));
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const scratch = kind === 'postgres' ? await createScratchDatabase(benchDatabaseUrl() ?? '') : undefined;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-bench-analytics-'));
const db = await openDatabase({ databaseUrl: scratch?.url, dataDir, log: quiet, statementTimeoutMs: 600_000 });
try {
  const t0 = performance.now();
  // A month (March 2026) of calls, spread evenly; outcomes and AMD in a fixed mix by row number.
  await db.pool.query(
    `INSERT INTO calls (id, carrier, carrier_call_id, direction, from_number, to_number, status, flow_id, created_at, answered_at, ended_at,
                        outcome, failure_reason, amd_result, amd_decision_ms, metadata)
     SELECT 'b' || g, 'twilio', 'CA' || g, CASE WHEN g % 3 = 0 THEN 'inbound' ELSE 'outbound' END, '+1555' || lpad((g % 10000)::text, 7, '0'), '+15550000000',
            CASE WHEN g % 5 = 0 THEN 'no-answer' ELSE 'completed' END, 'flow' || (g % 5),
            t, CASE WHEN g % 5 = 0 THEN NULL ELSE t + interval '5 seconds' END,
            t + (20 + g % 300) * interval '1 second',
            CASE g % 10 WHEN 0 THEN 'failed' WHEN 5 THEN 'failed' WHEN 1 THEN 'success' WHEN 2 THEN 'success' WHEN 3 THEN 'transferred' WHEN 4 THEN 'voicemail-dropped' ELSE 'completed' END,
            CASE g % 10 WHEN 0 THEN 'no-answer' WHEN 5 THEN 'caller-hung-up-early' END,
            CASE WHEN g % 5 = 0 THEN NULL WHEN g % 7 = 0 THEN 'machine' ELSE 'human' END, 800 + g % 3000,
            CASE WHEN g % 2 = 0 THEN jsonb_build_object('campaignId', 'k' || (g % 4)) ELSE '{}'::jsonb END
       FROM generate_series(1, $1::int) g, LATERAL (SELECT timestamptz '2026-03-01 00:00Z' + (g::double precision / $1) * interval '31 days' AS t) x`,
    [rows],
  );
  await db.pool.query('ANALYZE calls');
  const loadS = (performance.now() - t0) / 1000;
  const time = async (label: string, fn: () => Promise<unknown>): Promise<number> => {
    await fn(); // warm
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      await fn();
      runs.push(performance.now() - s);
    }
    runs.sort((a, b) => a - b);
    const median = runs[1] as number;
    console.log(`${kind} ${rows} calls: ${label} median ${median.toFixed(0)} ms`);
    return median;
  };
  console.log(`${kind}: generated ${rows} calls in ${loadS.toFixed(1)} s`);
  const month = { since: '2026-03-01', until: '2026-04-01' };
  await time('summary (month)', () => summary(db.pool, month));
  await time('summary (month, campaign k1)', () => summary(db.pool, { ...month, campaignId: 'k1' }));
  await time('volume day (month, Europe/Paris)', () => volume(db.pool, { ...month, tz: 'Europe/Paris' }, 'day'));
  await time('volume hour (month)', () => volume(db.pool, month, 'hour'));

  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const probe = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  let bytes = 0;
  const s = performance.now();
  await pipeline(
    exportStream(exportRows(db.pool, {}), 'csv'),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb();
      },
    }),
  );
  clearInterval(probe);
  const exportS = (performance.now() - s) / 1000;
  console.log(
    `${kind} export csv: ${rows} rows in ${exportS.toFixed(1)} s = ${Math.round(rows / exportS)} rows/s, ${(bytes / 1048576).toFixed(0)} MiB; RSS ${(rssBefore / 1048576).toFixed(0)} → peak ${(peak / 1048576).toFixed(0)} MiB`,
  );
} finally {
  await db.close();
  await scratch?.drop();
  await rm(dataDir, { recursive: true, force: true });
}
