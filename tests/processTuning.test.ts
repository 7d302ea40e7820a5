// A gateway process re-executes itself with glibc's mmap threshold and its V8 flags (more of them on
// the embedded database) (see src/processTuning.ts): same pid, same arguments, the flags and variable added once;
// an operator's own values are kept.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_V8_FLAGS, GATEWAY_V8_FLAGS, MALLOC_ENV, missingTuning } from '../src/processTuning.ts';

const run = promisify(execFile);
const ENTRY = fileURLToPath(new URL('../src/processTuningEntry.ts', import.meta.url));
// Prints what the program sees after the entry ran: its pid before and after, its arguments, V8 flags, the variable.
const PROBE = `const before = process.env.PROBE_PID ?? String(process.pid);
if (!process.env.PROBE_PID) process.env.PROBE_PID = before;
await import(${JSON.stringify(ENTRY)});
console.log(JSON.stringify({ before, after: process.pid, args: process.argv.slice(1), execArgv: process.execArgv, threshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? null }));`;

interface Seen {
  before: string;
  after: number;
  args: string[];
  execArgv: string[];
  threshold: string | null;
}

async function probe(env: Record<string, string | undefined>, execArgv: string[] = []): Promise<Seen> {
  const { stdout } = await run(process.execPath, [...execArgv, '--input-type=module', '-e', PROBE, 'one', 'two'], {
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: undefined, PROBE_PID: undefined, NODE_OPTIONS: undefined, ...env },
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Seen;
}

describe('process tuning', () => {
  it.runIf(process.platform === 'linux')('re-executes the embedded database process in place with its flags and threshold, keeping the pid and arguments', async () => {
    const seen = await probe({ DATABASE_URL: '' });
    expect(seen.threshold).toBe(MALLOC_ENV.MALLOC_MMAP_THRESHOLD_);
    expect(seen.execArgv).toEqual(expect.arrayContaining([...GATEWAY_V8_FLAGS, ...EMBEDDED_V8_FLAGS]));
    expect(String(seen.after)).toBe(seen.before);
    expect(seen.args).toEqual(['one', 'two']);
  });

  it.runIf(process.platform === 'linux')('gives a PostgreSQL process the threshold, not the embedded engine flags', async () => {
    const seen = await probe({ DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db' });
    expect(seen.threshold).toBe(MALLOC_ENV.MALLOC_MMAP_THRESHOLD_);
    expect(seen.execArgv).not.toContain('--liftoff-only');
    expect(seen.execArgv).toEqual(expect.arrayContaining([...GATEWAY_V8_FLAGS]));
    expect(String(seen.after)).toBe(seen.before);
  });

  it('keeps an operator-set value and adds nothing it already has', async () => {
    const own = await probe({ DATABASE_URL: '', MALLOC_MMAP_THRESHOLD_: '65536' }, ['--no-liftoff-only']);
    expect(own.threshold).toBe('65536');
    expect(own.execArgv.filter((a) => a.includes('liftoff'))).toEqual(['--no-liftoff-only']);
    expect(missingTuning({ DATABASE_URL: '' }, ['--liftoff_only', '--heap_growing_percent=50'], 'darwin')).toEqual({ execArgv: [], env: {} });
    expect(missingTuning({}, [], 'linux')).toEqual({ execArgv: [...GATEWAY_V8_FLAGS, ...EMBEDDED_V8_FLAGS], env: { ...MALLOC_ENV } });
    expect(missingTuning({ DATABASE_URL: 'postgres://h/db', MALLOC_MMAP_THRESHOLD_: '131072' }, ['--heap-growing-percent=30'], 'linux')).toEqual({ execArgv: [], env: {} });
    expect(missingTuning({ DATABASE_URL: 'postgres://h/db' }, [], 'darwin')).toEqual({ execArgv: [...GATEWAY_V8_FLAGS], env: {} });
  });
});
