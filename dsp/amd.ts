// Answering-machine detection as an explicit state machine over per-frame observations (VAD state,
// beep, fax tone, in-band DTMF), on the media clock. Timing features carry the decision, as in
// Asterisk's app_amd and in arXiv 2604.09675 (VAD timing features beat transcripts and beep features):
// a person answers with a short utterance and waits; a greeting keeps talking. A beep or a fax tone
// settles it outright; a key press means a person. With the classifier (dsp/amdModel.ts) the silence
// a person's verdict needs depends on what was said: 0.8 s after a short "Hello?", 1.5 s after 1–2 s
// of speech (where greetings pause about a second and go on), 1.1 s otherwise (past the gap before a
// greeting's beep, which then decides); speech that resumes after a pause is a new stretch of the
// same answer, timed on its own.
//
// States: waiting (no speech yet) → speech ⇄ pause → decided; in 'message-end' mode a machine verdict
// moves on to awaitingEnd (beep, silence or timeout ends the greeting) → done.
// Parameter names follow Twilio's AMD (MachineDetectionSpeechThreshold, …SpeechEndThreshold,
// …SilenceTimeout, MachineDetectionTimeout), all in milliseconds.
import { FRAME_SAMPLES, msToSamples, samplesToMs } from './frame.ts';
import type { VadFrame } from './vad.ts';
import type { BeepFrame } from './beep.ts';
import { CngBeepHold, isCngLike, type FaxFrame } from './fax.ts';
import type { DtmfFrame } from './dtmf.ts';
import { calibrateConfidence } from './calibration.ts';
import { machineProbability, strongestFeatures, validateModel, type AmdModel, type CheckpointKind } from './amdModel.ts';
import { AMD_MODEL } from './amdWeights.ts';
import { UtteranceTracker } from './utterance.ts';
import { greetingPhrase } from './greetingPhrases.ts';
import { ForegroundGate } from './foreground.ts';

export type AmdMode = 'fast' | 'message-end';
export type AmdVerdict = 'human' | 'machine' | 'fax' | 'unknown';
/** Twilio's AnsweredBy values. */
export type AmdAnsweredBy =
  | 'human'
  | 'machine_start'
  | 'machine_end_beep'
  | 'machine_end_silence'
  | 'machine_end_other'
  | 'fax'
  | 'unknown';

export interface AmdOptions {
  mode?: AmdMode;
  /** Speech longer than this (one utterance, pauses shorter than speechEndThresholdMs included) is a machine. */
  speechThresholdMs?: number;
  /** Silence that ends an utterance; a short utterance followed by this much silence is a person. */
  speechEndThresholdMs?: number;
  /** No speech at all within this time → unknown. */
  silenceTimeoutMs?: number;
  /** No verdict (fast) or no message end (message-end) within this time → unknown / machine_end_other. */
  totalTimeoutMs?: number;
  /** In message-end mode: silence after a greeting that ends it when no beep comes. */
  messageEndSilenceMs?: number;
  /** Answers at least this long (but under speechThresholdMs) are ambiguous: they may be a short greeting. */
  ambiguousSpeechMs?: number;
  /** Silence an ambiguous answer needs before it is called human (a beep or more speech may still come). */
  ambiguousEndSilenceMs?: number;
  /**
   * After a human or machine verdict, keep listening this long for evidence that revises it once
   * (amd.revised): a beep or a greeting phrase → machine; a key press or an answer to a probe → human.
   * 0 turns it off. Long enough for the beep of a greeting that paused after its first words: that
   * greeting is called human at its pause and beeps 4–8 s later.
   */
  revisionWindowMs?: number;
  /** Callee speech that runs this long over our playing prompt without a pause revises human → machine. */
  talkOverMs?: number;
  /**
   * The talk-over rule holds only this long after the verdict (and within revisionWindowMs): a greeting
   * runs over our first prompt at once, while later a person may well talk over us.
   */
  talkOverWindowMs?: number;
  /**
   * Map human/machine confidences through the calibration fitted on the tune split
   * (dsp/calibration.ts, bench/fit-calibration.ts); false gives the raw scores (for fitting).
   */
  calibrated?: boolean;
  /**
   * The classifier deciding at pause and speech checkpoints (dsp/amdModel.ts), or false for the
   * timing rules alone (speechThresholdMs, speechEndThresholdMs, ambiguous*), kept for comparison.
   */
  model?: AmdModel | false;
  /** Training hook (bench/train-amd.ts): checkpoints never decide early and each one is reported. */
  onCheckpoint?: ((c: AmdCheckpoint) => void) | null;
}

