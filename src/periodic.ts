// A background pass repeated on a timer, one at a time (recording retention, the analytics rollup):
// the first a second after start (off the start-up path), then every `intervalMs`; a tick that comes
// while a pass still runs is skipped. A failed pass goes to `onError` and the next tick tries again.
// The returned stop cancels the timers, tells a pass in flight to stop through its signal, and waits
// for it to end.
export function startPeriodic(pass: (signal: AbortSignal) => Promise<void>, intervalMs: number, onError: (err: unknown) => void): () => Promise<void> {
  const stopped = new AbortController();
  let running: Promise<void> | undefined;
  const run = (): void => {
    if (running !== undefined || stopped.signal.aborted) return;
    running = pass(stopped.signal)
      .catch(onError)
      .finally(() => (running = undefined));
  };
  const first = setTimeout(run, 1000);
  const timer = setInterval(run, intervalMs);
  first.unref();
  timer.unref();
  return async () => {
    stopped.abort();
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
