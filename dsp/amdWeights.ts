// Trained by `node bench/train-amd.ts --write` on the tune split only (190 files, 24 sources; timing + syllables + pitch; thresholds out of fold). Do not edit by hand.
import type { AmdModel } from './amdModel.ts';

export const AMD_MODEL: AmdModel = {
  features: ['speechS', 'silenceS', 'onsetS', 'activeFraction', 'pauses', 'longestPauseS', 'syllables', 'syllableRate', 'pitchRiseSt', 'pitchSpreadSt', 'voicedFraction', 'levelSpreadDb', 'levelDeltaDb', 'tilt', 'firstPartS', 'parts', 'lastPartS'],
  mean: [2.2353, 0.7431, 0.6142, 0.815, 1.2806, 0.2745, 9.9899, 5.7774, -1.1514, 3.0257, 0.7541, 5.6969, 2.9563, 0.4975, 1, 1, 1],
  scale: [1.1708, 0.684, 0.3545, 0.1818, 1.6473, 0.3344, 6.256, 2.1821, 3.9237, 1.042, 0.1751, 2.4888, 1.278, 0.2673, 1, 1, 1],
  weights: { pause: [0.0756, -0.6539, -0.2982, 0, 0, 0, 0.2642, 0.4413, -0.2864, 0.1987, 0.338, 0, 0, 0, 0, 0, 0], speech: [0.2955, 0, -0.073, 0, 0, 0, 0.4231, 0.2491, -0.2863, -0.1109, 0.6002, 0, 0, 0, 0, 0, 0] },
  bias: { pause: 0.3533, speech: -0.4394 },
  pauseChecksMs: [800, 1100, 1400, 2000],
  shortAnswerMs: 1000,
  pauseBandMs: 2000,
  bandFirstCheck: 2,
  humanBelow: [0.7, 0.7, 0.7, 0.95],
  speechChecksMs: [2400, 3200, 4000],
  machineAbove: [0.95, 0.7, 0.7],
  maxSpeechMs: 5000,
  trainedOn: '190 files, 24 sources; timing + syllables + pitch; thresholds out of fold',
};
