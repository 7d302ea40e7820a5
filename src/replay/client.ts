// The replay client: plays a recording into the gateway exactly as a carrier would. It POSTs the voice
// webhook (signed), reads <Connect><Stream> from the answer, opens the media websocket with the carrier's
// auth (Twilio: X-Twilio-Signature over the stream URL; SignalWire: Bearer authBearerToken), sends
// connected/start, then 20 ms media frames paced at `speed` × real time, DTMF at given media times, and
// stop. Meanwhile it plays back what the gateway sends like a carrier's buffer does (see CarrierPlayback)
// and records a timeline. Being a stand-in for a real-time device, it runs on the wall clock scaled by
// `speed`; every time it reports is media time (ms of caller audio sent), which the gateway's media clock
// also counts, so both timelines line up.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { FRAME_MS } from '../../dsp/frame.ts';
import type { PcmAudio } from '../../dsp/wav.ts';
import { createError } from '../errors.ts';
import { carrierDialectFor } from '../telephony/serializers.ts';
import { computeSignature } from '../telephony/signature.ts';
import type { Carrier, MediaFormat } from '../telephony/types.ts';
import { carrierSupportsFormat, frameForWire, InboundAudioDecoder, MULAW_8K, parseCodec } from './audio.ts';
import { carrierSid } from './ids.ts';
import { CarrierPlayback, type MarkEcho } from './playback.ts';
import { postVoiceWebhook } from './webhook.ts';

export interface DtmfPress {
  digit: string;
  /** Media time (ms of caller audio sent) at which the key is pressed. */
  atMs: number;
  /** SignalWire reports a duration; default 250 ms. */
  durationMs?: number;
}

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

export interface TimelineEntry {
  /** Media time of the replay: ms of caller audio sent when it happened. */
  atMs: number;
  event: string;
  detail?: string;
}

export type ReplayEndReason = 'finished' | 'gateway-closed' | 'aborted' | 'no-stream';

export interface MarkRecord {
  name: string;
  receivedAtMs: number;
  echoedAtMs: number | undefined;
  /** Echoed because of a clear. */
  cleared: boolean;
}

export interface ReplayResult {
  carrier: Carrier;
  /** The gateway's call id (the `callId` <Parameter>). */
  callId: string | undefined;
  carrierCallId: string;
  streamId: string;
  accountId: string;
  webhook: { url: string; signedUrl: string; signed: boolean; twiml: string; verbs: string[] };
  stream: { url: string; connectUrl: string; parameters: Record<string, string>; authBearerToken: string | undefined; format: MediaFormat } | undefined;
  timeline: TimelineEntry[];
  /** From `start` sent to the first media received. */
  firstAudio: { mediaMs: number; wallMs: number } | undefined;
  marks: MarkRecord[];
  clears: Array<{ atMs: number; droppedMs: number; marks: string[] }>;
  dtmfSent: Array<{ digit: string; atMs: number }>;
  /** SignalWire DTMF injected by the gateway. */
  dtmfReceived: Array<{ digit: string; atMs: number }>;
  /** What the caller heard: the gateway's audio as played, 8 kHz mu-law, time-aligned from stream start. */
  audio: Uint8Array;
  /** All audio the gateway sent, including what a clear dropped. */
  receivedAudioMs: number;
  sentAudioMs: number;
  endReason: ReplayEndReason;
  close: { code: number; reason: string } | undefined;
  wallMs: number;
}

const DEFAULT_URL = 'ws://127.0.0.1:3000';
const DEFAULT_DTMF_MS = 250;
const CLOSE_WAIT_MS = 2000;

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

