import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BeepDetector } from '../../dsp/beep.ts';
import { decodeWavTo8k } from '../../dsp/wav.ts';
import { beepAtAlignments } from './beepRecall.ts';

const FILE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'amd', 'machine_beep470hz_80ms_it-menardi_pause_-13dB_snr12white.wav');

describe('BeepDetector at every frame alignment', () => {
  it('finds a quiet 80 ms beep in white noise (5–6 dB over the line broadband) whatever the frame alignment', () => {
    // The corpus file's beep ends at 4043 ms. Broadband it rises only 5.5–5.9 dB over the noise, so the 6 dB
    // onset rule alone found it at 6 of these 10 alignments; in its own lobe it rises > 20 dB out of the
    // line's floor (beep.ts NARROW_ONSET_DB).
    const samples = decodeWavTo8k(new Uint8Array(readFileSync(FILE)));
    const endMs = 4043;
    const { found, other } = beepAtAlignments(() => new BeepDetector(), samples, endMs, 470);
    expect(other).toEqual([]);
    expect(found).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });
});
