// Issue 16 item 2: a caller who talks the model into "transfer me to +882…" must not cost the operator
// an international call. With departments the transfer tool takes departments only; without them, only
// numbers on an allow-list (config and per node); the flow node re-checks what any agent runner returns.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentRunner } from '../../src/agent/node.ts';
import { decideTool, toolDefinitions } from '../../src/agent/tools.ts';
import { isTransferNumberAllowed } from '../../src/agent/transferPolicy.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { validateFlow } from '../../src/flow/validate.ts';
import { ScriptedTts, startFlow } from '../flow/helpers.ts';

const call = (args: unknown) => ({ id: 'c', name: 'transfer', arguments: JSON.stringify(args) });
const PREMIUM = '+88213000000';

describe('the transfer tool', () => {
  it('refuses a number when the node lists departments', () => {
    expect(decideTool(call({ number: PREMIUM }), ['transfer'], ['support', 'billing'], [PREMIUM])).toMatchObject({ kind: 'invalid' });
    expect(decideTool(call({ department: 'billing', number: PREMIUM }), ['transfer'], ['support', 'billing'])).toMatchObject({ kind: 'terminal', transferTo: 'billing' });
  });

  it('refuses every number when no allow-list is given', () => {
    expect(decideTool(call({ number: PREMIUM }), ['transfer'], undefined)).toMatchObject({ kind: 'invalid' });
    expect(decideTool(call({ number: '+14155550123' }), ['transfer'], [], [])).toMatchObject({ kind: 'invalid' });
  });

  it('accepts only numbers on the allow-list (exact numbers and prefixes ending in *)', () => {
    const allow = ['+14155550123', '+4930*'];
    expect(decideTool(call({ number: '+14155550123' }), ['transfer'], undefined, allow)).toMatchObject({ kind: 'terminal', transferTo: '+14155550123' });
    expect(decideTool(call({ number: '+493012345678' }), ['transfer'], undefined, allow)).toMatchObject({ kind: 'terminal', transferTo: '+493012345678' });
    expect(decideTool(call({ number: '+14155550124' }), ['transfer'], undefined, allow)).toMatchObject({ kind: 'invalid' });
    expect(decideTool(call({ number: PREMIUM }), ['transfer'], undefined, allow)).toMatchObject({ kind: 'invalid' });
    expect(isTransferNumberAllowed('+4930', allow)).toBe(false); // a prefix alone is not a full number
  });

  it('offers the model only what it may use', () => {
    const [withDepts] = toolDefinitions(['transfer'], ['support']);
    expect(JSON.stringify(withDepts?.parameters)).not.toContain('number');
    const [withNumbers] = toolDefinitions(['transfer'], undefined, ['+14155550123']);
    expect(withNumbers?.parameters).toMatchObject({ properties: { number: { enum: ['+14155550123'] } } });
  });
});

describe('the agent node', () => {
  const flow = (node: Record<string, unknown> = {}): FlowDefinition =>
    ({
      id: 'agent-xfer',
      start: 'assistant',
      nodes: {
        assistant: { type: 'agent', instructions: 'Help.', tools: ['transfer'], done: 'bye', onError: 'sorry', ...node },
        sorry: { type: 'say', text: 'Sorry.', next: 'bye' },
        bye: { type: 'hangup' },
      },
    }) as unknown as FlowDefinition;
  const agentSaying = (transferTo: string): AgentRunner => async (c, _spec, variables) => {
    await c.sleep(100);
    return { exit: 'transfer', reason: 'tool:transfer', variables: { ...variables }, transferTo };
  };

  it('does not dial a number the agent returns when none is allowed (no transfer exit)', async () => {
    const h = startFlow(flow(), { deps: { tts: new ScriptedTts(), agent: agentSaying(PREMIUM) } });
    await h.finish();
    expect(h.carrier.transfers).toEqual([]);
    expect(h.path()).toEqual(['assistant', 'sorry', 'bye']);
    expect(h.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ code: 'GW_ERR_FLOW_TRANSFER_NOT_ALLOWED' });
  });

  it('does not dial a number when the node lists departments', async () => {
    const h = startFlow(flow({ departments: ['support'], transferNumbers: [PREMIUM] }), { deps: { tts: new ScriptedTts(), agent: agentSaying(PREMIUM) } });
    await h.finish();
    expect(h.carrier.transfers).toEqual([]);
  });

  it('dials a number on the node allow-list or the configured one, and passes the list to the agent', async () => {
    const specs: unknown[] = [];
    const agent: AgentRunner = async (c, spec, v) => {
      specs.push(spec);
      return agentSaying('+14155550123')(c, spec, v, new AbortController().signal);
    };
    const h = startFlow(flow({ transferNumbers: ['+1415555*'] }), { deps: { tts: new ScriptedTts(), agent, agentTransferNumbers: ['+4930*'] } });
    await h.finish();
    expect(specs[0]).toMatchObject({ transferNumbers: ['+1415555*', '+4930*'] });
    expect(h.carrier.transfers.map((t) => t.number)).toEqual(['+14155550123']);
  });

  it('rejects a flow that gives both departments and transferNumbers, or a malformed entry', () => {
    const both = validateFlow(flow({ departments: ['support'], transferNumbers: ['+14155550123'] }));
    expect(both.errors).toContainEqual({ path: 'nodes.assistant.transferNumbers', message: expect.stringContaining('departments') });
    const bad = validateFlow(flow({ transferNumbers: ['0800 123'] }));
    expect(bad.ok).toBe(false);
    expect(bad.errors.map((e) => e.path)).toContain('nodes.assistant.transferNumbers[0]');
  });
});

describe('the shipped support-agent flow', () => {
  it('never dials a number chosen by the agent', async () => {
    const raw = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../flows/support-agent.json'), 'utf8')) as FlowDefinition;
    expect(validateFlow(raw).ok).toBe(true);
    for (const [id, node] of Object.entries(raw.nodes)) {
      if (node.type === 'transfer') expect(node.to ?? '', id).not.toContain('agent.');
    }
  });
});

describe('AGENT_TRANSFER_NUMBERS', () => {
  it('is a comma list of E.164 numbers or prefixes', () => {
    expect(loadConfig({ AGENT_TRANSFER_NUMBERS: '+14155550123, +4930*' }).agentTransferNumbers).toEqual(['+14155550123', '+4930*']);
    expect(loadConfig({}).agentTransferNumbers).toEqual([]);
    expect(() => loadConfig({ AGENT_TRANSFER_NUMBERS: '+1415, 00882' })).toThrow(ConfigError);
    expect(() => loadConfig({ AGENT_TRANSFER_NUMBERS: '*' })).toThrow(/AGENT_TRANSFER_NUMBERS/);
  });
});
