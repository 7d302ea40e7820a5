// Listen-in over HTTP: while a replayed call runs, GET /v1/live/calls/{id}/audio streams both channels
// as `[channel][length BE16][mu-law]` records, and the stream ends with the call. The live SSE stream
// announces the call, its events and its end. In Chromium, a supervisor listening in on the call page
// receives the prompt on the gateway channel while it plays (it was sent to the carrier before they
// joined), and the caller too. A call nobody listens to costs listen-in no copy of its audio.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import { encodeMulaw, MULAW_SILENCE } from '../../dsp/mulaw.ts';
import { decodeWav } from '../../dsp/wav.ts';
import { CallSession } from '../../src/call/CallSession.ts';
import { replayCall } from '../../src/replay/client.ts';
import { gatewayForSuite, PUBLIC_URL, type TestGateway } from '../helpers/gateway.ts';
import { adminPassword, launchBrowser, newPage, shot, signIn } from './browser.ts';

const HELLO = decodeWav(readFileSync(new URL('../../fixtures/speech/human_hello.wav', import.meta.url)));

async function firstLiveCall(gw: TestGateway): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const s = gw.app.gateway.registry.all()[0];
    if (s !== undefined) return s.callId;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no call became live');
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes of array buffers (audio) alive, after a full collection. */
function audioBytesAlive(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
}