/** A classifier checkpoint, reported to `onCheckpoint` (features are copied by the receiver if kept). */
export interface AmdCheckpoint {
  kind: CheckpointKind;
  index: number;
  atSample: number;
  features: Float64Array;
  probability: number;
}

/** How long a CNG-like beep waits for the fax detector's confirmation, in ms. */
const CNG_HOLD_MS = 200;
/** Probe rule (after a machine verdict): the callee was quiet this long when our prompt ended… */
const PROBE_QUIET = msToSamples(500);
/** …started answering within this after it… */
const PROBE_ANSWER_WITHIN = msToSamples(1500);
/** …with an answer no longer than this… */
const PROBE_ANSWER_MAX = msToSamples(2000);
/** …followed by this much silence. */
const PROBE_ANSWER_END = msToSamples(600);
/** The utterance counts as starting with the tone when it began this close before it. */
const CNG_ONSET_SLACK = msToSamples(200);

type AmdState = 'waiting' | 'speech' | 'pause' | 'awaitingEnd' | 'done';

/**
 * Defaults tuned on the corpus's `tune` split (see bench/eval-amd.ts): every speechThresholdMs from 2200 to
 * 2500 calls no person a machine there; 2400 sits inside that range with margin toward people, since
 * hanging up on a person is the worst mistake. speechEndThresholdMs 900 keeps the human verdict under
 * 1.2 s after the answer ends.
 */
export const AMD_DEFAULTS: Required<AmdOptions> = {
  mode: 'message-end',
  speechThresholdMs: 2400,
  speechEndThresholdMs: 900,
  silenceTimeoutMs: 5000,
  totalTimeoutMs: 30000,
  messageEndSilenceMs: 1500,
  ambiguousSpeechMs: 2000,
  ambiguousEndSilenceMs: 1800,
  revisionWindowMs: 10000,
  talkOverMs: 1500,
  talkOverWindowMs: 4000,
  calibrated: true,
  model: AMD_MODEL,
  onCheckpoint: null,
};

/** What one frame contributed; reused, read before the next call. */
export interface AmdFrame {
  /** The human/machine/fax/unknown verdict was reached in this frame. */
  verdict: boolean;
  /** In message-end mode: the greeting ended in this frame (also set with a verdict that ends it). */
  messageEnd: boolean;
  result: AmdVerdict;
  /** Detail of the verdict (machine_start, machine_end_beep, …). */
  answeredBy: AmdAnsweredBy;
  /** Detail of the message end (machine_end_beep | machine_end_silence | machine_end_other). */
  messageEndAnsweredBy: AmdAnsweredBy;
  confidence: number;
  reason: string;
  messageEndReason: string;
  /** Media time of the verdict and of the message end, in samples. */
  verdictSample: number;
  messageEndSample: number;
  /** The verdict was revised in this frame (at most once per call). */
  revised: boolean;
  revisedResult: AmdVerdict;
  revisedAnsweredBy: AmdAnsweredBy;
  revisedConfidence: number;
  revisedReason: string;
  /** The verdict that was revised. */
  previousResult: AmdVerdict;
  revisedSample: number;
  /** Nothing more will be decided. */
  done: boolean;
}

export interface AmdObservation {
  vad: VadFrame;
  /** The frame's samples, for the classifier's prosody features (null: timing features only). */
  pcm?: Int16Array | null;
  beep: BeepFrame | null;
  fax: FaxFrame | null;
  dtmf: DtmfFrame | null;
}

