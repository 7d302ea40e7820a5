// The flow side of a call's start (call/callStarter.ts's FlowStarter): when a stream starts, resolve the
// call's flow (explicit id from the stream claims, else the called number's route, else the default
// flow), then run it on the session. Each run is tracked until it ends, and tied to the call's
// signal, so nothing outlives the call.
import type { CallControl } from '../call/control.ts';
import { isAbortError } from '../errors.ts';
import { CallObserver, type FlowDeps } from './context.ts';

/** A call's flow run while it lasts: what a takeover needs. */
interface ActiveRun {
  controller: AbortController;
  observer: CallObserver;
  started: Promise<void>;
  run?: Promise<FlowResult | undefined>;
  deps?: FlowDeps;
  variables?: Record<string, unknown>;
  takenOver: boolean;
}
import type { FlowResolver } from './resolve.ts';
import { runFlow, type FlowResult } from './interpreter.ts';
import type { FlowDefinition } from './types.ts';

export interface FlowStarterLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface FlowCallClaims {
  callId: string;
  to: string;
  direction: 'inbound' | 'outbound';
  /** '' = route by the called number. */
  flowId: string;
}

export interface FlowStarterOptions {
  resolver: FlowResolver;
  /** Capabilities for a call's run (shared providers, or per call). */
  deps: FlowDeps | ((call: CallControl) => FlowDeps);
  /** Variables for a call (an outbound call's contact and vars), if any. */
  variables?: (claims: FlowCallClaims) => Promise<Record<string, unknown> | undefined>;
  /** The version an outbound call was placed with (a campaign pins its flow's version), if any. */
  flowVersion?: (claims: FlowCallClaims) => Promise<number | undefined>;
  /** Called when a flow has been chosen (e.g. to record flow id and version on the call). */
  onResolved?: (callId: string, flowId: string, version: number | null) => void;
  log: FlowStarterLogger;
}

export interface FlowStarterHandle {
  /** Runs the call's flow; `started` settles once the flow runs (flow.started) or could not start (flow.error). */
  start(call: CallControl, claims: FlowCallClaims): { started: Promise<void> };
  /**
   * Stops the call's flow where it is and runs `flow` instead, with the same variables and what the
   * detectors saw so far (a campaign leaving its voicemail drop on a machine). Once per call; false
   * when the call has no run to take over (or it was taken over already).
   */
  takeOver(call: CallControl, flow: FlowDefinition, reason: string): Promise<boolean>;
  /** Flow id for an inbound call to `to` ('' when the default flow applies). */
  resolveFlowId(to: string): Promise<string>;
  /** Runs in progress. */
  readonly running: number;
  /** Resolves when every run has ended. */
  settle(): Promise<void>;
}

export function createFlowStarter(opts: FlowStarterOptions): FlowStarterHandle {
  const runs = new Set<Promise<FlowResult | undefined>>();
  const active = new Map<string, ActiveRun>();
  const track = (run: Promise<FlowResult | undefined>): void => {
    runs.add(run);
    void run.finally(() => runs.delete(run));
  };

  const runCall = async (call: CallControl, claims: FlowCallClaims, entry: ActiveRun, markStarted: () => void): Promise<FlowResult | undefined> => {
    const { observer } = entry;
    try {
      // Both come from the outbound call's record: asked together, they share its read.
      const [pinned, vars] = await Promise.all([claims.flowId === '' ? undefined : opts.flowVersion?.(claims), opts.variables?.(claims)]);
      const resolved = await opts.resolver.resolve({ to: claims.to, flowId: claims.flowId === '' ? undefined : claims.flowId, version: pinned });
      opts.onResolved?.(call.callId, resolved.flowId, resolved.version);
      call.emit({ type: 'flow.resolved', atMs: call.mediaMs(), data: { flowId: resolved.flowId, version: resolved.version, source: resolved.source } });
      const variables = vars ?? {};
      // Recording on for this flow or this call: said before the flow starts, while inbound audio is still held.
      if (resolved.flow.record === true || variables.record === true) {
        call.emit({ type: 'flow.record', atMs: call.mediaMs(), data: { flowId: resolved.flowId, by: resolved.flow.record === true ? 'flow' : 'call' } });
      }
      const deps = typeof opts.deps === 'function' ? opts.deps(call) : opts.deps;
      entry.deps = deps;
      entry.variables = variables;
      // runFlow emits flow.started before its first await, so the flow has started once it returns.
      const running = runFlow(call, resolved.flow, { variables, deps, observer, signal: entry.controller.signal, ...(resolved.version === null ? {} : { version: resolved.version }) });
      markStarted();
      const result = await running;
      opts.log.info({ callId: call.callId, flowId: resolved.flowId, outcome: result.outcome, reason: result.reason, steps: result.steps }, 'flow ended');
      return result;
    } catch (err) {
      if (isAbortError(err) || call.signal.aborted || entry.controller.signal.aborted) return undefined;
      // No flow could be resolved or loaded: say nothing rather than something wrong, and end the call.
      opts.log.error({ err, callId: call.callId }, 'no flow could be started for the call');
      call.emit({ type: 'flow.error', atMs: call.mediaMs(), data: { code: (err as { code?: string }).code ?? 'GW_ERR_FLOW_START', message: (err as Error).message } });
      markStarted();
      await call.hangup('flow_unavailable').catch(() => undefined);
      return undefined;
    } finally {
      markStarted();
      observer.close();
    }
  };

  return {
    start(call, claims) {
      let markStarted!: () => void;
      const started = new Promise<void>((resolve) => (markStarted = resolve));
      // Observe detector events from the first moment, before the flow is looked up.
      const entry: ActiveRun = { controller: new AbortController(), observer: new CallObserver(call), started, takenOver: false };
      active.set(call.callId, entry);
      const run = runCall(call, claims, entry, markStarted);
      entry.run = run;
      track(run);
      void run.finally(() => {
        if (!entry.takenOver) active.delete(call.callId);
      });
      return { started };
    },
    async takeOver(call, flow, reason) {
      const entry = active.get(call.callId);
      if (entry === undefined || entry.takenOver || call.signal.aborted) return false;
      entry.takenOver = true;
      await entry.started;
      // Subscribed before the old run stops, so nothing the detectors say in between is missed.
      const observer = CallObserver.continuing(call, entry.observer);
      entry.controller.abort();
      await entry.run;
      if (call.signal.aborted) {
        observer.close();
        active.delete(call.callId);
        return false;
      }
      // What the old run had queued is not for this audience.
      call.clear(`takeover:${reason}`);
      call.emit({ type: 'flow.takeover', atMs: call.mediaMs(), data: { flowId: flow.id, reason } });
      const run = runFlow(call, flow, { variables: entry.variables ?? {}, ...(entry.deps === undefined ? {} : { deps: entry.deps }), observer }).catch((err: unknown) => {
        if (!isAbortError(err)) opts.log.error({ err, callId: call.callId }, 'the flow that took over the call failed');
        return undefined;
      });
      track(run);
      void run.finally(() => active.delete(call.callId));
      return true;
    },
    async resolveFlowId(to) {
      const resolved = await opts.resolver.resolve({ to });
      return resolved.source === 'number' ? resolved.flowId : '';
    },
    get running() {
      return runs.size;
    },
    async settle() {
      await Promise.allSettled([...runs]);
    },
  };
}
