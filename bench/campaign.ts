// Section 9, the campaign dialer. `node bench/campaign.ts [--short]`
// (a) Claim throughput: contacts claimed per second with 100,000 queued (10,000 with --short), in
//     claims of up to 50, on embedded PGlite and (when BENCH_DATABASE_URL or TEST_DATABASE_URL is set)
//     on PostgreSQL — the whole claim transaction: pacing rows, the due-contact scan, the do-not-call
//     and per-number checks, the calling window, the attempt rows.
// (b) Dial-time overhead per call: one contact claimed alone, plus writing its call record — the
//     database work between "this contact is due" and the carrier request.
// (c) Pacing accuracy: the engine dials against the carrier simulator at a set calls/min; measured
//     from the simulator's dial log.
// (d) CSV import: rows/s of a streamed CSV (generated on the fly, never held whole) and the process's
//     peak memory growth while importing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import pino from 'pino';
import { claimDue } from '../src/campaign/dialQueue.ts';
import { CampaignEngine } from '../src/campaign/engine.ts';
import { importCsv } from '../src/campaign/import.ts';
import { defaultSettings, type CampaignSettings } from '../src/campaign/settings.ts';
import { CampaignStore } from '../src/campaign/store.ts';
import { startSimulator } from '../src/sim/server.ts';
import { CallStore } from '../src/store/calls.ts';
import { openDatabase, type Database } from '../src/store/db.ts';
import { CarrierRestClient } from '../src/telephony/rest.ts';
import { benchDatabaseUrl, createScratchDatabase } from './lib/scratchDb.ts';
import type { SectionContext, SectionResult } from './lib/section.ts';
import { round, summarize, type Check } from './lib/stats.ts';
import type { Cell } from './lib/table.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const ACCOUNT = `AC${'c0ffee00'.repeat(4)}`;
const TOKEN = 'bench-token';

/** A zone where it is now about 14:00, so every contact is inside its calling window. */
function middayZone(): string {
  const offset = ((14 - new Date().getUTCHours() + 36) % 24) - 12;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

function settings(over: Partial<CampaignSettings> = {}): CampaignSettings {
  return {
    ...defaultSettings(),
    callerIds: ['+14155550100'],
    timezone: middayZone(),
    window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' },
    pacing: { maxConcurrent: 1_000_000_000, callsPerMinute: 60_000_000, callsPerHour: 1_000_000_000, ramp: null },
    perNumberDailyCap: 100,
    ...over,
  };
}

/** A CSV of `rows` contacts, produced as it is read. */
function csvStream(rows: number, zone: string): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i === 0) this.push('phone,name,timezone,firstName,plan\n');
      let chunk = '';
      for (let k = 0; k < 1000 && i < rows; k++, i++) chunk += `+1212${String(2000000 + i).padStart(7, '0')},Contact ${i},${zone},F${i},gold\n`;
      this.push(chunk === '' ? null : chunk);
    },
  });
}

interface DbFigures {
  database: string;
  queued: number;
  importRowsPerS: number;
  importPeakRssMb: number;
  importPeakHeapMb: number;
  claimedPerS: number;
  claimMs: { p50: number; p99: number };
  dialOverheadMs: { p50: number; p99: number };
}

