// The outcome vocabulary, defined once: analytics groups calls by it, campaigns record attempts in it,
// the dashboard colours by it. Names never change once shipped (reports and exports depend on them);
// add new ones at the end. Each list is documented for users in the README ("Outcomes").

/** How a call ended, for reports. Exactly one per ended call. */
export const CALL_OUTCOME_CATEGORIES = [
  /** The flow says the call achieved its purpose (its `successWhen`, or a success disposition). */
  'success',
  /** The call ended normally but the flow did not say it succeeded (no `successWhen`, or it was false). */
  'completed',
  /** The call was handed to a person or another number. */
  'transferred',
  /** A machine answered and the flow left its message after the beep. */
  'voicemail-dropped',
  /** The call did not achieve anything; `failureReason` says why. */
  'failed',
] as const;
export type CallOutcomeCategory = (typeof CALL_OUTCOME_CATEGORIES)[number];

/** Why a call failed (category `failed`). A fixed list: reports group by it. */
export const FAILURE_REASONS = [
  'busy',
  'no-answer',
  'carrier-failed',
  'canceled',
  'voicemail',
  'machine',
  'fax',
  'caller-hung-up-early',
  'flow-error',
  'provider-error',
  'transfer-failed',
  'rejected-at-capacity',
  'media-timeout',
  'gateway-lost',
  'shutdown',
  'do-not-call',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** The outcome of one campaign dial attempt. */
export const ATTEMPT_OUTCOMES = [
  'human',
  'machine',
  'voicemail-dropped',
  'no-answer',
  'busy',
  'failed',
  'canceled',
  'do-not-call',
  /** A live person answered and heard nothing for 2 s, or was hung up on as a machine (US TSR rules). */
  'abandoned',
  /** The carrier may or may not have placed the call (timeout after sending): never redialed automatically. */
  'unknown',
] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export function isCallOutcomeCategory(s: string): s is CallOutcomeCategory {
  return (CALL_OUTCOME_CATEGORIES as readonly string[]).includes(s);
}
export function isFailureReason(s: string): s is FailureReason {
  return (FAILURE_REASONS as readonly string[]).includes(s);
}
export function isAttemptOutcome(s: string): s is AttemptOutcome {
  return (ATTEMPT_OUTCOMES as readonly string[]).includes(s);
}
