// The whole path: the replay client acts as each carrier (webhook → TwiML → media stream), the real
// server runs the call, and the call and its timeline are found through the REST API — on PGlite and,
// when TEST_DATABASE_URL is set (always in CI), on PostgreSQL.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall } from '../../src/replay/client.ts';
import { testDatabases } from '../helpers/db.ts';
import { PUBLIC_URL, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const HELLO = decodeWav(readFileSync(new URL('../../fixtures/speech/human_hello.wav', import.meta.url)));

describe.each(testDatabases())('replayed calls end to end on %s', (kind) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(kind);
  });
  afterAll(async () => {
    await gw?.close();
  });

  for (const carrier of ['twilio', 'signalwire'] as const) {
    it(`${carrier}: webhook, stream, greeting with marks, DTMF, and the timeline through the API`, async () => {
      const result = await replayCall({
        carrier,
        audio: HELLO,
        url: gw.wsUrl,
        publicUrl: PUBLIC_URL,
        speed: 10,
        holdMs: 2500,
        dtmf: [{ digit: '5', atMs: 600 }],
      });
      expect(result.endReason).toBe('finished');
      expect(result.callId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.firstAudio).toBeDefined();
      expect(result.receivedAudioMs).toBeGreaterThan(1000);
      expect(result.marks.length).toBeGreaterThan(5);
      expect(result.marks.every((m) => m.echoedAtMs !== undefined && !m.cleared)).toBe(true);

      await gw.app.gateway.settle();
      await gw.eventLog.flush();
      const res = await gw.api(`/v1/calls/${result.callId}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { call: Record<string, unknown>; events: Array<{ type: string; atMs: number; digit?: string; heardMs?: number }> };
      expect(body.call).toMatchObject({ carrier, direction: 'inbound', carrierCallId: result.carrierCallId, streamId: result.streamId, endReason: 'stream_stopped' });
      expect(body.call.answeredAt).not.toBeNull();
      const types = body.events.map((e) => e.type);
      expect(types[0]).toBe('call.started');
      expect(types.at(-1)).toBe('call.ended');
      const dtmf = body.events.find((e) => e.type === 'dtmf');
      expect(dtmf?.digit).toBe('5');
      expect(dtmf?.atMs).toBeGreaterThanOrEqual(600);
      expect(dtmf?.atMs).toBeLessThanOrEqual(640);
      // The greeting goes out on `start`, before the first inbound frame is processed (media time 0).
      expect(body.events.find((e) => e.type === 'playout.started')?.atMs).toBe(0);
      const finished = body.events.find((e) => e.type === 'playout.finished');
      expect(finished?.heardMs).toBeGreaterThan(1000);

      const list = (await (await gw.api(`/v1/calls?direction=inbound&number=${encodeURIComponent('+15005550006')}`)).json()) as { calls: Array<{ id: string }> };
      expect(Array.isArray(list.calls)).toBe(true);
    });
  }
});
