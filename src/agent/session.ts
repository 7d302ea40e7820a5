// The conversational loop of one `agent` node on one call: listen (the caller's turn, turn/callerTurn.ts),
// answer (LLM → sentence chunker → TTS → playout, turn/response.ts, pipelined so the first sentence
// plays while the rest is still generated), and yield the floor the moment the caller talks over it
// (barge-in: pause → confirm or resume). Everything runs on the call's media clock; every task hangs
// off the node's AbortSignal.
//
// States: listening (caller's turn) → thinking (a response is being made, nothing heard yet) →
// speaking (audio going out) → listening … until a tool, a limit or the call ends it (ended). Each
// state is entered by one method (toListening, toThinking, toSpeaking, finish). This file is that state
// machine and the life of each answer (started, heard, failed, interrupted); the parts live beside it
// in turn/: CallerTurn (speech, words, end of turn), Conversation (the history the LLM sees), BargeIn
// (talking over the agent), DtmfCollector (keypad turns), NoInputWatchdog (reprompts), MediaTimers
// (cancellable media-clock timers) and TaskGroup (every task run() awaits).
import type { CallControl } from '../call/control.ts';
import type { CallEvent } from '../call/events.ts';
import { GatewayError, isAbortError } from '../errors.ts';
import { resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './agentOptions.ts';
import type { AgentEmit, AgentEvent, AgentEventData } from './events.ts';
import type { AgentNodeSpec, AgentOutcome } from './node.ts';
import type { ChatMessage, LanguageModel } from './providers.ts';
import { BargeIn, DEFAULT_BARGE_IN } from './turn/bargeIn.ts';
import { CallerTurn } from './turn/callerTurn.ts';
import { Conversation } from './turn/conversation.ts';
import { DtmfCollector } from './turn/dtmfCollector.ts';
import { DEFAULT_ENDPOINTING, type EndpointReason } from './turn/endpointing.ts';
import { heardText } from './turn/heardText.ts';
import { MediaTimers } from './turn/mediaTimers.ts';
import { TurnMetrics } from './turn/metrics.ts';
import { NoInputWatchdog } from './turn/noInputWatchdog.ts';
import { generateResponse, speakStatic, type ResponseContext, type TurnRun } from './turn/response.ts';
import { TaskGroup } from './turn/taskGroup.ts';
import { Utterance } from './turn/utterance.ts';

export type { AgentOptions } from './agentOptions.ts';
export type { BargeInOptions } from './turn/bargeIn.ts';

type State = 'listening' | 'thinking' | 'speaking' | 'ended';

export class AgentSession {
  private readonly call: CallControl;
  private readonly spec: AgentNodeSpec;
  private readonly o: ResolvedAgentOptions;
  private readonly ac = new AbortController();
  private readonly timers: MediaTimers;
  private readonly tasks = new TaskGroup();
  private readonly caller: CallerTurn;
  private readonly bargeIn: BargeIn;
  private readonly dtmf: DtmfCollector;
  private readonly noInput: NoInputWatchdog;
  private readonly conversation: Conversation;
  private readonly variables: Record<string, unknown> = {};
  private readonly startMs: number;
  private state: State = 'listening';
  private current: TurnRun | undefined;
  private failures = 0;
  private responseCtx: ResponseContext | undefined;
  private resolveOutcome!: (o: AgentOutcome) => void;
  private readonly outcome: Promise<AgentOutcome>;

  constructor(call: CallControl, spec: AgentNodeSpec, variables: Readonly<Record<string, unknown>>, opts: AgentOptions, signal: AbortSignal) {
    this.call = call;
    this.spec = spec;
    this.o = resolveAgentOptions(opts);
    this.timers = new MediaTimers((ms, fire) => call.schedule(ms, fire));
    this.caller = new CallerTurn(
      {
        mediaMs: () => call.mediaMs(),
        ended: () => this.state === 'ended',
        listening: () => this.state === 'listening',
        current: () => this.current,
        bargeIn: () => this.bargeIn,
        noInput: () => this.noInput,
        commit: (text, speechEndMs, reason, waitMs) => this.commitUserTurn(text, speechEndMs, reason, waitMs),
        nothingSaid: () => this.toListening(),
        emit: (type, data) => this.emit(type, data),
      },
      { vadOnsetMs: this.o.vadOnsetMs, vadHangoverMs: this.o.vadHangoverMs, endpointing: { ...DEFAULT_ENDPOINTING, ...opts.endpointing } },
      this.timers.timer(),
    );
    this.bargeIn = new BargeIn(
      { ...DEFAULT_BARGE_IN, ...opts.bargeIn },
      {
        words: this.caller.words,
        mediaMs: () => call.mediaMs(),
        isPlaying: () => call.isPlaying(),
        userSpeaking: () => this.caller.speaking,
        emit: (type, data) => this.emit(type, data),
        confirm: (run, reason) => this.confirmBarge(run, reason),
        commitWhenQuiet: () => this.caller.scheduleCommit(),
        track: (task) => this.tasks.track(task),
      },
      this.timers.timer(),
      this.timers.timer(),
    );
    this.dtmf = new DtmfCollector(this.timers.timer(), this.o.dtmfInterDigitMs, (digits) => {
      if (this.state !== 'ended') this.commitUserTurn(`DTMF: ${digits}`, call.mediaMs(), 'dtmf', 0);
    });
    this.noInput = new NoInputWatchdog(this.timers.timer(), this.o.maxReprompts, {
      stillWaiting: () => this.state === 'listening' && !this.caller.speaking && !this.current,
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
    this.conversation = new Conversation(spec, variables);
  }

  /** Conversation so far (tests, timeline). */
  messages(): readonly ChatMessage[] {
    return this.conversation.history;
  }

  async run(): Promise<AgentOutcome> {
    if (!this.o.llm) {
      this.finish({ exit: 'error', reason: 'no_llm', variables: this.variables });
      return this.outcome;
    }
    this.emit('agent.started', { tools: this.spec.tools, greeting: this.spec.greeting !== undefined });
    const unsubscribe = this.call.subscribe((e) => this.onCallEvent(e));
    const stopTranscribing = this.o.stt ? this.caller.transcribe(this.call, this.o.stt, this.o.language, this.ac.signal, (task) => this.tasks.track(task)) : undefined;
    const static_ = [this.o.repromptText, this.o.fillerText, this.o.apologyText, ...(this.spec.greeting ? [this.spec.greeting] : [])];
    if (this.o.ttsCache) this.tasks.track(this.o.ttsCache.prefetch(static_, this.ac.signal));
    this.timers.once(this.spec.maxDurationMs ?? this.o.defaultMaxDurationMs, () => this.finish({ exit: 'limit', reason: 'max_duration', variables: this.variables }));
    if (this.spec.greeting) this.startStatic(this.spec.greeting, 'greeting');
    else this.toListening();
    try {
      return await this.outcome;
    } finally {
      unsubscribe();
      stopTranscribing?.();
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
    if (e.type === 'dtmf') this.onDtmf(e.digit);
    else this.caller.onCallEvent(e);
  }

  private onDtmf(digit: string): void {
    this.noInput.disarm();
    // A key press is deliberate: it interrupts at once.
    if (this.current) this.confirmBarge(this.current, 'dtmf');
    this.dtmf.press(digit);
  }

  private commitUserTurn(text: string, speechEndMs: number, reason: EndpointReason | 'dtmf', waitMs: number): void {
    if (this.state === 'ended') return;
    this.caller.committed();
    this.noInput.answered();
    const turn = this.conversation.nextTurn();
    const speechEnd: AgentEventData['turn.user_speech_end'] = { turn };
    this.call.emit({ type: 'turn.user_speech_end', atMs: speechEndMs, data: speechEnd });
    this.emit('turn.transcript', { turn, text, source: reason === 'dtmf' ? 'dtmf' : 'stt' });
    this.emit('turn.endpoint', { turn, waitMs, reason });
    this.startResponse(this.conversation.addUser(text), speechEndMs);
  }

  // ── responses ────────────────────────────────────────────────────────────────────────────────────

  private newRun(label: string, userMsg: ChatMessage | undefined, speechEndMs: number | undefined): TurnRun {
    const ac = new AbortController();
    this.ac.signal.addEventListener('abort', () => ac.abort(), { once: true, signal: ac.signal });
    const n = this.conversation.turns;
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
    if (this.caller.pendingText() !== '' && !this.caller.speaking) this.caller.scheduleCommit();
    this.noInput.arm(this.spec.noInputMs ?? this.o.noInputMs);
  }

  /** The node is over: stop the current answer, cancel every timer, hand the outcome to run(). */
  private finish(outcome: AgentOutcome): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.current?.ac.abort();
    this.timers.cancelAll();
    this.emit('agent.ended', { exit: outcome.exit, reason: outcome.reason, turns: this.conversation.turns, durationMs: this.call.mediaMs() - this.startMs });
    this.resolveOutcome(outcome);
  }

  // ── response runs ────────────────────────────────────────────────────────────────────────────────

  private startResponse(userMsg: ChatMessage, speechEndMs: number): void {
    const run = this.newRun(`agent:turn${this.conversation.turns}`, userMsg, speechEndMs);
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
    if (run.userMsg && this.conversation.turns >= (this.spec.maxTurns ?? this.o.defaultMaxTurns)) {
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
    this.conversation.settle(run);
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
      this.conversation.takeBack(run.userMsg);
      this.caller.putBack(run.userMsg.content);
    }
    // pause() clears the carrier if anything is still queued there and learns what was heard.
    this.tasks.track(
      run.utterance.pause(`barge-in:${reason}`).then((heardMs) => {
        run.utterance.cancel();
        this.conversation.settle(run);
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
      history: this.conversation.history,
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
