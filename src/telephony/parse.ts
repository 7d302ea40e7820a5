// Shape checks shared by both dialects. Twilio and SignalWire stream messages have the same skeleton
// (event + a body object named after it); the dialect files pass in what differs. Nothing here throws:
// malformed input becomes `{ type: 'invalid', reason }`, an event we do not know `{ type: 'unknown' }`.
import type { GatewayMessage, InboundEvent, MediaEncoding } from './types.ts';

export type JsonObject = Record<string, unknown>;

export interface InboundDialectRules {
  /** DTMF digits the carrier documents (Twilio: 0-9 * #; SignalWire adds A-D). */
  dtmfDigits: RegExp;
  /** Sample rates each encoding may use (Twilio: mu-law 8 kHz only). */
  sampleRates: Readonly<Record<MediaEncoding, readonly number[]>>;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function parseJsonObject(text: string): JsonObject | string {
  if (typeof text !== 'string') return 'message is not text';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'message is not valid JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'message is not a JSON object';
  return value as JsonObject;
}

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function optString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Twilio sends counters as JSON strings ("4"); accept numbers too. */
export function toCount(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return undefined;
}

/**
 * Decode a base64 payload; `undefined` when the text is not base64. Buffer.from silently skips junk,
 * so junk shows as a shorter result than the text's length implies — a check that costs nothing per
 * media message, where a validating regex was among the media path's top costs. The regex remains
 * for the rare unpadded payload whose expected length cannot be derived this way.
 */
export function decodeBase64(b64: string): Uint8Array | undefined {
  const len = b64.length;
  if (len % 4 === 1) return undefined;
  const bytes = Buffer.from(b64, 'base64');
  if (len % 4 === 0) {
    const padding = len === 0 ? 0 : b64.charCodeAt(len - 1) === 61 ? (b64.charCodeAt(len - 2) === 61 ? 2 : 1) : 0;
    return bytes.length === (len / 4) * 3 - padding ? bytes : undefined;
  }
  return BASE64.test(b64) ? bytes : undefined;
}

function invalid(reason: string): InboundEvent {
  return { type: 'invalid', reason };
}

/** A well-formed start whose audio the gateway cannot take: the stream is refused as unsupported. */
function unsupported(reason: string): InboundEvent {
  return { type: 'invalid', reason, unsupportedMediaFormat: true };
}

export function parseInbound(text: string, rules: InboundDialectRules): InboundEvent {
  const msg = parseJsonObject(text);
  if (typeof msg === 'string') return invalid(msg);
  return parseInboundObject(msg, rules);
}

export function parseInboundObject(msg: JsonObject, rules: InboundDialectRules): InboundEvent {
  const event = msg.event;
  if (typeof event !== 'string') return invalid('message has no "event" string');
  const sequenceNumber = toCount(msg.sequenceNumber);
  const topStreamId = optString(msg.streamSid);
  switch (event) {
    case 'connected':
      return { type: 'connected', protocol: optString(msg.protocol) ?? '', version: optString(msg.version) ?? '' };
    case 'start':
      return parseStart(msg, sequenceNumber, topStreamId, rules);
    case 'media':
      return parseMedia(msg, sequenceNumber, topStreamId);
    case 'dtmf': {
      const body = msg.dtmf;
      if (!isObject(body)) return invalid('dtmf message has no "dtmf" object');
      const digit = body.digit;
      if (typeof digit !== 'string' || !rules.dtmfDigits.test(digit)) return invalid('dtmf message has no valid digit');
      const duration = body.duration === undefined ? undefined : toCount(body.duration);
      if (body.duration !== undefined && duration === undefined) return invalid('dtmf duration is not a number');
      return { type: 'dtmf', sequenceNumber, streamId: topStreamId, digit, track: optString(body.track), durationMs: duration };
    }
    case 'mark': {
      const body = msg.mark;
      if (!isObject(body) || typeof body.name !== 'string') return invalid('mark message has no "mark.name" string');
      return { type: 'mark', sequenceNumber, streamId: topStreamId, name: body.name };
    }
    case 'stop': {
      // SignalWire's stop is just {"event":"stop","sequenceNumber":"…"}; Twilio's carries the call ids.
      const body = isObject(msg.stop) ? msg.stop : undefined;
      return {
        type: 'stop',
        sequenceNumber,
        streamId: topStreamId,
        accountId: optString(body?.accountSid),
        carrierCallId: optString(body?.callSid),
      };
    }
    default:
      return { type: 'unknown', event };
  }
}

function parseStart(msg: JsonObject, sequenceNumber: number | undefined, topStreamId: string | undefined, rules: InboundDialectRules): InboundEvent {
  const start = msg.start;
  if (!isObject(start)) return invalid('start message has no "start" object');
  const streamId = optString(start.streamSid) ?? topStreamId;
  if (!streamId) return invalid('start message has no streamSid');
  const carrierCallId = optString(start.callSid);
  if (!carrierCallId) return invalid('start message has no callSid');
  const fmt = start.mediaFormat;
  if (!isObject(fmt)) return invalid('start message has no mediaFormat');
  const encoding = fmt.encoding;
  // The one check of the media format (the gateway takes what the dialect's rules list, mono only).
  if (encoding !== 'audio/x-mulaw' && encoding !== 'audio/x-L16') return unsupported(`unsupported media encoding ${JSON.stringify(encoding)}`);
  const sampleRateHz = toCount(fmt.sampleRate);
  if (sampleRateHz === undefined || !rules.sampleRates[encoding].includes(sampleRateHz)) {
    return unsupported(`unsupported sample rate ${JSON.stringify(fmt.sampleRate)} for ${encoding}`);
  }
  const channels = fmt.channels === undefined ? 1 : toCount(fmt.channels);
  if (channels === undefined || channels < 1) return invalid('mediaFormat.channels is not a positive number');
  if (channels !== 1) return unsupported(`unsupported channel count ${channels} (mono only)`);
  let tracks: string[] = ['inbound'];
  if (start.tracks !== undefined) {
    if (!Array.isArray(start.tracks) || !start.tracks.every((t) => typeof t === 'string')) return invalid('start.tracks is not a list of strings');
    tracks = start.tracks;
  }
  // SignalWire documents customParameters as present only when <Parameter>s were given.
  const customParameters: Record<string, string> = {};
  if (start.customParameters !== undefined) {
    if (!isObject(start.customParameters)) return invalid('start.customParameters is not an object');
    for (const [k, v] of Object.entries(start.customParameters)) {
      if (typeof v !== 'string') return invalid(`customParameters.${k} is not a string`);
      customParameters[k] = v;
    }
  }
  return {
    type: 'start',
    sequenceNumber,
    streamId,
    carrierCallId,
    accountId: optString(start.accountSid) ?? '',
    tracks,
    mediaFormat: { encoding, sampleRateHz, channels },
    customParameters,
  };
}

function parseMedia(msg: JsonObject, sequenceNumber: number | undefined, topStreamId: string | undefined): InboundEvent {
  const media = msg.media;
  if (!isObject(media)) return invalid('media message has no "media" object');
  const payloadBase64 = media.payload;
  if (typeof payloadBase64 !== 'string') return invalid('media message has no payload string');
  const payload = decodeBase64(payloadBase64);
  if (!payload) return invalid('media payload is not base64');
  const chunk = toCount(media.chunk);
  if (chunk === undefined) return invalid('media message has no chunk number');
  const timestampMs = toCount(media.timestamp);
  if (timestampMs === undefined) return invalid('media message has no timestamp');
  return { type: 'media', sequenceNumber, streamId: topStreamId, track: optString(media.track) ?? 'inbound', chunk, timestampMs, payload, payloadBase64 };
}

/** Carrier side: what a gateway sends (media, mark, clear, and SignalWire's dtmf injection). */
export function parseGatewayText(text: string, dtmfDigits: RegExp | undefined): GatewayMessage {
  const msg = parseJsonObject(text);
  if (typeof msg === 'string') return { type: 'invalid', reason: msg };
  const event = msg.event;
  if (typeof event !== 'string') return { type: 'invalid', reason: 'message has no "event" string' };
  const streamId = optString(msg.streamSid);
  switch (event) {
    case 'media': {
      const media = msg.media;
      if (!isObject(media) || typeof media.payload !== 'string') return { type: 'invalid', reason: 'media message has no "media.payload" string' };
      const payload = decodeBase64(media.payload);
      if (!payload) return { type: 'invalid', reason: 'media payload is not base64' };
      return { type: 'media', streamId, payload };
    }
    case 'mark': {
      const mark = msg.mark;
      if (!isObject(mark) || typeof mark.name !== 'string') return { type: 'invalid', reason: 'mark message has no "mark.name" string' };
      return { type: 'mark', streamId, name: mark.name };
    }
    case 'clear':
      return { type: 'clear', streamId };
    case 'dtmf': {
      if (!dtmfDigits) return { type: 'unknown', event };
      const dtmf = msg.dtmf;
      if (!isObject(dtmf) || typeof dtmf.digit !== 'string' || !dtmfDigits.test(dtmf.digit)) {
        return { type: 'invalid', reason: 'dtmf message has no valid "dtmf.digit"' };
      }
      return { type: 'dtmf', streamId, digit: dtmf.digit };
    }
    default:
      return { type: 'unknown', event };
  }
}
