// Energy VAD with an adaptive floor and hysteresis: cheap enough for hundreds of calls per core.
// A frame is "active" when its level clears the minimum-statistics noise floor by `onsetSnrDb`
// (`offsetSnrDb` once speech is under way: the lower release threshold keeps weak word endings).
// Speech starts after `onsetMs` of frames over the release threshold, `coreMs` of them over the onset
// threshold, and stops after `hangoverMs` of inactive ones — the two-state hysteresis of pipecat's
// VADState and WebRTC's VAD hangover, on the media clock. The hysteresis holds inside the onset too:
// a short word in line noise ("fix", "a", a syllable) rises over the onset threshold for only its
// vowel's 40 ms, its consonants and decay a few dB lower; asking 60 ms all over the onset threshold
// missed such a word 10 dB over white or pink noise (no speech at all, AMD left the caller in
// silence). Steady noise never holds `offsetSnrDb` over its own minimum for 60 ms (a 20 ms frame of
// white noise is within ~1.5 dB of its mean), and a click alone is shorter than `onsetMs`.
// Until the call's first speech, a frame's level is also measured in the speech band (300–1 200 Hz, its
// own floor) and the better of the two SNRs counts: a voiced word 5 dB over hiss broadband stands ~10 dB
// over it there. Only for the first word (the answer AMD waits for): see `BAND` and `process`.
// A call may start mid-word ("Yes?" said as the line connects): the floor is then the answer's own
// level until the first pause shows the line's real floor. So until the first onset, and within the
// floor window, the last second of levels is kept and judged again against each new floor: a run of
// active frames found there starts speech late, with its true start sample.
import { FRAME_SAMPLES, SAMPLE_RATE_HZ, msToSamples, type FrameProcessor } from './frame.ts';
import { MIN_DBFS, NoiseFloor, meanSquareToDbfs } from './levels.ts';

export interface VadOptions {
  /** Level above the noise floor that makes a frame active (dB). */
  onsetSnrDb?: number;
  /** Level above the floor that keeps a frame active once speech has started (dB). */
  offsetSnrDb?: number;
  /** Frames quieter than this are never speech, whatever the floor (dBFS). */
  minSpeechDbfs?: number;
  /** Time over `offsetSnrDb` needed to declare speech (ms, multiple of 20). */
  onsetMs?: number;
  /** Of that, time over `onsetSnrDb` (ms, multiple of 20, at most onsetMs). */
  coreMs?: number;
  /** Inactive time needed to declare the end of speech (ms, multiple of 20). */
  hangoverMs?: number;
  /** Minimum-statistics window of the noise floor (ms). */
  floorWindowMs?: number;
}

export type VadEvent = 'none' | 'onset' | 'offset';

/** Reused result object: read it before the next `process` call. */
export interface VadFrame {
  /** Sample index just after this frame (media clock). */
  endSample: number;
  dbfs: number;
  floorDbfs: number;
  /** This frame alone looks like speech. */
  active: boolean;
  /** Hysteresis state after this frame. */
  speaking: boolean;
  event: VadEvent;
  /** For onset: first sample of the speech; for offset: sample just after the last active frame. */
  eventSample: number;
}

// One-pole DC blocker (J. O. Smith, "Introduction to Digital Filters", DC blocker, R = 0.98 → −3 dB
// near 25 Hz at 8 kHz): removes DC offset and most mains hum energy, which would otherwise read as level.
const DC_POLE = 0.98;
/** How far back (frames) the late onset looks: 1 s, a short answer and the hangover after it. */
const RECENT_FRAMES = 50;
/**
 * The speech band: an RBJ band-pass biquad (constant 0 dB peak) centred at 600 Hz, Q 0.7 (−3 dB at
 * ~330 and ~1 190 Hz), over the long-term speech spectrum's peak (ITU-T P.50's artificial voice: most
 * energy 300–1 000 Hz; a vowel's first formant lies there). Broadband line noise (white or pink hiss)
 * keeps only a quarter to a third of its power in it, a voiced word most of its own: a word 5–6 dB over
 * white noise stands ~10 dB over it in the band.
 */
const BAND = bandPass(600, 0.7);

export class Vad implements FrameProcessor<VadFrame> {
  readonly onsetSnrDb: number;
  readonly offsetSnrDb: number;
  readonly minSpeechDbfs: number;
  readonly onsetMs: number;
  readonly coreMs: number;
  readonly hangoverMs: number;
  private readonly onsetFrames: number;
  private readonly coreFrames: number;
  private readonly hangoverFrames: number;
  private readonly floor: NoiseFloor;
  private readonly out: VadFrame = {
    endSample: 0,
    dbfs: MIN_DBFS,
    floorDbfs: MIN_DBFS,
    active: false,
    speaking: false,
    event: 'none',
    eventSample: 0,
  };
  private samples = 0;
  private runActive = 0;
  /** Frames of the current run (before an onset) over the onset threshold. */
  private runCore = 0;
  private runInactive = 0;
  private speaking = false;
  private x1 = 0;
  private y1 = 0;
  /** Speech-band filter state (until the first speech) and the band's own minimum-statistics floor. */
  private bx1 = 0;
  private bx2 = 0;
  private by1 = 0;
  private by2 = 0;
  private readonly bandFloor: NoiseFloor;
  /** Levels of the frames before the first onset (ring of the last RECENT_FRAMES), for the late onset. */
  private readonly recent = new Float64Array(RECENT_FRAMES);
  /** Their speech-band levels. */
  private readonly recentBand = new Float64Array(RECENT_FRAMES);
  private recentCount = 0;
  private everSpoke = false;
  private readonly lookBackSamples: number;

