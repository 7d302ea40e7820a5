// The conversational loop of one `agent` node on one call: listen (STT + the call's VAD events),
// decide the end of the caller's turn (endpointing.ts), answer (LLM → sentence chunker → TTS →
// playout, pipelined so the first sentence plays while the rest is still generated), and yield the
// floor the moment the caller talks over it (barge-in: pause → confirm or resume). Everything runs on
// the call's media clock; every task hangs off the node's AbortSignal.
//
// States: listening (caller's turn) → thinking (a response is being made, nothing heard yet) →
// speaking (audio going out) → listening … until a tool, a limit or the call ends it (ended).
import type { CallControl } from '../call/control.ts';
import type { CallEvent } from '../call/events.ts';
import { GatewayError, isAbortError } from '../errors.ts';
import type { AgentNodeSpec, AgentOutcome } from './node.ts';
import type { ChatMessage, LanguageModel, SpeechToText, SttStream, TextToSpeech } from './providers.ts';
import type { TtsCache } from './tts/cache.ts';
import type { StreamingTextToSpeech } from './tts/elevenlabsStreamInput.ts';
import { isBackchannel } from './turn/backchannel.ts';
import { DEFAULT_ENDPOINTING, endpointWait, type EndpointingOptions, type EndpointReason } from './turn/endpointing.ts';
import { heardText } from './turn/heardText.ts';
import { TurnMetrics } from './turn/metrics.ts';
import { generateResponse, removeMessage, speakStatic, truncateRun, type ResponseContext, type TurnRun } from './turn/response.ts';
import { Utterance } from './turn/utterance.ts';

export interface BargeInOptions {
  enabled: boolean;
  /** Caller speech over the agent this long (from its start) → clear the carrier at once. */
  minSpeechMs: number;
  /** Speech this long confirms the interruption without waiting for words. */
  confirmSpeechMs: number;
  /** After shorter speech ends, how long to wait for its transcript before deciding. */
  transcriptWaitMs: number;
}

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

const DEFAULT_BARGE_IN: BargeInOptions = { enabled: true, minSpeechMs: 120, confirmSpeechMs: 700, transcriptWaitMs: 600 };

type State = 'listening' | 'thinking' | 'speaking' | 'ended';

interface Barge {
  startMs: number;
  startWall: number;
  phase: 'candidate' | 'paused';
  run: TurnRun;
  /** Transcript finals at the start, so words said during the barge are told apart. */
  finalsAtStart: number;
}

const SYSTEM_SUFFIX =
  'You are speaking on a phone call: answer in one to three short spoken sentences, no lists or markup. ' +
  "Keypad presses reach you as 'DTMF: <digits>'. Use the tools to act; say a short sentence before transfer or hangup.";

