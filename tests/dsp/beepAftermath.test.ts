import { describe, expect, it } from 'vitest';
import { BeepDetector } from '../../dsp/beep.ts';
import { add, concat, frames, hum, noise, silence, speech, tone, tones, viaMulaw } from './signals.ts';

/** Beeps signalled: frequency and when (end of the frame that reported it, ms). */
function beeps(x: Int16Array): { frequencyHz: number; atMs: number }[] {
  const d = new BeepDetector();
  const out: { frequencyHz: number; atMs: number }[] = [];
  frames(x, (f, start) => {
    const r = d.process(f);
    if (r.beep) out.push({ frequencyHz: r.frequencyHz, atMs: (start + 160) / 8 });
  });
  return out;
}

/** A 3 ms click (a relay or the recorder starting), `db` under the beep. */
function click(dbfs: number): Float64Array {
  const x = tone(1700, 3, dbfs);
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * (i % 2 === 0 ? 1 : -0.6);
  return x;
}

describe('BeepDetector: what follows a beep', () => {
  it('keeps beeps followed at once by line noise, a click, hum, or a caller speaking 100–150 ms later (single and dual, 300–2000 Hz, through mu-law)', () => {
    // A voicemail beep is followed by the line (quiet, noise, hum), sometimes a click as recording starts,
    // and sometimes by speech a little later. Only a voice carrying the tone's harmonic on refuses a beep.
    const missed: string[] = [];
    let seed = 900;
    const beepsToTry: [string, Float64Array][] = [];
    for (const f of [300, 370, 440, 1000, 2000]) for (const d of [70, 150, 400]) beepsToTry.push([`${f} Hz ${d} ms`, tone(f, d, -20)]);
    beepsToTry.push(['440+480 Hz 300 ms', tones([440, 480], 300, -23)], ['350+440 Hz 150 ms', tones([350, 440], 150, -23)], ['1400+2060 Hz 150 ms', tones([1400, 2060], 150, -23)]);
    for (const [name, beep] of beepsToTry) {
      const d = beep.length / 8;
      const after: [string, Float64Array][] = [
        ['noise 20 dB under', concat(silence(400), beep, silence(600))],
        ['click', concat(silence(400), beep, silence(5), click(-34), silence(600))],
        ['speech after 100 ms', concat(silence(400), beep, silence(100), speech(500, { seed: seed, dbfs: -20 }))],
        ['speech after 150 ms', concat(silence(400), beep, silence(150), speech(450, { seed: seed + 1, dbfs: -16, f0: 200 }))],
        ['hum 60 Hz', concat(silence(400), beep, silence(600))],
      ];
      const [, noisy] = after[0]!;
      add(noisy, noise(noisy.length / 8, -40, seed++));
      const [, hummed] = after[4]!;
      add(hummed, hum(hummed.length / 8, -36, 60, seed % 5));
      for (const [what, x] of after) {
        const found = beeps(viaMulaw(x));
        const b = found[0];
        if (found.length !== 1 || b === undefined || b.atMs < 400 + d || b.atMs > 400 + d + 70) missed.push(`${name} then ${what}: ${JSON.stringify(found)}`);
      }
    }
    expect(missed).toEqual([]);
  });
});
