// The conversational loop of one `agent` node on one call: listen (STT + the call's VAD events),
// decide the end of the caller's turn (endpointing.ts), answer (LLM → sentence chunker → TTS →
// playout, pipelined so the first sentence plays while the rest is still generated), and yield the
// floor the moment the caller talks over it (barge-in: pause → confirm or resume). Everything runs on
// the call's media clock; every task hangs off the node's AbortSignal.
//
// States: listening (caller's turn) → thinking (a response is being made, nothing heard yet) →
// speaking (audio going out) → listening … until a tool, a limit or the call ends it (ended). Each
// state is entered by one method (toListening, toThinking, toSpeaking, toEnded). The parts live beside
// it in turn/: BargeIn (talking over the agent), DtmfCollector (keypad turns), NoInputWatchdog
// (reprompts), MediaTimers (cancellable media-clock timers) and TaskGroup (every task run() awaits).
import type { CallControl } from '../call/control.ts';
import type { CallEvent } from '../call/events.ts';
import { GatewayError, isAbortError } from '../errors.ts';
import type { AgentEmit, AgentEvent, AgentEventData } from './events.ts';
import type { AgentNodeSpec, AgentOutcome } from './node.ts';
import type { ChatMessage, LanguageModel, SpeechToText, StreamingTextToSpeech, SttStream, TextToSpeech } from './providers.ts';
import type { TtsCache } from './tts/cache.ts';
import { BargeIn, DEFAULT_BARGE_IN, type BargeInOptions, type CallerWords } from './turn/bargeIn.ts';
import { DtmfCollector } from './turn/dtmfCollector.ts';
import { DEFAULT_ENDPOINTING, endpointWait, type EndpointingOptions, type EndpointReason } from './turn/endpointing.ts';
import { heardText } from './turn/heardText.ts';
import { MediaTimers, type MediaTimer } from './turn/mediaTimers.ts';
import { TurnMetrics } from './turn/metrics.ts';
import { NoInputWatchdog } from './turn/noInputWatchdog.ts';
import { generateResponse, removeMessage, speakStatic, truncateRun, type ResponseContext, type TurnRun } from './turn/response.ts';
import { TaskGroup } from './turn/taskGroup.ts';
import { Utterance } from './turn/utterance.ts';

export type { BargeInOptions } from './turn/bargeIn.ts';

export interface AgentOptions {
  /**
   * The call's VAD reports speech.started after this much speech and speech.stopped after
   * `vadHangoverMs` of silence (dsp/vad.ts defaults: 60 and 240 ms). The agent dates speech from its
   * estimated true start and end, so barge-in and endpointing budgets are measured as the caller
   * experiences them.
   */
  vadOnsetMs?: number;
  vadHangoverMs?: number;
  stt: SpeechToText | undefined;
  llm: LanguageModel | undefined;
  tts: TextToSpeech;
  /** For static prompts (greeting, reprompt, apology, filler). */
  ttsCache?: TtsCache;
  /** Stream LLM tokens into this TTS (ElevenLabs stream-input) instead of sentence by sentence. */
  streamTts?: StreamingTextToSpeech;
  /** Token stream silent this long (wall) → the answer is voiced through `tts` instead. */
  streamFirstAudioTimeoutMs?: number;
  endpointing?: Partial<EndpointingOptions>;
  bargeIn?: Partial<BargeInOptions>;
  /** Default no-input reprompt delay when the node gives none. */
  noInputMs?: number;
  maxReprompts?: number;
  repromptText?: string;
  /** Said when a response is slow to start (never dead air). */
  fillerText?: string;
  fillerAfterMs?: number;
  apologyText?: string;
  maxConsecutiveFailures?: number;
  defaultMaxTurns?: number;
  defaultMaxDurationMs?: number;
  dtmfInterDigitMs?: number;
  maxToolHops?: number;
  /** First words fast: the first piece of an answer may end at a clause break this far in (0 = off). */
  firstClauseMinChars?: number;
  language?: string;
}

type State = 'listening' | 'thinking' | 'speaking' | 'ended';

const SYSTEM_SUFFIX =
  'You are speaking on a phone call: answer in one to three short spoken sentences, no lists or markup. ' +
  "Keypad presses reach you as 'DTMF: <digits>'. Use the tools to act; say a short sentence before transfer or hangup.";

