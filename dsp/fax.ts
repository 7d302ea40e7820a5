// Fax tone detector. ITU-T T.30: a calling fax sends CNG, 1100 Hz for 0.5 s every 3.5 s (0.5 s on,
// 3 s off); an answering fax sends CED, 2100 Hz (ITU-T V.25 ANS; V.8 ANSam adds 15 Hz AM and phase
// reversals every 450 ms) for 2.6–4 s, or Bell 103's 2225 Hz answer tone. One Goertzel per tone per
// 20 ms frame (N = 160, 50 Hz resolution, well inside V.25's ±15 Hz) and a duration rule:
// a CNG burst is 1100 Hz lasting `cngMinMs`–`cngMaxMs`; CED is 2100/2225 Hz lasting `cedMinMs`.
// cedMinMs defaults above the longest voicemail beep (1.5 s) so a 2100 Hz beep is never called a fax.
import { FRAME_SAMPLES, msToSamples, type FrameProcessor } from './frame.ts';
import { blockEnergy, goertzelPower, goertzelProbe, normalizedPower, type GoertzelProbe } from './goertzel.ts';
import { meanSquareToDbfs } from './levels.ts';

export type FaxTone = 'CNG' | 'CED';

export interface FaxOptions {
  cngMinMs?: number;
  cngMaxMs?: number;
  cedMinMs?: number;
  /** Share of a frame's energy in the tone for the frame to count (0–1). */
  minToneShare?: number;
  minDbfs?: number;
}

/** Reused result: read before the next `process`. */
export interface FaxFrame {
  /** A tone was recognised in this frame ('' when none). */
  tone: FaxTone | '';
  /** Estimated first sample of the tone. */
  startSample: number;
}

/** Phase reversals and AM dips of ANSam can spoil one frame; bridge a single-frame gap. */
const MAX_GAP_FRAMES = 1;

export class FaxDetector implements FrameProcessor<FaxFrame> {
  readonly cngMinMs: number;
  readonly cngMaxMs: number;
  readonly cedMinMs: number;
  readonly minToneShare: number;
  readonly minDbfs: number;
  private readonly cng: GoertzelProbe = goertzelProbe(1100);
  private readonly ced: GoertzelProbe = goertzelProbe(2100);
  private readonly bell: GoertzelProbe = goertzelProbe(2225);
  private readonly out: FaxFrame = { tone: '', startSample: 0 };
  private readonly cngMinFrames: number;
  private readonly cngMaxFrames: number;
  private readonly cedMinFrames: number;
  private samples = 0;
  private cngFrames = 0;
  private cngGap = 0;
  private cngStart = 0;
  private cedFrames = 0;
  private cedGap = 0;
  private cedStart = 0;
  private cedReported = false;

  constructor(opts: FaxOptions = {}) {
    this.cngMinMs = opts.cngMinMs ?? 380;
    this.cngMaxMs = opts.cngMaxMs ?? 700;
    this.cedMinMs = opts.cedMinMs ?? 1600;
    this.minToneShare = opts.minToneShare ?? 0.6;
    this.minDbfs = opts.minDbfs ?? -55;
    if (!(this.cngMinMs >= 100 && this.cngMinMs < this.cngMaxMs)) throw new RangeError('cngMinMs must be ≥ 100 and below cngMaxMs');
    if (!(this.cedMinMs >= 200)) throw new RangeError('cedMinMs must be ≥ 200');
    if (!(this.minToneShare > 0.3 && this.minToneShare < 1)) throw new RangeError('minToneShare must be in (0.3, 1)');
    if (!(this.minDbfs < 0)) throw new RangeError('minDbfs must be negative');
    const frames = (ms: number) => Math.round(msToSamples(ms) / FRAME_SAMPLES);
    this.cngMinFrames = frames(this.cngMinMs);
    this.cngMaxFrames = frames(this.cngMaxMs);
    this.cedMinFrames = frames(this.cedMinMs);
  }

  process(frame: Int16Array): FaxFrame {
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`frame must hold ${FRAME_SAMPLES} samples`);
    const out = this.out;
    out.tone = '';
    const start = this.samples;
    this.samples += FRAME_SAMPLES;
    const energy = blockEnergy(frame, 0, FRAME_SAMPLES);
    const loud = meanSquareToDbfs(energy / FRAME_SAMPLES) >= this.minDbfs;
    const isCng = loud && share(frame, energy, this.cng) >= this.minToneShare;
    const isCed =
      loud && !isCng && (share(frame, energy, this.ced) >= this.minToneShare || share(frame, energy, this.bell) >= this.minToneShare);

