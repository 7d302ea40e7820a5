// One per media stream. Owns the media clock, decodes inbound audio once into 20 ms PCM frames for
// every consumer, owns the playout (marks), and is the call's event hub. It does no DSP, flow or
// vendor work itself: detectors, flows and the agent plug in through the CallControl interface.
import { FRAME_SAMPLES, SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { decodeMulawInto, encodeMulawInto } from '../../dsp/mulaw.ts';
import { Resampler } from '../../dsp/resample.ts';
import { createError } from '../errors.ts';
import { ByteBudget } from './byteBudget.ts';
import { decodeL16 } from '../telephony/l16.ts';
import type { CallControl, FrameConsumer, MediaConsumer, Playback, PlaybackWriter, PlayOptions } from './control.ts';
import type { CallEvent, Carrier, Direction } from './events.ts';
import { Listening, type ListenTarget } from './listening.ts';
import { MediaClock } from './mediaClock.ts';
import { MediaWatchdog } from './mediaWatchdog.ts';
import { OutboundQueue } from './outboundQueue.ts';
import { Playout, type PlayoutSink } from './playout.ts';
import { observeFrameProcessing } from '../observability/metrics.ts';
import type { DualChannelRecorder } from './recorder.ts';

export interface CallSink extends PlayoutSink {
  /** Outbound DTMF; absent where the carrier has none (Twilio). */
  sendDtmf?: (digit: string) => void;
  close(code: number, reason: string): void;
}

/** What the carrier's REST API can do to this call (absent for a local replay without credentials). */
export interface CarrierActions {
  hangup(): Promise<void>;
  transfer(target: { number: string; callerId?: string; timeoutS?: number }): Promise<void>;
}

export interface Timeline {
  append(callId: string, event: CallEvent): void;
}

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface InputFormat {
  encoding: 'mulaw' | 'l16';
  sampleRateHz: number;
}

export interface CallSessionOptions {
  callId: string;
  carrier: Carrier;
  direction: Direction;
  from: string;
  to: string;
  streamId: string;
  carrierCallId: string;
  parameters: Record<string, string>;
  input: InputFormat;
  sink: CallSink;
  timeline: Timeline;
  log: Logger;
  carrierActions?: CarrierActions;
  recorder?: DualChannelRecorder;
  playoutChunkMs?: number;
  /** Wall-clock ms without inbound media after which the call is ended (0 = off). */
  mediaTimeoutMs?: number;
  /**
   * The endpoint's shared watchdog timer (one for all its calls). Without it, or when its tick is
   * longer than this call's timeout allows, the call keeps a timer of its own.
   */
  mediaWatchdog?: MediaWatchdog;
  onEnded?: (session: CallSession, reason: string) => void;
  /** Bytes of held inbound media allowed across the process's calls (default: this call's own). */
  heldMediaBudget?: ByteBudget;
}

/**
 * A memory guard only (two minutes of 20 ms messages, about 1 MB): the functional bound on a hold is
 * the caller's wall-clock watchdog. A replay at 20× sends a minute of audio in three seconds.
 */
const MAX_HELD_MESSAGES = 6000;
/**
 * The same guard in bytes: messages may be up to MAX_MESSAGE_BYTES, not 160 bytes. 1 MiB is two
 * minutes of 8 kHz mu-law; per process, what all calls hold is bounded by heldMediaBudget.
 */
export const MAX_HELD_BYTES_PER_CALL = 1 << 20;

const abortError = (): Error => Object.assign(new Error('call ended or aborted'), { name: 'AbortError' });

export class CallSession implements CallControl {
  readonly callId: string;
  readonly carrier: Carrier;
  readonly direction: Direction;
  readonly from: string;
  readonly to: string;
  readonly streamId: string;
  readonly carrierCallId: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;

  private readonly opts: CallSessionOptions;
  private readonly abort = new AbortController();
  private readonly clock = new MediaClock();
  private readonly listening = new Listening();
  private readonly playout: Playout;
  private readonly frameConsumers: FrameConsumer[] = [];
  private readonly mediaConsumers: MediaConsumer[] = [];
  /** The audio sent to the caller and not yet played (read by the recorder and listen-in). */
  private readonly outbound = new OutboundQueue();
  private readonly listeners = new Set<(e: CallEvent) => void>();
  private readonly sleepers = new Set<(err: Error) => void>();
  // Frame assembly: carriers may send any payload size; detectors want exactly 20 ms.
  private readonly frame = new Int16Array(FRAME_SAMPLES);
  private readonly mulawFrame = new Uint8Array(FRAME_SAMPLES);
  /** What the caller hears from the gateway over the frame (recorded calls only). */
  private readonly outboundFrame = new Uint8Array(FRAME_SAMPLES);
  private fill = 0;
  private readonly resampler: Resampler | undefined;
  private endedReason: string | undefined;
  /** Inbound messages held while the call's program gets ready (see holdMedia). */
  private held: Array<{ payload: Uint8Array } | { digit: string; durationMs: number | undefined }> | undefined;
  private heldBytes = 0;
  private readonly heldBudget: ByteBudget;
  private draining = false;
  /** Media arrived since the watchdog's last tick (a flag per message instead of a clock read). */
  private mediaSinceTick = true;
  /** Whole watchdog ticks without media: the silence lasted at least this long. */
  private silentMs = 0;
  /** Stops this call's watchdog ticks. */
  private readonly unwatch: (() => void) | undefined;
  // What the per-message path reads, kept on the session itself: in a worker of hundreds of calls each
  // further object a message touches is a cache miss (the options, their input format, a counters object).
  private readonly mulawInput: boolean;
  private readonly recorder: CallSessionOptions['recorder'];
  private mediaMessages = 0;
  private framesProcessed = 0;
  private consumerErrors = 0;

  /** Counters for the health of the stream (a snapshot). */
  get stats(): { mediaMessages: number; framesProcessed: number; consumerErrors: number } {
    return { mediaMessages: this.mediaMessages, framesProcessed: this.framesProcessed, consumerErrors: this.consumerErrors };
  }

  constructor(opts: CallSessionOptions) {
    this.opts = opts;
    this.mulawInput = opts.input.encoding === 'mulaw';
    this.recorder = opts.recorder;
    this.heldBudget = opts.heldMediaBudget ?? new ByteBudget(MAX_HELD_BYTES_PER_CALL);
    this.callId = opts.callId;
    this.carrier = opts.carrier;
    this.direction = opts.direction;
    this.from = opts.from;
    this.to = opts.to;
    this.streamId = opts.streamId;
    this.carrierCallId = opts.carrierCallId;
    this.parameters = Object.freeze({ ...opts.parameters });
    this.signal = this.abort.signal;
    if (opts.input.encoding === 'l16' && opts.input.sampleRateHz !== SAMPLE_RATE_HZ) {
      this.resampler = new Resampler(opts.input.sampleRateHz, SAMPLE_RATE_HZ);
    }
    this.playout = new Playout(opts.sink, {
      chunkMs: opts.playoutChunkMs,
      nowMs: () => this.clock.nowMs(),
      emit: (e) => this.emit(e),
      onAudio: (chunk) => this.outbound.add(chunk, this.clock.nowSamples),
      onClear: () => this.outbound.clear(this.clock.nowSamples),
    });
    const timeoutMs = opts.mediaTimeoutMs ?? 0;
    if (timeoutMs > 0) {
      const shared = opts.mediaWatchdog;
      const watchdog = shared !== undefined && shared.tickMs <= Math.min(1000, timeoutMs) ? shared : new MediaWatchdog(Math.min(1000, timeoutMs));
      const tickMs = watchdog.tickMs;
      this.unwatch = watchdog.watch(() => {
        // Media after tick k and none at ticks k+1…k+m: the silence is at least m ticks long (and
        // shorter than m+1), so the call ends between timeoutMs and timeoutMs + tickMs after its last media.
        if (this.mediaSinceTick) {
          this.mediaSinceTick = false;
          this.silentMs = 0;
        } else if ((this.silentMs += tickMs) >= timeoutMs) this.end('media_timeout');
      });
    }
  }

  get ended(): boolean {
    return this.endedReason !== undefined;
  }

  mediaMs(): number {
    return this.clock.nowMs();
  }

  // ---- inbound, from the carrier ----

  /**
   * Hold inbound media (and DTMF) until releaseMedia(): the call's program starts after wall-clock work
   * (finding its flow), and holding keeps that work off the media clock — the flow starts at media
   * time 0 whether that took 1 ms or 100, live or replayed at 20×. The caller bounds the hold in wall
   * time; past MAX_HELD_MESSAGES it ends by itself.
   */
  holdMedia(): void {
    this.held ??= [];
  }

  /**
   * Process what was held, one message per event-loop turn (as if it were arriving now, so the program
   * interleaves with it as it would live); what arrives meanwhile queues behind it.
   */
  releaseMedia(): void {
    if (this.held === undefined || this.draining) return;
    this.draining = true;
    const next = (): void => {
      const held = this.held;
      const item = held?.shift();
      if (held === undefined || item === undefined || this.ended) {
        this.held = undefined;
        this.draining = false;
        return;
      }
      if ('payload' in item) this.unhold(item.payload.length);
      this.held = undefined; // let this item through
      if ('payload' in item) this.receiveMedia(item.payload);
      else this.receiveDtmf(item.digit, item.durationMs);
      this.held = held;
      setImmediate(next);
    };
    next();
  }

  private unhold(bytes: number): void {
    this.heldBytes -= bytes;
    this.heldBudget.give(bytes);
  }

  /** Raw payload bytes of one `media` message, in the stream's input format. */
  receiveMedia(payload: Uint8Array): void {
    if (this.ended) return;
    this.mediaSinceTick = true;
    if (this.held !== undefined) {
      this.held.push({ payload: payload.slice() });
      this.heldBytes += payload.length;
      const withinProcess = this.heldBudget.take(payload.length);
      if (this.held.length > MAX_HELD_MESSAGES || this.heldBytes > MAX_HELD_BYTES_PER_CALL || !withinProcess) this.releaseMedia();
      return;
    }
    this.mediaMessages++;
    if (this.mulawInput) {
      const n = payload.length;
      if (n === FRAME_SAMPLES && this.fill === 0) {
        // The usual message, one 20 ms frame on a frame boundary: decoded where it lies, and media
        // consumers read it there (they copy what they keep, as they do of the frame buffer).
        decodeMulawInto(payload, this.frame);
        this.processFrame(payload);
        return;
      }
      // Copied a frame's worth at a time through locals (a per-byte `this.fill++` was this method's
      // largest cost).
      const mulawFrame = this.mulawFrame;
      let i = 0;
      while (i < n) {
        const fill = this.fill;
        const take = Math.min(FRAME_SAMPLES - fill, n - i);
        for (let k = 0; k < take; k++) mulawFrame[fill + k] = payload[i + k] as number;
        i += take;
        this.fill = fill + take;
        if (this.fill === FRAME_SAMPLES) {
          decodeMulawInto(mulawFrame, this.frame);
          this.processFrame(mulawFrame);
          if (this.ended) return;
        }
      }
      return;
    }
    // L16 (byte order: telephony/l16.ts), resampled to the telephony rate once, here at the edge.
    const pcm = decodeL16(payload);
    const at8k = this.resampler ? this.resampler.process(pcm) : pcm;
    for (let i = 0; i < at8k.length; i++) {
      this.frame[this.fill++] = at8k[i] as number;
      if (this.fill === FRAME_SAMPLES) {
        encodeMulawInto(this.frame, this.mulawFrame);
        this.processFrame(this.mulawFrame);
        if (this.ended) return;
      }
    }
  }

  /** The frame in `this.frame` (PCM) and `mulaw` (the same audio as received, for media consumers). */
  private processFrame(mulaw: Uint8Array): void {
    this.fill = 0;
    // One frame in 64 is timed for the frame-processing histogram (a clock read per frame is not free).
    const timed = (this.framesProcessed & 63) === 63;
    const t0 = timed ? performance.now() : 0;
    const start = this.clock.nowSamples;
    // While the frame's consumers run, media time is the frame's end: what they detect, they detect
    // having heard the whole frame, and anything they emit carries that time. Timers fire after them.
    this.clock.tick(FRAME_SAMPLES);
    const recorder = this.recorder;
    if (recorder?.recording) {
      this.outbound.read(start, this.outboundFrame);
      recorder.addCallerFrame(this.frame, this.outboundFrame);
    }
    const frameConsumers = this.frameConsumers;
    for (let i = 0; i < frameConsumers.length; i++) {
      try {
        (frameConsumers[i] as FrameConsumer)(this.frame, start);
      } catch (err) {
        this.consumerFailed(err, frameConsumers, i--);
      }
    }
    const mediaConsumers = this.mediaConsumers;
    if (mediaConsumers.length > 0) {
      const atMs = this.clock.nowMs();
      for (let i = 0; i < mediaConsumers.length; i++) {
        try {
          (mediaConsumers[i] as MediaConsumer)(mulaw, atMs);
        } catch (err) {
          this.consumerFailed(err, mediaConsumers, i--);
        }
      }
    }
    this.framesProcessed++;
    if (timed) observeFrameProcessing((performance.now() - t0) / 1000);
    this.clock.fireDue();
  }

  private consumerFailed(err: unknown, list: unknown[], index: number): void {
    // One broken consumer must not take the call (or the process) down: drop it and carry on.
    this.consumerErrors++;
    list.splice(index, 1);
    this.opts.log.error({ err, callId: this.callId }, 'frame consumer failed and was removed');
  }

  receiveMark(name: string): void {
    this.playout.onMark(name);
  }

  receiveDtmf(digit: string, durationMs?: number): void {
    if (this.ended) return;
    if (this.held !== undefined) {
      this.held.push({ digit, durationMs });
      return;
    }
    this.emit({ type: 'dtmf', atMs: this.clock.nowMs(), digit, source: 'carrier', ...(durationMs === undefined ? {} : { durationMs }) });
  }

  // ---- CallControl ----

  play(mulaw: Uint8Array, opts?: PlayOptions): Playback {
    return this.ended ? this.playout.play(new Uint8Array(0), opts) : this.playout.play(mulaw, opts);
  }

  openPlayback(opts?: PlayOptions): PlaybackWriter {
    const writer = this.playout.open(opts);
    if (this.ended) writer.end();
    return writer;
  }

  clear(reason: string): void {
    if (!this.ended) this.playout.clear(reason);
  }

  isPlaying(): boolean {
    return this.playout.isPlaying();
  }

  sendDtmf(digits: string): void {
    const send = this.opts.sink.sendDtmf;
    if (send === undefined) {
      throw createError('GW_ERR_DTMF_UNSUPPORTED', `${this.carrier} media streams cannot send DTMF; use a transfer with sendDigits instead`, { statusCode: 400 });
    }
    if (!/^[0-9*#A-D]+$/.test(digits)) throw createError('GW_ERR_DTMF_INVALID', 'DTMF digits must be 0-9, *, # or A-D', { statusCode: 400 });
    if (this.ended) return;
    for (const d of digits) send(d);
    this.emit({ type: 'dtmf.sent', atMs: this.clock.nowMs(), digits });
  }

  emit(event: CallEvent): void {
    this.opts.timeline.append(this.callId, event);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.opts.log.error({ err, callId: this.callId, eventType: event.type }, 'event listener failed');
      }
    }
  }

  subscribe(listener: (event: CallEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async *events(signal?: AbortSignal): AsyncIterable<CallEvent> {
    const queue: CallEvent[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = this.subscribe((e) => {
      queue.push(e);
      wake?.();
    });
    const onAbort = (): void => wake?.();
    signal?.addEventListener('abort', onAbort);
    this.signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift() as CallEvent;
        if (this.ended || signal?.aborted) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      this.signal.removeEventListener('abort', onAbort);
    }
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.ended || signal?.aborted) return Promise.reject(abortError());
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        cancel();
        cleanup();
        reject(err);
      };
      const onAbort = (): void => fail(abortError());
      const cleanup = (): void => {
        this.sleepers.delete(fail);
        signal?.removeEventListener('abort', onAbort);
      };
      const cancel = this.clock.schedule(ms, () => {
        cleanup();
        resolve();
      });
      this.sleepers.add(fail);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  schedule(ms: number, fire: () => void): () => void {
    return this.clock.schedule(ms, fire);
  }

  listenFor(target: ListenTarget): () => void {
    return this.listening.listen(target);
  }

  watchListening(target: ListenTarget, watch: (listening: boolean) => void): () => void {
    return this.listening.watch(target, watch);
  }

  addFrameConsumer(consumer: FrameConsumer): () => void {
    this.frameConsumers.push(consumer);
    return () => removeItem(this.frameConsumers, consumer);
  }

  addMediaConsumer(consumer: MediaConsumer): () => void {
    this.mediaConsumers.push(consumer);
    return () => removeItem(this.mediaConsumers, consumer);
  }

  /**
   * Fills `out` with the gateway audio the caller hears from media time `fromMs` on, as the carrier
   * plays it (mu-law; silence where nothing plays). Reads move forward: what played before is forgotten.
   */
  readOutbound(fromMs: number, out: Uint8Array): void {
    this.outbound.read(Math.round((fromMs * SAMPLE_RATE_HZ) / 1000), out);
  }

  async hangup(reason: string): Promise<void> {
    if (this.ended) return;
    if (this.opts.carrierActions) {
      try {
        await this.opts.carrierActions.hangup();
      } catch (err) {
        // The stream is closed below either way; closing it ends a <Connect><Stream> call too.
        this.opts.log.warn({ err, callId: this.callId }, 'carrier hang-up failed; closing the stream');
      }
    }
    this.end(reason);
  }

  async transfer(target: { number: string; callerId?: string; timeoutS?: number }, reason: string): Promise<void> {
    if (this.ended) throw createError('GW_ERR_CALL_ENDED', 'the call has already ended', { statusCode: 409 });
    if (!this.opts.carrierActions) {
      throw createError('GW_ERR_TRANSFER_UNAVAILABLE', `no ${this.carrier} REST credentials are configured, so calls cannot be transferred`, { statusCode: 503 });
    }
    await this.opts.carrierActions.transfer(target);
    this.end(reason);
  }

  /** End the call (idempotent): every timer, iterator, playback and task of the call stops. */
  end(reason: string): void {
    if (this.ended) return;
    this.playout.close();
    // Ended before anyone hears of it: a listener that ends the call again from `call.ended` is a no-op.
    this.endedReason = reason;
    this.emit({ type: 'call.ended', atMs: this.clock.nowMs(), reason });
    this.unwatch?.();
    // Media still held is never processed now: its bytes go back to the process's budget (once:
    // releaseMedia gives back nothing after the end).
    this.unhold(this.heldBytes);
    this.clock.cancelAll();
    for (const fail of [...this.sleepers]) fail(abortError());
    this.abort.abort();
    try {
      this.opts.sink.close(1000, reason);
    } catch (err) {
      this.opts.log.warn({ err, callId: this.callId }, 'closing the media stream failed');
    }
    this.opts.onEnded?.(this, reason);
  }

  get endReason(): string | undefined {
    return this.endedReason;
  }
}

function removeItem<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
