// SignalWire cXML stream messages, from the documented examples (signalwire/docs cxml/voice/stream.mdx).
import { describe, expect, it } from 'vitest';
import { decodeL16, encodeL16 } from '../../src/telephony/l16.ts';
import { carrierDialectFor, gatewaySerializerFor } from '../../src/telephony/serializers.ts';
import { signalwireCarrierDialect, signalwireSerializer } from '../../src/telephony/signalwire.ts';

const STREAM = '7d56cc11-536d-4a45-b4fb-ed3d55be843b';
const CALL = '76ac3c36-56da-4a3e-a0d6-b5f8df6da9ad';
const PROJECT = 'b08dacad-2f6c-4de1-93d6-cc732e0c69c5';

describe('signalwireSerializer.parse (gateway side)', () => {
  it('parses connected version 0.2.0', () => {
    expect(signalwireSerializer.parse('{"event":"connected","protocol":"Call","version":"0.2.0"}')).toEqual({ type: 'connected', protocol: 'Call', version: '0.2.0' });
  });

  it('parses the documented L16@24000h start with no top-level streamSid and no customParameters', () => {
    const text = JSON.stringify({
      event: 'start',
      sequenceNumber: '1',
      start: { streamSid: STREAM, accountSid: PROJECT, callSid: CALL, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-L16', sampleRate: 24000, channels: 1 } },
    });
    expect(signalwireSerializer.parse(text)).toEqual({
      type: 'start',
      sequenceNumber: 1,
      streamId: STREAM,
      carrierCallId: CALL,
      accountId: PROJECT,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-L16', sampleRateHz: 24000, channels: 1 },
      customParameters: {},
    });
  });

  it('accepts L16 at 8, 16 and 24 kHz and mu-law at 8 kHz only', () => {
    const start = (encoding: string, sampleRate: number) =>
      signalwireSerializer.parse(JSON.stringify({ event: 'start', sequenceNumber: '1', start: { streamSid: STREAM, accountSid: PROJECT, callSid: CALL, tracks: ['inbound'], mediaFormat: { encoding, sampleRate, channels: 1 } } })).type;
    expect([8000, 16000, 24000].map((r) => start('audio/x-L16', r))).toEqual(['start', 'start', 'start']);
    expect(start('audio/x-L16', 44100)).toBe('invalid');
    expect(start('audio/x-mulaw', 16000)).toBe('invalid');
    expect(start('audio/x-alaw', 8000)).toBe('invalid');
  });

  it('parses the documented media message (no streamSid) with a 960-byte L16 frame', () => {
    const payload = Buffer.alloc(960, 1).toString('base64');
    const ev = signalwireSerializer.parse(JSON.stringify({ event: 'media', sequenceNumber: '1002', media: { track: 'inbound', chunk: '1001', timestamp: '20041', payload } }));
    expect(ev).toMatchObject({ type: 'media', sequenceNumber: 1002, streamId: undefined, chunk: 1001, timestampMs: 20041, track: 'inbound' });
    expect(ev.type === 'media' && ev.payload.length).toBe(960);
  });

  it('parses dtmf with duration and no track, including A-D', () => {
    expect(signalwireSerializer.parse(`{"event":"dtmf","streamSid":"${STREAM}","dtmf":{"duration":2700,"digit":"8"}}`)).toEqual({
      type: 'dtmf', sequenceNumber: undefined, streamId: STREAM, digit: '8', track: undefined, durationMs: 2700,
    });
    for (const d of ['A', 'B', 'C', 'D', '*', '#', '0']) {
      expect(signalwireSerializer.parse(`{"event":"dtmf","streamSid":"${STREAM}","dtmf":{"duration":100,"digit":"${d}"}}`).type).toBe('dtmf');
    }
    expect(signalwireSerializer.parse(`{"event":"dtmf","dtmf":{"duration":100,"digit":"E"}}`).type).toBe('invalid');
    expect(signalwireSerializer.parse(`{"event":"dtmf","dtmf":{"duration":"long","digit":"1"}}`).type).toBe('invalid');
  });

  it('parses the body-less stop and the mark echo', () => {
    expect(signalwireSerializer.parse('{"event":"stop","sequenceNumber":"1002"}')).toEqual({
      type: 'stop', sequenceNumber: 1002, streamId: undefined, accountId: undefined, carrierCallId: undefined,
    });
    expect(signalwireSerializer.parse(`{"event":"mark","streamSid":"${STREAM}","mark":{"name":"item_CK5XvgANb1jVorf5VQlKQ:43500"}}`)).toEqual({
      type: 'mark', sequenceNumber: undefined, streamId: STREAM, name: 'item_CK5XvgANb1jVorf5VQlKQ:43500',
    });
  });

  it('unwraps the log envelope the docs print around each message', () => {
    const wrapped = { timestamp: '2025-09-26T16:25:24.863Z', direction: 'inbound', eventType: 'stop', streamSid: STREAM, sequenceNumber: '1002', rawEvent: { event: 'stop', sequenceNumber: '1002' } };
    expect(signalwireSerializer.parse(JSON.stringify(wrapped))).toMatchObject({ type: 'stop', sequenceNumber: 1002, streamId: STREAM });
  });

  it('never throws on malformed input', () => {
    for (const text of ['{', '"str"', '{"event":5}', '{"event":"start","start":[]}', '{"event":"media","media":{"payload":"A"}}']) {
      expect(signalwireSerializer.parse(text).type, text).toBe('invalid');
    }
    expect(signalwireSerializer.parse('{"event":"clear","streamSid":"x"}')).toEqual({ type: 'unknown', event: 'clear' });
  });

  it('serializes outbound media, mark, clear and DTMF injection', () => {
    expect(JSON.parse(signalwireSerializer.media(STREAM, 'a3242sa='))).toEqual({ event: 'media', streamSid: STREAM, media: { payload: 'a3242sa=' } });
    expect(JSON.parse(signalwireSerializer.mark(STREAM, 'my label'))).toEqual({ event: 'mark', streamSid: STREAM, mark: { name: 'my label' } });
    expect(JSON.parse(signalwireSerializer.clear(STREAM))).toEqual({ event: 'clear', streamSid: STREAM });
    expect(JSON.parse(signalwireSerializer.dtmf!(STREAM, '5'))).toEqual({ event: 'dtmf', streamSid: STREAM, dtmf: { digit: '5' } });
    expect(() => signalwireSerializer.dtmf!(STREAM, '55')).toThrow(RangeError);
  });
});

describe('signalwireCarrierDialect (carrier side)', () => {
  const info = {
    streamId: STREAM,
    carrierCallId: CALL,
    accountId: PROJECT,
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-L16' as const, sampleRateHz: 16000, channels: 1 },
    customParameters: {},
  };

  it('writes the documented raw events', () => {
    expect(JSON.parse(signalwireCarrierDialect.connected())).toEqual({ event: 'connected', protocol: 'Call', version: '0.2.0' });
    expect(JSON.parse(signalwireCarrierDialect.start(1, info))).toEqual({
      event: 'start', sequenceNumber: '1',
      start: { streamSid: STREAM, accountSid: PROJECT, callSid: CALL, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-L16', sampleRate: 16000, channels: 1 } },
    });
    expect(JSON.parse(signalwireCarrierDialect.start(1, { ...info, customParameters: { Cookie: 'x' } })).start.customParameters).toEqual({ Cookie: 'x' });
    expect(JSON.parse(signalwireCarrierDialect.media(1002, STREAM, { track: 'inbound', chunk: 1001, timestampMs: 20041, payloadBase64: 'AAAA' }))).toEqual({
      event: 'media', sequenceNumber: '1002', media: { track: 'inbound', chunk: '1001', timestamp: '20041', payload: 'AAAA' },
    });
    expect(JSON.parse(signalwireCarrierDialect.dtmf(25, STREAM, '8', 2700))).toEqual({ event: 'dtmf', streamSid: STREAM, dtmf: { duration: 2700, digit: '8' } });
    expect(JSON.parse(signalwireCarrierDialect.mark(3, STREAM, 'x'))).toEqual({ event: 'mark', streamSid: STREAM, mark: { name: 'x' } });
    expect(JSON.parse(signalwireCarrierDialect.stop(1002, info))).toEqual({ event: 'stop', sequenceNumber: '1002' });
  });

  it('parses DTMF injection from the gateway', () => {
    expect(signalwireCarrierDialect.parseGateway(signalwireSerializer.dtmf!(STREAM, 'D'))).toEqual({ type: 'dtmf', streamId: STREAM, digit: 'D' });
    expect(signalwireCarrierDialect.parseGateway(`{"event":"dtmf","dtmf":{"digit":"X"}}`).type).toBe('invalid');
  });

  it('is what the lookup helpers return', () => {
    expect(carrierDialectFor('signalwire')).toBe(signalwireCarrierDialect);
    expect(gatewaySerializerFor('signalwire')).toBe(signalwireSerializer);
    expect(gatewaySerializerFor('twilio').carrier).toBe('twilio');
  });
});

describe('L16 payloads', () => {
  it('are big-endian (RFC 3551 network byte order) and round-trip', () => {
    const samples = Int16Array.from([0, 1, -1, 256, -32768, 32767]);
    const bytes = encodeL16(samples);
    expect([...bytes.subarray(0, 8)]).toEqual([0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x01, 0x00]);
    expect([...decodeL16(bytes)]).toEqual([...samples]);
    expect(decodeL16(Uint8Array.from([0x12, 0x34, 0x56])).length).toBe(1);
  });
});
