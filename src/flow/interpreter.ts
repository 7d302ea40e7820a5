// Runs a flow on a live call: node by node from `start`, each step on the call's media clock, every
// node entry and exit a `flow.*` event in the call's timeline. A failing node takes its onError exit;
// without one, the flow-level fallback apologises and transfers or hangs up, so a call never goes
// silent. The run ends when a node ends the call (hangup, transfer, voicemail) or the call's signal
// aborts; it never throws.
import type { CallControl } from '../call/control.ts';
import { GatewayError, createError, isAbortError } from '../errors.ts';
import { RunContext, type CallObserver, type FlowDeps, type NodeResult } from './context.ts';
import { runBranch, runHangup, runPlay, runSay, runSet } from './nodes/basic.ts';
import { runOptOut } from './nodes/optOut.ts';
import { runAgentNode } from './nodes/agent.ts';
import { runAmd, runVoicemail } from './nodes/detect.ts';
import { runGather } from './nodes/gather.ts';
import { runHttp } from './nodes/http.ts';
import { runTransfer } from './nodes/transfer.ts';
import { speak } from './prompt.ts';
import { evaluate, truthy } from './evaluate.ts';
import type { FlowDefinition, FlowNode } from './types.ts';
import { formatIssue, validateFlow } from './validate.ts';

export { CallObserver, type FlowDeps } from './context.ts';

export interface RunFlowOptions {
  /** `contact` becomes the contact root; every other key overrides the flow's initial vars. */
  variables?: Record<string, unknown>;
  deps?: FlowDeps;
  /** Stops the run (the call's own signal always does). */
  signal?: AbortSignal;
  /** The stored version being run, for the timeline. */
  version?: number;
  /**
   * Detector events seen since before the run (create it when the stream starts, so an AMD verdict
   * that lands while the flow is still being looked up is not missed). The run closes it.
   */
  observer?: CallObserver;
}

export type FlowOutcome = 'hangup' | 'transferred' | 'voicemail' | 'aborted' | 'failed';

export interface FlowResult {
  outcome: FlowOutcome;
  reason: string;
  /** The last node entered (empty if none). */
  lastNode: string;
  steps: number;
  variables: Record<string, unknown>;
}

/** Node visits in a row without media time passing before the run is declared looping. */
export const DEFAULT_MAX_STEPS = 200;
const YIELD_EVERY_STEPS = 25;
export const DEFAULT_FALLBACK_TEXT = 'Sorry, something went wrong. Please call again later. Goodbye.';

