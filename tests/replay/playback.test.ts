// The carrier playout model on its own: pure, on the media clock.
import { describe, expect, it } from 'vitest';
import { MULAW_SILENCE } from '../../dsp/mulaw.ts';
import { CarrierPlayback } from '../../src/replay/playback.ts';

const audio = (ms: number, byte = 0x11) => new Uint8Array(ms * 8).fill(byte);

describe('CarrierPlayback', () => {
  it('echoes a mark at once when nothing is queued', () => {
    const p = new CarrierPlayback();
    expect(p.enqueueMark('a', 100)).toEqual({ name: 'a', atMs: 100, cleared: false });
    expect(p.isPlaying(100)).toBe(false);
  });

  it('plays queued audio back to back from its arrival and echoes marks when their audio ends', () => {
    const p = new CarrierPlayback();
    p.enqueueAudio(audio(300), 100);
    expect(p.enqueueMark('a', 110)).toBeUndefined();
    p.enqueueAudio(audio(200), 150);
    expect(p.enqueueMark('b', 160)).toBeUndefined();
    expect(p.nextMarkDueMs()).toBe(400);
    expect(p.dueMarks(399)).toEqual([]);
    expect(p.dueMarks(400)).toEqual([{ name: 'a', atMs: 400, cleared: false }]);
    expect(p.isPlaying(599)).toBe(true);
    expect(p.dueMarks(1000)).toEqual([{ name: 'b', atMs: 600, cleared: false }]);
    expect(p.isPlaying(600)).toBe(false);
    // Audio arriving when idle starts then, leaving a gap of silence.
    p.enqueueAudio(audio(100, 0x22), 800);
    const heard = p.heardAudio(2000);
    expect(heard.length).toBe(900 * 8);
    expect(heard[100 * 8 - 1]).toBe(MULAW_SILENCE);
    expect(heard[100 * 8]).toBe(0x11);
    expect(heard[600 * 8 - 1]).toBe(0x11);
    expect(heard[600 * 8]).toBe(MULAW_SILENCE);
    expect(heard[800 * 8]).toBe(0x22);
    expect(p.receivedMs()).toBe(600);
  });

  it('clear drops what is queued, echoes pending marks as cleared, keeps what was heard', () => {
    const p = new CarrierPlayback();
    p.enqueueAudio(audio(1000), 0);
    p.enqueueMark('m1', 0);
    p.enqueueAudio(audio(1000), 0);
    p.enqueueMark('m2', 0);
    const r = p.clear(250);
    expect(r).toEqual({ atMs: 250, droppedMs: 1750, marks: [{ name: 'm1', atMs: 250, cleared: true }, { name: 'm2', atMs: 250, cleared: true }] });
    expect(p.isPlaying(250)).toBe(false);
    expect(p.nextMarkDueMs()).toBeUndefined();
    expect(p.heardAudio(5000).length).toBe(250 * 8);
    // New audio after the clear starts at its arrival.
    p.enqueueAudio(audio(50, 0x33), 300);
    expect(p.queueEndMs()).toBe(350);
    expect(p.heardAudio(5000)[300 * 8]).toBe(0x33);
    expect(p.clear(1000).droppedMs).toBe(0);
  });

  it('keeps only what played before the stream ended, and grows past its first buffer', () => {
    const p = new CarrierPlayback();
    p.enqueueAudio(audio(30_000), 0);
    expect(p.heardAudio(12_345).length).toBe(12_345 * 8);
    expect(p.heardAudio(40_000).length).toBe(30_000 * 8);
  });
});
