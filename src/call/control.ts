// What flows and the agent may do with a live call. CallSession implements it; flows and the agent
// depend only on this interface, so they can be tested against a session fed by the replay client.
import type { CallEvent, Carrier, Direction } from './events.ts';
import type { ListenTarget } from './listening.ts';

export interface PlaybackResult {
  /** Audio the carrier confirmed as played (mark echoes before any clear), in ms. */
  heardMs: number;
  audioMs: number;
  interrupted: boolean;
}

export interface Playback {
  readonly id: string;
  /** Resolves when the last mark is echoed, or when the playback is cleared. Never rejects. */
  readonly done: Promise<PlaybackResult>;
}

export interface PlayOptions {
  /** A name for the timeline (`greeting`, `say:ask`, `agent:turn3`). */
  label?: string;
}

/** An open playback that audio is appended to as it is produced (streaming TTS). */
export interface PlaybackWriter extends Playback {
  /** Audio given here (and to `play`) must not change afterwards: the call keeps it by reference until it has played. */
  write(mulaw: Uint8Array): void;
  /** No more audio; `done` resolves once everything written was heard or cleared. */
  end(): void;
}

export type FrameConsumer = (frame: Int16Array, startSample: number) => void;
export type MediaConsumer = (mulaw: Uint8Array, atMs: number) => void;

export interface CallControl {
  readonly callId: string;
  readonly carrier: Carrier;
  readonly direction: Direction;
  readonly from: string;
  readonly to: string;
  /** `<Parameter>`s the stream started with (flow id, variables…). */
  readonly parameters: Readonly<Record<string, string>>;
  /** Aborted when the call ends; every task of the call listens to it. */
  readonly signal: AbortSignal;

  /** The media clock: ms of inbound audio received so far. */
  mediaMs(): number;

  /** Queue 8 kHz mu-law audio. It goes out at once in chunks, each followed by a mark. */
  play(mulaw: Uint8Array, opts?: PlayOptions): Playback;
  /** Start a playback that is fed as audio is produced. */
  openPlayback(opts?: PlayOptions): PlaybackWriter;
  /** Drop everything queued or buffered at the carrier (barge-in). */
  clear(reason: string): void;
  /** True while some playback is not yet heard in full. */
  isPlaying(): boolean;
  /** Send DTMF to the caller (SignalWire streams only; throws GW_ERR_DTMF_UNSUPPORTED on Twilio). */
  sendDtmf(digits: string): void;

  /** Add an event to the timeline (persisted) and deliver it to listeners. */
  emit(event: CallEvent): void;
  /** Listen to every event of the call; returns the unsubscribe function. */
  subscribe(listener: (event: CallEvent) => void): () => void;
  /** Events as an async iterable; ends when the call ends or `signal` aborts. */
  events(signal?: AbortSignal): AsyncIterable<CallEvent>;
  /** Resolves after `ms` of media time; rejects with an AbortError when `signal` or the call aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Run `fire` after `ms` of media time; returns its cancel. Pending timers are dropped when the call ends. */
  schedule(ms: number, fire: () => void): () => void;

  /**
   * Something listens for `target` until the returned release is called, and the detectors only it
   * needs run meanwhile: `keys` (in-band DTMF; carrier DTMF events arrive regardless) is held by every
   * gather, interruptible prompt or agent that accepts keys; `beep` by a voicemail node waiting for a
   * greeting's end.
   */
  listenFor(target: ListenTarget): () => void;
  /** Calls `watch` with whether anything listens for `target`, now and on every change (the detectors). */
  watchListening(target: ListenTarget, watch: (listening: boolean) => void): () => void;

  /** Decoded inbound frames (160 samples, 8 kHz). The frame is reused: copy what you keep. */
  addFrameConsumer(consumer: FrameConsumer): () => void;
  /** Inbound mu-law bytes as received (for passthrough to STT). Reused buffer: copy what you keep. */
  addMediaConsumer(consumer: MediaConsumer): () => void;

  /** End the call at the carrier and close the stream. */
  hangup(reason: string): Promise<void>;
  /** Move the call to another number via the carrier (ends this stream). */
  transfer(target: { number: string; callerId?: string; timeoutS?: number }, reason: string): Promise<void>;
}
