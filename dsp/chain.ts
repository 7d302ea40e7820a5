// The detector chain one call runs on its inbound frames: one `process(frame)` runs VAD, beep, fax,
// in-band DTMF and AMD as configured and reports what happened as events timed in samples. The call
// layer maps them onto its timeline (src/call/detectors.ts); the CLI and the evaluation read them too.
// Events are objects created only when something happens (a few per call), never per frame.
import { FRAME_SAMPLES, type FrameProcessor } from './frame.ts';
import { Vad, type VadFrame, type VadOptions } from './vad.ts';
import { BeepDetector, type BeepFrame, type BeepOptions } from './beep.ts';
import { CngBeepHold, FaxDetector, type FaxFrame, type FaxOptions, type FaxTone } from './fax.ts';
import { DtmfDetector, type DtmfFrame, type DtmfOptions } from './dtmf.ts';
import { ForegroundGate } from './foreground.ts';
import { AmdStateMachine, type AmdAnsweredBy, type AmdObservation, type AmdOptions, type AmdVerdict } from './amd.ts';

export type ChainEvent =
  | { type: 'speech.started'; atSample: number; startSample: number }
  | { type: 'speech.stopped'; atSample: number; durationSamples: number }
  | { type: 'amd.verdict'; atSample: number; result: AmdVerdict; answeredBy: AmdAnsweredBy; confidence: number; reason: string }
  | { type: 'amd.message_end'; atSample: number; answeredBy: AmdAnsweredBy; reason: string }
  | { type: 'amd.revised'; atSample: number; result: AmdVerdict; answeredBy: AmdAnsweredBy; confidence: number; reason: string; previous: AmdVerdict }
  | { type: 'beep'; atSample: number; frequencyHz: number; durationSamples: number; endSample: number }
  | { type: 'fax.tone'; atSample: number; tone: FaxTone }
  | { type: 'dtmf'; atSample: number; digit: string; startSample: number };

export interface DetectorChainOptions {
  /** Run AMD (which needs VAD, beep, fax and DTMF internally, whatever the flags below say). */
  amd: AmdOptions | false;
  /** Emit speech.started / speech.stopped. */
  vad: boolean;
  /** Emit beep events. */
  beep: boolean;
  /** Emit in-band DTMF digits. */
  dtmfInband: boolean;
  /** Emit fax tones. */
  fax: boolean;
  vadOptions?: VadOptions;
  beepOptions?: BeepOptions;
  faxOptions?: FaxOptions;
  dtmfOptions?: DtmfOptions;
}

export type ChainSink = (event: ChainEvent) => void;

/** Which detectors run; see DetectorChain.enable. */
export interface DetectorFlags {
  amd?: boolean;
  beep?: boolean;
  fax?: boolean;
  dtmf?: boolean;
}

export class DetectorChain implements FrameProcessor<void> {
  readonly options: DetectorChainOptions;
  private readonly sink: ChainSink;
  private readonly vad: Vad | null;
  /**
   * speech.started / speech.stopped follow the talker, not the room behind them (foreground.ts): with a TV
   * on, the VAD stops only in a gap of the talk, so the caller's turn ends seconds late (or never).
   */
  private readonly speechGate = new ForegroundGate();
  private beep: BeepDetector | null;
  private fax: FaxDetector | null;
  private dtmf: DtmfDetector | null;
  private readonly amd: AmdStateMachine | null;
  private readonly obs: AmdObservation;
  private speechStart = 0;
  private samples = 0;
  /** A beep event that may be a fax's CNG burst, held for the fax detector's word. */
  private readonly cngHold = new CngBeepHold();
  /** Detectors switched off by enable(): no per-frame work, no events. */
  private amdOn = true;
  private beepOn: boolean;
  private faxOn: boolean;
  private dtmfOn: boolean;

  constructor(options: DetectorChainOptions, sink: ChainSink) {
    this.options = options;
    this.sink = sink;
    const amd = options.amd !== false;
    this.amd = options.amd === false ? null : new AmdStateMachine(options.amd);
    this.vad = amd || options.vad ? new Vad(options.vadOptions) : null;
    this.beep = amd || options.beep ? new BeepDetector(options.beepOptions) : null;
    this.fax = amd || options.fax ? new FaxDetector(options.faxOptions) : null;
    this.dtmf = amd || options.dtmfInband ? new DtmfDetector(options.dtmfOptions) : null;
    this.obs = { vad: (this.vad ?? new Vad()).result, beep: null, fax: null, dtmf: null };
    this.beepOn = options.beep;
    this.faxOn = options.fax;
    this.dtmfOn = options.dtmfInband;
  }

  /** True while AMD is still deciding (or waiting for the end of the greeting). */
  get amdPending(): boolean {
    return this.amd !== null && this.amdOn && this.amd.currentState !== 'done';
  }

  /**
   * Our prompt started or stopped playing to the callee (from the call glue): AMD revises a human
   * verdict when the callee talks straight over it.
   */
  notePlayout(playing: boolean): void {
    this.amd?.notePlayout(playing);
  }

