// OpenAI realtime transcription over the SDK's websocket client (`openai/realtime/ws`, intent
// `transcription`). The carrier's 8 kHz mu-law passes straight through as `audio/pcmu` (no transcoding,
// DESIGN decision 4). Frames are batched to 100 ms per `input_audio_buffer.append` to keep the message
// rate at 10/s per call. If the socket drops mid-call the adapter reconnects with bounded retries and
// backoff, buffering up to `maxBufferMs` of audio meanwhile (older audio is dropped: a stale utterance
// is worth less than a fresh one). Server times (`audio_start_ms`) are relative to each session's
// audio, so they are shifted by the media time at which that session's audio began.
import { openAiClient, openAiRealtimeWs, type OpenAiClient, type OpenAiRealtimeWs, type OpenAiRealtimeWsClass } from '../openaiSdk.ts';
import { createError } from '../../errors.ts';
import { AsyncQueue } from '../asyncQueue.ts';
import type { SpeechToText, SttEvent, SttStream } from '../providers.ts';
import { abortableDelay } from '../../resilience/policy.ts';

export interface OpenAiRealtimeSttOptions {
  apiKey: string;
  /** https://…/v1; the SDK turns it into wss://…/v1/realtime?intent=transcription. */
  baseURL?: string;
  model: string;
  /** Extra CA certificates for the websocket's TLS (tests; private gateways). */
  ca?: string | Buffer;
  /** Reconnect attempts after a drop before the stream fails. */
  maxReconnects?: number;
  reconnectBaseDelayMs?: number;
  maxBufferMs?: number;
  /** Server-side VAD silence that closes an utterance (gives the final transcript). */
  silenceDurationMs?: number;
}

const BATCH_BYTES = 800; // 100 ms of 8 kHz mu-law

export class OpenAiRealtimeStt implements SpeechToText {
  readonly name = 'openai-realtime';
  private readonly sdk: Promise<RealtimeSdk>;
  private readonly opts: OpenAiRealtimeSttOptions;

  constructor(opts: OpenAiRealtimeSttOptions) {
    this.opts = opts;
    this.sdk = Promise.all([openAiClient({ apiKey: opts.apiKey, baseURL: opts.baseURL ?? null, maxRetries: 0 }), openAiRealtimeWs()]).then(([client, RealtimeWs]) => ({ client, RealtimeWs }));
    this.sdk.catch(() => undefined); // a failed import fails each stream that awaits it, not the process
  }

  open(o: { signal: AbortSignal; language?: string }): SttStream {
    return new RealtimeSttStream(this.sdk, this.opts, o.signal, o.language);
  }
}

/** The SDK's client and realtime websocket class, imported once per provider. */
interface RealtimeSdk {
  client: OpenAiClient;
  RealtimeWs: OpenAiRealtimeWsClass;
}

class RealtimeSttStream implements SttStream {
  private readonly queue = new AsyncQueue<SttEvent>();
  private readonly sdk: Promise<RealtimeSdk>;
  private readonly opts: OpenAiRealtimeSttOptions;
  private readonly signal: AbortSignal;
  private readonly language: string | undefined;
  private rt: OpenAiRealtimeWs | undefined;
  private ready = false;
  private closed = false;
  private reconnects = 0;
  /** Media time of the first byte sent on the current session. */
  private sessionStartMs = -1;
  private readonly batch = new Uint8Array(BATCH_BYTES);
  private batchLen = 0;
  private batchStartMs = 0;
  /** Batches waiting while (re)connecting, oldest first. */
  private backlog: { bytes: Uint8Array; atMs: number }[] = [];
  private readonly partials = new Map<string, string>();
  private readonly onAbort = () => this.close();

