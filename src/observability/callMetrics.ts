// Feeds the Prometheus metrics from one call's events (listeners run after the frame's work, and do
// a histogram observe at most: nothing here waits or allocates per frame).
import type { CallSession } from '../call/CallSession.ts';
import { activeCalls, agentTurnLatency, amdDecision, bargeIn, callsStarted, firstAudio, providerErrors, recordingsStopped } from './metrics.ts';

export function observeCall(session: CallSession): void {
  activeCalls.inc();
  callsStarted.inc({ carrier: session.carrier, direction: session.direction });
  let heardFirstAudio = false;
  const unsubscribe = session.subscribe((e) => {
    switch (e.type) {
      case 'playout.started':
        if (!heardFirstAudio) {
          heardFirstAudio = true;
          firstAudio.observe(e.atMs / 1000);
        }
        return;
      case 'amd.verdict':
        amdDecision.observe({ result: e.result }, e.atMs / 1000);
        return;
      case 'recording.stopped':
        recordingsStopped.inc({ reason: e.reason });
        return;
      case 'call.ended':
        activeCalls.dec();
        unsubscribe();
        return;
    }
    if (e.type === 'turn.first_audio' && e.data.responseLatencyMs !== undefined) agentTurnLatency.observe(e.data.responseLatencyMs / 1000);
    else if (e.type === 'turn.barge_in') bargeIn.observe(e.data.latencyMs / 1000);
    else if (e.type === 'agent.provider_failed' || e.type === 'agent.stt_failed') providerErrors.inc({ code: e.data.code });
  });
}
