// The prompt cache survives a restart: a second cache on the same folder plays the prompt without a
// synthesis; the folder is bounded (oldest prompts evicted); cached prompts' base64 is encoded once.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TextToSpeech } from '../../src/agent/providers.ts';
import { TtsCache } from '../../src/agent/tts/cache.ts';
import { base64Of } from '../../src/call/encodedAudio.ts';

function countingTts(opts: { delayMs?: number; fail?: boolean } = {}): TextToSpeech & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'counting',
    calls,
    async *synthesize(text) {
      calls.push(text);
      if (opts.delayMs !== undefined) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (opts.fail === true) throw new Error('voice vendor down');
      yield new Uint8Array(4000).fill(text.length & 0xff);
    },
  };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'prompt-cache-'));
  dirs.push(d);
  return d;
}

describe('prompt cache on disk', () => {
  it('serves a prompt synthesized by an earlier process without synthesizing again', async () => {
    const dir = await tempDir();
    const signal = new AbortController().signal;
    const first = countingTts();
    const a = new TtsCache(first, { dir });
    const audio = await a.get('Welcome to the gateway.', { signal });
    await a.idle();
    const second = countingTts();
    const b = new TtsCache(second, { dir });
    const again = await b.get('Welcome to the gateway.', { signal });
    expect(second.calls).toEqual([]);
    expect(Buffer.from(again).equals(Buffer.from(audio))).toBe(true);
    // A different text is still synthesized.
    await b.get('Another prompt', { signal });
    expect(second.calls).toEqual(['Another prompt']);
  });

  it('stays within its byte bound, evicting the oldest prompts', async () => {
    const dir = await tempDir();
    const signal = new AbortController().signal;
    const cache = new TtsCache(countingTts(), { dir, maxDiskBytes: 10_000 });
    for (const t of ['one', 'two', 'three', 'four']) {
      await cache.get(t, { signal });
      await cache.idle();
    }
    const files = (await readdir(dir)).filter((f) => f.endsWith('.ulaw'));
    expect(files).toHaveLength(2);
    const later = countingTts();
    const reopened = new TtsCache(later, { dir, maxDiskBytes: 10_000 });
    await reopened.get('four', { signal });
    await reopened.get('one', { signal });
    await reopened.idle();
    expect(later.calls).toEqual(['one']);
  });

  it('encodes a cached prompt chunk to base64 once and reuses it', async () => {
    const cache = new TtsCache(countingTts());
    const audio = await cache.get('hello', { signal: new AbortController().signal });
    const chunk = audio.subarray(800, 1600);
    const first = base64Of(chunk);
    expect(first).toBe(Buffer.from(chunk).toString('base64'));
    expect(base64Of(audio.subarray(800, 1600))).toBe(first);
    // Audio that is not a cached prompt may change between sends: never remembered.
    const live = new Uint8Array(800);
    const before = base64Of(live);
    live.fill(7);
    expect(base64Of(live)).not.toBe(before);
  });

  it('synthesizes a prompt once when two processes want it at the same time: the other waits for its file', async () => {
    const dir = await tempDir();
    const signal = new AbortController().signal;
    const slow = countingTts({ delayMs: 300 });
    const other = countingTts({ delayMs: 300 });
    const a = new TtsCache(slow, { dir });
    const b = new TtsCache(other, { dir });
    const [fromA, fromB] = await Promise.all([a.get('Press one for sales.', { signal }), b.get('Press one for sales.', { signal })]);
    expect(slow.calls.length + other.calls.length).toBe(1);
    expect(Buffer.from(fromA).equals(Buffer.from(fromB))).toBe(true);
    expect(a.storeCounts.produced + b.storeCounts.produced).toBe(1);
    expect(a.storeCounts.waited + b.storeCounts.waited).toBe(1);
    expect((await readdir(dir)).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });

  it('takes over a prompt whose synthesis failed, and a lock file left by the earlier store', async () => {
    const dir = await tempDir();
    const signal = new AbortController().signal;
    const failing = new TtsCache(countingTts({ fail: true, delayMs: 100 }), { dir });
    const tts = countingTts();
    const waiter = new TtsCache(tts, { dir });
    const failed = failing.get('Goodbye.', { signal }).then(
      () => 'played',
      (err: unknown) => String(err),
    );
    await new Promise((r) => setTimeout(r, 20));
    const got = await waiter.get('Goodbye.', { signal });
    expect(await failed).toMatch(/vendor down/);
    expect(got.length).toBe(4000);
    expect(tts.calls).toEqual(['Goodbye.']);
    // A lock file left by the earlier pid-based store (a crash of that version) is not waited on.
    const key = new TtsCache(countingTts(), { dir }).key('Hello again.');
    const { createHash } = await import('node:crypto');
    await writeFile(path.join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.ulaw.lock`), '2147483646');
    const cache = new TtsCache(countingTts(), { dir });
    const started = performance.now();
    await cache.get('Hello again.', { signal });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(cache.storeCounts.produced).toBe(1);
  });

  it('still plays a prompt when the folder cannot be written', async () => {
    const dir = await tempDir();
    const tts = countingTts();
    // A file where the folder should be: no lock, no prompt file can be made in it.
    const blocked = path.join(dir, 'not-a-folder');
    await writeFile(blocked, 'x');
    const cache = new TtsCache(tts, { dir: blocked });
    const audio = await cache.get('Welcome.', { signal: new AbortController().signal });
    expect(audio.length).toBe(4000);
    expect(tts.calls).toEqual(['Welcome.']);
  });
});
