// The per-call stream token. The voice webhook (authenticated by the carrier's signature) puts it in
// the TwiML's <Parameter>s; the carrier hands it back in the stream's `start` (or, for SignalWire, as
// the upgrade's Bearer token). It binds the call id and what the session needs about the call, so a
// websocket without a token we issued never gets its audio processed. It also binds the carrier and
// the carrier's call id (which `start` carries and the REST hang-up/transfer then acts on), so a token
// cannot be moved to another carrier call. Single use and refusal of ended calls: streamTokenLedger.ts.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Carrier, Direction } from './events.ts';

/** The carrier connects within seconds of the webhook's answer; a token is good for one minute. */
export const STREAM_TOKEN_TTL_S = 60;

export interface StreamClaims {
  callId: string;
  carrier: Carrier;
  carrierCallId: string;
  from: string;
  to: string;
  direction: Direction;
  /** Flow to run ('' = resolve by number). */
  flowId: string;
  /** 'off' when the call was placed with AMD turned off; '' for the default. */
  amd: '' | 'off';
  /** Seconds since the epoch. */
  expiresAt: number;
}

const FIELDS = ['callId', 'carrier', 'carrierCallId', 'from', 'to', 'direction', 'flowId', 'amd'] as const;

function mac(secret: string, claims: StreamClaims): string {
  const h = createHmac('sha256', secret);
  for (const f of FIELDS) h.update(`${claims[f].length}:${claims[f]}|`);
  h.update(String(claims.expiresAt));
  return h.digest('base64url');
}

export function signStreamToken(secret: string, claims: StreamClaims): string {
  return `${claims.expiresAt}.${mac(secret, claims)}`;
}

/** The claims travel as stream parameters; the token proves we issued them and they are fresh. */
export function verifyStreamToken(secret: string, token: string | undefined, claims: Omit<StreamClaims, 'expiresAt'>, nowS = Date.now() / 1000): boolean {
  if (token === undefined) return false;
  const dot = token.indexOf('.');
  if (dot <= 0) return false;
  const expiresAt = Number(token.slice(0, dot));
  if (!Number.isInteger(expiresAt) || expiresAt < nowS) return false;
  const expected = Buffer.from(mac(secret, { ...claims, expiresAt }));
  const given = Buffer.from(token.slice(dot + 1));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The claims a stream's `start` carries as parameters; carrier and carrier call id come from the stream itself. */
export type ParameterClaims = Omit<StreamClaims, 'expiresAt' | 'carrier' | 'carrierCallId'>;

/** Expiry (seconds since the epoch) a well-formed token states, or undefined. */
export function tokenExpiry(token: string): number | undefined {
  const n = Number(token.slice(0, token.indexOf('.')));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Stream parameters for the claims, as they go into <Parameter>s (each value well under 500 chars). */
export function streamParameters(secret: string, claims: StreamClaims): Record<string, string> {
  return {
    callId: claims.callId,
    from: claims.from,
    to: claims.to,
    direction: claims.direction,
    flowId: claims.flowId,
    amd: claims.amd,
    token: signStreamToken(secret, claims),
  };
}

/**
 * The parameters a call's flow and agent may see: everything but the token (a flow variable ends up
 * in templates, HTTP requests and LLM prompts, and the token is a credential).
 */
export function publicParameters(p: Record<string, string>): Record<string, string> {
  const { token: _token, ...rest } = p;
  return rest;
}

export function claimsFromParameters(p: Record<string, string>): ParameterClaims | undefined {
  const { callId, from, to, direction, flowId, amd } = p;
  if (callId === undefined || from === undefined || to === undefined || flowId === undefined) return undefined;
  if (direction !== 'inbound' && direction !== 'outbound') return undefined;
  if (amd !== undefined && amd !== '' && amd !== 'off') return undefined;
  return { callId, from, to, direction, flowId, amd: amd ?? '' };
}
