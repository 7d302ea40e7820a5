import { describe, expect, it } from 'vitest';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { ScriptedTts, startFlow } from './helpers.ts';

const hello: FlowDefinition = {
  id: 'hello',
  start: 'greet',
  variables: { company: 'Acme' },
  nodes: {
    greet: { type: 'say', text: 'Hello {{contact.firstName ?? "there"}}, welcome to {{vars.company}}.', next: 'count' },
    count: { type: 'set', values: { visits: { expr: '(vars.visits ?? 0) + 1' }, label: 'v{{vars.company}}' }, next: 'route' },
    route: { type: 'branch', conditions: [{ when: 'vars.visits >= 1 and vars.label == "vAcme"', next: 'bye' }], default: 'greet' },
    bye: { type: 'hangup', reason: 'done' },
  },
};

describe('runner: say, set, branch, hangup', () => {
  it('says the templated text, sets variables, branches and hangs up, with every step in the timeline', async () => {
    const tts = new ScriptedTts();
    const h = startFlow(hello, { deps: { tts }, variables: { contact: { firstName: 'Jane' } } });
    const result = await h.finish();
    expect(result.outcome).toBe('hangup');
    expect(result.reason).toBe('done');
    expect(result.variables).toMatchObject({ company: 'Acme', visits: 1, label: 'vAcme' });
    expect(tts.said).toEqual(['Hello Jane, welcome to Acme.']);
    expect(h.path()).toEqual(['greet', 'count', 'route', 'bye']);
    expect(h.carrier.hangups).toBe(1);
    const types = h.flowEvents().map((e) => e.type);
    expect(types[0]).toBe('flow.started');
    expect(types.at(-1)).toBe('flow.ended');
    expect(h.flowEvents().filter((e) => e.type === 'flow.variable.set').map((e) => e.data?.name)).toEqual(['vars.visits', 'vars.label']);
    expect(h.flowEvents().find((e) => e.type === 'flow.branch')?.data).toMatchObject({ matched: 0 });
    // The prompt was sent to the carrier and heard in full before the next node ran.
    const finished = h.tc.eventsOfType('playout.finished')[0];
    expect(finished).toMatchObject({ label: 'say:greet', interrupted: false });
    expect(finished?.heardMs).toBe(280);
  });
});
