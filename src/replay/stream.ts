// One media stream as the carrier runs it: `connected` and `start`, then 20 ms media frames paced at
// `speed` × real time on a drift-free schedule, DTMF at given media times, and `stop`; meanwhile what
// the gateway sends is played back like a carrier's buffer does (CarrierPlayback): marks echoed when
// their audio has played, `clear` drops the queue and echoes pending marks at once. A stand-in for a
// real-time device, it runs on the wall clock scaled by `speed`; every time it reports is media time
// (ms of caller audio sent), which is what the gateway's media clock counts too.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { FRAME_MS } from '../../dsp/frame.ts';
import type { CarrierDialect, MediaFormat } from '../telephony/types.ts';
import { InboundAudioDecoder, type FramedAudio } from './audio.ts';
import { CarrierPlayback, type MarkEcho } from './playback.ts';

export interface DtmfPress {
  digit: string;
  /** Media time (ms of caller audio sent) at which the key is pressed. */
  atMs: number;
  /** SignalWire reports a duration; default 250 ms. */
  durationMs?: number;
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

export interface StreamParams {
  /** An open websocket to the gateway's media endpoint. */
  ws: WebSocket;
  dialect: CarrierDialect;
  format: MediaFormat;
  /** The caller's audio, in the wire format. */
  framed: FramedAudio;
  streamId: string;
  carrierCallId: string;
  accountId: string;
  customParameters: Record<string, string>;
  speed: number;
  holdMs: number;
  maxHoldMs: number;
  /** Sorted by time, digits valid for the dialect. */
  dtmf: readonly DtmfPress[];
  signal: AbortSignal | undefined;
  log: (atMs: number, event: string, detail?: string) => void;
  /** Detail of the `start` timeline entry. */
  startDetail: string;
}

export interface StreamOutcome {
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
  endReason: Exclude<ReplayEndReason, 'no-stream'>;
  close: { code: number; reason: string } | undefined;
  wallMs: number;
}

const DEFAULT_DTMF_MS = 250;
const CLOSE_WAIT_MS = 2000;

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

export async function runCarrierStream(p: StreamParams): Promise<StreamOutcome> {
  const { ws, dialect, format, framed, streamId, carrierCallId, accountId, speed, holdMs, maxHoldMs, dtmf, log } = p;
  const playback = new CarrierPlayback();
  const decoder = new InboundAudioDecoder(format);
  const stopped = new AbortController();
  const waker = new Waker();
  const marks: MarkRecord[] = [];
  const clears: StreamOutcome['clears'] = [];
  const dtmfSent: StreamOutcome['dtmfSent'] = [];
  const dtmfReceived: StreamOutcome['dtmfReceived'] = [];
  let endReason: StreamOutcome['endReason'] | undefined;
  let close: StreamOutcome['close'];
  let firstAudio: StreamOutcome['firstAudio'];
  let seq = 0;
  let playing = false;

  const send = (text: string): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(text);
  };
  send(dialect.connected());
  send(dialect.start(++seq, { streamId, carrierCallId, accountId, tracks: ['inbound'], mediaFormat: format, customParameters: p.customParameters }));
  const t0 = performance.now();
  const mediaNow = (): number => (performance.now() - t0) * speed;
  log(0, 'start', p.startDetail);

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
  p.signal?.addEventListener('abort', onAbort, { once: true });
  if (p.signal?.aborted) onAbort();

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
  p.signal?.removeEventListener('abort', onAbort);

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
