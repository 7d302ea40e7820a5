// The nodes that need no detector or external service: say, play, set, branch, hangup.
import { createError } from '../../errors.ts';
import { evaluate, truthy } from '../expression.ts';
import { exit, type NodeResult, type RunContext } from '../context.ts';
import { speak } from '../prompt.ts';
import type { BranchNode, HangupNode, PlayNode, SayNode, SetNode } from '../types.ts';

export async function runSay(ctx: RunContext, node: SayNode): Promise<NodeResult> {
  const prompt = node.audio !== undefined ? { audio: node.audio } : { text: node.text ?? '' };
  await speak(ctx, prompt, `say:${ctx.nodeId}`, node.interruptible ?? false);
  return exit('next', node.next);
}

export async function runPlay(ctx: RunContext, node: PlayNode): Promise<NodeResult> {
  await speak(ctx, { audio: node.audio }, `play:${ctx.nodeId}`, node.interruptible ?? false);
  return exit('next', node.next);
}

export function runSet(ctx: RunContext, node: SetNode): NodeResult {
  for (const [name, value] of Object.entries(node.values)) {
    if (value !== null && typeof value === 'object') ctx.setVar(name, evaluate(ctx.templates.expression(value.expr), ctx.scope) ?? null);
    else ctx.setVar(name, typeof value === 'string' ? ctx.render(value) : value);
  }
  return exit('next', node.next);
}

export function runBranch(ctx: RunContext, node: BranchNode): NodeResult {
  for (let i = 0; i < node.conditions.length; i++) {
    const c = node.conditions[i] as BranchNode['conditions'][number];
    const value = evaluate(ctx.templates.expression(c.when), ctx.scope);
    if (truthy(value)) {
      ctx.emit('flow.branch', { node: ctx.nodeId, matched: i, when: c.when });
      return exit(`conditions[${i}]`, c.next);
    }
  }
  ctx.emit('flow.branch', { node: ctx.nodeId, matched: null });
  return exit('default', node.default);
}

export async function runHangup(ctx: RunContext, node: HangupNode): Promise<NodeResult> {
  const reason = node.reason !== undefined ? ctx.render(node.reason) : `flow:${ctx.nodeId}`;
  try {
    await ctx.call.hangup(reason);
  } catch (cause) {
    throw createError('GW_ERR_FLOW_HANGUP_FAILED', `hanging up failed: ${(cause as Error).message}`, { cause });
  }
  return { kind: 'end', outcome: 'hangup', reason };
}
