// Energy VAD with an adaptive floor and hysteresis: cheap enough for hundreds of calls per core.
// A frame is "active" when its level clears the minimum-statistics noise floor by `onsetSnrDb`
// (`offsetSnrDb` once speech is under way: the lower release threshold keeps weak word endings).
// Speech starts after `onsetMs` of active frames and stops after `hangoverMs` of inactive ones —
// the two-state hysteresis of pipecat's VADState and WebRTC's VAD hangover, on the media clock.
import { FRAME_SAMPLES, msToSamples, type FrameProcessor } from './frame.ts';
import { MIN_DBFS, NoiseFloor, meanSquareToDbfs } from './levels.ts';

export interface VadOptions {
  /** Level above the noise floor that makes a frame active (dB). */
  onsetSnrDb?: number;
  /** Level above the floor that keeps a frame active once speech has started (dB). */
  offsetSnrDb?: number;
  /** Frames quieter than this are never speech, whatever the floor (dBFS). */
  minSpeechDbfs?: number;
  /** Active time needed to declare speech (ms, multiple of 20). */
  onsetMs?: number;
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

export class Vad implements FrameProcessor<VadFrame> {
  readonly onsetSnrDb: number;
  readonly offsetSnrDb: number;
  readonly minSpeechDbfs: number;
  readonly onsetMs: number;
  readonly hangoverMs: number;
  private readonly onsetFrames: number;
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
  private runInactive = 0;
  private speaking = false;
  private x1 = 0;
  private y1 = 0;

  constructor(opts: VadOptions = {}) {
    this.onsetSnrDb = opts.onsetSnrDb ?? 9;
    this.offsetSnrDb = opts.offsetSnrDb ?? 6;
    this.minSpeechDbfs = opts.minSpeechDbfs ?? -55;
    this.onsetMs = opts.onsetMs ?? 60;
    this.hangoverMs = opts.hangoverMs ?? 240;
    if (!(this.onsetSnrDb > 0 && this.onsetSnrDb < 40)) throw new RangeError('onsetSnrDb must be in (0, 40)');
    if (!(this.offsetSnrDb > 0 && this.offsetSnrDb <= this.onsetSnrDb)) {
      throw new RangeError('offsetSnrDb must be in (0, onsetSnrDb]');
    }
    if (!(this.minSpeechDbfs < 0 && this.minSpeechDbfs > MIN_DBFS)) throw new RangeError('minSpeechDbfs must be in (-100, 0)');
    this.onsetFrames = framesOf('onsetMs', this.onsetMs);
    this.hangoverFrames = framesOf('hangoverMs', this.hangoverMs);
    this.floor = new NoiseFloor({ windowMs: opts.floorWindowMs ?? 2000 });
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
    const startSample = this.samples;
    this.samples += FRAME_SAMPLES;
    const dbfs = meanSquareToDbfs(acc / FRAME_SAMPLES);
    const floorDbfs = this.floor.update(dbfs);
    const snr = dbfs - floorDbfs;
    const active = dbfs >= this.minSpeechDbfs && snr >= (this.speaking ? this.offsetSnrDb : this.onsetSnrDb);

    const out = this.out;
    out.endSample = this.samples;
    out.dbfs = dbfs;
    out.floorDbfs = floorDbfs;
    out.active = active;
    out.event = 'none';
    if (active) {
      this.runActive++;
      this.runInactive = 0;
      if (!this.speaking && this.runActive >= this.onsetFrames) {
        this.speaking = true;
        out.event = 'onset';
        out.eventSample = startSample - (this.runActive - 1) * FRAME_SAMPLES;
      }
    } else {
      this.runInactive++;
      this.runActive = 0;
      if (this.speaking && this.runInactive >= this.hangoverFrames) {
        this.speaking = false;
        out.event = 'offset';
        out.eventSample = this.samples - this.runInactive * FRAME_SAMPLES;
      }
    }
    out.speaking = this.speaking;
    return out;
  }

  /** The result object `process` fills (also before the first frame). */
  get result(): VadFrame {
    return this.out;
  }

  reset(): void {
    this.floor.reset();
    this.samples = 0;
    this.runActive = 0;
    this.runInactive = 0;
    this.speaking = false;
    this.x1 = 0;
    this.y1 = 0;
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

function framesOf(name: string, ms: number): number {
  const samples = msToSamples(ms);
  if (!(ms > 0) || samples % FRAME_SAMPLES !== 0) throw new RangeError(`${name} must be a positive multiple of 20 ms, got ${ms}`);
  return samples / FRAME_SAMPLES;
}
