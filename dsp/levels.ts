// Frame levels and an adaptive noise floor. The line's noise varies by ~30 dB between calls, so a
// fixed threshold (Asterisk app_amd's silence_threshold 256 ≈ −42 dBFS) misses quiet speakers on a
// quiet line and calls a noisy line "speech". We track the floor with minimum statistics (R. Martin,
// "Noise power spectral density estimation based on optimal smoothing and minimum statistics",
// IEEE Trans. Speech Audio Proc. 9(5), 2001), simplified to one band: the floor is the minimum
// frame energy over the last `windowMs`, kept as a ring of block minima so each frame costs O(1).
import { FRAME_MS } from './frame.ts';

/** Full-scale reference: a full-scale sine (amplitude 32767) has mean square 32767²/2 = 0 dBFS. */
const FULL_SCALE_MEAN_SQUARE = (32767 * 32767) / 2;
/** Below this everything is digital silence; keeps log() finite. */
export const MIN_DBFS = -100;

/** Mean square of a frame. */
export function frameMeanSquare(frame: Int16Array): number {
  let acc = 0;
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i] as number;
    acc += v * v;
  }
  return frame.length > 0 ? acc / frame.length : 0;
}

export function meanSquareToDbfs(meanSquare: number): number {
  if (!(meanSquare > 0)) return MIN_DBFS;
  return Math.max(MIN_DBFS, 10 * Math.log10(meanSquare / FULL_SCALE_MEAN_SQUARE));
}

/** Level of one frame in dBFS (sine-referenced, as ITU-T G.100.1 defines dBov). */
export function frameDbfs(frame: Int16Array): number {
  return meanSquareToDbfs(frameMeanSquare(frame));
}

export interface NoiseFloorOptions {
  /** Span over which the minimum is taken: longer than the longest stretch of speech without a pause. */
  windowMs?: number;
  /** Resolution of the window (one minimum per block). */
  blockMs?: number;
  /** Floor never goes below this (idle mu-law channels and digital silence). */
  minDbfs?: number;
}

/**
 * Minimum-statistics noise floor in dBFS. `update(dbfs)` once per frame returns the current floor.
 * Before any history it is the smallest level seen so far, so a call that starts with speech still
 * finds its floor at the first pause.
 */
export class NoiseFloor {
  readonly windowMs: number;
  readonly blockMs: number;
  readonly minDbfs: number;
  private readonly framesPerBlock: number;
  private readonly blockMins: Float64Array;
  private blockIndex = 0;
  private blocksFilled = 0;
  private framesInBlock = 0;
  private currentMin = Infinity;
  /** Minimum of the closed blocks in the window (Infinity before the first closes). */
  private closedMin = Infinity;
  private floorDbfs: number;

  constructor(opts: NoiseFloorOptions = {}) {
    this.windowMs = opts.windowMs ?? 2000;
    this.blockMs = opts.blockMs ?? 100;
    this.minDbfs = opts.minDbfs ?? -75;
    if (!(this.blockMs >= FRAME_MS) || this.blockMs % FRAME_MS !== 0) {
      throw new RangeError(`blockMs must be a positive multiple of ${FRAME_MS}, got ${this.blockMs}`);
    }
    if (!(this.windowMs >= this.blockMs) || this.windowMs % this.blockMs !== 0) {
      throw new RangeError(`windowMs must be a multiple of blockMs (${this.blockMs}), got ${this.windowMs}`);
    }
    if (!(this.minDbfs < 0 && this.minDbfs >= MIN_DBFS)) throw new RangeError(`minDbfs must be in [${MIN_DBFS}, 0)`);
    this.framesPerBlock = this.blockMs / FRAME_MS;
    this.blockMins = new Float64Array(this.windowMs / this.blockMs);
    this.floorDbfs = this.minDbfs;
  }

  update(dbfs: number): number {
    if (dbfs < this.currentMin) this.currentMin = dbfs;
    this.framesInBlock++;
    const min = this.currentMin < this.closedMin ? this.currentMin : this.closedMin;
    if (this.framesInBlock === this.framesPerBlock) {
      this.blockMins[this.blockIndex] = this.currentMin;
      this.blockIndex = (this.blockIndex + 1) % this.blockMins.length;
      if (this.blocksFilled < this.blockMins.length) this.blocksFilled++;
      this.framesInBlock = 0;
      this.currentMin = Infinity;
      // The closed blocks change only here (once a block, not every frame): their minimum is kept.
      let closed = Infinity;
      for (let i = 0; i < this.blocksFilled; i++) {
        const m = this.blockMins[i] as number;
        if (m < closed) closed = m;
      }
      this.closedMin = closed;
    }
    this.floorDbfs = Math.max(this.minDbfs, min);
    return this.floorDbfs;
  }

  get dbfs(): number {
    return this.floorDbfs;
  }

  reset(): void {
    this.blockMins.fill(0);
    this.blockIndex = 0;
    this.blocksFilled = 0;
    this.framesInBlock = 0;
    this.currentMin = Infinity;
    this.closedMin = Infinity;
    this.floorDbfs = this.minDbfs;
  }
}
