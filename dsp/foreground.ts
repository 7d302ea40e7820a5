// The foreground talker's speech, for AMD, on a line with talk behind it (a TV, an office, a café).
// The energy VAD's floor is the quietest recent frame; babble of several voices swings 6–10 dB above
// its own minimum, so it keeps the VAD "speaking" after the person who answered has stopped. AMD then
// hears one endless utterance ("speech longer than 5000 ms": a person called a machine) and takes the
// babble under our prompt for a greeting talking over it. The person who answered is close to the
// phone and 15–25 dB louder than the room behind them.
//
// The gate follows the VAD unchanged until, in an utterance the talker was loud in, the VAD has been
// speaking for `quietMs` (counting the frames under that level; swings of the room up to `riseDb` over it
// pause the count, louder speech restarts it) at a level `depthDb` under the loudest speech of the call (levels smoothed over
// ~100 ms, so a word's weak consonants are not quiet): then it ends the utterance where the loud speech
// stopped, and stays silent while only the quieter sound goes on; speech back within `depthDb − riseDb`
// of the peak starts a new one. A line without talk behind it never reaches the gate (its pauses fall
// to the floor, and the VAD ends them itself), so what it says is exactly what the VAD says; a reply
// said softly after a pause is a new VAD utterance, never loud, and passes too.
import { FRAME_SAMPLES, msToSamples } from './frame.ts';
import type { VadFrame } from './vad.ts';

export interface ForegroundOptions {
  /** How far under the loudest smoothed speech a level counts as background (dB). */
  depthDb?: number;
  /** Background this long while the VAD still speaks ends the foreground utterance (ms, multiple of 20). */
  quietMs?: number;
  /** A new foreground utterance needs a level this much above the background threshold (dB). */
  riseDb?: number;
  /** Frames above that needed to start it (ms, multiple of 20). */
  onsetMs?: number;
}

/** Smoothing of the frame energy: one pole, time constant ≈ 100 ms at 20 ms frames. */
const SMOOTHING = 1 - Math.exp(-20 / 100);
/** The peak falls this much per frame (0.5 dB a second): a talker who moves away is followed. */
const PEAK_DECAY_DB = 0.01;

export class ForegroundGate {
  readonly depthDb: number;
  readonly riseDb: number;
  private readonly quietFrames: number;
  private readonly onsetFrames: number;
  private readonly out: VadFrame = { endSample: 0, dbfs: -100, floorDbfs: -100, active: false, speaking: false, event: 'none', eventSample: 0 };
  private energy = 0;
  private peakDb = -Infinity;
  /** Frames in a row the VAD spoke at a background level (state 'pass'), or rose above it (state 'gated'). */
  private run = 0;
  /** First sample of the current background run (state 'pass'). */
  private runStart = 0;
  private gated = false;
  /** The VAD's current utterance has had speech within depthDb of the peak (the talker, not only the room). */
  private loud = false;
  /** Times the gate ended an utterance the VAD was still in (for tests and the eval's reasons). */
  cuts = 0;

  constructor(opts: ForegroundOptions = {}) {
    this.depthDb = opts.depthDb ?? 15;
    this.riseDb = opts.riseDb ?? 4;
    this.quietFrames = msToSamples(opts.quietMs ?? 400) / FRAME_SAMPLES;
    this.onsetFrames = msToSamples(opts.onsetMs ?? 60) / FRAME_SAMPLES;
    if (!(this.depthDb > this.riseDb && this.riseDb >= 0)) throw new RangeError('depthDb must exceed riseDb ≥ 0');
    if (!Number.isInteger(this.quietFrames) || this.quietFrames < 1) throw new RangeError('quietMs must be a positive multiple of 20');
    if (!Number.isInteger(this.onsetFrames) || this.onsetFrames < 1) throw new RangeError('onsetMs must be a positive multiple of 20');
  }

  /** The VAD frame as AMD should see it (a reused object: read it before the next call). */
  process(v: VadFrame): VadFrame {
    this.energy += SMOOTHING * (10 ** (v.dbfs / 10) - this.energy);
    const level = 10 * Math.log10(this.energy + 1e-12);
    if (v.active && level > this.peakDb) this.peakDb = level;
    else this.peakDb -= PEAK_DECAY_DB;
    const out = this.out;
    out.endSample = v.endSample;
    out.dbfs = v.dbfs;
    out.floorDbfs = v.floorDbfs;
    const background = this.peakDb - this.depthDb;
    if (!this.gated) {
      out.active = v.active;
      out.speaking = v.speaking;
      out.event = v.event;
      out.eventSample = v.eventSample;
      // Only an utterance the talker was loud in is cut: a quiet reply after a pause (the VAD ended the
      // loud one) is the talker speaking softly, not the room.
      if (!v.speaking || v.event === 'onset') this.loud = false;
      if (v.speaking && level >= background) this.loud = true;
      if (this.loud && v.speaking && v.event !== 'onset' && level < background) {
        if (this.run === 0) this.runStart = v.endSample - FRAME_SAMPLES;
        this.run++;
      } else if (!(this.loud && v.speaking && v.event !== 'onset') || level >= background + this.riseDb) {
        this.run = 0;
      }
      // A level between background and background + riseDb (the level a new utterance needs when gated)
      // neither counts nor ends the run: a room's talk swings a few dB over its mean and kept restarting
      // it; the talker's own words come back closer than that.
      if (this.run >= this.quietFrames) {
        // The loud speech ended where the background run began; the VAD goes on hearing the room.
        this.gated = true;
        this.cuts++;
        out.active = false;
        out.speaking = false;
        out.event = 'offset';
        out.eventSample = this.runStart;
        this.run = 0;
      }
      return out;
    }
    out.active = false;
    out.speaking = false;
    out.event = 'none';
    if (!v.speaking) {
      // The VAD ended it too (its own offset is already ours): follow it again from the next frame.
      this.gated = false;
      this.run = 0;
      return out;
    }
    this.run = v.active && level >= background + this.riseDb ? this.run + 1 : 0;
    if (this.run >= this.onsetFrames) {
      this.gated = false;
      out.active = true;
      out.speaking = true;
      out.event = 'onset';
      out.eventSample = v.endSample - this.run * FRAME_SAMPLES;
      this.run = 0;
    }
    return out;
  }

  /**
   * How long (samples) the VAD has now been speaking at a background level without the gate having cut
   * yet: sound that is probably the room's, so an utterance's length should not grow by it while the gate
   * makes up its mind (quietMs). 0 while the talker is loud, and once cut (the output is silent then).
   */
  get pendingBackgroundSamples(): number {
    return this.gated || this.run === 0 ? 0 : this.out.endSample - this.runStart;
  }

  /** The frame `process` fills (also before the first frame). */
  get result(): VadFrame {
    return this.out;
  }

  reset(): void {
    this.energy = 0;
    this.peakDb = -Infinity;
    this.run = 0;
    this.gated = false;
    this.loud = false;
    this.cuts = 0;
  }
}
