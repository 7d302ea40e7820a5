// The replay client: plays a recording into the gateway exactly as a carrier would. It POSTs the voice
// webhook (signed), reads <Connect><Stream> from the answer, opens the media websocket with the carrier's
// auth (Twilio: X-Twilio-Signature over the stream URL; SignalWire: Bearer authBearerToken), then runs
// the stream (see stream.ts) and reports a timeline on the replay's media clock.
import WebSocket from 'ws';
import type { PcmAudio } from '../../dsp/wav.ts';
import { createError } from '../errors.ts';
import { carrierDialectFor } from '../telephony/serializers.ts';
import { computeSignature } from '../telephony/signature.ts';
import type { Carrier, MediaFormat } from '../telephony/types.ts';
import { carrierSupportsFormat, frameForWire, MULAW_8K, parseCodec } from './audio.ts';
import { carrierSid } from './ids.ts';
import { runCarrierStream, type DtmfPress, type StreamOutcome, type TimelineEntry } from './stream.ts';
import { postVoiceWebhook } from './webhook.ts';

export type { DtmfPress, MarkRecord, ReplayEndReason, TimelineEntry } from './stream.ts';

export interface ReplayOptions {
  carrier: Carrier;
  /** What the caller says (any rate; resampled to the stream's). */
  audio: PcmAudio;
  /** Gateway base, default ws://127.0.0.1:3000; the webhook goes to the same host over http(s). */
  url?: string;
  /** Real-time multiple; default 1. */
  speed?: number;
  dtmf?: readonly DtmfPress[];
  /** Silence streamed after the audio ends, so the gateway can answer; default 2000 ms. */
  holdMs?: number;
  /** While the gateway's audio is still playing, the hold goes on up to this long after the audio; default 30000 ms. */
  maxHoldMs?: number;
  /** Force the stream codec (`PCMU@8000h`, `L16@16000h`…); default: the <Stream codec> or PCMU@8000h. */
  codec?: string;
  from?: string;
  to?: string;
  /** Twilio auth token / SignalWire signing key: signs the webhook (and Twilio's upgrade). */
  authToken?: string;
  /** The gateway's PUBLIC_URL origin, which the carrier signs webhooks against. */
  publicUrl?: string;
  /** Start from a given webhook instead of {base}/voice/{carrier} (outbound calls placed through a carrier). */
  webhook?: { url: string; params?: Record<string, string> };
  callSid?: string;
  accountSid?: string;
  signal?: AbortSignal;
  /** Live view of the timeline as it is recorded. */
  onEvent?: (entry: TimelineEntry) => void;
}

export interface ReplayResult extends Omit<StreamOutcome, 'endReason'> {
  carrier: Carrier;
  /** The gateway's call id (the `callId` <Parameter>). */
  callId: string | undefined;
  carrierCallId: string;
  streamId: string;
  accountId: string;
  webhook: { url: string; signedUrl: string; signed: boolean; twiml: string; verbs: string[] };
  stream: { url: string; connectUrl: string; parameters: Record<string, string>; authBearerToken: string | undefined; format: MediaFormat } | undefined;
  timeline: TimelineEntry[];
  endReason: StreamOutcome['endReason'] | 'no-stream';
}

const DEFAULT_URL = 'ws://127.0.0.1:3000';

