// Flow validation: the JSON Schema (flows/flow.schema.json, through Ajv) and then the semantic rules
// a schema cannot express — the start node exists, every exit points at a node, every node is
// reachable, templates and expressions parse and read only known variable roots. Every problem is
// reported at once, each naming the node and field: `nodes.ask.noInputTimeoutMs: must be ≤ 60000`.
import Ajv2020 from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import schema from '../../flows/flow.schema.json' with { type: 'json' };
import { parseExpression, referencedRoots } from './expression.ts';
import { urlRefusal, type HttpAllowList } from './httpAllowList.ts';
import { parseTemplate } from './template.ts';
import { E164, EXIT_FIELDS, FORBIDDEN_PROPERTIES, VARIABLE_ROOTS, type FlowDefinition, type NodeType } from './types.ts';

export interface ValidationIssue {
  /** Dotted path into the flow: `nodes.ask.timeoutMs`, `start`, `nodes.menu.conditions[1].when`. */
  path: string;
  message: string;
}

export interface ValidationResult {
  ok: boolean;
  errors: ValidationIssue[];
  /** Problems that do not stop the flow from running (missing capabilities, unknown departments). */
  warnings: ValidationIssue[];
  /** The flow, typed, when ok. */
  flow?: FlowDefinition;
}

export interface ValidationContext {
  /** Is speech-to-text configured? When false, gather nodes that accept speech get a warning. */
  speech?: boolean;
  /** Is an agent runner configured? When false, agent nodes get a warning (they take onError). */
  agent?: boolean;
  /** Known department names; a transfer to another name gets a warning. */
  departments?: ReadonlySet<string>;
  /** Where http nodes may connect (FLOW_HTTP_ALLOW_HOSTS); a target it refuses gets a warning. */
  httpAllowList?: HttpAllowList;
}

export { E164 };

export function formatIssue(issue: ValidationIssue): string {
  return `${issue.path}: ${issue.message}`;
}

// Ajv's CommonJS default export under NodeNext; compiled once (immutable after compile).
const AjvClass = Ajv2020.default ?? Ajv2020;
const ajv = new AjvClass({ allErrors: true, discriminator: true, strict: true, strictRequired: false, allowUnionTypes: true });
const schemaValidator = ajv.compile(schema);

const NODE_TYPES = Object.keys(EXIT_FIELDS) as NodeType[];

/**
 * The issues found so far, and the fields that failed the schema: a field reports its first schema
 * failure only, and its template/expression checks are skipped (an oversized field is not scanned).
 */
type Issues = ValidationIssue[] & { schemaFailed?: ReadonlySet<string> };

const failedSchema = (errors: Issues, path: string): boolean => errors.schemaFailed?.has(path) ?? false;

export function validateFlow(input: unknown, ctx: ValidationContext = {}): ValidationResult {
  const schemaFailed = new Set<string>();
  const errors: Issues = Object.assign([] as ValidationIssue[], { schemaFailed });
  const warnings: ValidationIssue[] = [];
  if (!schemaValidator(input)) {
    for (const e of schemaValidator.errors ?? []) {
      // A bad property name is reported by its `propertyNames` error; the inner pattern error repeats it.
      if (e.propertyName !== undefined && e.keyword !== 'propertyNames') continue;
      const issue = fromAjv(e);
      // One failure per field, but every bad property name of an object.
      if (schemaFailed.has(issue.path) && e.keyword !== 'propertyNames') continue;
      schemaFailed.add(issue.path);
      errors.push(issue);
    }
  }
  if (isObject(input)) semanticChecks(input, ctx, errors, warnings);
  const unique = dedupe(errors);
  return unique.length === 0
    ? { ok: true, errors: [], warnings: dedupe(warnings), flow: input as FlowDefinition }
    : { ok: false, errors: unique, warnings: dedupe(warnings) };
}