export async function runFlow(call: CallControl, flow: FlowDefinition, opts: RunFlowOptions = {}): Promise<FlowResult> {
  const signal = opts.signal === undefined ? call.signal : AbortSignal.any([call.signal, opts.signal]);
  const deps = opts.deps ?? {};
  const ctx = new RunContext(call, flow, deps, signal, opts.variables ?? {}, opts.version, opts.observer);
  const maxSteps = deps.maxSteps ?? DEFAULT_MAX_STEPS;
  let steps = 0;
  // Loop guard: node visits in a row that did not wait (no media time passed while the node ran:
  // no prompt, input or timeout). A long call that keeps waiting is fine; a tight loop is a bug.
  let stepsWithoutWait = 0;
  let current = flow.start;
  const done = (outcome: FlowOutcome, reason: string): FlowResult => {
    // What the call achieved, for its outcome (src/analytics/outcome.ts reads these from the timeline).
    ctx.emit('flow.ended', { outcome, reason, node: ctx.nodeId, steps, ...endVerdict(ctx, outcome, reason) });
    ctx.close();
    return { outcome, reason, lastNode: ctx.nodeId, steps, variables: { ...ctx.vars() } };
  };

  ctx.emit('flow.started', { start: flow.start, version: opts.version ?? null, direction: call.direction });
  for (;;) {
    if (signal.aborted) return done('aborted', call.signal.aborted ? 'call_ended' : 'aborted');
    const node: FlowNode | undefined = ctx.flow.nodes[current];
    if (node === undefined) {
      // Only reachable with an unvalidated flow: validation rejects dangling exits.
      return fail(ctx, createError('GW_ERR_FLOW_UNKNOWN_NODE', `node "${current}" does not exist in flow "${ctx.flow.id}"`), done);
    }
    if (stepsWithoutWait >= maxSteps) {
      return fail(ctx, createError('GW_ERR_FLOW_LOOP', `the flow visited ${maxSteps} nodes in a row without waiting for anything; check for a loop without input`), done);
    }
    steps++;
    stepsWithoutWait++;
    // Nodes that do not wait run back to back in microtasks; let other calls' I/O in now and then.
    if (stepsWithoutWait % YIELD_EVERY_STEPS === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    ctx.nodeId = current;
    if (node.type !== 'say' && node.type !== 'play' && node.type !== 'gather' && node.type !== 'set' && node.type !== 'branch') ctx.typeAhead = [];
    ctx.emit('flow.node.entered', { node: current, type: node.type });
    let result: NodeResult;
    const enteredAtMs = call.mediaMs();
    try {
      result = await runNode(ctx, node);
      if (call.mediaMs() !== enteredAtMs) stepsWithoutWait = 0;
    } catch (err) {
      if (isAbortError(err) || signal.aborted) return done('aborted', call.signal.aborted ? 'call_ended' : 'aborted');
      const error = asGatewayError(err);
      ctx.emit('flow.error', { node: current, code: error.code, message: error.message });
      if (node.type !== 'hangup' && node.onError !== undefined) {
        ctx.emit('flow.node.exited', { node: current, exit: 'onError', next: node.onError });
        current = node.onError;
        continue;
      }
      return fail(ctx, error, done);
    }
    switch (result.kind) {
      case 'exit':
        ctx.emit('flow.node.exited', { node: current, exit: result.exit, next: result.next });
        current = result.next;
        break;
      case 'end':
        ctx.emit('flow.node.exited', { node: current, exit: result.outcome });
        return done(result.outcome, result.reason);
      case 'switch': {
        const check = validateFlow(result.flow);
        if (!check.ok) {
          const error = createError('GW_ERR_FLOW_INVALID', `flow "${result.flow.id}" is invalid: ${check.errors.map(formatIssue).join('; ')}`);
          ctx.emit('flow.error', { node: current, code: error.code, message: error.message });
          return fail(ctx, error, done);
        }
        ctx.emit('flow.node.exited', { node: current, exit: 'switch', flow: result.flow.id, reason: result.reason });
        ctx.switchFlow(result.flow, result.version);
        ctx.emit('flow.switched', { from: flow.id, to: result.flow.id, reason: result.reason });
        current = result.flow.start;
        break;
      }
    }
  }
}

/**
 * The flow's own verdict on the call: `success` from its `successWhen` (an expression that fails to
 * evaluate counts as false, with a warning), and the disposition — `vars.disposition` (a `set` node or
 * the agent's set_variable), else the agent's end result, else a hangup node's reason.
 */
function endVerdict(ctx: RunContext, outcome: FlowOutcome, reason: string): { success: boolean | null; disposition: string | null; dispositions: string[] } {
  let success: boolean | null = null;
  const when = ctx.flow.successWhen;
  if (when !== undefined) {
    try {
      success = truthy(evaluate(ctx.templates.expression(when), ctx.scope));
    } catch (err) {
      success = false;
      ctx.emit('flow.warning', { code: 'GW_ERR_FLOW_SUCCESS_WHEN', message: `successWhen could not be evaluated: ${(err as Error).message}` });
    }
  }
  const fromVars = ctx.vars().disposition;
  const agent = ctx.scope.agent as { result?: unknown } | null | undefined;
  const agentResult = agent !== null && typeof agent === 'object' ? agent.result : undefined;
  const disposition =
    typeof fromVars === 'string' && fromVars !== ''
      ? fromVars
      : typeof agentResult === 'string' && agentResult !== ''
        ? agentResult
        : outcome === 'hangup' && !reason.startsWith('flow:') && !reason.startsWith('agent:')
          ? reason
          : null;
  // The flow's list travels with the verdict: post-call analysis classifies against it.
  return { success, disposition: disposition === null ? null : disposition.slice(0, 64), dispositions: ctx.flow.dispositions ?? [] };
}

function runNode(ctx: RunContext, node: FlowNode): Promise<NodeResult> | NodeResult {
  switch (node.type) {
    case 'say':
      return runSay(ctx, node);
    case 'play':
      return runPlay(ctx, node);
    case 'gather':
      return runGather(ctx, node);
    case 'branch':
      return runBranch(ctx, node);
    case 'set':
      return runSet(ctx, node);
    case 'amd':
      return runAmd(ctx, node);
    case 'voicemail':
      return runVoicemail(ctx, node);
    case 'agent':
      return runAgentNode(ctx, node);
    case 'transfer':
      return runTransfer(ctx, node);
    case 'http':
      return runHttp(ctx, node);
    case 'hangup':
      return runHangup(ctx, node);
    case 'optOut':
      return runOptOut(ctx, node);
    default:
      // Only an unvalidated (or older, stored) definition gets here.
      throw createError('GW_ERR_FLOW_UNKNOWN_NODE_TYPE', `node "${ctx.nodeId}" has an unknown type "${String((node as { type?: unknown }).type)}"`);
  }
}

function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return createError('GW_ERR_FLOW_NODE_FAILED', `the node failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/**
 * The flow-level fallback: apologise (text via TTS, or an audio file), then transfer if the flow
 * says where, else hang up. Each step that fails falls through to the next; the last resort is the
 * hang-up, which always closes the stream.
 */
async function fail(ctx: RunContext, error: GatewayError, done: (o: FlowOutcome, r: string) => FlowResult): Promise<FlowResult> {
  const fb = ctx.flow.fallback ?? {};
  const call = ctx.call;
  ctx.emit('flow.fallback', { node: ctx.nodeId, code: error.code });
  const guard = async (what: string, step: () => Promise<unknown>): Promise<boolean> => {
    try {
      await step();
      return true;
    } catch (err) {
      if (isAbortError(err) || ctx.signal.aborted) return false;
      ctx.emit('flow.error', { node: ctx.nodeId, stage: `fallback.${what}`, code: (err as { code?: string }).code ?? 'GW_ERR_FLOW_NODE_FAILED', message: (err as Error).message });
      return false;
    }
  };
  if (ctx.signal.aborted) return done('aborted', 'call_ended');
  const apologised = fb.audio !== undefined && (await guard('audio', () => speak(ctx, { audio: fb.audio }, 'fallback', false)));
  if (!apologised && ctx.deps.tts !== undefined) {
    await guard('text', () => speak(ctx, { text: renderSafe(ctx, fb.text ?? DEFAULT_FALLBACK_TEXT) }, 'fallback', false));
  }
  if (ctx.signal.aborted) return done('aborted', 'call_ended');
  if (fb.transferTo !== undefined || fb.department !== undefined) {
    const node = fb.transferTo !== undefined ? ({ type: 'transfer', to: fb.transferTo } as const) : ({ type: 'transfer', department: fb.department } as const);
    let transferred = false;
    const ok = await guard('transfer', async () => {
      const r = await runTransfer(ctx, node);
      transferred = r.kind === 'end' && r.outcome === 'transferred';
    });
    if (ok && transferred) return done('transferred', `fallback:${error.code}`);
  }
  try {
    await call.hangup(`flow_error:${error.code}`);
  } catch {
    // CallSession.hangup closes the stream even when the carrier's REST call fails.
  }
  return done('failed', error.code);
}

/** The fallback text must not fail on its own template; a broken one is said without its holes. */
function renderSafe(ctx: RunContext, text: string): string {
  try {
    return ctx.render(text);
  } catch {
    return text.replace(/\{\{[\s\S]*?\}\}/g, '').replace(/\s+/g, ' ').trim() || DEFAULT_FALLBACK_TEXT;
  }
}