async function withDatabase<T>(kind: 'pglite' | 'postgres', fn: (db: Database) => Promise<T>): Promise<T | undefined> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-bench-campaign-'));
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  try {
    let url: string | undefined;
    if (kind === 'postgres') {
      const base = benchDatabaseUrl();
      if (base === undefined) return undefined;
      scratch = await createScratchDatabase(base);
      url = scratch.url;
    }
    const db = await openDatabase({ databaseUrl: url, dataDir, log: quiet });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  } finally {
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function measureDatabase(db: Database, queued: number, progress: (l: string) => void): Promise<DbFigures> {
  const store = new CampaignStore(db.pool);
  const zone = middayZone();
  const campaign = await store.create({ name: 'bench', flowId: 'bench', flowVersion: null, carrier: 'twilio', settings: settings() }, 'bench');

  // (d) the import, with memory sampled while it runs.
  const m0 = process.memoryUsage();
  let peak = m0.rss;
  let peakHeap = m0.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);
  const t0 = performance.now();
  const report = await importCsv(db.pool, csvStream(queued, zone), { campaignId: campaign.id, defaultCountry: 'US', campaignTimezone: zone });
  const importMs = performance.now() - t0;
  clearInterval(sampler);
  if (report.accepted !== queued) throw new Error(`import accepted ${report.accepted} of ${queued}: ${JSON.stringify(report.problems.slice(0, 3))}`);
  progress(`${db.kind}: imported ${queued} contacts in ${Math.round(importMs)} ms`);
  await store.transition(campaign.id, 'start', 'bench');

  // (a) claims of up to 50 until a fixed share of the queue is claimed (the rest stays queued, so the
  // scan always runs against a queue of about `queued` rows).
  const target = Math.min(queued / 2, 10_000);
  let claimed = 0;
  const claimTimes: number[] = [];
  const started = performance.now();
  let now = Date.now();
  while (claimed < target) {
    now += 1000;
    const c0 = performance.now();
    const r = await claimDue(db.pool, { campaignId: campaign.id, accountKey: 'twilio:bench', accountCps: 1_000_000, instanceId: 'bench', now: new Date(now), maxBatch: 50 });
    claimTimes.push(performance.now() - c0);
    if (r.dials.length === 0) throw new Error(`claim returned nothing (${r.limitedBy ?? ''})`);
    claimed += r.dials.length;
  }
  const claimedPerS = claimed / ((performance.now() - started) / 1000);
  progress(`${db.kind}: claimed ${claimed} in claims of 50: ${Math.round(claimedPerS)}/s`);

  // (b) one contact at a time: the claim, then the call record, as the engine does before the carrier request.
  const calls = new CallStore(db.pool);
  const overhead: number[] = [];
  for (let i = 0; i < 200; i++) {
    now += 1000;
    const c0 = performance.now();
    const r = await claimDue(db.pool, { campaignId: campaign.id, accountKey: 'twilio:bench', accountCps: 1_000_000, instanceId: 'bench', now: new Date(now), maxBatch: 1 });
    const d = r.dials[0];
    if (d === undefined) throw new Error('single claim returned nothing');
    await calls.create({ id: d.callId, carrier: 'twilio', direction: 'outbound', fromNumber: d.callerId, toNumber: d.phone, status: 'queued', flowId: 'bench', metadata: { variables: d.variables } });
    overhead.push(performance.now() - c0);
  }
  const claimSummary = summarize(claimTimes);
  const overheadSummary = summarize(overhead);
  return {
    database: db.kind,
    queued,
    importRowsPerS: Math.round(queued / (importMs / 1000)),
    importPeakRssMb: round((peak - m0.rss) / 1024 / 1024, 1),
    importPeakHeapMb: round((peakHeap - m0.heapUsed) / 1024 / 1024, 1),
    claimedPerS: Math.round(claimedPerS),
    claimMs: { p50: round(claimSummary.p50, 2), p99: round(claimSummary.p99, 2) },
    dialOverheadMs: { p50: round(overheadSummary.p50, 2), p99: round(overheadSummary.p99, 2) },
  };
}

interface PacingFigure {
  database: string;
  askedPerMinute: number;
  measuredPerMinute: number;
  dials: number;
  seconds: number;
}

/** (c) The engine against the simulator (every number busy after a short ring) for a while. */
async function measurePacing(db: Database, askedPerMinute: number, seconds: number): Promise<PacingFigure> {
  const sim = await startSimulator({ accounts: { [ACCOUNT]: TOKEN }, speed: 10, scenario: { rules: [], default: { kind: 'busy', ringMs: 100 } } });
  try {
    const store = new CampaignStore(db.pool);
    const zone = middayZone();
    const campaign = await store.create(
      { name: 'pacing', flowId: 'bench', flowVersion: null, carrier: 'twilio', settings: settings({ pacing: { maxConcurrent: 100, callsPerMinute: askedPerMinute, callsPerHour: 1_000_000, ramp: null } }) },
      'bench',
    );
    await importCsv(db.pool, csvStream(Math.ceil((askedPerMinute / 60) * seconds * 2) + 50, zone), { campaignId: campaign.id, defaultCountry: 'US', campaignTimezone: zone });
    const engine = new CampaignEngine({
      pool: db.pool,
      calls: new CallStore(db.pool),
      clients: { twilio: new CarrierRestClient({ carrier: 'twilio', accountSid: ACCOUNT, authToken: TOKEN, baseUrl: sim.baseUrl }) },
      config: { publicUrl: new URL('https://gateway.invalid'), carriers: { twilio: { accountSid: ACCOUNT, authToken: TOKEN, apiBaseUrl: sim.baseUrl } } },
      streamTokenSecret: 'bench-stream-token-secret-0123456789',
      instanceId: 'bench',
      log: pino({ level: 'silent' }),
      tickMs: 50,
      accountCps: 1000,
    });
    await store.transition(campaign.id, 'start', 'bench');
    engine.start();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await store.transition(campaign.id, 'pause', 'bench');
    await engine.close();
    // Steady state: from the first dial to the last, the way a carrier would count them.
    const times = sim.log.map((d) => d.atMs);
    const span = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
    return { database: db.kind, askedPerMinute, measuredPerMinute: round(((times.length - 1) / span) * 60, 1), dials: times.length, seconds: round(span, 1) };
  } finally {
    await sim.close();
  }
}

