// A shared synthesis whose callers have all gone must not end the process when it fails: a prefetch
// asked with an already-aborted signal (a gateway stopping while it warms its prompts) used to start
// one and leave its rejection unhandled, which Node turns into an exit with code 1.
import { describe, expect, it } from 'vitest';
import type { TextToSpeech } from '../../src/agent/providers.ts';
import { TtsCache } from '../../src/agent/tts/cache.ts';

function failingTts(calls: string[]): TextToSpeech {
  return {
    name: 'failing',
    async *synthesize(text) {
      calls.push(text);
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('voice vendor down');
      yield new Uint8Array(0);
    },
  };
}

describe('prompt cache in memory', () => {
  it('refuses an aborted caller without starting a synthesis', async () => {
    const calls: string[] = [];
    const cache = new TtsCache(failingTts(calls));
    const aborted = AbortSignal.abort();
    await expect(cache.get('Welcome.', { signal: aborted })).rejects.toMatchObject({ name: 'AbortError' });
    await cache.prefetch(['Welcome.', 'Goodbye.'], aborted);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual([]);
  });

  it('lets a shared synthesis fail quietly when its only caller aborted, and reports it to callers still waiting', async () => {
    const calls: string[] = [];
    const cache = new TtsCache(failingTts(calls));
    const caller = new AbortController();
    const first = cache.get('Welcome.', { signal: caller.signal });
    const second = cache.get('Welcome.', { signal: new AbortController().signal });
    caller.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    await expect(second).rejects.toThrow('voice vendor down');
    expect(calls).toEqual(['Welcome.']);
    // Closing with nothing in flight, then asking again: refused, nothing unhandled.
    cache.close();
    await new Promise((r) => setTimeout(r, 50));
  });
});
