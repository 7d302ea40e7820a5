// The streamed recorder, on a real call: the gateway's audio laid where it played, cut at a clear,
// written as a valid WAV; a full disk stops the recording (once, with a reason), never the frames that
// keep coming.
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import { decodeMulaw, encodeMulaw } from '../../dsp/mulaw.ts';
import wavefile from 'wavefile';
import { DualChannelRecorder } from '../../src/call/recorder.ts';
import { LocalRecordingStorage, type RecordingFile } from '../../src/recording/storage.ts';
import { createTestCall } from '../helpers/testCall.ts';

/** `frames` 20 ms frames of one caller sample value. */
const frames = (value: number, frames = 1): Int16Array => new Int16Array(FRAME_SAMPLES * frames).fill(value);
/** A sample value as it reaches the recorder through the carrier's mu-law. */
const viaMulaw = (value: number): number => decodeMulaw(encodeMulaw(Int16Array.of(value)))[0] as number;

describe('DualChannelRecorder', () => {
  it('streams caller and gateway channels on the media clock to a 0600 WAV file, cut at a clear', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-rec-'));
    const storage = new LocalRecordingStorage(dir);
    const rec = new DualChannelRecorder();
    const call = createTestCall({ recorder: rec });
    await call.feed(frames(100)); // idle: not recorded
    rec.start(storage.create('call1'));
    // 300 ms of gateway audio sent at once: plays over the next 15 frames.
    call.session.play(encodeMulaw(new Int16Array(2400).fill(8000)));
    await call.feed(frames(1000, 10));
    call.session.clear('barge-in'); // after 200 ms: the last 100 ms were never heard
    await call.feed(frames(-1000, 100)); // 2 s more
    const result = await rec.finish();
    expect(result).toEqual({ bytes: 44 + 110 * FRAME_SAMPLES * 4, durationMs: 2200, stopped: null });
    const file = path.join(dir, 'call1.wav');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const wav = new wavefile.WaveFile(await readFile(file));
    const fmt = wav.fmt as { numChannels: number; sampleRate: number; bitsPerSample: number };
    expect([fmt.numChannels, fmt.sampleRate, fmt.bitsPerSample]).toEqual([2, 8000, 16]);
    const [left, right] = wav.getSamples(false, Int16Array) as unknown as [Int16Array, Int16Array];
    expect(left.length).toBe(110 * FRAME_SAMPLES);
    expect(left[0]).toBe(viaMulaw(1000));
    expect(left[10 * FRAME_SAMPLES]).toBe(viaMulaw(-1000));
    // Gateway audio where it played (mu-law rounds 8000 a little), silence after the clear.
    expect(Math.abs((right[0] as number) - 8000)).toBeLessThan(300);
    expect(Math.abs((right[1599] as number) - 8000)).toBeLessThan(300);
    expect(right[1600]).toBe(0);
    expect(right.slice(1600).every((s) => s === 0)).toBe(true);
  });

  it('keeps gateway audio queued far ahead, each sample where it played', async () => {
    const chunks: Array<{ bytes: Uint8Array; position: number }> = [];
    const rec = new DualChannelRecorder();
    const call = createTestCall({ recorder: rec });
    rec.start({ write: async (bytes, position) => void chunks.push({ bytes: bytes.slice(), position: position ?? 0 }), close: async () => undefined });
    await call.feed(frames(5, 7)); // the media clock is not 0 when the audio is queued
    // 10 s of prompts sent at once, in pieces (a ramp, so each sample's place is checked), then 2 s more.
    const ramp = (from: number, n: number) => Int16Array.from({ length: n }, (_, i) => (((from + i) % 64) - 32) * 256);
    const writer = call.session.openPlayback();
    for (let at = 0; at < 80_000; at += 8000) writer.write(encodeMulaw(ramp(at, 8000)));
    await call.feed(frames(5, 50 * 10));
    writer.write(encodeMulaw(ramp(80_000, 16_000)));
    writer.end();
    await call.feed(frames(5, 50 * 3));
    await rec.finish();
    const data = new Int16Array(chunks.length * 32_000);
    let samples = 0;
    for (const c of chunks.filter((c) => c.position >= 44).sort((a, b) => a.position - b.position)) {
      const v = new Int16Array(c.bytes.buffer, c.bytes.byteOffset, c.bytes.length / 2);
      data.set(v, samples);
      samples += v.length;
    }
    const right = (i: number) => data[2 * i + 1] as number;
    // What the caller heard is the ramp through the codec.
    const heard = decodeMulaw(encodeMulaw(ramp(0, 96_000)));
    const start = 7 * FRAME_SAMPLES;
    for (const i of [0, 1, 32_767, 32_768, 40_000, 65_535, 65_536, 79_999, 80_000, 95_999]) expect(right(start + i), `sample ${i}`).toBe(heard[i]);
    expect(right(start - 1)).toBe(0);
    expect(right(start + 96_000)).toBe(0);
  });

  it('stops on a full disk with one reason, keeps taking frames, and leaves a valid header', async () => {
    const writes: Array<{ bytes: number; position: number | undefined }> = [];
    let failAfter = 2;
    const file: RecordingFile = {
      write: async (bytes, position) => {
        if (position !== 0 && failAfter-- <= 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        writes.push({ bytes: bytes.length, position });
      },
      close: async () => undefined,
    };
    const stops: string[] = [];
    const rec = new DualChannelRecorder({ onStop: (reason) => stops.push(reason) });
    const call = createTestCall({ recorder: rec });
    rec.start(file);
    await call.feed(frames(1, 50 * 5)); // 5 s: five one-second blocks
    const result = await rec.finish();
    expect(stops).toEqual(['disk_full']);
    expect(result?.stopped).toBe('disk_full');
    // Two one-second blocks reached the disk; the final header says exactly that.
    expect(result?.bytes).toBe(44 + 2 * 8000 * 4);
    expect(writes.at(-1)).toEqual({ bytes: 44, position: 0 });
  });

  it('stops at the size limit', async () => {
    const stops: string[] = [];
    const rec = new DualChannelRecorder({ maxBytes: 44 + 8000 * 4, onStop: (reason) => stops.push(reason) });
    const call = createTestCall({ recorder: rec });
    rec.start({ write: async () => undefined, close: async () => undefined });
    await call.feed(frames(1, 150));
    const result = await rec.finish();
    expect(stops).toEqual(['size_limit']);
    expect(result?.durationMs).toBe(1000);
  });
});
