// The call actions the model may take, as chat-completions function tools, and how each call maps to
// the agent node's outcome. Transfers and hang-ups are decided here but performed by the flow (its
// transfer/hangup nodes), after the agent's last words have played (frameworks.md complaint 4: hanging
// up before the goodbye is heard).
import type { AgentExit, AgentTool } from './node.ts';
import type { ToolCall, ToolDefinition } from './providers.ts';
import { transferRefusal } from './transferPolicy.ts';

/** The transfer tool's number parameter: an enum of the exact numbers allowed, else a hint at the prefixes. */
function numberParameter(transferNumbers: readonly string[]): Record<string, unknown> {
  const exact = transferNumbers.filter((n) => !n.endsWith('*'));
  if (exact.length === transferNumbers.length && exact.length > 0) return { type: 'string', enum: exact };
  return { type: 'string', description: `E.164 phone number; only these are accepted: ${transferNumbers.join(', ') || 'none'}` };
}

export function toolDefinitions(tools: readonly AgentTool[], departments: readonly string[] | undefined, transferNumbers: readonly string[] = []): ToolDefinition[] {
  const defs: Record<AgentTool, ToolDefinition> = {
    transfer: {
      name: 'transfer',
      description: 'Transfer the caller to a person. Say a short sentence first (e.g. "Let me put you through.").',
      parameters:
        departments && departments.length > 0
          ? { type: 'object', properties: { department: { type: 'string', enum: [...departments] }, reason: { type: 'string' } }, required: ['department'] }
          : { type: 'object', properties: { number: numberParameter(transferNumbers), reason: { type: 'string' } }, required: ['number'] },
    },
    hangup: {
      name: 'hangup',
      description: 'End the phone call. Say goodbye first.',
      parameters: { type: 'object', properties: { reason: { type: 'string' } } },
    },
    send_dtmf: {
      name: 'send_dtmf',
      description: 'Press keys on the phone keypad (to navigate a phone menu).',
      parameters: { type: 'object', properties: { digits: { type: 'string', pattern: '^[0-9*#A-Da-dwW]+$' } }, required: ['digits'] },
    },
    set_variable: {
      name: 'set_variable',
      description: 'Remember a fact about the caller for later steps (e.g. account number, intent).',
      parameters: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } }, required: ['name', 'value'] },
    },
    end: {
      name: 'end',
      description: 'Finish this part of the conversation with a result (the call continues elsewhere).',
      parameters: { type: 'object', properties: { result: { type: 'string' } }, required: ['result'] },
    },
  };
  return tools.map((t) => defs[t]);
}

export type ToolDecision =
  | { kind: 'terminal'; exit: AgentExit; reason: string; result?: string; transferTo?: string; toolResult: string }
  | { kind: 'set_variable'; name: string; value: string }
  | { kind: 'send_dtmf'; digits: string }
  | { kind: 'invalid'; toolResult: string };

function parseArgs(call: ToolCall): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(call.arguments || '{}') as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/**
 * Validate a tool call against what the node allows. Invalid calls go back to the model as errors.
 * Numbers are transferred to only without departments and when on `transferNumbers` (transferPolicy.ts).
 */
export function decideTool(call: ToolCall, allowed: readonly AgentTool[], departments: readonly string[] | undefined, transferNumbers: readonly string[] = []): ToolDecision {
  if (!(allowed as readonly string[]).includes(call.name)) return { kind: 'invalid', toolResult: `error: tool ${call.name} is not available` };
  const args = parseArgs(call);
  if (!args) return { kind: 'invalid', toolResult: 'error: arguments must be a JSON object' };
  switch (call.name as AgentTool) {
    case 'transfer': {
      const department = str(args.department);
      const number = str(args.number);
      if (department !== undefined) {
        if (departments && departments.length > 0 && !departments.includes(department)) return { kind: 'invalid', toolResult: `error: unknown department; use one of ${departments.join(', ')}` };
        return { kind: 'terminal', exit: 'transfer', reason: 'tool:transfer', transferTo: department, toolResult: 'transferring' };
      }
      if (number !== undefined && /^\+[1-9]\d{6,14}$/.test(number)) {
        const refusal = transferRefusal(number, departments, transferNumbers);
        if (refusal !== undefined) return { kind: 'invalid', toolResult: `error: ${refusal}` };
        return { kind: 'terminal', exit: 'transfer', reason: 'tool:transfer', transferTo: number, toolResult: 'transferring' };
      }
      return { kind: 'invalid', toolResult: departments && departments.length > 0 ? `error: give one of the departments ${departments.join(', ')}` : 'error: give an E.164 number' };
    }
    case 'hangup':
      return { kind: 'terminal', exit: 'hangup', reason: 'tool:hangup', toolResult: 'hanging up', ...(str(args.reason) ? { result: str(args.reason) } : {}) };
    case 'end':
      return { kind: 'terminal', exit: 'done', reason: 'tool:end', result: str(args.result) ?? '', toolResult: 'done' };
    case 'set_variable': {
      const name = str(args.name);
      if (!name || !/^[A-Za-z_][\w.]{0,63}$/.test(name)) return { kind: 'invalid', toolResult: 'error: name must be an identifier' };
      return { kind: 'set_variable', name, value: typeof args.value === 'string' ? args.value : JSON.stringify(args.value ?? null) };
    }
    case 'send_dtmf': {
      const digits = str(args.digits);
      if (!digits || !/^[0-9*#A-Da-dwW]+$/.test(digits)) return { kind: 'invalid', toolResult: 'error: digits may be 0-9, *, #, A-D, w' };
      return { kind: 'send_dtmf', digits };
    }
  }
}
