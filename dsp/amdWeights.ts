// Trained by `node bench/train-amd.ts --write` on the tune split only (217 files, 24 sources; timing + syllables + spectrum + structure; thresholds out of fold). Do not edit by hand.
import type { AmdModel } from './amdModel.ts';

export const AMD_MODEL: AmdModel = {
  features: ['speechS', 'silenceS', 'onsetS', 'activeFraction', 'pauses', 'longestPauseS', 'syllables', 'syllableRate', 'pitchRiseSt', 'pitchSpreadSt', 'voicedFraction', 'levelSpreadDb', 'levelDeltaDb', 'tilt', 'firstPartS', 'parts', 'lastPartS', 'syllabicModulation', 'finalPitchPosition'],
  mean: [2.6386, 1.0209, 0.6238, 0.8628, 1.1877, 0.2111, 12.5779, 5.5717, -1.687, 3.0071, 0.7528, 5.991, 3.0868, 0.4798, 1.8595, 1.3552, 1.9828, 0.3001, 0.3372],
  scale: [1.7132, 0.7768, 0.3702, 0.1461, 1.8489, 0.2778, 9.3654, 2.0134, 4.1539, 1.0019, 0.1822, 2.496, 1.2495, 0.2794, 1.1834, 0.6761, 1.1799, 0.1956, 0.3909],
  weights: { pause: [0.49, -0.0892, -0.0893, 0, 0, 0, 0.4965, 0.4537, 0, 0, 0, 0, 0, -0.7831, 0.3617, 0.2044, 0.3028, 0, 0], speech: [0.244, 0, 0.0849, 0, 0, 0, 0.4647, 0.4608, 0, 0, 0, 0, 0, -0.8348, 0.3321, -0.0063, 0.1499, 0, 0] },
  bias: { pause: -0.75, speech: -0.5427 },
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
