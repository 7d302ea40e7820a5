// Which call the voice webhook of an outbound call we placed is about, and the claims its answer
// carries (flow, AMD choice). In order: memory (placed lately by this process or announced on the
// change feed: store/placedCalls.ts); else the signed context in the webhook URL (placedContext.ts),
// with the record read only briefly — the same budget as an inbound call's — so a database that is
// stalled or down costs the person who picked up no silence; else, for a URL from before the context
// existed, the database. The carrier's call id is noted behind the answer by the ordered writer.
import type { Carrier, Direction } from '../call/events.ts';
import type { CallRecord, CallStore } from '../store/calls.ts';
import type { AnsweredCall } from './answeredCalls.ts';
import type { CallWrites } from './callWrites.ts';
import { byDeadline } from './deadline.ts';
import type { PlacedContext } from './placedContext.ts';

export interface PlacedCallAnswerDeps {
  calls: CallStore;
  writes: CallWrites;
  /** How long the record is waited for when the context can answer without it. */
  dbWaitMs: number;
  log: { warn(obj: object, msg?: string): void };
}

export interface PlacedCallWebhook {
  carrier: Carrier;
  callSid: string;
  from: string;
  to: string;
  direction: Direction;
  /** The `callId` query parameter, if any. */
  ourId: string | undefined;
  /** The verified context, if the URL had one. */
  context: PlacedContext | undefined;
}

/** The call and its AMD claim, or a refusal: the call was answered under another carrier call id. */
export type PlacedCallAnswer = { call: AnsweredCall; amd: '' | 'off' } | { refuse: 'other-carrier-call' };

/**
 * The record of a placed call whose webhook brought a verified context, if the database answers within
 * `dbWaitMs` (undefined otherwise: the answer comes from the context). The read goes on behind a late
 * answer: when the record arrives it is kept in memory for the stream's start, which reads the call's
 * variables, flow version and campaign policy from it.
 */
async function recordWithin(deps: PlacedCallAnswerDeps, context: PlacedContext, callSid: string): Promise<CallRecord | 'other-carrier-call' | undefined> {
  const { calls } = deps;
  const deadline = performance.now() + deps.dbWaitMs;
  const reading = calls.get(context.callId).then(
    (record) => {
      const ours = record !== null && record.direction === 'outbound' && record.carrier === context.carrier ? record : null;
      if (ours !== null && (ours.carrierCallId ?? callSid) === callSid) calls.placed?.remember({ ...ours, carrierCallId: callSid });
      return ours;
    },
    // A database that refuses connections (stopped) answers from the context, like a stalled one.
    () => undefined,
  );
  const record = await byDeadline(reading, deadline, undefined);
  if (record === undefined || record === null) return undefined;
  return (record.carrierCallId ?? callSid) === callSid ? record : 'other-carrier-call';
}

export async function answerPlacedCall(deps: PlacedCallAnswerDeps, hook: PlacedCallWebhook): Promise<PlacedCallAnswer> {
  const { calls } = deps;
  const { carrier, callSid, ourId, context } = hook;
  const remembered = ourId !== undefined ? calls.placed?.get(ourId) : undefined;
  if (remembered !== undefined && remembered.carrier === carrier && (remembered.carrierCallId ?? callSid) === callSid) {
    if (remembered.carrierCallId === null) {
      calls.placed?.remember({ ...remembered, carrierCallId: callSid });
      noteCarrierCallId(deps, remembered.id, callSid);
    }
    return { call: remembered, amd: remembered.metadata.amd === false ? 'off' : '' };
  }
  if (context !== undefined) {
    const found = await recordWithin(deps, context, callSid);
    if (found === 'other-carrier-call') return { refuse: found };
    if (found === undefined) deps.log.warn({ carrier, callId: context.callId }, 'database slow: answering a placed call from its signed context');
    if (found === undefined || found.carrierCallId === null) noteCarrierCallId(deps, context.callId, callSid);
    const call: AnsweredCall = found ?? { id: context.callId, fromNumber: hook.from, toNumber: hook.to, direction: context.direction, flowId: context.flowId || null, endedAt: null };
    return { call, amd: context.amd ? '' : 'off' };
  }
  // No context (a call placed before the upgrade, or not by us): the database decides, as before.
  const ours = ourId !== undefined && /^[0-9a-f-]{36}$/.test(ourId) ? ourId : undefined;
  let record = ours === undefined ? null : await calls.findByCarrierCallId(carrier, callSid);
  if (record === null && ours !== undefined) {
    const placed = await calls.get(ours);
    if (placed !== null && placed.direction === 'outbound' && placed.carrier === carrier) record = await calls.setCarrierCallId(ours, callSid);
  }
  if (record !== null) return { call: record, amd: record.metadata.amd === false ? 'off' : '' };
  // Not ours to look up: create is idempotent on the carrier's call id, so a retried webhook gets the
  // existing record back from the same statement (one round trip, not a read and then a write).
  const created = await calls.create({ carrier, carrierCallId: callSid, direction: hook.direction, fromNumber: hook.from, toNumber: hook.to, status: 'ringing' });
  return { call: created.call, amd: !created.created && created.call.metadata.amd === false ? 'off' : '' };
}

/** Noted durably behind the answer (ordered before every later write about the call). */
function noteCarrierCallId(deps: PlacedCallAnswerDeps, callId: string, callSid: string): void {
  void deps.writes.enqueue(callId, 'noting the carrier call id', async () => {
    await deps.calls.setCarrierCallId(callId, callSid);
  });
}
