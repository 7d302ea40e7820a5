import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import { encodeMulaw } from '../../dsp/mulaw.ts';
import { createTestCall } from '../helpers/testCall.ts';

function tone(ms: number, hz = 440, amp = 8000): Int16Array {
  const n = (ms * 8000) / 1000;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / 8000));
  return out;
}

describe('CallSession inbound media', () => {
  it('assembles 20 ms frames from payloads of any size and counts media time in samples', async () => {
    const { session } = createTestCall();
    const starts: number[] = [];
    const firstSamples: number[] = [];
    session.addFrameConsumer((frame, start) => {
      starts.push(start);
      firstSamples.push(frame[0] as number);
    });
    const pcm = tone(200);
    const mulaw = encodeMulaw(pcm);
    // 7-, 333- and 1-byte payloads: frame boundaries never line up with messages.
    let off = 0;
    for (const size of [7, 333, 1, 500, 759]) {
      session.receiveMedia(mulaw.subarray(off, off + size));
      off += size;
    }
    expect(off).toBe(1600);
    expect(starts).toEqual([0, 160, 320, 480, 640, 800, 960, 1120, 1280, 1440]);
    expect(session.mediaMs()).toBe(200);
    expect(session.stats.framesProcessed).toBe(10);
  });

  it('gives frame and media consumers the same audio whether messages hold one whole frame or split ones', () => {
    const mulaw = encodeMulaw(tone(200, 700));
    const run = (sizes: number[]): { pcm: number[]; mulaw: number[] } => {
      const { session } = createTestCall();
      const pcm: number[] = [];
      const bytes: number[] = [];
      session.addFrameConsumer((frame) => pcm.push(...frame));
      session.addMediaConsumer((m) => bytes.push(...m));
      let off = 0;
      for (const size of sizes) {
        session.receiveMedia(mulaw.subarray(off, off + size));
        off += size;
      }
      return { pcm, mulaw: bytes };
    };
    const whole = run(Array.from({ length: 10 }, () => FRAME_SAMPLES));
    // Off the frame boundary from the second message on, then back on it.
    const split = run([160, 100, 160, 60, 320, 160, 160, 160, 160, 160]);
    expect(whole.mulaw).toEqual([...mulaw]);
    expect(split.mulaw).toEqual([...mulaw]);
    expect(split.pcm).toEqual(whole.pcm);
    expect(whole.pcm).toHaveLength(1600);
  });

  it('decodes SignalWire L16 at 16 kHz (big-endian) to 8 kHz frames and mu-law for passthrough', () => {
    const { session } = createTestCall({ carrier: 'signalwire', input: { encoding: 'l16', sampleRateHz: 16000 } });
    let energy = 0;
    let frames = 0;
    let mulawBytes = 0;
    session.addFrameConsumer((frame) => {
      frames++;
      for (const s of frame) energy += s * s;
    });
    session.addMediaConsumer((mulaw) => (mulawBytes += mulaw.length));
    const n = 16000; // one second at 16 kHz
    const payload = new Uint8Array(n * 2);
    const view = new DataView(payload.buffer);
    for (let i = 0; i < n; i++) view.setInt16(i * 2, Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 16000)), false);
    for (let off = 0; off < payload.length; off += 640) session.receiveMedia(payload.subarray(off, off + 640));
    expect(frames).toBeGreaterThanOrEqual(49);
    expect(mulawBytes).toBe(frames * FRAME_SAMPLES);
    const rms = Math.sqrt(energy / (frames * FRAME_SAMPLES));
    expect(rms).toBeGreaterThan(5000); // 8000/√2 ≈ 5657 once the filter has settled
    expect(rms).toBeLessThan(6000);
  });

  it('isolates a failing frame consumer: it is removed, others keep running', async () => {
    const call = createTestCall();
    const session = call.session;
    let good = 0;
    session.addFrameConsumer(() => {
      throw new Error('boom');
    });
    session.addFrameConsumer(() => good++);
    await call.feedSilence(100);
    expect(good).toBe(5);
    expect(session.stats.consumerErrors).toBe(1);
  });
});

