// What follows a tone candidate. A voicemail beep ends and the line goes quiet (or stays at its noise,
// or a click, or the recording's own hiss): nothing carries the tone on. A short stretch of a voice's
// harmonic that passed every test on its own (a woman's or child's 300–420 Hz fundamental or 2nd harmonic,
// a man's 2nd/3rd, with the next harmonics 25–40 dB down: physically a short pure tone) ends because the
// voice glides, changes vowel or softens — and the same voice carries on: within tens of milliseconds the
// spectrum holds a peak at the tone's component(s), or where they glided to (±15%), standing clear of the
// valleys beside it and not far under the tone. So a candidate that passed is held for a few hops past its
// end and refused if its harmonics carry on.
//
// The 32 ms analysis window holds the tone's tail for 32 ms after its end, so the judged hops are the first
// two whose windows start after it (about 35–45 ms after the end), summed so that one hop of noise does not
// make a peak. When the two hops right after the end are 30 dB under the tone (a clean line, nothing there a
// voice could be), the beep is signalled at once. A peak that was there just before the tone, at the same
// frequency and level, is the line's (mains hum), not a voice. Cost: a beep on a noisy line is signalled
// 40–70 ms after its end (20–40 ms later than without the hold); per frame, nothing but reading the spectra
// of the hops after a held candidate (computed even for quiet hops then).
import { BAND_HI, BAND_LO, BIN_HZ, HALF, WINDOW, interpolatedHz } from './beepSpectrum.ts';

/** Clear hops (whose 256-sample window starts after the tone's end) summed before judging. */
const JUDGED_HOPS = 2;
/** Hops right after the end that, when this far (dB) under the tone, signal at once: nothing carries on. */
const QUIET_DB = 30;
const QUIET_HOPS = 2;
/**
 * A beep switches off within one 10 ms hop: those two hops are back at the line it rose out of (within
 * 9.4 dB of it over the recall sweep, the alignment bench and the AMD corpus: noise that the line's 3-hop
 * minimum understates, a hop still holding the tone's last milliseconds). A voice's harmonic fades over
 * 30–50 ms, or its vowel carries on softly: KLettres' pt_BR "s" and "f" (a vowel tail after a loud
 * fricative) kept both hops 20–35 dB over the line. Both this far (dB) over the line: a voice.
 */
const TAIL_OVER_LINE_DB = 15;
/**
 * A carried-on harmonic stands this far over the floor from an octave below the component to an octave above
 * it (dB 12 → ×16), the floor being the lower quartile of those bins: a line's noise is flat there (a bin of
 * two summed hops of white noise passes one time in 10⁵), the valleys between a voice's harmonics are low
 * even where its harmonics fill half the bins (f0 150 Hz), and a fricative starting higher up (2–4 kHz) does
 * not hide a harmonic left at 350 Hz.
 */
const CARRY_OVER_FLOOR = 10 ** (16 / 10);
/** How far a voice's harmonic may glide from the tone's component between the tone and the judged hops. */
const GLIDE = 0.15;
/** A carried-on harmonic within this of the tone's peak bin (dB −24 → ×0.004): a voice at a comparable level… */
const CARRY_REL = 10 ** (-24 / 10);
/** …standing this far over the lower of the valleys either side (dB 8 → ×6.3): a harmonic, not noise. */
const CARRY_OVER_VALLEY = 10 ** (8 / 10);
/**
 * A peak within 2 dB (×1.6) of the same bins just before the tone, either way, is the line's: steady. A voice's
 * harmonic around a tone swells or fades.
 */
const LINE_RISE = 10 ** (2 / 10);
/** …and at the same frequency within this (Hz): a mains harmonic does not move. */
const LINE_HZ = 4;
/** Bins either side of a component searched for its partner in a pair (two harmonics seen as one wide lobe). */
const PAIR_SEARCH_BINS = 7;
/** A second component counts when within 10 dB of the first. */
const PAIR_BALANCE = 0.1;
const MAX_COMPONENTS = 3;

/**
 * Power at the peak bin of a 256-point Hann-windowed FFT of a sine at `dbfs` (full-scale sine = 0 dBFS):
 * amplitude × N/4, squared.
 */
function peakBinPower(dbfs: number): number {
  return (32767 * 10 ** (dbfs / 20) * (WINDOW / 4)) ** 2;
}

export type AftermathVerdict = 'wait' | 'beep' | 'voice';

/**
 * Whether bin k of `p` is a harmonic standing clear: at least `floor`, `CARRY_OVER_FLOOR` over the line's
 * `lineFloor`, a local peak, and `CARRY_OVER_VALLEY` over the valleys either side (bins k±2..3).
 */
function standsClear(p: Float64Array, k: number, floor: number, lineFloor: number): boolean {
  const v = p[k] as number;
  if (v < floor || v < lineFloor * CARRY_OVER_FLOOR || v < (p[k - 1] as number) || v < (p[k + 1] as number)) return false;
  const valley = Math.min(((p[k - 3] as number) + (p[k - 2] as number)) / 2, ((p[k + 2] as number) + (p[k + 3] as number)) / 2);
  return v >= valley * CARRY_OVER_VALLEY;
}

