// Gives back the memory a gateway's start-up grew and does not need again. V8 sizes its young
// generation to the allocation rate: loading ~450 modules and composing the runtime grows it to its
// maximum (two 32 MB semi-spaces here), and it shrinks only on a memory-reducing collection, which a
// process that then sits waiting for calls seldom runs: 48-64 MB of a gateway's resident memory at
// rest was that young generation (README, "Base memory of a process, fifth pass"). One collection
// that reduces memory ("last resort": the heap compacted, the young generation shrunk to its minimum),
// run once before the server listens, so no call is in progress to feel its pause (59-74 ms, measured). Under
// calls the young generation grows again with their allocation, as before: a smaller maximum
// (--max-semi-space-size=8) was measured too, and made the first audio's p99 under 20 arrivals a
// second worse, so the maximum is left as it is.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** Runs one memory-reducing full collection; returns its duration (ms), or undefined when it could not. */
export function releaseStartupMemory(): number | undefined {
  // V8 gives a context created after this flag a `gc` function; the process's own global is left alone.
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('typeof gc === "function" ? gc : undefined') as Gc | undefined;
  if (gc === undefined) return undefined;
  const started = performance.now();
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return Math.round(performance.now() - started);
}
