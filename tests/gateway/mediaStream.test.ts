// The media-stream websocket's defences: no audio is processed without a token we issued, malformed
// and unknown messages are counted and ignored, and one bad stream does not disturb another.
import { describe, expect, it } from 'vitest';
import { twilioCarrierDialect } from '../../src/telephony/twilio.ts';
import { gatewayForSuite } from '../helpers/gateway.ts';
import { SILENCE_FRAME, openMediaSocket, streamStart, voiceWebhook } from '../helpers/carrierStream.ts';

const dialect = twilioCarrierDialect;

describe('media stream websocket', () => {
  const gw = gatewayForSuite('pglite', { env: { MAX_MESSAGE_BYTES: '4096' } });

  it('closes a stream whose start has no valid token before any audio is processed', async () => {
    const sid = 'CA10000000000000000000000000000001';
    const params = (await voiceWebhook(gw, sid)).params;
    const before = gw.app.gateway.counters.rejectedStreams;
    const { ws, closed, received } = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
    ws.send(dialect.connected());
    ws.send(dialect.start(1, streamStart(sid, { ...params, token: `${params.token?.split('.')[0]}.forged` })));
    ws.send(dialect.media(2, `MZ${sid.slice(2)}`, { track: 'inbound', chunk: 1, timestampMs: 0, payloadBase64: SILENCE_FRAME }));
    const { code } = await closed;
    expect(code).toBe(1008);
    expect(received).toEqual([]); // no greeting, no session
    expect(gw.app.gateway.counters.rejectedStreams).toBe(before + 1);
    expect(gw.app.gateway.registry.size).toBe(0);
  });

  it('refuses a start whose media format the gateway cannot take, as unsupported (1003), whatever is wrong with it', async () => {
    const formats = [
      { encoding: 'audio/x-mulaw' as const, sampleRateHz: 8000, channels: 2 },
      { encoding: 'audio/x-mulaw' as const, sampleRateHz: 16000, channels: 1 },
      { encoding: 'audio/x-L16' as const, sampleRateHz: 16000, channels: 1 }, // Twilio streams mu-law only
    ];
    for (const [i, mediaFormat] of formats.entries()) {
      const sid = `CA1000000000000000000000000000009${i}`;
      const params = (await voiceWebhook(gw, sid)).params;
      const before = gw.app.gateway.counters.rejectedStreams;
      const { ws, closed } = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
      ws.send(dialect.start(1, { ...streamStart(sid, params), mediaFormat }));
      expect(await closed, JSON.stringify(mediaFormat)).toEqual({ code: 1003, reason: 'unsupported media format' });
      expect(gw.app.gateway.counters.rejectedStreams).toBe(before + 1);
      expect(gw.app.gateway.registry.size).toBe(0);
    }
  });

  it('rejects a token replayed with altered claims (another caller id)', async () => {
    const sid = 'CA10000000000000000000000000000002';
    const params = (await voiceWebhook(gw, sid)).params;
    const { ws, closed } = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
    ws.send(dialect.start(1, streamStart(sid, { ...params, from: '+19995550000' })));
    expect((await closed).code).toBe(1008);
  });

  it('counts and ignores malformed JSON, text that is not UTF-8 and unknown events, closes oversized messages, and keeps serving', async () => {
    const sid = 'CA10000000000000000000000000000003';
    const params = (await voiceWebhook(gw, sid)).params;
    const { ws, closed, received } = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
    const counters = gw.app.gateway.counters;
    const invalidBefore = counters.invalidMessages;
    const unknownBefore = counters.unknownEvents;
    ws.send(dialect.connected());
    ws.send(dialect.start(1, streamStart(sid, params)));
    ws.send('{not json');
    ws.send(JSON.stringify({ event: 'telepathy', streamSid: 'MZ1' }));
    ws.send(JSON.stringify({ event: 'media', media: { payload: 12 } }));
    // Not UTF-8: a malformed message like any other, not a reason to close the call.
    ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    for (let i = 0; i < 10; i++) ws.send(dialect.media(i + 2, `MZ${sid.slice(2)}`, { track: 'inbound', chunk: i + 1, timestampMs: i * 20, payloadBase64: SILENCE_FRAME }));
    const sessionNow = () => gw.app.gateway.registry.get(params.callId ?? '');
    const greeted = () => received.some((m) => m.includes('"event":"media"'));
    for (let waited = 0; ((sessionNow()?.mediaMs() ?? 0) < 200 || !greeted()) && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const session = sessionNow();
    expect(counters.invalidMessages).toBe(invalidBefore + 3);
    expect(counters.unknownEvents).toBe(unknownBefore + 1);
    expect(session?.mediaMs()).toBe(200);
    expect(greeted()).toBe(true);
    ws.send('x'.repeat(5000)); // over MAX_MESSAGE_BYTES
    expect((await closed).code).toBe(1009);
    await new Promise((r) => setTimeout(r, 50));
    expect(session?.endReason).toBe('stream_closed');
  });
});

describe('media stream refused at capacity', () => {
  const gw = gatewayForSuite('pglite', { env: { MAX_CONCURRENT_CALLS: '1', MEDIA_TIMEOUT_MS: '300' } });

  it('closes with 1013 and leaves nothing of the call behind (no session, no timeline, no watchdog)', async () => {
    const sid = 'CA10000000000000000000000000000009';
    const params = (await voiceWebhook(gw, sid)).params;
    const registry = gw.app.gateway.registry;
    const occupant = { callId: 'occupant' } as Parameters<typeof registry.add>[0];
    expect(registry.add(occupant)).toBe('ok');
    try {
      const { ws, closed } = await openMediaSocket(`${gw.wsUrl}/media/twilio`);
      ws.send(dialect.start(1, streamStart(sid, params)));
      expect((await closed).code).toBe(1013);
      // Past the media timeout, a leftover session's watchdog would have ended the call.
      await new Promise((r) => setTimeout(r, 1500));
      await gw.app.gateway.settle();
      await gw.eventLog.flush();
      const { body } = await gw.api(`/v1/calls/${params.callId}`);
      expect(body.events).toEqual([]);
      expect(body.call.endReason).toBeNull();
    } finally {
      registry.remove(occupant);
    }
  });
});
