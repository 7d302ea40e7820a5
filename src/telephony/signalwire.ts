// SignalWire cXML stream dialect. Source: signalwire/docs compatibility-api/cxml/voice/stream.mdx and
// reference/telephony.md. Differences from Twilio: `connected` is version 0.2.0; start and media carry no
// top-level streamSid; SIDs are UUIDs; `codec` may select L16 at 16 or 24 kHz (the start message then says
// audio/x-L16); stop has no body; dtmf has no track but a duration in ms, digits 0-9 * # A-D; the gateway
// may inject DTMF with {"event":"dtmf","streamSid":…,"dtmf":{"digit":"5"}}.
import { isObject, parseGatewayText, parseInboundObject, parseJsonObject, type InboundDialectRules } from './parse.ts';
import { twilioStreamMessages } from './twilio.ts';
import type { CarrierDialect, GatewaySerializer, InboundEvent } from './types.ts';

export const SIGNALWIRE_DTMF_DIGITS = /^[0-9*#A-D]$/;

const RULES: InboundDialectRules = {
  dtmfDigits: SIGNALWIRE_DTMF_DIGITS,
  sampleRates: { 'audio/x-mulaw': [8000], 'audio/x-L16': [8000, 16000, 24000] },
};

export const signalwireSerializer: GatewaySerializer = {
  carrier: 'signalwire',
  parse(text: string): InboundEvent {
    const msg = parseJsonObject(text);
    if (typeof msg === 'string') return { type: 'invalid', reason: msg };
    // SignalWire's pages print each message inside a log envelope {timestamp, direction, eventType,
    // rawEvent}; the socket carries rawEvent. Accept the envelope too rather than reject it.
    if (msg.event === undefined && isObject(msg.rawEvent)) {
      const raw = msg.rawEvent;
      if (raw.streamSid === undefined && typeof msg.streamSid === 'string') raw.streamSid = msg.streamSid;
      return parseInboundObject(raw, RULES);
    }
    return parseInboundObject(msg, RULES);
  },
  ...twilioStreamMessages,
  dtmf(streamId, digit) {
    if (!SIGNALWIRE_DTMF_DIGITS.test(digit)) throw new RangeError(`not a DTMF digit SignalWire can send: ${JSON.stringify(digit)}`);
    return JSON.stringify({ event: 'dtmf', streamSid: streamId, dtmf: { digit } });
  },
};

/** What SignalWire puts on the socket (the documented `rawEvent`s). */
export const signalwireCarrierDialect: CarrierDialect = {
  carrier: 'signalwire',
  dtmfDigits: SIGNALWIRE_DTMF_DIGITS,
  connected() {
    return JSON.stringify({ event: 'connected', protocol: 'Call', version: '0.2.0' });
  },
  start(seq, info) {
    const start: Record<string, unknown> = {
      streamSid: info.streamId,
      accountSid: info.accountId,
      callSid: info.carrierCallId,
      tracks: info.tracks,
      mediaFormat: { encoding: info.mediaFormat.encoding, sampleRate: info.mediaFormat.sampleRateHz, channels: info.mediaFormat.channels },
    };
    // "Appears only when parameters are defined."
    if (Object.keys(info.customParameters).length > 0) start.customParameters = info.customParameters;
    return JSON.stringify({ event: 'start', sequenceNumber: String(seq), start });
  },
  media(seq, _streamId, m) {
    return JSON.stringify({
      event: 'media',
      sequenceNumber: String(seq),
      media: { track: m.track, chunk: String(m.chunk), timestamp: String(m.timestampMs), payload: m.payloadBase64 },
    });
  },
  dtmf(_seq, streamId, digit, durationMs) {
    return JSON.stringify({ event: 'dtmf', streamSid: streamId, dtmf: { duration: durationMs, digit } });
  },
  mark(_seq, streamId, name) {
    return JSON.stringify({ event: 'mark', streamSid: streamId, mark: { name } });
  },
  stop(seq) {
    return JSON.stringify({ event: 'stop', sequenceNumber: String(seq) });
  },
  parseGateway(text) {
    return parseGatewayText(text, SIGNALWIRE_DTMF_DIGITS);
  },
};
