// Where a gateway process's base memory goes: RSS, JS heap, external and ArrayBuffer memory (WASM
// engines live there) after each start-up step, with the embedded database or PostgreSQL
// (DATABASE_URL). `node --expose-gc bench/memoryBase.ts`
import pino from 'pino';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { composeGateway } from '../src/composition.ts';

const mb = (n: number): number => Math.round(n / 1048576);
const rows: Array<Record<string, string | number>> = [];
const show = (step: string): void => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  rows.push({ step, rss: mb(m.rss), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) });
};

show('node + modules');
const config = loadConfig(process.env);
const log = pino({ level: 'warn' });
const runtime = await composeGateway(config, log);
show(`runtime (${runtime.appDeps.db.kind})`);
await runtime.warmedUp;
show('prompt cache warmed');
const app = await buildApp({ ...runtime.appDeps, logger: log });
await app.ready();
show('app ready');
console.table(rows);
await app.close();
await runtime.close();
