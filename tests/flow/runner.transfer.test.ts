// transfer to numbers and departments (business hours in the department's time zone, outside-hours
// fallbacks), and the agent node's hand-off to transfer.
import { describe, expect, it } from 'vitest';
import type { AgentRunner } from '../../src/agent/node.ts';
import type { DepartmentDirectory } from '../../src/flow/context.ts';
import { isOpen } from '../../src/flow/hours.ts';
import type { Department, FlowDefinition } from '../../src/flow/types.ts';
import { ScriptedTts, startFlow } from './helpers.ts';

const sales: Department = {
  name: 'sales',
  numbers: ['+14155550111', '+14155550112'],
  timeZone: 'America/New_York',
  hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], sat: ['22:00-02:00'] },
  closedDates: ['2026-12-25'],
};
const directory = (...depts: Department[]): DepartmentDirectory => ({ get: async (name) => depts.find((d) => d.name === name) });
// Monday 2026-11-23 15:00 UTC = 10:00 in New York (EST, UTC-5).
const MONDAY_10AM_NY = new Date('2026-11-23T15:00:00Z');
// Monday 2026-11-23 23:30 UTC = 18:30 in New York: closed.
const MONDAY_630PM_NY = new Date('2026-11-23T23:30:00Z');

const transferFlow = (node: Record<string, unknown>): FlowDefinition =>
  ({
    id: 'xfer',
    start: 'go',
    nodes: {
      go: { type: 'transfer', onError: 'sorry', ...node },
      closed: { type: 'say', text: 'We are closed.', next: 'bye' },
      sorry: { type: 'say', text: 'Sorry.', next: 'bye' },
      bye: { type: 'hangup' },
    },
  }) as unknown as FlowDefinition;

describe('business hours', () => {
  it('reads hours in the department time zone, across DST, midnight and closed dates', () => {
    expect(isOpen(sales, MONDAY_10AM_NY)).toBe(true);
    expect(isOpen(sales, MONDAY_630PM_NY)).toBe(false);
    // Summer: 13:30 UTC = 09:30 EDT (UTC-4) on Monday 2026-07-13.
    expect(isOpen(sales, new Date('2026-07-13T13:30:00Z'))).toBe(true);
    // Winter: 13:30 UTC = 08:30 EST: not yet open.
    expect(isOpen(sales, new Date('2026-11-23T13:30:00Z'))).toBe(false);
    // Saturday 22:00-02:00 runs into Sunday: Sunday 01:00 NY = 06:00 UTC.
    expect(isOpen(sales, new Date('2026-11-29T06:00:00Z'))).toBe(true);
    expect(isOpen(sales, new Date('2026-11-29T08:00:00Z'))).toBe(false);
    // Christmas is a Friday in 2026, but closed anyway; with no hours at all, always open.
    expect(isOpen({ ...sales, hours: undefined }, new Date('2026-12-25T15:00:00Z'))).toBe(false);
    expect(isOpen({ timeZone: 'Asia/Tokyo' }, new Date('2026-12-25T15:00:00Z'))).toBe(true);
  });
});

describe('transfer node', () => {
  it('transfers to a templated number after the announcement', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(transferFlow({ to: '{{vars.agentNumber}}', announce: { text: 'Connecting.' }, callerId: '+14155550100', timeoutS: 20 }), {
      deps: { tts },
      variables: { agentNumber: '+14155550199' },
    });
    const result = await h.finish();
    expect(result.outcome).toBe('transferred');
    expect(h.carrier.transfers).toEqual([{ number: '+14155550199', callerId: '+14155550100', timeoutS: 20 }]);
    // The announcement was heard before the transfer.
    const announced = h.tc.eventsOfType('playout.finished')[0];
    const transferEvent = h.tc.events.find((e) => e.type === 'flow.transfer') as { atMs: number };
    expect(announced?.atMs).toBeLessThanOrEqual(transferEvent.atMs);
    expect(tts.said).toEqual(['Connecting.']);
  });

  it('refuses a target that is not E.164, through the error exit', async () => {
    const h = startFlow(transferFlow({ to: '{{vars.n}}' }), { deps: { tts: new ScriptedTts() }, variables: { n: '555-1234' } });
    await h.finish();
    expect(h.path()).toEqual(['go', 'sorry', 'bye']);
    expect(h.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ code: 'GW_ERR_FLOW_BAD_NUMBER' });
  });

  it('rings a department during business hours, trying its next number when the carrier refuses one', async () => {
    const h = startFlow(transferFlow({ department: 'sales', outsideHours: 'closed' }), {
      deps: { tts: new ScriptedTts(), departments: directory(sales), now: () => MONDAY_10AM_NY },
    });
    h.carrier.failTransfersTo.add('+14155550111');
    const result = await h.finish();
    expect(result.outcome).toBe('transferred');
    expect(h.carrier.transfers.map((t) => t.number)).toEqual(['+14155550112']);
    expect(h.flowEvents().filter((e) => e.type === 'flow.transfer.failed').map((e) => e.data?.number)).toEqual(['+14155550111']);
  });

  it('takes the outsideHours exit when the department is closed', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(transferFlow({ department: 'sales', outsideHours: 'closed' }), {
      deps: { tts, departments: directory(sales), now: () => MONDAY_630PM_NY },
    });
    await h.finish();
    expect(h.path()).toEqual(['go', 'closed', 'bye']);
    expect(h.carrier.transfers).toEqual([]);
    expect(h.flowEvents().find((e) => e.type === 'flow.transfer.outside_hours')?.data).toMatchObject({ department: 'sales', timeZone: 'America/New_York' });
  });

  it("uses the department's own fallback without an outsideHours exit: a number, a message, or another flow", async () => {
    const deps = { tts: new ScriptedTts(), now: () => MONDAY_630PM_NY };
    const h1 = startFlow(transferFlow({ department: 'sales' }), { deps: { ...deps, departments: directory({ ...sales, outsideHours: { number: '+14155550999' } }) } });
    expect((await h1.finish()).outcome).toBe('transferred');
    expect(h1.carrier.transfers.map((t) => t.number)).toEqual(['+14155550999']);

    const tts = new ScriptedTts();
    const h2 = startFlow(transferFlow({ department: 'sales' }), { deps: { ...deps, tts, departments: directory({ ...sales, outsideHours: { text: 'Closed, bye.' } }) } });
    expect((await h2.finish()).outcome).toBe('hangup');
    expect(tts.said).toEqual(['Closed, bye.']);

    const afterHours: FlowDefinition = { id: 'after-hours', start: 'msg', nodes: { msg: { type: 'say', text: 'After hours line.', next: 'end' }, end: { type: 'hangup' } } };
    const tts3 = new ScriptedTts();
    const h3 = startFlow(transferFlow({ department: 'sales' }), {
      deps: { ...deps, tts: tts3, departments: directory({ ...sales, outsideHours: { flowId: 'after-hours' } }), loadFlow: async (id) => (id === 'after-hours' ? afterHours : undefined) },
    });
    await h3.finish();
    expect(h3.path()).toEqual(['go', 'msg', 'end']);
    expect(h3.flowEvents().find((e) => e.type === 'flow.switched')?.data).toMatchObject({ from: 'xfer', to: 'after-hours' });
    expect(tts3.said).toEqual(['After hours line.']);

    // Closed and nothing says what to do: the node's error exit.
    const h4 = startFlow(transferFlow({ department: 'sales' }), { deps: { ...deps, departments: directory(sales) } });
    await h4.finish();
    expect(h4.path()).toEqual(['go', 'sorry', 'bye']);
    expect(h4.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ code: 'GW_ERR_FLOW_DEPARTMENT_CLOSED' });
  });

  it('fails to the error exit for an unknown department', async () => {
    const h = startFlow(transferFlow({ department: 'legal' }), { deps: { tts: new ScriptedTts(), departments: directory(sales) } });
    await h.finish();
    expect(h.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ code: 'GW_ERR_FLOW_UNKNOWN_DEPARTMENT' });
  });
});

