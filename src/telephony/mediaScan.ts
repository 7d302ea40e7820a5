// The fast path of the inbound parser: recognises a well-formed `"event":"media"` message straight from
// the websocket's bytes and decodes its base64 payload into a buffer the stream owns — no UTF-8 string
// of the message, no JSON.parse object tree, no Buffer per message. Media messages are ~99.9% of what a
// carrier sends (50 a second per call), so this is where per-message allocation matters.
//
// It is deliberately narrow. It accepts only what it can decode exactly as JSON.parse + parseInbound
// would (any field order, any JSON whitespace, unknown fields with plain scalar values) and answers
// `false` for anything else — another event, escapes in a string, non-ASCII, a duplicate field, nested
// unknown values, a decimal counter, a base64 variant or a malformed message. The caller then runs the
// full parser, so every other message and every error stays exactly what it was.
import type { InboundEvent } from './types.ts';

/**
 * The fields of one media message (the `media` event's, without its base64 copy), overwritten by each
 * scan (the stream's parser owns one). `payload` is a view of the scanner's buffer and `streamId` is read from the
 * scanned message when asked (the scanner keeps a reference to it): both are valid until the next scan.
 */
export type ScannedMedia = Omit<Extract<InboundEvent, { type: 'media' }>, 'type' | 'payloadBase64'>;

// Byte codes.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const EQUALS = 0x3d;

/** base64 alphabet → 6-bit value; 255 for anything else ('=' is handled apart; '-' and '_' fall back). */
const B64 = new Uint8Array(256).fill(255);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
/** The same values shifted into place for each position of a quad (18, 12, 6, 0 bits); -1 outside the alphabet. */
function shifted(by: number): Int32Array {
  const t = new Int32Array(256).fill(-1);
  for (let c = 0; c < 256; c++) if ((B64[c] as number) <= 63) t[c] = (B64[c] as number) << by;
  return t;
}
const Q0 = shifted(18);
const Q1 = shifted(12);
const Q2 = shifted(6);
const Q3 = shifted(0);

/** 1 for the bytes a plain string may hold as they are: printable ASCII but the quote and the backslash. */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) if (c !== QUOTE && c !== BACKSLASH) PLAIN[c] = 1;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Largest integer a counter may spell out digit by digit and still be exact (15 digits). */
const MAX_DIGITS = 15;

// Scratch registers of the scan (set and read within one synchronous scan, never across calls): where
// the last plain string's content lies ([start, end) in bytes), whether the last separator closed its
// object, the last counter's value and the last payload's decoded length.
let strStart = 0;
let closed = false;
let strEnd = 0;
let num = 0;
/** Bytes decoded by the last decodeBase64String. */
let decoded = 0;

/**
 * One scan's result. The stream id is read from the message's bytes only when asked for: the gateway
 * takes the payload of a media message and nothing else, and comparing the id's bytes with the last
 * one was a tenth of the scan.
 */
class Scanned implements ScannedMedia {
  sequenceNumber: number | undefined = undefined;
  track = 'inbound';
  chunk = 0;
  timestampMs = 0;
  payload: Uint8Array;
  /** The message scanned last and where its stream id lies in it (start < 0: it had none). */
  bytes: Uint8Array | undefined = undefined;
  idStart = -1;
  idEnd = -1;
  /** The last stream id read, so that the same bytes give the same string without a new one. */
  private lastStreamId = '';

  constructor(payload: Uint8Array) {
    this.payload = payload;
  }

  get streamId(): string | undefined {
    const bytes = this.bytes;
    if (bytes === undefined || this.idStart < 0) return undefined;
    if (!equals(bytes, this.idStart, this.idEnd, this.lastStreamId)) this.lastStreamId = ascii(bytes, this.idStart, this.idEnd);
    return this.lastStreamId;
  }
}

export class MediaScanner {
  private buf = new Uint8Array(160);
  private view = this.buf.subarray(0, 160);
  private readonly out = new Scanned(this.view);
  /** The last track seen, so that the same bytes give the same string without a new one. */
  private lastTrack = 'inbound';

