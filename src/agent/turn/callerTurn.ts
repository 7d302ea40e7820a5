// The caller's side of an agent conversation: when they speak (the call's VAD, or the recogniser's own
// when the call has none), what they said (final transcripts and the current partial), and when their
// turn ends (endpointing.ts: a wait after their speech that depends on what they said). Speech over
// the agent goes to barge-in; a turn that ends is handed to the session to answer.
import type { CallControl } from '../../call/control.ts';
import type { CallEvent } from '../../call/events.ts';
import { GatewayError, isAbortError } from '../../errors.ts';
import type { AgentEmit } from '../events.ts';
import type { SpeechToText, SttStream } from '../providers.ts';
import type { BargeIn, CallerWords } from './bargeIn.ts';
import { endpointWait, type EndpointingOptions, type EndpointReason } from './endpointing.ts';
import type { MediaTimer } from './mediaTimers.ts';
import type { NoInputWatchdog } from './noInputWatchdog.ts';
import type { TurnRun } from './response.ts';

export interface CallerTurnOptions {
  /** See AgentOptions: how late the call's VAD reports the start and the end of speech. */
  vadOnsetMs: number;
  vadHangoverMs: number;
  endpointing: EndpointingOptions;
}

/** What the caller's turn needs of the agent session. */
export interface CallerTurnHost {
  mediaMs(): number;
  ended(): boolean;
  /** Is it the caller's turn (the agent neither thinking nor speaking)? */
  listening(): boolean;
  /** The answer in flight, if any. */
  current(): TurnRun | undefined;
  bargeIn(): BargeIn;
  noInput(): NoInputWatchdog;
  /** The caller's turn ended: answer `text`. */
  commit(text: string, speechEndMs: number, reason: EndpointReason, waitMs: number): void;
  /** What the VAD took for speech held no words: wait for the caller again. */
  nothingSaid(): void;
  emit: AgentEmit;
}

export class CallerTurn {
  /** What the caller said this turn (shared with barge-in, which weighs their words). */
  readonly words: CallerWords = { finals: [], partial: '' };
  private readonly host: CallerTurnHost;
  private readonly opts: CallerTurnOptions;
  private readonly endpointTimer: MediaTimer;
  private vadSeen = false;
  private userSpeaking = false;
  private speechStopMs: number | undefined;

  constructor(host: CallerTurnHost, opts: CallerTurnOptions, endpointTimer: MediaTimer) {
    this.host = host;
    this.opts = opts;
    this.endpointTimer = endpointTimer;
  }

  get speaking(): boolean {
    return this.userSpeaking;
  }

  /** The call's speech events: its VAD is authoritative. */
  onCallEvent(e: CallEvent): void {
    switch (e.type) {
      case 'speech.started':
        this.vadSeen = true;
        this.onSpeechStart(e.atMs - this.opts.vadOnsetMs);
        break;
      case 'speech.stopped':
        this.vadSeen = true;
        this.onSpeechStop(Math.max(0, e.atMs - this.opts.vadHangoverMs));
        break;
      default:
    }
  }

  /** Transcribe the caller's audio into this turn until `signal` aborts or the returned stop is called. */
  transcribe(call: CallControl, provider: SpeechToText, language: string | undefined, signal: AbortSignal, track: (task: Promise<unknown>) => void): () => void {
    const stt = provider.open({ signal, ...(language ? { language } : {}) });
    const removeMedia = call.addMediaConsumer((mulaw, atMs) => stt.write(mulaw, atMs));
    track(this.pumpStt(stt));
    return () => {
      removeMedia();
      stt.close();
    };
  }

  private async pumpStt(stt: SttStream): Promise<void> {
    try {
      for await (const ev of stt) {
        if (this.host.ended()) return;
        switch (ev.type) {
          case 'partial':
            this.words.partial = ev.text;
            break;
          case 'final':
            this.onFinal(ev.text);
            break;
          // The call's VAD is authoritative; the recogniser's own VAD stands in when there is none.
          case 'speech_started':
            if (!this.vadSeen) this.onSpeechStart(ev.atMs);
            break;
          case 'speech_stopped':
            if (!this.vadSeen) this.onSpeechStop(ev.atMs);
            break;
        }
      }
    } catch (err) {
      if (this.host.ended() || isAbortError(err)) return;
      // Speech input is gone for this call; DTMF still works, and no-input reprompts keep it alive.
      this.host.emit('agent.stt_failed', { code: err instanceof GatewayError ? err.code : 'unknown', message: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Everything the caller said this turn, final and partial. */
  pendingText(): string {
    return [...this.words.finals, this.words.partial].join(' ').trim();
  }

  /** End the caller's turn once they have been quiet long enough for what they said. */
  scheduleCommit(): void {
    if (!this.host.listening() || this.userSpeaking || this.speechStopMs === undefined) return;
    const stop = this.speechStopMs;
    const finalText = this.words.finals.join(' ').trim();
    const { waitMs, reason } = endpointWait(finalText === '' ? undefined : finalText, this.opts.endpointing);
    this.endpointTimer.set(stop + waitMs - this.host.mediaMs(), () => {
      if (!this.host.listening() || this.userSpeaking) return;
      const text = this.pendingText();
      if (text === '') {
        // Noise or silence that the VAD took for speech: nothing to answer.
        this.speechStopMs = undefined;
        this.host.nothingSaid();
        return;
      }
      this.host.commit(text, stop, reason, this.host.mediaMs() - stop);
    });
  }

  /** The turn was committed (by speech or keys): the next one starts empty. */
  committed(): void {
    this.words.finals = [];
    this.words.partial = '';
    this.speechStopMs = undefined;
    this.endpointTimer.clear();
  }

  /** Words of a turn that was taken back: they open the next one. */
  putBack(text: string): void {
    this.words.finals.unshift(text);
  }

  private onSpeechStart(atMs: number): void {
    this.userSpeaking = true;
    this.host.noInput().disarm();
    this.endpointTimer.clear(); // the caller goes on: a pending end-of-turn is void
    this.host.bargeIn().speechStarted(atMs, this.host.current());
  }

  private onSpeechStop(atMs: number): void {
    this.userSpeaking = false;
    this.speechStopMs = atMs;
    if (this.host.bargeIn().speechStopped()) return;
    if (this.host.listening()) this.scheduleCommit();
  }

  private onFinal(text: string): void {
    const t = text.trim();
    this.words.partial = '';
    if (t === '') return;
    // Recognition delay as the caller's turn sees it (Pipecat's STT TTFB: speech end → final).
    this.host.emit('turn.stt_final', {
      text: t,
      ...(this.speechStopMs !== undefined && !this.userSpeaking ? { sinceSpeechEndMs: this.host.mediaMs() - this.speechStopMs } : {}),
    });
    if (this.host.bargeIn().heardFinal(t, this.host.current())) return;
    if (this.host.listening() && !this.userSpeaking) {
      // A final with no VAD stop before it (no detector on this call): its arrival is the end.
      if (this.speechStopMs === undefined) this.speechStopMs = this.host.mediaMs();
      this.scheduleCommit();
    }
  }
}