/** Sleeps until a deadline, an early wake-up (new work), or an abort. */
class Waker {
  private pending: (() => void) | undefined;

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.pending = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
      this.pending = done;
    });
  }

  wake(): void {
    this.pending?.();
  }
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

  // 3. Stream: connected, start, then paced media.
  const playback = new CarrierPlayback();
  const decoder = new InboundAudioDecoder(format);
  const stopped = new AbortController();
  const waker = new Waker();
  const marks: MarkRecord[] = [];
  const clears: ReplayResult['clears'] = [];
  const dtmfSent: ReplayResult['dtmfSent'] = [];
  const dtmfReceived: ReplayResult['dtmfReceived'] = [];
  let endReason: ReplayEndReason | undefined;
  let close: ReplayResult['close'];
  let firstAudio: ReplayResult['firstAudio'];
  let seq = 0;
  let playing = false;

  const send = (text: string): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(text);
  };
  send(dialect.connected());
  send(dialect.start(++seq, { streamId, carrierCallId, accountId, tracks: ['inbound'], mediaFormat: format, customParameters: stream.parameters }));
  const t0 = performance.now();
  const mediaNow = (): number => (performance.now() - t0) * speed;
  log(0, 'start', `${carrier} ${format.encoding}@${format.sampleRateHz} → ${connectUrl}`);

  const echo = (m: MarkEcho): void => {
    send(dialect.mark(++seq, streamId, m.name));
    const rec = marks.find((r) => r.name === m.name && r.echoedAtMs === undefined);
    if (rec) {
      rec.echoedAtMs = Math.round(m.atMs);
      rec.cleared = m.cleared;
    }
    log(m.atMs, 'mark.echo', m.cleared ? `${m.name} (cleared)` : m.name);
  };
  const settle = (now: number): void => {
    for (const m of playback.dueMarks(now)) echo(m);
    if (playing && !playback.isPlaying(now)) {
      playing = false;
      log(playback.queueEndMs(), 'playback.end');
    }
  };

  ws.on('message', (data, isBinary) => {
    const now = mediaNow();
    if (isBinary) {
      log(now, 'gateway.invalid', 'binary frame');
      return;
    }
    const text = (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf-8');
    const msg = dialect.parseGateway(text);
    if ('streamId' in msg && msg.streamId !== undefined && msg.streamId !== streamId) {
      log(now, 'gateway.invalid', `${msg.type} for unknown streamSid ${msg.streamId}`);
      return;
    }
    settle(now);
    switch (msg.type) {
      case 'media': {
        if (!firstAudio) {
          firstAudio = { mediaMs: Math.round(now), wallMs: Math.round(performance.now() - t0) };
          log(now, 'audio.first');
        }
        if (!playing) {
          playing = true;
          log(now, 'playback.start');
        }
        playback.enqueueAudio(decoder.decode(msg.payload), now);
        break;
      }
      case 'mark': {
        marks.push({ name: msg.name, receivedAtMs: Math.round(now), echoedAtMs: undefined, cleared: false });
        log(now, 'mark', msg.name);
        const immediate = playback.enqueueMark(msg.name, now);
        if (immediate) echo(immediate);
        break;
      }
      case 'clear': {
        const r = playback.clear(now);
        const names = r.marks.map((m) => m.name);
        clears.push({ atMs: Math.round(now), droppedMs: Math.round(r.droppedMs), marks: names });
        log(now, 'clear', `dropped ${Math.round(r.droppedMs)} ms${names.length ? `, marks ${names.join(', ')}` : ''}`);
        for (const m of r.marks) echo(m);
        if (playing) {
          playing = false;
          log(now, 'playback.end', 'cleared');
        }
        break;
      }
      case 'dtmf':
        dtmfReceived.push({ digit: msg.digit, atMs: Math.round(now) });
        log(now, 'dtmf.received', msg.digit);
        break;
      case 'unknown':
        log(now, 'gateway.unknown', msg.event);
        break;
      case 'invalid':
        log(now, 'gateway.invalid', msg.reason);
        break;
    }
    waker.wake();
  });
  const closed = new Promise<void>((resolve) => {
    ws.on('close', (code, reason) => {
      close = { code, reason: reason.toString('utf-8') };
      if (!endReason) {
        endReason = 'gateway-closed';
        log(mediaNow(), 'gateway.closed', `${code}${close.reason ? ` ${close.reason}` : ''}`);
      }
      stopped.abort();
      resolve();
    });
  });
  ws.on('error', (err) => log(mediaNow(), 'socket.error', err.message));
  const onAbort = () => {
    if (!endReason) endReason = 'aborted';
    stopped.abort();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  // The pump: frame k (media [20k, 20k+20)) goes out at media time 20(k+1), when a carrier would have it.
  // Due times are computed from t0, never accumulated, so the schedule does not drift.
  const frameBytes = framed.frameBytes;
  const totalFrames = Math.ceil(framed.bytes.length / frameBytes);
  const audioEndMs = totalFrames * FRAME_MS;
  const bytesView = Buffer.from(framed.bytes.buffer, framed.bytes.byteOffset, framed.bytes.byteLength);
  const silenceB64 = Buffer.from(framed.silence).toString('base64');
  let k = 0;
  let d = 0;
  let finished = false;
  while (!stopped.signal.aborted && !finished) {
    const now = mediaNow();
    for (;;) {
      const frameDue = (k + 1) * FRAME_MS;
      const press = dtmf[d];
      if (press !== undefined && press.atMs <= now && press.atMs < frameDue) {
        send(dialect.dtmf(++seq, streamId, press.digit, press.durationMs ?? DEFAULT_DTMF_MS));
        dtmfSent.push({ digit: press.digit, atMs: press.atMs });
        log(press.atMs, 'dtmf', press.digit);
        d++;
        continue;
      }
      if (frameDue > now) break;
      settle(frameDue);
      const payloadB64 = k < totalFrames ? bytesView.toString('base64', k * frameBytes, Math.min((k + 1) * frameBytes, bytesView.length)) : silenceB64;
      send(dialect.media(++seq, streamId, { track: 'inbound', chunk: k + 1, timestampMs: k * FRAME_MS, payloadBase64: payloadB64 }));
      k++;
      if (k === totalFrames) log(audioEndMs, 'audio.end', `${Math.round(framed.durationMs)} ms of caller audio sent`);
      if (k >= totalFrames) {
        const sentMs = k * FRAME_MS;
        if (sentMs >= audioEndMs + holdMs && (!playback.isPlaying(sentMs) || sentMs >= audioEndMs + maxHoldMs)) {
          finished = true;
          break;
        }
      }
    }
    if (finished) break;
    settle(now);
    const candidates = [(k + 1) * FRAME_MS];
    const nextMark = playback.nextMarkDueMs();
    if (nextMark !== undefined) candidates.push(nextMark);
    if (playing) candidates.push(playback.queueEndMs());
    const nextPress = dtmf[d];
    if (nextPress !== undefined) candidates.push(nextPress.atMs);
    await waker.sleep((Math.min(...candidates) - mediaNow()) / speed, stopped.signal);
  }
  opts.signal?.removeEventListener('abort', onAbort);

  const endMs = mediaNow();
  if (!endReason) endReason = finished ? 'finished' : 'aborted';
  if (ws.readyState === WebSocket.OPEN) {
    settle(endMs);
    send(dialect.stop(++seq, { streamId, carrierCallId, accountId }));
    log(endMs, 'stop', endReason);
    ws.close(1000, endReason === 'finished' ? 'stream finished' : endReason);
  }
  if (ws.readyState !== WebSocket.CLOSED) {
    const timer = setTimeout(() => ws.terminate(), CLOSE_WAIT_MS);
    await closed;
    clearTimeout(timer);
  }

  return {
    ...identity,
    callId: stream.parameters.callId,
    stream: streamInfo,
    timeline,
    firstAudio,
    marks,
    clears,
    dtmfSent,
    dtmfReceived,
    audio: playback.heardAudio(endMs),
    receivedAudioMs: playback.receivedMs(),
    sentAudioMs: k * FRAME_MS,
    endReason,
    close,
    wallMs: Math.round(performance.now() - t0),
  };
}
