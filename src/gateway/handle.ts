// What the running gateway exposes to its routes, the dashboard and the process entry (app.gateway):
// the live calls, counters, and the drain used on shutdown. Its own module so readers of it (web/,
// api/) do not import the app that builds it.
import type { CallWritesStats } from './callWrites.ts';
import type { StreamCounters } from './mediaStream.ts';
import type { CallRegistry } from './registry.ts';
import type { StreamTokenLedgerCounters } from './streamTokenLedger.ts';

export interface Gateway {
  registry: CallRegistry;
  counters: StreamCounters;
  /** Streams and webhooks refused for a reused token or an ended call. */
  tokens: StreamTokenLedgerCounters;
  /** The durable call-write path's counters. */
  callWrites(): CallWritesStats;
  /**
   * Stop taking calls, let active ones finish, end the rest, then persist (call writes, events) —
   * within shutdownPlan(config): drain + persist fit the grace period with the close after them.
   */
  drain(): Promise<void>;
  /** Background writes (call ends, recordings) still in flight. */
  settle(): Promise<void>;
}