export class AgentSession {
  private readonly call: CallControl;
  private readonly spec: AgentNodeSpec;
  private readonly o: Required<Omit<AgentOptions, 'stt' | 'llm' | 'ttsCache' | 'streamTts' | 'language' | 'endpointing' | 'bargeIn'>> &
    Pick<AgentOptions, 'stt' | 'llm' | 'ttsCache' | 'streamTts' | 'language'>;
  private readonly endpointing: EndpointingOptions;
  private readonly ac = new AbortController();
  private readonly timers: MediaTimers;
  private readonly endpointTimer: MediaTimer;
  private readonly tasks = new TaskGroup();
  private readonly bargeIn: BargeIn;
  private readonly dtmf: DtmfCollector;
  private readonly noInput: NoInputWatchdog;
  private readonly history: ChatMessage[] = [];
  private readonly variables: Record<string, unknown> = {};
  private readonly startMs: number;
  private state: State = 'listening';
  private current: TurnRun | undefined;
  private turnCount = 0;
  private failures = 0;
  // Caller speech and transcript.
  private vadSeen = false;
  private userSpeaking = false;
  private speechStopMs: number | undefined;
  private readonly words: CallerWords = { finals: [], partial: '' };
  private sttStream: SttStream | undefined;
  private responseCtx: ResponseContext | undefined;
  private resolveOutcome!: (o: AgentOutcome) => void;
  private readonly outcome: Promise<AgentOutcome>;

  constructor(call: CallControl, spec: AgentNodeSpec, variables: Readonly<Record<string, unknown>>, opts: AgentOptions, signal: AbortSignal) {
    this.call = call;
    this.spec = spec;
    this.o = {
      vadOnsetMs: 60,
      vadHangoverMs: 240,
      noInputMs: 8000,
      maxReprompts: 2,
      repromptText: 'Are you still there?',
      fillerText: 'One moment, please.',
      fillerAfterMs: 2500,
      apologyText: "Sorry, I'm having trouble right now. Could you say that again?",
      maxConsecutiveFailures: 2,
      defaultMaxTurns: 30,
      defaultMaxDurationMs: 15 * 60_000,
      dtmfInterDigitMs: 1500,
      maxToolHops: 4,
      firstClauseMinChars: 40,
      streamFirstAudioTimeoutMs: 3000,
      ...opts,
    };
    this.endpointing = { ...DEFAULT_ENDPOINTING, ...opts.endpointing };
    this.timers = new MediaTimers((ms, fire) => call.schedule(ms, fire));
    this.endpointTimer = this.timers.timer();
    this.bargeIn = new BargeIn(
      { ...DEFAULT_BARGE_IN, ...opts.bargeIn },
      {
        words: this.words,
        mediaMs: () => call.mediaMs(),
        isPlaying: () => call.isPlaying(),
        userSpeaking: () => this.userSpeaking,
        emit: (type, data) => this.emit(type, data),
        confirm: (run, reason) => this.confirmBarge(run, reason),
        commitWhenQuiet: () => this.scheduleCommit(),
        track: (task) => this.tasks.track(task),
      },
      this.timers.timer(),
      this.timers.timer(),
    );
    this.dtmf = new DtmfCollector(this.timers.timer(), this.o.dtmfInterDigitMs, (digits) => {
      if (this.state !== 'ended') this.commitUserTurn(`DTMF: ${digits}`, call.mediaMs(), 'dtmf', 0);
    });
    this.noInput = new NoInputWatchdog(this.timers.timer(), this.o.maxReprompts, {
      stillWaiting: () => this.state === 'listening' && !this.userSpeaking && !this.current,
      giveUp: () => this.finish({ exit: 'limit', reason: 'no_input', variables: this.variables }),
      reprompt: (count) => {
        this.emit('agent.reprompt', { count });
        this.startStatic(this.o.repromptText, `reprompt${count}`);
      },
    });
    Object.assign(this.variables, variables);
    this.startMs = call.mediaMs();
    this.outcome = new Promise((r) => (this.resolveOutcome = r));
    const onAbort = () => this.finish({ exit: call.signal.aborted ? 'hangup' : 'error', reason: call.signal.aborted ? 'call_ended' : 'aborted', variables: this.variables });
    for (const s of [signal, call.signal]) {
      if (s.aborted) queueMicrotask(onAbort);
      else s.addEventListener('abort', onAbort, { once: true, signal: this.ac.signal });
    }
    const known = Object.keys(variables).length > 0 ? `\nKnown variables: ${JSON.stringify(variables)}` : '';
    this.history.push({ role: 'system', content: `${spec.instructions}\n\n${SYSTEM_SUFFIX}${known}` });
  }

  /** Conversation so far (tests, timeline). */
  messages(): readonly ChatMessage[] {
    return this.history;
  }