/** The decision logic alone, fed with the detectors' per-frame results. */
export class AmdStateMachine {
  readonly options: Readonly<Required<AmdOptions>>;
  private readonly speechThreshold: number;
  private readonly speechEndThreshold: number;
  private readonly silenceTimeout: number;
  private readonly totalTimeout: number;
  private readonly messageEndSilence: number;
  private readonly ambiguousSpeech: number;
  private readonly ambiguousEndSilence: number;
  private readonly out: AmdFrame = blankFrame();
  /** The VAD as AMD hears it: the answering talker's speech, not the room behind them (foreground.ts). */
  private readonly foreground = new ForegroundGate();
  /** The observation with the foreground VAD frame (reused: no allocation per frame). */
  private readonly view: AmdObservation = { vad: this.foreground.result, pcm: null, beep: null, fax: null, dtmf: null };
  private state: AmdState = 'waiting';
  private now = 0;
  private utteranceStart = 0;
  private lastSpeechEnd = 0;
  private lastActive = 0;
  /** A lone CNG-like beep, held for the fax detector's word. */
  private readonly cngHold = new CngBeepHold(CNG_HOLD_MS);
  private readonly revisionWindow: number;
  private readonly talkOver: number;
  private readonly talkOverWindow: number;
  /** The verdict open to revision ('unknown' when none is) and until when (samples). */
  private standing: AmdVerdict = 'unknown';
  private reviseUntil = 0;
  /** Until when (samples) the talk-over rule may revise a human verdict. */
  private talkOverUntil = 0;
  private playing = false;
  /** Samples the callee has spoken over our prompt without pausing. */
  private overlap = 0;
  private readonly model: AmdModel | null;
  private readonly tracker: UtteranceTracker | null;
  private readonly collect: ((c: AmdCheckpoint) => void) | null;
  private pauseCheck = 0;
  private speechCheck = 0;
  /** Start of the current stretch of speech (VAD onset) and how many stretches the answer has had. */
  private segmentStart = 0;
  private segments = 0;
  /** A greeting phrase heard by speech-to-text, applied at the next frame (on the media clock). */
  private phrase: string | null = null;
  /** Last frame the callee's VAD was active (any state), for the probe rule. */
  private heardAt = -Infinity;
  /** After a machine verdict: when our probe prompt ended with the callee listening (0 = none), and their answer. */
  private probeEnd = 0;
  private answerStart = 0;
  private answerEnd = 0;

  constructor(opts: AmdOptions = {}) {
    const o = { ...AMD_DEFAULTS, ...stripUndefined(opts) };
    if (o.mode !== 'fast' && o.mode !== 'message-end') throw new RangeError(`mode must be 'fast' or 'message-end'`);
    const positive: (keyof AmdOptions)[] = [
      'speechThresholdMs',
      'speechEndThresholdMs',
      'silenceTimeoutMs',
      'totalTimeoutMs',
      'messageEndSilenceMs',
      'ambiguousSpeechMs',
      'ambiguousEndSilenceMs',
      'talkOverMs',
      'talkOverWindowMs',
    ];
    for (const k of positive) {
      const v = o[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`${k} must be a positive number of ms`);
    }
    if (typeof o.revisionWindowMs !== 'number' || !Number.isFinite(o.revisionWindowMs) || o.revisionWindowMs < 0) {
      throw new RangeError('revisionWindowMs must be a number of ms ≥ 0');
    }
    if (o.totalTimeoutMs < o.silenceTimeoutMs) throw new RangeError('totalTimeoutMs must be ≥ silenceTimeoutMs');
    this.options = o;
    this.speechThreshold = msToSamples(o.speechThresholdMs);
    this.speechEndThreshold = msToSamples(o.speechEndThresholdMs);
    this.silenceTimeout = msToSamples(o.silenceTimeoutMs);
    this.totalTimeout = msToSamples(o.totalTimeoutMs);
    this.messageEndSilence = msToSamples(o.messageEndSilenceMs);
    this.ambiguousSpeech = msToSamples(o.ambiguousSpeechMs);
    this.ambiguousEndSilence = msToSamples(Math.max(o.ambiguousEndSilenceMs, o.speechEndThresholdMs));
    this.revisionWindow = msToSamples(o.revisionWindowMs);
    this.talkOver = msToSamples(o.talkOverMs);
    this.talkOverWindow = msToSamples(o.talkOverWindowMs);
    this.model = o.model === false ? null : o.model;
    if (this.model) validateModel(this.model);
    this.tracker = this.model ? new UtteranceTracker() : null;
    this.collect = o.onCheckpoint ?? null;
  }

