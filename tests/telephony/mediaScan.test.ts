// The media fast path against the full parser (JSON.parse + parseInbound), over thousands of generated
// messages: fields in any order, JSON whitespace, unknown fields, escapes, base64 variants, counters as
// strings or numbers, and malformed bytes. Whatever the scanner accepts must be exactly what the full
// parser makes of it; whatever it declines goes to the full parser, so errors stay the same.
import { describe, expect, it } from 'vitest';
import { createRng as rng } from '../../scripts/fixtures/signal.ts';
import { MediaScanner, type ScannedMedia } from '../../src/telephony/mediaScan.ts';
import { signalwireSerializer } from '../../src/telephony/signalwire.ts';
import { twilioSerializer } from '../../src/telephony/twilio.ts';
import type { InboundEvent } from '../../src/telephony/types.ts';

const WS = [' ', '\n', '\t', '\r\n', '  '];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function shuffle<T>(r: () => number, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
  return xs;
}

/** Serialises [key, json-text] pairs as an object with random whitespace. */
function object(r: () => number, fields: Array<[string, string]>): string {
  const ws = () => (r() < 0.3 ? pick(r, WS) : '');
  return `${ws()}{${ws()}${fields.map(([k, v]) => `${JSON.stringify(k)}${ws()}:${ws()}${v}`).join(`${ws()},${ws()}`)}${ws()}}${ws()}`;
}

function counter(r: () => number, value: number): string {
  const x = r();
  if (x < 0.6) return JSON.stringify(String(value));
  if (x < 0.8) return String(value);
  if (x < 0.85) return JSON.stringify(`00${value}`); // a counter string may have leading zeros
  if (x < 0.9) return `${value}.0`; // a decimal JSON number: declined, parsed in full
  if (x < 0.95) return JSON.stringify(`${value}.5`);
  return `"\\u003${value % 10}"`; // an escape: declined
}