  /**
   * The media message in `bytes`, or undefined when it is not one this scanner is sure about (then
   * parse the message in full). The result and its payload are reused by the next call.
   */
  scan(bytes: Uint8Array): ScannedMedia | undefined {
    const n = bytes.length;
    let i = skipWs(bytes, 0);
    if (bytes[i] !== OPEN) return undefined;
    i = skipWs(bytes, i + 1);
    let seen = 0; // bit set of the top-level fields read: 1 event, 2 sequenceNumber, 4 streamSid, 8 media
    let seq: number | undefined;
    let idStart = -1;
    let idEnd = -1;
    let media = false;
    if (bytes[i] === CLOSE) return undefined;
    for (;;) {
      i = readString(bytes, i);
      if (i < 0) return undefined;
      const ks = strStart;
      const ke = strEnd;
      i = skipWs(bytes, i);
      if (bytes[i] !== COLON) return undefined;
      i = skipWs(bytes, i + 1);
      let bit = 0;
      if (equals(bytes, ks, ke, 'event')) {
        bit = 1;
        i = readString(bytes, i);
        if (i < 0 || !equals(bytes, strStart, strEnd, 'media')) return undefined;
      } else if (equals(bytes, ks, ke, 'sequenceNumber')) {
        bit = 2;
        i = readCount(bytes, i);
        if (i < 0) return undefined;
        seq = num;
      } else if (equals(bytes, ks, ke, 'streamSid')) {
        bit = 4;
        i = readString(bytes, i);
        if (i < 0) return undefined;
        idStart = strStart;
        idEnd = strEnd;
      } else if (equals(bytes, ks, ke, 'media')) {
        bit = 8;
        i = this.scanMediaBody(bytes, i);
        if (i < 0) return undefined;
        media = true;
      } else {
        i = skipScalar(bytes, i);
        if (i < 0) return undefined;
      }
      if (bit !== 0) {
        // JSON.parse keeps the last of duplicate keys; rather than mimic that, let it decide.
        if ((seen & bit) !== 0) return undefined;
        seen |= bit;
      }
      i = separator(bytes, i);
      if (i < 0) return undefined;
      if (closed) break;
    }
    i = skipWs(bytes, i);
    if (i !== n || (seen & 1) === 0 || !media) return undefined;
    const out = this.out;
    out.sequenceNumber = seq;
    out.bytes = bytes;
    out.idStart = idStart;
    out.idEnd = idEnd;
    return out;
  }

  /** The `media` object: payload, chunk and timestamp required, track optional. Returns the index after it or -1. */
  private scanMediaBody(bytes: Uint8Array, from: number): number {
    let i = from;
    if (bytes[i] !== OPEN) return -1;
    i = skipWs(bytes, i + 1);
    if (bytes[i] === CLOSE) return -1;
    let seen = 0; // 1 payload, 2 chunk, 4 timestamp, 8 track
    let track = 'inbound';
    let payloadLength = -1;
    for (;;) {
      i = readString(bytes, i);
      if (i < 0) return -1;
      const ks = strStart;
      const ke = strEnd;
      i = skipWs(bytes, i);
      if (bytes[i] !== COLON) return -1;
      i = skipWs(bytes, i + 1);
      let bit = 0;
      if (equals(bytes, ks, ke, 'payload')) {
        bit = 1;
        i = this.decodeBase64String(bytes, i);
        if (i < 0) return -1;
        payloadLength = decoded;
      } else if (equals(bytes, ks, ke, 'chunk')) {
        bit = 2;
        i = readCount(bytes, i);
        if (i < 0) return -1;
        this.out.chunk = num;
      } else if (equals(bytes, ks, ke, 'timestamp')) {
        bit = 4;
        i = readCount(bytes, i);
        if (i < 0) return -1;
        this.out.timestampMs = num;
      } else if (equals(bytes, ks, ke, 'track')) {
        bit = 8;
        i = readString(bytes, i);
        if (i < 0) return -1;
        track = this.trackOf(bytes, strStart, strEnd);
      } else {
        i = skipScalar(bytes, i);
        if (i < 0) return -1;
      }
      if (bit !== 0) {
        if ((seen & bit) !== 0) return -1;
        seen |= bit;
      }
      i = separator(bytes, i);
      if (i < 0) return -1;
      if (closed) break;
    }
    if ((seen & 7) !== 7) return -1;
    this.out.track = track;
    if (this.view.length !== payloadLength) this.view = this.buf.subarray(0, payloadLength);
    this.out.payload = this.view;
    return i;
  }

