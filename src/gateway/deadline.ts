// Bounded waits for the webhooks' database reads: the carrier (and the person on the line) waits for
// the answer, so a read that is late is answered without, and finishes behind the answer.

/** A promise of `undefined` after `ms`; its timer does not hold the process open. */
export const delay = (ms: number): Promise<undefined> => new Promise((r) => setTimeout(() => r(undefined), ms).unref());

/** `work`'s result if it settles before `deadline` (performance.now()), else `fallback`; a late failure is dropped. */
export function byDeadline<T, F>(work: Promise<T>, deadline: number, fallback: F): Promise<T | F> {
  work.catch(() => undefined);
  return Promise.race([work, delay(Math.max(0, deadline - performance.now())).then(() => fallback)]);
}
