// TTS adapters against the fake vendors (real SDKs), the fallback chain, breakers and the cache.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeMulaw } from '../../dsp/mulaw.ts';
import { CircuitBreaker } from '../../src/resilience/policy.ts';
import { TtsCache } from '../../src/agent/tts/cache.ts';
import { ElevenLabsTts } from '../../src/agent/tts/elevenlabs.ts';
import { ElevenLabsStreamInputTts } from '../../src/agent/tts/elevenlabsStreamInput.ts';
import { FallbackTts, type FallbackNotice } from '../../src/agent/tts/fallback.ts';
import { OfflineTts } from '../../src/agent/tts/offline.ts';
import { OpenAiTts, Pcm24kToMulaw } from '../../src/agent/tts/openai.ts';
import type { TextToSpeech } from '../../src/agent/providers.ts';
import { fakeUlaw, startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabsServer.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openaiServer.ts';

let oai: FakeOpenAi;
let el: FakeElevenLabs;
const offline = new OfflineTts();
beforeAll(async () => {
  [oai, el] = await Promise.all([startFakeOpenAi(), startFakeElevenLabs()]);
});
afterAll(async () => {
  await Promise.all([oai.close(), el.close(), offline.close()]);
});
beforeEach(() => {
  el.stream.length = 0;
  el.streamRequests.length = 0;
  oai.speech.length = 0;
  oai.speechRequests.length = 0;
});

const policy = { retries: 1, baseDelayMs: 1, maxDelayMs: 2, firstChunkTimeoutMs: 3000, idleTimeoutMs: 3000 };
const signal = () => new AbortController().signal;

async function all(tts: TextToSpeech, text: string, opts: Parameters<FallbackTts['synthesize']>[1] = { signal: signal() }): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of tts.synthesize(text, opts)) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

function rms(mulaw: Uint8Array): number {
  const pcm = decodeMulaw(mulaw);
  let acc = 0;
  for (const s of pcm) acc += s * s;
  return Math.sqrt(acc / Math.max(1, pcm.length));
}

/** Dominant frequency by zero crossings (fine for a pure tone). */
function toneHz(mulaw: Uint8Array): number {
  const pcm = decodeMulaw(mulaw);
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if ((pcm[i - 1]! < 0) !== (pcm[i]! < 0)) crossings++;
  return (crossings / 2) / (pcm.length / 8000);
}

const eleven = (o: Partial<ConstructorParameters<typeof ElevenLabsTts>[0]> = {}) =>
  new ElevenLabsTts({ apiKey: el.apiKey, baseUrl: el.baseUrl, voiceId: 'voice1', modelId: 'eleven_flash_v2_5', policy, ...o });
const openai = (o: Partial<ConstructorParameters<typeof OpenAiTts>[0]> = {}) =>
  new OpenAiTts({ apiKey: oai.apiKey, baseURL: oai.baseURL, model: 'gpt-4o-mini-tts', voice: 'alloy', policy, ...o });

describe('ElevenLabsTts (HTTP stream)', () => {
  it('asks for ulaw_8000 and passes the bytes through untouched', async () => {
    const audio = await all(eleven(), 'Hello there.');
    expect(Buffer.from(audio).equals(fakeUlaw('Hello there.'))).toBe(true);
    expect(el.streamRequests[0]).toMatchObject({ voiceId: 'voice1', outputFormat: 'ulaw_8000', body: { text: 'Hello there.', model_id: 'eleven_flash_v2_5' } });
  });

  it('a wrong key is permanent: no retry', async () => {
    await expect(all(eleven({ apiKey: 'bad' }), 'x')).rejects.toMatchObject({ retryable: false, details: { status: 401 } });
  });
});

