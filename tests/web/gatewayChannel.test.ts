// The gateway channel of listen-in on the media clock, read from a real call: audio sent in a burst is
// heard as the carrier plays it (back to back from when it was sent), a clear (barge-in) drops what
// was not played yet, and what has played is forgotten.
import { describe, expect, it } from 'vitest';
import { MULAW_SILENCE } from '../../dsp/mulaw.ts';
import { createTestCall } from '../helpers/testCall.ts';

describe('gateway channel of a live call', () => {
  it('plays a burst out in real time, drops it on clear, and forgets what has played', async () => {
    const call = createTestCall();
    const { session } = call;
    /** The distinct bytes the caller hears over `ms` from `fromMs` (listeners read forward in time). */
    const heard = (fromMs: number, ms = 20): number[] => {
      const out = new Uint8Array(ms * 8);
      session.readOutbound(fromMs, out);
      return [...new Set(out)];
    };
    await call.feedSilence(1000);
    // Two prompts sent at once: 1 s of 0x10 then 1 s of 0x20.
    session.play(new Uint8Array(8000).fill(0x10));
    session.play(new Uint8Array(8000).fill(0x20));
    expect(heard(500)).toEqual([MULAW_SILENCE]);
    expect(heard(1000)).toEqual([0x10]);
    expect(heard(1490)).toEqual([0x10]);

    // A barge-in at 1.5 s: the rest never reaches the caller.
    await call.feedSilence(500);
    session.clear('barge-in');
    expect(heard(1490)).toEqual([0x10, MULAW_SILENCE]);
    expect(heard(1600)).toEqual([MULAW_SILENCE]);
    // Audio sent after the clear plays from then on, back to back.
    await call.feedSilence(200);
    session.play(new Uint8Array(800).fill(0x30));
    session.play(new Uint8Array(800).fill(0x40));
    expect(heard(1700)).toEqual([0x30]);
    expect(heard(1790)).toEqual([0x30, 0x40]);
    expect(heard(1900)).toEqual([MULAW_SILENCE]);
    // What has played is forgotten: reading the past gives silence.
    expect(heard(1700)).toEqual([MULAW_SILENCE]);
  });
});