  get currentState(): AmdState {
    return this.state;
  }

  /** Still deciding, or watching a verdict that may be revised: the chain keeps feeding frames. */
  get listening(): boolean {
    return this.state !== 'done' || this.standing !== 'unknown';
  }

  /** Our own prompt started (true) or stopped (false) playing to the callee; from the call glue. */
  notePlayout(playing: boolean): void {
    // A prompt that ends while the callee has been quiet for PROBE_QUIET (they listened) is a probe:
    // after a machine verdict, a short answer to it revises to human (a greeting does not answer).
    if (this.playing && !playing && this.standing === 'machine' && this.now <= this.reviseUntil && this.now - this.heardAt >= PROBE_QUIET) {
      this.probeEnd = this.now;
      this.answerStart = 0;
      this.answerEnd = 0;
      this.reviseUntil = Math.max(this.reviseUntil, this.now + PROBE_ANSWER_WITHIN + PROBE_ANSWER_MAX + PROBE_ANSWER_END);
    }
    this.playing = playing;
    if (!playing) this.overlap = 0;
  }

  /**
   * A final transcript from the call's speech-to-text, when it has one (optional evidence): a greeting
   * phrase ("leave a message", "après le bip", …) calls a machine while AMD is deciding, or revises a
   * human verdict inside the revision window. Returns the phrase that counted, or null.
   */
  noteTranscript(text: string): string | null {
    if (this.state === 'done' && this.standing !== 'human') return null;
    const phrase = greetingPhrase(text);
    if (phrase !== null) this.phrase = phrase;
    return phrase;
  }

  private applyPhrase(): boolean {
    const phrase = this.phrase;
    if (phrase === null) return false;
    this.phrase = null;
    const reason = `greeting phrase "${phrase}" in the transcript`;
    if (this.state === 'waiting' || this.state === 'speech' || this.state === 'pause') {
      this.decide('machine', 'machine_start', 0.95, reason);
      return true;
    }
    if (this.standing === 'human' && this.now <= this.reviseUntil) {
      this.revise('machine', 'machine_start', 0.95, `${reason} after the human verdict`);
      if (this.options.mode === 'message-end') {
        this.state = 'awaitingEnd';
        this.lastSpeechEnd = this.now;
      }
      return true;
    }
    return false;
  }

  observe(raw: AmdObservation): AmdFrame {
    const obs = this.view;
    obs.vad = this.foreground.process(raw.vad);
    obs.pcm = raw.pcm ?? null;
    obs.beep = raw.beep;
    obs.fax = raw.fax;
    obs.dtmf = raw.dtmf;
    const out = this.out;
    out.verdict = false;
    out.messageEnd = false;
    out.revised = false;
    this.now = obs.vad.endSample;
    // Prosody is only gathered while deciding: once per frame, cheap, and nothing after the verdict.
    if (this.tracker && (this.state === 'waiting' || this.state === 'speech' || this.state === 'pause')) {
      this.tracker.push(obs.vad, obs.pcm ?? null);
    }
    if (obs.vad.active) this.heardAt = this.now;
    if (this.phrase !== null && this.applyPhrase()) {
      out.done = !this.listening;
      return out;
    }
    if (this.standing !== 'unknown') this.watch(obs);
    switch (this.state) {
      case 'waiting':
        this.onWaiting(obs);
        break;
      case 'speech':
      case 'pause':
        this.onUtterance(obs);
        break;
      case 'awaitingEnd':
        this.onAwaitingEnd(obs);
        break;
      case 'done':
        break;
    }
    out.done = !this.listening;
    return out;
  }