describe('ElevenLabsStreamInputTts (websocket)', () => {
  it('streams tokens in and mu-law out, ending on isFinal', async () => {
    const tts = new ElevenLabsStreamInputTts({ apiKey: el.apiKey, baseUrl: el.baseUrl, voiceId: 'v2', modelId: 'eleven_flash_v2_5', policy });
    const session = tts.openTextStream(signal());
    for (const t of ['Hi ', 'there. ', 'How are ', 'you? ']) session.write(t);
    session.end();
    const parts: Uint8Array[] = [];
    const chars: number[] = [];
    for await (const c of session) {
      parts.push(c.audio);
      chars.push(c.chars);
    }
    const got = Buffer.concat(parts);
    expect(got.equals(Buffer.concat([fakeUlaw('Hi there. '), fakeUlaw('How are you? ')]))).toBe(true);
    expect(chars).toEqual(['Hi there. '.length, 'How are you? '.length]); // from the alignment
    const s = el.streamInputSessions.at(-1)!;
    expect(s).toMatchObject({ voiceId: 'v2', modelId: 'eleven_flash_v2_5', outputFormat: 'ulaw_8000' });
    expect(s.texts).toEqual(['Hi ', 'there. ', 'How are ', 'you? ']);
  });

  it('synthesize() sends one flushed text', async () => {
    const tts = new ElevenLabsStreamInputTts({ apiKey: el.apiKey, baseUrl: el.baseUrl, voiceId: 'v2', modelId: 'm', policy });
    expect(Buffer.from(await all(tts, 'Okay.')).equals(fakeUlaw('Okay. '))).toBe(true);
  });

  it('a refused key surfaces as an error', async () => {
    const tts = new ElevenLabsStreamInputTts({ apiKey: 'bad', baseUrl: el.baseUrl, voiceId: 'v', modelId: 'm', policy });
    await expect(all(tts, 'x')).rejects.toMatchObject({ code: 'GW_ERR_PROVIDER_FAILED' });
  });
});

describe('OpenAiTts (pcm 24 kHz → 8 kHz mu-law)', () => {
  it('resamples with the shared filter: a third of the samples, the tone kept', async () => {
    const audio = await all(openai(), 'Twenty chars of text');
    // 20 chars × 50 ms = 1 s at 24 kHz → 8000 samples at 8 kHz (± the filter's edges).
    expect(Math.abs(audio.length - 8000)).toBeLessThanOrEqual(4);
    expect(Math.abs(toneHz(audio.subarray(400, 7600)) - 440)).toBeLessThan(10);
    expect(rms(audio.subarray(400, 7600))).toBeGreaterThan(4000);
    expect(oai.speechRequests[0]).toMatchObject({ input: 'Twenty chars of text', voice: 'alloy', response_format: 'pcm' });
  });

  it('carries a sample split across network chunks', () => {
    const whole = new Pcm24kToMulaw();
    const split = new Pcm24kToMulaw();
    const bytes = new Uint8Array(4801 * 2 + 1);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37) & 0xff;
    const a = Buffer.concat([whole.push(bytes.subarray(0, 9602)), whole.flush()]);
    const b = Buffer.concat([split.push(bytes.subarray(0, 4801)), split.push(bytes.subarray(4801, 9602)), split.flush()]);
    expect(a.equals(b)).toBe(true);
  });
});

describe('OfflineTts (eSpeak NG, WASM in a worker)', () => {
  it('speaks with no keys: seconds of 8 kHz mu-law speech for a sentence', async () => {
    const audio = await all(offline, 'Thanks for calling. How can I help?');
    expect(audio.length / 8).toBeGreaterThan(1200);
    expect(audio.length / 8).toBeLessThan(6000);
    expect(rms(audio)).toBeGreaterThan(300);
  });

  it('a cancelled request stops and the next one still works', async () => {
    const ac = new AbortController();
    let n = 0;
    for await (const c of offline.synthesize('This is a long sentence that will be cut off early by the caller.', { signal: ac.signal })) {
      n += c.length;
      ac.abort();
    }
    expect(n).toBeGreaterThan(0);
    expect((await all(offline, 'Next.')).length).toBeGreaterThan(800);
  });

  it('stops its engine when idle (its memory is returned) and starts it again for the next request', async () => {
    const idle = new OfflineTts({ idleMs: 50 });
    try {
      expect((await all(idle, 'One.')).length).toBeGreaterThan(800);
      expect(idle.running).toBe(true);
      await expect.poll(() => idle.running, { timeout: 5_000, interval: 20 }).toBe(false);
      expect((await all(idle, 'Two.')).length).toBeGreaterThan(800);
    } finally {
      await idle.close();
    }
  });

  it('lets go of its engine on request once nothing is being synthesized (after a start\'s warm-up), not while a request runs', async () => {
    const engine = new OfflineTts();
    try {
      expect((await all(engine, 'One.')).length).toBeGreaterThan(800);
      expect(engine.running).toBe(true);
      const it = engine.synthesize('A request still under way.', { signal: new AbortController().signal })[Symbol.asyncIterator]();
      expect((await it.next()).done).toBe(false);
      await engine.releaseIfIdle();
      expect(engine.running).toBe(true);
      await it.return?.();
      await engine.releaseIfIdle();
      expect(engine.running).toBe(false);
      expect((await all(engine, 'Two.')).length).toBeGreaterThan(800);
    } finally {
      await engine.close();
    }
  });
});

