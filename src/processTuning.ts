// How a gateway process runs its JavaScript engine and allocator, chosen for its memory (issue 15).
// Node reads V8's flags and glibc reads its malloc variables once, as the process starts, so the entry
// (processTuningEntry.ts, imported first by src/main.ts) re-executes the process with whatever of this
// it lacks: process.execve replaces the program in place (same pid, stdio, arguments and environment,
// plus the flags and variables), before any other module has run. An operator's own value of any of
// them wins (the flag on the command line, in either form, or the variable set). Figures: README, "Base
// memory of a process, fifth pass"; `node --expose-gc bench/memoryBase.ts`.
//
// Every process:
// - `--heap-growing-percent=100` (GATEWAY_V8_FLAGS below: old-generation collections far apart).
// - MALLOC_MMAP_THRESHOLD_=32768 (Linux, glibc): V8 compiles, and collects, on background threads, and
//   glibc's malloc kept what its per-thread arenas freed unless it lay at the top of their heaps (with
//   its dynamic threshold, raised as large blocks are freed, ~70 MB stayed resident after a PGlite
//   open; with a fixed 128 kB threshold still ~40 MB more on a first start than on a restart; 28 MB
//   after a PostgreSQL worker's start, 80 MB after one that ran the offline voice). A fixed 32 kB
//   threshold maps every block from 32 kB up on its own and unmaps it on free (PGlite: first start
//   264 -> 230 MB, restart 240 -> 232 MB; PostgreSQL, measured with 8 MB semi-spaces: first start
//   207 -> 149 MB, restart 148 -> 133 MB), at the same start-up CPU. musl and other allocators ignore it.
// - V8's young generation is left at its default (two 32 MB semi-spaces here), although it is 48-64 MB of
//   a running gateway's RSS: at 8 MB a worker held 40-50 MB less, but under calls arriving at 20 a
//   second the first audio's p99 was 155 ms (median of 7 runs) against 68 ms at 32 MB, more of the
//   calls' set-up surviving into the old generation. An operator who prefers the memory sets
//   NODE_OPTIONS=--max-semi-space-size=8 (README, "Base memory of a process, fifth pass").
//
// With the embedded database (no DATABASE_URL):
// - `--liftoff-only`: PGlite's WASM is compiled by Liftoff, V8's baseline compiler, and never tiered
//   up to TurboFan. One of its functions (105 kB of WASM, PostgreSQL's expression interpreter or its
//   parser) becomes hot as the database opens, and TurboFan's compile of it takes 600 MB of zone
//   memory for 1-2 s (`--trace-wasm-compilation-times`): the start-up peak was 750-800 MB, on a
//   250 MB base, the size a container's memory limit must allow. Liftoff's code costs the database
//   thread ~1.6x its CPU per query (22.7 vs 13.5 µs per event of the event log at steady state), on
//   the thread beside the calls' event loop; opening the database is cheaper (no tier-up compile).
//   Set at run time (v8.setFlagsFromString before PGlite's thread starts) it had no effect: the peak
//   stayed. Flags are per process, so the offline voice's WASM (eSpeak, its own worker thread) runs on
//   Liftoff too (its synthesis time was within the runs' spread).

/** V8 flags for a process that runs the embedded database. */
export const EMBEDDED_V8_FLAGS: readonly string[] = ['--liftoff-only'];
/**
 * V8 flags for every gateway process. `--heap-growing-percent=100`: after a full collection the old
 * generation may grow to twice what survived before the next one, instead of V8's own factor (1.1–4,
 * lowered as the heap nears its limit and while the memory reducer deems the process idle). Under
 * calls arriving and ending, a busy process ran a mark-compact every 2.5–4 s, finishing its incremental
 * marking on the main thread in pauses of 18–88 ms (`--trace-gc`): every call's audio waited. With the
 * fixed factor, 600 outbound calls into one embedded process (AMD on each) read an event-loop delay p99 of
 * 3.2, 4.1 and 4.0 ms against 21.7, 24.3 and 12.5 ms without it (alternated runs on a quiet machine), at
 * the same CPU and RSS (379 against 397 MB); on PostgreSQL's two workers 2.2–2.8 against 2.1–8 ms, and
 * 2–7 MB more per worker at 600 calls. Idle bases are unchanged (README, "The integrated figures, ninth pass").
 */
export const GATEWAY_V8_FLAGS: readonly string[] = ['--heap-growing-percent=100'];
/** Environment for every gateway process (glibc on Linux only). */
export const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '32768' } as const;

export interface ProcessTuning {
  /** V8 flags to add to the command line. */
  execArgv: string[];
  /** Variables to add to the environment. */
  env: Record<string, string>;
}

/** `--liftoff_only` and `--no-liftoff-only` → `liftoff-only`. */
function flagName(arg: string): string {
  return arg.replace(/^--(no-?)?/, '').split('=')[0]?.replace(/_/g, '-') ?? '';
}

/**
 * What a process started with `env` and `execArgv` lacks of its tuning (both empty: nothing). A flag
 * the operator gave in any form (`--no-liftoff-only`, `--liftoff_only`) is theirs and is not added.
 */
export function missingTuning(env: NodeJS.ProcessEnv, execArgv: readonly string[], platform: NodeJS.Platform = process.platform): ProcessTuning {
  const embedded = (env.DATABASE_URL ?? '') === '';
  const given = new Set(execArgv.filter((a) => a.startsWith('--')).map(flagName));
  const wanted = embedded ? [...GATEWAY_V8_FLAGS, ...EMBEDDED_V8_FLAGS] : GATEWAY_V8_FLAGS;
  const tuning: ProcessTuning = { execArgv: wanted.filter((f) => !given.has(flagName(f))), env: {} };
  if (platform === 'linux' && env.MALLOC_MMAP_THRESHOLD_ === undefined) Object.assign(tuning.env, MALLOC_ENV);
  return tuning;
}

/** Re-executes this process with what it lacks of its tuning; returns only when it lacks nothing (or cannot). */
export function reexecWithTuning(): void {
  const tuning = missingTuning(process.env, process.execArgv);
  if ((tuning.execArgv.length === 0 && Object.keys(tuning.env).length === 0) || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...tuning.execArgv, ...process.argv.slice(1)], { ...process.env, ...tuning.env });
  } catch (err) {
    // Not worth failing a start over: the process runs on, untuned.
    process.emitWarning(`could not re-execute with ${[...tuning.execArgv, ...Object.keys(tuning.env)].join(', ')}: ${(err as Error).message}`);
  }
}
