// The database's cost of one event-log batch, the plain INSERT a healthy flush sends against the
// idempotent one (ON CONFLICT: speculative insertion of every row) a retried batch sends, alternated
// round by round on the same database. On PGlite the engine runs in this process, as in the gateway
// (run it with `--liftoff-only`, as src/main.ts runs itself on the embedded database): its CPU is the
// gateway's. `node --liftoff-only bench/lib/eventInsertCost.ts [pglite|postgres] [--rows 60]`
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../../src/store/db.ts';
import { INSERT_IDEMPOTENT_SQL, INSERT_SQL } from '../../src/store/eventLog.ts';
import { benchDatabaseUrl, createScratchDatabase } from './scratchDb.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rows: { type: 'string' }, rounds: { type: 'string' } } });
const kind = positionals[0] === 'postgres' ? 'postgres' : 'pglite';
const rows = Number(values.rows ?? 60);
const rounds = Number(values.rounds ?? 4);
const base = benchDatabaseUrl();
const scratch = kind === 'postgres' && base !== undefined ? await createScratchDatabase(base) : undefined;
const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-insert-cost-'));
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const db = await openDatabase({ databaseUrl: scratch?.url, dataDir, log: quiet });
let seq = 0;
/** One flush's worth of a listening call's events: speech starts and stops of 20 calls. */
function batch(): unknown[] {
  const cols: [string[], number[], number[], number[], string[], string[]] = [[], [], [], [], [], []];
  for (let i = 0; i < rows; i++) {
    seq++;
    cols[0].push(`bench-call-${seq % 20}`);
    cols[1].push(seq);
    cols[2].push(seq * 20);
    cols[3].push(Date.now());
    cols[4].push(i % 2 === 0 ? 'speech.started' : 'speech.stopped');
    cols[5].push(i % 2 === 0 ? '{}' : '{"durationMs":1220}');
  }
  return cols;
}
/** Process CPU (PGlite: the engine's thread included) and wall time per INSERT. */
async function time(sql: string, n: number): Promise<{ cpuMs: number; wallMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await db.pool.query(sql, batch());
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000 / n, wallMs: (performance.now() - t0) / n };
}
try {
  await time(INSERT_IDEMPOTENT_SQL, 50);
  await time(INSERT_SQL, 50);
  for (let r = 0; r < rounds; r++) {
    const a = await time(INSERT_IDEMPOTENT_SQL, 200);
    const b = await time(INSERT_SQL, 200);
    console.log(`${kind}, ${rows} rows: ON CONFLICT ${a.cpuMs.toFixed(3)} ms CPU (${a.wallMs.toFixed(3)} wall); plain ${b.cpuMs.toFixed(3)} ms CPU (${b.wallMs.toFixed(3)} wall); plain ÷ ON CONFLICT ${(b.cpuMs / a.cpuMs).toFixed(2)} CPU, ${(b.wallMs / a.wallMs).toFixed(2)} wall`);
  }
} finally {
  await db.close();
  await scratch?.drop();
  await rm(dataDir, { recursive: true, force: true });
}
