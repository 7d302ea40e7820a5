// The embedded database's process re-executes itself with a fixed malloc mmap threshold (see
// src/store/mallocTuning.ts): same pid, same arguments, the variable set; not with PostgreSQL, and an
// operator's own value is kept.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MALLOC_TUNING_ENV, wantsMallocTuning } from '../../src/store/mallocTuning.ts';

const run = promisify(execFile);
const ENTRY = fileURLToPath(new URL('../../src/store/mallocTuningEntry.ts', import.meta.url));
// Prints what the program sees after the entry ran: its pid before and after, its arguments, the variable.
const PROBE = `const before = process.env.PROBE_PID ?? String(process.pid);
if (!process.env.PROBE_PID) process.env.PROBE_PID = before;
await import(${JSON.stringify(ENTRY)});
console.log(JSON.stringify({ before, after: process.pid, args: process.argv.slice(1), threshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? null }));`;

async function probe(env: Record<string, string | undefined>): Promise<{ before: string; after: number; args: string[]; threshold: string | null }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', PROBE, 'one', 'two'], { env: { ...process.env, MALLOC_MMAP_THRESHOLD_: undefined, PROBE_PID: undefined, ...env } });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

describe('malloc tuning of the embedded database process', () => {
  it.runIf(process.platform === 'linux')('re-executes in place with the threshold set, keeping the pid and arguments', async () => {
    const seen = await probe({ DATABASE_URL: '' });
    expect(seen.threshold).toBe(MALLOC_TUNING_ENV.MALLOC_MMAP_THRESHOLD_);
    expect(String(seen.after)).toBe(seen.before);
    expect(seen.args).toEqual(['one', 'two']);
  });

  it('leaves a PostgreSQL process, and an operator-set value, alone', async () => {
    expect((await probe({ DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db' })).threshold).toBeNull();
    expect((await probe({ DATABASE_URL: '', MALLOC_MMAP_THRESHOLD_: '65536' })).threshold).toBe('65536');
    expect(wantsMallocTuning({ DATABASE_URL: '' }, 'darwin')).toBe(false);
    expect(wantsMallocTuning({}, 'linux')).toBe(true);
  });
});
