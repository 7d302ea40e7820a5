// `optOut`: the caller asked not to be called again ("press 9 to stop these calls"). The flow marks it
// in vars.doNotCall; the campaign engine reads the call's variables when the call ends and puts the
// number on the deployment's do-not-call list (src/campaign/settle.ts), so no campaign dials it again.
import { exit, type NodeResult, type RunContext } from '../context.ts';
import type { OptOutNode } from '../types.ts';

export function runOptOut(ctx: RunContext, node: OptOutNode): NodeResult {
  ctx.setVar('doNotCall', true);
  ctx.emit('flow.optout', { node: ctx.nodeId });
  return exit('next', node.next);
}
