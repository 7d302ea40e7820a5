import { describe, expect, it } from 'vitest';
import { Vad } from '../../dsp/vad.ts';
import { analyseRecording } from '../../dsp/analyse.ts';
import { CngBeepHold, FaxDetector } from '../../dsp/fax.ts';
import { add, concat, frames, hum, noise, pcm, silence, speech, tone, viaMulaw } from './signals.ts';

function vadEvents(x: Float64Array | Int16Array, v = new Vad()): { event: string; ms: number }[] {
  const out: { event: string; ms: number }[] = [];
  frames(x instanceof Int16Array ? x : pcm(x), (f) => {
    const r = v.process(f);
    if (r.event !== 'none') out.push({ event: r.event, ms: r.eventSample / 8 });
  });
  return out;
}

describe('Vad', () => {
  it('finds speech from −30 to −6 dBFS in noise at 12 dB SNR and in quiet', () => {
    for (const level of [-30, -20, -6]) {
      for (const snr of [12, 40]) {
        const x = concat(silence(800), speech(1500, { dbfs: level, seed: 3 }), silence(1200));
        add(x, noise(3500, level - snr, 9));
        const ev = vadEvents(x);
        expect(ev.map((e) => e.event), `${level} dBFS, ${snr} dB SNR`).toEqual(['onset', 'offset']);
        expect(Math.abs(ev[0]!.ms - 800)).toBeLessThanOrEqual(120);
        expect(Math.abs(ev[1]!.ms - 2300)).toBeLessThanOrEqual(300);
      }
    }
  });

  it('stays quiet on stationary line noise from −70 to −20 dBFS', () => {
    for (const level of [-70, -45, -20]) expect(vadEvents(noise(4000, level, 5))).toEqual([]);
  });

  it('finds the floor again when the noise level steps down by 30 dB', () => {
    const x = concat(noise(2000, -25, 1), noise(3000, -55, 2), speech(1000, { dbfs: -35, seed: 2 }), noise(1500, -55, 3));
    const ev = vadEvents(x);
    // The step down is not speech; the quiet talker after it is.
    expect(ev.filter((e) => e.event === 'onset').map((e) => Math.round(e.ms / 100) * 100)).toEqual([5000]);
  });

  it('finds a 300 ms "Yes?" at −30 dBFS said as the line connects, so AMD gives a verdict', () => {
    // Said from the first frame, the answer is the noise floor until the pause after it shows the
    // line's real floor; it must still start speech (late, with its true start) and AMD must decide.
    const wrong: string[] = [];
    for (const line of ['white', 'hum60'] as const) {
      for (let seed = 1; seed <= 6; seed++) {
        const x = concat(speech(300, { dbfs: -30, seed, f0: 180 }), silence(5500));
        add(x, line === 'white' ? noise(x.length / 8, -45, seed) : hum(x.length / 8, -45, 60, seed));
        const samples = viaMulaw(x);
        const ev = vadEvents(samples);
        const amd = analyseRecording(samples);
        if (ev[0]?.event !== 'onset' || ev[0].ms > 120 || ev[1]?.event !== 'offset' || amd.result !== 'human') {
          wrong.push(`${line} seed ${seed}: ${JSON.stringify(ev)} ${amd.result} (${amd.reason})`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('still calls dead air that starts with the call no speech, whatever its level', () => {
    for (const level of [-60, -40]) {
      expect(vadEvents(viaMulaw(noise(6000, level, 4)))).toEqual([]);
      expect(analyseRecording(viaMulaw(hum(6000, level, 50, 2))).result).toBe('unknown');
    }
  });

  it('is back to its initial state after reset()', () => {
    const v = new Vad();
    const x = concat(silence(500), speech(800, { seed: 5 }), silence(800));
    frames(pcm(speech(600, { seed: 9 })), (f) => v.process(f));
    v.reset();
    expect(vadEvents(x, v)).toEqual(vadEvents(x));
  });

  it('validates its parameters', () => {
    expect(() => new Vad({ onsetMs: 30 })).toThrow(RangeError);
    expect(() => new Vad({ offsetSnrDb: 12, onsetSnrDb: 9 })).toThrow(RangeError);
  });
});

function faxTones(x: Float64Array, d = new FaxDetector()): { tone: string; ms: number }[] {
  const out: { tone: string; ms: number }[] = [];
  frames(pcm(x), (f, start) => {
    const r = d.process(f);
    if (r.tone !== '') out.push({ tone: r.tone, ms: (start + 160) / 8 });
  });
  return out;
}

describe('FaxDetector', () => {
  it('recognises CNG bursts (1100 Hz, 0.5 s on / 3 s off) as each burst ends', () => {
    const x = concat(silence(300), tone(1100, 500, -20), silence(3000), tone(1100, 500, -20), silence(500));
    const found = faxTones(x);
    expect(found.map((t) => t.tone)).toEqual(['CNG', 'CNG']);
    expect(found[0]!.ms).toBeGreaterThanOrEqual(800);
    expect(found[0]!.ms).toBeLessThanOrEqual(880);
  });

  it('recognises CED/ANS (2100 Hz) and Bell 2225 Hz once they outlast any beep', () => {
    for (const f of [2100, 2225]) {
      const found = faxTones(concat(silence(500), tone(f, 3300, -15), silence(500)));
      expect(found.map((t) => t.tone)).toEqual(['CED']);
      expect(found[0]!.ms).toBeGreaterThanOrEqual(2100);
      expect(found[0]!.ms).toBeLessThanOrEqual(2160);
    }
  });

  it('bridges ANSam phase reversals (a 180° jump every 450 ms)', () => {
    const parts: Float64Array[] = [silence(300)];
    for (let i = 0; i < 7; i++) parts.push(tone(2100, 450, -15, i % 2 ? Math.PI : 0));
    expect(faxTones(concat(...parts, silence(300))).map((t) => t.tone)).toEqual(['CED']);
  });

  it('ignores 1100 Hz tones of the wrong length, short 2100 Hz beeps and speech', () => {
    expect(faxTones(concat(silence(300), tone(1100, 1500, -20), silence(500)))).toEqual([]);
    expect(faxTones(concat(silence(300), tone(1100, 150, -20), silence(500)))).toEqual([]);
    expect(faxTones(concat(silence(300), tone(2100, 1200, -20), silence(500)))).toEqual([]);
    expect(faxTones(speech(8000, { seed: 12 }))).toEqual([]);
  });

  it('is back to its initial state after reset()', () => {
    const d = new FaxDetector();
    frames(pcm(tone(2100, 1000, -15)), (f) => d.process(f));
    d.reset();
    const x = concat(silence(300), tone(2100, 2000, -15));
    expect(faxTones(x, d)).toEqual(faxTones(x));
  });
});

describe('CngBeepHold', () => {
  it('holds a CNG-like beep until the fax detector speaks: dropped on CNG, released when the hold runs out', () => {
    const hold = new CngBeepHold();
    // 1000 Hz or a 200 ms 1100 Hz burst cannot be CNG: used at once.
    expect(hold.offer(1000, 4000, 10_000, 10_000)).toBe(false);
    expect(hold.offer(1100, 1600, 10_000, 10_000)).toBe(false);
    // 1100 Hz for 500 ms could be: held, then dropped when the fax detector reports CNG.
    expect(hold.offer(1105, 4000, 10_000, 10_000)).toBe(true);
    expect(hold.pending).toBe(true);
    hold.cancel(10_160);
    expect(hold.release(20_000)).toBe(false);
    // Held again, no CNG report: it stands once the hold (two frames) has run out, and only once.
    expect(hold.offer(1100, 4000, 30_000, 30_160)).toBe(true);
    expect(hold.release(30_320)).toBe(false);
    expect(hold.release(30_480)).toBe(true);
    expect([hold.frequencyHz, hold.durationSamples, hold.endSample]).toEqual([1100, 4000, 30_000]);
    expect(hold.release(30_640)).toBe(false);
    // The beep detector signals a burst a few hops after its end (it waits to see what follows it): a burst
    // the fax detector already called CNG is dropped at once, not held and released.
    hold.cancel(40_000);
    expect(hold.offer(1100, 4000, 39_900, 40_320)).toBe(true);
    expect(hold.pending).toBe(false);
    expect(hold.release(40_800)).toBe(false);
    expect(() => new CngBeepHold(0)).toThrow(RangeError);
  });
});
