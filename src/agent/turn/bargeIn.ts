// Barge-in: the caller talks over the agent. Phases (LiveKit's and Pipecat's interruption handling):
//   candidate — speech began over the agent; shorter than `minSpeechMs` it is a cough or a click and
//               is ignored (with its transcript, if that is a backchannel);
//   paused    — the carrier is cleared at once (the caller is heard) and the answer is paused where
//               the caller stopped hearing it; then words that are not a backchannel, or speech longer
//               than `confirmSpeechMs`, confirm the interruption, and a backchannel ("uh-huh") resumes
//               the answer (a false interruption).
// The session owns the conversation; this class owns the phase, its timers and the transcript rule.
import type { AgentEmit } from '../events.ts';
import { isBackchannel } from './backchannel.ts';
import type { MediaTimer } from './mediaTimers.ts';
import type { TurnRun } from './response.ts';

export interface BargeInOptions {
  enabled: boolean;
  /** Caller speech over the agent this long (from its start) → clear the carrier at once. */
  minSpeechMs: number;
  /** Speech this long confirms the interruption without waiting for words. */
  confirmSpeechMs: number;
  /** After shorter speech ends, how long to wait for its transcript before deciding. */
  transcriptWaitMs: number;
}

export const DEFAULT_BARGE_IN: BargeInOptions = { enabled: true, minSpeechMs: 120, confirmSpeechMs: 700, transcriptWaitMs: 600 };

/** The caller's words so far in this turn (shared with the session). */
export interface CallerWords {
  finals: string[];
  partial: string;
}

export interface BargeInHost {
  readonly words: CallerWords;
  mediaMs(): number;
  isPlaying(): boolean;
  userSpeaking(): boolean;
  emit: AgentEmit;
  /** The interruption stands: stop `run` and give the floor to the caller. */
  confirm(run: TurnRun, reason: string): void;
  /** End the caller's turn once they are quiet (endpointing). */
  commitWhenQuiet(): void;
  track(task: Promise<unknown>): void;
}

interface Barge {
  startMs: number;
  startWall: number;
  phase: 'candidate' | 'paused';
  run: TurnRun;
  /** Transcript finals at the start, so words said during the barge are told apart. */
  finalsAtStart: number;
}

export class BargeIn {
  private readonly opts: BargeInOptions;
  private readonly host: BargeInHost;
  /** minSpeechMs, then confirmSpeechMs: one after the other. */
  private readonly speechTimer: MediaTimer;
  private readonly transcriptTimer: MediaTimer;
  private barge: Barge | undefined;

  constructor(opts: BargeInOptions, host: BargeInHost, speechTimer: MediaTimer, transcriptTimer: MediaTimer) {
    this.opts = opts;
    this.host = host;
    this.speechTimer = speechTimer;
    this.transcriptTimer = transcriptTimer;
  }

  get active(): boolean {
    return this.barge !== undefined;
  }

  /** The interruption was decided (confirmed, or the run ended): forget it. */
  reset(): void {
    this.barge = undefined;
  }

  /** Caller speech began at `atMs` while `run` (if any) is the agent's answer. */
  speechStarted(atMs: number, run: TurnRun | undefined): void {
    if (run === undefined || this.barge !== undefined || !this.opts.enabled) return;
    const b: Barge = { startMs: atMs, startWall: performance.now(), phase: 'candidate', run, finalsAtStart: this.host.words.finals.length };
    this.barge = b;
    this.speechTimer.set(atMs + this.opts.minSpeechMs - this.host.mediaMs(), () => {
      if (this.barge === b && this.host.userSpeaking()) this.host.track(this.pause(b));
    });
  }

  /** Caller speech ended. True when it belonged to a barge-in (the session does nothing more). */
  speechStopped(): boolean {
    const b = this.barge;
    if (b === undefined) return false;
    if (b.phase === 'candidate') {
      // Too short to be speech over the agent (a cough, a click): ignore it (a backchannel transcript
      // of it is ignored by heardFinal).
      this.barge = undefined;
      return true;
    }
    this.transcriptTimer.set(this.opts.transcriptWaitMs, () => {
      if (this.barge === b && !this.host.userSpeaking()) this.decide(b);
    });
    return true;
  }

  /**
   * A final transcript `text` arrived while `current` is the agent's answer (if any). True when the
   * barge-in handled it; otherwise it has been added to the caller's words and the session goes on.
   */
  heardFinal(text: string, current: TurnRun | undefined): boolean {
    const words = this.host.words;
    const b = this.barge;
    if (current !== undefined && b === undefined) {
      // Words while the agent talks that the VAD did not flag as long speech.
      if (isBackchannel(text)) return true;
      words.finals.push(text);
      this.host.confirm(current, 'words');
      this.host.commitWhenQuiet();
      return true;
    }
    words.finals.push(text);
    if (b !== undefined && b.phase === 'paused' && !isBackchannel(words.finals.slice(b.finalsAtStart).join(' '))) {
      this.host.confirm(b.run, 'words');
      if (!this.host.userSpeaking()) this.host.commitWhenQuiet();
      return true;
    }
    return b !== undefined;
  }

  private async pause(b: Barge): Promise<void> {
    b.phase = 'paused';
    const clearAt = this.host.mediaMs();
    const wasAudible = b.run.utterance.hasAudio && this.host.isPlaying();
    const heard = b.run.utterance.pause('barge-in');
    this.host.emit('turn.barge_in', {
      turn: b.run.n,
      speechStartMs: b.startMs,
      clearAtMs: clearAt,
      latencyMs: clearAt - b.startMs,
      wallMs: Math.round((performance.now() - b.startWall) * 1000) / 1000,
      audible: wasAudible,
    });
    await heard;
    if (this.barge !== b) return;
    this.speechTimer.set(b.startMs + this.opts.confirmSpeechMs - this.host.mediaMs(), () => {
      if (this.barge === b && this.host.userSpeaking()) this.host.confirm(b.run, 'long_speech');
    });
  }

  private decide(b: Barge): void {
    const words = this.host.words;
    const said = [...words.finals.slice(b.finalsAtStart), words.partial].join(' ').trim();
    if (isBackchannel(said)) {
      // False interruption: forget the backchannel and carry on where the caller stopped hearing.
      words.finals.length = b.finalsAtStart;
      words.partial = '';
      this.barge = undefined;
      b.run.utterance.resume();
      this.host.emit('turn.resumed', { turn: b.run.n, heardMs: b.run.utterance.heardMs(), said });
      return;
    }
    this.host.confirm(b.run, 'words');
    this.host.commitWhenQuiet();
  }
}
