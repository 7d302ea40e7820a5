import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BeepDetector } from '../../dsp/beep.ts';
import { decodeWavTo8k } from '../../dsp/wav.ts';
import { frames } from './signals.ts';
import { recallSweep } from './beepRecall.ts';

const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'beep-speech');

interface Entry {
  file: string;
  falseBeepHz: number;
}

describe('BeepDetector on real speech', () => {
  it('does not fire on the stretches of real voices that passed for short beeps (fixtures/beep-speech: Asterisk prompts, Fish Fillets voices)', () => {
    // Each clip holds a 60–90 ms stretch of a 300–430 Hz harmonic whose next harmonics were 25–40 dB down
    // or missing; the same voice carries it on after it (beepAftermath.ts).
    const { files } = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { files: Entry[] };
    expect(files.length).toBeGreaterThanOrEqual(10);
    const fired: string[] = [];
    for (const e of files) {
      const d = new BeepDetector();
      frames(decodeWavTo8k(new Uint8Array(readFileSync(join(DIR, e.file)))), (f, start) => {
        const r = d.process(f);
        if (r.beep) fired.push(`${e.file}: ${r.frequencyHz} Hz at ${(start + 160) / 8} ms`);
      });
    }
    expect(fired).toEqual([]);
  });

  it('still finds every beep of the recall sweep (single, dual, beating, stepped; white noise at 12/20 dB SNR and mains hum; through mu-law) within 150 ms of its end', () => {
    const r = recallSweep(() => new BeepDetector());
    expect(r.cases).toBe(272);
    expect(r.missed).toEqual([]);
    // Waiting for a window clear of the tone costs at most four hops and a frame.
    expect(Math.max(...r.latenciesMs)).toBeLessThanOrEqual(70);
  });
});