  private onWaiting(obs: AmdObservation): void {
    if (this.decisiveTone(obs)) return;
    if (obs.vad.event === 'onset' || obs.vad.speaking) {
      this.utteranceStart = obs.vad.event === 'onset' ? obs.vad.eventSample : this.now - FRAME_SAMPLES;
      this.segmentStart = this.utteranceStart;
      this.segments = 1;
      this.state = 'speech';
      this.onUtterance(obs);
      return;
    }
    if (this.now >= this.silenceTimeout) {
      this.decide('unknown', 'unknown', 0.6, `no speech within ${this.options.silenceTimeoutMs} ms`);
    }
  }

  private onUtterance(obs: AmdObservation): void {
    if (this.decisiveTone(obs)) return;
    const vad = obs.vad;
    if (vad.event === 'offset') this.lastSpeechEnd = vad.eventSample;
    // Frames the foreground gate holds as probably the room's (talk behind the caller, under review for
    // up to its quietMs) do not lengthen the answer: with a TV 26 dB under a 4 s sentence, the 5 s rule
    // fired during the 400 ms the gate took to end the utterance.
    if (vad.active) this.lastActive = Math.max(this.lastActive, this.now - this.foreground.pendingBackgroundSamples);
    if (vad.speaking) {
      if (this.state === 'pause') {
        // Speech again after a pause: a new stretch of the same answer (the evidence so far is kept).
        this.segmentStart = vad.event === 'onset' ? vad.eventSample : this.now - FRAME_SAMPLES;
        this.segments++;
        this.speechCheck = 0;
      }
      this.state = 'speech';
      // Measured to the last active frame, not to now: the VAD's hangover is not speech.
      const length = this.lastActive - this.utteranceStart;
      if (this.model) {
        this.pauseCheck = 0;
        // Speech checkpoints time the current stretch: "Hello? … [pause] … a sentence" is two
        // stretches of a person, not one long read-out greeting.
        if (this.speechCheckpoints(this.model, this.lastActive - this.segmentStart)) return;
      } else if (length >= this.speechThreshold) {
        this.decide('machine', 'machine_start', 0.85, `speech longer than ${this.options.speechThresholdMs} ms`);
        return;
      }
    } else {
      this.state = 'pause';
      const silence = this.now - this.lastSpeechEnd;
      // An answer long enough to be a short greeting waits longer for a beep or more speech before
      // it is called a person: the cost is latency on a few long answers, never a hung-up person.
      const spoken = this.lastSpeechEnd - this.utteranceStart;
      if (this.model) {
        // A sound under way (a beep's first frames before the VAD or the beep detector confirm it, a
        // steady tone) is not silence a person waits in: hold the checkpoints until it ends.
        const sounding = vad.active || obs.beep?.toneActive === true;
        if (!sounding && this.pauseCheckpoints(this.model, silence)) return;
        if (this.now >= this.totalTimeout) this.decide('unknown', 'unknown', 0.5, `no decision within ${this.options.totalTimeoutMs} ms`);
        return;
      }
      const needed = spoken >= this.ambiguousSpeech ? this.ambiguousEndSilence : this.speechEndThreshold;
      if (silence >= needed) {
        const lengthMs = Math.round(samplesToMs(this.lastSpeechEnd - this.utteranceStart));
        // Shorter answers are more typical of people: confidence falls toward the machine threshold.
        const confidence = 0.6 + 0.38 * Math.max(0, 1 - lengthMs / this.options.speechThresholdMs);
        this.decide('human', 'human', round2(confidence), `${lengthMs} ms of speech, then ${Math.round(samplesToMs(needed))} ms of silence`);
        return;
      }
    }
    if (this.now >= this.totalTimeout) this.decide('unknown', 'unknown', 0.5, `no decision within ${this.options.totalTimeoutMs} ms`);
  }

