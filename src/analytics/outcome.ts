// The outcome of an ended call, derived once from its record and what its timeline said, in the
// fixed vocabulary of src/outcome/vocabulary.ts. Pure: the same inputs always give the same outcome,
// so writing it again (a retried write, a second instance) is harmless.
import type { CallEvent } from '../call/events.ts';
import type { CallOutcomeCategory, FailureReason } from '../outcome/vocabulary.ts';

export interface CallOutcome {
  category: CallOutcomeCategory;
  /** Set exactly when category is `failed`. */
  failureReason: FailureReason | null;
  /** What the flow set: `vars.disposition`, the agent's end result, or a hangup node's reason. */
  disposition: string | null;
}

/** The facts of a call's timeline that decide its outcome (kept small: a call may be long). */
export interface OutcomeFacts {
  flowEnded?: { outcome: string; reason: string; success: boolean | null; disposition: string | null; dispositions: string[] };
  transferred: boolean;
  transferFailed: boolean;
  voicemailLeft: boolean;
  greetingEnded: boolean;
  amdResult?: string;
  flowErrorCodes: string[];
  providerFailed: boolean;
  callerSpoke: boolean;
  endReason?: string;
}

export function emptyFacts(): OutcomeFacts {
  return { transferred: false, transferFailed: false, voicemailLeft: false, greetingEnded: false, flowErrorCodes: [], providerFailed: false, callerSpoke: false };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Folds one timeline event into the facts (used live on a call, and over a stored timeline). */
export function addFact(facts: OutcomeFacts, e: Pick<CallEvent, 'type'> & { data?: unknown; result?: unknown; reason?: unknown }): void {
  const data = (e.data ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case 'flow.ended':
      facts.flowEnded = {
        outcome: str(data.outcome) ?? '',
        reason: str(data.reason) ?? '',
        success: typeof data.success === 'boolean' ? data.success : null,
        disposition: str(data.disposition) ?? null,
        dispositions: Array.isArray(data.dispositions) ? data.dispositions.filter((d): d is string => typeof d === 'string') : [],
      };
      return;
    case 'flow.transfer':
      facts.transferred = true;
      return;
    case 'flow.transfer.failed':
      facts.transferFailed = true;
      return;
    case 'flow.voicemail.left':
      facts.voicemailLeft = true;
      return;
    case 'amd.message_end':
    case 'flow.voicemail.greeting_ended':
      facts.greetingEnded = true;
      return;
    case 'amd.verdict':
      facts.amdResult ??= str(e.result);
      return;
    case 'flow.error':
      if (facts.flowErrorCodes.length < 20) facts.flowErrorCodes.push(str(data.code) ?? 'unknown');
      return;
    case 'agent.provider_failed':
    case 'agent.stt_failed':
      facts.providerFailed = true;
      return;
    case 'speech.started':
    case 'dtmf':
    case 'turn.transcript':
      facts.callerSpoke = true;
      return;
    case 'call.ended':
      facts.endReason ??= str(e.reason);
      return;
  }
}

/** The fields of a call's record the outcome depends on. */
export interface OutcomeRow {
  status: string;
  answeredAt: string | null;
  streamId: string | null;
  endReason: string | null;
  amdResult: string | null;
}

const failed = (failureReason: FailureReason, disposition: string | null): CallOutcome => ({ category: 'failed', failureReason, disposition });

/**
 * The rules, first match wins (README "Outcomes"): the carrier's terminal status for calls that never
 * connected; then what the flow did (voicemail left, transfer, its `successWhen`); then how it broke
 * (flow or provider error, machine, media timeout, shutdown, the caller leaving mid-flow).
 */
export function deriveOutcome(row: OutcomeRow, facts: OutcomeFacts): CallOutcome {
  const disposition = facts.flowEnded?.disposition ?? null;
  const endReason = facts.endReason ?? row.endReason ?? '';
  const connected = row.streamId !== null || row.answeredAt !== null || facts.flowEnded !== undefined;
  if (!connected) {
    if (row.status === 'busy') return failed('busy', disposition);
    if (row.status === 'no-answer') return failed('no-answer', disposition);
    if (row.status === 'canceled') return failed('canceled', disposition);
    if (/capacity/.test(endReason)) return failed('rejected-at-capacity', disposition);
    if (endReason === 'do_not_call' || endReason === 'do-not-call') return failed('do-not-call', disposition);
    return failed('carrier-failed', disposition);
  }
  if (facts.voicemailLeft) return { category: 'voicemail-dropped', failureReason: null, disposition };
  if (facts.flowEnded?.outcome === 'transferred' || (facts.transferred && !facts.transferFailed)) {
    return { category: 'transferred', failureReason: null, disposition };
  }
  if (facts.flowEnded?.success === true) return { category: 'success', failureReason: null, disposition };
  if (facts.transferFailed) return failed('transfer-failed', disposition);
  const amd = facts.amdResult ?? row.amdResult;
  const flowBroke = facts.flowEnded?.outcome === 'failed' || /^(flow_error|program_failed|flow_unavailable)/.test(endReason);
  if (flowBroke || facts.flowErrorCodes.length > 0) {
    if (facts.providerFailed || facts.flowErrorCodes.includes('GW_ERR_FLOW_AGENT_FAILED')) return failed('provider-error', disposition);
    if (flowBroke) return failed('flow-error', disposition);
  }
  if (amd === 'fax') return failed('fax', disposition);
  if (amd === 'machine') return failed(facts.greetingEnded ? 'voicemail' : 'machine', disposition);
  if (endReason === 'media_timeout') return failed('media-timeout', disposition);
  if (endReason === 'shutdown') return failed('shutdown', disposition);
  if (endReason === 'gateway_lost') return failed('gateway-lost', disposition);
  // The caller (or the carrier for them) ended the call while the flow was still running.
  const callerEnded = facts.flowEnded === undefined || (facts.flowEnded.outcome === 'aborted' && facts.flowEnded.reason === 'call_ended');
  if (callerEnded && /^(stream_|carrier_)/.test(endReason)) return failed('caller-hung-up-early', disposition);
  return { category: 'completed', failureReason: null, disposition };
}
