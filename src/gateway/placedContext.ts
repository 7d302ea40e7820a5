// The signed context of an outbound call we placed, carried in the webhook URLs we give the carrier
// (`/voice/{carrier}?callId=…&ctx=…`, and the same on `/status/{carrier}`). It holds what the voice
// webhook's answer needs — carrier, direction, flow id, AMD choice — so the webhook is answered on any
// process (another cluster worker, another instance behind the load balancer) and while the database
// is stalled or down, without reading the call's record first. The call's variables are not in it
// (they can be kilobytes, and URLs are logged by proxies): the stream's start reads them.
//
// The carrier's request signature (X-Twilio-Signature / X-SignalWire-Signature) already covers the whole
// URL, query included; our own HMAC makes the context stand on its own (local unsigned mode, a carrier
// auth token that leaked) and lets it expire. The key is derived from the stream token secret
// (STREAM_TOKEN_SECRET, shared by every instance) with its own label, so a context and a stream
// token can never stand in for each other.
//
// Wire form: `<payload>.<mac>`, both base64url; payload is the JSON {c: carrier, d: 'o'|'i',
// f: flowId, a: 0|1 (AMD on), e: expiry in seconds since the epoch}; mac = HMAC-SHA256(key,
// "<callId>\n<payload>") — the call id travels in its own `callId` parameter (calls placed before
// the context existed have only that one) and is bound by the MAC.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Carrier, Direction } from '../call/events.ts';
import { isCarrier } from '../telephony/serializers.ts';

/** The query parameter that carries the context. */
export const CONTEXT_PARAM = 'ctx';

/**
 * How long a context is good for on top of the ring timeout: the carrier fetches the voice webhook
 * within the ring timeout of placing the call, but a carrier's queue, a retried webhook or a clock a
 * little off must not turn a call someone picked up into an application error.
 */
export const CONTEXT_GRACE_S = 3600;

export interface PlacedContext {
  callId: string;
  carrier: Carrier;
  direction: Direction;
  /** The flow the call runs ('' = route by number). */
  flowId: string;
  /** Answering-machine detection on. */
  amd: boolean;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export type ContextVerdict =
  | { ok: true; context: PlacedContext }
  | { ok: false; reason: 'invalid' | 'expired' | 'carrier'; detail: string };

interface Payload {
  c: string;
  d: string;
  f: string;
  a: number;
  e: number;
}

const LABEL = 'gateway placed-call webhook context v1';
/** Flow ids are short (the flow schema allows 64 characters); a longer context is not ours. */
const MAX_CONTEXT_LENGTH = 400;

function contextKey(secret: string): Buffer {
  return createHmac('sha256', secret).update(LABEL).digest();
}

function mac(key: Buffer, callId: string, payload: string): string {
  return createHmac('sha256', key).update(`${callId}\n${payload}`).digest('base64url');
}

/** The context's wire form for the `ctx` parameter. */
export function signPlacedContext(secret: string, context: PlacedContext): string {
  const body: Payload = { c: context.carrier, d: context.direction === 'outbound' ? 'o' : 'i', f: context.flowId, a: context.amd ? 1 : 0, e: context.expiresAt };
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${payload}.${mac(contextKey(secret), context.callId, payload)}`;
}

function decode(payload: string): Payload | undefined {
  try {
    const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<Payload> | null;
    if (p === null || typeof p !== 'object') return undefined;
    if (typeof p.c !== 'string' || (p.d !== 'o' && p.d !== 'i') || typeof p.f !== 'string' || (p.a !== 0 && p.a !== 1) || !Number.isInteger(p.e)) return undefined;
    return p as Payload;
  } catch {
    return undefined;
  }
}

/**
 * Checks a context for the call id beside it and the carrier whose route received it: our MAC
 * (constant-time), then the carrier, then the expiry (`checkExpiry: false` for status callbacks,
 * which keep coming for as long as a call lasts). The reasons name what is wrong for the error.
 */
export function verifyPlacedContext(secret: string, callId: string | undefined, carrier: Carrier, ctx: string, opts: { checkExpiry?: boolean; nowS?: number } = {}): ContextVerdict {
  if (callId === undefined || callId === '') return { ok: false, reason: 'invalid', detail: 'it comes without its callId parameter' };
  const dot = ctx.indexOf('.');
  if (ctx.length > MAX_CONTEXT_LENGTH || dot <= 0) return { ok: false, reason: 'invalid', detail: 'it is not <payload>.<signature>' };
  const payload = ctx.slice(0, dot);
  const expected = Buffer.from(mac(contextKey(secret), callId, payload));
  const given = Buffer.from(ctx.slice(dot + 1));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid', detail: 'its signature does not match (altered, for another call, or signed with another STREAM_TOKEN_SECRET)' };
  const p = decode(payload);
  if (p === undefined || !isCarrier(p.c)) return { ok: false, reason: 'invalid', detail: 'its payload is malformed' };
  if (p.c !== carrier) return { ok: false, reason: 'carrier', detail: `it was issued for ${p.c}, not ${carrier}` };
  if (opts.checkExpiry !== false && p.e < (opts.nowS ?? Date.now() / 1000)) return { ok: false, reason: 'expired', detail: `it expired at ${new Date(p.e * 1000).toISOString()}` };
  return { ok: true, context: { callId, carrier: p.c, direction: p.d === 'o' ? 'outbound' : 'inbound', flowId: p.f, amd: p.a === 1, expiresAt: p.e } };
}

/** The voice webhook and status callback URLs of a call we place, each with its id and signed context. */
export function placedCallUrls(origin: string, secret: string, context: PlacedContext): { url: string; statusCallback: string } {
  const query = new URLSearchParams({ callId: context.callId, [CONTEXT_PARAM]: signPlacedContext(secret, context) }).toString();
  return { url: `${origin}/voice/${context.carrier}?${query}`, statusCallback: `${origin}/status/${context.carrier}?${query}` };
}