  /** Speech checkpoints passed by an utterance of `length` samples; true when one decided. */
  private speechCheckpoints(model: AmdModel, length: number): boolean {
    const checks = model.speechChecksMs;
    while (this.speechCheck < checks.length && length >= msToSamples(checks[this.speechCheck] as number)) {
      const k = this.speechCheck++;
      const p = this.score(model, 'speech', k, 0);
      if (this.collect === null && p > (model.machineAbove[k] as number)) {
        this.decideByModel(model, 'speech', 'machine', p, `${Math.round(samplesToMs(length))} ms of speech`);
        return true;
      }
    }
    if (length >= msToSamples(model.maxSpeechMs)) {
      this.decide('machine', 'machine_start', 0.9, `speech longer than ${model.maxSpeechMs} ms`);
      return true;
    }
    return false;
  }

  /** Pause checkpoints passed after `silence` samples; true when one decided (the last always does). */
  private pauseCheckpoints(model: AmdModel, silence: number): boolean {
    const checks = model.pauseChecksMs;
    while (this.pauseCheck < checks.length && silence >= msToSamples(checks[this.pauseCheck] as number)) {
      const k = this.pauseCheck++;
      // The silence a person's verdict needs depends on what was said (see AmdModel.shortAnswerMs):
      // checkpoints before the answer's first one only collect nothing and decide nothing.
      if (k < this.firstPauseCheck(model)) continue;
      const p = this.score(model, 'pause', k, silence);
      const last = k === checks.length - 1;
      const spoken = `${Math.round(samplesToMs(this.lastSpeechEnd - this.utteranceStart))} ms of speech, then ${checks[k]} ms of silence`;
      if (this.collect !== null) {
        if (last) this.decide('human', 'human', 0.5, spoken);
        if (last) return true;
        continue;
      }
      if (p < (model.humanBelow[k] as number)) {
        this.decideByModel(model, 'pause', 'human', p, spoken);
        return true;
      }
      if (last) {
        this.decideByModel(model, 'pause', 'machine', p, spoken);
        return true;
      }
    }
    return false;
  }

  /** The first pause checkpoint that may decide for the answer so far: 0 short, bandFirstCheck in the greeting-pause band, else 1. */
  private firstPauseCheck(model: AmdModel): number {
    const spoken = this.lastSpeechEnd - this.utteranceStart;
    if (this.segments === 1 && spoken < msToSamples(model.shortAnswerMs)) return 0;
    if (spoken < msToSamples(model.pauseBandMs)) return model.bandFirstCheck;
    return Math.min(1, model.pauseChecksMs.length - 1);
  }

  /** The model's machine probability for the utterance so far (once per checkpoint). */
  private score(model: AmdModel, kind: CheckpointKind, index: number, silence: number): number {
    const tracker = this.tracker as UtteranceTracker;
    const x = tracker.compute(this.utteranceStart, kind === 'pause' ? this.lastSpeechEnd : this.lastActive, silence);
    const p = machineProbability(model, kind, x);
    this.collect?.({ kind, index, atSample: this.now, features: x, probability: p });
    return p;
  }

  private decideByModel(model: AmdModel, kind: CheckpointKind, result: 'human' | 'machine', p: number, timing: string): void {
    const x = (this.tracker as UtteranceTracker).features;
    const why = strongestFeatures(model, kind, x, result === 'machine');
    const confidence = result === 'machine' ? p : 1 - p;
    const reason = `${timing}: ${result} at p(machine) ${p.toFixed(2)}${why ? ` (${why})` : ''}`;
    this.decide(result, result === 'machine' ? 'machine_start' : 'human', round2(Math.max(0.5, confidence)), reason);
  }

  private onAwaitingEnd(obs: AmdObservation): void {
    const vad = obs.vad;
    if (obs.beep?.beep) {
      this.endMessage('machine_end_beep', `beep at ${obs.beep.frequencyHz} Hz`);
      return;
    }
    if (vad.event === 'offset') this.lastSpeechEnd = vad.eventSample;
    if (!vad.speaking && this.now - this.lastSpeechEnd >= this.messageEndSilence) {
      this.endMessage('machine_end_silence', `${this.options.messageEndSilenceMs} ms of silence after the greeting`);
      return;
    }
    if (this.now >= this.totalTimeout) this.endMessage('machine_end_other', `greeting still going at ${this.options.totalTimeoutMs} ms`);
  }