  async run(): Promise<AgentOutcome> {
    if (!this.o.llm) {
      this.finish({ exit: 'error', reason: 'no_llm', variables: this.variables });
      return this.outcome;
    }
    this.emit('agent.started', { tools: this.spec.tools, greeting: this.spec.greeting !== undefined });
    const unsubscribe = this.call.subscribe((e) => this.onCallEvent(e));
    let removeMedia: (() => void) | undefined;
    if (this.o.stt) {
      const stt = this.o.stt.open({ signal: this.ac.signal, ...(this.o.language ? { language: this.o.language } : {}) });
      this.sttStream = stt;
      removeMedia = this.call.addMediaConsumer((mulaw, atMs) => stt.write(mulaw, atMs));
      this.tasks.track(this.pumpStt(stt));
    }
    const static_ = [this.o.repromptText, this.o.fillerText, this.o.apologyText, ...(this.spec.greeting ? [this.spec.greeting] : [])];
    if (this.o.ttsCache) this.tasks.track(this.o.ttsCache.prefetch(static_, this.ac.signal));
    this.timers.once(this.spec.maxDurationMs ?? this.o.defaultMaxDurationMs, () => this.finish({ exit: 'limit', reason: 'max_duration', variables: this.variables }));
    if (this.spec.greeting) this.startStatic(this.spec.greeting, 'greeting');
    else this.toListening();
    try {
      return await this.outcome;
    } finally {
      unsubscribe();
      removeMedia?.();
      this.sttStream?.close();
      this.current?.ac.abort();
      this.current?.utterance.cancel();
      this.timers.cancelAll();
      this.ac.abort();
      // Everything the node started ends with it.
      await this.tasks.settle();
    }
  }

  // ── events in ────────────────────────────────────────────────────────────────────────────────────

  private onCallEvent(e: CallEvent): void {
    if (this.state === 'ended') return;
    switch (e.type) {
      case 'speech.started':
        this.vadSeen = true;
        this.onSpeechStart(e.atMs - this.o.vadOnsetMs);
        break;
      case 'speech.stopped':
        this.vadSeen = true;
        this.onSpeechStop(Math.max(0, e.atMs - this.o.vadHangoverMs));
        break;
      case 'dtmf':
        this.onDtmf(e.digit);
        break;
      default:
    }
  }