describe('agent node', () => {
  const flow: FlowDefinition = {
    id: 'support',
    start: 'assistant',
    variables: { company: 'Acme' },
    nodes: {
      assistant: {
        type: 'agent',
        instructions: 'You help callers of {{vars.company}} ({{call.from}}).',
        greeting: 'Hi!',
        tools: ['transfer', 'end'],
        departments: ['sales'],
        done: 'bye',
        transfer: 'route',
        onError: 'fallback',
      },
      route: { type: 'branch', conditions: [{ when: "agent.transferKind == 'number'", next: 'num' }], default: 'dept' },
      dept: { type: 'transfer', department: '{{agent.transferTo}}', onError: 'fallback' },
      num: { type: 'transfer', to: '{{agent.transferTo}}', onError: 'fallback' },
      fallback: { type: 'say', text: 'Let me find someone.', next: 'bye' },
      bye: { type: 'hangup' },
    },
  };

  it('without an agent configured, fails over to onError', async () => {
    const h = startFlow(flow, { deps: { tts: new ScriptedTts() } });
    await h.finish();
    expect(h.path()).toEqual(['assistant', 'fallback', 'bye']);
    expect(h.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ code: 'GW_ERR_FLOW_AGENT_UNAVAILABLE' });
  });

  it('hands the templated spec to the agent and routes its transfer to the department', async () => {
    const seen: unknown[] = [];
    const agent: AgentRunner = async (call, spec, variables) => {
      seen.push(spec, variables);
      await call.sleep(3000);
      // Like the real agent session, it hands back its inputs along with what it set.
      return { exit: 'transfer', reason: 'tool:transfer', variables: { ...variables, intent: 'buy' }, transferTo: 'sales' };
    };
    const h = startFlow(flow, { deps: { tts: new ScriptedTts(), agent, departments: directory(sales), now: () => MONDAY_10AM_NY } });
    const result = await h.finish();
    expect(seen[0]).toEqual({ instructions: 'You help callers of Acme (+14155550100).', greeting: 'Hi!', tools: ['transfer', 'end'], departments: ['sales'] });
    expect(seen[1]).toMatchObject({ vars: { company: 'Acme' }, call: { from: '+14155550100' } });
    expect(result.outcome).toBe('transferred');
    expect(result.variables.intent).toBe('buy');
    expect(h.flowEvents().filter((e) => e.type === 'flow.variable.set').map((e) => e.data?.name)).toEqual(['vars.intent', 'agent']);
    expect(h.path()).toEqual(['assistant', 'route', 'dept']);
    expect(h.carrier.transfers.map((t) => t.number)).toEqual(['+14155550111']);
  });

  it('routes a thrown agent failure to onError', async () => {
    const agent: AgentRunner = async () => {
      throw new Error('LLM unreachable');
    };
    const h = startFlow(flow, { deps: { tts: new ScriptedTts(), agent } });
    await h.finish();
    expect(h.path()).toEqual(['assistant', 'fallback', 'bye']);
    expect(h.flowEvents().find((e) => e.type === 'flow.error')?.data).toMatchObject({ code: 'GW_ERR_FLOW_AGENT_FAILED' });
  });
});
