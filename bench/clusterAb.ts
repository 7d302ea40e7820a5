// A paired before/after of the gateway's CPU per call: two gateways (`src/main.ts`, PostgreSQL) run at
// the same time, each with its own load generator, scratch database and the same N real-time calls
// (greeted, then listening), and their steady windows overlap. On a machine others share, the two see
// the same load, so their ratio is what a change saved — sequential runs minutes apart differ by more
// than the changes measured. A is this tree; B is another tree (`--b /path/to/checkout`, e.g. a
// `git worktree` of the base) and/or other node options (`BENCH_A_NODE_ARGS`, `BENCH_B_NODE_ARGS`: space-separated, given to the primary and
// inherited by its workers).
// `node bench/clusterAb.ts --n 300 --workers 1 [--rounds 3] [--steady 15000] [--b dir]`
import { getPriority, loadavg, setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLevel, scrape, startClusterGateway, type ClusterLevel, type Gateway } from './cluster.ts';
import { LoadGenerators } from './lib/loadgen.ts';
import { benchDatabaseUrl, createScratchDatabase } from './lib/scratchDb.ts';
import { sleep } from './lib/section.ts';
import { round } from './lib/stats.ts';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Side {
  name: string;
  gw: Gateway;
  gens: LoadGenerators;
  drop: () => Promise<void>;
}

async function startSide(name: string, base: string, workers: number, root: string, nodeArgs: string | undefined): Promise<Side> {
  const db = await createScratchDatabase(base);
  const gw = await startClusterGateway(db.url, workers, { root, nodeArgs: (nodeArgs ?? '').split(' ').filter((a) => a !== '') });
  const gens = await LoadGenerators.start(1);
  const warm = await gens.run({ wsUrl: gw.url.replace(/^http/, 'ws'), calls: 4, audioMs: 4000, holdMs: 500, speed: 1, rampMs: 200, timeoutMs: 60_000, direction: 'inbound' });
  const bad = warm.outcomes.find((o) => !o.ok);
  if (bad) throw new Error(`${name}: warm-up call failed: ${bad.error ?? bad.endReason}`);
  return { name, gw, gens, drop: () => db.drop() };
}

const { values } = parseArgs({ options: { n: { type: 'string' }, workers: { type: 'string' }, rounds: { type: 'string' }, steady: { type: 'string' }, b: { type: 'string' }, direction: { type: 'string' } } });
const base = benchDatabaseUrl();
if (base === undefined) throw new Error('needs PostgreSQL: set BENCH_DATABASE_URL or TEST_DATABASE_URL');
const n = Number(values.n ?? 300);
const workers = Number(values.workers ?? 1);
const rounds = Number(values.rounds ?? 3);
const steadyMs = Number(values.steady ?? 15_000);
const direction = (values.direction ?? 'inbound') as 'inbound' | 'outbound';
const bRoot = path.resolve(values.b ?? ROOT);
// BENCH_NICE (e.g. -10, as root): both gateways and their generators inherit it (as in cluster.ts), so
// that other work on a shared machine starves neither; a starved gateway batches reads and looks cheaper.
const nice = process.env.BENCH_NICE;
if (nice !== undefined && nice !== '') setPriority(0, Number(nice));
const a = await startSide('A', base, workers, ROOT, process.env.BENCH_A_NODE_ARGS);
const b = await startSide('B', base, workers, bRoot, process.env.BENCH_B_NODE_ARGS);
const sides = [a, b];
const rows: Array<{ round: number; a: ClusterLevel; b: ClusterLevel }> = [];
try {
  await sleep(1000);
  const idle = await Promise.all(sides.map((s) => scrape(s.gw.url)));
  for (let r = 0; r < rounds; r++) {
    process.stderr.write(`round ${r + 1}/${rounds}: ${n} ${direction} calls on A and on B at once\n`);
    const [la, lb] = await Promise.all(sides.map((s, i) => runLevel(s.gw.url, s.gens, n, direction, steadyMs, idle[i] as Awaited<ReturnType<typeof scrape>>)));
    rows.push({ round: r + 1, a: la as ClusterLevel, b: lb as ClusterLevel });
  }
} finally {
  for (const s of sides) {
    await s.gens.stop();
    await s.gw.stop();
    await s.drop();
  }
}
process.stdout.write(`A = ${ROOT} ${process.env.BENCH_A_NODE_ARGS ?? ''}\nB = ${bRoot} ${process.env.BENCH_B_NODE_ARGS ?? ''}\n`);
process.stdout.write('round | A %core/call | B %core/call | A÷B | GC minor share A/B | dropped A/B | lag p99 A/B | RSS MB/call A/B | worker RSS A / B (idle base) | load avg\n');
for (const { round: k, a: la, b: lb } of rows) {
  process.stdout.write(
    `${k} | ${la.cpuPctCorePerCall} | ${lb.cpuPctCorePerCall} | ${round(la.cpuPctCorePerCall / lb.cpuPctCorePerCall, 3)} | ${la.gcMinorShare}/${lb.gcMinorShare} | ${la.failed}/${lb.failed} | ${la.lagP99Ms}/${lb.lagP99Ms} | ${la.rssMbPerCall}/${lb.rssMbPerCall} | ${la.rssMbByWorker.join(',')} (${la.baseRssMbByWorker.join(',')}) / ${lb.rssMbByWorker.join(',')} (${lb.baseRssMbByWorker.join(',')}) | ${la.loadAvg}\n`,
  );
}
const ratios = rows.map((r) => r.a.cpuPctCorePerCall / r.b.cpuPctCorePerCall).sort((x, y) => x - y);
process.stdout.write(`A÷B median ${round(ratios[Math.floor(ratios.length / 2)] as number, 3)} (1-min load now ${round(loadavg()[0] ?? Number.NaN, 1)}, nice ${getPriority(0)})\n`);
