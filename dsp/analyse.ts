// Offline analysis of a recording as if it were the start of an answered call: the detector chain
// runs frame by frame on the media clock, exactly as live, so the CLI, the evaluation and a live call
// reach the same verdict at the same media time. Pure: takes samples, returns a summary.
import { FRAME_SAMPLES, samplesToMs } from './frame.ts';
import { DetectorChain, type ChainEvent, type DetectorChainOptions } from './chain.ts';
import { AMD_DEFAULTS, type AmdAnsweredBy, type AmdOptions, type AmdVerdict } from './amd.ts';

export interface AnalysisResult {
  result: AmdVerdict;
  /** Final carrier-style detail: the message end's in message-end mode, else the verdict's. */
  answeredBy: AmdAnsweredBy;
  confidence: number;
  /** Media time of the verdict (ms). */
  decisionMs: number | null;
  /** Media time the first beep's end was signalled (ms). */
  beepMs: number | null;
  reason: string;
  /** Media time of the end of the greeting (message-end mode), ms. */
  messageEndMs: number | null;
  /** The recording ended before AMD finished and silence was appended (ms appended). */
  paddedMs: number;
  events: ChainEvent[];
}

export interface AnalysisOptions {
  amd?: AmdOptions;
  chain?: Omit<DetectorChainOptions, 'amd' | 'vad' | 'beep' | 'dtmfInband' | 'fax'>;
}

/**
 * Runs AMD (plus beep, fax and in-band DTMF reporting) over `samples` (8 kHz). When the recording
 * stops before AMD has finished, silence is appended — the call goes quiet — until it does, bounded
 * by the total timeout.
 */
export function analyseRecording(samples: Int16Array, opts: AnalysisOptions = {}): AnalysisResult {
  const amd = { ...opts.amd };
  const events: ChainEvent[] = [];
  const chain = new DetectorChain({ ...opts.chain, amd, vad: true, beep: true, dtmfInband: true, fax: true }, (e) => events.push(e));
  const frame = new Int16Array(FRAME_SAMPLES);
  let s = 0;
  for (; s + FRAME_SAMPLES <= samples.length; s += FRAME_SAMPLES) {
    frame.set(samples.subarray(s, s + FRAME_SAMPLES));
    chain.process(frame);
  }
  if (s < samples.length) {
    frame.fill(0);
    frame.set(samples.subarray(s));
    chain.process(frame);
    s += FRAME_SAMPLES;
  }
  const limit = ((amd.totalTimeoutMs ?? AMD_DEFAULTS.totalTimeoutMs) * 8000) / 1000;
  let padded = 0;
  frame.fill(0);
  while (chain.amdPending && s + padded < limit) {
    chain.process(frame);
    padded += FRAME_SAMPLES;
  }

  const verdict = events.find((e) => e.type === 'amd.verdict');
  const end = events.find((e) => e.type === 'amd.message_end');
  const beep = events.find((e) => e.type === 'beep');
  return {
    result: verdict?.result ?? 'unknown',
    answeredBy: end?.answeredBy ?? verdict?.answeredBy ?? 'unknown',
    confidence: verdict?.confidence ?? 0,
    decisionMs: verdict ? samplesToMs(verdict.atSample) : null,
    beepMs: beep ? samplesToMs(beep.atSample) : null,
    reason: [verdict?.reason ?? 'no verdict', end ? end.reason : null].filter((r) => r !== null).join('; '),
    messageEndMs: end ? samplesToMs(end.atSample) : null,
    paddedMs: samplesToMs(padded),
    events,
  };
}
