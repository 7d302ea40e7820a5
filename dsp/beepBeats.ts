// Two close tones (a dual beep whose components are tens of hertz apart, 2470 + 2500 Hz say) share one
// spectral lobe and beat: their sum's level swings at the difference frequency, down to a null where
// the two cancel, and back. Hop by hop (10 ms) such a beep looks like a tone that keeps ending and
// starting again, with a level no steadiness test would pass. What stays steady is the beat's crest:
// both components hold their level, so the level between two nulls peaks at the same value each time,
// while a voice's level swells and fades from one syllable (or one dip of a wobbling vowel) to the next.
//
// A faster beat (45–60 Hz) may show no null a 10 ms hop would see as a drop, but its hop levels still
// swing by 4–5 dB (sampled at 100 Hz, a 60 Hz beat aliases); the highest level of any 30 ms holds its crest.
//
// `BeatEnvelope` keeps, for one beep candidate, the nulls bridged (dips the tone came back from at the
// same frequency), the crest of every stretch between them, and the range of the 30 ms running crest.
// Pure bookkeeping, no allocation.

/** A stretch between two nulls needs this many hops before its crest counts (a shorter one may miss it). */
const MIN_STRETCH_HOPS = 2;
/**
 * Longest stretch between nulls (or from the tone's start or to its end) of a beat: 100 ms, one period
 * of the slowest pair counted (10 Hz apart). A held vowel's tremolo (4–7 Hz) swings slower; a tone
 * with one dropout has long steady stretches: neither is judged as a beat.
 */
const MAX_BEAT_STRETCH_HOPS = 10;
/** Hops of the running crest: 30 ms holds a whole period of any beat from 33 Hz up (slower ones show nulls). */
const CREST_HOPS = 3;
/**
 * A swing: the level fell this far from a crest and rose as far again. Two tones 30–60 Hz apart move their
 * 10 ms level by 5–11 dB from crest to null (less in noise: 6 dB at 6 dB SNR for 40 Hz), so a pair sounding
 * for two beats or more swings at least once; a steady tone's hop level moves by a few tenths of a dB at
 * 12 dB SNR, and a voice's swell rises and then fades without coming back.
 */
const SWING_DB = 3;

export class BeatEnvelope {
  /** Dips the tone came back from. */
  recovered = 0;
  /** Crests of the stretches bounded by two nulls (dB): lowest and highest. */
  private fullLo = Infinity;
  private fullHi = -Infinity;
  /** Crests of the stretches cut by the tone's start or end, which may miss their crest: lowest and highest. */
  private partLo = Infinity;
  private partHi = -Infinity;
  /** The stretch under way: its crest, hops, and whether it began at a null (not at the onset). */
  private crest = -Infinity;
  private hops = 0;
  private afterNull = false;
  /** Longest stretch so far (hops). */
  private longest = 0;
  /** The stretch that ended at the dip under way, until the dip turns out a null or the tone's end. */
  private heldCrest = -Infinity;
  private heldHops = 0;
  private heldAfterNull = false;
  private readonly recent = new Float64Array(CREST_HOPS);
  private seen = 0;
  private runLo = Infinity;
  private runHi = -Infinity;
  /** The highest level so far, the lowest since it, and whether the level swung (see SWING_DB). */
  private swingHi = -Infinity;
  private swingLo = Infinity;
  swung = false;

  clear(): void {
    this.swingHi = -Infinity;
    this.swingLo = Infinity;
    this.swung = false;
    this.recovered = 0;
    this.fullLo = this.partLo = Infinity;
    this.fullHi = this.partHi = -Infinity;
    this.crest = this.heldCrest = -Infinity;
    this.hops = this.heldHops = 0;
    this.afterNull = this.heldAfterNull = false;
    this.longest = 0;
    this.seen = 0;
    this.runLo = Infinity;
    this.runHi = -Infinity;
  }

  /** Any hop of the candidate's tone, in a dip or not: for the swing. */
  level(levelDb: number): void {
    if (this.swingHi - this.swingLo >= SWING_DB && levelDb - this.swingLo >= SWING_DB) this.swung = true;
    if (levelDb > this.swingHi) this.swingHi = this.swingLo = levelDb;
    else if (levelDb < this.swingLo) this.swingLo = levelDb;
  }

  /** A hop of the tone at full level (not in a dip). */
  hop(levelDb: number): void {
    this.level(levelDb);
    if (levelDb > this.crest) this.crest = levelDb;
    this.hops++;
    this.recent[this.seen % CREST_HOPS] = levelDb;
    this.seen++;
    if (this.seen >= CREST_HOPS) {
      let m = -Infinity;
      for (let i = 0; i < CREST_HOPS; i++) if ((this.recent[i] as number) > m) m = this.recent[i] as number;
      if (m < this.runLo) this.runLo = m;
      if (m > this.runHi) this.runHi = m;
    }
  }

  /** How far the 30 ms running crest moved over the candidate (dB); 0 before it has 30 ms of hops. */
  runningCrestRangeDb(): number {
    return this.runHi >= this.runLo ? this.runHi - this.runLo : 0;
  }

  /** A dip starts: the stretch before it ends (whole if the dip is a null it began after another). */
  dip(): void {
    this.heldCrest = this.crest;
    this.heldHops = this.hops;
    this.heldAfterNull = this.afterNull;
    this.crest = -Infinity;
    this.hops = 0;
  }

  /** The level came back after a dip: a null of a beat, not the tone's end. */
  recover(): void {
    this.recovered++;
    this.count(this.heldCrest, this.heldHops, this.heldAfterNull);
    this.heldHops = 0;
    this.afterNull = true;
  }

  /**
   * How far the crests disagree (dB): the spread of the whole stretches' crests, and how far a cut
   * stretch's crest rises over them (it may fall short of its crest, never exceed it); with no whole
   * stretch, the spread of the cut ones. Once, at the candidate's end.
   */
  crestRangeDb(): number {
    this.count(this.heldCrest, this.heldHops, false);
    this.count(this.crest, this.hops, false);
    this.heldHops = this.hops = 0;
    if (this.fullHi >= this.fullLo) return Math.max(this.fullHi - this.fullLo, this.partHi - this.fullHi);
    return this.partHi >= this.partLo ? this.partHi - this.partLo : 0;
  }

  /** The level dipped and came back like a beat's: at least one null, and no stretch longer than a beat's period. */
  beating(): boolean {
    return this.recovered > 0 && Math.max(this.longest, this.hops, this.heldHops) <= MAX_BEAT_STRETCH_HOPS;
  }

  private count(crest: number, hops: number, whole: boolean): void {
    if (hops > this.longest) this.longest = hops;
    if (hops < MIN_STRETCH_HOPS) return;
    if (whole) {
      if (crest < this.fullLo) this.fullLo = crest;
      if (crest > this.fullHi) this.fullHi = crest;
    } else {
      if (crest < this.partLo) this.partLo = crest;
      if (crest > this.partHi) this.partHi = crest;
    }
  }
}
