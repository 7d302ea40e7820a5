// `transfer`: to an E.164 number or to a department. A department has numbers (tried in order until
// the carrier accepts one), business hours in its time zone, and what to do when closed: the node's
// `outsideHours` exit first, else the department's own fallback (another flow, a number, or a
// message then hang-up). The flow ends once the carrier has taken the call.
import { createError } from '../../errors.ts';
import { exit, type NodeResult, type RunContext } from '../context.ts';
import { isOpen } from '../hours.ts';
import { speak } from '../prompt.ts';
import { E164, type Department, type TransferNode } from '../types.ts';

export async function runTransfer(ctx: RunContext, node: TransferNode): Promise<NodeResult> {
  let numbers: string[];
  let target: { department: string } | { number: string };
  if (node.department !== undefined) {
    const name = ctx.render(node.department);
    const dept = await findDepartment(ctx, name);
    if (!isOpen(dept, ctx.now())) {
      ctx.emit('flow.transfer.outside_hours', { node: ctx.nodeId, department: name, timeZone: dept.timeZone });
      if (node.outsideHours !== undefined) return exit('outsideHours', node.outsideHours);
      return departmentClosed(ctx, dept);
    }
    numbers = dept.numbers;
    target = { department: name };
  } else {
    const number = ctx.render(node.to ?? '');
    numbers = [number];
    target = { number };
  }
  for (const n of numbers) {
    if (!E164.test(n)) throw createError('GW_ERR_FLOW_BAD_NUMBER', `transfer target is not an E.164 number`, { details: { number: n } });
  }
  if (node.announce !== undefined) await speak(ctx, node.announce, `transfer:${ctx.nodeId}`, false);
  const callerId = node.callerId !== undefined ? ctx.render(node.callerId) : undefined;
  return dial(ctx, numbers, { ...target, callerId, timeoutS: node.timeoutS });
}

async function findDepartment(ctx: RunContext, name: string): Promise<Department> {
  const dir = ctx.deps.departments;
  if (dir === undefined) throw createError('GW_ERR_FLOW_NO_DEPARTMENTS', 'no departments are configured, so a department transfer cannot be made');
  const dept = await dir.get(name);
  if (dept === undefined) throw createError('GW_ERR_FLOW_UNKNOWN_DEPARTMENT', `department "${name}" does not exist; create it with PUT /v1/departments/${name}`);
  if (dept.numbers.length === 0) throw createError('GW_ERR_FLOW_DEPARTMENT_EMPTY', `department "${name}" has no numbers to ring`);
  return dept;
}

async function departmentClosed(ctx: RunContext, dept: Department): Promise<NodeResult> {
  const fallback = dept.outsideHours;
  if (fallback?.flowId !== undefined) {
    const flow = await ctx.deps.loadFlow?.(fallback.flowId);
    if (flow === undefined) {
      throw createError('GW_ERR_FLOW_FALLBACK_MISSING', `department "${dept.name}" is closed and its outside-hours flow "${fallback.flowId}" cannot be loaded`);
    }
    return { kind: 'switch', flow, reason: `department_closed:${dept.name}` };
  }
  if (fallback?.text !== undefined) await speak(ctx, { text: fallback.text }, `closed:${dept.name}`, false);
  if (fallback?.number !== undefined) return dial(ctx, [fallback.number], { department: dept.name, outsideHours: true });
  if (fallback?.text !== undefined) {
    await ctx.call.hangup(`department_closed:${dept.name}`);
    return { kind: 'end', outcome: 'hangup', reason: `department_closed:${dept.name}` };
  }
  throw createError('GW_ERR_FLOW_DEPARTMENT_CLOSED', `department "${dept.name}" is closed and neither the node nor the department says what to do outside hours`);
}

async function dial(ctx: RunContext, numbers: string[], info: { department?: string; number?: string; outsideHours?: boolean; callerId?: string | undefined; timeoutS?: number | undefined }): Promise<NodeResult> {
  let lastError: unknown;
  for (const number of numbers) {
    ctx.emit('flow.transfer', { node: ctx.nodeId, ...info, number });
    try {
      await ctx.call.transfer(
        { number, ...(info.callerId !== undefined ? { callerId: info.callerId } : {}), ...(info.timeoutS !== undefined ? { timeoutS: info.timeoutS } : {}) },
        `transfer:${ctx.nodeId}`,
      );
      return { kind: 'end', outcome: 'transferred', reason: `transfer:${number}` };
    } catch (err) {
      lastError = err;
      if (ctx.signal.aborted) throw err;
      ctx.emit('flow.transfer.failed', { node: ctx.nodeId, number, code: (err as { code?: string }).code ?? null, message: (err as Error).message });
    }
  }
  throw createError('GW_ERR_FLOW_TRANSFER_FAILED', `the transfer failed: ${(lastError as Error | undefined)?.message ?? 'no number'}`, { cause: lastError });
}
