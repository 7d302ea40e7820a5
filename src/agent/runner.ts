// The entry point the flow engine calls for an `agent` node. Providers are process-wide (one client
// pool, one circuit breaker per vendor, one TTS cache); the runner binds them once and each node run
// gets its own AgentSession.
import type { AgentRunner } from './node.ts';
import { AgentSession, type AgentOptions } from './session.ts';

export function createAgentRunner(options: AgentOptions): AgentRunner {
  return (call, spec, variables, signal) => new AgentSession(call, spec, variables, options, signal).run();
}