  /**
   * Switch detectors off (no per-frame work, no events) or back on (from a fresh state, as if the
   * call had just started for them). AMD needs the others: while AMD is on, they still run for it but
   * emit nothing when their own flag is off. A detector the chain was built without is created when first switched on.
   */
  enable(flags: DetectorFlags): void {
    if (flags.amd !== undefined && flags.amd !== this.amdOn) {
      this.amdOn = flags.amd;
      if (flags.amd && this.amd) {
        this.amd.reset();
        // Detectors that stood still while off hold stale audio: AMD starts them afresh.
        if (!this.beepOn) this.beep?.reset();
        if (!this.faxOn) this.fax?.reset();
        if (!this.dtmfOn) this.dtmf?.reset();
      }
    }
    if (flags.beep !== undefined && flags.beep !== this.beepOn) {
      this.beepOn = flags.beep;
      if (flags.beep) (this.beep ??= new BeepDetector(this.options.beepOptions)).reset();
    }
    if (flags.fax !== undefined && flags.fax !== this.faxOn) {
      this.faxOn = flags.fax;
      if (flags.fax) (this.fax ??= new FaxDetector(this.options.faxOptions)).reset();
    }
    if (flags.dtmf !== undefined && flags.dtmf !== this.dtmfOn) {
      this.dtmfOn = flags.dtmf;
      if (flags.dtmf) (this.dtmf ??= new DtmfDetector(this.options.dtmfOptions)).reset();
    }
  }

  /** A final speech-to-text transcript (optional AMD evidence: greeting phrases); see AmdStateMachine.noteTranscript. */
  noteTranscript(text: string): void {
    if (this.amd && this.amdOn) this.amd.noteTranscript(text);
  }

  process(frame: Int16Array): void {
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`frame must hold ${FRAME_SAMPLES} samples`);
    this.samples += FRAME_SAMPLES;
    const at = this.samples;
    const o = this.options;
    const obs = this.obs;
    const amdOn = this.amd !== null && this.amdOn && this.amd.listening;
    if (this.vad) {
      obs.vad = this.vad.process(frame);
      obs.pcm = frame;
      if (o.vad) this.speechEvents(this.speechGate.process(obs.vad));
    }
    if (this.beep && (this.beepOn || amdOn)) {
      const b: BeepFrame = this.beep.process(frame);
      obs.beep = b;
      if (this.beepOn && b.beep) {
        // A fax's CNG burst looks like a 1100 Hz beep; the fax detector recognises it a frame or two
        // later, so such a beep is held until then and dropped if it was CNG.
        if (!(this.fax && this.cngHold.offer(b.frequencyHz, b.durationSamples, b.endSample, at))) {
          this.sink({ type: 'beep', atSample: at, frequencyHz: b.frequencyHz, durationSamples: b.durationSamples, endSample: b.endSample });
        }
      }
    }
    if (this.fax && (this.faxOn || amdOn)) {
      const f: FaxFrame = this.fax.process(frame);
      obs.fax = f;
      if (f.tone === 'CNG') this.cngHold.cancel(at);
      if (this.faxOn && f.tone !== '') this.sink({ type: 'fax.tone', atSample: at, tone: f.tone });
    }
    if (this.cngHold.release(at)) {
      const h = this.cngHold;
      this.sink({ type: 'beep', atSample: at, frequencyHz: h.frequencyHz, durationSamples: h.durationSamples, endSample: h.endSample });
    }
    if (this.dtmf && (this.dtmfOn || amdOn)) {
      const d: DtmfFrame = this.dtmf.process(frame);
      obs.dtmf = d;
      if (this.dtmfOn && d.digit !== '') this.sink({ type: 'dtmf', atSample: at, digit: d.digit, startSample: d.startSample });
    }
    if (this.amd && amdOn) {
      const a = this.amd.observe(obs);
      if (a.verdict) {
        this.sink({
          type: 'amd.verdict',
          atSample: a.verdictSample,
          result: a.result,
          answeredBy: a.answeredBy,
          confidence: a.confidence,
          reason: a.reason,
        });
      }
      if (a.revised) {
        this.sink({
          type: 'amd.revised',
          atSample: a.revisedSample,
          result: a.revisedResult,
          answeredBy: a.revisedAnsweredBy,
          confidence: a.revisedConfidence,
          reason: a.revisedReason,
          previous: a.previousResult,
        });
      }
      if (a.messageEnd) {
        this.sink({ type: 'amd.message_end', atSample: a.messageEndSample, answeredBy: a.messageEndAnsweredBy, reason: a.messageEndReason });
      }
    }
  }

  private speechEvents(v: VadFrame): void {
    if (v.event === 'onset') {
      this.speechStart = v.eventSample;
      this.sink({ type: 'speech.started', atSample: v.endSample, startSample: v.eventSample });
    } else if (v.event === 'offset') {
      this.sink({ type: 'speech.stopped', atSample: v.endSample, durationSamples: v.eventSample - this.speechStart });
    }
  }

  reset(): void {
    this.vad?.reset();
    this.speechGate.reset();
    this.beep?.reset();
    this.fax?.reset();
    this.dtmf?.reset();
    this.amd?.reset();
    this.obs.beep = null;
    this.obs.fax = null;
    this.obs.dtmf = null;
    if (this.vad) this.obs.vad = this.vad.result;
    this.speechStart = 0;
    this.samples = 0;
    this.cngHold.reset();
  }
}