export class AgentSession {
  private readonly call: CallControl;
  private readonly spec: AgentNodeSpec;
  private readonly o: Required<Omit<AgentOptions, 'stt' | 'llm' | 'ttsCache' | 'streamTts' | 'language' | 'endpointing' | 'bargeIn'>> &
    Pick<AgentOptions, 'stt' | 'llm' | 'ttsCache' | 'streamTts' | 'language'>;
  private readonly endpointing: EndpointingOptions;
  private readonly barge: BargeInOptions;
  private readonly ac = new AbortController();
  private readonly history: ChatMessage[] = [];
  private readonly variables: Record<string, unknown> = {};
  private readonly startMs: number;
  private state: State = 'listening';
  private current: TurnRun | undefined;
  private bargeState: Barge | undefined;
  private turnCount = 0;
  private reprompts = 0;
  private failures = 0;
  // Caller speech and transcript.
  private vadSeen = false;
  private userSpeaking = false;
  private speechStopMs: number | undefined;
  private finals: string[] = [];
  private partial = '';
  private discardBackchannelFinal = false;
  private endpointGen = 0;
  private noInputGen = 0;
  private dtmfDigits = '';
  private dtmfGen = 0;
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
    this.barge = { ...DEFAULT_BARGE_IN, ...opts.bargeIn };
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
      void this.pumpStt(stt);
    }
    const static_ = [this.o.repromptText, this.o.fillerText, this.o.apologyText, ...(this.spec.greeting ? [this.spec.greeting] : [])];
    if (this.o.ttsCache) void this.o.ttsCache.prefetch(static_, this.ac.signal);
    this.sleepThen(this.spec.maxDurationMs ?? this.o.defaultMaxDurationMs, () => this.finish({ exit: 'limit', reason: 'max_duration', variables: this.variables }));
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
      this.ac.abort();
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
            this.partial = ev.text;
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
    this.noInputGen++;
    this.endpointGen++; // the caller goes on: a pending end-of-turn is void
    const run = this.current;
    if (run && !this.bargeState && this.barge.enabled) {
      this.bargeState = { startMs: atMs, startWall: performance.now(), phase: 'candidate', run, finalsAtStart: this.finals.length };
      const b = this.bargeState;
      this.sleepThen(Math.max(0, atMs + this.barge.minSpeechMs - this.call.mediaMs()), () => {
        if (this.bargeState === b && this.userSpeaking) void this.pauseForBarge(b);
      });
    }
  }

  private onSpeechStop(atMs: number): void {
    this.userSpeaking = false;
    this.speechStopMs = atMs;
    const b = this.bargeState;
    if (b) {
      if (b.phase === 'candidate') {
        // Too short to be speech over the agent (a cough, a click): ignore it and its transcript.
        this.bargeState = undefined;
        this.discardBackchannelFinal = true;
        return;
      }
      this.sleepThen(this.barge.transcriptWaitMs, () => {
        if (this.bargeState === b && !this.userSpeaking) this.decideBarge(b);
      });
      return;
    }
    if (this.state === 'listening') this.scheduleCommit();
  }

  private onFinal(text: string): void {
    const t = text.trim();
    this.partial = '';
    if (t === '') return;
    // Recognition delay as the caller's turn sees it (Pipecat's STT TTFB: speech end → final).
    this.emit('turn.stt_final', {
      text: t,
      ...(this.speechStopMs !== undefined && !this.userSpeaking ? { sinceSpeechEndMs: this.call.mediaMs() - this.speechStopMs } : {}),
    });
    const b = this.bargeState;
    if (this.current && !b) {
      // Words while the agent talks that the VAD did not flag as long speech.
      if (this.discardBackchannelFinal && isBackchannel(t)) {
        this.discardBackchannelFinal = false;
        return;
      }
      if (isBackchannel(t)) return;
      this.finals.push(t);
      this.confirmBarge(this.current, 'words');
      this.scheduleCommit();
      return;
    }
    this.discardBackchannelFinal = false;
    this.finals.push(t);
    if (b && b.phase === 'paused' && !isBackchannel(this.finals.slice(b.finalsAtStart).join(' '))) {
      this.confirmBarge(b.run, 'words');
      if (!this.userSpeaking) this.scheduleCommit();
      return;
    }
    if (b) return;
    if (this.state === 'listening' && !this.userSpeaking) {
      // A final with no VAD stop before it (no detector on this call): its arrival is the end.
      if (this.speechStopMs === undefined) this.speechStopMs = this.call.mediaMs();
      this.scheduleCommit();
    }
  }

  private onDtmf(digit: string): void {
    this.noInputGen++;
    // A key press is deliberate: it interrupts at once.
    if (this.current) this.confirmBarge(this.current, 'dtmf');
    this.dtmfDigits += digit;
    const g = ++this.dtmfGen;
    if (digit === '#') {
      this.commitDtmf();
      return;
    }
    this.sleepThen(this.o.dtmfInterDigitMs, () => {
      if (g === this.dtmfGen) this.commitDtmf();
    });
  }

  private commitDtmf(): void {
    const digits = this.dtmfDigits;
    this.dtmfDigits = '';
    this.dtmfGen++;
    if (digits === '' || this.state === 'ended') return;
    this.commitUserTurn(`DTMF: ${digits}`, this.call.mediaMs(), 'dtmf', 0);
  }

  // ── endpointing ──────────────────────────────────────────────────────────────────────────────────

  private pendingText(): string {
    return [...this.finals, this.partial].join(' ').trim();
  }

  private scheduleCommit(): void {
    if (this.state !== 'listening' || this.userSpeaking || this.speechStopMs === undefined) return;
    const g = ++this.endpointGen;
    const stop = this.speechStopMs;
    const finalText = this.finals.join(' ').trim();
    const { waitMs, reason } = endpointWait(finalText === '' ? undefined : finalText, this.endpointing);
    this.sleepThen(Math.max(0, stop + waitMs - this.call.mediaMs()), () => {
      if (g !== this.endpointGen || this.state !== 'listening' || this.userSpeaking) return;
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
    this.finals = [];
    this.partial = '';
    this.speechStopMs = undefined;
    this.endpointGen++;
    this.noInputGen++;
    this.reprompts = 0;
    this.turnCount++;
    this.call.emit({ type: 'turn.user_speech_end', atMs: speechEndMs, data: { turn: this.turnCount } });
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
        if (this.current === run && this.state === 'thinking') this.state = 'speaking';
        metrics?.firstAudio();
      }),
    };
    this.current = run;
    this.state = 'thinking';
    return run;
  }

  private startResponse(userMsg: ChatMessage, speechEndMs: number): void {
    const run = this.newRun(`agent:turn${this.turnCount}`, userMsg, speechEndMs);
    this.watchForSilence(run);
    void generateResponse(this.ctx(), run).then(
      () => this.afterRun(run),
      (err: unknown) => this.runFailed(run, err),
    );
  }

  private startStatic(text: string, label: string): void {
    const run = this.newRun(label, undefined, undefined);
    void speakStatic(this.ctx(), run, text).then(
      () => this.afterRun(run),
      (err: unknown) => this.runFailed(run, err),
    );
  }

  /** Never dead air: if a response has produced no audio after a while, say a short filler. */
  private watchForSilence(run: TurnRun): void {
    this.sleepThen(this.o.fillerAfterMs, () => {
      if (this.current !== run || run.utterance.hasAudio || run.utterance.isPaused || run.ac.signal.aborted) return;
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

  private runFailed(run: TurnRun, err: unknown): void {
    if (run.ac.signal.aborted || this.state === 'ended' || isAbortError(err)) return;
    const code = err instanceof GatewayError ? err.code : 'unknown';
    this.emit('agent.provider_failed', { turn: run.n, code, message: err instanceof Error ? err.message : String(err) });
    run.failed = true;
    if (code === 'GW_ERR_TTS_UNAVAILABLE') {
      // Not even the offline voice works: the agent cannot speak at all.
      this.finish({ exit: 'error', reason: 'tts_unavailable', variables: this.variables });
      return;
    }
    // Whatever was said so far stays; the rest of this answer is dropped.
    run.utterance.finish();
    void this.afterRun(run);
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

  // ── barge-in ─────────────────────────────────────────────────────────────────────────────────────

  private async pauseForBarge(b: Barge): Promise<void> {
    b.phase = 'paused';
    const clearAt = this.call.mediaMs();
    const wasAudible = b.run.utterance.hasAudio && this.call.isPlaying();
    const heard = b.run.utterance.pause('barge-in');
    this.emit('turn.barge_in', {
      turn: b.run.n,
      speechStartMs: b.startMs,
      clearAtMs: clearAt,
      latencyMs: clearAt - b.startMs,
      wallMs: Math.round((performance.now() - b.startWall) * 1000) / 1000,
      audible: wasAudible,
    });
    await heard;
    this.sleepThen(Math.max(0, b.startMs + this.barge.confirmSpeechMs - this.call.mediaMs()), () => {
      if (this.bargeState === b && this.userSpeaking) this.confirmBarge(b.run, 'long_speech');
    });
  }

  private decideBarge(b: Barge): void {
    const said = [...this.finals.slice(b.finalsAtStart), this.partial].join(' ').trim();
    if (isBackchannel(said)) {
      // False interruption: forget the backchannel and carry on where the caller stopped hearing.
      this.finals.length = b.finalsAtStart;
      this.partial = '';
      this.discardBackchannelFinal = said === '';
      this.bargeState = undefined;
      b.run.utterance.resume();
      this.emit('turn.resumed', { turn: b.run.n, heardMs: b.run.utterance.heardMs(), said });
      return;
    }
    this.confirmBarge(b.run, 'words');
    this.scheduleCommit();
  }

  private confirmBarge(run: TurnRun, reason: string): void {
    if (this.current !== run) return;
    this.bargeState = undefined;
    run.ac.abort();
    this.current = undefined;
    this.state = 'listening';
    const nothingHeard = !run.utterance.hasAudio || (run.utterance.isPaused && run.utterance.heardMs() === 0);
    if (run.userMsg && nothingHeard) {
      // Nothing of the answer was heard: the caller was still talking. Their words join the next turn.
      removeMessage(this.history, run.userMsg);
      this.finals.unshift(run.userMsg.content);
      this.turnCount--;
    }
    // pause() clears the carrier if anything is still queued there and learns what was heard.
    void run.utterance.pause(`barge-in:${reason}`).then((heardMs) => {
      run.utterance.cancel();
      truncateRun(this.history, run);
      this.emit('turn.interrupted', { turn: run.n, reason, heardMs, audioMs: run.utterance.audioMs, heardText: heardText(run.utterance.spoken(), heardMs) });
    });
  }

  // ── listening, no-input ──────────────────────────────────────────────────────────────────────────

  private toListening(): void {
    if (this.state === 'ended') return;
    this.state = 'listening';
    if (this.pendingText() !== '' && !this.userSpeaking) this.scheduleCommit();
    const g = ++this.noInputGen;
    this.sleepThen(this.spec.noInputMs ?? this.o.noInputMs, () => {
      if (g !== this.noInputGen || this.state !== 'listening' || this.userSpeaking || this.current) return;
      if (this.reprompts >= this.o.maxReprompts) {
        this.finish({ exit: 'limit', reason: 'no_input', variables: this.variables });
        return;
      }
      this.reprompts++;
      this.emit('agent.reprompt', { count: this.reprompts });
      this.startStatic(this.o.repromptText, `reprompt${this.reprompts}`);
    });
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

  /** Run `fn` after `ms` of media time unless the node ends first. */
  private sleepThen(ms: number, fn: () => void): void {
    this.call.sleep(ms, this.ac.signal).then(
      () => {
        if (this.state !== 'ended') fn();
      },
      () => undefined,
    );
  }

  private emit(type: `agent.${string}` | `turn.${string}`, data: Record<string, unknown>): void {
    this.call.emit({ type, atMs: this.call.mediaMs(), data });
  }

  private finish(outcome: AgentOutcome): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.current?.ac.abort();
    this.emit('agent.ended', { exit: outcome.exit, reason: outcome.reason, turns: this.turnCount, durationMs: this.call.mediaMs() - this.startMs });
    this.resolveOutcome(outcome);
  }
}
