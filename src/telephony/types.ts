// The typed model both carrier dialects (Twilio Media Streams, SignalWire cXML streams) map onto.
// Gateway side: carrier JSON text → InboundEvent, and outbound commands → JSON text.
// Carrier side (replay client, tests): what a carrier sends → JSON text, and what a gateway sends → GatewayMessage.
// Sources: twilio.com/docs/voice/media-streams/websocket-messages; signalwire/docs cxml/voice/stream.mdx.
/** The carriers whose media streams the gateway speaks. Defined here (the lowest layer); call/ re-exports it. */
export type Carrier = 'twilio' | 'signalwire';
/** Who placed the call, as the carrier and the stream claims say. */
export type Direction = 'inbound' | 'outbound';

export type MediaEncoding = 'audio/x-mulaw' | 'audio/x-L16';

export interface MediaFormat {
  encoding: MediaEncoding;
  sampleRateHz: number;
  channels: number;
}

/** What a carrier sends the gateway, parsed. Never thrown: bad input becomes `invalid`, new events `unknown`. */
export type InboundEvent =
  | { type: 'connected'; protocol: string; version: string }
  | ({ type: 'start'; sequenceNumber: number | undefined } & StreamStartInfo)
  | {
      type: 'media';
      sequenceNumber: number | undefined;
      /** Twilio repeats it on every media message; SignalWire does not. */
      streamId: string | undefined;
      track: string;
      chunk: number;
      /** Presentation time from the start of the stream, as the carrier stamped it. */
      timestampMs: number;
      /** The raw audio bytes (mu-law 8 kHz, or L16 at the negotiated rate). */
      payload: Uint8Array;
      /** The same audio as received, for vendors that take base64 directly (no re-encode). */
      payloadBase64: string;
    }
  | {
      type: 'dtmf';
      sequenceNumber: number | undefined;
      streamId: string | undefined;
      digit: string;
      /** Twilio: `inbound_track`; SignalWire sends none. */
      track: string | undefined;
      /** SignalWire only. */
      durationMs: number | undefined;
    }
  | { type: 'mark'; sequenceNumber: number | undefined; streamId: string | undefined; name: string }
  | {
      type: 'stop';
      sequenceNumber: number | undefined;
      streamId: string | undefined;
      /** Twilio only (SignalWire's stop has no body). */
      accountId: string | undefined;
      carrierCallId: string | undefined;
    }
  | { type: 'unknown'; event: string }
  /** `unsupportedMediaFormat`: a well-formed start whose encoding, rate or channels the gateway cannot take. */
  | { type: 'invalid'; reason: string; unsupportedMediaFormat?: true };

export type InboundEventType = InboundEvent['type'];

/** Gateway-side serializer of one dialect. Pure: text in, text out, no sockets. */
export interface GatewaySerializer {
  readonly carrier: Carrier;
  parse(text: string): InboundEvent;
  media(streamId: string, payloadBase64: string): string;
  mark(streamId: string, name: string): string;
  clear(streamId: string): string;
  /** Present only where the carrier accepts DTMF injection on the stream (SignalWire). */
  readonly dtmf: ((streamId: string, digit: string) => string) | undefined;
}

/** What a gateway sends a carrier, parsed by the carrier side. */
export type GatewayMessage =
  | { type: 'media'; streamId: string | undefined; payload: Uint8Array }
  | { type: 'mark'; streamId: string | undefined; name: string }
  | { type: 'clear'; streamId: string | undefined }
  | { type: 'dtmf'; streamId: string | undefined; digit: string }
  | { type: 'unknown'; event: string }
  | { type: 'invalid'; reason: string };

export interface StreamStartInfo {
  streamId: string;
  carrierCallId: string;
  accountId: string;
  tracks: string[];
  mediaFormat: MediaFormat;
  customParameters: Record<string, string>;
}

export interface StreamStopInfo {
  streamId: string;
  carrierCallId: string;
  accountId: string;
}

/**
 * Carrier-side writer of one dialect: the exact messages the carrier would put on the socket.
 * Sequence numbers are passed in (the caller owns the counter, see CarrierSequence).
 */
export interface CarrierDialect {
  readonly carrier: Carrier;
  connected(): string;
  start(sequenceNumber: number, info: StreamStartInfo): string;
  media(sequenceNumber: number, streamId: string, media: { track: string; chunk: number; timestampMs: number; payloadBase64: string }): string;
  dtmf(sequenceNumber: number, streamId: string, digit: string, durationMs: number): string;
  mark(sequenceNumber: number, streamId: string, name: string): string;
  stop(sequenceNumber: number, info: StreamStopInfo): string;
  parseGateway(text: string): GatewayMessage;
  /** DTMF digits the carrier can signal on this dialect. */
  readonly dtmfDigits: RegExp;
}
