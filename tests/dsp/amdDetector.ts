// The AMD state machine fed by its own VAD, beep, fax and DTMF detectors, returning the machine's
// frame: what the state-machine tests drive. A call (and analyseRecording) uses DetectorChain, which
// also reports the sub-detectors' own events; this harness keeps the tests on the machine's output.
import { AmdStateMachine, type AmdFrame, type AmdObservation, type AmdOptions } from '../../dsp/amd.ts';
import { BeepDetector, type BeepOptions } from '../../dsp/beep.ts';
import { DtmfDetector, type DtmfOptions } from '../../dsp/dtmf.ts';
import { FaxDetector, type FaxOptions } from '../../dsp/fax.ts';
import type { FrameProcessor } from '../../dsp/frame.ts';
import { Vad, type VadOptions } from '../../dsp/vad.ts';

export interface AmdDetectorOptions extends AmdOptions {
  vad?: VadOptions;
  beep?: BeepOptions;
  fax?: FaxOptions;
  dtmf?: DtmfOptions;
}

export class AmdDetector implements FrameProcessor<AmdFrame> {
  readonly vad: Vad;
  readonly beep: BeepDetector;
  readonly fax: FaxDetector;
  readonly dtmf: DtmfDetector;
  readonly machine: AmdStateMachine;
  private readonly obs: AmdObservation;

  constructor(opts: AmdDetectorOptions = {}) {
    this.vad = new Vad(opts.vad);
    this.beep = new BeepDetector(opts.beep);
    this.fax = new FaxDetector(opts.fax);
    this.dtmf = new DtmfDetector(opts.dtmf);
    this.machine = new AmdStateMachine(opts);
    this.obs = { vad: this.vad.result, beep: null, fax: null, dtmf: null };
  }

  process(frame: Int16Array): AmdFrame {
    const obs = this.obs;
    obs.vad = this.vad.process(frame);
    obs.pcm = frame;
    obs.beep = this.beep.process(frame);
    obs.fax = this.fax.process(frame);
    obs.dtmf = this.dtmf.process(frame);
    return this.machine.observe(obs);
  }

  reset(): void {
    this.vad.reset();
    this.beep.reset();
    this.fax.reset();
    this.dtmf.reset();
    this.machine.reset();
    this.obs.beep = null;
    this.obs.fax = null;
    this.obs.dtmf = null;
  }
}
