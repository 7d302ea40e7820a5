// The whole path: the replay client acts as each carrier (webhook → TwiML → media stream), the real
// server runs the call (default flow: a spoken greeting, then hang up), and the call and its timeline
// are found through the REST API — on PGlite and, when TEST_DATABASE_URL is set (always in CI), on
// PostgreSQL.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall } from '../../src/replay/client.ts';
import { testDatabases } from '../helpers/db.ts';
import { gatewayForSuite, PUBLIC_URL } from '../helpers/gateway.ts';

const HELLO = decodeWav(readFileSync(new URL('../../fixtures/speech/human_hello.wav', import.meta.url)));

describe.each(testDatabases())('replayed calls end to end on %s', (kind) => {
  const gw = gatewayForSuite(kind);

  for (const carrier of ['twilio', 'signalwire'] as const) {
    it(`${carrier}: webhook, stream, spoken greeting with marks, DTMF, hang-up, and the timeline through the API`, async () => {
      const result = await replayCall({ carrier, audio: HELLO, url: gw.wsUrl, publicUrl: PUBLIC_URL, speed: 5, holdMs: 60_000, dtmf: [{ digit: '5', atMs: 600 }] });
      // The default flow speaks its greeting and hangs up: the gateway closes the stream.
      expect(result.endReason).toBe('gateway-closed');
      expect(result.callId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.firstAudio).toBeDefined();
      expect(result.receivedAudioMs).toBeGreaterThan(2000);
      expect(result.marks.length).toBeGreaterThan(5);
      expect(result.marks.every((m) => m.echoedAtMs !== undefined && !m.cleared)).toBe(true);

      await gw.app.gateway.settle();
      await gw.eventLog.flush();
      const { status, body } = await gw.api(`/v1/calls/${result.callId}`);
      expect(status).toBe(200);
      const events = body.events as Array<{ type: string; atMs: number; digit?: string; heardMs?: number; data?: Record<string, unknown> }>;
      expect(body.call).toMatchObject({ carrier, direction: 'inbound', carrierCallId: result.carrierCallId, streamId: result.streamId, endReason: 'default_flow_done', flowId: 'default' });
      expect(body.call.answeredAt).not.toBeNull();
      const types = events.map((e) => e.type);
      expect(types[0]).toBe('call.started');
      // The hang-up node ends the call; only the flow's own bookkeeping is recorded after it.
      const endedAt = types.indexOf('call.ended');
      expect(endedAt).toBeGreaterThan(0);
      expect(types.slice(endedAt + 1).every((t) => t.startsWith('flow.'))).toBe(true);
      expect(types.at(-1)).toBe('flow.ended');
      expect(types).toContain('flow.started');
      expect(events.find((e) => e.type === 'flow.node.entered')?.data).toMatchObject({ node: 'greet', type: 'say' });
      const dtmf = events.find((e) => e.type === 'dtmf');
      expect(dtmf?.digit).toBe('5');
      expect(dtmf?.atMs).toBeGreaterThanOrEqual(600);
      expect(dtmf?.atMs).toBeLessThanOrEqual(640);
      const finished = events.find((e) => e.type === 'playout.finished');
      expect(finished?.heardMs).toBeGreaterThan(2000);
      // Seq numbers are dense and ordered.
      expect((events as unknown as Array<{ seq: number }>).map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));

      const list = await gw.api(`/v1/calls?direction=inbound&number=${encodeURIComponent('+15005550006')}&limit=10`);
      expect(list.status).toBe(200);
      expect((list.body.calls as Array<{ id: string }>).map((c) => c.id)).toContain(result.callId);
    });
  }
});