  constructor(opts: VadOptions = {}) {
    this.onsetSnrDb = opts.onsetSnrDb ?? 9;
    this.offsetSnrDb = opts.offsetSnrDb ?? 6;
    this.minSpeechDbfs = opts.minSpeechDbfs ?? -55;
    this.onsetMs = opts.onsetMs ?? 60;
    this.coreMs = opts.coreMs ?? 40;
    this.hangoverMs = opts.hangoverMs ?? 240;
    if (!(this.onsetSnrDb > 0 && this.onsetSnrDb < 40)) throw new RangeError('onsetSnrDb must be in (0, 40)');
    if (!(this.offsetSnrDb > 0 && this.offsetSnrDb <= this.onsetSnrDb)) {
      throw new RangeError('offsetSnrDb must be in (0, onsetSnrDb]');
    }
    if (!(this.minSpeechDbfs < 0 && this.minSpeechDbfs > MIN_DBFS)) throw new RangeError('minSpeechDbfs must be in (-100, 0)');
    this.onsetFrames = framesOf('onsetMs', this.onsetMs);
    this.coreFrames = framesOf('coreMs', this.coreMs);
    if (this.coreFrames > this.onsetFrames) throw new RangeError('coreMs must be at most onsetMs');
    this.hangoverFrames = framesOf('hangoverMs', this.hangoverMs);
    this.floor = new NoiseFloor({ windowMs: opts.floorWindowMs ?? 2000 });
    this.bandFloor = new NoiseFloor({ windowMs: this.floor.windowMs });
    this.lookBackSamples = msToSamples(this.floor.windowMs);
  }

