// The call's AMD verdict on its record (amd_result, amd_answered_by, amd_confidence, amd_decision_ms),
// written through the durable call-write path. The first verdict (`amd.verdict`) and every later
// revision (`amd.revised`) are written in order, so the record ends with the detector's last word.
// The detectors start at answer (the stream's start), so the event's media time is the decision time.
import type { CallControl } from '../call/control.ts';
import type { CallEvent } from '../call/events.ts';
import type { AmdOutcome } from '../store/calls.ts';

const AMD_RESULTS = new Set(['human', 'machine', 'fax', 'unknown']);

/** The outcome an AMD event states, or undefined for any other event. */
export function amdOutcomeOf(event: CallEvent): AmdOutcome | undefined {
  if (event.type !== 'amd.verdict' && (event.type as string) !== 'amd.revised') return undefined;
  const e = event as unknown as Record<string, unknown>;
  const { result, answeredBy, confidence } = e;
  if (typeof result !== 'string' || !AMD_RESULTS.has(result) || typeof answeredBy !== 'string') return undefined;
  return {
    result: result as AmdOutcome['result'],
    answeredBy: answeredBy as AmdOutcome['answeredBy'],
    confidence: typeof confidence === 'number' && Number.isFinite(confidence) ? confidence : 0,
    decisionMs: event.atMs,
  };
}

/** Calls `persist` for each AMD verdict of the call; returns the unsubscribe function. */
export function recordAmdVerdicts(call: Pick<CallControl, 'subscribe'>, persist: (outcome: AmdOutcome) => void): () => void {
  return call.subscribe((event) => {
    const outcome = amdOutcomeOf(event);
    if (outcome !== undefined) persist(outcome);
  });
}