describe('CallSession playout and marks', () => {
  it('sends media chunks each followed by a mark, and resolves when every mark is echoed', async () => {
    const call = createTestCall({ playoutChunkMs: 100 });
    const audio = encodeMulaw(tone(250));
    const playback = call.session.play(audio, { label: 'greeting' });
    expect(call.carrier.sent.map((m) => m.type)).toEqual(['media', 'mark', 'media', 'mark', 'media', 'mark']);
    expect(call.session.isPlaying()).toBe(true);
    await call.feedSilence(300);
    const result = await playback.done;
    expect(result).toEqual({ heardMs: 250, audioMs: 250, interrupted: false });
    expect(call.session.isPlaying()).toBe(false);
    expect(call.carrier.heard.length).toBe(2000);
    const finished = call.eventsOfType('playout.finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ label: 'greeting', heardMs: 250, interrupted: false });
    // Heard in full by 260 ms of media time (the carrier plays while audio arrives).
    expect(finished[0]?.atMs).toBeLessThanOrEqual(260);
  });

  it('on clear: drops the rest, and marks echoed after the clear do not count as heard', async () => {
    const call = createTestCall({ playoutChunkMs: 100 });
    const playback = call.session.play(encodeMulaw(tone(1000)), { label: 'long' });
    await call.feedSilence(240); // two chunks heard, the third half played
    call.session.clear('barge-in');
    await call.feedSilence(40); // the carrier echoes all pending marks after the clear
    const result = await playback.done;
    expect(result.interrupted).toBe(true);
    expect(result.heardMs).toBe(200);
    expect(result.audioMs).toBe(1000);
    expect(call.carrier.sent.filter((m) => m.type === 'clear')).toHaveLength(1);
    expect(call.eventsOfType('playout.cleared')[0]).toMatchObject({ reason: 'barge-in', atMs: 240 });
    // A new playback after the clear is tracked from zero.
    const next = call.session.play(encodeMulaw(tone(100)));
    await call.feedSilence(120);
    expect(await next.done).toEqual({ heardMs: 100, audioMs: 100, interrupted: false });
  });

  it('streams a playback that is written as it is produced', async () => {
    const call = createTestCall();
    const writer = call.session.openPlayback({ label: 'tts' });
    writer.write(encodeMulaw(tone(60)));
    await call.feedSilence(100);
    writer.write(encodeMulaw(tone(60)));
    writer.end();
    await call.feedSilence(100);
    expect(await writer.done).toEqual({ heardMs: 120, audioMs: 120, interrupted: false });
  });

  it('refuses DTMF on Twilio streams and sends it on SignalWire', () => {
    const twilio = createTestCall({ carrier: 'twilio' });
    expect(() => twilio.session.sendDtmf('1')).toThrow(/cannot send DTMF/);
    const sw = createTestCall({ carrier: 'signalwire' });
    sw.session.sendDtmf('12#');
    expect(sw.carrier.sent).toEqual([{ type: 'dtmf', digit: '1' }, { type: 'dtmf', digit: '2' }, { type: 'dtmf', digit: '#' }]);
    expect(() => sw.session.sendDtmf('x')).toThrow(/0-9/);
  });
});

describe('CallSession media clock and lifecycle', () => {
  it('sleep resolves on media time, not wall time', async () => {
    const call = createTestCall();
    let wokeAt = -1;
    const sleeping = call.session.sleep(500).then(() => (wokeAt = call.session.mediaMs()));
    await call.feedSilence(480);
    expect(wokeAt).toBe(-1);
    await call.feedSilence(40);
    await sleeping;
    expect(wokeAt).toBe(500);
  });

  it('end() aborts sleeps, event iterators and playbacks, closes the stream, and is idempotent', async () => {
    const call = createTestCall();
    const sleep = call.session.sleep(10_000);
    const playback = call.session.play(encodeMulaw(tone(500)));
    const seen: string[] = [];
    const iterating = (async () => {
      for await (const e of call.session.events()) seen.push(e.type);
    })();
    call.dtmf('5');
    await new Promise((r) => setImmediate(r));
    call.session.end('caller_hung_up');
    call.session.end('again');
    await expect(sleep).rejects.toMatchObject({ name: 'AbortError' });
    expect((await playback.done).interrupted).toBe(true);
    await iterating;
    expect(seen).toEqual(['dtmf', 'playout.finished', 'call.ended']);
    expect(call.session.signal.aborted).toBe(true);
    expect(call.carrier.closed).toEqual({ code: 1000, reason: 'caller_hung_up' });
    expect(call.eventsOfType('call.ended')).toHaveLength(1);
    await expect(call.session.sleep(10)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('ends the call when media stops arriving (wall-clock watchdog)', async () => {
    const call = createTestCall({ mediaTimeoutMs: 50 });
    await new Promise((r) => setTimeout(r, 1200));
    expect(call.session.endReason).toBe('media_timeout');
  });

  it('keeps a call whose media keeps arriving, and ends it once the media stops for the timeout', async () => {
    const call = createTestCall({ mediaTimeoutMs: 300 });
    const frame = encodeMulaw(tone(20));
    const sender = setInterval(() => call.session.receiveMedia(frame), 20);
    await new Promise((r) => setTimeout(r, 900));
    clearInterval(sender);
    expect(call.session.ended).toBe(false);
    const stoppedAt = performance.now();
    while (!call.session.ended && performance.now() - stoppedAt < 3000) await new Promise((r) => setTimeout(r, 10));
    expect(call.session.endReason).toBe('media_timeout');
    // Not before the timeout, and within one watchdog tick (300 ms here) after it, give or take the timers' slack.
    expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(290);
    expect(performance.now() - stoppedAt).toBeLessThan(1500);
  });
});

describe('CallSession hold', () => {
  it('holds inbound media and DTMF until released, then processes them in order on the media clock', async () => {
    const call = createTestCall();
    const frames: number[] = [];
    call.session.addFrameConsumer((_f, start) => frames.push(start));
    call.session.holdMedia();
    call.session.receiveMedia(encodeMulaw(tone(40)));
    call.dtmf('7');
    call.session.receiveMedia(encodeMulaw(tone(20)));
    expect(frames).toEqual([]);
    expect(call.session.mediaMs()).toBe(0);
    expect(call.eventsOfType('dtmf')).toEqual([]);
    call.session.releaseMedia();
    // Drained one message per event-loop turn; what arrives meanwhile queues behind.
    expect(frames).toEqual([0, 160]);
    call.session.receiveMedia(encodeMulaw(tone(20)));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(frames).toEqual([0, 160, 320, 480]);
    expect(call.eventsOfType('dtmf')[0]).toMatchObject({ digit: '7', atMs: 40 });
    // Once drained, media flows straight through again.
    call.session.receiveMedia(encodeMulaw(tone(20)));
    expect(frames).toEqual([0, 160, 320, 480, 640]);
  });
});
