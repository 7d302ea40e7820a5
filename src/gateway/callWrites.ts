// A call's database writes, in order, off the call's path. The voice webhook may answer before the
// call's record exists (the database is slow), so everything written about a call afterwards — the
// stream, the answer, the end, the recording — queues behind the record's creation instead of racing it.
export class CallWrites {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly onError: (err: unknown, what: string, callId: string) => void;

  constructor(onError: (err: unknown, what: string, callId: string) => void) {
    this.onError = onError;
  }

  /** Run `write` after every earlier write of the same call; failures are reported, never thrown. */
  enqueue(callId: string, what: string, write: () => Promise<unknown>): Promise<void> {
    const previous = this.chains.get(callId) ?? Promise.resolve();
    const next = previous.then(write).then(
      () => undefined,
      (err: unknown) => this.onError(err, what, callId),
    );
    this.chains.set(callId, next);
    void next.then(() => {
      if (this.chains.get(callId) === next) this.chains.delete(callId);
    });
    return next;
  }

  /** Resolves when every queued write has finished, or after `timeoutMs`; returns whether all did. */
  async settle(timeoutMs = Infinity): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.chains.size > 0) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = Number.isFinite(left) ? new Promise<void>((r) => (timer = setTimeout(r, left))) : new Promise<void>(() => undefined);
      await Promise.race([Promise.allSettled([...this.chains.values()]), timedOut]);
      clearTimeout(timer);
    }
    return true;
  }
}

/** Retry `op` with capped exponential backoff until it succeeds or `deadlineMs` has passed. */
export async function withRetry<T>(op: () => Promise<T>, opts: { deadlineMs: number; baseMs?: number; maxMs?: number }): Promise<T> {
  const started = performance.now();
  let delay = opts.baseMs ?? 200;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (performance.now() - started + delay > opts.deadlineMs) throw err;
      await new Promise((r) => setTimeout(r, delay).unref());
      delay = Math.min(delay * 2, opts.maxMs ?? 5000);
    }
  }
}