export class ToneAftermath {
  /** A candidate passed and is held for what follows it. */
  pending = false;
  frequencyHz = 0;
  durationSamples = 0;
  endSample = 0;
  /** Hops wholly after the end seen (up to QUIET_HOPS), and how many of them were quiet. */
  private hops = 0;
  private quiet = 0;
  private toneLevelDb = 0;
  /** The line's level before the tone (dB; −Infinity when unknown). */
  private lineDb = -Infinity;
  /** The quieter of the hops wholly after the end seen so far (dB). */
  private tailDb = Infinity;
  private readonly bins = new Int32Array(MAX_COMPONENTS);
  /** Per-hop power at each component's peak bin during the tone. */
  private readonly binPower = new Float64Array(MAX_COMPONENTS);
  /** Each component's frequency interpolated in the tone's spectrum (0 when it had none). */
  private readonly hz = new Float64Array(MAX_COMPONENTS);
  private components = 0;
  private readonly sum = new Float64Array(HALF + 1);
  private summed = 0;
  private readonly sorted = new Float64Array(HALF + 1);
  /** One hop's spectrum just before the tone's onset (zero when that hop was quiet). */
  private readonly pre = new Float64Array(HALF + 1);

  clear(): void {
    this.pending = false;
    this.hops = 0;
    this.quiet = 0;
    this.tailDb = Infinity;
    this.components = 0;
    if (this.summed > 0) this.sum.fill(0);
    this.summed = 0;
  }

  /**
   * Hold a candidate that passed. `tone` is its power spectrum summed over `toneHops` hops (its components
   * are read from it); `f2` its second tone's frequency for a resolved dual tone (0 otherwise); `lineDb` the
   * level of the line it rose out of.
   */
  hold(frequencyHz: number, durationSamples: number, endSample: number, toneLevelDb: number, tone: Float64Array, toneHops: number, f1: number, f2: number, preTone: Float64Array | null, lineDb: number): void {
    this.clear();
    this.lineDb = lineDb;
    if (preTone) this.pre.set(preTone);
    else this.pre.fill(0);
    this.pending = true;
    this.frequencyHz = frequencyHz;
    this.durationSamples = durationSamples;
    this.endSample = endSample;
    this.toneLevelDb = toneLevelDb;
    const scale = toneHops > 0 ? 1 / toneHops : 1;
    // The strongest peak near the tone, and a second one within 10 dB (two harmonics seen as a wide lobe).
    const kc = Math.round(f1 / BIN_HZ);
    let ka = -1;
    let kb = -1;
    for (let k = Math.max(BAND_LO + 1, kc - PAIR_SEARCH_BINS); k <= Math.min(BAND_HI - 1, kc + PAIR_SEARCH_BINS); k++) {
      const v = tone[k] as number;
      if (!(v >= (tone[k - 1] as number) && v > (tone[k + 1] as number))) continue;
      if (ka < 0 || v > (tone[ka] as number)) {
        kb = ka;
        ka = k;
      } else if (kb < 0 || v > (tone[kb] as number)) {
        kb = k;
      }
    }
    if (ka >= 0) this.addComponent(ka, (tone[ka] as number) * scale, interpolatedHz(tone, ka));
    if (kb >= 0 && (tone[kb] as number) >= (tone[ka] as number) * PAIR_BALANCE) this.addComponent(kb, (tone[kb] as number) * scale, interpolatedHz(tone, kb));
    if (this.components === 0) {
      // No spectrum summed for the last step (a step of two hops): the tone's level stands in for its peak bin.
      this.addComponent(kc, peakBinPower(toneLevelDb), f1);
    }
    if (f2 > 0) {
      const k2 = Math.round(f2 / BIN_HZ);
      let best = k2;
      for (let k = k2 - 1; k <= k2 + 1; k++) if ((tone[k] as number) > (tone[best] as number)) best = k;
      this.addComponent(best, (tone[best] as number) * scale, f2);
    }
  }

  private addComponent(k: number, power: number, hz: number): void {
    if (this.components >= MAX_COMPONENTS || !(power > 0)) return;
    this.bins[this.components] = k;
    this.binPower[this.components] = power;
    this.hz[this.components] = hz;
    this.components++;
  }

  /**
   * One hop after the end hop: its time-local level (over its last `hop` samples), its power spectrum
   * (over the `window` samples up to `hopEnd`), and the sample it ends at.
   */
  hop(levelDb: number, power: Float64Array, hopEnd: number, hop: number, window: number): AftermathVerdict {
    const v = this.level(levelDb, hopEnd, hop);
    if (v !== 'wait') return v;
    if (hopEnd - window < this.endSample) return 'wait';
    for (let k = 0; k <= HALF; k++) this.sum[k] = (this.sum[k] as number) + (power[k] as number);
    this.summed++;
    if (this.summed < JUDGED_HOPS) return 'wait';
    return this.done(this.carriedOn() ? 'voice' : 'beep');
  }

