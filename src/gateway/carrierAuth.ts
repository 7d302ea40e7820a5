// Authenticating what carriers send us. Webhooks carry X-Twilio-Signature / X-SignalWire-Signature
// (HMAC-SHA1 over the public URL and the POST parameters, or over the URL with bodySHA256 for JSON
// bodies). The URL is the one the carrier called: our PUBLIC_URL plus the path and query received.
import type { FastifyRequest } from 'fastify';
import type { Carrier } from '../call/events.ts';
import type { Config } from '../config.ts';
import { signatureHeaderFor, validateSignature, validateSignatureWithBody, type SignedParams } from '../telephony/signature.ts';

export function carrierSigningKey(config: Config, carrier: Carrier): string | undefined {
  return carrier === 'twilio' ? config.carriers.twilio?.authToken : config.carriers.signalwire?.signingKey;
}

/** The URL as the carrier addressed it (scheme and host from PUBLIC_URL, path and query as received). */
export function publicRequestUrl(config: Config, request: FastifyRequest, websocket = false): string {
  const origin = config.publicUrl.origin;
  return `${websocket ? origin.replace(/^http/, 'ws') : origin}${request.url}`;
}

export type AuthVerdict = 'signed' | 'unsigned-local' | 'forged' | 'missing' | 'no-credentials';

/** Verify a webhook. Without credentials for the carrier it is accepted only in local mode. */
export function verifyWebhook(config: Config, carrier: Carrier, request: FastifyRequest, params: SignedParams, rawBody: string, isJson: boolean): AuthVerdict {
  const key = carrierSigningKey(config, carrier);
  const header = request.headers[signatureHeaderFor(carrier)] ?? (carrier === 'signalwire' ? request.headers['x-twilio-signature'] : undefined);
  const signature = Array.isArray(header) ? header[0] : header;
  if (key === undefined) return config.localUnauthenticated ? 'unsigned-local' : 'no-credentials';
  if (signature === undefined || signature === '') return 'missing';
  const url = publicRequestUrl(config, request);
  const ok = isJson ? validateSignatureWithBody(key, signature, url, rawBody) : validateSignature(key, signature, url, params);
  return ok ? 'signed' : 'forged';
}

/** A websocket upgrade signed by Twilio (X-Twilio-Signature over the wss URL, no params). */
export function verifySignedUpgrade(config: Config, carrier: Carrier, request: FastifyRequest): boolean {
  const key = carrierSigningKey(config, carrier);
  const header = request.headers[signatureHeaderFor(carrier)];
  const signature = Array.isArray(header) ? header[0] : header;
  if (key === undefined || signature === undefined) return false;
  return validateSignature(key, signature, publicRequestUrl(config, request, true), {});
}
