// The gateway channel of listen-in on the media clock: audio sent in a burst is heard as the carrier
// plays it (back to back from when it was sent), a clear (barge-in) drops what was not played yet, and
// what has played is forgotten.
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/call/events.ts';
import { MULAW_SILENCE, OutboundTimeline, type TimedCall } from '../../src/web/outboundTimeline.ts';

class Clocked implements TimedCall {
  nowMs = 0;
  readonly taps: Array<(mulaw: Uint8Array) => void> = [];
  readonly listeners: Array<(e: CallEvent) => void> = [];
  mediaMs(): number {
    return this.nowMs;
  }
  addOutboundConsumer(consumer: (mulaw: Uint8Array) => void): () => void {
    this.taps.push(consumer);
    return () => this.taps.splice(this.taps.indexOf(consumer), 1);
  }
  subscribe(listener: (e: CallEvent) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }
  send(byte: number, ms: number): void {
    for (const t of this.taps) t(new Uint8Array(ms * 8).fill(byte));
  }
}

const slice = (t: OutboundTimeline, fromMs: number, ms = 20): number[] => {
  const out = new Uint8Array(ms * 8);
  t.read(fromMs, out);
  return [...new Set(out)];
};

describe('outbound timeline', () => {
  it('plays a burst out in real time, drops it on clear, and stops following when closed', () => {
    const call = new Clocked();
    const t = new OutboundTimeline(call);
    call.nowMs = 1000;
    // Two prompts' chunks sent at once: 1 s of 0x10 then 1 s of 0x20.
    call.send(0x10, 1000);
    call.send(0x20, 1000);
    const other = new Uint8Array(160);
    t.read(1990, other);
    expect([...new Set(other)]).toEqual([0x10, 0x20]);
    expect(slice(t, 500)).toEqual([MULAW_SILENCE]);
    expect(slice(t, 1000)).toEqual([0x10]);
    expect(slice(t, 1490)).toEqual([0x10]);

    // A barge-in at 1.5 s: the rest never reaches the caller.
    call.nowMs = 1500;
    for (const l of call.listeners) l({ type: 'playout.cleared', atMs: 1500, reason: 'barge-in' });
    expect(slice(t, 1490)).toEqual([0x10, MULAW_SILENCE]);
    expect(slice(t, 1600)).toEqual([MULAW_SILENCE]);
    // Audio sent after the clear plays from then on, back to back.
    call.nowMs = 1700;
    call.send(0x30, 100);
    call.send(0x40, 100);
    expect(slice(t, 1700)).toEqual([0x30]);
    expect(slice(t, 1790)).toEqual([0x30, 0x40]);
    expect(slice(t, 1900)).toEqual([MULAW_SILENCE]);
    // What has played is forgotten: reading the past gives silence.
    expect(slice(t, 1700)).toEqual([MULAW_SILENCE]);

    t.close();
    expect(call.taps).toHaveLength(0);
    expect(call.listeners).toHaveLength(0);
  });
});
