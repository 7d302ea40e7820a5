// Section 11, analytics at scale (issue 12): summary and volume over a month, and the streamed export,
// on a database filled with generated calls (generate_series: a month of traffic, a fixed mix of
// outcomes). Prints query times with the hourly rollup (migration 008) and over the raw calls, the
// time to build the rollup, export rows/s and the peak RSS during the export.
//
//   node bench/analytics.ts [--short] [--rows N] [--db postgres|pglite]
//   npm run bench -- --only analytics        (full: 1M calls on PostgreSQL, 100k on PGlite)
//
// PostgreSQL: a scratch database next to BENCH_DATABASE_URL/TEST_DATABASE_URL (skipped without one).
// The --short pass (bench:ci) uses 100k/20k calls and checks ratios against a floor measured in the
// same run: a plain count(*) over the month's calls, the least any query over them can cost.
import { isDeepStrictEqual } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { exportRows, exportStream } from '../src/analytics/export.ts';
import { refreshAll } from '../src/analytics/rollup.ts';
import { RollupSource } from '../src/analytics/rollupSource.ts';
import { summary, volume } from '../src/analytics/summary.ts';
import { openDatabase, type Database } from '../src/store/db.ts';
import { benchDatabaseUrl, createScratchDatabase } from './lib/scratchDb.ts';
import type { SectionContext, SectionResult } from './lib/section.ts';
import { ratio, round, type Check } from './lib/stats.ts';
import type { Cell } from './lib/table.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const MONTH = { since: '2026-03-01', until: '2026-04-01' };

/** A month (March 2026) of calls, spread evenly; outcomes, AMD, flows and campaigns in a fixed mix by row number. */
export async function generate(db: Database, rows: number): Promise<void> {
  await db.pool.query(
    `INSERT INTO calls (id, carrier, carrier_call_id, direction, from_number, to_number, status, flow_id, created_at, answered_at, ended_at,
                        outcome, failure_reason, amd_result, amd_decision_ms, metadata)
     SELECT 'b' || g, 'twilio', 'CA' || g, CASE WHEN g % 3 = 0 THEN 'inbound' ELSE 'outbound' END, '+1555' || lpad((g % 10000)::text, 7, '0'), '+15550000000',
            CASE WHEN g % 5 = 0 THEN 'no-answer' ELSE 'completed' END, 'flow' || (g % 5),
            t, CASE WHEN g % 5 = 0 THEN NULL ELSE t + interval '5 seconds' END,
            t + (20 + g % 300) * interval '1 second' + (g % 1000) * interval '1 millisecond',
            CASE g % 10 WHEN 0 THEN 'failed' WHEN 5 THEN 'failed' WHEN 1 THEN 'success' WHEN 2 THEN 'success' WHEN 3 THEN 'transferred' WHEN 4 THEN 'voicemail-dropped' ELSE 'completed' END,
            CASE g % 10 WHEN 0 THEN 'no-answer' WHEN 5 THEN 'caller-hung-up-early' END,
            CASE WHEN g % 5 = 0 THEN NULL WHEN g % 7 = 0 THEN 'machine' ELSE 'human' END, 800 + g % 3000,
            CASE WHEN g % 2 = 0 THEN jsonb_build_object('campaignId', 'k' || (g % 3)) ELSE '{}'::jsonb END
       FROM generate_series(1, $1::int) g, LATERAL (SELECT timestamptz '2026-03-01 00:00Z' + (g::double precision / $1) * interval '31 days' AS t) x`,
    [rows],
  );
  await db.pool.query('ANALYZE calls');
}

/** Median of `runs` timed calls after one warm-up, in ms. */
async function time(fn: () => Promise<unknown>, runs: number): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)] as number;
}

export interface AnalyticsFigures {
  database: 'postgres' | 'pglite';
  rows: number;
  generateS: number;
  rollupBuildS: number;
  /** count(*) over the month's calls: the floor. */
  floorMs: number;
  queries: Array<{ name: string; rollupMs: number; rawMs: number; same: boolean }>;
  /** The month's whole hours were all read from the rollup (no raw range left after the refresh). */
  rollupServed: boolean;
  export: { rows: number; seconds: number; rowsPerS: number; mib: number; rssBeforeMiB: number; rssPeakMiB: number } | null;
}