  constructor(sdk: Promise<RealtimeSdk>, opts: OpenAiRealtimeSttOptions, signal: AbortSignal, language: string | undefined) {
    this.sdk = sdk;
    this.opts = opts;
    this.signal = signal;
    this.language = language;
    if (signal.aborted) {
      this.closed = true;
      this.queue.end();
      return;
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.connect();
  }

  private connect(): void {
    this.ready = false;
    this.sessionStartMs = -1;
    this.partials.clear();
    // Audio written meanwhile waits in the backlog, as while a socket opens.
    this.sdk.then(
      (sdk) => {
        if (!this.closed) this.open(sdk);
      },
      (err: unknown) => {
        if (!this.closed) this.fail(createError('GW_ERR_STT_FAILED', `realtime transcription could not load the openai SDK: ${err instanceof Error ? err.message : String(err)}`, { retryable: false, statusCode: 502 }));
      },
    );
  }

  private open(sdk: RealtimeSdk): void {
    const rt = new sdk.RealtimeWs({ intent: 'transcription', ...(this.opts.ca ? { options: { ca: this.opts.ca } } : {}) }, sdk.client);
    this.rt = rt;
    rt.on('error', (err) => {
      // Transport errors also close the socket; the close handler decides about reconnecting. An error
      // the server reports as an event (bad session config, unknown model, auth) will not heal by
      // reconnecting: the stream fails so the agent knows speech input is gone.
      if (err.error === undefined || this.closed) return;
      this.fail(createError('GW_ERR_STT_FAILED', `realtime transcription refused the session: ${err.message}`, { retryable: false, statusCode: 502, details: { type: err.error.type, code: err.error.code } }));
    });
    rt.socket.on('open', () => {
      if (this.closed || rt !== this.rt) return;
      rt.send({
        type: 'session.update',
        session: {
          type: 'transcription',
          audio: {
            input: {
              format: { type: 'audio/pcmu' },
              transcription: { model: this.opts.model, ...(this.language ? { language: this.language } : {}) },
              turn_detection: { type: 'server_vad', silence_duration_ms: this.opts.silenceDurationMs ?? 300, prefix_padding_ms: 300 },
            },
          },
        },
      });
      this.ready = true;
      for (const b of this.backlog) this.send(b.bytes, b.atMs);
      this.backlog = [];
    });
    rt.on('input_audio_buffer.speech_started', (e) => this.queue.push({ type: 'speech_started', atMs: this.toMediaMs(e.audio_start_ms) }));
    rt.on('input_audio_buffer.speech_stopped', (e) => this.queue.push({ type: 'speech_stopped', atMs: this.toMediaMs(e.audio_end_ms) }));
    rt.on('conversation.item.input_audio_transcription.delta', (e) => {
      const text = (this.partials.get(e.item_id) ?? '') + (e.delta ?? '');
      this.partials.set(e.item_id, text);
      this.queue.push({ type: 'partial', text });
    });
    rt.on('conversation.item.input_audio_transcription.completed', (e) => {
      // A transcript proves the session works: only then is the reconnect budget restored, so a
      // socket that opens and drops again and again still runs out of retries.
      this.reconnects = 0;
      this.partials.delete(e.item_id);
      this.queue.push({ type: 'final', text: e.transcript });
    });
    rt.socket.on('close', () => {
      if (rt !== this.rt) return;
      this.ready = false;
      if (this.closed) return;
      void this.reconnect();
    });
  }

  private fail(err: Error): void {
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    const rt = this.rt;
    this.rt = undefined;
    if (rt && rt.socket.readyState <= 1) rt.socket.terminate();
    this.queue.fail(err);
  }

  private async reconnect(): Promise<void> {
    const max = this.opts.maxReconnects ?? 3;
    if (this.reconnects >= max) {
      this.fail(createError('GW_ERR_STT_DISCONNECTED', `realtime transcription socket dropped ${max + 1} times; speech input is unavailable for this call`, { retryable: false, statusCode: 502 }));
      return;
    }
    const delay = (this.opts.reconnectBaseDelayMs ?? 200) * 2 ** this.reconnects;
    this.reconnects++;
    try {
      await abortableDelay(delay, this.signal);
    } catch {
      return; // the call ended while waiting
    }
    if (!this.closed) this.connect();
  }

  private toMediaMs(serverMs: number): number {
    return (this.sessionStartMs < 0 ? 0 : this.sessionStartMs) + serverMs;
  }

  write(mulaw: Uint8Array, atMs: number): void {
    if (this.closed) return;
    let off = 0;
    while (off < mulaw.length) {
      if (this.batchLen === 0) this.batchStartMs = atMs + off / 8;
      const n = Math.min(BATCH_BYTES - this.batchLen, mulaw.length - off);
      // A byte loop rather than set(subarray()): no view object per 20 ms frame on the media path.
      for (let i = 0; i < n; i++) this.batch[this.batchLen + i] = mulaw[off + i] as number;
      this.batchLen += n;
      off += n;
      if (this.batchLen === BATCH_BYTES) this.flushBatch();
    }
  }

  private flushBatch(): void {
    if (this.batchLen === 0) return;
    if (this.ready) this.send(this.batch.subarray(0, this.batchLen), this.batchStartMs);
    else {
      this.backlog.push({ bytes: this.batch.slice(0, this.batchLen), atMs: this.batchStartMs });
      const maxBatches = Math.ceil((this.opts.maxBufferMs ?? 2000) / 100);
      if (this.backlog.length > maxBatches) this.backlog.splice(0, this.backlog.length - maxBatches);
    }
    this.batchLen = 0;
  }

  private send(bytes: Uint8Array, atMs: number): void {
    if (this.sessionStartMs < 0) this.sessionStartMs = atMs;
    this.rt?.send({ type: 'input_audio_buffer.append', audio: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.ready = false;
    const rt = this.rt;
    this.rt = undefined;
    if (rt && rt.socket.readyState <= 1) rt.socket.terminate();
    this.queue.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<SttEvent> {
    return this.queue[Symbol.asyncIterator]();
  }
}
