// Trained by `node bench/train-amd.ts --write` on the tune split only (191 files, 24 sources; all features; thresholds out of fold). Do not edit by hand.
import type { AmdModel } from './amdModel.ts';

export const AMD_MODEL: AmdModel = {
  features: ['speechS', 'silenceS', 'onsetS', 'activeFraction', 'pauses', 'longestPauseS', 'syllables', 'syllableRate', 'pitchRiseSt', 'pitchSpreadSt', 'voicedFraction', 'levelSpreadDb', 'levelDeltaDb', 'tilt', 'firstPartS', 'parts', 'lastPartS'],
  mean: [2.4356, 1.0441, 0.6418, 0.8701, 1.086, 0.2073, 11.3617, 5.4483, -1.4373, 2.9893, 0.7471, 5.891, 2.9722, 0.4885, 1.7198, 1.3229, 1.865],
  scale: [1.6528, 0.7704, 0.3853, 0.1445, 1.8024, 0.2939, 8.7789, 2.1117, 4.2325, 1.0647, 0.1858, 2.4662, 1.2447, 0.2767, 1.1432, 0.6622, 1.1684],
  weights: { pause: [0.3818, -0.1, -0.1041, -0.3474, -0.2227, 0.3621, 0.4333, 0.379, -0.2783, -0.2033, 0.2512, 0.0097, 0.1086, -0.6083, 0.4626, 0.0693, 0.349], speech: [0.2454, 0, 0.0247, 0.007, -0.0137, -0.0482, 0.4908, 0.4234, -0.2194, -0.4931, 0.2304, 0.009, 0.1122, -0.5919, 0.3408, -0.0119, 0.1682] },
  bias: { pause: -1.2114, speech: -0.6611 },
  pauseChecksMs: [800, 1100, 1500, 2000],
  shortAnswerMs: 1000,
  pauseBandMs: 2000,
  bandFirstCheck: 2,
  humanBelow: [0.5, 0.5, 0.98, 0.98],
  speechChecksMs: [2400, 3200, 4000],
  machineAbove: [0.95, 0.9, 0.9],
  maxSpeechMs: 5000,
  trainedOn: '191 files, 24 sources; all features; thresholds out of fold',
};
