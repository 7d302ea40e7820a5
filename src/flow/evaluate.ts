// Interpreting parsed expressions (expression.ts) over plain data. Reads only own properties of
// plain objects and arrays, never prototypes; a missing variable reads as undefined (null-like) and
// never throws, so conditions can test for absence (`vars.x == null`, `vars.x ?? 'default'`).
import type { Ast, BinaryOp, FunctionName, Value } from './expression.ts';
import { FORBIDDEN_PROPERTIES } from './types.ts';

export type Scope = Readonly<Record<string, Value>>;

/** Evaluate over plain data. Missing variables read as undefined (null-like), never throw. */
export function evaluate(ast: Ast, scope: Scope): Value {
  switch (ast.kind) {
    case 'literal':
      return ast.value;
    case 'list':
      return ast.items.map((item) => evaluate(item, scope));
    case 'var':
      return Object.hasOwn(scope, ast.root) ? scope[ast.root] : undefined;
    case 'member': {
      const object = evaluate(ast.object, scope);
      const key = evaluate(ast.property, scope);
      return member(object, key);
    }
    case 'call':
      return callFunction(ast.fn, ast.args.map((a) => evaluate(a, scope)));
    case 'unary': {
      const v = evaluate(ast.operand, scope);
      if (ast.op === 'not') return !truthy(v);
      const n = toNumber(v);
      return n === undefined ? undefined : -n;
    }
    case 'binary':
      return binary(ast.op, ast.left, ast.right, scope);
  }
}

function member(object: Value, key: Value): Value {
  if (object === null || object === undefined) return undefined;
  if (Array.isArray(object)) {
    const index = typeof key === 'number' ? key : typeof key === 'string' && /^\d+$/.test(key) ? Number(key) : NaN;
    return Number.isInteger(index) && index >= 0 && index < object.length ? object[index] : undefined;
  }
  if (typeof object === 'string') {
    if (key === 'length') return object.length;
    return undefined;
  }
  if (typeof object !== 'object') return undefined;
  if (typeof key !== 'string' && typeof key !== 'number') return undefined;
  const name = String(key);
  if (FORBIDDEN_PROPERTIES.has(name)) return undefined;
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

function binary(op: BinaryOp, leftAst: Ast, rightAst: Ast, scope: Scope): Value {
  // Short-circuit operators evaluate the right side only when needed.
  if (op === 'and') return truthy(evaluate(leftAst, scope)) ? truthy(evaluate(rightAst, scope)) : false;
  if (op === 'or') return truthy(evaluate(leftAst, scope)) ? true : truthy(evaluate(rightAst, scope));
  const left = evaluate(leftAst, scope);
  if (op === '??') return left === null || left === undefined ? evaluate(rightAst, scope) : left;
  const right = evaluate(rightAst, scope);
  switch (op) {
    case '==':
      return looseEquals(left, right);
    case '!=':
      return !looseEquals(left, right);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return order(op, left, right);
    case 'in':
      return contains(right, left);
    case 'not in':
      return !contains(right, left);
    case '+':
      if (typeof left === 'string' || typeof right === 'string') return toText(left) + toText(right);
      return arithmetic(op, left, right);
    case '-':
    case '*':
    case '/':
    case '%':
      return arithmetic(op, left, right);
  }
}

function arithmetic(op: '+' | '-' | '*' | '/' | '%', left: Value, right: Value): Value {
  const a = toNumber(left);
  const b = toNumber(right);
  if (a === undefined || b === undefined) return undefined;
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : a / b;
    case '%':
      return b === 0 ? undefined : a % b;
  }
}

/** Equality as IVR authors expect it: '1' == 1 (digits are strings), null == missing. */
export function looseEquals(a: Value, b: Value): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === 'number' && typeof b === 'string') return toNumber(b) === a;
  if (typeof a === 'string' && typeof b === 'number') return toNumber(a) === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => looseEquals(v, b[i]));
  return a === b;
}

function order(op: '<' | '<=' | '>' | '>=', a: Value, b: Value): boolean {
  let x: number | string | undefined;
  let y: number | string | undefined;
  if (typeof a === 'string' && typeof b === 'string' && (toNumber(a) === undefined || toNumber(b) === undefined)) {
    x = a;
    y = b;
  } else {
    x = toNumber(a);
    y = toNumber(b);
  }
  if (x === undefined || y === undefined) return false;
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

function contains(haystack: Value, needle: Value): boolean {
  if (Array.isArray(haystack)) return haystack.some((v) => looseEquals(v, needle));
  if (typeof haystack === 'string') return needle !== null && needle !== undefined && haystack.includes(toText(needle));
  if (haystack !== null && typeof haystack === 'object' && typeof needle === 'string') return Object.hasOwn(haystack, needle);
  return false;
}

export function truthy(v: Value): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

function toNumber(v: Value): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** How a value reads in text (templates, string concatenation). */
export function toText(v: Value): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function callFunction(fn: FunctionName, args: Value[]): Value {
  const [a, b, c] = args;
  switch (fn) {
    case 'lower':
      return toText(a).toLowerCase();
    case 'upper':
      return toText(a).toUpperCase();
    case 'trim':
      return toText(a).trim();
    case 'len':
      if (Array.isArray(a)) return a.length;
      if (a !== null && typeof a === 'object') return Object.keys(a).length;
      return toText(a).length;
    case 'contains':
      return contains(a, b);
    case 'startsWith':
      return toText(a).startsWith(toText(b));
    case 'endsWith':
      return toText(a).endsWith(toText(b));
    case 'number':
      return toNumber(a) ?? null;
    case 'string':
      return toText(a);
    case 'empty':
      return !truthy(a) && a !== 0 && a !== false;
    case 'digits':
      return toText(a).replace(/[^0-9]/g, '');
    case 'substr': {
      const s = toText(a);
      const start = toNumber(b) ?? 0;
      const length = c === undefined ? undefined : toNumber(c);
      return s.substring(start, length === undefined ? undefined : start + length);
    }
  }
}

/** Parse with a per-instance cache: flows evaluate the same few conditions on every call. */
