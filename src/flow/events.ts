// The flow's events on the call timeline, typed: each `flow.*` event with its data, as the call's own
// events are (call/events.ts). On the wire and in the database they are `{ type, atMs, data }`. Every
// event a running flow emits carries its flow's id (RunContext.emit adds it); the three the call's
// program emits before a flow runs (resolved, record, and an error starting it) say it themselves.
// A leaf module (types only, no imports): call/events.ts unions it into CallEvent without a cycle.

/** How a flow ended. */
export type FlowOutcome = 'hangup' | 'transferred' | 'voicemail' | 'aborted' | 'failed';

/** What ended a machine's greeting before a voicemail is left. */
export type GreetingEnd = 'beep' | 'message_end' | 'silence' | 'max_wait' | 'message_end+beep' | 'silence+beep';

/** Data of the events a running flow emits, without the `flowId` every one of them carries. */
export type FlowNodeEventData = {
  'flow.started': { start: string; version: number | null; direction: 'inbound' | 'outbound' };
  'flow.ended': {
    outcome: FlowOutcome;
    reason: string;
    node: string;
    steps: number;
    success: boolean | null;
    disposition: string | null;
    dispositions: string[];
  };
  'flow.node.entered': { node: string; type: string };
  'flow.node.exited': { node: string; exit: string; next?: string; flow?: string; reason?: string };
  'flow.switched': { from: string; to: string; reason: string };
  'flow.warning': { node?: string; code: string; message: string };
  'flow.fallback': { node: string; code: string };
  'flow.variable.set': { name: string; value: unknown };
  'flow.prompt': { node: string; label: string; audio: string } | { node: string; label: string; text: string };
  'flow.barge_in': { node: string; by: 'dtmf' | 'speech' };
  'flow.branch': { node: string; matched: number | null; when?: string };
  'flow.input':
    | { node: string; attempt: number; source: 'none' }
    | { node: string; attempt: number; source: 'dtmf' | 'speech'; value: string; finishedBy: string };
  'flow.input.rejected': { node: string; attempt: number; value: string };
  'flow.optout': { node: string };
  'flow.voicemail.greeting_ended': { node: string; by: GreetingEnd };
  'flow.voicemail.left': { node: string; heardMs: number; audioMs: number };
  'flow.transfer': { node: string; number: string; department?: string; outsideHours?: boolean; callerId?: string; timeoutS?: number };
  'flow.transfer.outside_hours': { node: string; department: string; timeZone: string };
  'flow.transfer.failed': { node: string; number: string; code: string | null; message: string };
  'flow.agent.started': { node: string; tools: readonly string[] };
  'flow.agent.ended': { node: string; exit: string; reason: string };
  'flow.http.refused': { node: string; url: string; reason: string };
  'flow.http.request': { node: string; method: string; url: string };
  'flow.http.response': { node: string; status: number; durationMs: number; ok: boolean };
  /** A node failed (`stage` when a fallback of it failed too). */
  'flow.error': { node: string; stage?: string; code: string; message: string };
};

export type FlowEventData = { [K in Exclude<keyof FlowNodeEventData, 'flow.error'>]: FlowNodeEventData[K] & { flowId: string } } & {
  'flow.resolved': { flowId: string; version: number | null; source: 'explicit' | 'number' | 'default' };
  'flow.record': { flowId: string; by: 'flow' | 'call' };
  /** Another flow took over the running call (a campaign's voicemail drop, flow/flowStarter.ts takeOver). */
  'flow.takeover': { flowId: string; reason: string };
  /** What a campaign's AMD policy did on a verdict or its revision (campaign/callPolicy.ts). */
  'flow.campaign.amd_action': {
    action: 'hangup' | 'drop' | 'flow';
    result: 'human' | 'machine' | 'fax' | 'unknown';
    confidence: number;
    hangupConfidence: number;
    revised: boolean;
    policy: string;
  };
  /** A flow's node failed (with `node`), or no flow could be started for the call (without). */
  'flow.error': (FlowNodeEventData['flow.error'] & { flowId: string }) | { code: string; message: string };
};

export type FlowEventType = keyof FlowEventData;

/** The flow's events as a discriminated union on `type`. */
export type FlowEvent = { [K in FlowEventType]: { type: K; atMs: number; data: FlowEventData[K] } }[FlowEventType];