describe('live views', () => {
  const gw = gatewayForSuite('pglite');

  it('streams both channels of a live call to a listener, and the call over SSE', async () => {
    const auth = { authorization: `Bearer ${gw.apiKey}` };
    const sse = await fetch(`${gw.httpUrl}/v1/live/stream`, { headers: auth });
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    const sseText = (async () => {
      let text = '';
      const decoder = new TextDecoder();
      for await (const chunk of sse.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        if (text.includes('event: ended')) break;
      }
      return text;
    })();

    const call = replayCall({ carrier: 'twilio', audio: HELLO, url: gw.wsUrl, publicUrl: PUBLIC_URL, speed: 1, holdMs: 60_000 });
    const callId = await firstLiveCall(gw);
    const res = await fetch(`${gw.httpUrl}/v1/live/calls/${callId}/audio`, { headers: auth });
    expect(res.status).toBe(200);
    const chunks: Buffer[] = [];
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
    // The body ended by itself when the call did.
    const result = await call;
    expect(result.endReason).toBe('gateway-closed');

    const body = Buffer.concat(chunks);
    const bytes = [0, 0];
    let gatewayAudible = 0;
    let off = 0;
    while (off + 3 <= body.length) {
      const channel = body[off] as number;
      const len = body.readUInt16BE(off + 1);
      expect(channel === 0 || channel === 1).toBe(true);
      expect(off + 3 + len).toBeLessThanOrEqual(body.length);
      bytes[channel] = (bytes[channel] ?? 0) + len;
      // Mu-law 0xFF/0x7F are ±0; anything far from them is sound.
      if (channel === 1) for (let i = 0; i < len; i++) if (((body[off + 3 + i] as number) & 0x7f) < 0x70) gatewayAudible++;
      off += 3 + len;
    }
    expect(off).toBe(body.length);
    // 8 kHz mu-law: a second of the caller is 8000 bytes, and the call lasts the greeting (about 6 s).
    expect(bytes[0]).toBeGreaterThan(4 * 8000);
    // The gateway channel goes in lockstep with the caller's: what the caller hears over the same span.
    expect(bytes[1]).toBe(bytes[0]);
    // The greeting was sent to the carrier at once, before the listener joined; the listener still
    // hears it as the caller does, while it plays (at least half a second of sound).
    expect(gatewayAudible).toBeGreaterThan(4000);

    const text = await sseText;
    expect(text).toContain('event: snapshot');
    expect(text).toContain(`"id":"${callId}"`);
    expect(text).toContain('"node":"greet"');
    expect(text).toContain('"type":"flow.node.entered"');
    expect(text).toContain(`event: ended\ndata: {"callId":"${callId}"`);
  });

  it('keeps no copy of the outbound audio of a call nobody listens to', () => {
    // Calls as the gateway serves them (in its registry, with the dashboard's live views running), each
    // 1 s into a 5 s prompt sent to the carrier at once (as cached prompts are).
    const prompt = encodeMulaw(Int16Array.from({ length: 40_000 }, (_, i) => Math.round(6000 * Math.sin(i / 3))));
    const silence = new Uint8Array(FRAME_SAMPLES).fill(MULAW_SILENCE);
    const noop = (): void => undefined;
    const registry = gw.app.gateway.registry;
    const CALLS = 50;
    /** Audio bytes alive per call while CALLS calls run (playing the prompt or not). */
    const perCall = (playing: boolean): number => {
      const before = audioBytesAlive();
      const calls = Array.from({ length: CALLS }, (_, i) => {
        const session = new CallSession({
          ...{ callId: `quiet-${playing}-${i}`, carrier: 'twilio', direction: 'inbound', from: '+14155550100', to: '+14155550199' },
          ...{ streamId: `MZ${i}`, carrierCallId: `CA${i}`, parameters: {}, input: { encoding: 'mulaw', sampleRateHz: 8000 } },
          ...{ sink: { sendMedia: noop, sendMark: noop, sendClear: noop, close: noop }, timeline: { append: noop }, log: gw.app.log },
        });
        expect(registry.add(session)).toBe('ok');
        if (playing) session.play(prompt, { label: 'greeting' });
        for (let f = 0; f < 50; f++) session.receiveMedia(silence);
        return session;
      });
      const bytes = (audioBytesAlive() - before) / CALLS;
      for (const session of calls) {
        session.end('test_done');
        registry.remove(session);
      }
      return bytes;
    };
    perCall(true); // warm-up
    // The least of three tries: the gateway's own background work (its database) may allocate meanwhile.
    const extra = Math.min(...[0, 1, 2].map(() => perCall(true) - perCall(false)));
    // 4 s of the prompt are still queued at the carrier (32 KB a call): a copy of it would show here.
    expect(extra).toBeLessThan(prompt.length / 40);
  }, 60_000);

  it('lets a supervisor in Chromium hear the prompt playing and the caller', async () => {
    // A prompt long enough to be still playing once the page is open and listening.
    const long = 'Thank you for calling the clinic. '.repeat(12);
    expect((await gw.api('/v1/flows', { body: { id: 'default', start: 'greet', nodes: { greet: { type: 'say', text: long, next: 'bye' }, bye: { type: 'hangup' } } } })).status).toBe(201);
    const browser = await launchBrowser();
    try {
      const { page, errors } = await newPage(browser, gw.httpUrl);
      await signIn(page, 'admin', adminPassword(gw.tdb.dataDir));
      // The caller keeps talking over the prompt, so both channels carry sound while the page listens.
      const talking = new Int16Array(HELLO.samples.length * 10);
      for (let i = 0; i < 10; i++) talking.set(HELLO.samples, i * HELLO.samples.length);
      const call = replayCall({ carrier: 'twilio', audio: { sampleRateHz: HELLO.sampleRateHz, samples: talking }, url: gw.wsUrl, publicUrl: PUBLIC_URL, speed: 1, holdMs: 60_000 });
      const callId = await firstLiveCall(gw);
      await page.goto(`/#/calls/${callId}`);
      await page.getByRole('button', { name: 'Listen in' }).click();
      // The meters show the level of what the page received and decoded, per channel.
      const level = (testId: string, min: number): Promise<unknown> =>
        page.waitForFunction(
          ([id, least]) => {
            // The page's document (tests are typed without the DOM library).
            const doc = (globalThis as unknown as { document: { querySelector(s: string): { value?: number } | null } }).document;
            return Number(doc.querySelector(`[data-testid="${id}"]`)?.value ?? 0) > least;
          },
          [testId, min] as const,
          { timeout: 20_000 },
        );
      await level('level-gateway', 0.02);
      await level('level-caller', 0.005);
      await shot(page, '30-listen-in');
      await page.getByRole('button', { name: 'Stop listening' }).click();
      gw.app.gateway.registry.get(callId)?.end('test_done');
      await call;
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
