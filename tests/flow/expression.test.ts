import { describe, expect, it } from 'vitest';
import { ExpressionError, evaluate, parseExpression, referencedRoots, type Value } from '../../src/flow/expression.ts';
import { TemplateRenderer, parseTemplate } from '../../src/flow/template.ts';

const scope: Record<string, Value> = {
  input: { digits: '12', speech: 'I want Sales please', source: 'dtmf' },
  vars: { attempts: 2, name: 'Ana', tags: ['vip', 'new'], nested: { a: { b: 7 } }, empty: '', zero: 0 },
  contact: { firstName: 'Jane' },
  http: { status: 200, body: { balance: '42.50', items: [{ id: 'x' }, { id: 'y' }] } },
};
const ev = (src: string): Value => evaluate(parseExpression(src), scope);

describe('expression evaluator', () => {
  it.each<[string, Value]>([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 % 4 - -1', 3],
    ['7 / 2', 3.5],
    ['1 / 0', undefined],
    ["'a' + 1", 'a1'],
    ['vars.attempts + 1', 3],
    ["input.digits == '12'", true],
    ['input.digits == 12', true],
    ['input.digits != 12', false],
    ["input.digits in ['1', '12']", true],
    ["input.digits not in ['1', '12']", false],
    ["'vip' in vars.tags", true],
    ["'Sales' in input.speech", true],
    ["contains(lower(input.speech), 'sales')", true],
    ["startsWith(upper(contact.firstName), 'JA') and endsWith(contact.firstName, 'ne')", true],
    ['vars.attempts >= 2 && vars.attempts < 3', true],
    ['vars.attempts > 2 || !(vars.attempts == 2)', false],
    ['not vars.empty', true],
    ['empty(vars.empty) and empty(vars.missing) and not empty(vars.zero)', true],
    ['vars.missing == null', true],
    ['vars.missing.deeper.still', undefined],
    ["vars.missing ?? 'fallback'", 'fallback'],
    ['vars.zero ?? 5', 0],
    ['vars.nested.a.b', 7],
    ["vars.nested['a']['b']", 7],
    ['http.body.items[1].id', 'y'],
    ['len(http.body.items)', 2],
    ['number(http.body.balance) > 40', true],
    ["digits('+1 (415) 555')", '1415555'],
    ["substr('abcdef', 1, 3)", 'bcd'],
    ["trim('  x ')", 'x'],
    ["string(12) + ''", '12'],
    ['"double" + \'single\'', 'doublesingle'],
    ["'b' > 'a'", true],
    ["'10' > '9'", true],
    ['null == vars.missing', true],
    ['[1, 2] == [1, 2]', true],
    ['true and false or true', true],
    ["http.body.items.length", undefined],
    ["'abc'.length", 3],
  ])('%s → %j', (src, expected) => {
    expect(ev(src)).toEqual(expected);
  });

  it('short-circuits and/or (the right side is not evaluated)', () => {
    // number() of an object would be null, and comparing it is false; this checks order only.
    expect(ev('false and vars.missing.x == 1')).toBe(false);
    expect(ev('true or vars.missing.x == 1')).toBe(true);
  });

  it('lists the variable roots an expression reads', () => {
    expect([...referencedRoots(parseExpression("contains(input.speech, vars.word) or amd.result == 'human'"))].sort()).toEqual(['amd', 'input', 'vars']);
  });

  it.each([
    ['process.exit(1)', /unknown variable root 'process'/],
    ['globalThis', /unknown variable root/],
    ['constructor', /unknown variable root/],
    ['vars.constructor', /property 'constructor' is not allowed/],
    ["vars['__proto__']", /property '__proto__' is not allowed/],
    ['vars.__proto__.polluted', /property '__proto__' is not allowed/],
    ["vars.name.toString()", /method calls are not allowed/],
    ['eval("1")', /unknown function 'eval'/],
    ['Function("return 1")', /unknown function 'Function'/],
    ['require("fs")', /unknown function 'require'/],
    ['vars.x = 1', /unexpected character '='|unexpected '='/],
    ['vars.x; vars.y', /unexpected character ';'/],
    ['() => 1', /unexpected/],
    ['`template`', /unexpected character '`'/],
    ['new Date()', /unknown variable root 'new'/],
    ['this', /unknown variable root 'this'/],
    ['1 < 2 < 3', /cannot be chained/],
    ["lower('a', 'b')", /takes 1 argument/],
    ["'unterminated", /unterminated string/],
    ['vars.', /expected a property name/],
    ['(1 + 2', /expected '\)'/],
    ['', /unexpected end/],
  ])('refuses %s', (src, message) => {
    expect(() => parseExpression(src)).toThrow(ExpressionError);
    expect(() => parseExpression(src)).toThrow(message);
  });

  it('refuses over-long and over-deep expressions', () => {
    expect(() => parseExpression('1'.repeat(1001))).toThrow(/longer than 1000/);
    expect(() => parseExpression('('.repeat(40) + '1' + ')'.repeat(40))).toThrow(/nested deeper/);
    expect(() => parseExpression('not '.repeat(40) + 'true')).toThrow(/nested deeper/);
  });

  it('never reads inherited properties of the data', () => {
    const polluted: Record<string, Value> = { vars: Object.create({ inherited: 'secret' }) as Record<string, Value> };
    expect(evaluate(parseExpression('vars.inherited'), polluted)).toBeUndefined();
    expect(evaluate(parseExpression("vars['toString']"), { vars: {} })).toBeUndefined();
    expect(evaluate(parseExpression("'hasOwnProperty' in vars"), { vars: {} })).toBe(false);
  });
});

describe('templates', () => {
  const r = new TemplateRenderer();
  it('renders holes as expressions over the scope', () => {
    expect(r.render('Hello {{contact.firstName}}, you pressed {{ input.digits }}.', scope)).toBe('Hello Jane, you pressed 12.');
    expect(r.render("Hi {{contact.lastName ?? 'there'}} ({{vars.attempts + 1}})", scope)).toBe('Hi there (3)');
    expect(r.render('{{vars.tags}} {{vars.nested.a}}', scope)).toBe('["vip","new"] {"b":7}');
    expect(r.render('no holes', scope)).toBe('no holes');
  });

  it('fails on a missing variable without a default, naming the hole', () => {
    expect(() => r.render('Hello {{contact.lastName}}', scope)).toThrow(/contact\.lastName.*not set/);
    try {
      r.render('Hello {{contact.lastName}}', scope);
    } catch (err) {
      expect((err as { code: string }).code).toBe('GW_ERR_FLOW_MISSING_VARIABLE');
    }
  });

  it('templates every string inside JSON', () => {
    expect(r.renderDeep({ a: ['{{vars.name}}', 1], b: { c: '{{vars.attempts}}' } }, scope)).toEqual({ a: ['Ana', 1], b: { c: '2' } });
  });

  it('reports every bad hole at parse time', () => {
    const { problems } = parseTemplate('{{ bogus.x }} and {{}} and {{ vars.ok }} and {{ 1 + }}');
    expect(problems.map((p) => p.hole)).toEqual(['bogus.x', '', '1 +']);
    expect(parseTemplate('unbalanced {{ vars.x').problems[0]?.message).toMatch(/unbalanced/);
  });
});
