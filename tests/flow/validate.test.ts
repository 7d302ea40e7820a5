import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatIssue, validateFlow, type ValidationContext } from '../../src/flow/validate.ts';

const flow = (nodes: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ id: 't', start: 'a', nodes, ...extra });
const errorsOf = (input: unknown, ctx?: ValidationContext): string[] => validateFlow(input, ctx).errors.map(formatIssue);
const warningsOf = (input: unknown, ctx?: ValidationContext): string[] => validateFlow(input, ctx).warnings.map(formatIssue);

describe('flow validation', () => {
  it.each(['default', 'ivr-menu', 'outbound-reminder', 'support-agent'])('accepts the shipped flow %s', (name) => {
    const def = JSON.parse(readFileSync(new URL(`../../flows/${name}.json`, import.meta.url), 'utf8'));
    const result = validateFlow(def, { speech: true, agent: true, departments: new Set(['sales', 'support', 'billing']) });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('requires id, start and nodes, and refuses unknown top-level fields', () => {
    expect(errorsOf({ nodes: {}, extra: 1 }).sort()).toEqual(
      ['extra: is not a known field', 'id: is required', 'nodes: must NOT have fewer than 1 properties', 'start: is required'].sort(),
    );
  });

  it('checks the start node exists', () => {
    expect(errorsOf({ id: 't', start: 'b', nodes: { a: { type: 'hangup' } } })).toEqual(['start: node "b" does not exist']);
  });

  it('checks every exit points at an existing node, branch conditions included', () => {
    expect(
      errorsOf(
        flow({
          a: { type: 'say', text: 'hi', next: 'b', onError: 'x1' },
          b: { type: 'branch', conditions: [{ when: 'true', next: 'x2' }], default: 'c' },
          c: { type: 'amd', human: 'd', machine: 'x3', fax: 'x4' },
          d: { type: 'hangup' },
        }),
      ),
    ).toEqual([
      'nodes.a.onError: points at unknown node "x1"',
      'nodes.b.conditions[0].next: points at unknown node "x2"',
      'nodes.c.machine: points at unknown node "x3"',
      'nodes.c.fax: points at unknown node "x4"',
    ]);
  });

  it('refuses a node that loops straight to itself without waiting', () => {
    expect(errorsOf(flow({ a: { type: 'set', values: { x: 1 }, next: 'a' } }))).toEqual(['nodes.a.next: points at its own node, which would loop without waiting']);
    expect(errorsOf(flow({ a: { type: 'branch', conditions: [{ when: 'true', next: 'a' }], default: 'a' } }))).toEqual([
      'nodes.a.default: points at its own node, which would loop without waiting',
      'nodes.a.conditions[0].next: points at its own node, which would loop without waiting',
    ]);
    // A gather may ask again and a play may repeat (hold music): each round waits.
    expect(errorsOf(flow({ a: { type: 'gather', next: 'b', noInput: 'a' }, b: { type: 'play', audio: 'hold.wav', next: 'b' } }))).toEqual([]);
  });

  it('finds unreachable nodes', () => {
    expect(errorsOf(flow({ a: { type: 'hangup' }, b: { type: 'say', text: 'x', next: 'a' }, c: { type: 'hangup' } }))).toEqual([
      'nodes.b: is unreachable from the start node',
      'nodes.c: is unreachable from the start node',
    ]);
  });

  it('names the node and field of schema errors, with ≤ / ≥ in range messages', () => {
    expect(
      errorsOf(
        flow({
          a: { type: 'gather', noInputTimeoutMs: 60001, interDigitTimeoutMs: 100, retries: 11, maxDigits: 0, finishOnKey: 'x', next: 'b', noInput: 'b' },
          b: { type: 'amd', timeoutMs: 120000, human: 'c', machine: 'c' },
          c: { type: 'http', url: 'https://x.test', timeoutMs: 30001, next: 'd', onError: 'd' },
          d: { type: 'voicemail', text: 'hi', maxWaitMs: 500 },
        }),
      ).sort(),
    ).toEqual(
      [
        'nodes.a.noInputTimeoutMs: must be ≤ 60000',
        'nodes.a.interDigitTimeoutMs: must be ≥ 500',
        'nodes.a.retries: must be ≤ 10',
        'nodes.a.maxDigits: must be ≥ 1',
        'nodes.a.finishOnKey: must match pattern "^[0-9*#]?$"',
        'nodes.b.timeoutMs: must be ≤ 60000',
        'nodes.c.timeoutMs: must be ≤ 30000',
        'nodes.d.maxWaitMs: must be ≥ 1000',
      ].sort(),
    );
  });

  it('refuses unknown node types and unknown fields, and missing required exits', () => {
    expect(errorsOf(flow({ a: { type: 'teleport', next: 'a' } }))).toEqual(['nodes.a.type: must be one of say, play, gather, branch, set, amd, voicemail, agent, transfer, http, hangup, optOut']);
    expect(errorsOf(flow({ a: { type: 'hangup', nxet: 'a' } }))).toEqual(['nodes.a.nxet: is not a known field']);
    expect(errorsOf(flow({ a: { type: 'gather', next: 'a' } }))).toEqual(['nodes.a.noInput: is required']);
    expect(errorsOf(flow({ a: { type: 'http', url: 'https://x.test', next: 'b' }, b: { type: 'hangup' } }))).toEqual(['nodes.a.onError: is required']);
  });

  it('checks node ids and variable names', () => {
    expect(errorsOf({ id: 'bad id!', start: 'a', nodes: { a: { type: 'hangup' } } })).toEqual([
      'id: must be 1-64 letters, digits, _ . - (starting with a letter or digit)',
    ]);
    expect(errorsOf(flow({ a: { type: 'hangup' }, '9lives': { type: 'hangup' } }))).toContain("nodes: has an invalid name '9lives'");
    expect(errorsOf(flow({ a: { type: 'set', values: { 'bad-name': 1 }, next: 'b' }, b: { type: 'hangup' } }))).toContain(
      "nodes.a.values: has an invalid name 'bad-name'",
    );
  });

  it('refuses variable names that reach prototypes', () => {
    expect(
      errorsOf(
        JSON.parse(
          '{"id":"t","start":"a","nodes":{"a":{"type":"set","values":{"__proto__":1},"next":"b"},"b":{"type":"gather","resultVar":"constructor","next":"c","noInput":"c"},"c":{"type":"hangup"}}}',
        ),
      ),
    ).toEqual(['nodes.a.values.__proto__: "__proto__" is not allowed as a variable name', 'nodes.b.resultVar: "constructor" is not allowed as a variable name']);
  });

  it('checks templates parse and read only known roots, in every text field', () => {
    expect(
      errorsOf(
        flow(
          {
            a: { type: 'say', text: 'Hi {{ user.name }}', next: 'b' },
            b: { type: 'gather', prompt: { text: '{{ vars.x + }}' }, reprompt: { text: 'ok {{vars.x}}' }, next: 'c', noInput: 'c' },
            c: { type: 'http', url: 'https://x.test/{{secret.id}}', headers: { 'x-a': '{{env.TOKEN}}' }, body: { q: ['{{input.value}}', '{{os.cmd}}'] }, next: 'd', onError: 'd' },
            d: { type: 'transfer', to: '{{vars.number}}', announce: { text: '{{process.env}}' } },
          },
          { fallback: { text: 'Sorry {{foo}}' } },
        ),
      ),
    ).toEqual([
      "nodes.a.text: {{user.name}}: unknown variable root 'user' (known: contact, vars, call, input, amd, http, agent, flow)",
      'nodes.b.prompt.text: {{vars.x +}}: unexpected end of expression',
      "nodes.c.url: {{secret.id}}: unknown variable root 'secret' (known: contact, vars, call, input, amd, http, agent, flow)",
      "nodes.c.headers.x-a: {{env.TOKEN}}: unknown variable root 'env' (known: contact, vars, call, input, amd, http, agent, flow)",
      "nodes.c.body.q[1]: {{os.cmd}}: unknown variable root 'os' (known: contact, vars, call, input, amd, http, agent, flow)",
      "nodes.d.announce.text: {{process.env}}: unknown variable root 'process' (known: contact, vars, call, input, amd, http, agent, flow)",
      "fallback.text: {{foo}}: unknown variable root 'foo' (known: contact, vars, call, input, amd, http, agent, flow)",
    ]);
  });

  it('checks expressions in branch, set, gather.valid and http.assign', () => {
    expect(
      errorsOf(
        flow({
          a: { type: 'branch', conditions: [{ when: 'eval(1)', next: 'b' }], default: 'b' },
          b: { type: 'set', values: { x: { expr: 'vars.y +' } }, next: 'c' },
          c: { type: 'gather', valid: 'input.digits = 1', next: 'd', noInput: 'd', noMatch: 'd' },
          d: { type: 'http', url: 'https://x.test', assign: { v: 'http.body.constructor' }, next: 'e', onError: 'e' },
          e: { type: 'hangup' },
        }),
      ),
    ).toEqual([
      "nodes.a.conditions[0].when: unknown function 'eval' (known: lower, upper, trim, len, contains, startsWith, endsWith, number, string, empty, digits, substr) (at character 1)",
      'nodes.b.values.x.expr: unexpected end of expression (at character 9)',
      "nodes.c.valid: unexpected character '=' (at character 14)",
      "nodes.d.assign.v: property 'constructor' is not allowed (at character 11)",
    ]);
  });

  it('requires noMatch with valid, one of text/audio, one of to/department, E.164 numbers and http URLs', () => {
    expect(
      errorsOf(
        flow({
          a: { type: 'gather', valid: 'true', next: 'b', noInput: 'b' },
          b: { type: 'say', next: 'c' },
          c: { type: 'say', text: 'x', audio: 'x.wav', next: 'd' },
          d: { type: 'transfer', to: '555-1234', onError: 'e' },
          e: { type: 'transfer', to: '+14155550100', department: 'sales', onError: 'f' },
          f: { type: 'http', url: 'ftp://x', next: 'g', onError: 'g' },
          g: { type: 'voicemail' },
        }),
        { departments: new Set(['sales']) },
      ),
    ).toEqual([
      'nodes.a.noMatch: is required when valid is set',
      'nodes.b: needs exactly one of text, audio',
      'nodes.c: needs exactly one of text, audio',
      'nodes.d.to: must be an E.164 number like +14155550100',
      'nodes.e: needs exactly one of to, department',
      'nodes.f.url: must be an http:// or https:// URL',
      'nodes.g: needs exactly one of text, audio',
    ]);
    expect(errorsOf(flow({ a: { type: 'gather', input: ['speech'], maxDigits: 3, next: 'b', noInput: 'b' }, b: { type: 'hangup' } }))).toEqual([
      'nodes.a.input: must include dtmf when maxDigits, finishOnKey or interDigitTimeoutMs are set',
    ]);
    expect(errorsOf(flow({ a: { type: 'hangup' } }, { fallback: { transferTo: '+14155550100', department: 'x' } }))).toEqual([
      'fallback: give at most one of transferTo, department',
    ]);
  });

  it('warns (without refusing) about missing capabilities and unknown departments', () => {
    const f = flow({
      a: { type: 'gather', input: ['speech'], next: 'b', noInput: 'b' },
      b: { type: 'agent', instructions: 'help', done: 'c' },
      c: { type: 'transfer', department: 'legal' },
    });
    const result = validateFlow(f, { speech: false, agent: false, departments: new Set(['sales']) });
    expect(result.ok).toBe(true);
    expect(warningsOf(f, { speech: false, agent: false, departments: new Set(['sales']) })).toEqual([
      'nodes.a.input: speech input is not available (no speech-to-text configured); the node will take its error exit',
      'nodes.b: no agent is configured; the node will take the flow fallback',
      'nodes.c.department: department "legal" is not configured (yet)',
    ]);
  });

  it('reports every problem at once, schema and semantic together', () => {
    const errors = errorsOf({
      id: 'x',
      start: 'nope',
      nodes: { a: { type: 'say', text: '{{bad.root}}', next: 'zz', interruptible: 'yes' }, b: { type: 'bogus' } },
    });
    expect(errors).toEqual([
      'nodes.a.interruptible: must be boolean',
      'nodes.b.type: must be one of say, play, gather, branch, set, amd, voicemail, agent, transfer, http, hangup, optOut',
      'start: node "nope" does not exist',
      'nodes.a.next: points at unknown node "zz"',
      "nodes.a.text: {{bad.root}}: unknown variable root 'bad' (known: contact, vars, call, input, amd, http, agent, flow)",
    ]);
  });

  it('refuses non-objects', () => {
    expect(errorsOf(null)).toEqual(['(flow): must be object']);
    expect(errorsOf([1])).toEqual(['(flow): must be object']);
  });
});