export async function runCampaignBench(ctx: Pick<SectionContext, 'short' | 'progress'>): Promise<SectionResult> {
  const queued = ctx.short ? 10_000 : 100_000;
  const dbs: DbFigures[] = [];
  const pacing: PacingFigure[] = [];
  for (const kind of ['pglite', 'postgres'] as const) {
    const f = await withDatabase(kind, (db) => measureDatabase(db, queued, ctx.progress));
    if (f !== undefined) dbs.push(f);
    const p = await withDatabase(kind, (db) => measurePacing(db, 120, ctx.short ? 6 : 30));
    if (p !== undefined) pacing.push(p);
    ctx.progress(`${kind}: pacing ${JSON.stringify(p)}`);
  }
  const rows: Cell[][] = [
    ...dbs.map((f) => [f.database, `claims of 50, ${f.queued} queued`, `${f.claimedPerS} contacts/s`, `claim p50 ${f.claimMs.p50} ms, p99 ${f.claimMs.p99} ms`]),
    ...dbs.map((f) => [f.database, 'dial-time overhead (1 claim + call record)', `p50 ${f.dialOverheadMs.p50} ms`, `p99 ${f.dialOverheadMs.p99} ms`]),
    ...pacing.map((p) => [p.database, `pacing: asked ${p.askedPerMinute}/min`, `measured ${p.measuredPerMinute}/min`, `${p.dials} dials over ${p.seconds} s`]),
    ...dbs.map((f) => [f.database, `CSV import, ${f.queued} rows streamed`, `${f.importRowsPerS} rows/s`, `peak growth: JS heap ${f.importPeakHeapMb} MB, RSS ${f.importPeakRssMb} MB`]),
  ];
  const checks: Check[] = [];
  const pglite = dbs.find((f) => f.database === 'pglite');
  if (pglite) {
    checks.push({ name: 'campaign: contacts claimed/s (PGlite)', value: pglite.claimedPerS, op: '>=', bound: 100, unit: 'contacts/s', note: 'floor far below the measured value; the dialer needs tens per second' });
    checks.push({ name: 'campaign: CSV import rows/s (PGlite)', value: pglite.importRowsPerS, op: '>=', bound: 1000, unit: 'rows/s', note: '100,000 rows must import in seconds' });
    checks.push({ name: 'campaign: import peak JS heap growth (PGlite)', value: pglite.importPeakHeapMb, op: '<=', bound: 150, unit: 'MB', note: 'streamed: the importer\'s memory must not grow with the file' });
  }
  for (const p of pacing) {
    checks.push({ name: `campaign: pacing error (${p.database})`, value: Math.abs(p.measuredPerMinute - p.askedPerMinute) / p.askedPerMinute, op: '<=', bound: 0.2, unit: 'fraction', note: 'measured calls/min within 20% of asked' });
  }
  return {
    id: 'campaign',
    title: '9. Campaign dialer (claims, dial-time overhead, pacing, import)',
    header: ['database', 'what', 'figure', 'detail'],
    rows,
    figures: { databases: dbs, pacing },
    checks,
    notes: [
      'Claims run the whole transaction the engine runs (pacing rows, due scan with FOR UPDATE SKIP LOCKED, do-not-call, per-number cap, window, attempt rows).',
      'Dial-time overhead excludes the carrier request itself; pacing is measured from the carrier simulator\'s dial log (first to last dial).',
      'Peak growth while importing: the JS heap is the importer (flat: batches of 1,000 rows); RSS is the whole process, and on PGlite includes the embedded database\'s own memory (its worker thread).',
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const short = process.argv.includes('--short');
  const r = await runCampaignBench({ short, progress: (l) => process.stderr.write(`${l}\n`) });
  const { formatTable } = await import('./lib/table.ts');
  process.stdout.write(`== ${r.title}\n${formatTable(r.header, r.rows)}\n`);
  for (const n of r.notes) process.stdout.write(`   ${n}\n`);
  process.stdout.write(`${JSON.stringify(r.figures)}\n`);
}
