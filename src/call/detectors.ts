// Attaches the detectors a call needs to its inbound audio: one frame consumer runs the whole dsp/
// chain (VAD, beep, fax, in-band DTMF, AMD) and turns what it finds into timeline events. Times come
// from the media clock (the frame's start sample), so a replay at any speed gives the same timeline.
// Nothing here allocates per frame; event objects are created only when something is detected.
import { FRAME_SAMPLES, SAMPLE_RATE_HZ, samplesToMs } from '../../dsp/frame.ts';
import { DetectorChain, type ChainEvent } from '../../dsp/chain.ts';
import type { AmdOptions } from '../../dsp/amd.ts';
import type { CallControl } from './control.ts';
import type { DetectorEvent, Direction } from './events.ts';

export interface DetectorOptions {
  /** AMD from the moment of attaching (answer), or false. */
  amd?: AmdOptions | false;
  /**
   * In-band DTMF: always, never, or (the default) only while something on the call listens for keys
   * (CallControl.listenFor('keys')). Carrier dtmf events are not affected.
   */
  dtmfInband: boolean | 'listening';
  /**
   * Beep events: always, never, or (`'greeting'`) until AMD has heard the greeting end or a human,
   * and afterwards only while something listens for a beep (CallControl.listenFor('beep'): a voicemail
   * node's grace for a late beep). AMD's own use of the beep detector is not affected.
   */
  beep: boolean | 'greeting';
  fax: boolean;
  /** speech.started / speech.stopped events. */
  vad: boolean;
}

/**
 * What a call runs unless its flow says otherwise: outbound calls get AMD from answer (message-end
 * mode, so a voicemail drop can wait for the beep); inbound calls skip AMD.
 */
export function defaultDetectorOptions(direction: Direction): DetectorOptions {
  return {
    amd: direction === 'outbound' ? { mode: 'message-end' } : false,
    dtmfInband: 'listening',
    beep: direction === 'outbound' ? 'greeting' : false,
    fax: direction === 'outbound',
    vad: true,
  };
}

/**
 * Fax tones are looked for in the call's first seconds only: a fax machine's CED answers at once and
 * a calling fax's CNG repeats every 3 s from the start. (AMD, while deciding, still runs the fax
 * detector it observes.)
 */
export const FAX_WINDOW_MS = 10_000;

/** Starts the detectors on `call`'s inbound frames; returns the function that stops them. */
export function attachDetectors(call: CallControl, options: DetectorOptions): () => void {
  let frameEnd = 0;
  const emit = (e: DetectorEvent | { type: 'dtmf'; atMs: number; digit: string; source: 'inband' }) => call.emit(e);
  const sink = (e: ChainEvent): void => {
    const atMs = samplesToMs(frameEnd);
    switch (e.type) {
      case 'speech.started':
        emit({ type: 'speech.started', atMs });
        break;
      case 'speech.stopped':
        emit({ type: 'speech.stopped', atMs, durationMs: samplesToMs(e.durationSamples) });
        break;
      case 'amd.verdict':
        // A person answered: no voicemail greeting will end in a beep, so the beep detector stops.
        if (e.answeredBy === 'human') greetingOver(true);
        emit({ type: 'amd.verdict', atMs, result: e.result, answeredBy: e.answeredBy, confidence: e.confidence, reason: e.reason });
        break;
      case 'amd.revised':
        emit({ type: 'amd.revised', atMs, result: e.result, answeredBy: e.answeredBy, confidence: e.confidence, reason: e.reason, previous: e.previous });
        break;
      case 'amd.message_end':
        greetingOver(false);
        emit({ type: 'amd.message_end', atMs, answeredBy: e.answeredBy, reason: e.reason });
        break;
      case 'beep':
        emit({ type: 'beep', atMs, frequencyHz: e.frequencyHz, durationMs: samplesToMs(e.durationSamples) });
        break;
      case 'fax.tone':
        emit({ type: 'fax.tone', atMs, tone: e.tone });
        break;
      case 'dtmf':
        emit({ type: 'dtmf', atMs, digit: e.digit, source: 'inband' });
        break;
    }
  };
  const chain = new DetectorChain(
    { amd: options.amd ?? false, vad: options.vad, beep: options.beep !== false, dtmfInband: options.dtmfInband === true, fax: options.fax },
    sink,
  );
  // After the greeting (or a human), beeps matter only to a flow that waits for one.
  let beepWatched: (() => void) | undefined;
  function greetingOver(human: boolean): void {
    if (options.beep === 'greeting') beepWatched ??= call.watchListening('beep', (listening) => chain.enable({ beep: listening }));
    else if (human) chain.enable({ beep: false });
  }
  const unwatchKeys = options.dtmfInband === 'listening' ? call.watchListening('keys', (listening) => chain.enable({ dtmf: listening })) : undefined;
  const faxWindowEnd = (FAX_WINDOW_MS * SAMPLE_RATE_HZ) / 1000;
  let faxOn = options.fax;
  // AMD revises a human verdict when the callee talks straight over our prompt: tell it when one plays;
  // and hand it the speech-to-text finals, if any.
  let playing = 0;
  const unsubscribe = call.subscribe((e) => {
    const before = playing;
    if (e.type === 'playout.started') playing++;
    else if (e.type === 'playout.finished') playing = Math.max(0, playing - 1);
    else if (e.type === 'playout.cleared') playing = 0;
    if ((before > 0) !== (playing > 0)) chain.notePlayout(playing > 0);
    // When the call streams to speech-to-text, greeting phrases are AMD evidence (never required).
    if (e.type === 'turn.stt_final' && typeof e.data?.text === 'string') chain.noteTranscript(e.data.text);
  });
  const removeConsumer = call.addFrameConsumer((frame, startSample) => {
    frameEnd = startSample + FRAME_SAMPLES;
    if (faxOn && frameEnd > faxWindowEnd) {
      faxOn = false;
      chain.enable({ fax: false });
    }
    chain.process(frame);
  });
  let detached = false;
  const detach = (): void => {
    if (detached) return;
    detached = true;
    removeConsumer();
    unsubscribe();
    unwatchKeys?.();
    beepWatched?.();
    call.signal.removeEventListener('abort', detach);
  };
  call.signal.addEventListener('abort', detach, { once: true });
  return detach;
}
