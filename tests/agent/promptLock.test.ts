// Once per machine, across real processes (tests/agent/helpers/promptStoreChild.ts): two processes
// wanting a prompt at the same time synthesize it once and both get that file; a process SIGKILLed
// while synthesizing keeps its lock only until it goes stale, then another process synthesizes the
// prompt (once); a live synthesis longer than the stale time keeps its lock, but a waiter's wait is
// bounded; a lost lock is no crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_STALE_MS, LOCK_UPDATE_MS, PromptStore } from '../../src/agent/tts/promptStore.ts';

const CHILD = path.join(import.meta.dirname, 'helpers/promptStoreChild.ts');
const KEY = 'counting|voice|Press one for sales.';

interface Child {
  proc: ChildProcess;
  /** Resolves with the first stdout line starting with `prefix`. */
  line(prefix: string): Promise<string>;
  go(): void;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'prompt-lock-'));
  dirs.push(d);
  return d;
}

function startChild(dir: string, mode: string): Child {
  const proc = spawn(process.execPath, [CHILD, dir, KEY, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(proc);
  const seen: string[] = [];
  const waiting: Array<{ prefix: string; resolve: (l: string) => void }> = [];
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    seen.push(l);
    for (const w of waiting.filter((x) => l.startsWith(x.prefix))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(l);
    }
  });
  return {
    proc,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        const found = seen.find((l) => l.startsWith(prefix));
        if (found !== undefined) return resolve(found);
        waiting.push({ prefix, resolve });
        proc.once('exit', () => setImmediate(() => reject(new Error(`child exited before "${prefix}": ${seen.join(' | ')}`))));
      }),
    go: () => proc.stdin?.write('go\n'),
  };
}

/** A process that took the prompt's lock and whose synthesis never ends. */
async function hungOwner(dir: string): Promise<Child> {
  const owner = startChild(dir, 'hang');
  await owner.line('ready');
  owner.go();
  await owner.line('producing');
  return owner;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('prompt lock across processes', () => {
  it('two processes racing for a prompt synthesize it once; the other gets its file', async () => {
    const dir = await tempDir();
    const a = startChild(dir, '300');
    const b = startChild(dir, '300');
    await Promise.all([a.line('ready'), b.line('ready')]);
    a.go();
    b.go();
    const [ra, rb] = await Promise.all([a.line('result'), b.line('result')]);
    const producers = await Promise.all([a, b].map((c) => c.line('producing').then(() => 1, () => 0)));
    expect(producers[0]! + producers[1]!).toBe(1);
    expect(ra).toBe(rb);
    const files = await readdir(dir);
    expect(files.filter((f) => f.endsWith('.ulaw'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.lock'))).toEqual([]);
  });

  it("keeps a live synthesis's lock past the stale time, and takes over a SIGKILLed owner's lock within it, synthesizing once", async () => {
    const dir = await tempDir();
    const owner = await hungOwner(dir);
    const store = new PromptStore(dir, 64 * 1024 * 1024);
    let produced = 0;
    let producedAt = 0;
    const got = store.readOrProduce(
      KEY,
      async () => {
        produced++;
        producedAt = performance.now();
        return new Uint8Array(4000).fill(7);
      },
      new AbortController().signal,
    );
    // The owner is alive and refreshes its lock: waiting longer than the stale time changes nothing.
    await new Promise((r) => setTimeout(r, LOCK_STALE_MS + 2 * LOCK_UPDATE_MS));
    expect(produced).toBe(0);
    const killedAt = performance.now();
    owner.proc.kill('SIGKILL');
    const audio = await got;
    expect(produced).toBe(1);
    // Taken over once the dead owner's lock went stale (its age, not a pid check, frees it: not at
    // once), within the stale time plus the refresh period and slack for a loaded machine.
    expect(producedAt - killedAt).toBeGreaterThan(1_000);
    expect(producedAt - killedAt).toBeLessThan(LOCK_STALE_MS + LOCK_UPDATE_MS + 2_000);
    expect(sha(audio)).toBe(sha(new Uint8Array(4000).fill(7)));
    expect(store.produced).toBe(1);
    // Stored for every later process: a fresh store reads it without synthesizing.
    const later = new PromptStore(dir, 64 * 1024 * 1024);
    const again = await later.readOrProduce(KEY, () => Promise.reject(new Error('synthesized twice')), new AbortController().signal);
    expect(sha(again)).toBe(sha(audio));
    expect((await readdir(dir)).filter((f) => f.endsWith('.lock'))).toEqual([]);
  }, 40_000);

  it("does not wait forever on a live owner whose synthesis hangs: after its longest wait it synthesizes the prompt itself", async () => {
    const dir = await tempDir();
    const owner = await hungOwner(dir);
    const store = new PromptStore(dir, 64 * 1024 * 1024, { lockWaitMaxMs: 1_500 });
    let produced = 0;
    const t0 = performance.now();
    const audio = await store.readOrProduce(
      KEY,
      async () => {
        produced++;
        return new Uint8Array(4000).fill(9);
      },
      new AbortController().signal,
    );
    const waited = performance.now() - t0;
    expect(produced).toBe(1);
    expect(waited).toBeGreaterThanOrEqual(1_500);
    expect(waited).toBeLessThan(LOCK_STALE_MS);
    // The owner is still alive and holds its lock: this was the wait's bound, not a takeover.
    expect(owner.proc.exitCode).toBeNull();
    expect((await readdir(dir)).filter((f) => f.endsWith('.lock'))).toHaveLength(1);
    expect(sha(audio)).toBe(sha(new Uint8Array(4000).fill(9)));
  });

  it('a lock lost during a synthesis (removed under it) is counted, not a crash; the prompt is still stored', async () => {
    const dir = await tempDir();
    const store = new PromptStore(dir, 64 * 1024 * 1024);
    let lockRemoved = false;
    const audio = await store.readOrProduce(
      KEY,
      async () => {
        const locks = (await readdir(dir)).filter((f) => f.endsWith('.lock'));
        expect(locks).toHaveLength(1);
        await rm(path.join(dir, locks[0]!), { recursive: true });
        lockRemoved = true;
        // Past the next refresh, which finds the lock gone: proper-lockfile's default would throw here.
        await new Promise((r) => setTimeout(r, LOCK_UPDATE_MS * 2.5));
        return new Uint8Array(4000).fill(3);
      },
      new AbortController().signal,
    );
    expect(lockRemoved).toBe(true);
    expect(store.compromised).toBe(1);
    expect(audio.length).toBe(4000);
    const later = new PromptStore(dir, 64 * 1024 * 1024);
    expect((await later.read(KEY))?.length).toBe(4000);
  });
});
