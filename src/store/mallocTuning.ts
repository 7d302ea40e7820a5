// Memory the embedded database's start-up leaves behind. Opening PGlite makes V8 compile its 9 MB of
// WASM, first quickly and then, for its hot functions, optimized on background threads whose compile
// zones take hundreds of MB for a few seconds; a first start also runs the offline voice (eSpeak's
// WASM, on a worker thread) to synthesize the shipped prompts. That memory is freed, but glibc's malloc
// keeps what its per-thread arenas free unless it lies at the top of their heaps: with its dynamic mmap
// threshold (raised as large blocks are freed, up to 32 MB) ~70 MB stayed resident for good after a
// PGlite open, and with a fixed 128 kB threshold still ~40 MB more on a first start than on a restart
// (`bench/memoryBase.ts`, its `malloc` column: 59 vs 24 MB). A fixed 32 kB threshold maps every block
// from 32 kB up on its own and unmaps it on free: 16-22 MB on either start (first start 264 -> 230 MB,
// restart 240 -> 232 MB), at the same start-up CPU (a socket read's buffer is not malloc'd per read;
// whether the media path pays a little was within the runs' spread, see the README). glibc reads the
// variable once, as the process starts, so the entry re-executes itself with it: process.execve
// replaces the program in place (same pid, stdio, arguments and environment plus this variable),
// before any other module has run. Only for the embedded database (no DATABASE_URL), only on Linux,
// and not when the variable is already set (an operator's own value wins); musl and other allocators
// ignore it.
export const MALLOC_TUNING_ENV = { MALLOC_MMAP_THRESHOLD_: '32768' } as const;

/** Whether a process started with `env` would be re-executed with MALLOC_TUNING_ENV. */
export function wantsMallocTuning(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'linux' && (env.DATABASE_URL ?? '') === '' && env.MALLOC_MMAP_THRESHOLD_ === undefined;
}

/** Re-executes this process with MALLOC_TUNING_ENV when it wants it; returns only when it does not (or cannot). */
export function reexecWithMallocTuning(): void {
  if (!wantsMallocTuning(process.env) || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, ...MALLOC_TUNING_ENV });
  } catch (err) {
    // Not worth failing a start over: the process runs on, with glibc's defaults.
    process.emitWarning(`could not re-execute with ${Object.keys(MALLOC_TUNING_ENV).join(', ')}: ${(err as Error).message}`);
  }
}
