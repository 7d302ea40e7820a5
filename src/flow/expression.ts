// A small, safe expression language for flow conditions, `set` values and template holes.
// It is parsed by hand (a recursive-descent parser over a tokenizer) and interpreted over plain data:
// there is no eval/new Function, no method calls, no access to prototypes, and identifiers must start
// at a known variable root, so a flow author cannot reach anything but the call's variables.
//
// Grammar (lowest precedence first):
//   expr    := coalesce
//   coalesce:= or ( '??' or )*
//   or      := and ( ('or' | '||') and )*
//   and     := not ( ('and' | '&&') not )*
//   not     := ('not' | '!') not | compare
//   compare := sum ( ('=='|'!='|'<'|'<='|'>'|'>='|'in'|'not in') sum )?
//   sum     := product ( ('+'|'-') product )*
//   product := unary ( ('*'|'/'|'%') unary )*
//   unary   := '-' unary | postfix
//   postfix := primary ( '.' name | '[' expr ']' )*
//   primary := number | string | true | false | null | root | fn '(' args ')' | '(' expr ')' | '[' items ']'
import { FORBIDDEN_PROPERTIES, VARIABLE_ROOTS } from './types.ts';

export { evaluate, looseEquals, toText, truthy, type Scope } from './evaluate.ts';

export type Value = string | number | boolean | null | undefined | Value[] | { [key: string]: Value };

export type Ast =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'list'; items: Ast[] }
  | { kind: 'var'; root: string }
  | { kind: 'member'; object: Ast; property: Ast }
  | { kind: 'call'; fn: FunctionName; args: Ast[] }
  | { kind: 'unary'; op: '-' | 'not'; operand: Ast }
  | { kind: 'binary'; op: BinaryOp; left: Ast; right: Ast };

export type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | '+' | '-' | '*' | '/' | '%' | 'and' | 'or' | '??';

export class ExpressionError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.name = 'ExpressionError';
    this.position = position;
  }
}

export const MAX_EXPRESSION_LENGTH = 1000;
const MAX_DEPTH = 32;

/** Whitelisted pure functions: name → arity range. */
const FUNCTIONS = {
  lower: [1, 1],
  upper: [1, 1],
  trim: [1, 1],
  len: [1, 1],
  contains: [2, 2],
  startsWith: [2, 2],
  endsWith: [2, 2],
  number: [1, 1],
  string: [1, 1],
  empty: [1, 1],
  digits: [1, 1],
  substr: [2, 3],
} as const;
export type FunctionName = keyof typeof FUNCTIONS;

type Token =
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'id'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'end'; at: number };