  /**
   * A hop's time-local level only (a hop that passed before the candidate was held, while its end was
   * still taken for a beat's null): two quiet hops wholly after the end signal the beep; two still well over
   * the line (TAIL_OVER_LINE_DB) refuse it.
   */
  level(levelDb: number, hopEnd: number, hop: number): AftermathVerdict {
    if (!this.pending) return 'voice';
    if (hopEnd - hop >= this.endSample && this.hops < QUIET_HOPS) {
      this.hops++;
      this.tailDb = Math.min(this.tailDb, levelDb);
      if (levelDb < this.toneLevelDb - QUIET_DB) this.quiet++;
      if (this.quiet === QUIET_HOPS) return this.done('beep');
      if (this.hops === QUIET_HOPS && this.tailDb - this.lineDb >= TAIL_OVER_LINE_DB) return this.done('voice');
    }
    return 'wait';
  }

  private done(v: AftermathVerdict): AftermathVerdict {
    this.pending = false;
    return v;
  }

  /**
   * Whether the peak at bin `k` (per-hop power `v`) was there just before the tone at the same frequency
   * (±LINE_HZ, interpolated) and level (±2 dB): a steady line, not a voice, whose harmonics glide and swell.
   */
  private lineBefore(k: number, v: number): boolean {
    const pre = this.pre;
    let kp = k;
    for (let j = k - 1; j <= k + 1; j++) if ((pre[j] as number) > (pre[kp] as number)) kp = j;
    const before = pre[kp] as number;
    if (!(before > 0) || v >= before * LINE_RISE || v * LINE_RISE <= before) return false;
    return Math.abs(interpolatedHz(pre, kp) - interpolatedHz(this.sum, k)) <= LINE_HZ;
  }

  /**
   * Whether the hop just before the tone's onset already held one of its components (or where it glided
   * from, ±15%) as a harmonic standing clear of the line — the same test as `carriedOn`, on the lead-in.
   * A voice's harmonic that comes to dominate a vowel for 60–130 ms was there, at about the tone's level,
   * a hop earlier; a beep starts out of the line (the greeting's end is ≥ 160 ms before it in the corpus).
   * A line's steady component at the tone's own frequency (mains hum's harmonic under a beep) is excused:
   * only a peak that has moved (> LINE_HZ) from the tone's frequency counts. Once per held candidate.
   */
  ledIn(): boolean {
    const p = this.pre;
    for (let c = 0; c < this.components; c++) {
      const kc = this.bins[c] as number;
      const lineFloor = this.lowerQuartile(p, Math.max(BAND_LO, kc >> 1), Math.min(BAND_HI, 2 * kc));
      if (!(lineFloor > 0)) continue;
      const floor = (this.binPower[c] as number) * CARRY_REL;
      const lo = Math.max(BAND_LO + 3, Math.floor(kc * (1 - GLIDE)));
      const hi = Math.min(BAND_HI - 3, Math.ceil(kc * (1 + GLIDE)));
      for (let k = lo; k <= hi; k++) {
        if (!standsClear(p, k, floor, lineFloor)) continue;
        if (Math.abs(interpolatedHz(p, k) - this.componentHz(c)) <= LINE_HZ) continue;
        return true;
      }
    }
    return false;
  }

  private componentHz(c: number): number {
    return (this.hz[c] as number) > 0 ? (this.hz[c] as number) : (this.bins[c] as number) * BIN_HZ;
  }

  /** Lower quartile of `spectrum`'s bins from..to (inclusive), in a buffer allocated once. */
  private lowerQuartile(spectrum: Float64Array, from: number, to: number): number {
    const m = to - from + 1;
    const s = this.sorted.subarray(0, m);
    s.set(spectrum.subarray(from, to + 1));
    s.sort();
    return s[m >> 2] as number;
  }

  /** Whether a component of the tone (or where it glided to) still stands as a harmonic in the judged hops. */
  private carriedOn(): boolean {
    const p = this.sum;
    const n = this.summed;
    for (let c = 0; c < this.components; c++) {
      const kc = this.bins[c] as number;
      const lineFloor = this.lowerQuartile(this.sum, Math.max(BAND_LO, kc >> 1), Math.min(BAND_HI, 2 * kc));
      const floor = (this.binPower[c] as number) * CARRY_REL * n;
      const lo = Math.max(BAND_LO + 1, Math.floor(kc * (1 - GLIDE)));
      const hi = Math.min(BAND_HI - 3, Math.ceil(kc * (1 + GLIDE)));
      for (let k = lo; k <= hi; k++) {
        if (!standsClear(p, k, floor, lineFloor)) continue;
        const v = p[k] as number;
        // A line's own steady components (mains hum's 7th harmonic under a 400 Hz beep, a carrier's tone)
        // were there before the tone at the same bin and level: not a voice carrying on.
        if (this.lineBefore(k, v / n)) continue;
        return true;
      }
    }
    return false;
  }
}
