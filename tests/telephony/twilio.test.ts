// Twilio Media Streams messages, from the documented examples (twilio.com/docs/voice/media-streams/websocket-messages).
import { describe, expect, it } from 'vitest';
import { twilioCarrierDialect, twilioSerializer } from '../../src/telephony/twilio.ts';

const SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';
const CALL = 'CA362c3e2c4e3a4f5b8e9a7c6d5e4f3a2b';
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';

describe('twilioSerializer.parse (gateway side)', () => {
  it('parses connected', () => {
    expect(twilioSerializer.parse('{"event":"connected","protocol":"Call","version":"1.0.0"}')).toEqual({
      type: 'connected',
      protocol: 'Call',
      version: '1.0.0',
    });
  });

  it('parses the documented start message with string sequenceNumber and custom parameters', () => {
    const text = JSON.stringify({
      event: 'start',
      sequenceNumber: '1',
      start: {
        accountSid: ACCOUNT,
        streamSid: SID,
        callSid: CALL,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: { FirstName: 'Jane', LastName: 'Doe', RemoteParty: 'Bob' },
      },
      streamSid: SID,
    });
    expect(twilioSerializer.parse(text)).toEqual({
      type: 'start',
      sequenceNumber: 1,
      streamId: SID,
      carrierCallId: CALL,
      accountId: ACCOUNT,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRateHz: 8000, channels: 1 },
      customParameters: { FirstName: 'Jane', LastName: 'Doe', RemoteParty: 'Bob' },
    });
  });

  it('parses media: string counters become numbers, payload is decoded', () => {
    const bytes = Buffer.from([0xff, 0x7f, 0x00, 0x80, 0x12]);
    const ev = twilioSerializer.parse(
      JSON.stringify({ event: 'media', sequenceNumber: '4', media: { track: 'inbound', chunk: '2', timestamp: '5', payload: bytes.toString('base64') }, streamSid: SID }),
    );
    expect(ev.type).toBe('media');
    if (ev.type !== 'media') return;
    expect(ev).toMatchObject({ sequenceNumber: 4, streamId: SID, track: 'inbound', chunk: 2, timestampMs: 5, payloadBase64: bytes.toString('base64') });
    expect([...ev.payload]).toEqual([...bytes]);
  });

  it('accepts payloads of any size, including odd and empty ones', () => {
    for (const size of [0, 1, 2, 3, 159, 160, 161, 320, 1000]) {
      const bytes = Buffer.alloc(size, 0x55);
      const ev = twilioSerializer.parse(JSON.stringify({ event: 'media', sequenceNumber: '9', media: { track: 'inbound', chunk: '1', timestamp: '0', payload: bytes.toString('base64') }, streamSid: SID }));
      expect(ev.type === 'media' && ev.payload.length).toBe(size);
    }
  });

  it('decodes a frame split across messages back into the same bytes', () => {
    const frame = Uint8Array.from({ length: 160 }, (_, i) => (i * 7) & 0xff);
    const parts = [frame.subarray(0, 37), frame.subarray(37, 101), frame.subarray(101)];
    const joined = parts.flatMap((p, i) => {
      const ev = twilioSerializer.parse(JSON.stringify({ event: 'media', sequenceNumber: String(i + 2), media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 5), payload: Buffer.from(p).toString('base64') }, streamSid: SID }));
      return ev.type === 'media' ? [...ev.payload] : [];
    });
    expect(joined).toEqual([...frame]);
  });

  it('parses dtmf, mark and stop', () => {
    expect(twilioSerializer.parse(`{"event":"dtmf","streamSid":"${SID}","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}`)).toEqual({
      type: 'dtmf', sequenceNumber: 5, streamId: SID, digit: '1', track: 'inbound_track', durationMs: undefined,
    });
    expect(twilioSerializer.parse(`{"event":"mark","sequenceNumber":"4","streamSid":"${SID}","mark":{"name":"my label"}}`)).toEqual({
      type: 'mark', sequenceNumber: 4, streamId: SID, name: 'my label',
    });
    expect(twilioSerializer.parse(`{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"${ACCOUNT}","callSid":"${CALL}"},"streamSid":"${SID}"}`)).toEqual({
      type: 'stop', sequenceNumber: 5, streamId: SID, accountId: ACCOUNT, carrierCallId: CALL,
    });
  });

  it('returns unknown for events it does not know, and invalid for malformed input, without throwing', () => {
    expect(twilioSerializer.parse('{"event":"transcription","sequenceNumber":"3"}')).toEqual({ type: 'unknown', event: 'transcription' });
    const bad = [
      '',
      'not json',
      '[1,2]',
      'null',
      '{"sequenceNumber":"1"}',
      '{"event":"media","media":{"payload":"%%%"}}',
      '{"event":"media","media":{"payload":"AAAA","chunk":"x","timestamp":"1"}}',
      '{"event":"media"}',
      '{"event":"start","start":{"callSid":"CA1","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000}}}',
      `{"event":"start","streamSid":"${SID}","start":{"callSid":"CA1","mediaFormat":{"encoding":"audio/x-L16","sampleRate":16000}}}`,
      `{"event":"start","streamSid":"${SID}","start":{"callSid":"CA1","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000},"customParameters":{"a":1}}}`,
      '{"event":"dtmf","dtmf":{"digit":"A"}}',
      '{"event":"dtmf","dtmf":{"digit":"12"}}',
      '{"event":"mark","mark":{}}',
    ];
    for (const text of bad) {
      const ev = twilioSerializer.parse(text);
      expect(ev.type, text).toBe('invalid');
    }
  });

  it('serializes outbound media, mark and clear as documented, and has no DTMF injection', () => {
    expect(JSON.parse(twilioSerializer.media(SID, 'AAEC'))).toEqual({ event: 'media', streamSid: SID, media: { payload: 'AAEC' } });
    expect(JSON.parse(twilioSerializer.mark(SID, 'my label'))).toEqual({ event: 'mark', streamSid: SID, mark: { name: 'my label' } });
    expect(JSON.parse(twilioSerializer.clear(SID))).toEqual({ event: 'clear', streamSid: SID });
    expect(twilioSerializer.dtmf).toBeUndefined();
  });
});

