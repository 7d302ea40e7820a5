import { describe, expect, it } from 'vitest';
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { BeepDetector } from '../../dsp/beep.ts';
import { beepFrequencies } from './beepRecall.ts';
import { concat, noise, silence, tone } from './signals.ts';

/**
 * A weak vowel tail as KLettres' pt_BR "s" and "f" end (a loud fricative, then 100–200 ms later a soft vowel
 * whose one harmonic passes for a pure tone): a `hz` sine at `dbfs`, steady for `steadyMs`, then fading
 * `fadeDb` over `fadeMs` (exponentially, as a voice's does). A beep switches off within one 10 ms hop.
 */
function fadingTone(hz: number, steadyMs: number, fadeMs: number, fadeDb: number, dbfs: number): Float64Array {
  const x = tone(hz, steadyMs + fadeMs, dbfs);
  const steady = (steadyMs * SAMPLE_RATE_HZ) / 1000;
  const fade = (fadeMs * SAMPLE_RATE_HZ) / 1000;
  for (let i = steady; i < x.length; i++) x[i] = (x[i] as number) * 10 ** ((-fadeDb * (i - steady)) / fade / 20);
  return x;
}

const beepsIn = (x: Float64Array): number[] => beepFrequencies(() => new BeepDetector(), x);

describe('BeepDetector: how a candidate switches off', () => {
  it('does not take a weak tone fading over 40 ms after a loud fricative for a beep', () => {
    for (const hz of [330, 495]) {
      const x = concat(silence(300), noise(250, -12, 7), silence(150), fadingTone(hz, 80, 40, 40, -32), silence(400));
      expect(beepsIn(x), `${hz} Hz`).toEqual([]);
    }
  });

  it('still finds the same tone switching off at once, after the same fricative', () => {
    for (const hz of [330, 495]) {
      const x = concat(silence(300), noise(250, -12, 7), silence(150), tone(hz, 80, -32), silence(400));
      const found = beepsIn(x);
      expect(found, `${hz} Hz`).toHaveLength(1);
      expect(Math.abs((found[0] as number) - hz)).toBeLessThanOrEqual(5);
    }
  });
});
