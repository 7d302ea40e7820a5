// The agent's events on the call timeline, typed: each `agent.*` / `turn.*` event with its data. On the
// wire and in the database they stay `{ type, atMs, data }`; call/events.ts unions them into CallEvent,
// so producers in agent/ and readers are type-checked (switching on `type` narrows `data`).
// A leaf module (types only, but for endpointing's vocabulary): call/events.ts imports it without a cycle.
import type { EndpointReason } from './turn/endpointing.ts';

/** How an agent node ended (its exits in the flow). */
export type AgentExit = 'done' | 'transfer' | 'hangup' | 'limit' | 'error';

export type AgentEventData = {
  'agent.started': { tools: readonly string[]; greeting: boolean };
  'agent.ended': { exit: AgentExit; reason: string; turns: number; durationMs: number };
  'agent.reprompt': { count: number };
  'agent.filler': { turn: number };
  'agent.stt_failed': { code: string; message: string };
  'agent.provider_failed': { turn: number; code: string; message: string };
  'agent.static_prompt': { label: string; sinceRequestWallMs: number };
  'agent.tts_fallback': { turn: number; from: string | undefined; to: string | undefined; code: string };
  'agent.tool': { turn: number; name: string; arguments: string; decision: string };
  'turn.user_speech_end': { turn: number };
  'turn.stt_final': { text: string; sinceSpeechEndMs?: number };
  'turn.transcript': { turn: number; text: string; source: 'stt' | 'dtmf' };
  'turn.endpoint': { turn: number; waitMs: number; reason: EndpointReason | 'dtmf' };
  'turn.llm_first_token': { turn: number; sinceRequestWallMs: number };
  'turn.tts_first_byte': { turn: number; provider: string; sinceRequestWallMs: number };
  'turn.first_audio': {
    turn: number;
    responseLatencyMs: number | undefined;
    commitToAudioWallMs: number;
    llmMs: number;
    ttsMs: number;
    gatewayOverheadMs: number;
  };
  'turn.barge_in': { turn: number; speechStartMs: number; clearAtMs: number; latencyMs: number; wallMs: number; audible: boolean };
  'turn.resumed': { turn: number; heardMs: number; said: string };
  'turn.interrupted': { turn: number; reason: string; heardMs: number; audioMs: number; heardText: string };
  'turn.completed': { turn: number; heardMs: number; audioMs: number; text: string };
};

export type AgentEventType = keyof AgentEventData;

/** The agent's events as a discriminated union on `type`. */
export type AgentEvent = { [K in AgentEventType]: { type: K; atMs: number; data: AgentEventData[K] } }[AgentEventType];

/** Emits one agent event (the type says which data it carries). */
export type AgentEmit = <K extends AgentEventType>(type: K, data: AgentEventData[K]) => void;

const AGENT_EVENT_TYPES: ReadonlySet<string> = new Set<AgentEventType>([
  'agent.started',
  'agent.ended',
  'agent.reprompt',
  'agent.filler',
  'agent.stt_failed',
  'agent.provider_failed',
  'agent.static_prompt',
  'agent.tts_fallback',
  'agent.tool',
  'turn.user_speech_end',
  'turn.stt_final',
  'turn.transcript',
  'turn.endpoint',
  'turn.llm_first_token',
  'turn.tts_first_byte',
  'turn.first_audio',
  'turn.barge_in',
  'turn.resumed',
  'turn.interrupted',
  'turn.completed',
]);

/** Narrow a timeline event (or a stored one, of any type) to the agent's typed events. */
export function isAgentEvent<E extends { type: string }>(e: E): e is E & AgentEvent {
  return AGENT_EVENT_TYPES.has(e.type);
}
