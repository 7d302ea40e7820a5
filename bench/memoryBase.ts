// Where a gateway process's base memory goes: RSS, JS heap, external and ArrayBuffer memory (WASM
// engines live there) after each start-up step, with the embedded database or PostgreSQL
// (DATABASE_URL). Twice on one data folder: a first start (an empty folder: the offline voice is
// loaded to synthesize the prompts, PGlite runs initdb) and a restart (prompts on disk), which is what
// a worker of a running deployment looks like. The modules are imported one group at a time so each
// group's share shows; the database is opened as its own step; every reading but `rssNoGc` is taken
// after a full GC (which also shrinks V8's young generation: `rssNoGc` is the RSS the step left, closer
// to what a running gateway holds); peakRss is the highest RSS so far (start-up's transient WASM
// compilation); `malloc` is what glibc's allocator holds resident (freed memory it kept
// shows there); the last row, 5 s after ready, is the base a process keeps. The measuring
// process gets the V8 flags and environment src/main.ts gives itself (src/processTuning.ts).
// `node --expose-gc bench/memoryBase.ts` (a data folder of your own: DATA_DIR)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingTuning } from '../src/processTuning.ts';

const mb = (n: number): number => Math.round(n / 1048576);

interface Row {
  step: string;
  /** Milliseconds since the measuring process started. */
  ms: number;
  /** RSS as the step left it, before the full GC the other columns are read after (V8's young generation shows here). */
  rssNoGc: number;
  rss: number;
  /** The highest RSS so far (VmHWM): start-up's transient peaks (WASM compilation) show here. */
  peakRss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Resident in glibc's malloc: its main heap (brk) and the 64 MB heaps of its per-thread arenas. */
  malloc: number;
}

/**
 * RSS (bytes) of glibc malloc's own memory, from /proc/self/smaps: the brk heap, and each thread
 * arena's heap (an anonymous read-write mapping followed by its inaccessible reserve, 64 MB together).
 * Memory freed there but not given back (V8's compile zones on background threads) shows here.
 */
function mallocRss(): number {
  const maps: Array<{ sizeKb: number; perms: string; path: string; rssKb: number }> = [];
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header !== null) maps.push({ sizeKb: (parseInt(header[2] ?? '0', 16) - parseInt(header[1] ?? '0', 16)) / 1024, perms: header[3] ?? '', path: header[4] ?? '', rssKb: 0 });
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    const last = maps[maps.length - 1];
    if (rss !== null && last !== undefined) last.rssKb = Number(rss[1]);
  }
  let kb = 0;
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    const arena = m.path === '' && next !== undefined && next.path === '' && next.perms === '---p' && m.sizeKb + next.sizeKb === 64 * 1024;
    if (m.path === '[heap]' || arena) kb += m.rssKb;
  });
  return kb * 1024;
}

/** One start: each step's memory after a full GC, as JSON on stdout. */
async function measureOneStart(): Promise<void> {
  const rows: Row[] = [];
  const show = (step: string): void => {
    const rssNoGc = process.memoryUsage.rss();
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN);
    rows.push({ step, ms: Math.round(performance.now()), rssNoGc: mb(rssNoGc), rss: mb(m.rss), peakRss: mb(hwmKb * 1024), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), malloc: mb(mallocRss()) });
  };
  // This script is TypeScript: Node's type stripping (a WASM build of swc) is already loaded.
  show('node + TypeScript type stripping');
  await Promise.all(['fastify', 'pg', 'ws', 'pino', 'prom-client', 'ajv', 'libphonenumber-js'].map((m) => import(m)));
  show('+ fastify, pg, ws, pino, prom-client, ajv, libphonenumber-js');
  // The openai and ElevenLabs SDKs are not here: a process imports them only when it has their key
  // (src/agent/openaiSdk.ts, src/agent/tts/elevenlabs.ts).
  const [{ buildApp }, { loadConfig }, { composeGateway }, { default: pino }] = await Promise.all([import('../src/app.ts'), import('../src/config.ts'), import('../src/composition.ts'), import('pino')]);
  show('+ the gateway\'s own modules');
  const config = loadConfig(process.env);
  const log = pino({ level: 'warn' });
  const { openDatabase } = await import('../src/store/db.ts');
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
  show(`database open and migrated (${db.kind})`);
  const runtime = await composeGateway(config, log, { db });
  show('runtime composed');
  await runtime.warmedUp;
  show('prompt cache warmed');
  const app = await buildApp({ ...runtime.appDeps, logger: log });
  await app.ready();
  show('app ready');
  // As src/main.ts does before it listens.
  const { releaseStartupMemory } = await import('../src/startupMemory.ts');
  releaseStartupMemory();
  show('start-up memory released (a last-resort GC)');
  // Start-up's transient memory (V8 optimizing PGlite's WASM on background threads, their compile
  // zones) is given back within seconds: what a process then keeps is its base.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  show('5 s after ready (base)');
  await app.close();
  await runtime.close();
  await db.close();
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}

if (process.env.MEMORY_BASE_CHILD === '1') {
  await measureOneStart();
} else {
  const own = process.env.DATA_DIR;
  const dataDir = own ?? mkdtempSync(path.join(tmpdir(), 'gw-memory-base-'));
  try {
    const starts: Array<{ label: string; rows: Row[] }> = [];
    // As src/main.ts runs itself (src/processTuning.ts).
    const tuning = missingTuning(process.env, process.execArgv);
    for (const label of ['first start (empty data folder)', 'restart (prompts on disk)']) {
      const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', ...tuning.execArgv, fileURLToPath(import.meta.url)], {
        env: { ...process.env, ...tuning.env, MEMORY_BASE_CHILD: '1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 16 * 1048576,
      });
      const line = child.stdout.trim().split('\n').pop() ?? '';
      if (child.status !== 0 || !line.startsWith('[')) throw new Error(`the measuring process failed (exit ${child.status}): ${child.stdout.slice(-500)}`);
      starts.push({ label, rows: JSON.parse(line) as Row[] });
    }
    for (const s of starts) {
      process.stdout.write(`${s.label}, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}, V8 flags ${[...process.execArgv, ...tuning.execArgv].join(' ') || 'none'}:\n`);
      console.table(s.rows);
    }
  } finally {
    if (own === undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}
