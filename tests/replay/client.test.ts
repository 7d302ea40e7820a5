// The replay client against a small scripted gateway (real http + ws on port 0).
import { afterEach, describe, expect, it } from 'vitest';
import { MULAW_SILENCE } from '../../dsp/mulaw.ts';
import { GatewayError } from '../../src/errors.ts';
import { parseDtmfSpec, replayCall } from '../../src/replay/client.ts';
import { decodeL16 } from '../../src/telephony/l16.ts';
import { validateSignature } from '../../src/telephony/signature.ts';
import { CarrierRestClient } from '../../src/telephony/rest.ts';
import { refusalTwiml } from '../../src/telephony/twiml.ts';
import { startFakeCarrier } from '../fakes/carrier.ts';
import { PUBLIC_ORIGIN, startFakeGateway, tone, type FakeGateway, type FakeStream } from './fakeGateway.ts';

const TOKEN = 'auth-token-abc';
let gw: FakeGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

/** Gateway audio: `ms` of a non-silent mu-law pattern. */
function gatewayAudio(ms: number): Uint8Array {
  return new Uint8Array(ms * 8).fill(0x23);
}

function audibleBytes(audio: Uint8Array): number {
  let n = 0;
  for (const b of audio) if (b !== MULAW_SILENCE) n++;
  return n;
}