  /** A fax tone, a beep or a key press decide at once, whatever the speech so far. */
  private decisiveTone(obs: AmdObservation): boolean {
    if (obs.fax && obs.fax.tone !== '') {
      this.decide('fax', 'fax', 0.97, `fax ${obs.fax.tone} tone`);
      return true;
    }
    const beep = obs.beep;
    if (beep?.beep) {
      // A lone 1100 Hz burst of 0.4–0.7 s is also a fax's CNG; the fax detector confirms it a frame or
      // two later, so hold the machine verdict briefly when nothing was said before the tone.
      const beepStart = beep.endSample - beep.durationSamples;
      const lone = this.state === 'waiting' || this.utteranceStart >= beepStart - CNG_ONSET_SLACK;
      if (lone && this.cngHold.offer(beep.frequencyHz, beep.durationSamples, beep.endSample, this.now)) return false;
      this.decide('machine', 'machine_end_beep', 0.97, `beep at ${beep.frequencyHz} Hz`);
      return true;
    }
    if (this.cngHold.release(this.now)) {
      this.decide('machine', 'machine_end_beep', 0.9, `beep at ${this.cngHold.frequencyHz} Hz`);
      return true;
    }
    if (obs.dtmf && obs.dtmf.digit !== '') {
      this.decide('human', 'human', 0.9, 'key press (in-band DTMF)');
      return true;
    }
    return this.cngHold.pending;
  }

  /**
   * Revision rules, while the window after the verdict is open (once per call):
   * human → machine on a beep (the greeting ended; a person does not beep), or on callee speech running
   * talkOverMs over our playing prompt without a pause (a greeting does not listen; a person who talks
   * over us stops within a second or two); machine → human on a key press (a recording does not press keys).
   */
  private watch(obs: AmdObservation): void {
    if (this.now > this.reviseUntil) {
      this.standing = 'unknown';
      return;
    }
    if (this.standing === 'human') {
      const beep = obs.beep;
      if (beep?.beep && !isCngLike(beep.frequencyHz, beep.durationSamples)) {
        const reason = `beep at ${beep.frequencyHz} Hz after the human verdict`;
        this.revise('machine', 'machine_end_beep', 0.95, reason);
        if (this.options.mode === 'message-end') this.endMessage('machine_end_beep', reason);
        else this.state = 'done';
        return;
      }
      this.overlap = this.playing && obs.vad.speaking && this.now <= this.talkOverUntil ? this.overlap + FRAME_SAMPLES : 0;
      if (this.overlap >= this.talkOver) {
        this.revise('machine', 'machine_start', 0.85, `spoke over our prompt for ${this.options.talkOverMs} ms without pausing`);
        // The greeting is still going: in message-end mode, wait for its end as after any machine verdict.
        if (this.options.mode === 'message-end') {
          this.state = 'awaitingEnd';
          this.lastSpeechEnd = this.now;
        }
      }
      return;
    }
    if (obs.dtmf && obs.dtmf.digit !== '') {
      this.revise('human', 'human', 0.9, 'key press (in-band DTMF) after the machine verdict');
      this.state = 'done';
      return;
    }
    if (this.probeEnd > 0 && this.probeAnswered(obs.vad)) {
      const ms = Math.round(samplesToMs(this.answerEnd - this.answerStart));
      this.revise('human', 'human', 0.85, `answered our prompt (${ms} ms, then silence) after the machine verdict`);
      this.state = 'done';
    }
  }