export async function benchDatabase(kind: 'postgres' | 'pglite', rows: number, opts: { exportRows: boolean; runs: number; progress: (l: string) => void }): Promise<AnalyticsFigures> {
  const base = benchDatabaseUrl();
  const scratch = kind === 'postgres' ? await createScratchDatabase(base ?? '') : undefined;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-bench-analytics-'));
  const db = await openDatabase({ databaseUrl: scratch?.url, dataDir, log: quiet, statementTimeoutMs: 600_000 });
  try {
    opts.progress(`analytics: generating ${rows} calls on ${kind}`);
    let t0 = performance.now();
    await generate(db, rows);
    const generateS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await refreshAll(db.pool);
    const rollupBuildS = (performance.now() - t0) / 1000;
    await db.pool.query('VACUUM ANALYZE analytics_hourly');
    const floorMs = await time(() => db.pool.query(`SELECT count(*) FROM calls WHERE created_at >= '2026-03-01Z' AND created_at < '2026-04-01Z'`), opts.runs);
    const plan = await RollupSource.plan(db.pool, MONTH);
    const rollupServed = plan.rollup !== null && plan.raw.length === 0;
    const queries: AnalyticsFigures['queries'] = [];
    const measure = async (name: string, fn: (useRollup: boolean) => Promise<unknown>): Promise<void> => {
      opts.progress(`analytics: ${kind} ${name}`);
      const rollupMs = await time(() => fn(true), opts.runs);
      const rawMs = await time(() => fn(false), Math.min(opts.runs, 2));
      // The rollup must give the raw figures exactly.
      const same = isDeepStrictEqual(await fn(true), await fn(false));
      queries.push({ name, rollupMs, rawMs, same });
    };
    await measure('summary (month)', (useRollup) => summary(db.pool, MONTH, { useRollup }));
    await measure('summary (month, campaign k1)', (useRollup) => summary(db.pool, { ...MONTH, campaignId: 'k1' }, { useRollup }));
    await measure('summary (month, Europe/Paris, flow1)', (useRollup) => summary(db.pool, { ...MONTH, tz: 'Europe/Paris', flowId: 'flow1' }, { useRollup }));
    await measure('volume day (month, Europe/Paris)', (useRollup) => volume(db.pool, { ...MONTH, tz: 'Europe/Paris' }, 'day', { useRollup }));
    await measure('volume hour (month)', (useRollup) => volume(db.pool, MONTH, 'hour', { useRollup }));
    await measure('volume day (month, Asia/Kolkata: raw)', (useRollup) => volume(db.pool, { ...MONTH, tz: 'Asia/Kolkata' }, 'day', { useRollup }));

    let exported: AnalyticsFigures['export'] = null;
    if (opts.exportRows) {
      opts.progress(`analytics: ${kind} export of ${rows} rows`);
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
      const seconds = (performance.now() - s) / 1000;
      exported = { rows, seconds: round(seconds, 1), rowsPerS: Math.round(rows / seconds), mib: round(bytes / 1048576, 0), rssBeforeMiB: round(rssBefore / 1048576, 0), rssPeakMiB: round(peak / 1048576, 0) };
    }
    return { database: kind, rows, generateS: round(generateS, 1), rollupBuildS: round(rollupBuildS, 1), floorMs, queries, rollupServed, export: exported };
  } finally {
    await db.close();
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function runAnalyticsBench(ctx: Pick<SectionContext, 'short' | 'progress'>, opts: { rows?: number; databases?: Array<'postgres' | 'pglite'> } = {}): Promise<SectionResult> {
  const title = '11. Analytics at scale (summary/volume over a month, rollup vs raw; streamed CSV export)';
  const databases = opts.databases ?? (benchDatabaseUrl() !== undefined ? ['postgres', 'pglite'] : ['pglite']);
  const figures: AnalyticsFigures[] = [];
  for (const kind of databases) {
    const rows = opts.rows ?? (kind === 'postgres' ? (ctx.short ? 100_000 : 1_000_000) : ctx.short ? 20_000 : 100_000);
    // The export's memory is what matters at a million rows; on PGlite it is measured when asked for.
    figures.push(await benchDatabase(kind, rows, { exportRows: kind === 'postgres' || opts.rows !== undefined, runs: ctx.short ? 3 : 5, progress: ctx.progress }));
  }
  const rows: Cell[][] = [];
  const checks: Check[] = [];
  for (const f of figures) {
    rows.push([f.database, f.rows, 'floor: count(*) over the month', round(f.floorMs, 1), null, null, null]);
    for (const q of f.queries) rows.push([f.database, f.rows, q.name, round(q.rollupMs, 1), round(q.rawMs, 1), round(ratio(q.rawMs, q.rollupMs), 1), q.same]);
    const month = f.queries.find((q) => q.name === 'summary (month)');
    const hour = f.queries.find((q) => q.name === 'volume hour (month)');
    checks.push({ name: `analytics ${f.database}: rollup figures equal the raw ones (${f.queries.length} queries)`, value: f.queries.filter((q) => q.same).length, op: '>=', bound: f.queries.length, unit: 'queries', note: 'exactness, not speed' });
    checks.push({ name: `analytics ${f.database}: the month is read from the rollup`, value: f.rollupServed ? 1 : 0, op: '>=', bound: 1, unit: '', note: 'deterministic: a rollup that stopped serving would only show as time' });
    // Times: bounds far above what a loaded 2-core machine measured (load 12–26). The generated data is
    // the rollup's worst case (every flow × campaign × direction each hour, ~22k rows a month whatever
    // the call count), so at the short sizes the rollup is barely smaller than the calls.
    if (month !== undefined && f.database === 'postgres') {
      checks.push({ name: `analytics ${f.database} ${f.rows}: summary (month) ÷ floor`, value: ratio(month.rollupMs, f.floorMs), op: '<=', bound: 20, unit: '×', note: 'rollup sums plus the percentile buckets; 2.5× at 1M, 5–7× at 100k under load' });
    }
    if (hour !== undefined && f.database === 'postgres') {
      checks.push({ name: `analytics ${f.database} ${f.rows}: volume hour (month) ÷ floor`, value: ratio(hour.rollupMs, f.floorMs), op: '<=', bound: 10, unit: '×', note: 'rollup rows only; 0.24× at 1M, 1.6–4.2× at 100k under load' });
    }
    if (f.rows >= 100_000) {
      for (const q of [month, hour]) {
        if (q !== undefined) checks.push({ name: `analytics ${f.database} ${f.rows}: ${q.name} with the rollup ÷ raw`, value: ratio(q.rollupMs, q.rawMs), op: '<=', bound: 1.5, unit: '×', note: 'the rollup must not cost more than reading the calls; 0.02–0.43 measured' });
      }
    }
    if (f.export !== null) {
      checks.push({ name: `analytics ${f.database}: export peak RSS growth at ${f.export.rows} rows`, value: f.export.rssPeakMiB - f.export.rssBeforeMiB, op: '<=', bound: 300, unit: 'MiB', note: 'paged by keyset, streamed: flat in the row count' });
    }
  }
  const notes = figures.flatMap((f) => [
    `${f.database}: generated ${f.rows} calls in ${f.generateS} s (the trigger marks their hours dirty); built the rollup in ${f.rollupBuildS} s`,
    ...(f.export === null ? [] : [`${f.database} export csv: ${f.export.rows} rows in ${f.export.seconds} s = ${f.export.rowsPerS} rows/s, ${f.export.mib} MiB; RSS ${f.export.rssBeforeMiB} → peak ${f.export.rssPeakMiB} MiB`]),
  ]);
  notes.push('median of several runs; raw = the same aggregation over the calls without the rollup (the reference it must equal)');
  return { id: 'analytics', title, header: ['database', 'calls', 'query', 'rollup ms', 'raw ms', 'raw ÷ rollup', 'same figures'], rows, figures: { databases: figures }, checks, notes };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const db = arg('db');
  if (db !== undefined && db !== 'postgres' && db !== 'pglite') throw new Error('--db must be postgres or pglite');
  const rowsArg = arg('rows');
  const { formatTable } = await import('./lib/table.ts');
  const r = await runAnalyticsBench(
    { short: args.includes('--short'), progress: (l) => process.stderr.write(`${l}\n`) },
    { rows: rowsArg === undefined ? undefined : Number(rowsArg), databases: db === undefined ? undefined : [db] },
  );
  process.stdout.write(`== ${r.title}\n${formatTable(r.header, r.rows)}\n${r.notes.map((n) => `   ${n}`).join('\n')}\n`);
  for (const c of r.checks) process.stdout.write(`   check: ${c.name} = ${round(c.value, 2)} (${c.op} ${c.bound} ${c.unit})\n`);
}
