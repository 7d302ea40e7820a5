// The one place where a finished call becomes an attempt outcome (src/outcome/vocabulary.ts), and an
// outcome becomes the contact's next step (retry after a delay, final disposition, or review).
import type { AttemptOutcome } from '../outcome/vocabulary.ts';
import type { CampaignSettings, RetryKey } from './settings.ts';

/** What the store knows about an ended call: its row and the timeline events that matter. */
export interface FinishedCall {
  /** The call row's final status (completed, busy, no-answer, failed, canceled). */
  status: string;
  /** The carrier or the gateway saw it answered (answered_at, or a media stream started). */
  answered: boolean;
  /** The first AMD verdict, on the media clock. */
  amd?: { result: string; atMs: number };
  /** The flow left its voicemail message. */
  voicemailLeft: boolean;
  /** Media time the gateway's first audio started playing. */
  firstAudioAtMs?: number;
  /** Media time the call ended (caller audio received). */
  endedAtMs?: number;
  /** Why the gateway ended the call. */
  endReason?: string | null;
}

/** TSR 310.4(b)(4)(i): a live person must be connected within two seconds of their greeting. */
export const ABANDON_AFTER_MS = 2000;

export function attemptOutcome(call: FinishedCall): { outcome: AttemptOutcome; abandoned: boolean } {
  switch (call.status) {
    case 'busy':
      return { outcome: 'busy', abandoned: false };
    case 'no-answer':
      return { outcome: 'no-answer', abandoned: false };
    case 'canceled':
      return { outcome: 'canceled', abandoned: false };
    case 'failed':
      return { outcome: 'failed', abandoned: false };
  }
  if (!call.answered) return { outcome: 'failed', abandoned: false };
  if (call.voicemailLeft) return { outcome: 'voicemail-dropped', abandoned: false };
  if (call.amd !== undefined && (call.amd.result === 'machine' || call.amd.result === 'fax')) return { outcome: 'machine', abandoned: false };
  // A live person (or no verdict: carriers and our AMD lean to human): abandoned when nothing
  // played within 2 s of the moment we knew a person was there, unless they hung up before that.
  const liveAt = call.amd?.atMs ?? 0;
  const deadline = liveAt + ABANDON_AFTER_MS;
  const heardInTime = call.firstAudioAtMs !== undefined && call.firstAudioAtMs <= deadline;
  const hungUpFirst = call.endedAtMs !== undefined && call.endedAtMs < deadline && (call.firstAudioAtMs === undefined || call.firstAudioAtMs > call.endedAtMs);
  if (!heardInTime && !hungUpFirst) return { outcome: 'abandoned', abandoned: true };
  return { outcome: 'human', abandoned: false };
}

/** Which retry rule an outcome falls under; undefined for final outcomes. */
export function retryKeyFor(outcome: AttemptOutcome, carrierError: boolean): RetryKey | undefined {
  if (carrierError) return 'carrierError';
  switch (outcome) {
    case 'no-answer':
      return 'noAnswer';
    case 'busy':
      return 'busy';
    case 'failed':
      return 'failed';
    case 'machine':
      return 'machine';
    default:
      return undefined;
  }
}

export type NextStep =
  | { kind: 'retry'; at: Date; key: RetryKey }
  | { kind: 'final'; disposition: string }
  | { kind: 'review' };

/** After an attempt: retry (per-outcome limits and delays), stop for good, or wait for a person. */
export function nextStep(outcome: AttemptOutcome, carrierError: boolean, attemptsByOutcome: Record<string, number>, settings: CampaignSettings, now: Date): NextStep {
  // A carrier timeout after sending: the call may have rung. Never redialed automatically.
  if (outcome === 'unknown') return { kind: 'review' };
  const key = retryKeyFor(outcome, carrierError);
  if (key === undefined) return { kind: 'final', disposition: outcome };
  const rule = settings.retries[key];
  const used = attemptsByOutcome[key] ?? 0;
  if (used >= rule.maxAttempts) return { kind: 'final', disposition: outcome };
  return { kind: 'retry', at: new Date(now.getTime() + rule.delayS * 1000), key };
}
