// The entry point the flow engine calls for an `agent` node (flow/interpreter.ts runs whole flows).
// Providers are process-wide (one client pool, one circuit breaker per vendor, one TTS cache); the
// runner binds them once and each node run gets its own AgentSession.
import type { AgentRunner } from './node.ts';
import { createProviders, type ProviderOptions, type Providers } from './factory.ts';
import { AgentSession, type AgentOptions } from './session.ts';

export function createAgentRunner(options: AgentOptions): AgentRunner {
  return (call, spec, variables, signal) => new AgentSession(call, spec, variables, options, signal).run();
}

/**
 * Build the process-wide providers from configuration and the `runAgent` entry point bound to them.
 * `close()` on the providers stops the offline voice worker and the TTS cache at shutdown.
 */
export function createAgentNodeRunner(config: ProviderOptions, agent: Partial<Omit<AgentOptions, 'stt' | 'llm' | 'tts' | 'ttsCache' | 'streamTts'>> = {}): { runAgent: AgentRunner; providers: Providers } {
  const providers = createProviders(config);
  return {
    providers,
    runAgent: createAgentRunner({
      ...agent,
      stt: providers.stt,
      llm: providers.llm,
      tts: providers.tts,
      ttsCache: providers.ttsCache,
      ...(providers.streamTts ? { streamTts: providers.streamTts } : {}),
    }),
  };
}
