// The caller says nothing while it is their turn: reprompt ("Are you still there?") up to a limit,
// then give up. Armed on entering the listening state; any sign of the caller (speech, a key, a
// committed turn) disarms it. Media-clock time, so a replay gives the same reprompts.
import type { MediaTimer } from './mediaTimers.ts';

export interface NoInputActions {
  /** Still the caller's turn and silent? (false: the timeout is void). */
  stillWaiting(): boolean;
  reprompt(count: number): void;
  giveUp(): void;
}

export class NoInputWatchdog {
  private readonly timer: MediaTimer;
  private readonly maxReprompts: number;
  private readonly actions: NoInputActions;
  private reprompts = 0;

  constructor(timer: MediaTimer, maxReprompts: number, actions: NoInputActions) {
    this.timer = timer;
    this.maxReprompts = maxReprompts;
    this.actions = actions;
  }

  arm(ms: number): void {
    this.timer.set(ms, () => {
      if (!this.actions.stillWaiting()) return;
      if (this.reprompts >= this.maxReprompts) {
        this.actions.giveUp();
        return;
      }
      this.reprompts++;
      this.actions.reprompt(this.reprompts);
    });
  }

  disarm(): void {
    this.timer.clear();
  }

  /** The caller answered: the reprompt count starts over. */
  answered(): void {
    this.disarm();
    this.reprompts = 0;
  }
}
