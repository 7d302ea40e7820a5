// The carrier's first move: POST the voice webhook as a form, signed like the carrier signs it, and read
// the <Connect><Stream> out of the TwiML/cXML answer.
import { createError } from '../errors.ts';
import { computeSignature, signatureHeaderFor } from '../telephony/signature.ts';
import { parseTwiml, type ParsedTwiml } from '../telephony/twiml.ts';
import type { Carrier } from '../telephony/types.ts';

export interface WebhookRequest {
  carrier: Carrier;
  /** Where to POST (e.g. http://127.0.0.1:3000/voice/twilio). */
  url: string;
  params: Record<string, string>;
  /** Twilio auth token / SignalWire signing key; no signature header without it. */
  authToken?: string;
  /**
   * Origin the gateway believes it is served at (its PUBLIC_URL). The carrier signs the URL it called,
   * i.e. this origin plus our path and query; without it, the URL posted to is signed.
   */
  publicUrl?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface WebhookAnswer {
  status: number;
  body: string;
  twiml: ParsedTwiml;
  /** The URL the signature covers (for the report). */
  signedUrl: string;
  signature: string | undefined;
}

/** The URL the carrier would have signed: the public origin with our path and query. */
export function publicUrlFor(url: string, publicUrl: string | undefined): string {
  if (!publicUrl) return url;
  const target = new URL(url);
  const origin = new URL(publicUrl);
  return `${origin.protocol}//${origin.host}${target.pathname}${target.search}`;
}

export async function postVoiceWebhook(req: WebhookRequest): Promise<WebhookAnswer> {
  const signedUrl = publicUrlFor(req.url, req.publicUrl);
  const signature = req.authToken ? computeSignature(req.authToken, signedUrl, req.params) : undefined;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/xml, application/xml' };
  if (signature) headers[signatureHeaderFor(req.carrier)] = signature;
  const timeout = AbortSignal.timeout(req.timeoutMs ?? 10_000);
  let res: Response;
  let body: string;
  try {
    res = await fetch(req.url, {
      method: 'POST',
      headers,
      body: new URLSearchParams(req.params).toString(),
      signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout,
    });
    body = await res.text();
  } catch (err) {
    if (req.signal?.aborted) throw err;
    throw createError('GW_ERR_REPLAY_WEBHOOK', `voice webhook ${req.url} failed: ${(err as Error).message}; is the gateway running there?`, {
      statusCode: 502,
      retryable: true,
      cause: err,
    });
  }
  if (!res.ok) {
    throw createError('GW_ERR_REPLAY_WEBHOOK', `voice webhook ${req.url} answered ${res.status}: ${body.slice(0, 300)}`, {
      statusCode: 502,
      details: { status: res.status },
    });
  }
  return { status: res.status, body, twiml: parseTwiml(body), signedUrl, signature };
}