describe('FallbackTts', () => {
  it('ElevenLabs failing falls back to OpenAI, then the breaker skips ElevenLabs without a request', async () => {
    const breaker = new CircuitBreaker('elevenlabs', { failureThreshold: 2, cooldownMs: 60_000 });
    el.stream.push({ fault: 'http500' }, { fault: 'http500' });
    const chain = new FallbackTts([eleven({ breaker }), openai(), offline]);
    const notices: FallbackNotice[] = [];
    const used: string[] = [];
    const audio = await all(chain, 'Sorry about that.', { signal: signal(), onFallback: (n) => notices.push(n), onProvider: (p) => used.push(p) });
    expect(audio.length).toBeGreaterThan(0);
    expect(used).toEqual(['openai-tts']);
    expect(notices.map((n) => [n.from, n.to])).toEqual([['elevenlabs', 'openai-tts']]);
    expect(el.streamRequests).toHaveLength(2);
    expect(breaker.current()).toBe('open');
    await all(chain, 'Again.', { signal: signal(), onProvider: (p) => used.push(p) });
    expect(el.streamRequests).toHaveLength(2);
    expect(used).toEqual(['openai-tts', 'openai-tts']);
  });

  it('with every vendor down, the offline voice answers', async () => {
    el.stream.push({ fault: 'http400' });
    oai.speech.push({ fault: 'http400' });
    const used: string[] = [];
    const audio = await all(new FallbackTts([eleven(), openai(), offline]), 'Still here.', { signal: signal(), onProvider: (p) => used.push(p) });
    expect(used).toEqual(['offline-espeak']);
    expect(audio.length).toBeGreaterThan(2000);
  });

  it('a timeout counts as a failure and falls through', async () => {
    el.stream.push({ fault: 'hang' }, { fault: 'hang' });
    const used: string[] = [];
    await all(new FallbackTts([eleven({ policy: { ...policy, firstChunkTimeoutMs: 80 } }), openai()]), 'Hi.', { signal: signal(), onProvider: (p) => used.push(p) });
    expect(used).toEqual(['openai-tts']);
  });

  it('when all fail it says so with a stable code', async () => {
    el.stream.push({ fault: 'http400' });
    oai.speech.push({ fault: 'http400' });
    await expect(all(new FallbackTts([eleven(), openai()]), 'x')).rejects.toMatchObject({ code: 'GW_ERR_TTS_UNAVAILABLE' });
  });
});

describe('TtsCache', () => {
  it('synthesizes a static prompt once; later calls are served from memory', async () => {
    const cache = new TtsCache(eleven());
    const [a, b] = await Promise.all([cache.get('Welcome to Acme.', { signal: signal() }), cache.get('Welcome to Acme.', { signal: signal() })]);
    expect(el.streamRequests).toHaveLength(1);
    expect(a).toBe(b);
    const c = await cache.get('Welcome to Acme.', { signal: signal() });
    expect(c).toBe(a);
    expect(cache.hits).toBe(1);
    expect(el.streamRequests).toHaveLength(1);
  });

  it('is bounded: the least recently used prompt is evicted', async () => {
    const cache = new TtsCache(eleven(), { maxBytes: fakeUlaw('aaaa').length * 2 });
    await cache.get('aaaa', { signal: signal() });
    await cache.get('bbbb', { signal: signal() });
    cache.peek('aaaa'); // touch: bbbb is now the oldest
    await cache.get('cccc', { signal: signal() });
    expect(cache.peek('aaaa')).toBeDefined();
    expect(cache.peek('bbbb')).toBeUndefined();
    expect(cache.peek('cccc')).toBeDefined();
  });

  it('keys by provider and voice as well as text', () => {
    expect(new TtsCache(eleven({ voiceId: 'a' })).key('Hi')).not.toBe(new TtsCache(eleven({ voiceId: 'b' })).key('Hi'));
  });
});