/** Parse `1@2500,#@4000` (digit@media ms) into presses. */
export function parseDtmfSpec(spec: string): DtmfPress[] {
  if (spec.trim() === '') return [];
  return spec.split(',').map((part) => {
    const m = /^\s*([0-9A-D*#])\s*@\s*(\d+(?:\.\d+)?)\s*$/i.exec(part);
    if (!m) throw createError('GW_ERR_REPLAY_ARGS', `bad DTMF "${part}": write digit@ms, e.g. 1@2500,#@4000`, { statusCode: 400 });
    return { digit: (m[1] as string).toUpperCase(), atMs: Number(m[2]) };
  });
}

function argError(message: string): Error {
  return createError('GW_ERR_REPLAY_ARGS', message, { statusCode: 400 });
}


export async function replayCall(opts: ReplayOptions): Promise<ReplayResult> {
  const { carrier } = opts;
  const speed = opts.speed ?? 1;
  if (!(speed > 0 && Number.isFinite(speed))) throw argError(`speed must be a positive number (got ${speed})`);
  const holdMs = opts.holdMs ?? 2000;
  const maxHoldMs = Math.max(holdMs, opts.maxHoldMs ?? 30_000);
  if (!(holdMs >= 0)) throw argError(`holdMs must be ≥ 0 (got ${holdMs})`);
  const dialect = carrierDialectFor(carrier);
  const dtmf = [...(opts.dtmf ?? [])].sort((a, b) => a.atMs - b.atMs);
  for (const d of dtmf) {
    if (!dialect.dtmfDigits.test(d.digit)) throw argError(`${carrier} cannot send DTMF digit "${d.digit}"`);
    if (!(d.atMs >= 0)) throw argError(`DTMF time must be ≥ 0 ms (got ${d.atMs})`);
  }
  let base: URL;
  try {
    base = new URL(opts.url ?? DEFAULT_URL);
  } catch {
    throw argError(`not a URL: ${opts.url}; use e.g. ws://127.0.0.1:3000`);
  }
  if (base.protocol !== 'ws:' && base.protocol !== 'wss:') throw argError(`gateway URL must be ws:// or wss:// (got ${base.protocol})`);
  const httpOrigin = `${base.protocol === 'wss:' ? 'https:' : 'http:'}//${base.host}`;

  const carrierCallId = opts.callSid ?? carrierSid(carrier, 'call');
  const accountId = opts.accountSid ?? carrierSid(carrier, 'account');
  const streamId = carrierSid(carrier, 'stream');
  const timeline: TimelineEntry[] = [];
  const log = (atMs: number, event: string, detail?: string): void => {
    const entry: TimelineEntry = detail === undefined ? { atMs: Math.round(atMs), event } : { atMs: Math.round(atMs), event, detail };
    timeline.push(entry);
    opts.onEvent?.(entry);
  };

  // 1. The voice webhook.
  const webhookUrl = opts.webhook?.url ?? `${httpOrigin}/voice/${carrier}`;
  const params: Record<string, string> = {
    CallSid: carrierCallId,
    AccountSid: accountId,
    From: opts.from ?? '+15005550006',
    To: opts.to ?? '+15005550001',
    Direction: 'inbound',
    CallStatus: 'ringing',
    ApiVersion: '2010-04-01',
    ...opts.webhook?.params,
  };
  const answer = await postVoiceWebhook({ carrier, url: webhookUrl, params, authToken: opts.authToken, publicUrl: opts.publicUrl, signal: opts.signal });
  const webhook = { url: webhookUrl, signedUrl: answer.signedUrl, signed: answer.signature !== undefined, twiml: answer.body, verbs: answer.twiml.verbs };
  log(0, 'webhook', `${answer.status} ${answer.twiml.verbs.join(' ') || '(no verbs)'}`);
  const stream = answer.twiml.stream;
  const identity = { carrier, carrierCallId, streamId, accountId, webhook };
  if (!stream) {
    return {
      ...identity,
      callId: undefined,
      stream: undefined,
      timeline,
      firstAudio: undefined,
      marks: [],
      clears: [],
      dtmfSent: [],
      dtmfReceived: [],
      audio: new Uint8Array(0),
      receivedAudioMs: 0,
      sentAudioMs: 0,
      endReason: 'no-stream',
      close: undefined,
      wallMs: 0,
    };
  }

  // 2. The stream: its path on our gateway host, its format, its auth.
  let streamUrl: URL;
  try {
    streamUrl = new URL(stream.url);
  } catch {
    throw createError('GW_ERR_REPLAY_TWIML', `<Stream url> is not a URL: ${stream.url}`, { statusCode: 502 });
  }
  const connectUrl = `${base.protocol}//${base.host}${streamUrl.pathname}${streamUrl.search}`;
  const codec = opts.codec ?? stream.codec;
  const format = codec === undefined ? MULAW_8K : parseCodec(codec);
  if (!format) throw argError(`unknown codec "${codec}"; use PCMU@8000h, L16@8000h, L16@16000h or L16@24000h`);
  if (!carrierSupportsFormat(carrier, format)) throw argError(`${carrier} streams only PCMU@8000h`);
  const framed = frameForWire(opts.audio, format);
  const headers: Record<string, string> = {};
  if (carrier === 'twilio' && opts.authToken) headers['x-twilio-signature'] = computeSignature(opts.authToken, stream.url, {});
  if (carrier === 'signalwire' && stream.authBearerToken) headers.authorization = `Bearer ${stream.authBearerToken}`;
  const streamInfo = { url: stream.url, connectUrl, parameters: stream.parameters, authBearerToken: stream.authBearerToken, format };

  const ws = new WebSocket(connectUrl, { headers, handshakeTimeout: 10_000 });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      ws.terminate();
      reject(opts.signal?.reason as Error);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    ws.once('error', (err) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(createError('GW_ERR_REPLAY_CONNECT', `media websocket ${connectUrl} failed: ${err.message}`, { statusCode: 502, cause: err }));
    });
  });

  const outcome = await runCarrierStream({
    ws,
    dialect,
    format,
    framed,
    streamId,
    carrierCallId,
    accountId,
    customParameters: stream.parameters,
    speed,
    holdMs,
    maxHoldMs,
    dtmf,
    signal: opts.signal,
    log,
    startDetail: `${carrier} ${format.encoding}@${format.sampleRateHz} → ${connectUrl}`,
  });
  return { ...identity, callId: stream.parameters.callId, stream: streamInfo, timeline, ...outcome };
}