describe('twilioCarrierDialect (carrier side)', () => {
  const info = {
    streamId: SID,
    carrierCallId: CALL,
    accountId: ACCOUNT,
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw' as const, sampleRateHz: 8000, channels: 1 },
    customParameters: { FirstName: 'Jane' },
  };

  it('writes the documented messages field for field', () => {
    expect(JSON.parse(twilioCarrierDialect.connected())).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(JSON.parse(twilioCarrierDialect.start(1, info))).toEqual({
      event: 'start',
      sequenceNumber: '1',
      start: { accountSid: ACCOUNT, streamSid: SID, callSid: CALL, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: { FirstName: 'Jane' } },
      streamSid: SID,
    });
    expect(JSON.parse(twilioCarrierDialect.media(4, SID, { track: 'inbound', chunk: 2, timestampMs: 5, payloadBase64: 'AAEC' }))).toEqual({
      event: 'media', sequenceNumber: '4', media: { track: 'inbound', chunk: '2', timestamp: '5', payload: 'AAEC' }, streamSid: SID,
    });
    expect(JSON.parse(twilioCarrierDialect.dtmf(5, SID, '1', 100))).toEqual({ event: 'dtmf', streamSid: SID, sequenceNumber: '5', dtmf: { track: 'inbound_track', digit: '1' } });
    expect(JSON.parse(twilioCarrierDialect.mark(4, SID, 'my label'))).toEqual({ event: 'mark', sequenceNumber: '4', streamSid: SID, mark: { name: 'my label' } });
    expect(JSON.parse(twilioCarrierDialect.stop(5, info))).toEqual({ event: 'stop', sequenceNumber: '5', stop: { accountSid: ACCOUNT, callSid: CALL }, streamSid: SID });
  });

  it('round-trips through the gateway parser', () => {
    expect(twilioSerializer.parse(twilioCarrierDialect.start(1, info))).toMatchObject({ type: 'start', streamId: SID, carrierCallId: CALL, customParameters: { FirstName: 'Jane' } });
    expect(twilioSerializer.parse(twilioCarrierDialect.stop(9, info))).toMatchObject({ type: 'stop', carrierCallId: CALL });
  });

  it('parses what a gateway sends; a dtmf injection is unknown to Twilio', () => {
    const m = twilioCarrierDialect.parseGateway(twilioSerializer.media(SID, Buffer.from([1, 2, 3]).toString('base64')));
    expect(m.type === 'media' && [...m.payload]).toEqual([1, 2, 3]);
    expect(twilioCarrierDialect.parseGateway(twilioSerializer.mark(SID, 'a'))).toEqual({ type: 'mark', streamId: SID, name: 'a' });
    expect(twilioCarrierDialect.parseGateway(twilioSerializer.clear(SID))).toEqual({ type: 'clear', streamId: SID });
    expect(twilioCarrierDialect.parseGateway(`{"event":"dtmf","streamSid":"${SID}","dtmf":{"digit":"5"}}`)).toEqual({ type: 'unknown', event: 'dtmf' });
    expect(twilioCarrierDialect.parseGateway('{"event":"media","media":{}}').type).toBe('invalid');
    expect(twilioCarrierDialect.parseGateway('garbage').type).toBe('invalid');
  });
});
