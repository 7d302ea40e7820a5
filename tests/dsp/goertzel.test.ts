import { describe, expect, it } from 'vitest';
import { blockEnergy, goertzelComplex, goertzelPower, goertzelProbe, normalizedPower } from '../../dsp/goertzel.ts';
import { frameDbfs, meanSquareToDbfs, NoiseFloor } from '../../dsp/levels.ts';
import { noise, pcm, tone } from './signals.ts';

describe('Goertzel', () => {
  it('puts all of an on-frequency tone’s energy in its bin (Parseval)', () => {
    for (const f of [697, 1000, 1633, 2100]) {
      const x = tone(f, 100, -10);
      const n = 400;
      const p = goertzelPower(x, 0, n, goertzelProbe(f));
      expect(normalizedPower(p, blockEnergy(x, 0, n), n)).toBeCloseTo(1, 1);
    }
  });

  it('falls off away from the probe as the rectangular window’s sinc²', () => {
    const n = 102;
    const probe = goertzelProbe(1000);
    for (const offsetBins of [0.25, 0.5, 0.75]) {
      const f = 1000 + (offsetBins * 8000) / n;
      const x = tone(f, 20, -10, 0.3);
      const share = normalizedPower(goertzelPower(x, 0, n, probe), blockEnergy(x, 0, n), n);
      const sinc = Math.sin(Math.PI * offsetBins) / (Math.PI * offsetBins);
      expect(share).toBeGreaterThan(sinc * sinc - 0.08);
      expect(share).toBeLessThan(sinc * sinc + 0.08);
    }
  });

  it('gives a phase that advances by 2π·f·L/fs between blocks L samples apart', () => {
    const f = 770 * 1.02;
    const x = tone(f, 50, -10);
    const probe = goertzelProbe(770);
    const a = new Float64Array(2);
    const b = new Float64Array(2);
    goertzelComplex(x, 0, 102, probe, a);
    goertzelComplex(x, 40, 102, probe, b);
    const dphi = Math.atan2(b[1]! * a[0]! - b[0]! * a[1]!, b[0]! * a[0]! + b[1]! * a[1]!);
    const expected = ((2 * Math.PI * f * 40) / 8000) % (2 * Math.PI);
    const wrap = (v: number) => Math.atan2(Math.sin(v), Math.cos(v));
    expect(Math.abs(wrap(dphi - expected))).toBeLessThan(0.05);
  });

  it('rejects frequencies outside (0, Nyquist)', () => {
    expect(() => goertzelProbe(0)).toThrow(RangeError);
    expect(() => goertzelProbe(4000)).toThrow(RangeError);
  });
});

describe('levels', () => {
  it('reads a full-scale sine as 0 dBFS and a −20 dBFS sine as −20', () => {
    expect(frameDbfs(pcm(tone(1000, 20, 0)))).toBeCloseTo(0, 0);
    expect(frameDbfs(pcm(tone(1000, 20, -20)))).toBeCloseTo(-20, 0);
    expect(meanSquareToDbfs(0)).toBe(-100);
  });

  it('tracks the noise floor under speech-like bursts and recovers after reset', () => {
    const floor = new NoiseFloor({ windowMs: 1000, blockMs: 100 });
    const n = pcm(noise(3000, -45, 3));
    let last = 0;
    for (let i = 0; i + 160 <= n.length; i += 160) {
      // Every third 200 ms a loud burst: the minimum ignores it.
      const loud = Math.floor(i / 1600) % 3 === 0 ? 25 : 0;
      last = floor.update(frameDbfs(n.subarray(i, i + 160)) + loud);
    }
    expect(last).toBeGreaterThan(-48);
    expect(last).toBeLessThan(-44);
    floor.reset();
    expect(floor.dbfs).toBe(floor.minDbfs);
  });

  it('is the minimum over the window of whole blocks plus the block under way, frame by frame, across a reset', () => {
    // The definition, computed the slow way: the floor after frame k is the smallest level among the
    // frames of the last `blocks` closed blocks and of the block being filled, never below minDbfs.
    const floor = new NoiseFloor({ windowMs: 400, blockMs: 100 });
    const perBlock = 5;
    const blocks = 4;
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const run of [0, 1]) {
      const levels: number[] = [];
      for (let k = 0; k < 200; k++) {
        // A floor that wanders, with bursts, and stretches of digital silence below minDbfs.
        const level = k % 37 < 3 ? -100 : -60 + 20 * Math.sin(k / (9 + run)) + 30 * rand();
        levels.push(level);
        const blockStart = Math.floor(k / perBlock) * perBlock;
        const from = Math.max(0, blockStart - blocks * perBlock);
        const expected = Math.max(floor.minDbfs, Math.min(...levels.slice(from)));
        expect(floor.update(level), `frame ${k} of run ${run}`).toBe(expected);
      }
      floor.reset();
      expect(floor.dbfs).toBe(floor.minDbfs);
    }
  });

  it('validates its window', () => {
    expect(() => new NoiseFloor({ blockMs: 30 })).toThrow(RangeError);
    expect(() => new NoiseFloor({ windowMs: 150, blockMs: 100 })).toThrow(RangeError);
  });
});
