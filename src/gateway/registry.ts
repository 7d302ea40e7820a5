// The calls this process is serving right now, with the concurrency limit and drain state. A process
// holds only its own calls (DESIGN decision 9); this is the one place that knows them.
import type { CallSession } from '../call/CallSession.ts';

export class CallRegistry {
  readonly maxConcurrentCalls: number;
  private readonly sessions = new Map<string, CallSession>();
  private drainingSince: number | undefined;
  private readonly idleWaiters = new Set<() => void>();
  readonly counters = { accepted: 0, refusedCapacity: 0, refusedDraining: 0 };
  private readonly watchers = new Set<(session: CallSession) => void>();

  constructor(maxConcurrentCalls: number) {
    this.maxConcurrentCalls = maxConcurrentCalls;
  }

  get size(): number {
    return this.sessions.size;
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Can a new call be accepted right now? */
  admission(): 'ok' | 'capacity' | 'draining' {
    if (this.draining) return 'draining';
    if (this.sessions.size >= this.maxConcurrentCalls) return 'capacity';
    return 'ok';
  }

  add(session: CallSession): 'ok' | 'capacity' | 'draining' {
    const verdict = this.admission();
    if (verdict === 'capacity') this.counters.refusedCapacity++;
    if (verdict === 'draining') this.counters.refusedDraining++;
    if (verdict !== 'ok') return verdict;
    this.sessions.set(session.callId, session);
    this.counters.accepted++;
    for (const watch of this.watchers) watch(session);
    return 'ok';
  }

  /** Calls `watch` with every call accepted from now on (live views); returns the unsubscribe. */
  onAdded(watch: (session: CallSession) => void): () => void {
    this.watchers.add(watch);
    return () => this.watchers.delete(watch);
  }

  remove(session: CallSession): void {
    if (this.sessions.get(session.callId) === session) this.sessions.delete(session.callId);
    if (this.sessions.size === 0) for (const wake of [...this.idleWaiters]) wake();
  }

  get(callId: string): CallSession | undefined {
    return this.sessions.get(callId);
  }

  all(): CallSession[] {
    return [...this.sessions.values()];
  }

  startDraining(): void {
    this.drainingSince ??= Date.now();
  }

  /** Resolves when no call is left or after `timeoutMs`; returns whether it emptied. */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.sessions.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const done = (idle: boolean): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.add(onIdle);
    });
  }
}
