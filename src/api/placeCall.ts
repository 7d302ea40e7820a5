// Placing an outbound call, shared by POST /v1/calls and the campaign dialer: the call record exists
// before the carrier is asked (so its webhook finds it by our id), the voice webhook and status
// callbacks point back at the gateway with the call's id and signed context (gateway/placedContext.ts:
// whichever process the webhook lands on answers it without the database), and the three ways it can go are told apart — placed, rejected
// (the record is ended as failed), or uncertain (the carrier timed out after the request was sent:
// the call may ring, so nobody may retry it blindly).
import type { Carrier } from '../call/events.ts';
import type { Config } from '../config.ts';
import { GatewayError } from '../errors.ts';
import type { CallStore } from '../store/calls.ts';
import type { CarrierRestClient } from '../telephony/rest.ts';
import { CONTEXT_GRACE_S, placedCallUrls } from '../gateway/placedContext.ts';

export interface PlaceCallRequest {
  /** Our call id (default: a new UUID). */
  id?: string;
  carrier: Carrier;
  to: string;
  from: string;
  flowId: string;
  /** A stored version of the flow to run (null/absent: the latest when the call starts). */
  flowVersion?: number | null;
  variables: Record<string, unknown>;
  amd: boolean;
  timeoutS: number;
  /** Extra fields for the record's metadata (e.g. the campaign attempt). */
  metadata?: Record<string, unknown>;
}

export type PlaceCallResult =
  | { kind: 'placed'; callId: string; carrierCallId: string; status: string }
  | { kind: 'rejected'; callId: string; error: GatewayError }
  | { kind: 'uncertain'; callId: string; error: GatewayError };

export interface PlaceCallDeps {
  config: Pick<Config, 'publicUrl'>;
  calls: CallStore;
  client: CarrierRestClient;
  /** The stream token secret (shared by every instance): signs the webhook URLs' context. */
  streamTokenSecret: string;
  /** Told when noting the carrier's id failed (the webhook fills it in later). */
  onNoteFailed?: (err: unknown, callId: string) => void;
}

export async function placeOutboundCall(deps: PlaceCallDeps, req: PlaceCallRequest): Promise<PlaceCallResult> {
  const { call } = await deps.calls.create({
    ...(req.id === undefined ? {} : { id: req.id }),
    carrier: req.carrier,
    direction: 'outbound',
    fromNumber: req.from,
    toNumber: req.to,
    status: 'queued',
    flowId: req.flowId,
    flowVersion: req.flowVersion ?? null,
    metadata: { ...req.metadata, variables: req.variables, amd: req.amd },
  });
  const { url, statusCallback } = placedCallUrls(deps.config.publicUrl.origin, deps.streamTokenSecret, {
    callId: call.id,
    carrier: req.carrier,
    direction: 'outbound',
    flowId: req.flowId,
    amd: req.amd,
    expiresAt: Math.floor(Date.now() / 1000) + req.timeoutS + CONTEXT_GRACE_S,
  });
  let placed;
  try {
    placed = await deps.client.createCall({
      to: req.to,
      from: req.from,
      url,
      statusCallback,
      timeoutS: req.timeoutS,
    });
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'GW_ERR_CARRIER_TIMEOUT') return { kind: 'uncertain', callId: call.id, error: err };
    await deps.calls.end({ id: call.id }, 'carrier_rejected', 'failed');
    if (err instanceof GatewayError) return { kind: 'rejected', callId: call.id, error: err };
    throw err;
  }
  // The call is placed: a failure to note the carrier's id now must not report it as failed (the
  // voice webhook fills the id in from our id in its URL).
  await deps.calls.setCarrierCallId(call.id, placed.sid).catch((err: unknown) => deps.onNoteFailed?.(err, call.id));
  return { kind: 'placed', callId: call.id, carrierCallId: placed.sid, status: placed.status };
}
