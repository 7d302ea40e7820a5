// Issue 16 item 7: flow validation must not block the event loop. 120 KB of `{{` took 5.2 s: the
// template pattern ran on a field that had already failed its length check, and the scanner was
// quadratic. Each field now stops at its first schema failure, and templates are scanned linearly.
import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../src/flow/template.ts';
import { validateFlow } from '../../src/flow/validate.ts';

const OPEN_BRACES = '{{'.repeat(60_000); // 120 KB

const timed = <T>(f: () => T): { value: T; ms: number } => {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
};

const flowWith = (node: Record<string, unknown>) => ({ id: 'slow', start: 'a', nodes: { a: node, z: { type: 'hangup' } } });

describe('flow validation cost', () => {
  it('reports one error for an oversized templated field, in milliseconds', () => {
    const { value, ms } = timed(() => validateFlow(flowWith({ type: 'say', text: OPEN_BRACES, next: 'z' })));
    expect(value.errors).toEqual([{ path: 'nodes.a.text', message: 'must NOT have more than 2000 characters' }]);
    expect(ms).toBeLessThan(500); // was 5.2 s
  });

  it('scans a 120 KB template in a field without a length limit (http body) in milliseconds', () => {
    const { value, ms } = timed(() => validateFlow(flowWith({ type: 'http', url: 'https://api.example.com/', body: { x: OPEN_BRACES }, next: 'z', onError: 'z' })));
    expect(value.ok).toBe(false);
    expect(value.errors.map((e) => e.path)).toEqual(['nodes.a.body.x']);
    expect(ms).toBeLessThan(500);
  });

  it('scans templates in linear time', () => {
    for (const text of [OPEN_BRACES, '{{ a '.repeat(30_000), `${'}}{{'.repeat(30_000)}`, `{{${'x'.repeat(120_000)}`]) {
      const { ms } = timed(() => parseTemplate(text));
      expect(ms, text.slice(0, 8)).toBeLessThan(200);
    }
  });

  it('still parses holes, text and unbalanced braces as before', () => {
    const ok = parseTemplate('Hi {{contact.name ?? "you"}}, {{ vars.n }}!');
    expect(ok.problems).toEqual([]);
    expect(ok.parts.map((p) => (typeof p === 'string' ? p : p.src))).toEqual(['Hi ', 'contact.name ?? "you"', ', ', 'vars.n', '!']);
    expect(parseTemplate('a }} b').problems).toEqual([{ hole: '', message: "unbalanced '{{' or '}}'" }]);
    expect(parseTemplate('a {{ b').problems).toEqual([{ hole: '', message: "unbalanced '{{' or '}}'" }]);
    expect(parseTemplate('{{}}').problems).toMatchObject([{ hole: '', message: 'empty {{ }}' }]);
  });
});
