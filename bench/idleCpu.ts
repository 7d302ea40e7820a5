// The gateway at rest: no calls, nothing streaming. What the process (and, on PGlite, its embedded
// database's thread) spends on its own timers — heartbeats, the dialer, the rollup refresher, metrics —
// and which queries those timers make. On the embedded database all of it is this process's CPU, and
// it is counted in every figure that divides a process's CPU by its work (bench/mediaPath.ts).
// `node bench/idleCpu.ts [--seconds 30] [--settle 10]` (DATABASE_URL unset: PGlite; set: PostgreSQL)
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { startGateway, type GatewayStats } from './lib/gateway.ts';
import { sleep } from './lib/section.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' }, settle: { type: 'string', default: '10' } } });
const seconds = Number(values.seconds);
const settle = Number(values.settle);

const gw = await startGateway({ databaseUrl: process.env.DATABASE_URL ?? '' });
try {
  // Start-up's own work (migrations, prompt warm-up, the first rollup pass, JIT) is not rest.
  await sleep(settle * 1000);
  await gw.resetQueries();
  const a: GatewayStats = await gw.stats();
  const load0 = loadavg()[0] ?? 0;
  await sleep(seconds * 1000);
  const b: GatewayStats = await gw.stats();
  const ms = (x: number): number => Math.round(x / 100) / 10;
  const wallS = (b.wallMs - a.wallMs) / 1000;
  const engine = a.engineCpuUs !== null && b.engineCpuUs !== null ? b.engineCpuUs - a.engineCpuUs : undefined;
  const main = b.mainThreadCpuUs - a.mainThreadCpuUs;
  const total = b.cpuUs - a.cpuUs;
  const queries = b.queries.map((q) => ({ count: q.count, sql: q.sql })).sort((x, y) => y.count - x.count);
  const figure = {
    database: gw.database,
    wallS: Math.round(wallS * 10) / 10,
    loadAverage1m: [Math.round(load0 * 100) / 100, Math.round((loadavg()[0] ?? 0) * 100) / 100],
    processCpuMs: ms(total),
    percentOfCore: Math.round((total / 1000 / (wallS * 1000)) * 1000) / 10,
    mainThreadCpuMs: ms(main),
    engineThreadCpuMs: engine === undefined ? null : ms(engine),
    otherThreadsCpuMs: ms(total - main - (engine ?? 0)),
    queriesPerMinute: Math.round((queries.reduce((n, q) => n + q.count, 0) / wallS) * 60 * 10) / 10,
    queries,
  };
  process.stdout.write(`${JSON.stringify(figure, null, 2)}\n`);
} finally {
  await gw.stop();
}