const OPERATORS = ['??', '==', '!=', '<=', '>=', '&&', '||', '<', '>', '+', '-', '*', '/', '%', '!', '.', '[', ']', '(', ')', ','];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c >= '0' && c <= '9') {
      const start = i;
      while (i < src.length && /[0-9]/.test(src[i] as string)) i++;
      if (src[i] === '.' && /[0-9]/.test(src[i + 1] ?? '')) {
        i++;
        while (i < src.length && /[0-9]/.test(src[i] as string)) i++;
      }
      tokens.push({ t: 'num', v: Number(src.slice(start, i)), at: start });
      continue;
    }
    if (c === "'" || c === '"') {
      const start = i;
      i++;
      let out = '';
      for (;;) {
        if (i >= src.length) throw new ExpressionError('unterminated string', start);
        const d = src[i] as string;
        if (d === c) break;
        if (d === '\\') {
          const e = src[i + 1];
          if (e === undefined) throw new ExpressionError('unterminated string', start);
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        out += d;
        i++;
      }
      i++;
      tokens.push({ t: 'str', v: out, at: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i] as string)) i++;
      tokens.push({ t: 'id', v: src.slice(start, i), at: start });
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new ExpressionError(`unexpected character '${c}'`, i);
    tokens.push({ t: 'op', v: op, at: i });
    i += op.length;
  }
  tokens.push({ t: 'end', at: src.length });
  return tokens;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null']);

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private depth = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  parse(): Ast {
    const ast = this.coalesce();
    const tok = this.peek();
    if (tok.t !== 'end') throw new ExpressionError(`unexpected ${describe(tok)}`, tok.at);
    return ast;
  }

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }

  private take(): Token {
    const tok = this.tokens[this.pos] as Token;
    if (tok.t !== 'end') this.pos++;
    return tok;
  }

  private isOp(v: string): boolean {
    const tok = this.peek();
    return tok.t === 'op' && tok.v === v;
  }

  private isWord(v: string): boolean {
    const tok = this.peek();
    return tok.t === 'id' && tok.v === v;
  }

  private expectOp(v: string): void {
    const tok = this.take();
    if (tok.t !== 'op' || tok.v !== v) throw new ExpressionError(`expected '${v}' but found ${describe(tok)}`, tok.at);
  }

  private nested<T>(fn: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new ExpressionError(`nested deeper than ${MAX_DEPTH}`, this.peek().at);
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private coalesce(): Ast {
    let left = this.or();
    while (this.isOp('??')) {
      this.take();
      left = { kind: 'binary', op: '??', left, right: this.or() };
    }
    return left;
  }

  private or(): Ast {
    let left = this.and();
    while (this.isWord('or') || this.isOp('||')) {
      this.take();
      left = { kind: 'binary', op: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): Ast {
    let left = this.not();
    while (this.isWord('and') || this.isOp('&&')) {
      this.take();
      left = { kind: 'binary', op: 'and', left, right: this.not() };
    }
    return left;
  }

  private not(): Ast {
    if (this.isWord('not') || this.isOp('!')) {
      this.take();
      return this.nested(() => ({ kind: 'unary', op: 'not', operand: this.not() }));
    }
    return this.compare();
  }

  private compare(): Ast {
    const left = this.sum();
    const tok = this.peek();
    let op: BinaryOp | undefined;
    if (tok.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(tok.v)) op = tok.v as BinaryOp;
    else if (tok.t === 'id' && tok.v === 'in') op = 'in';
    else if (tok.t === 'id' && tok.v === 'not' && this.tokens[this.pos + 1]?.t === 'id' && (this.tokens[this.pos + 1] as { v: string }).v === 'in') {
      this.take();
      op = 'not in';
    }
    if (op === undefined) return left;
    this.take();
    const right = this.sum();
    const next = this.peek();
    if (next.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(next.v)) {
      throw new ExpressionError('comparisons cannot be chained; use and', next.at);
    }
    return { kind: 'binary', op, left, right };
  }

  private sum(): Ast {
    let left = this.product();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.take() as { v: string }).v as '+' | '-';
      left = { kind: 'binary', op, left, right: this.product() };
    }
    return left;
  }

  private product(): Ast {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = (this.take() as { v: string }).v as '*' | '/' | '%';
      left = { kind: 'binary', op, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Ast {
    if (this.isOp('-')) {
      this.take();
      return this.nested(() => ({ kind: 'unary', op: '-', operand: this.unary() }));
    }
    return this.postfix();
  }

  private postfix(): Ast {
    let node = this.primary();
    for (;;) {
      if (this.isOp('.')) {
        this.take();
        const name = this.take();
        if (name.t !== 'id') throw new ExpressionError(`expected a property name after '.' but found ${describe(name)}`, name.at);
        if (FORBIDDEN_PROPERTIES.has(name.v)) throw new ExpressionError(`property '${name.v}' is not allowed`, name.at);
        if (this.isOp('(')) throw new ExpressionError(`method calls are not allowed ('${name.v}(')`, name.at);
        node = { kind: 'member', object: node, property: { kind: 'literal', value: name.v } };
      } else if (this.isOp('[')) {
        const at = this.take().at;
        const property = this.nested(() => this.coalesce());
        if (property.kind === 'literal' && typeof property.value === 'string' && FORBIDDEN_PROPERTIES.has(property.value)) {
          throw new ExpressionError(`property '${property.value}' is not allowed`, at);
        }
        this.expectOp(']');
        node = { kind: 'member', object: node, property };
      } else {
        return node;
      }
    }
  }

  private primary(): Ast {
    const tok = this.take();
    switch (tok.t) {
      case 'num':
        return { kind: 'literal', value: tok.v };
      case 'str':
        return { kind: 'literal', value: tok.v };
      case 'id': {
        if (tok.v === 'true' || tok.v === 'false') return { kind: 'literal', value: tok.v === 'true' };
        if (tok.v === 'null') return { kind: 'literal', value: null };
        if (KEYWORDS.has(tok.v)) throw new ExpressionError(`unexpected '${tok.v}'`, tok.at);
        if (this.isOp('(')) return this.call(tok.v, tok.at);
        if (!(VARIABLE_ROOTS as readonly string[]).includes(tok.v)) {
          throw new ExpressionError(`unknown variable root '${tok.v}' (known: ${VARIABLE_ROOTS.join(', ')})`, tok.at);
        }
        return { kind: 'var', root: tok.v };
      }
      case 'op':
        if (tok.v === '(') {
          const inner = this.nested(() => this.coalesce());
          this.expectOp(')');
          return inner;
        }
        if (tok.v === '[') {
          const items: Ast[] = [];
          if (!this.isOp(']')) {
            for (;;) {
              items.push(this.nested(() => this.coalesce()));
              if (!this.isOp(',')) break;
              this.take();
            }
          }
          this.expectOp(']');
          return { kind: 'list', items };
        }
        throw new ExpressionError(`unexpected '${tok.v}'`, tok.at);
      case 'end':
        throw new ExpressionError('unexpected end of expression', tok.at);
    }
  }

  private call(name: string, at: number): Ast {
    if (!Object.hasOwn(FUNCTIONS, name)) {
      throw new ExpressionError(`unknown function '${name}' (known: ${Object.keys(FUNCTIONS).join(', ')})`, at);
    }
    const fn = name as FunctionName;
    this.expectOp('(');
    const args: Ast[] = [];
    if (!this.isOp(')')) {
      for (;;) {
        args.push(this.nested(() => this.coalesce()));
        if (!this.isOp(',')) break;
        this.take();
      }
    }
    this.expectOp(')');
    const [min, max] = FUNCTIONS[fn];
    if (args.length < min || args.length > max) {
      throw new ExpressionError(`${fn}() takes ${min === max ? min : `${min}-${max}`} argument(s), got ${args.length}`, at);
    }
    return { kind: 'call', fn, args };
  }
}

function describe(tok: Token): string {
  if (tok.t === 'end') return 'end of expression';
  if (tok.t === 'str') return 'a string';
  return `'${String(tok.v)}'`;
}

/** Parse an expression; throws ExpressionError (with the character position) on anything else. */
export function parseExpression(src: string): Ast {
  if (src.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`longer than ${MAX_EXPRESSION_LENGTH} characters`, 0);
  return new Parser(tokenize(src)).parse();
}

/** The variable roots an expression reads (for validation). */
export function referencedRoots(ast: Ast, out: Set<string> = new Set()): Set<string> {
  switch (ast.kind) {
    case 'var':
      out.add(ast.root);
      break;
    case 'list':
      for (const item of ast.items) referencedRoots(item, out);
      break;
    case 'member':
      referencedRoots(ast.object, out);
      referencedRoots(ast.property, out);
      break;
    case 'call':
      for (const arg of ast.args) referencedRoots(arg, out);
      break;
    case 'unary':
      referencedRoots(ast.operand, out);
      break;
    case 'binary':
      referencedRoots(ast.left, out);
      referencedRoots(ast.right, out);
      break;
    case 'literal':
      break;
  }
  return out;
}

export class ExpressionCache {
  private readonly cache = new Map<string, Ast>();

  get(src: string): Ast {
    let ast = this.cache.get(src);
    if (ast === undefined) {
      ast = parseExpression(src);
      if (this.cache.size >= 1000) this.cache.clear();
      this.cache.set(src, ast);
    }
    return ast;
  }
}
