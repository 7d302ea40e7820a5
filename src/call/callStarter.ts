// What runs when a call's media stream starts: the detectors (on the media clock from sample 0), then
// the call's flow. Inbound audio is held until the flow has started — finding a flow is wall-clock
// work (database, disk), and holding keeps it off the media clock, so the flow and the detectors see
// the same timeline however long that took. The hold is bounded in wall time: a stalled database
// delays a call's flow, never its audio, for longer than `flowStartWaitMs`.
import type { CallSession } from './CallSession.ts';
import { attachDetectors, defaultDetectorOptions } from './detectors.ts';
import type { StreamClaims } from './streamToken.ts';

export type CallStartClaims = Omit<StreamClaims, 'expiresAt'>;

export interface CallStarter {
  /** Runs on every call once its stream has started (detectors, flow or greeting). Must not throw. */
  start(session: CallSession, claims: CallStartClaims): void;
  /** Flow id for an inbound call to `to` ('' for the default). */
  resolveFlowId(to: string): Promise<string>;
}

/** The flow side of a call's start (flow/flowStarter.ts): `started` settles once the flow runs or has failed to. */
export interface FlowStarter {
  start(session: CallSession, claims: CallStartClaims): { started: Promise<void> };
  resolveFlowId(to: string): Promise<string>;
}

export interface CallStarterOptions {
  /** Longest wall time inbound audio is held for the flow to start. */
  flowStartWaitMs: number;
  /** Runs after the detectors and the flow have been started (campaign policies hook in here). Must not throw. */
  onStart?: (session: CallSession, claims: CallStartClaims) => void;
}

export function createCallStarter(flows: FlowStarter, opts: CallStarterOptions): CallStarter {
  return {
    start(session, claims) {
      // Outbound calls run AMD unless the call was placed with amd: false. The detectors detach
      // themselves when the call ends.
      const options = defaultDetectorOptions(session.direction);
      if (claims.amd === 'off') options.amd = false;
      attachDetectors(session, options);
      session.holdMedia();
      const watchdog = setTimeout(release, opts.flowStartWaitMs);
      watchdog.unref();
      function release(): void {
        clearTimeout(watchdog);
        session.releaseMedia();
      }
      void flows.start(session, claims).started.then(release);
      opts.onStart?.(session, claims);
    },
    resolveFlowId: (to) => flows.resolveFlowId(to),
  };
}