  private async pumpStt(stt: SttStream): Promise<void> {
    try {
      for await (const ev of stt) {
        if (this.state === 'ended') return;
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
      if (this.state === 'ended' || isAbortError(err)) return;
      // Speech input is gone for this call; DTMF still works, and no-input reprompts keep it alive.
      this.emit('agent.stt_failed', { code: err instanceof GatewayError ? err.code : 'unknown', message: err instanceof Error ? err.message : String(err) });
    }
  }

  private onSpeechStart(atMs: number): void {
    this.userSpeaking = true;
    this.noInput.disarm();
    this.endpointTimer.clear(); // the caller goes on: a pending end-of-turn is void
    this.bargeIn.speechStarted(atMs, this.current);
  }

  private onSpeechStop(atMs: number): void {
    this.userSpeaking = false;
    this.speechStopMs = atMs;
    if (this.bargeIn.speechStopped()) return;
    if (this.state === 'listening') this.scheduleCommit();
  }

  private onFinal(text: string): void {
    const t = text.trim();
    this.words.partial = '';
    if (t === '') return;
    // Recognition delay as the caller's turn sees it (Pipecat's STT TTFB: speech end → final).
    this.emit('turn.stt_final', {
      text: t,
      ...(this.speechStopMs !== undefined && !this.userSpeaking ? { sinceSpeechEndMs: this.call.mediaMs() - this.speechStopMs } : {}),
    });
    if (this.bargeIn.heardFinal(t, this.current)) return;
    if (this.state === 'listening' && !this.userSpeaking) {
      // A final with no VAD stop before it (no detector on this call): its arrival is the end.
      if (this.speechStopMs === undefined) this.speechStopMs = this.call.mediaMs();
      this.scheduleCommit();
    }
  }

  private onDtmf(digit: string): void {
    this.noInput.disarm();
    // A key press is deliberate: it interrupts at once.
    if (this.current) this.confirmBarge(this.current, 'dtmf');
    this.dtmf.press(digit);
  }

  // ── endpointing ──────────────────────────────────────────────────────────────────────────────────

  private pendingText(): string {
    return [...this.words.finals, this.words.partial].join(' ').trim();
  }

  private scheduleCommit(): void {
    if (this.state !== 'listening' || this.userSpeaking || this.speechStopMs === undefined) return;
    const stop = this.speechStopMs;
    const finalText = this.words.finals.join(' ').trim();
    const { waitMs, reason } = endpointWait(finalText === '' ? undefined : finalText, this.endpointing);
    this.endpointTimer.set(stop + waitMs - this.call.mediaMs(), () => {
      if (this.state !== 'listening' || this.userSpeaking) return;
      const text = this.pendingText();
      if (text === '') {
        // Noise or silence that the VAD took for speech: nothing to answer.
        this.speechStopMs = undefined;
        this.toListening();
        return;
      }
      this.commitUserTurn(text, stop, reason, this.call.mediaMs() - stop);
    });
  }

  private commitUserTurn(text: string, speechEndMs: number, reason: EndpointReason | 'dtmf', waitMs: number): void {
    if (this.state === 'ended') return;
    this.words.finals = [];
    this.words.partial = '';
    this.speechStopMs = undefined;
    this.endpointTimer.clear();
    this.noInput.answered();
    this.turnCount++;
    const speechEnd: AgentEventData['turn.user_speech_end'] = { turn: this.turnCount };
    this.call.emit({ type: 'turn.user_speech_end', atMs: speechEndMs, data: speechEnd });
    this.emit('turn.transcript', { turn: this.turnCount, text, source: reason === 'dtmf' ? 'dtmf' : 'stt' });
    this.emit('turn.endpoint', { turn: this.turnCount, waitMs, reason });
    const userMsg: ChatMessage = { role: 'user', content: text };
    this.history.push(userMsg);
    this.startResponse(userMsg, speechEndMs);
  }

  // ── responses ────────────────────────────────────────────────────────────────────────────────────

  private newRun(label: string, userMsg: ChatMessage | undefined, speechEndMs: number | undefined): TurnRun {
    const ac = new AbortController();
    this.ac.signal.addEventListener('abort', () => ac.abort(), { once: true, signal: ac.signal });
    const n = this.turnCount;
    const metrics = userMsg ? new TurnMetrics(this.call, n, speechEndMs) : undefined;
    const run: TurnRun = {
      n,
      ac,
      metrics,
      userMsg,
      spoken: [],
      outcome: undefined,
      failed: false,
      provider: undefined,
      utterance: new Utterance(this.call, label, () => {
        if (this.current === run) this.toSpeaking();
        metrics?.firstAudio();
      }),
    };
    this.toThinking(run);
    return run;
  }

  // ── states: each entered by one method ───────────────────────────────────────────────────────────

  /** A response is being made for the caller; nothing of it is heard yet. */
  private toThinking(run: TurnRun): void {
    this.current = run;
    this.state = 'thinking';
  }

  /** The response's first audio went out. */
  private toSpeaking(): void {
    if (this.state === 'thinking') this.state = 'speaking';
  }

  /** The caller's turn: commit what they already said, or wait for them (no-input watchdog). */
  private toListening(): void {
    if (this.state === 'ended') return;
    this.state = 'listening';
    if (this.pendingText() !== '' && !this.userSpeaking) this.scheduleCommit();
    this.noInput.arm(this.spec.noInputMs ?? this.o.noInputMs);
  }

  /** The node is over: stop the current answer, cancel every timer, hand the outcome to run(). */
  private finish(outcome: AgentOutcome): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.current?.ac.abort();
    this.timers.cancelAll();
    this.emit('agent.ended', { exit: outcome.exit, reason: outcome.reason, turns: this.turnCount, durationMs: this.call.mediaMs() - this.startMs });
    this.resolveOutcome(outcome);
  }

  // ── response runs ────────────────────────────────────────────────────────────────────────────────

  private startResponse(userMsg: ChatMessage, speechEndMs: number): void {
    const run = this.newRun(`agent:turn${this.turnCount}`, userMsg, speechEndMs);
    this.watchForSilence(run);
    this.tasks.track(
      generateResponse(this.ctx(), run).then(
        () => this.afterRun(run),
        (err: unknown) => this.runFailed(run, err),
      ),
    );
  }

  private startStatic(text: string, label: string): void {
    const run = this.newRun(label, undefined, undefined);
    this.tasks.track(
      speakStatic(this.ctx(), run, text).then(
        () => this.afterRun(run),
        (err: unknown) => this.runFailed(run, err),
      ),
    );
  }

  /** Never dead air: if a response has produced no audio after a while, say a short filler. */
  private watchForSilence(run: TurnRun): void {
    this.timers.once(this.o.fillerAfterMs, () => {
      if (this.state === 'ended' || this.current !== run || run.utterance.hasAudio || run.utterance.isPaused || run.ac.signal.aborted) return;
      const audio = this.o.ttsCache?.peek(this.o.fillerText);
      if (!audio) return;
      this.emit('agent.filler', { turn: run.n });
      this.call.play(audio, { label: 'filler' });
    });
  }

