// The unit every detector consumes: 20 ms of 16-bit linear PCM at 8 kHz (G.711's rate).
// Carriers deliver 8 kHz mu-law; SignalWire's L16 at 16/24 kHz is resampled to this rate once, at the edge.
export const SAMPLE_RATE_HZ = 8000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE_HZ * FRAME_MS) / 1000; // 160

/** Media time of a sample count on the 8 kHz clock, in milliseconds. */
export function samplesToMs(samples: number): number {
  return (samples * 1000) / SAMPLE_RATE_HZ;
}

export function msToSamples(ms: number): number {
  return Math.round((ms * SAMPLE_RATE_HZ) / 1000);
}

/**
 * A small stateful processor in the thi.ng/dsp style: fed one frame at a time, time counted in samples.
 * `process` must not allocate on the hot path and must not keep a reference to `frame` (the caller reuses it).
 */
export interface FrameProcessor<Out> {
  process(frame: Int16Array): Out;
  reset(): void;
}
