// The call program that runs flows (app.ts's CallProgram shape): when a stream starts, resolve the
// call's flow (explicit id from the stream claims, else the called number's route, else the default
// flow), then run it on the session. Each run is tracked until it ends, and tied to the call's
// signal, so nothing outlives the call.
import type { CallControl } from '../call/control.ts';
import { isAbortError } from '../errors.ts';
import { CallObserver, type FlowDeps } from './context.ts';
import type { FlowResolver } from './resolve.ts';
import { runFlow, type FlowResult } from './runner.ts';

export interface FlowProgramLogger {
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

export interface FlowProgramOptions {
  resolver: FlowResolver;
  /** Capabilities for a call's run (shared providers, or per call). */
  deps: FlowDeps | ((call: CallControl) => FlowDeps);
  /** Variables for a call (an outbound call's contact and vars), if any. */
  variables?: (claims: FlowCallClaims) => Promise<Record<string, unknown> | undefined>;
  /** Called when a flow has been chosen (e.g. to record flow id and version on the call). */
  onResolved?: (callId: string, flowId: string, version: number | null) => void;
  log: FlowProgramLogger;
}

export interface FlowProgram {
  start(call: CallControl, claims: FlowCallClaims): void;
  /** Flow id for an inbound call to `to` ('' when the default flow applies). */
  resolveFlowId(to: string): Promise<string>;
  /** Runs in progress. */
  readonly running: number;
  /** Resolves when every run has ended. */
  settle(): Promise<void>;
}

export function flowProgram(opts: FlowProgramOptions): FlowProgram {
  const runs = new Set<Promise<FlowResult | undefined>>();

  const runCall = async (call: CallControl, claims: FlowCallClaims, observer: CallObserver): Promise<FlowResult | undefined> => {
    try {
      const resolved = await opts.resolver.resolve({ to: claims.to, flowId: claims.flowId === '' ? undefined : claims.flowId });
      opts.onResolved?.(call.callId, resolved.flowId, resolved.version);
      call.emit({ type: 'flow.resolved', atMs: call.mediaMs(), data: { flowId: resolved.flowId, version: resolved.version, source: resolved.source } });
      const variables = (await opts.variables?.(claims)) ?? {};
      // Recording on for this flow or this call: said before the flow starts, while inbound audio is still held.
      if (resolved.flow.record === true || variables.record === true) {
        call.emit({ type: 'flow.record', atMs: call.mediaMs(), data: { flowId: resolved.flowId, by: resolved.flow.record === true ? 'flow' : 'call' } });
      }
      const deps = typeof opts.deps === 'function' ? opts.deps(call) : opts.deps;
      const result = await runFlow(call, resolved.flow, { variables, deps, observer, ...(resolved.version === null ? {} : { version: resolved.version }) });
      opts.log.info({ callId: call.callId, flowId: resolved.flowId, outcome: result.outcome, reason: result.reason, steps: result.steps }, 'flow ended');
      return result;
    } catch (err) {
      if (isAbortError(err) || call.signal.aborted) return undefined;
      // No flow could be resolved or loaded: say nothing rather than something wrong, and end the call.
      opts.log.error({ err, callId: call.callId }, 'no flow could be started for the call');
      call.emit({ type: 'flow.error', atMs: call.mediaMs(), data: { code: (err as { code?: string }).code ?? 'GW_ERR_FLOW_START', message: (err as Error).message } });
      await call.hangup('flow_unavailable').catch(() => undefined);
      return undefined;
    } finally {
      observer.close();
    }
  };

  return {
    start(call, claims) {
      // Observe detector events from the first moment, before the flow is looked up.
      const run = runCall(call, claims, new CallObserver(call));
      runs.add(run);
      void run.finally(() => runs.delete(run));
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
