// X-Twilio-Signature / X-SignalWire-Signature: HMAC-SHA1 over the full URL followed by the POST params
// sorted by name, each as name+value, keyed by the auth token (Twilio) or signing key (SignalWire), base64.
// JSON bodies are not in the signed string: the URL carries bodySHA256=<hex sha256 of the raw body>.
// Sources: twilio.com/docs/usage/security; twilio/twilio-node src/webhooks/webhooks.ts (URL variants with
// and without the default port, new URL() normalisation, legacy querystring re-encoding). We also try the
// URL with and without a trailing slash, as the WS upgrade URL may be signed either way (reference/telephony.md).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { parse as parseQuerystring, stringify as stringifyQuerystring } from 'node:querystring';
import type { Carrier } from './types.ts';

export type SignedParams = Readonly<Record<string, string | readonly string[] | undefined>>;

export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';
export const SIGNALWIRE_SIGNATURE_HEADER = 'x-signalwire-signature';

export function signatureHeaderFor(carrier: Carrier): string {
  return carrier === 'twilio' ? TWILIO_SIGNATURE_HEADER : SIGNALWIRE_SIGNATURE_HEADER;
}

/** The expected signature of a request to `url` with form `params` (none for JSON bodies or WS upgrades). */
export function computeSignature(authToken: string, url: string, params: SignedParams = {}): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (value === undefined) continue;
    if (typeof value === 'string') data += key + value;
    // Repeated params: each distinct value once, sorted (twilio-node toFormUrlEncodedParam).
    else for (const v of [...new Set(value)].sort()) data += key + v;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
}

/** Hex SHA-256 of a raw body, the value of the bodySHA256 query parameter. */
export function computeBodyHash(body: string | Uint8Array): string {
  return createHash('sha256').update(typeof body === 'string' ? Buffer.from(body, 'utf-8') : body).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  // The expected length is fixed by the algorithm (28 base64 chars), so the early exit leaks nothing secret.
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

interface UrlParts {
  scheme: string;
  userInfo: string;
  host: string;
  port: string;
  rest: string;
}

// Split without normalising, so the path and query keep the exact characters the carrier signed.
function splitUrl(url: string): UrlParts | null {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!m) return null;
  const authority = m[2] as string;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme: m[1] as string,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(m[0].length),
  };
}

function defaultPort(scheme: string): string {
  const s = scheme.toLowerCase();
  return s === 'https://' || s === 'wss://' ? ':443' : ':80';
}

function withPort(url: string): string {
  const p = splitUrl(url);
  if (!p || p.port) return url;
  return p.scheme + p.userInfo + p.host + defaultPort(p.scheme) + p.rest;
}

function withoutPort(url: string): string {
  const p = splitUrl(url);
  if (!p) return url;
  return p.scheme + p.userInfo + p.host + p.rest;
}

function toggleTrailingSlash(url: string): string {
  const p = splitUrl(url);
  if (!p) return url;
  const cut = p.rest.search(/[?#]/);
  const path = cut === -1 ? p.rest : p.rest.slice(0, cut);
  const tail = cut === -1 ? '' : p.rest.slice(cut);
  const base = p.scheme + p.userInfo + p.host + p.port;
  if (path.endsWith('/')) return base + path.slice(0, -1) + tail;
  return base + path + '/' + tail;
}

function withLegacyQuerystring(url: string): string {
  const q = url.indexOf('?');
  if (q === -1 || q === url.length - 1) return url;
  return url.slice(0, q) + '?' + stringifyQuerystring(parseQuerystring(url.slice(q + 1)));
}

/** Every URL spelling a carrier may have signed for a request we received at `url`. */
export function signatureUrlCandidates(url: string): string[] {
  const asReceived = [withoutPort(url), withPort(url)];
  let normalized: string[] = [];
  try {
    const n = new URL(url).toString();
    normalized = [withoutPort(n), withPort(n), withLegacyQuerystring(withoutPort(n)), withLegacyQuerystring(withPort(n))];
  } catch {
    // Not parseable as a URL: only the as-received spellings can match.
  }
  const base = [...asReceived, ...normalized];
  return [...new Set([...base, ...base.map(toggleTrailingSlash)])];
}

/** Validate a form-encoded webhook (or a WS upgrade, with no params). */
export function validateSignature(authToken: string, signature: string | undefined, url: string, params: SignedParams = {}): boolean {
  if (!authToken || !signature) return false;
  return signatureUrlCandidates(url).some((u) => safeEqual(signature, computeSignature(authToken, u, params)));
}

/** Validate a JSON-bodied webhook: the URL (with bodySHA256) is signed with no params, and the body must hash to it. */
export function validateSignatureWithBody(authToken: string, signature: string | undefined, url: string, rawBody: string | Uint8Array): boolean {
  let bodyHash: string | null;
  try {
    bodyHash = new URL(url).searchParams.get('bodySHA256');
  } catch {
    return false;
  }
  if (!bodyHash) return false;
  return validateSignature(authToken, signature, url, {}) && safeEqual(bodyHash, computeBodyHash(rawBody));
}
