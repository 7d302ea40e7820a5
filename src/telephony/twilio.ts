// Twilio Media Streams dialect (bidirectional <Connect><Stream>).
// Source: twilio.com/docs/voice/media-streams/websocket-messages. Counters (sequenceNumber, chunk,
// timestamp) are JSON strings; streamSid is repeated at the top level of every message but `connected`;
// only mu-law 8 kHz mono is streamed; DTMF digits are 0-9, * and #; the server cannot inject DTMF.
import { parseGatewayText, parseInbound, type InboundDialectRules } from './parse.ts';
import type { CarrierDialect, GatewaySerializer, InboundEvent } from './types.ts';

export const TWILIO_DTMF_DIGITS = /^[0-9*#]$/;

const RULES: InboundDialectRules = {
  dtmfDigits: TWILIO_DTMF_DIGITS,
  sampleRates: { 'audio/x-mulaw': [8000], 'audio/x-L16': [] },
};

/** What the gateway sends on a stream: Twilio's media, mark and clear (SignalWire speaks the same). */
export const twilioStreamMessages: Pick<GatewaySerializer, 'media' | 'mark' | 'clear'> = {
  media(streamId, payloadBase64) {
    return JSON.stringify({ event: 'media', streamSid: streamId, media: { payload: payloadBase64 } });
  },
  mark(streamId, name) {
    return JSON.stringify({ event: 'mark', streamSid: streamId, mark: { name } });
  },
  clear(streamId) {
    return JSON.stringify({ event: 'clear', streamSid: streamId });
  },
};

export const twilioSerializer: GatewaySerializer = {
  carrier: 'twilio',
  parse(text: string): InboundEvent {
    return parseInbound(text, RULES);
  },
  ...twilioStreamMessages,
  dtmf: undefined,
};

/** What Twilio itself puts on the socket, field for field as in the documented examples. */
export const twilioCarrierDialect: CarrierDialect = {
  carrier: 'twilio',
  dtmfDigits: TWILIO_DTMF_DIGITS,
  connected() {
    return JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  },
  start(seq, info) {
    return JSON.stringify({
      event: 'start',
      sequenceNumber: String(seq),
      start: {
        accountSid: info.accountId,
        streamSid: info.streamId,
        callSid: info.carrierCallId,
        tracks: info.tracks,
        mediaFormat: { encoding: info.mediaFormat.encoding, sampleRate: info.mediaFormat.sampleRateHz, channels: info.mediaFormat.channels },
        customParameters: info.customParameters,
      },
      streamSid: info.streamId,
    });
  },
  media(seq, streamId, m) {
    return JSON.stringify({
      event: 'media',
      sequenceNumber: String(seq),
      media: { track: m.track, chunk: String(m.chunk), timestamp: String(m.timestampMs), payload: m.payloadBase64 },
      streamSid: streamId,
    });
  },
  dtmf(seq, streamId, digit) {
    return JSON.stringify({ event: 'dtmf', streamSid: streamId, sequenceNumber: String(seq), dtmf: { track: 'inbound_track', digit } });
  },
  mark(seq, streamId, name) {
    return JSON.stringify({ event: 'mark', sequenceNumber: String(seq), streamSid: streamId, mark: { name } });
  },
  stop(seq, info) {
    return JSON.stringify({
      event: 'stop',
      sequenceNumber: String(seq),
      stop: { accountSid: info.accountId, callSid: info.carrierCallId },
      streamSid: info.streamId,
    });
  },
  parseGateway(text) {
    // Twilio has no DTMF injection on the stream: a `dtmf` from the gateway is an unknown event to it.
    return parseGatewayText(text, undefined);
  },
};
