// `agent`: hand the call to the conversational agent (src/agent/node.ts contract) and route on how
// it ended. Without an agent runner configured the node fails (onError or the flow fallback), so a
// flow designed for the agent still validates and still answers the call.
import type { AgentNodeSpec } from '../../agent/node.ts';
import { transferRefusal } from '../../agent/transferPolicy.ts';
import { createError, isAbortError } from '../../errors.ts';
import { exit, type NodeResult, type RunContext } from '../context.ts';
import { E164, type AgentNode } from '../types.ts';
import { runTransfer } from './transfer.ts';

export async function runAgentNode(ctx: RunContext, node: AgentNode): Promise<NodeResult> {
  const agent = ctx.deps.agent;
  if (agent === undefined) {
    throw createError('GW_ERR_FLOW_AGENT_UNAVAILABLE', 'no agent is configured, so the agent node cannot run; configure an LLM, STT and TTS');
  }
  const transferNumbers = [...(node.transferNumbers ?? []), ...(ctx.deps.agentTransferNumbers ?? [])];
  const spec: AgentNodeSpec = {
    instructions: ctx.render(node.instructions),
    tools: node.tools ?? ['end', 'hangup'],
    ...(node.greeting !== undefined ? { greeting: ctx.render(node.greeting) } : {}),
    ...(node.departments !== undefined ? { departments: node.departments } : {}),
    ...(transferNumbers.length > 0 ? { transferNumbers } : {}),
    ...(node.maxTurns !== undefined ? { maxTurns: node.maxTurns } : {}),
    ...(node.maxDurationMs !== undefined ? { maxDurationMs: node.maxDurationMs } : {}),
    ...(node.noInputMs !== undefined ? { noInputMs: node.noInputMs } : {}),
  };
  ctx.emit('flow.agent.started', { node: ctx.nodeId, tools: spec.tools });
  const input: Record<string, unknown> = { contact: ctx.scope.contact, vars: ctx.vars(), call: ctx.scope.call };
  const before = new Map(Object.entries(input).map(([k, v]) => [k, JSON.stringify(v)]));
  let outcome;
  // The agent takes key presses throughout (a DTMF turn), so in-band DTMF listens while it runs.
  const stopListening = ctx.call.listenFor('keys');
  try {
    outcome = await agent(ctx.call, spec, input, ctx.signal);
  } catch (err) {
    if (isAbortError(err) || ctx.signal.aborted) throw err;
    throw createError('GW_ERR_FLOW_AGENT_FAILED', `the agent failed: ${(err as Error).message}`, { cause: err });
  } finally {
    stopListening();
  }
  // The agent hands back its whole variable set, inputs included: keep only what it set or changed.
  for (const [k, v] of Object.entries(outcome.variables)) {
    if (before.get(k) !== JSON.stringify(v)) ctx.setVar(k, v);
  }
  const transferTo = outcome.transferTo ?? null;
  // Whatever runner produced it, a number the node does not allow is never handed on to be dialled.
  const refusal = transferTo === null ? undefined : transferRefusal(transferTo, node.departments, transferNumbers);
  if (refusal !== undefined) {
    throw createError('GW_ERR_FLOW_TRANSFER_NOT_ALLOWED', `the agent asked to transfer to a number it may not use: ${refusal}; list it in the node's transferNumbers or AGENT_TRANSFER_NUMBERS`);
  }
  ctx.setRoot('agent', {
    exit: outcome.exit,
    reason: outcome.reason,
    result: outcome.result ?? null,
    transferTo,
    transferKind: transferTo === null ? null : E164.test(transferTo) ? 'number' : 'department',
  });
  ctx.emit('flow.agent.ended', { node: ctx.nodeId, exit: outcome.exit, reason: outcome.reason });
  switch (outcome.exit) {
    case 'done':
      return exit('done', node.done);
    case 'limit':
      return exit(node.limit !== undefined ? 'limit' : 'done', node.limit ?? node.done);
    case 'hangup':
      if (node.hangup !== undefined) return exit('hangup', node.hangup);
      await ctx.call.hangup(`agent:${outcome.reason}`);
      return { kind: 'end', outcome: 'hangup', reason: `agent:${outcome.reason}` };
    case 'transfer':
      if (node.transfer !== undefined) return exit('transfer', node.transfer);
      if (transferTo === null) throw createError('GW_ERR_FLOW_AGENT_FAILED', 'the agent asked for a transfer without a target');
      // No transfer exit: transfer straight to what the agent named.
      return runTransfer(ctx, E164.test(transferTo) ? { type: 'transfer', to: transferTo } : { type: 'transfer', department: transferTo });
    case 'error':
      throw createError('GW_ERR_FLOW_AGENT_FAILED', `the agent ended with an error: ${outcome.reason}`);
  }
}
