import { describe, expect, it } from 'vitest';
import { isAgentEvent } from '../../src/agent/events.ts';
import type { CallEvent } from '../../src/call/events.ts';

describe('typed agent events', () => {
  it("narrows the agent's timeline events and leaves the others alone", () => {
    // A stored timeline may hold a type this version does not know (written by another one).
    const events: Array<CallEvent | { type: string; atMs: number; data: object }> = [
      { type: 'turn.barge_in', atMs: 1200, data: { turn: 2, speechStartMs: 1100, clearAtMs: 1200, latencyMs: 100, wallMs: 0.2, audible: true } },
      { type: 'flow.started', atMs: 0, data: { flowId: 'f', start: 'a', version: null, direction: 'inbound' } },
      { type: 'dtmf', atMs: 5, digit: '1', source: 'carrier' },
      { type: 'agent.made_up', atMs: 9, data: {} },
    ];
    const agent = events.filter(isAgentEvent);
    expect(agent.map((e) => e.type)).toEqual(['turn.barge_in']);
    const e = agent[0]!;
    // The union narrows on `type`: the compiler knows latencyMs is a number here.
    const latency: number | undefined = e.type === 'turn.barge_in' ? e.data.latencyMs : undefined;
    expect(latency).toBe(100);
  });
});