  /** After a run's audio is out: wait until heard (or a barge-in decides), then move on. */
  private async afterRun(run: TurnRun): Promise<void> {
    while (!run.ac.signal.aborted && this.state !== 'ended') {
      if (run.utterance.isPaused) {
        await this.call.sleep(20, run.ac.signal).catch(() => undefined);
        continue;
      }
      await run.utterance.settled();
      if (!run.utterance.isPaused) break;
    }
    if (run.ac.signal.aborted || this.current !== run || this.state === 'ended') return;
    // The text heard goes on the timeline: the call's transcript is assembled from it.
    const heardMs = run.utterance.heardMs();
    this.emit('turn.completed', { turn: run.n, heardMs, audioMs: run.utterance.audioMs, text: heardText(run.utterance.spoken(), heardMs) });
    this.current = undefined;
    run.ac.abort(); // releases its listener on the node's signal; all of its work is done
    if (run.failed) {
      this.noteFailure(run);
      return;
    }
    if (run.userMsg) this.failures = 0;
    if (run.outcome) {
      this.finish(run.outcome);
      return;
    }
    if (run.userMsg && this.turnCount >= (this.spec.maxTurns ?? this.o.defaultMaxTurns)) {
      this.finish({ exit: 'limit', reason: 'max_turns', variables: this.variables });
      return;
    }
    this.toListening();
  }

  private runFailed(run: TurnRun, err: unknown): Promise<void> | undefined {
    if (run.ac.signal.aborted || this.state === 'ended' || isAbortError(err)) return undefined;
    const code = err instanceof GatewayError ? err.code : 'unknown';
    this.emit('agent.provider_failed', { turn: run.n, code, message: err instanceof Error ? err.message : String(err) });
    run.failed = true;
    if (code === 'GW_ERR_TTS_UNAVAILABLE') {
      // Not even the offline voice works: the agent cannot speak at all.
      this.finish({ exit: 'error', reason: 'tts_unavailable', variables: this.variables });
      return undefined;
    }
    // Whatever was said so far stays; the rest of this answer is dropped (the caller awaits afterRun).
    run.utterance.finish();
    return this.afterRun(run);
  }

  private noteFailure(run: TurnRun): void {
    this.failures++;
    // The history must not end in an unanswered tool call or a half answer the caller never heard.
    truncateRun(this.history, run);
    if (this.failures >= this.o.maxConsecutiveFailures) {
      this.finish({ exit: 'error', reason: 'provider_failed', variables: this.variables });
      return;
    }
    this.startStatic(this.o.apologyText, 'apology');
  }

  // ── barge-in confirmed ───────────────────────────────────────────────────────────────────────────

  private confirmBarge(run: TurnRun, reason: string): void {
    if (this.current !== run) return;
    this.bargeIn.reset();
    run.ac.abort();
    this.current = undefined;
    this.state = 'listening';
    const nothingHeard = !run.utterance.hasAudio || (run.utterance.isPaused && run.utterance.heardMs() === 0);
    if (run.userMsg && nothingHeard) {
      // Nothing of the answer was heard: the caller was still talking. Their words join the next turn.
      removeMessage(this.history, run.userMsg);
      this.words.finals.unshift(run.userMsg.content);
      this.turnCount--;
    }
    // pause() clears the carrier if anything is still queued there and learns what was heard.
    this.tasks.track(
      run.utterance.pause(`barge-in:${reason}`).then((heardMs) => {
        run.utterance.cancel();
        truncateRun(this.history, run);
        this.emit('turn.interrupted', { turn: run.n, reason, heardMs, audioMs: run.utterance.audioMs, heardText: heardText(run.utterance.spoken(), heardMs) });
      }),
    );
  }

  private ctx(): ResponseContext {
    this.responseCtx ??= {
      call: this.call,
      llm: this.o.llm as LanguageModel,
      tts: this.o.tts,
      ttsCache: this.o.ttsCache,
      history: this.history,
      spec: this.spec,
      variables: this.variables,
      maxToolHops: this.o.maxToolHops,
      firstClauseMinChars: this.o.firstClauseMinChars,
      streamTts: this.o.streamTts,
      streamFirstAudioTimeoutMs: this.o.streamFirstAudioTimeoutMs,
      emit: (type, data) => this.emit(type, data),
    };
    return this.responseCtx;
  }

  // ── plumbing ─────────────────────────────────────────────────────────────────────────────────────

  private readonly emit: AgentEmit = (type, data) => {
    this.call.emit({ type, atMs: this.call.mediaMs(), data } as AgentEvent);
  };
}
