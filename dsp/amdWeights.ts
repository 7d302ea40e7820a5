// Trained by `node bench/train-amd.ts --write` on the tune split only (191 files, 24 sources; all features; thresholds out of fold). Do not edit by hand.
import type { AmdModel } from './amdModel.ts';

export const AMD_MODEL: AmdModel = {
  features: ['speechS', 'silenceS', 'onsetS', 'activeFraction', 'pauses', 'longestPauseS', 'syllables', 'syllableRate', 'pitchRiseSt', 'pitchSpreadSt', 'voicedFraction', 'levelSpreadDb', 'levelDeltaDb', 'tilt', 'firstPartS', 'parts', 'lastPartS'],
  mean: [2.4561, 1.0496, 0.6385, 0.8679, 1.1022, 0.2122, 11.411, 5.4539, -1.3526, 2.9758, 0.7481, 5.8919, 2.9776, 0.4901, 1.7091, 1.3404, 1.8521],
  scale: [1.683, 0.7687, 0.3857, 0.1457, 1.8194, 0.2998, 8.8294, 2.1163, 4.1649, 1.0584, 0.1863, 2.4726, 1.2482, 0.2773, 1.1436, 0.6908, 1.1723],
  weights: { pause: [0.4451, -0.087, -0.1055, -0.3021, -0.2085, 0.3625, 0.4592, 0.3558, -0.2536, -0.193, 0.2704, -0.0236, 0.1118, -0.5808, 0.4636, 0.1543, 0.3021], speech: [0.226, 0, 0.0532, 0.0386, 0.0128, -0.0546, 0.4859, 0.41, -0.3462, -0.4463, 0.1756, -0.0091, 0.0965, -0.6204, 0.3364, -0.0234, 0.1544] },
  bias: { pause: -1.1877, speech: -0.5799 },
  pauseChecksMs: [800, 1100, 1500, 2000],
  shortAnswerMs: 1000,
  pauseBandMs: 2000,
  bandFirstCheck: 2,
  humanBelow: [0.6, 0.6, 0.98, 0.98],
  speechChecksMs: [2400, 3200, 4000],
  machineAbove: [0.95, 0.9, 0.9],
  maxSpeechMs: 5000,
  trainedOn: '191 files, 24 sources; all features; thresholds out of fold',
};