function fromAjv(e: ErrorObject): ValidationIssue {
  const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'required') {
    segments.push(String((e.params as { missingProperty: string }).missingProperty));
    message = 'is required';
  } else if (e.keyword === 'additionalProperties') {
    segments.push(String((e.params as { additionalProperty: string }).additionalProperty));
    message = 'is not a known field';
  } else if (e.keyword === 'discriminator') {
    segments.push('type');
    message = `must be one of ${NODE_TYPES.join(', ')}`;
  } else if (e.keyword === 'enum') {
    message = `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String).join(', ')}`;
  } else if (e.keyword === 'propertyNames') {
    message = `has an invalid name '${String((e.params as { propertyName: string }).propertyName)}'`;
  } else if (e.keyword === 'pattern' && segments.at(-1) === 'id') {
    message = 'must be 1-64 letters, digits, _ . - (starting with a letter or digit)';
  }
  message = message.replace('<=', '≤').replace('>=', '≥');
  return { path: toPath(segments), message };
}

function toPath(segments: string[]): string {
  let out = '';
  for (const s of segments) {
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out === '' ? '(flow)' : out;
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = formatIssue(i);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function semanticChecks(flow: Record<string, unknown>, ctx: ValidationContext, errors: ValidationIssue[], warnings: ValidationIssue[]): void {
  const nodes = isObject(flow.nodes) ? flow.nodes : {};
  const ids = new Set(Object.keys(nodes));
  const edges = new Map<string, string[]>();

  if (typeof flow.start === 'string' && !ids.has(flow.start)) {
    errors.push({ path: 'start', message: `node "${flow.start}" does not exist` });
  }

  for (const [id, raw] of Object.entries(nodes)) {
    if (!isObject(raw) || typeof raw.type !== 'string' || !(raw.type in EXIT_FIELDS)) continue;
    const type = raw.type as NodeType;
    const base = `nodes.${id}`;
    const targets: string[] = [];
    const exit = (field: string, value: unknown): void => {
      if (typeof value !== 'string') return;
      targets.push(value);
      if (!ids.has(value)) errors.push({ path: `${base}.${field}`, message: `points at unknown node "${value}"` });
      else if (value === id && (type === 'set' || type === 'branch')) {
        // These nodes do not wait and cannot change what they see: looping to themselves never ends.
        // (A play that repeats itself, or a gather that asks again, waits each time.)
        errors.push({ path: `${base}.${field}`, message: 'points at its own node, which would loop without waiting' });
      }
    };
    for (const field of EXIT_FIELDS[type]) exit(field, raw[field]);
    if (type === 'branch' && Array.isArray(raw.conditions)) {
      raw.conditions.forEach((c, i) => {
        if (!isObject(c)) return;
        exit(`conditions[${i}].next`, c.next);
        checkExpression(`${base}.conditions[${i}].when`, c.when, errors);
      });
    }
    edges.set(id, targets);
    checkNode(type, raw, base, ctx, errors, warnings);
    checkVariableNames(raw, base, errors);
  }

  checkFallback(flow.fallback, ctx, errors, warnings);

  // Reachability: breadth-first from start over every exit.
  if (typeof flow.start === 'string' && ids.has(flow.start)) {
    const seen = new Set<string>([flow.start]);
    const queue = [flow.start];
    while (queue.length > 0) {
      const id = queue.shift() as string;
      for (const t of edges.get(id) ?? []) {
        if (ids.has(t) && !seen.has(t)) {
          seen.add(t);
          queue.push(t);
        }
      }
    }
    for (const id of ids) if (!seen.has(id)) errors.push({ path: `nodes.${id}`, message: 'is unreachable from the start node' });
  }
}

function checkNode(
  type: NodeType,
  n: Record<string, unknown>,
  base: string,
  ctx: ValidationContext,
  errors: ValidationIssue[],
  warnings: ValidationIssue[],
): void {
  switch (type) {
    case 'say':
    case 'voicemail':
      exactlyOne(n, ['text', 'audio'], base, errors);
      checkTemplate(`${base}.text`, n.text, errors);
      break;
    case 'gather': {
      for (const p of ['prompt', 'reprompt', 'invalidPrompt']) checkPrompt(`${base}.${p}`, n[p], errors);
      if (n.valid !== undefined) {
        checkExpression(`${base}.valid`, n.valid, errors);
        if (n.noMatch === undefined) errors.push({ path: `${base}.noMatch`, message: 'is required when valid is set' });
      }
      const input = Array.isArray(n.input) ? n.input : ['dtmf'];
      if (input.includes('speech') && ctx.speech === false) {
        warnings.push({
          path: `${base}.input`,
          message: input.includes('dtmf')
            ? 'speech input is not available (no speech-to-text configured); only DTMF will be collected'
            : 'speech input is not available (no speech-to-text configured); the node will take its error exit',
        });
      }
      if (!input.includes('dtmf') && (n.maxDigits !== undefined || n.finishOnKey !== undefined || n.interDigitTimeoutMs !== undefined)) {
        errors.push({ path: `${base}.input`, message: 'must include dtmf when maxDigits, finishOnKey or interDigitTimeoutMs are set' });
      }
      break;
    }
    case 'set':
      if (isObject(n.values)) {
        for (const [k, v] of Object.entries(n.values)) {
          if (isObject(v)) checkExpression(`${base}.values.${k}.expr`, v.expr, errors);
          else checkTemplate(`${base}.values.${k}`, v, errors);
        }
      }
      break;
    case 'agent':
      checkTemplate(`${base}.instructions`, n.instructions, errors);
      checkTemplate(`${base}.greeting`, n.greeting, errors);
      if (Array.isArray(n.departments) && n.departments.length > 0 && Array.isArray(n.transferNumbers) && n.transferNumbers.length > 0) {
        errors.push({ path: `${base}.transferNumbers`, message: 'cannot be combined with departments: with departments the agent transfers to departments only' });
      }
      if (ctx.agent === false) {
        warnings.push({
          path: base,
          message: n.onError === undefined ? 'no agent is configured; the node will take the flow fallback' : 'no agent is configured; the node will take its onError exit',
        });
      }
      break;
    case 'transfer':
      exactlyOne(n, ['to', 'department'], base, errors);
      checkTemplate(`${base}.to`, n.to, errors);
      checkTemplate(`${base}.department`, n.department, errors);
      checkTemplate(`${base}.callerId`, n.callerId, errors);
      checkPrompt(`${base}.announce`, n.announce, errors);
      checkNumber(`${base}.to`, n.to, errors);
      checkNumber(`${base}.callerId`, n.callerId, errors);
      checkDepartment(`${base}.department`, n.department, ctx, warnings);
      break;
    case 'http':
      checkTemplate(`${base}.url`, n.url, errors);
      if (typeof n.url === 'string' && !n.url.includes('{{') && !/^https?:\/\/[^\s]+$/i.test(n.url)) {
        errors.push({ path: `${base}.url`, message: 'must be an http:// or https:// URL' });
      }
      checkHttpTarget(`${base}.url`, n.url, ctx, warnings);
      if (isObject(n.headers)) for (const [k, v] of Object.entries(n.headers)) checkTemplate(`${base}.headers.${k}`, v, errors);
      checkDeep(`${base}.body`, n.body, errors);
      if (isObject(n.assign)) for (const [k, v] of Object.entries(n.assign)) checkExpression(`${base}.assign.${k}`, v, errors);
      break;
    case 'hangup':
      checkTemplate(`${base}.reason`, n.reason, errors);
      break;
    case 'play':
    case 'branch':
    case 'amd':
      break;
  }
}

function checkFallback(fallback: unknown, ctx: ValidationContext, errors: ValidationIssue[], warnings: ValidationIssue[]): void {
  if (!isObject(fallback)) return;
  checkTemplate('fallback.text', fallback.text, errors);
  if (fallback.transferTo !== undefined && fallback.department !== undefined) {
    errors.push({ path: 'fallback', message: 'give at most one of transferTo, department' });
  }
  checkTemplate('fallback.transferTo', fallback.transferTo, errors);
  checkNumber('fallback.transferTo', fallback.transferTo, errors);
  checkDepartment('fallback.department', fallback.department, ctx, warnings);
}

/** Variable names that would reach a prototype (`__proto__`…) pass the name pattern; refuse them. */
function checkVariableNames(n: Record<string, unknown>, base: string, errors: ValidationIssue[]): void {
  const bad = (path: string, name: unknown): void => {
    if (typeof name === 'string' && FORBIDDEN_PROPERTIES.has(name)) errors.push({ path, message: `"${name}" is not allowed as a variable name` });
  };
  bad(`${base}.resultVar`, n.resultVar);
  for (const field of ['values', 'assign']) {
    const map = n[field];
    if (isObject(map)) for (const k of Object.keys(map)) bad(`${base}.${field}.${k}`, k);
  }
}

function exactlyOne(n: Record<string, unknown>, fields: string[], base: string, errors: ValidationIssue[]): void {
  const present = fields.filter((f) => n[f] !== undefined);
  if (present.length !== 1) errors.push({ path: base, message: `needs exactly one of ${fields.join(', ')}` });
}

function checkPrompt(path: string, p: unknown, errors: ValidationIssue[]): void {
  if (!isObject(p)) return;
  exactlyOne(p, ['text', 'audio'], path, errors);
  checkTemplate(`${path}.text`, p.text, errors);
}

function checkNumber(path: string, v: unknown, errors: ValidationIssue[]): void {
  if (typeof v === 'string' && !v.includes('{{') && !E164.test(v)) {
    errors.push({ path, message: 'must be an E.164 number like +14155550100' });
  }
}

function checkDepartment(path: string, v: unknown, ctx: ValidationContext, warnings: ValidationIssue[]): void {
  if (typeof v === 'string' && !v.includes('{{') && ctx.departments !== undefined && !ctx.departments.has(v)) {
    warnings.push({ path, message: `department "${v}" is not configured (yet)` });
  }
}

/** A warning, not an error: the list is configuration of this deployment and may change. */
function checkHttpTarget(path: string, url: unknown, ctx: ValidationContext, warnings: ValidationIssue[]): void {
  const list = ctx.httpAllowList;
  if (list === undefined || typeof url !== 'string') return;
  const origin = /^https?:\/\/[^/?#]*/i.exec(url)?.[0] ?? '';
  let refusal: string | undefined;
  if (origin.includes('{{')) {
    if (!list.anyPublicHost && list.hosts.size === 0 && list.suffixes.length === 0 && list.nets.length === 0) refusal = 'no host is allowed';
  } else {
    try {
      refusal = urlRefusal(list, new URL(url));
    } catch {
      return; // not a URL: reported as an error elsewhere
    }
  }
  if (refusal !== undefined) warnings.push({ path, message: `${refusal} (FLOW_HTTP_ALLOW_HOSTS); the node will take its onError exit` });
}

function checkTemplate(path: string, v: unknown, errors: Issues): void {
  if (typeof v !== 'string' || failedSchema(errors, path)) return;
  for (const p of parseTemplate(v).problems) {
    errors.push({ path, message: p.hole === '' ? p.message : `{{${p.hole}}}: ${p.message}` });
  }
}

function checkDeep(path: string, v: unknown, errors: ValidationIssue[]): void {
  if (typeof v === 'string') checkTemplate(path, v, errors);
  else if (Array.isArray(v)) v.forEach((item, i) => checkDeep(`${path}[${i}]`, item, errors));
  else if (isObject(v)) for (const [k, item] of Object.entries(v)) checkDeep(`${path}.${k}`, item, errors);
}

function checkExpression(path: string, v: unknown, errors: Issues): void {
  if (typeof v !== 'string' || failedSchema(errors, path)) return;
  try {
    const roots = referencedRoots(parseExpression(v));
    // parseExpression already refuses unknown roots; this guards the list staying in sync.
    for (const r of roots) if (!(VARIABLE_ROOTS as readonly string[]).includes(r)) errors.push({ path, message: `unknown variable root '${r}'` });
  } catch (err) {
    const pos = (err as { position?: number }).position;
    errors.push({ path, message: `${(err as Error).message}${pos === undefined ? '' : ` (at character ${pos + 1})`}` });
  }
}
