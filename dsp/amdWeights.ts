// Trained by `node bench/train-amd.ts --write` on the tune split only (217 files, 24 sources; timing + syllables + spectrum + structure; thresholds out of fold). Do not edit by hand.
import type { AmdModel } from './amdModel.ts';

export const AMD_MODEL: AmdModel = {
  features: ['speechS', 'silenceS', 'onsetS', 'activeFraction', 'pauses', 'longestPauseS', 'syllables', 'syllableRate', 'pitchRiseSt', 'pitchSpreadSt', 'voicedFraction', 'levelSpreadDb', 'levelDeltaDb', 'tilt', 'firstPartS', 'parts', 'lastPartS'],
  mean: [2.6384, 1.0209, 0.6238, 0.8627, 1.1921, 0.2114, 12.5794, 5.574, -1.6928, 3.0071, 0.7528, 5.9918, 3.0857, 0.48, 1.8593, 1.3552, 1.9826],
  scale: [1.7132, 0.7768, 0.3702, 0.1461, 1.8473, 0.2778, 9.364, 2.013, 4.138, 1.0019, 0.1822, 2.4962, 1.2475, 0.2796, 1.1833, 0.6761, 1.1798],
  weights: { pause: [0.4899, -0.0892, -0.0892, 0, 0, 0, 0.4965, 0.4538, 0, 0, 0, 0, 0, -0.7831, 0.3618, 0.2044, 0.3028], speech: [0.2425, 0, 0.0855, 0, 0, 0, 0.463, 0.453, 0, 0, 0, 0, 0, -0.8396, 0.3283, -0.0055, 0.1458] },
  bias: { pause: -0.75, speech: -0.5362 },
  pauseChecksMs: [800, 1100, 1500, 2000],
  shortAnswerMs: 1000,
  pauseBandMs: 2000,
  bandFirstCheck: 2,
  humanBelow: [0.6, 0.6, 0.95, 0.98],
  speechChecksMs: [2400, 3200, 4000],
  machineAbove: [0.95, 0.9, 0.9],
  maxSpeechMs: 5000,
  trainedOn: '217 files, 24 sources; timing + syllables + spectrum + structure; thresholds out of fold',
};
