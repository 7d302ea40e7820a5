// The contract between a flow's `agent` node and the conversational agent: the flow hands the call
// over with a spec, the agent talks until a tool ends it or a limit is reached, and hands back an
// outcome whose `exit` picks the node's next step. Transfers and hang-ups are performed by the flow
// (its transfer/hangup nodes), so the agent only decides.
import type { CallControl } from '../call/control.ts';

export type AgentTool = 'transfer' | 'hangup' | 'send_dtmf' | 'set_variable' | 'end';

export interface AgentNodeSpec {
  /** System prompt (already templated by the flow). */
  instructions: string;
  /** Said first, before listening (cached TTS). */
  greeting?: string;
  tools: AgentTool[];
  /** Departments the transfer tool may name. */
  departments?: string[];
  /** Numbers (or `+prefix*`) the transfer tool may name when there are no departments (transferPolicy.ts). */
  transferNumbers?: string[];
  maxTurns?: number;
  maxDurationMs?: number;
  /** Silence after which the agent reprompts. */
  noInputMs?: number;
}

import type { AgentExit } from './events.ts';

export type { AgentExit } from './events.ts';

export interface AgentOutcome {
  exit: AgentExit;
  /** Why it ended, for the timeline (`tool:end`, `max_turns`, `provider_failed`…). */
  reason: string;
  /** Result passed to the `end` tool, if any. */
  result?: string;
  /** Variables the agent set (`set_variable` tool) or learned. */
  variables: Record<string, unknown>;
  /** For exit 'transfer': a department name or an E.164 number. */
  transferTo?: string;
}

export type AgentRunner = (
  call: CallControl,
  spec: AgentNodeSpec,
  variables: Readonly<Record<string, unknown>>,
  signal: AbortSignal,
) => Promise<AgentOutcome>;