  process(frame: Int16Array): VadFrame {
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`frame must hold ${FRAME_SAMPLES} samples`);
    let acc = 0;
    let x1 = this.x1;
    let y1 = this.y1;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const x = frame[i] as number;
      const y = x - x1 + DC_POLE * y1;
      x1 = x;
      y1 = y;
      acc += y * y;
    }
    this.x1 = x1;
    this.y1 = y1;
    // The speech band only matters until the first speech: no filtering after it.
    const bandAcc = this.everSpoke ? 0 : this.bandEnergy(frame);
    const startSample = this.samples;
    this.samples += FRAME_SAMPLES;
    const dbfs = meanSquareToDbfs(acc / FRAME_SAMPLES);
    const floorDbfs = this.floor.update(dbfs);
    const bandDbfs = meanSquareToDbfs(bandAcc / FRAME_SAMPLES);
    const bandFloor = this.everSpoke ? this.bandFloor.dbfs : this.bandFloor.update(bandDbfs);
    // The speech band finds the call's first speech, nothing after it: talk in a room behind the caller
    // has its energy there too and swings more over its own minimum in the band than broadband, so
    // sustaining speech on it kept the VAD speaking through the room, and band onsets after the answer
    // restarted utterances in it (people called machines, tests/dsp/foreground.test.ts).
    const snr = this.everSpoke ? dbfs - floorDbfs : Math.max(dbfs - floorDbfs, bandDbfs - bandFloor);
    const audible = dbfs >= this.minSpeechDbfs;
    const overOffset = audible && snr >= this.offsetSnrDb;
    const overOnset = audible && snr >= this.onsetSnrDb;

    const out = this.out;
    out.endSample = this.samples;
    out.dbfs = dbfs;
    out.floorDbfs = floorDbfs;
    out.event = 'none';
    if (this.speaking) {
      out.active = overOffset;
      if (overOffset) {
        this.runInactive = 0;
      } else if (++this.runInactive >= this.hangoverFrames) {
        this.speaking = false;
        out.event = 'offset';
        out.eventSample = this.samples - this.runInactive * FRAME_SAMPLES;
      }
    } else if (overOffset) {
      // A run over the release threshold; a frame in it is active once the run has reached the onset
      // threshold (what preceded the word's core is counted back when the onset comes).
      this.runActive++;
      if (overOnset) this.runCore++;
      out.active = this.runCore > 0;
      this.runInactive = out.active ? 0 : this.runInactive + 1;
      if (this.runActive >= this.onsetFrames && this.runCore >= this.coreFrames) {
        const onsetRun = this.runActive;
        this.speaking = true;
        this.everSpoke = true;
        out.active = true;
        this.runInactive = 0;
        this.runActive = 0;
        this.runCore = 0;
        out.event = 'onset';
        out.eventSample = startSample - (onsetRun - 1) * FRAME_SAMPLES;
      }
    } else {
      out.active = false;
      this.runInactive++;
      this.runActive = 0;
      this.runCore = 0;
      if (!this.everSpoke && this.lateOnset(floorDbfs, bandFloor, out)) {
        out.speaking = true;
        this.remember(dbfs, bandDbfs);
        return out;
      }
    }
    out.speaking = this.speaking;
    this.remember(dbfs, bandDbfs);
    return out;
  }

  /** Sum of squares of the frame through the speech-band filter (state kept across frames). */
  private bandEnergy(frame: Int16Array): number {
    let acc = 0;
    let bx1 = this.bx1;
    let bx2 = this.bx2;
    let by1 = this.by1;
    let by2 = this.by2;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const x = frame[i] as number;
      const b = BAND.b0 * (x - bx2) - BAND.a1 * by1 - BAND.a2 * by2;
      bx2 = bx1;
      bx1 = x;
      by2 = by1;
      by1 = b;
      acc += b * b;
    }
    this.bx1 = bx1;
    this.bx2 = bx2;
    this.by1 = by1;
    this.by2 = by2;
    return acc;
  }

  private remember(dbfs: number, bandDbfs: number): void {
    if (this.everSpoke || this.samples > this.lookBackSamples) return;
    this.recent[this.recentCount % RECENT_FRAMES] = dbfs;
    this.recentBand[this.recentCount % RECENT_FRAMES] = bandDbfs;
    this.recentCount++;
  }

  /**
   * Before the first onset: whether the frames kept (all before this one) hold a run of `onsetFrames`
   * active against today's floor — speech that was the floor when it was said. Starts speech at the
   * run's first frame; the offset follows on the next frame when the run ended a hangover ago.
   */
  private lateOnset(floorDbfs: number, bandFloorDbfs: number, out: VadFrame): boolean {
    if (this.recentCount === 0 || this.samples > this.lookBackSamples + FRAME_SAMPLES) return false;
    // The onset rule of `process` (onsetFrames over the release threshold, coreFrames of them over
    // the onset threshold, in either band) against today's floors.
    const kept = Math.min(this.recentCount, RECENT_FRAMES);
    let run = 0;
    let core = 0;
    let runEnd = -1;
    let runStart = -1;
    // Oldest to newest; frame j (0 = oldest kept) ended at sample (this frame's start) − (kept − j)·FRAME.
    for (let j = 0; j < kept; j++) {
      const k = (this.recentCount - kept + j) % RECENT_FRAMES;
      const v = this.recent[k] as number;
      const snr = Math.max(v - floorDbfs, (this.recentBand[k] as number) - bandFloorDbfs);
      if (v >= this.minSpeechDbfs && snr >= this.offsetSnrDb) {
        run++;
        if (snr >= this.onsetSnrDb) core++;
        if (run >= this.onsetFrames && core >= this.coreFrames) {
          runEnd = j;
          if (runStart < 0) runStart = j - run + 1;
        }
      } else {
        run = 0;
        core = 0;
      }
    }
    // A run reaching back past the oldest frame kept is not a bounded answer but loud audio from
    // long before (line noise that stepped down): only a burst with quiet both sides is speech.
    if (runStart < 0 || (runStart === 0 && this.recentCount > RECENT_FRAMES)) return false;
    const frameStart = this.samples - FRAME_SAMPLES;
    this.speaking = true;
    this.everSpoke = true;
    this.runActive = 0;
    this.runCore = 0;
    // Frames since the run's last active one, this one included.
    this.runInactive = kept - runEnd;
    out.event = 'onset';
    out.eventSample = frameStart - (kept - runStart) * FRAME_SAMPLES;
    return true;
  }

  /** The result object `process` fills (also before the first frame). */
  get result(): VadFrame {
    return this.out;
  }

  reset(): void {
    this.floor.reset();
    this.samples = 0;
    this.runActive = 0;
    this.runCore = 0;
    this.runInactive = 0;
    this.speaking = false;
    this.x1 = 0;
    this.y1 = 0;
    this.bx1 = 0;
    this.bx2 = 0;
    this.by1 = 0;
    this.by2 = 0;
    this.bandFloor.reset();
    this.recentCount = 0;
    this.everSpoke = false;
    const out = this.out;
    out.endSample = 0;
    out.dbfs = MIN_DBFS;
    out.floorDbfs = MIN_DBFS;
    out.active = false;
    out.speaking = false;
    out.event = 'none';
    out.eventSample = 0;
  }
}

function bandPass(centreHz: number, q: number): { b0: number; a1: number; a2: number } {
  const w = (2 * Math.PI * centreHz) / SAMPLE_RATE_HZ;
  const alpha = Math.sin(w) / (2 * q);
  return { b0: alpha / (1 + alpha), a1: (-2 * Math.cos(w)) / (1 + alpha), a2: (1 - alpha) / (1 + alpha) };
}

function framesOf(name: string, ms: number): number {
  const samples = msToSamples(ms);
  if (!(ms > 0) || samples % FRAME_SAMPLES !== 0) throw new RangeError(`${name} must be a positive multiple of 20 ms, got ${ms}`);
  return samples / FRAME_SAMPLES;
}
