// What the Live page shows about each call in progress, kept up to date from the call's own events
// (CallSession.subscribe) from the moment the registry accepts it, and fanned out to the browsers
// watching. Listeners run synchronously on the call's event path, so they only copy small values
// and enqueue; the SSE writer does the rest.
import type { CallSession } from '../call/CallSession.ts';
import type { CallEvent } from '../call/events.ts';
import type { CallRegistry } from '../gateway/registry.ts';

export interface LiveCall {
  id: string;
  carrier: string;
  direction: string;
  from: string;
  to: string;
  startedAt: string;
  /** Media time of the last event seen (the call's own clock). */
  mediaMs: number;
  flowVersion: number | null;
  node: string | null;
  nodeType: string | null;
  amd: { result: string; answeredBy: string; reason: string } | null;
  campaignId: string | null;
}

export type LiveMessage =
  | { kind: 'call'; call: LiveCall }
  | { kind: 'event'; callId: string; event: CallEvent }
  | { kind: 'ended'; callId: string; reason: string };

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export class LiveCalls {
  private readonly calls = new Map<string, LiveCall>();
  private readonly watchers = new Set<(m: LiveMessage) => void>();
  private readonly stop: () => void;

  private readonly log: { error(obj: object, msg: string): void };

  constructor(registry: CallRegistry, log: { error(obj: object, msg: string): void }) {
    this.log = log;
    for (const s of registry.all()) this.safeTrack(s);
    this.stop = registry.onAdded((s) => this.safeTrack(s));
  }

  /** A live view failing must never cost a call its admission: errors are logged, not thrown. */
  private safeTrack(session: CallSession): void {
    try {
      this.track(session);
    } catch (err) {
      this.log.error({ err, callId: session.callId }, 'live view could not follow a call');
    }
  }

  snapshot(): LiveCall[] {
    return [...this.calls.values()];
  }

  watch(fn: (m: LiveMessage) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  close(): void {
    this.stop();
  }

  private send(m: LiveMessage): void {
    for (const w of this.watchers) w(m);
  }

  private track(session: CallSession): void {
    const call: LiveCall = {
      id: session.callId,
      carrier: session.carrier,
      direction: session.direction,
      from: session.from,
      to: session.to,
      startedAt: new Date().toISOString(),
      mediaMs: 0,
      flowVersion: null,
      node: null,
      nodeType: null,
      amd: null,
      campaignId: str(session.parameters.campaignId),
    };
    this.calls.set(call.id, call);
    this.send({ kind: 'call', call });
    const unsubscribe = session.subscribe((event) => {
      call.mediaMs = event.atMs;
      const data = (event as { data?: Record<string, unknown> }).data ?? {};
      let changed = false;
      if (event.type === 'flow.node.entered') {
        call.node = str(data.node);
        call.nodeType = str(data.type);
        changed = true;
      } else if (event.type === 'flow.started') {
        call.flowVersion = typeof data.version === 'number' ? data.version : null;
        changed = true;
      } else if (event.type === 'amd.verdict') {
        call.amd = { result: event.result, answeredBy: event.answeredBy, reason: event.reason };
        changed = true;
      }
      this.send({ kind: 'event', callId: call.id, event });
      if (changed) this.send({ kind: 'call', call });
    });
    session.signal.addEventListener(
      'abort',
      () => {
        // The flow's last events follow call.ended; keep listening a moment so the page sees them.
        setTimeout(unsubscribe, 2000).unref();
        this.calls.delete(call.id);
        this.send({ kind: 'ended', callId: call.id, reason: session.endReason ?? 'ended' });
      },
      { once: true },
    );
  }
}
