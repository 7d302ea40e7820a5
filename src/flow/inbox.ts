// Waiting for call inputs on the media clock. An Inbox subscribes to the call's events at once (so
// nothing that arrives between "start listening" and "await" is lost), queues the ones a node cares
// about, and `next(timeoutMs)` returns the next one or 'timeout' after that much *media* time
// (call.sleep), so a replay at 20× speed times out at the same point of the call as a live one.
import type { CallControl } from '../call/control.ts';
import type { CallEvent } from '../call/events.ts';

export type Timeout = 'timeout';

export class Inbox<T> {
  private readonly call: CallControl;
  private readonly signal: AbortSignal;
  private readonly queue: T[] = [];
  private waiter: ((item: T) => void) | undefined;
  private readonly unsubscribe: () => void;
  /** Called synchronously for every accepted item (barge-in must not wait for a promise turn). */
  onItem: ((item: T) => void) | undefined;

  constructor(call: CallControl, signal: AbortSignal, select: (event: CallEvent) => T | undefined) {
    this.call = call;
    this.signal = signal;
    this.unsubscribe = call.subscribe((event) => {
      const item = select(event);
      if (item !== undefined) this.push(item);
    });
  }

  /** Add an item from another source (STT results, type-ahead digits). */
  push(item: T): void {
    this.onItem?.(item);
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter(item);
    } else {
      this.queue.push(item);
    }
  }

  /** Put items back at the front (type-ahead carried from an earlier prompt). */
  unshift(items: T[]): void {
    this.queue.unshift(...items);
  }

  pending(): number {
    return this.queue.length;
  }

  /** Drop everything queued so far. */
  drain(): T[] {
    return this.queue.splice(0, this.queue.length);
  }

  /**
   * The next item, or 'timeout' after `timeoutMs` of media time (Infinity: no timeout).
   * Rejects with an AbortError when the run's signal aborts or the call ends.
   */
  next(timeoutMs: number): Promise<T | Timeout> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift() as T);
    if (this.signal.aborted) return Promise.reject(abortError());
    return new Promise<T | Timeout>((resolve, reject) => {
      const timer = new AbortController();
      const onAbort = (): void => {
        finish();
        reject(abortError());
      };
      const finish = (): void => {
        this.waiter = undefined;
        timer.abort();
        this.signal.removeEventListener('abort', onAbort);
      };
      this.waiter = (item) => {
        finish();
        resolve(item);
      };
      this.signal.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(timeoutMs)) {
        this.call.sleep(Math.max(0, timeoutMs), timer.signal).then(
          () => {
            finish();
            resolve('timeout');
          },
          () => {
            // Our own timer was cancelled (an item arrived) or the call ended: the abort listener
            // or the waiter has settled the promise already, or settles it now.
            if (this.signal.aborted || this.call.signal.aborted) {
              finish();
              reject(abortError());
            }
          },
        );
      }
    });
  }

  close(): void {
    this.unsubscribe();
    this.waiter = undefined;
    this.onItem = undefined;
  }
}

export function abortError(): Error {
  return Object.assign(new Error('flow aborted'), { name: 'AbortError' });
}
