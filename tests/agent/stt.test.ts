// OpenAI realtime transcription through the SDK's websocket client, against the fake over TLS with
// the committed test certificate.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SttEvent, SttStream } from '../../src/agent/providers.ts';
import { OpenAiRealtimeStt } from '../../src/agent/stt/openaiRealtime.ts';
import { startFakeOpenAi, TEST_CA, type FakeOpenAi } from '../fakes/openaiServer.ts';

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.realtime.length = 0;
  fake.realtimeConnections.length = 0;
});

/** Feed `ms` of mu-law in 20 ms frames, pausing like a live stream so socket events interleave. */
async function feed(stream: { write(b: Uint8Array, atMs: number): void }, fromMs: number, ms: number): Promise<void> {
  const frame = new Uint8Array(160).fill(0x55);
  for (let t = fromMs; t < fromMs + ms; t += 20) {
    stream.write(frame, t);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Feed audio (200 ms at a time, at most `batches` times) until the stream fails; the error. */
async function failureOf(stream: SttStream, batches: number): Promise<unknown> {
  let error: unknown;
  const pump = (async () => {
    try {
      for await (const _ of stream);
    } catch (err) {
      error = err;
    }
  })();
  for (let i = 0; i < batches && error === undefined; i++) await feed(stream, i * 200, 200);
  await pump;
  return error;
}

async function until<T>(items: T[], pred: (items: T[]) => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred(items)) {
    if (Date.now() > end) throw new Error(`condition not met; got ${JSON.stringify(items)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('OpenAiRealtimeStt', () => {
  it('configures a pcmu transcription session, passes the bytes through, and maps partials and finals', async () => {
    fake.realtime.push([
      { atAudioMs: 200, type: 'speech_started' },
      { atAudioMs: 300, type: 'delta', text: 'I need ' },
      { atAudioMs: 400, type: 'delta', text: 'billing' },
      { atAudioMs: 600, type: 'speech_stopped' },
      { atAudioMs: 700, type: 'completed', text: 'I need billing.' },
    ]);
    const stt = new OpenAiRealtimeStt({ apiKey: fake.apiKey, baseURL: fake.tlsBaseURL, model: 'gpt-4o-transcribe', ca: TEST_CA });
    const ac = new AbortController();
    const stream = stt.open({ signal: ac.signal, language: 'en' });
    const events: SttEvent[] = [];
    const pump = (async () => {
      for await (const e of stream) events.push(e);
    })();
    // The call is 5 s old when the agent starts listening: server times are shifted to media time.
    await feed(stream, 5000, 800);
    await until(events, (e) => e.some((x) => x.type === 'final'));
    expect(events).toEqual([
      { type: 'speech_started', atMs: 5200 },
      { type: 'partial', text: 'I need ' },
      { type: 'partial', text: 'I need billing' },
      { type: 'speech_stopped', atMs: 5600 },
      { type: 'final', text: 'I need billing.' },
    ]);
    const conn = fake.realtimeConnections[0]!;
    expect(conn.url).toContain('/v1/realtime?intent=transcription');
    expect(conn.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(conn.sessionUpdate).toMatchObject({
      type: 'transcription',
      audio: { input: { format: { type: 'audio/pcmu' }, transcription: { model: 'gpt-4o-transcribe', language: 'en' }, turn_detection: { type: 'server_vad' } } },
    });
    expect(conn.audioBytes).toBe(800 * 8); // every byte, unchanged in count (no transcoding)
    ac.abort();
    await pump;
  });

  it('reconnects after a dropped socket and carries on transcribing', async () => {
    fake.realtime.push([{ atAudioMs: 300, type: 'drop' }], [{ atAudioMs: 200, type: 'completed', text: 'still here' }]);
    const stt = new OpenAiRealtimeStt({ apiKey: fake.apiKey, baseURL: fake.tlsBaseURL, model: 'm', ca: TEST_CA, reconnectBaseDelayMs: 10 });
    const ac = new AbortController();
    const stream = stt.open({ signal: ac.signal });
    const events: SttEvent[] = [];
    const pump = (async () => {
      for await (const e of stream) events.push(e);
    })();
    await feed(stream, 0, 1200);
    await until(events, (e) => e.some((x) => x.type === 'final'));
    expect(fake.realtimeConnections).toHaveLength(2);
    expect(fake.realtimeConnections[1]!.sessionUpdate).toBeDefined();
    expect(events).toContainEqual({ type: 'final', text: 'still here' });
    stream.close();
    await pump;
  });

  it('fails the stream after the bounded number of reconnects', async () => {
    fake.realtime.push([{ atAudioMs: 100, type: 'drop' }]);
    const stt = new OpenAiRealtimeStt({ apiKey: fake.apiKey, baseURL: fake.tlsBaseURL, model: 'm', ca: TEST_CA, reconnectBaseDelayMs: 5, maxReconnects: 2 });
    const ac = new AbortController();
    const error = await failureOf(stt.open({ signal: ac.signal }), 40);
    expect(error).toMatchObject({ code: 'GW_ERR_STT_DISCONNECTED' });
    expect(fake.realtimeConnections).toHaveLength(3);
    ac.abort();
  });

  it('a session the server refuses (error event) fails the stream instead of going quiet', async () => {
    fake.realtime.push([{ atAudioMs: 100, type: 'error', code: 'invalid_value', message: 'Invalid model' }]);
    const stt = new OpenAiRealtimeStt({ apiKey: fake.apiKey, baseURL: fake.tlsBaseURL, model: 'nope', ca: TEST_CA });
    const error = await failureOf(stt.open({ signal: new AbortController().signal }), 20);
    expect(error).toMatchObject({ code: 'GW_ERR_STT_FAILED', details: { code: 'invalid_value' } });
    expect(fake.realtimeConnections).toHaveLength(1);
  });
});