    // CNG: a burst of the right length, judged when it ends.
    if (isCng) {
      if (this.cngFrames === 0) this.cngStart = start;
      this.cngFrames += this.cngGap + 1;
      this.cngGap = 0;
    } else if (this.cngFrames > 0 && ++this.cngGap > MAX_GAP_FRAMES) {
      if (this.cngFrames >= this.cngMinFrames && this.cngFrames <= this.cngMaxFrames) {
        out.tone = 'CNG';
        out.startSample = this.cngStart;
      }
      this.cngFrames = 0;
      this.cngGap = 0;
    }

    // CED: reported once, as soon as it has lasted long enough.
    if (isCed) {
      if (this.cedFrames === 0) this.cedStart = start;
      this.cedFrames += this.cedGap + 1;
      this.cedGap = 0;
      if (!this.cedReported && this.cedFrames >= this.cedMinFrames) {
        this.cedReported = true;
        out.tone = 'CED';
        out.startSample = this.cedStart;
      }
    } else if (this.cedFrames > 0 && ++this.cedGap > MAX_GAP_FRAMES) {
      this.cedFrames = 0;
      this.cedGap = 0;
      this.cedReported = false;
    }
    return out;
  }

  reset(): void {
    this.samples = 0;
    this.cngFrames = 0;
    this.cngGap = 0;
    this.cngStart = 0;
    this.cedFrames = 0;
    this.cedGap = 0;
    this.cedStart = 0;
    this.cedReported = false;
    this.out.tone = '';
    this.out.startSample = 0;
  }
}

function share(frame: Int16Array, energy: number, probe: GoertzelProbe): number {
  return normalizedPower(goertzelPower(frame, 0, FRAME_SAMPLES, probe), energy, FRAME_SAMPLES);
}

/** T.30 CNG: 1100 Hz bursts of 0.5 s (the fax detector's 380–700 ms window, ±3% in frequency). */
const CNG_HZ = 1100;
const CNG_MIN = msToSamples(380);
const CNG_MAX = msToSamples(700);
/**
 * How long a CNG-like beep waits for the fax detector: it judges a burst when it ends, at most two
 * frames after the beep detector does.
 */
export const CNG_CONFIRM_MS = 40;

/** A beep that a fax's CNG burst would also make: 1100 Hz ±3%, 380–700 ms. */
export function isCngLike(frequencyHz: number, durationSamples: number): boolean {
  return Math.abs(frequencyHz - CNG_HZ) <= CNG_HZ * 0.03 && durationSamples >= CNG_MIN && durationSamples <= CNG_MAX;
}

/**
 * The one home of the CNG-versus-beep rule: a beep that could be a fax's CNG burst is held until the
 * fax detector has had its say; a CNG report drops it, otherwise it stands when the hold runs out.
 * Times are media samples. `offer` → false means "not CNG-like, use the beep now".
 */
export class CngBeepHold {
  readonly holdSamples: number;
  /** The held beep (valid while `pending`, and when `release` returns true). */
  frequencyHz = 0;
  durationSamples = 0;
  endSample = 0;
  private until = 0;
  /** When the fax detector last recognised CNG (−1: never): a beep of that burst signalled after it is the fax. */
  private cngAt = -1;

  constructor(holdMs = CNG_CONFIRM_MS) {
    if (!(holdMs > 0)) throw new RangeError('holdMs must be positive');
    this.holdSamples = msToSamples(holdMs);
  }

  offer(frequencyHz: number, durationSamples: number, endSample: number, now: number): boolean {
    if (!isCngLike(frequencyHz, durationSamples)) return false;
    // The beep detector may signal a burst after the fax detector judged it (it waits to see what follows
    // a tone): CNG recognised since this burst began drops it at once.
    if (this.cngAt >= endSample - durationSamples) {
      this.until = 0;
      return true;
    }
    this.frequencyHz = frequencyHz;
    this.durationSamples = durationSamples;
    this.endSample = endSample;
    this.until = now + this.holdSamples;
    return true;
  }

  /** The fax detector recognised CNG at `now`: the held beep (or one of the same burst still to come) was the fax. */
  cancel(now: number): void {
    this.until = 0;
    this.cngAt = now;
  }

  get pending(): boolean {
    return this.until > 0;
  }

  /** True once, when the hold ran out with no CNG report: the held beep stands. */
  release(now: number): boolean {
    if (this.until === 0 || now < this.until) return false;
    this.until = 0;
    return true;
  }

  reset(): void {
    this.until = 0;
    this.cngAt = -1;
    this.frequencyHz = 0;
    this.durationSamples = 0;
    this.endSample = 0;
  }
}