  /**
   * A JSON string of strict base64 (standard alphabet; '=' padding only at the end of a length divisible
   * by 4, or no padding and a length of 4k+2 or 4k+3) decoded into the scanner's buffer. Returns the
   * index after the closing quote (the byte count in `decoded`), or -1 to fall back: anything else in
   * the string — escapes, other characters, padding elsewhere — is not base64 this scanner is sure of.
   */
  private decodeBase64String(bytes: Uint8Array, from: number): number {
    if (bytes[from] !== QUOTE) return -1;
    // The closing quote is the first one: an escaped quote has a backslash before it, which is not
    // base64 and falls back below. Found by the typed array's own search (no per-byte JavaScript).
    const end = bytes.indexOf(QUOTE, from + 1);
    if (end < 0) return -1;
    const p0 = from + 1;
    const len = end - p0;
    let pad = 0;
    if (len >= 4 && bytes[end - 1] === EQUALS) pad = bytes[end - 2] === EQUALS ? 2 : 1;
    if (pad !== 0 && (len & 3) !== 0) return -1;
    const chars = len - pad;
    const r = chars & 3; // characters of the last, partial quad: 0, 2 or 3 (1 cannot be base64)
    if (r === 1) return -1;
    const quads = chars >> 2;
    const size = quads * 3 + (r === 0 ? 0 : r - 1);
    let buf = this.buf;
    if (size > buf.length) buf = this.grow(size);
    let o = 0;
    let p = p0;
    for (let k = 0; k < quads; k++) {
      // One 24-bit group per quad from the shifted tables; any character outside the alphabet is -1
      // in every table, so the OR goes negative.
      const v = (Q0[bytes[p] as number] as number) | (Q1[bytes[p + 1] as number] as number) | (Q2[bytes[p + 2] as number] as number) | (Q3[bytes[p + 3] as number] as number);
      if (v < 0) return -1;
      buf[o] = v >> 16;
      buf[o + 1] = v >> 8;
      buf[o + 2] = v;
      o += 3;
      p += 4;
    }
    if (r !== 0) {
      const v = (Q0[bytes[p] as number] as number) | (Q1[bytes[p + 1] as number] as number) | (r === 3 ? (Q2[bytes[p + 2] as number] as number) : 0);
      if (v < 0) return -1;
      buf[o++] = v >> 16;
      if (r === 3) buf[o++] = v >> 8;
    }
    decoded = o;
    return end + 1;
  }

  /** A larger buffer (at least `size` bytes, doubling) for a payload; nothing in it is kept. */
  private grow(size: number): Uint8Array<ArrayBuffer> {
    let length = this.buf.length * 2;
    while (length < size) length *= 2;
    const bigger = new Uint8Array(length);
    this.buf = bigger;
    this.view = bigger.subarray(0, 0);
    return bigger;
  }

  private trackOf(bytes: Uint8Array, start: number, end: number): string {
    if (!equals(bytes, start, end, this.lastTrack)) this.lastTrack = ascii(bytes, start, end);
    return this.lastTrack;
  }
}

/**
 * After an object member: a comma (returns the index of the next key, closed = false) or the closing
 * brace (returns the index after it, closed = true); -1 for anything else.
 */
function separator(bytes: Uint8Array, from: number): number {
  const i = skipWs(bytes, from);
  const c = bytes[i];
  closed = c === CLOSE;
  if (closed) return i + 1;
  return c === COMMA ? skipWs(bytes, i + 1) : -1;
}

function skipWs(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length && isWhitespace(bytes[i] as number)) i++;
  return i;
}

/**
 * A string of printable ASCII without escapes: sets strStart/strEnd to its content and returns the
 * index after its closing quote, or -1 (escapes, control bytes and non-ASCII are left to JSON.parse).
 */
function readString(bytes: Uint8Array, from: number): number {
  if (bytes[from] !== QUOTE) return -1;
  let i = from + 1;
  while (PLAIN[bytes[i] as number] === 1) i++;
  if (bytes[i] !== QUOTE) return -1;
  strStart = from + 1;
  strEnd = i;
  return i + 1;
}

/** Digits [start, end) with an optional leading minus, as toCount reads them; false when not that shape. */
function digitsValue(bytes: Uint8Array, start: number, end: number, json: boolean): boolean {
  let i = start;
  const neg = bytes[i] === MINUS;
  if (neg) i++;
  const digits = end - i;
  if (digits < 1 || digits > MAX_DIGITS) return false;
  // A JSON number may not have a leading zero (JSON.parse would refuse it); a counter string may.
  if (json && digits > 1 && bytes[i] === ZERO) return false;
  let v = 0;
  for (; i < end; i++) {
    const c = bytes[i] as number;
    if (c < ZERO || c > NINE) return false;
    v = v * 10 + (c - ZERO);
  }
  num = neg ? -v : v;
  return true;
}

/** A counter: an integer as a JSON string ("4", Twilio's way) or a JSON number. Sets num. */
function readCount(bytes: Uint8Array, from: number): number {
  if (bytes[from] === QUOTE) {
    const next = readString(bytes, from);
    return next >= 0 && digitsValue(bytes, strStart, strEnd, false) ? next : -1;
  }
  let i = from;
  while (i < bytes.length && ((bytes[i] as number) === MINUS || ((bytes[i] as number) >= ZERO && (bytes[i] as number) <= NINE))) i++;
  return digitsValue(bytes, from, i, true) ? i : -1;
}

/** Skips an unknown field's value when it is a plain string, an integer, true, false or null; else -1. */
function skipScalar(bytes: Uint8Array, from: number): number {
  const c = bytes[from];
  if (c === QUOTE) return readString(bytes, from);
  if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) return readCount(bytes, from);
  for (const word of ['true', 'false', 'null']) if (equals(bytes, from, from + word.length, word)) return from + word.length;
  return -1;
}

function equals(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length || end > bytes.length) return false;
  for (let k = 0; k < text.length; k++) if (bytes[start + k] !== text.charCodeAt(k)) return false;
  return true;
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}