  /** The callee answered the probe: speech starting soon after it, short, then silence. */
  private probeAnswered(vad: VadFrame): boolean {
    if (this.answerStart === 0) {
      if (vad.event === 'onset' || vad.speaking) {
        const start = vad.event === 'onset' ? vad.eventSample : this.now;
        if (start - this.probeEnd > PROBE_ANSWER_WITHIN) this.probeEnd = 0;
        else this.answerStart = start;
      } else if (this.now - this.probeEnd > PROBE_ANSWER_WITHIN) {
        this.probeEnd = 0;
      }
      return false;
    }
    if (vad.speaking) {
      this.answerEnd = 0;
      // Talking on and on after our prompt is a greeting, not an answer.
      if (this.now - this.answerStart > PROBE_ANSWER_MAX) this.probeEnd = 0;
      return false;
    }
    if (this.answerEnd === 0) this.answerEnd = vad.event === 'offset' ? vad.eventSample : this.now;
    return this.now - this.answerEnd >= PROBE_ANSWER_END;
  }

  private revise(result: AmdVerdict, answeredBy: AmdAnsweredBy, confidence: number, reason: string): void {
    const out = this.out;
    out.revised = true;
    out.previousResult = this.standing;
    out.revisedResult = result;
    out.revisedAnsweredBy = answeredBy;
    out.revisedConfidence = confidence;
    out.revisedReason = reason;
    out.revisedSample = this.now;
    this.standing = 'unknown';
  }

  private decide(result: AmdVerdict, answeredBy: AmdAnsweredBy, confidence: number, reason: string): void {
    const out = this.out;
    out.verdict = true;
    out.result = result;
    out.answeredBy = answeredBy;
    out.confidence = this.options.calibrated && (result === 'human' || result === 'machine') ? calibrateConfidence(confidence) : confidence;
    out.reason = reason;
    out.verdictSample = this.now;
    // A key press already proved a person; a fax or unknown verdict has nothing to revise.
    const revisable = (result === 'human' && !reason.startsWith('key press')) || result === 'machine';
    if (revisable && this.revisionWindow > 0) {
      this.standing = result;
      this.reviseUntil = this.now + this.revisionWindow;
      this.talkOverUntil = this.now + Math.min(this.talkOverWindow, this.revisionWindow);
    }
    if (answeredBy === 'machine_start' && this.options.mode === 'message-end') {
      this.state = 'awaitingEnd';
      return;
    }
    if (answeredBy === 'machine_end_beep' && this.options.mode === 'message-end') {
      out.messageEnd = true;
      out.messageEndAnsweredBy = answeredBy;
      out.messageEndReason = reason;
      out.messageEndSample = this.now;
    }
    this.state = 'done';
  }

  private endMessage(answeredBy: AmdAnsweredBy, reason: string): void {
    const out = this.out;
    out.messageEnd = true;
    out.messageEndAnsweredBy = answeredBy;
    out.messageEndReason = reason;
    out.messageEndSample = this.now;
    this.state = 'done';
  }

  reset(): void {
    this.state = 'waiting';
    this.now = 0;
    this.utteranceStart = 0;
    this.lastSpeechEnd = 0;
    this.lastActive = 0;
    this.cngHold.reset();
    this.standing = 'unknown';
    this.reviseUntil = 0;
    this.talkOverUntil = 0;
    this.playing = false;
    this.overlap = 0;
    this.pauseCheck = 0;
    this.speechCheck = 0;
    this.segmentStart = 0;
    this.segments = 0;
    this.phrase = null;
    this.heardAt = -Infinity;
    this.probeEnd = 0;
    this.answerStart = 0;
    this.answerEnd = 0;
    this.tracker?.reset();
    this.foreground.reset();
    Object.assign(this.out, blankFrame());
  }
}

function blankFrame(): AmdFrame {
  return {
    verdict: false,
    messageEnd: false,
    result: 'unknown',
    answeredBy: 'unknown',
    messageEndAnsweredBy: 'unknown',
    confidence: 0,
    reason: '',
    messageEndReason: '',
    verdictSample: 0,
    messageEndSample: 0,
    revised: false,
    revisedResult: 'unknown',
    revisedAnsweredBy: 'unknown',
    revisedConfidence: 0,
    revisedReason: '',
    previousResult: 'unknown',
    revisedSample: 0,
    done: false,
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}