function payload(r: () => number): { text: string; bytes: Buffer } {
  const size = pick(r, [0, 1, 2, 3, 80, 159, 160, 161, 320]);
  const bytes = Buffer.from(Array.from({ length: size }, () => Math.floor(r() * 256)));
  let text = JSON.stringify(bytes.toString('base64'));
  const x = r();
  if (x < 0.05) text = JSON.stringify(bytes.toString('base64').replace(/=+$/, '')); // unpadded
  else if (x < 0.1) text = JSON.stringify(bytes.toString('base64url')); // url alphabet
  else if (x < 0.13) text = text.replace(/\//g, '\\/'); // escaped solidus
  else if (x < 0.16) text = JSON.stringify(`${bytes.toString('base64')}!`); // junk
  else if (x < 0.18) text = JSON.stringify(`A${bytes.toString('base64')}`); // wrong length
  return { text, bytes };
}

/** One media message, mostly well-formed, sometimes with an unusual or broken part. */
function mediaMessage(r: () => number, k: number): string {
  const media: Array<[string, string]> = [];
  if (r() < 0.97) media.push(['payload', payload(r).text]);
  if (r() < 0.97) media.push(['chunk', counter(r, k + 1)]);
  if (r() < 0.97) media.push(['timestamp', counter(r, k * 20)]);
  if (r() < 0.8) media.push(['track', JSON.stringify(pick(r, ['inbound', 'outbound', 'inbound_track', 'ínbound']))]);
  if (r() < 0.1) media.push(['extra', pick(r, ['1', 'true', 'null', '"x"', '{"a":1}', '[1]', '-2', '1e3'])]);
  if (r() < 0.03) media.push(['chunk', counter(r, k + 2)]); // duplicate
  const top: Array<[string, string]> = [];
  if (r() < 0.98) top.push(['event', r() < 0.97 ? '"media"' : pick(r, ['"mark"', '"Media"', '"med\\u0069a"', '5'])]);
  if (r() < 0.8) top.push(['sequenceNumber', counter(r, k + 2)]);
  if (r() < 0.7) top.push(['streamSid', JSON.stringify(pick(r, ['MZ1234567890abcdef', 'MZ1234567890abcdeg', 'é-stream']))]);
  if (r() < 0.05) top.push(['streamSid', pick(r, ['7', 'null'])]);
  if (r() < 0.05) top.push(['other', pick(r, ['"x"', '{"nested":true}', 'false', '12'])]);
  top.push(['media', r() < 0.97 ? object(r, shuffle(r, media)) : pick(r, ['null', '"x"', '[]'])]);
  return object(r, shuffle(r, top));
}

/** Byte-level damage: truncation, a flipped or inserted byte, trailing junk. */
function damage(r: () => number, text: string): string {
  const at = Math.floor(r() * text.length);
  const x = r();
  if (x < 0.3) return text.slice(0, at);
  if (x < 0.6) return text.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + text.slice(at + 1);
  if (x < 0.8) return text.slice(0, at) + pick(r, ['"', '\\', '{', '}', ',', ':', '\u0000', 'é']) + text.slice(at);
  return `${text}${pick(r, ['x', '}', ' {', '\n'])}`;
}

/** The fields the gateway reads of a media event (payloadBase64 is the full parser's extra). */
function fields(ev: InboundEvent): unknown {
  if (ev.type !== 'media') return ev;
  return { type: 'media', sequenceNumber: ev.sequenceNumber, streamId: ev.streamId, track: ev.track, chunk: ev.chunk, timestampMs: ev.timestampMs, payload: [...ev.payload] };
}

function scanned(m: ScannedMedia): unknown {
  return { type: 'media', sequenceNumber: m.sequenceNumber, streamId: m.streamId, track: m.track, chunk: m.chunk, timestampMs: m.timestampMs, payload: [...m.payload] };
}

describe('media fast path vs JSON.parse', () => {
  for (const serializer of [twilioSerializer, signalwireSerializer]) {
    it(`${serializer.carrier}: agrees with the full parser on every message it accepts, over 10000 generated messages`, () => {
      const r = rng(serializer.carrier === 'twilio' ? 1 : 2);
      const scanner = new MediaScanner();
      let accepted = 0;
      for (let k = 0; k < 10_000; k++) {
        let text = mediaMessage(r, k);
        if (r() < 0.15) text = damage(r, text);
        const full = serializer.parse(text);
        const fast = scanner.scan(Buffer.from(text, 'utf8'));
        if (fast !== undefined) {
          accepted++;
          expect(scanned(fast), text).toEqual(fields(full));
        }
      }
      expect(accepted).toBeGreaterThan(1500);
    });
  }

  it('accepts every message with only the usual parts, whatever their order and whitespace', () => {
    const r = rng(3);
    const scanner = new MediaScanner();
    for (let k = 0; k < 5000; k++) {
      const bytes = Buffer.from(Array.from({ length: pick(r, [0, 1, 2, 3, 160, 320]) }, () => Math.floor(r() * 256)));
      const count = (v: number) => (r() < 0.5 ? JSON.stringify(String(v)) : String(v));
      const media: Array<[string, string]> = [['payload', JSON.stringify(bytes.toString('base64'))], ['chunk', count(k + 1)], ['timestamp', count(k * 20)]];
      if (r() < 0.5) media.push(['track', '"inbound"']);
      const top: Array<[string, string]> = [['event', '"media"'], ['media', object(r, shuffle(r, media))]];
      if (r() < 0.5) top.push(['sequenceNumber', count(k)]);
      if (r() < 0.5) top.push(['streamSid', '"MZ00112233"']);
      const text = object(r, shuffle(r, top));
      const fast = scanner.scan(Buffer.from(text));
      expect(fast && scanned(fast), text).toEqual(fields(twilioSerializer.parse(text)));
    }
  });

  it('accepts what carriers send, in any field order and with any whitespace', () => {
    const bytes = Buffer.from([0xff, 0x7f, 0x00, 0x80, 0x12]);
    const b64 = bytes.toString('base64');
    const scanner = new MediaScanner();
    const texts = [
      `{"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"${b64}"},"streamSid":"MZ1"}`,
      `{"streamSid":"MZ1","media":{"payload":"${b64}","timestamp":"5","chunk":"2","track":"inbound"},"sequenceNumber":"4","event":"media"}`,
      ` {\n  "event" : "media",\r\n\t"sequenceNumber": 4, "media": { "chunk": 2, "timestamp": 5, "track": "inbound", "payload": "${b64}" }, "streamSid":"MZ1" }\n`,
    ];
    for (const text of texts) {
      const m = scanner.scan(Buffer.from(text));
      expect(m && scanned(m), text).toEqual({ type: 'media', sequenceNumber: 4, streamId: 'MZ1', track: 'inbound', chunk: 2, timestampMs: 5, payload: [...bytes] });
    }
    // SignalWire: no streamSid, no track.
    const sw = scanner.scan(Buffer.from(`{"event":"media","sequenceNumber":"3","media":{"chunk":"2","timestamp":"20","payload":"${b64}"}}`));
    expect(sw && scanned(sw)).toEqual({ type: 'media', sequenceNumber: 3, streamId: undefined, track: 'inbound', chunk: 2, timestampMs: 20, payload: [...bytes] });
  });

  it('declines every other event and every malformed media message, leaving its error to the full parser', () => {
    const scanner = new MediaScanner();
    const declined = [
      '{"event":"start","start":{}}',
      '{"event":"mark","mark":{"name":"x"}}',
      '{"event":"dtmf","dtmf":{"digit":"5"}}',
      '{"event":"stop"}',
      '{"event":"media","media":{"chunk":"1","timestamp":"0"}}',
      '{"event":"media","media":{"payload":"AAAA","timestamp":"0"}}',
      '{"event":"media","media":{"payload":"AAA!","chunk":"1","timestamp":"0"}}',
      '{"event":"media","media":{"payload":"AAAA","chunk":"x","timestamp":"0"}}',
      '{"event":"media","media":{"payload":"AAAA","chunk":"1","timestamp":"0"}} trailing',
      '{"event":"media","media":{"payload":"AAAA","chunk":"1","timestamp":"0"},"media":{"payload":"","chunk":"1","timestamp":"0"}}',
      '{"rawEvent":{"event":"media","media":{"payload":"AAAA","chunk":"1","timestamp":"0"}}}',
      '[1]',
      '',
      'not json',
    ];
    for (const text of declined) expect(scanner.scan(Buffer.from(text)), text).toBeUndefined();
  });

  it('takes a payload as base64 only in its strict forms, and leaves every other string to the full parser', () => {
    const scanner = new MediaScanner();
    const msg = (payload: string) => `{"event":"media","media":{"chunk":"1","timestamp":"0","payload":${JSON.stringify(payload)}}}`;
    // Padded, unpadded (4k+2, 4k+3), empty: the bytes the full parser decodes.
    for (const payload of ['', 'AAAA', 'AQ==', 'AQI=', 'AQ', 'AQI', 'AQIDBA==', 'AQIDBAU=', 'AQIDBA', '/+/+/w==']) {
      const fast = scanner.scan(Buffer.from(msg(payload)));
      expect(fast && scanned(fast), payload).toEqual(fields(twilioSerializer.parse(msg(payload))));
    }
    // A lone character, padding in the wrong place or of the wrong length, other characters, escapes.
    for (const payload of ['A', 'AAAAA', 'AA=', 'AAA==', 'A===', 'AA=A', 'AA==AAAA', 'AAAA=', '=AAA', 'AA-_', 'AAA\n', 'AAé=']) {
      expect(scanner.scan(Buffer.from(msg(payload))), payload).toBeUndefined();
    }
    // A JSON escape in the payload (here \u0041, an 'A') is the full parser's to read.
    expect(scanner.scan(Buffer.from(String.raw`{"event":"media","media":{"chunk":"1","timestamp":"0","payload":"AA\u0041A"}}`))).toBeUndefined();
  });

  it('reuses its buffer: the next scan overwrites the payload of the last', () => {
    const scanner = new MediaScanner();
    const msg = (b: number[]) => Buffer.from(`{"event":"media","media":{"chunk":"1","timestamp":"0","payload":"${Buffer.from(b).toString('base64')}"}}`);
    const first = scanner.scan(msg([1, 2, 3]))?.payload;
    const second = scanner.scan(msg([4, 5, 6]))?.payload;
    expect(second && [...second]).toEqual([4, 5, 6]);
    expect(first?.buffer).toBe(second?.buffer);
    // A larger payload grows the buffer once.
    const big = Array.from({ length: 1000 }, (_, i) => i & 0xff);
    expect([...(scanner.scan(msg(big))?.payload ?? [])]).toEqual(big);
  });
});
