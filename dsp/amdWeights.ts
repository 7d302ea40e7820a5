// Trained by `node bench/train-amd.ts --write` on the tune split only (137 files, 21 sources; groups timing). Do not edit by hand.
import type { AmdModel } from './amdModel.ts';

export const AMD_MODEL: AmdModel = {
  features: ['speechS', 'silenceS', 'onsetS', 'activeFraction', 'pauses', 'longestPauseS', 'syllables', 'syllableRate', 'pitchRiseSt', 'pitchSpreadSt', 'voicedFraction', 'levelSpreadDb', 'levelDeltaDb', 'tilt'],
  mean: [2.1804, 0.7544, 0.6482, 0.8383, 1.0877, 0.2228, 10.3986, 5.78, -1.6347, 3.0212, 0.7629, 5.6331, 2.9761, 0.4464],
  scale: [1.1666, 0.6898, 0.396, 0.1677, 1.6443, 0.2891, 6.744, 2.2462, 4.1279, 1.0565, 0.1814, 2.3438, 1.2128, 0.2445],
  weights: { pause: [0.5323, -0.6581, -0.287, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], speech: [0.732, 0, 0.0171, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
  bias: { pause: 0.5414, speech: -0.4368 },
  pauseChecksMs: [900, 1300, 1800],
  humanBelow: [0.4, 0.5, 0.95],
  speechChecksMs: [2400, 3200, 4000],
  machineAbove: [0.95, 0.6, 0.6],
  maxSpeechMs: 5000,
  trainedOn: '137 files, 21 sources; groups timing',
};
