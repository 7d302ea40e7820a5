// Follows one live call's events and keeps the few facts its outcome depends on, so the outcome is
// written at the end without reading the timeline back (its events may still be in the log's buffer).
import type { CallSession } from '../call/CallSession.ts';
import { addFact, emptyFacts, type OutcomeFacts } from './outcome.ts';

/** How long the outcome waits, after the call ended, for its flow to report how it ended. */
const FLOW_END_WAIT_MS = 2000;

export class OutcomeTracker {
  readonly facts: OutcomeFacts = emptyFacts();
  #flowStarted = false;
  readonly #flowEnded: Promise<void>;

  constructor(session: CallSession) {
    let resolve!: () => void;
    this.#flowEnded = new Promise<void>((r) => (resolve = r));
    const unsubscribe = session.subscribe((e) => {
      if (e.type === 'flow.started') this.#flowStarted = true;
      addFact(this.facts, e);
      if (e.type === 'flow.ended') resolve();
    });
    // The flow's own end arrives a few ticks after the call's (it notices the abort); stop listening
    // once it has, or once the wait is over.
    void this.#flowEnded.then(unsubscribe);
    session.signal.addEventListener('abort', () => setTimeout(resolve, FLOW_END_WAIT_MS).unref(), { once: true });
  }

  /** The facts once the flow (if one ran) has said how it ended, or after a bounded wait. */
  async settled(): Promise<OutcomeFacts> {
    if (this.#flowStarted && this.facts.flowEnded === undefined) await this.#flowEnded;
    return this.facts;
  }
}
