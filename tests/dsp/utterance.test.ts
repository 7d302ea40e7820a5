// The prosody features of dsp/utterance.ts that are computed at checkpoints from the stored frames:
// each one asserted on a synthetic contour whose answer is known.
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, UtteranceTracker } from '../../dsp/utterance.ts';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import type { VadFrame } from '../../dsp/vad.ts';

const FRAME_S = FRAME_SAMPLES / 8000;
const at = (name: (typeof FEATURE_NAMES)[number]): number => FEATURE_NAMES.indexOf(name);

function vadFrame(i: number, dbfs: number, active = true): VadFrame {
  return { endSample: (i + 1) * FRAME_SAMPLES, dbfs, floorDbfs: -70, active, speaking: active, event: 'none', eventSample: 0 };
}

/** The features of `frames` frames of speech whose level follows `level(t)` (no samples: level only). */
function levelContour(frames: number, level: (t: number) => number): Float64Array {
  const u = new UtteranceTracker();
  for (let i = 0; i < frames; i++) u.push(vadFrame(i, level(i * FRAME_S)), null);
  return u.compute(0, frames * FRAME_SAMPLES, 0);
}

/** A voiced sound (five harmonics) whose pitch follows `f0(t)` Hz, frame by frame, at −20 dBFS. */
function pitchContour(frames: number, f0: (t: number) => number): Float64Array {
  const u = new UtteranceTracker();
  const frame = new Int16Array(FRAME_SAMPLES);
  let phase = 0;
  for (let i = 0; i < frames; i++) {
    for (let n = 0; n < FRAME_SAMPLES; n++) {
      phase += (2 * Math.PI * f0((i * FRAME_SAMPLES + n) / 8000)) / 8000;
      let v = 0;
      for (let h = 1; h <= 5; h++) v += Math.sin(h * phase) / h;
      frame[n] = Math.round(2500 * v);
    }
    u.push(vadFrame(i, -20), frame);
  }
  return u.compute(0, frames * FRAME_SAMPLES, 0);
}

describe('utterance features', () => {
  it('syllabicModulation: a level beating at 4.5 Hz (syllables read out) is mostly in the 3–6 Hz band, a slow 1.5 Hz swell is not', () => {
    const syllabic = levelContour(150, (t) => -25 + 8 * Math.sin(2 * Math.PI * 4.5 * t));
    const slow = levelContour(150, (t) => -25 + 8 * Math.sin(2 * Math.PI * 1.5 * t));
    expect(syllabic[at('syllabicModulation')]).toBeGreaterThan(0.7);
    expect(slow[at('syllabicModulation')]).toBeLessThan(0.2);
  });

  it('syllabicModulation does not depend on the line gain', () => {
    const contour = (gainDb: number) => levelContour(150, (t) => gainDb - 25 + 8 * Math.sin(2 * Math.PI * 4.5 * t) + 3 * Math.sin(2 * Math.PI * 1.3 * t));
    expect(contour(-20)[at('syllabicModulation')]).toBeCloseTo(contour(0)[at('syllabicModulation')] as number, 6);
  });

  it('finalPitchPosition: a declarative ending falls to the floor of the speaker\'s range, a question rises to its top', () => {
    // 2 s around 150 Hz, then the last 300 ms fall to 115 Hz or rise to 200 Hz.
    const body = (t: number): number => 150 + 20 * Math.sin(2 * Math.PI * 0.8 * t);
    const falling = pitchContour(100, (t) => (t < 1.7 ? body(t) : body(1.7) - ((t - 1.7) / 0.3) * (body(1.7) - 115)));
    const rising = pitchContour(100, (t) => (t < 1.7 ? body(t) : body(1.7) + ((t - 1.7) / 0.3) * (200 - body(1.7))));
    expect(falling[at('finalPitchPosition')]).toBeLessThan(0.15);
    expect(rising[at('finalPitchPosition')]).toBeGreaterThan(0.85);
  });

  it('finalPitchPosition is neutral (0.5) without enough voiced frames to place the ending in', () => {
    expect(levelContour(60, () => -20)[at('finalPitchPosition')]).toBe(0.5);
  });
});