describe('replayCall, Twilio dialect', () => {
  it('posts a signed webhook, signs the upgrade, passes Parameters through and streams paced media', async () => {
    gw = await startFakeGateway();
    const streamP = gw.nextStream();
    const run = replayCall({ carrier: 'twilio', url: gw.url, audio: tone(600), speed: 4, holdMs: 200, authToken: TOKEN, publicUrl: PUBLIC_ORIGIN, from: '+14155550100', to: '+14155550111' });
    const stream = await streamP;
    const result = await run;
    await stream.closed;

    const hook = gw.webhooks[0]!;
    expect(hook.params).toMatchObject({ From: '+14155550100', To: '+14155550111', Direction: 'inbound', CallStatus: 'ringing', ApiVersion: '2010-04-01' });
    expect(hook.params.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(hook.params.AccountSid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(validateSignature(TOKEN, hook.headers['x-twilio-signature'] as string, `${PUBLIC_ORIGIN}/voice/twilio`, hook.params)).toBe(true);
    expect(validateSignature(TOKEN, stream.headers['x-twilio-signature'] as string, 'wss://public.example.com/media/twilio')).toBe(true);
    expect(stream.path).toBe('/media/twilio');

    const types = stream.events.map((e) => e.event.type);
    expect(types[0]).toBe('connected');
    expect(types[1]).toBe('start');
    expect(types.at(-1)).toBe('stop');
    expect(stream.events[0]!.event).toEqual({ type: 'connected', protocol: 'Call', version: '1.0.0' });
    const start = stream.of('start')[0]!.event;
    expect(start).toMatchObject({ sequenceNumber: 1, carrierCallId: hook.params.CallSid, accountId: hook.params.AccountSid, customParameters: { callId: 'call-123', token: 'tok.en-456' } });
    expect(start.streamId).toMatch(/^MZ[0-9a-f]{32}$/);
    expect(JSON.parse(stream.of('start')[0]!.raw).streamSid).toBe(start.streamId);

    const media = stream.of('media');
    expect(media.length).toBe(40); // 600 ms + 200 ms hold, 20 ms each
    media.forEach((m, i) => {
      expect(m.event.payload.length).toBe(160);
      expect([m.event.chunk, m.event.timestampMs, m.event.streamId, m.event.sequenceNumber]).toEqual([i + 1, i * 20, start.streamId, i + 2]);
    });
    expect(JSON.parse(media[0]!.raw).media.chunk).toBe('1');
    expect(stream.of('stop')[0]!.event).toMatchObject({ carrierCallId: hook.params.CallSid, accountId: hook.params.AccountSid, streamId: start.streamId });

    expect(result.callId).toBe('call-123');
    expect(result.streamId).toBe(start.streamId);
    expect(result.endReason).toBe('finished');
    expect(result.sentAudioMs).toBe(800);
    expect(result.webhook.signed).toBe(true);
    expect(result.webhook.signedUrl).toBe(`${PUBLIC_ORIGIN}/voice/twilio`);
    // 800 ms of media at 4× takes about 200 ms of wall time.
    expect(result.wallMs).toBeGreaterThanOrEqual(200);
    expect(result.wallMs).toBeLessThan(2000);
  });

  it('paces on a drift-free schedule: a stall is caught up, not carried forward', async () => {
    // The replay and this gateway share one event loop: blocking it when frame 10 arrives stalls the
    // replay too. A schedule computed from t0 sends the backlog at once and ends on time; one that
    // sleeps 20 ms / speed between frames would end a whole stall late.
    const STALL_MS = 800;
    let stallEnd = 0;
    let streamT0 = 0;
    gw = await startFakeGateway({
      onStream: (s) => {
        streamT0 = s.t0;
        void s.waitFor((e) => e.event.type === 'media' && e.event.chunk === 10).then(() => {
          const until = performance.now() + STALL_MS;
          while (performance.now() < until);
          stallEnd = performance.now();
        });
      },
    });
    const streamP = gw.nextStream();
    const t0 = performance.now();
    const result = await replayCall({ carrier: 'twilio', url: gw.url, audio: tone(1000), speed: 2, holdMs: 0, maxHoldMs: 0 });
    const stream = await streamP;
    await stream.closed;
    const media = stream.of('media');
    expect(media.length).toBe(50);
    expect(media.map((m) => m.event.chunk)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // Never early: 1000 ms of audio at 2× cannot be sent in less than 500 ms.
    expect(result.wallMs).toBeGreaterThanOrEqual(490);
    // The 40 frames that fell due during the stall went out in one burst right after it…
    // (frames already read off the socket with frame 10 may precede the stall, so count those after it.)
    const after = media.filter((m) => m.wallMs >= stallEnd - streamT0).map((m) => m.wallMs);
    expect(after.length).toBeGreaterThanOrEqual(30);
    expect(Math.max(...after) - Math.min(...after)).toBeLessThan(100);
    // …so the stream ends right after the stall (all its audio was due by then), not a stall late
    // (500 + 800 ms for a sleep-per-frame loop).
    expect(result.wallMs).toBeLessThan(stallEnd - t0 + 250);
  });

  it('echoes each mark when the audio queued before it has played, and at once when idle', async () => {
    gw = await startFakeGateway({
      onStream: (s) => {
        void s.waitFor((e) => e.event.type === 'start').then(() => {
          // One message each: media of any size is played in order (chunking is covered elsewhere).
          s.sendAudio(gatewayAudio(400), 400 * 8);
          s.sendMark('first');
          s.sendAudio(gatewayAudio(300), 300 * 8);
          s.sendMark('second');
        });
        void s.atMedia(1000).then(() => s.sendMark('idle'));
      },
    });
    const streamP = gw.nextStream();
    const result = await replayCall({ carrier: 'twilio', url: gw.url, audio: tone(1200), speed: 1, holdMs: 0 });
    const stream = await streamP;
    await stream.closed;
    expect(stream.of('mark').map((m) => m.event.name)).toEqual(['first', 'second', 'idle']);
    // On the replay's clock: playback starts when the audio arrives; marks fall due 400 and 700 ms later.
    const playStart = result.timeline.find((e) => e.event === 'playback.start')!.atMs;
    const byName = Object.fromEntries(result.marks.map((m) => [m.name, m]));
    expect(Math.abs(byName.first!.echoedAtMs! - (playStart + 400))).toBeLessThanOrEqual(2);
    // The second message may arrive a little later under load, leaving a gap; never earlier.
    expect(byName.second!.echoedAtMs! - byName.first!.echoedAtMs!).toBeGreaterThanOrEqual(300 - 2);
    expect(byName.second!.echoedAtMs! - byName.first!.echoedAtMs!).toBeLessThan(300 + 100);
    expect(byName.second!.cleared).toBe(false);
    expect(byName.idle!.echoedAtMs).toBe(byName.idle!.receivedAtMs);
    // On the gateway's media clock: never early, and not much late.
    const echoAt = (name: string) => stream.of('mark').find((m) => m.event.name === name)!.mediaMs;
    expect(echoAt('first')).toBeGreaterThanOrEqual(playStart + 400 - 20);
    expect(echoAt('first')).toBeLessThan(playStart + 400 + 300);
    expect(echoAt('second')).toBeGreaterThanOrEqual(byName.second!.echoedAtMs! - 20);
    expect(echoAt('idle')).toBeGreaterThanOrEqual(1000);
    expect(echoAt('idle')).toBeLessThan(1000 + 300);
    expect(result.clears).toEqual([]);
    expect(Math.abs(result.firstAudio!.mediaMs - result.firstAudio!.wallMs)).toBeLessThanOrEqual(2);
    expect(result.firstAudio!.mediaMs).toBeLessThan(500);
    // Heard: all 700 ms of the gateway's audio.
    expect(audibleBytes(result.audio)).toBe(700 * 8);
    expect(result.receivedAudioMs).toBe(700);
    expect(result.timeline.map((e) => e.event)).toEqual(expect.arrayContaining(['webhook', 'start', 'audio.first', 'playback.start', 'mark', 'mark.echo', 'playback.end', 'audio.end', 'stop']));
  });

  it('on clear drops queued audio and echoes every pending mark at once', async () => {
    gw = await startFakeGateway({
      onStream: (s) => {
        void s.waitFor((e) => e.event.type === 'start').then(() => {
          s.sendAudio(gatewayAudio(1000), 1000 * 8);
          s.sendMark('m1');
          s.sendAudio(gatewayAudio(1000), 1000 * 8);
          s.sendMark('m2');
        });
        void s.atMedia(300).then(() => s.sendClear());
      },
    });
    const streamP = gw.nextStream();
    const result = await replayCall({ carrier: 'twilio', url: gw.url, audio: tone(1000), speed: 1, holdMs: 0 });
    const stream = await streamP;
    await stream.closed;
    const marks = stream.of('mark');
    expect(marks.map((m) => m.event.name)).toEqual(['m1', 'm2']);
    // Both at once (no audio frame between them), long before m1's audio could have played out.
    expect(marks[0]!.mediaMs).toBe(marks[1]!.mediaMs);
    expect(marks[0]!.mediaMs).toBeLessThan(900);
    expect(result.clears.length).toBe(1);
    const clear = result.clears[0]!;
    expect(clear.marks).toEqual(['m1', 'm2']);
    expect(result.marks.every((m) => m.cleared && m.echoedAtMs === clear.atMs)).toBe(true);
    // Only what played before the clear was heard; the rest of the 2000 ms was dropped.
    const playStart = result.timeline.find((e) => e.event === 'playback.start')!.atMs;
    const heardMs = audibleBytes(result.audio) / 8;
    expect(heardMs).toBeLessThanOrEqual(clear.atMs - playStart + 1);
    expect(Math.abs(heardMs + clear.droppedMs - 2000)).toBeLessThanOrEqual(1);
    expect(heardMs).toBeGreaterThan(0);
    expect(result.receivedAudioMs).toBe(2000);
  });

  it('sends DTMF at the given media times, between the right frames', async () => {
    gw = await startFakeGateway();
    const streamP = gw.nextStream();
    const result = await replayCall({ carrier: 'twilio', url: gw.url, audio: tone(800), speed: 4, holdMs: 0, dtmf: parseDtmfSpec('1@200,#@610') });
    const stream = await streamP;
    await stream.closed;
    const dtmf = stream.of('dtmf');
    expect(dtmf.map((d) => [d.event.digit, d.mediaMs, d.event.track])).toEqual([
      ['1', 200, 'inbound_track'],
      ['#', 600, 'inbound_track'], // sent after the frame ending at 600 ms, before the one ending at 620
    ]);
    expect(result.dtmfSent).toEqual([
      { digit: '1', atMs: 200 },
      { digit: '#', atMs: 610 },
    ]);
  });

  it('stops early when the gateway closes the socket', async () => {
    gw = await startFakeGateway({ onStream: (s) => void s.atMedia(300).then(() => s.close(1000, 'flow hung up')) });
    const result = await replayCall({ carrier: 'twilio', url: gw.url, audio: tone(10_000), speed: 4, holdMs: 0 });
    expect(result.endReason).toBe('gateway-closed');
    expect(result.close).toEqual({ code: 1000, reason: 'flow hung up' });
    expect(result.sentAudioMs).toBeGreaterThanOrEqual(300);
    expect(result.sentAudioMs).toBeLessThan(10_000);
    expect(result.timeline.some((e) => e.event === 'stop')).toBe(false);
  });

  it('starts from a given webhook (an outbound call) and reports a TwiML without a stream', async () => {
    gw = await startFakeGateway({ twiml: () => refusalTwiml({ reject: 'busy' }) });
    const result = await replayCall({
      carrier: 'twilio',
      url: gw.url,
      audio: tone(100),
      authToken: TOKEN,
      callSid: 'CA' + 'b'.repeat(32),
      webhook: { url: `${gw.httpUrl}/voice/twilio?callId=out-1`, params: { Direction: 'outbound-api', CallStatus: 'in-progress' } },
    });
    const hook = gw.webhooks[0]!;
    expect(hook.url).toBe('/voice/twilio?callId=out-1');
    expect(hook.params).toMatchObject({ CallSid: 'CA' + 'b'.repeat(32), Direction: 'outbound-api', CallStatus: 'in-progress' });
    expect(validateSignature(TOKEN, hook.headers['x-twilio-signature'] as string, `${gw.httpUrl}/voice/twilio?callId=out-1`, hook.params)).toBe(true);
    expect(result.endReason).toBe('no-stream');
    expect(result.webhook.verbs).toEqual(['Reject']);
  });

  it('answers an outbound call placed through the (fake) carrier REST API', async () => {
    gw = await startFakeGateway();
    const account = 'AC' + 'c'.repeat(32);
    const carrier = await startFakeCarrier({ [account]: TOKEN });
    try {
      const rest = new CarrierRestClient({ carrier: 'twilio', accountSid: account, authToken: TOKEN, baseUrl: carrier.baseUrl });
      const placed = await rest.createCall({ to: '+14155550123', from: '+14155550100', url: `${gw.httpUrl}/voice/twilio?callId=out-7` });
      const call = carrier.calls.get(placed.sid)!;
      const streamP = gw.nextStream();
      const result = await replayCall({
        carrier: 'twilio',
        url: gw.url,
        audio: tone(200),
        speed: 4,
        holdMs: 0,
        authToken: TOKEN,
        callSid: call.sid,
        accountSid: call.accountSid,
        from: call.from,
        to: call.to,
        webhook: { url: call.url!, params: { Direction: 'outbound-api', CallStatus: 'in-progress' } },
      });
      const stream = await streamP;
      await stream.closed;
      expect(gw.webhooks[0]!.params).toMatchObject({ CallSid: placed.sid, AccountSid: account, From: '+14155550100', To: '+14155550123', Direction: 'outbound-api' });
      expect(stream.of('start')[0]!.event.carrierCallId).toBe(placed.sid);
      expect(result).toMatchObject({ carrierCallId: placed.sid, endReason: 'finished', callId: 'call-123' });
    } finally {
      await carrier.close();
    }
  });

  it('records what it cannot use from the gateway without stopping', async () => {
    gw = await startFakeGateway({
      onStream: (s) => {
        void s.waitFor((e) => e.event.type === 'start').then(() => {
          s.sendRaw('{"event":"media","streamSid":"MZother","media":{"payload":"AAAA"}}');
          s.sendRaw('{"event":"dtmf","streamSid":"' + s.streamId + '","dtmf":{"digit":"5"}}');
          s.sendRaw('not json');
        });
      },
    });
    const result = await replayCall({ carrier: 'twilio', url: gw.url, audio: tone(200), speed: 4, holdMs: 0 });
    expect(result.endReason).toBe('finished');
    const notes = result.timeline.filter((e) => e.event.startsWith('gateway.')).map((e) => [e.event, e.detail]);
    expect(notes).toEqual([
      ['gateway.invalid', 'media for unknown streamSid MZother'],
      ['gateway.unknown', 'dtmf'], // Twilio streams take no DTMF from the server
      ['gateway.invalid', 'message is not valid JSON'],
    ]);
    expect(result.receivedAudioMs).toBe(0);
  });

  it('aborts cleanly: sends stop and closes', async () => {
    gw = await startFakeGateway();
    const ac = new AbortController();
    const streamP = gw.nextStream();
    const run = replayCall({ carrier: 'twilio', url: gw.url, audio: tone(5000), speed: 2, signal: ac.signal });
    const stream = await streamP;
    await stream.atMedia(200);
    ac.abort();
    const result = await run;
    await stream.closed;
    expect(result.endReason).toBe('aborted');
    expect(stream.of('stop').length).toBe(1);
  });
});

describe('replayCall, SignalWire dialect', () => {
  it('uses the Bearer token, the documented message shapes, and L16@16000h big-endian frames', async () => {
    gw = await startFakeGateway({
      codec: 'L16@16000h',
      onStream: (s) => {
        void s.waitFor((e) => e.event.type === 'start').then(() => {
          // 200 ms of 16 kHz L16 from the gateway, then a mark and a DTMF injection.
          const pcm = new Uint8Array(200 * 16 * 2);
          for (let i = 0; i < pcm.length; i += 2) pcm[i] = 0x10;
          s.sendAudio(pcm, 640);
          s.sendMark('sw-1');
          s.sendRaw(s.serializer.dtmf!(s.streamId, 'B'));
        });
      },
    });
    const streamP = gw.nextStream();
    const audio = tone(400, 500, 16000);
    const result = await replayCall({ carrier: 'signalwire', url: gw.url, audio, speed: 4, holdMs: 1000, dtmf: [{ digit: 'D', atMs: 100, durationMs: 120 }] });
    const stream = await streamP;
    await stream.closed;

    expect(stream.headers.authorization).toBe('Bearer tok.en-456');
    expect(stream.headers['x-twilio-signature']).toBeUndefined();
    expect(stream.events[0]!.event).toEqual({ type: 'connected', protocol: 'Call', version: '0.2.0' });
    const start = stream.of('start')[0]!;
    expect(JSON.parse(start.raw).streamSid).toBeUndefined();
    expect(start.event).toMatchObject({ mediaFormat: { encoding: 'audio/x-L16', sampleRateHz: 16000, channels: 1 }, customParameters: { callId: 'call-123', token: 'tok.en-456' } });
    expect(start.event.streamId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(start.event.carrierCallId).toMatch(/^[0-9a-f]{8}-/);

    const media = stream.of('media');
    // 400 ms of caller audio, then 1000 ms of silence (longer if the gateway's audio is still playing).
    expect(media.length).toBeGreaterThanOrEqual(70);
    expect(JSON.parse(media[0]!.raw).streamSid).toBeUndefined();
    // The wire carries the caller's samples unchanged, big-endian.
    const first = decodeL16(media[0]!.event.payload);
    expect(first.length).toBe(320);
    expect([...first.subarray(0, 50)]).toEqual([...audio.samples.subarray(0, 50)]);

    const dtmf = stream.of('dtmf')[0]!;
    expect(dtmf.event).toMatchObject({ digit: 'D', durationMs: 120, track: undefined });
    expect(dtmf.mediaMs).toBe(100);
    // start 1, media 2-21, the DTMF and any mark echo take one number each, then stop.
    const echoes = stream.of('mark');
    expect(echoes.map((m) => JSON.parse(m.raw))).toEqual([{ event: 'mark', streamSid: start.event.streamId, mark: { name: 'sw-1' } }]);
    expect(JSON.parse(stream.of('stop')[0]!.raw)).toEqual({ event: 'stop', sequenceNumber: String(1 + media.length + 1 + echoes.length + 1) });

    expect(result.dtmfReceived.map((d) => d.digit)).toEqual(['B']);
    expect(result.stream!.format).toEqual({ encoding: 'audio/x-L16', sampleRateHz: 16000, channels: 1 });
    // 200 ms of L16 at 16 kHz becomes 200 ms of 8 kHz mu-law.
    expect(result.receivedAudioMs).toBeGreaterThan(170);
    expect(result.receivedAudioMs).toBeLessThanOrEqual(200);
  });

  it('refuses a DTMF digit Twilio cannot send, and other bad arguments', async () => {
    await expect(replayCall({ carrier: 'twilio', audio: tone(100), dtmf: [{ digit: 'A', atMs: 10 }] })).rejects.toMatchObject({ code: 'GW_ERR_REPLAY_ARGS' });
    await expect(replayCall({ carrier: 'twilio', audio: tone(100), speed: 0 })).rejects.toBeInstanceOf(GatewayError);
    await expect(replayCall({ carrier: 'twilio', audio: tone(100), url: 'http://x' })).rejects.toMatchObject({ code: 'GW_ERR_REPLAY_ARGS' });
    expect(() => parseDtmfSpec('1@x')).toThrow(/digit@ms/);
    expect(parseDtmfSpec('a@5, #@6')).toEqual([{ digit: 'A', atMs: 5 }, { digit: '#', atMs: 6 }]);
  });

  it('reports a failing webhook with a clear error', async () => {
    gw = await startFakeGateway({ webhookStatus: 403 });
    await expect(replayCall({ carrier: 'signalwire', url: gw.url, audio: tone(100) })).rejects.toMatchObject({ code: 'GW_ERR_REPLAY_WEBHOOK', message: expect.stringMatching(/403/) });
  });
});

export type { FakeStream };
