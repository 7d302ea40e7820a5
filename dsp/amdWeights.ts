// Trained by `node bench/train-amd.ts --write` on the tune split only (79 files, 12 sources). Do not edit by hand.
import type { AmdModel } from './amdModel.ts';

export const AMD_MODEL: AmdModel = {
  features: ['speechS', 'silenceS', 'onsetS', 'activeFraction', 'pauses', 'longestPauseS', 'syllables', 'syllableRate', 'pitchRiseSt', 'pitchSpreadSt', 'voicedFraction', 'levelSpreadDb', 'levelDeltaDb', 'tilt'],
  mean: [1.7892, 0.9258, 0.7466, 0.9057, 0.5359, 0.1038, 9.2918, 5.2473, -1.8379, 2.6114, 0.7436, 5.2629, 2.6158, 0.3552],
  scale: [1.1555, 0.6809, 0.5123, 0.1273, 1.2934, 0.173, 7.6495, 2.1129, 4.0974, 1.0563, 0.2217, 1.9063, 0.8864, 0.233],
  weights: [0.669, -0.6148, 0.0648, -0.2949, 0.1633, 0.1449, 0.6032, 0.3784, -0.0245, 0.0049, 0.2481, 0.0032, 0.3137, -0.2194],
  bias: -0.7085,
  pauseChecksMs: [900, 1300, 1800],
  humanBelow: [0.7, 0.7, 0.7],
  speechChecksMs: [2400, 3200, 4000],
  machineAbove: [0.95, 0.7, 0.7],
  maxSpeechMs: 5000,
  trainedOn: '79 files, 12 sources',
};
