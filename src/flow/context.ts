// The state of one flow run and what node handlers may do with it: read and write variables (each
// change is a `flow.variable.set` event), render templates, emit `flow.*` events stamped with media
// time, and observe the call's detector events from the moment the run started (so an AMD verdict
// that arrived while a greeting played is not missed by the amd node that follows).
import type { AgentRunner } from '../agent/node.ts';
import type { SpeechToText, TextToSpeech } from '../agent/providers.ts';
import type { CallControl } from '../call/control.ts';
import type { AmdResult, AnsweredBy, CallEvent } from '../call/events.ts';
import { createError } from '../errors.ts';
import type { AudioSource } from './audio.ts';
import type { FlowEvent, FlowNodeEventData } from './events.ts';
import type { HttpAllowList } from './httpAllowList.ts';
import type { Scope, Value } from './expression.ts';
import { TemplateRenderer } from './template.ts';
import { FORBIDDEN_PROPERTIES, type Department, type FlowDefinition } from './types.ts';

export interface DepartmentDirectory {
  get(name: string): Promise<Department | undefined>;
}

/** What a flow run may use; everything is optional and a missing capability is a node error, not a hang. */
export interface FlowDeps {
  tts?: TextToSpeech | undefined;
  stt?: SpeechToText | undefined;
  agent?: AgentRunner | undefined;
  audio?: AudioSource | undefined;
  departments?: DepartmentDirectory | undefined;
  /** Numbers every agent node may transfer to (AGENT_TRANSFER_NUMBERS), besides the node's own list. */
  agentTransferNumbers?: readonly string[] | undefined;
  /** Latest version of another flow (a department's outside-hours flow). */
  loadFlow?: ((id: string) => Promise<FlowDefinition | undefined>) | undefined;
  fetch?: typeof fetch | undefined;
  /** Where http nodes may connect (FLOW_HTTP_ALLOW_HOSTS); default: nowhere. */
  httpAllowList?: HttpAllowList | undefined;
  /** Calendar time for business hours (tests and replays pin it). Default: the system clock. */
  now?: (() => Date) | undefined;
  /** Node visits in a row without media time passing before the run is declared looping. Default 200. */
  maxSteps?: number | undefined;
}

/**
 * Carrier DTMF events and in-band detection of the same tone land within a few frames of each other;
 * a person cannot press the same key twice, released, within this time (Q.24 minimum tone 40 ms plus
 * pause 40 ms, in practice > 100 ms per press) and the carrier reports with some lag.
 */
export const DTMF_DUPLICATE_MS = 300;

/**
 * Serialized size limits of flow data (JSON bytes). Expressions can build values from values (a `set`
 * loop of `[vars.x, vars.x]` doubles a list each step), so sizes are checked while copying, and the
 * copy stops as soon as the limit is passed: a three-node flow cannot take the process's memory.
 */
export const MAX_VARIABLE_BYTES = 64 * 1024;
/** All of `vars` together. */
export const MAX_VARIABLES_BYTES = 256 * 1024;
/** A root such as `http` (its body is up to HTTP_MAX_BODY_BYTES, 1 MiB) or `agent`. */
export const MAX_ROOT_BYTES = (1 << 20) + 64 * 1024;

/** Detector facts observed since the run started. */
export class CallObserver {
  /** The verdict as it stands: replaced by an amd.revised one (which keeps the first as `previous`). */
  amdVerdict: { result: AmdResult; answeredBy: AnsweredBy; confidence: number; reason: string; atMs: number; previous?: AmdResult } | undefined;
  messageEnd: { answeredBy: AnsweredBy; reason: string; atMs: number } | undefined;
  lastBeepAtMs: number | undefined;
  faxAtMs: number | undefined;
  speaking = false;
  heardSpeech = false;
  lastSpeechStoppedAtMs: number | undefined;
  private lastDtmf: { digit: string; source: string; atMs: number } | undefined;
  private readonly duplicates = new WeakSet<CallEvent>();
  private readonly unsubscribe: () => void;

  constructor(call: CallControl) {
    this.unsubscribe = call.subscribe((e) => this.observe(e));
  }

  /** A new observer of the call that starts from what `seen` has observed (a run that takes over). */
  static continuing(call: CallControl, seen: CallObserver): CallObserver {
    const next = new CallObserver(call);
    next.amdVerdict = seen.amdVerdict;
    next.messageEnd = seen.messageEnd;
    next.lastBeepAtMs = seen.lastBeepAtMs;
    next.faxAtMs = seen.faxAtMs;
    next.speaking = seen.speaking;
    next.heardSpeech = seen.heardSpeech;
    next.lastSpeechStoppedAtMs = seen.lastSpeechStoppedAtMs;
    next.lastDtmf = seen.lastDtmf;
    return next;
  }

  /**
   * The same key press reported twice, by the carrier and by the in-band detector, within
   * DTMF_DUPLICATE_MS. The observer subscribes before any node's inbox, so it has classified an
   * event by the time a node sees it.
   */
  isDuplicateDtmf(e: CallEvent): boolean {
    return this.duplicates.has(e);
  }

  private observe(e: CallEvent): void {
    switch (e.type) {
      case 'dtmf': {
        const last = this.lastDtmf;
        if (last !== undefined && last.digit === e.digit && last.source !== e.source && Math.abs(e.atMs - last.atMs) < DTMF_DUPLICATE_MS) {
          this.duplicates.add(e);
          break;
        }
        this.lastDtmf = { digit: e.digit, source: e.source, atMs: e.atMs };
        break;
      }
      case 'amd.verdict':
        this.amdVerdict ??= { result: e.result, answeredBy: e.answeredBy, confidence: e.confidence, reason: e.reason, atMs: e.atMs };
        break;
      case 'amd.revised':
        this.amdVerdict = { result: e.result, answeredBy: e.answeredBy, confidence: e.confidence, reason: e.reason, atMs: e.atMs, previous: e.previous };
        break;
      case 'amd.message_end':
        this.messageEnd = { answeredBy: e.answeredBy, reason: e.reason, atMs: e.atMs };
        break;
      case 'beep':
        this.lastBeepAtMs = e.atMs;
        break;
      case 'fax.tone':
        this.faxAtMs ??= e.atMs;
        break;
      case 'speech.started':
        this.speaking = true;
        this.heardSpeech = true;
        break;
      case 'speech.stopped':
        this.speaking = false;
        this.lastSpeechStoppedAtMs = e.atMs;
        break;
      default:
        break;
    }
  }

  close(): void {
    this.unsubscribe();
  }
}

export class RunContext {
  readonly call: CallControl;
  readonly deps: FlowDeps;
  readonly signal: AbortSignal;
  readonly templates = new TemplateRenderer();
  readonly observer: CallObserver;
  /** DTMF pressed to interrupt a prompt, kept for the next gather (type-ahead). */
  typeAhead: string[] = [];
  flow: FlowDefinition;
  nodeId = '';
  private readonly roots: Record<string, Value>;
  /** Serialized size of each variable in `vars`, and their total. */
  private readonly varBytes = new Map<string, number>();
  private varBytesTotal = 0;

  constructor(
    call: CallControl,
    flow: FlowDefinition,
    deps: FlowDeps,
    signal: AbortSignal,
    variables: Record<string, unknown>,
    version: number | undefined,
    observer: CallObserver | undefined,
  ) {
    this.call = call;
    this.flow = flow;
    this.deps = deps;
    this.signal = signal;
    this.observer = observer ?? new CallObserver(call);
    const { contact, ...rest } = variables;
    this.roots = {
      contact: toValue(contact ?? {}),
      vars: toValue({ ...(flow.variables ?? {}), ...rest }),
      call: toValue({
        id: call.callId,
        from: call.from,
        to: call.to,
        direction: call.direction,
        carrier: call.carrier,
        parameters: { ...call.parameters },
      }),
      flow: toValue({ id: flow.id, version: version ?? null }),
    };
    for (const [k, v] of Object.entries(this.vars())) this.countVar(k, serializedBytes(v));
  }

  private countVar(name: string, bytes: number): void {
    this.varBytesTotal += bytes - (this.varBytes.get(name) ?? 0);
    this.varBytes.set(name, bytes);
  }

  get scope(): Scope {
    return this.roots;
  }

  /** vars as a plain object (the run's result, the agent's input). */
  vars(): Record<string, Value> {
    return (this.roots.vars ?? {}) as Record<string, Value>;
  }

  setVar(name: string, value: unknown): void {
    if (FORBIDDEN_PROPERTIES.has(name)) {
      throw createError('GW_ERR_FLOW_VARIABLE_NAME', `variable name "${name}" is not allowed`, { statusCode: 400 });
    }
    const { value: v, bytes } = toBoundedValue(value, MAX_VARIABLE_BYTES, `vars.${name}`);
    const total = this.varBytesTotal - (this.varBytes.get(name) ?? 0) + bytes;
    if (total > MAX_VARIABLES_BYTES) {
      throw createError('GW_ERR_FLOW_VALUE_TOO_LARGE', `the flow's variables would take ${total} bytes, more than ${MAX_VARIABLES_BYTES}; keep less in vars`, {
        details: { name: `vars.${name}`, bytes: total, limit: MAX_VARIABLES_BYTES },
      });
    }
    this.countVar(name, bytes);
    (this.roots.vars as Record<string, Value>)[name] = v;
    this.emit('flow.variable.set', { name: `vars.${name}`, value: v });
  }

  setRoot(root: 'input' | 'amd' | 'http' | 'agent', value: unknown): void {
    const { value: v } = toBoundedValue(value, MAX_ROOT_BYTES, root);
    this.roots[root] = v;
    this.emit('flow.variable.set', { name: root, value: v });
  }

  switchFlow(flow: FlowDefinition, version: number | undefined): void {
    this.flow = flow;
    this.roots.flow = toValue({ id: flow.id, version: version ?? null });
    const vars = this.vars();
    for (const [k, v] of Object.entries(flow.variables ?? {})) if (!(k in vars)) vars[k] = toValue(v);
  }

  render(text: string): string {
    return this.templates.render(text, this.roots);
  }

  renderDeep(value: unknown): unknown {
    return this.templates.renderDeep(value, this.roots);
  }

  /** Adds a `flow.*` event to the timeline (the type says which data it carries; the flow's id is added). */
  emit<K extends keyof FlowNodeEventData>(type: K, data: FlowNodeEventData[K]): void {
    this.call.emit({ type, atMs: this.call.mediaMs(), data: { flowId: this.flow.id, ...data } } as FlowEvent);
  }

  now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  close(): void {
    this.observer.close();
  }
}

/** JSON size of a value already made plain by toValue. */
function serializedBytes(v: Value): number {
  return Buffer.byteLength(JSON.stringify(v) ?? 'null');
}

/**
 * toValue with a limit on the JSON size of the result, counted while copying: the copy stops (with
 * GW_ERR_FLOW_VALUE_TOO_LARGE) as soon as the limit is passed, so the work is bounded by the limit,
 * whatever the value's shared references would expand to.
 */
export function toBoundedValue(v: unknown, maxBytes: number, name: string): { value: Value; bytes: number } {
  let left = maxBytes;
  const charge = (n: number): void => {
    left -= n;
    if (left < 0) {
      throw createError('GW_ERR_FLOW_VALUE_TOO_LARGE', `${name} would be larger than ${maxBytes} bytes; keep less in it`, { details: { name, limit: maxBytes } });
    }
  };
  const copy = (x: unknown): Value => {
    if (x === null || x === undefined) {
      charge(4);
      return x;
    }
    if (typeof x === 'string') {
      charge(x.length + 2); // cheap lower bound first: a huge string is refused without scanning it
      charge(Buffer.byteLength(x) - x.length);
      return x;
    }
    if (typeof x === 'boolean') {
      charge(5);
      return x;
    }
    if (typeof x === 'number') {
      charge(8);
      return Number.isFinite(x) ? x : null;
    }
    if (Array.isArray(x)) {
      charge(2);
      return x.map((item) => {
        charge(1);
        return copy(item);
      });
    }
    if (typeof x === 'object') {
      charge(2);
      const out: Record<string, Value> = {};
      for (const [k, item] of Object.entries(x as Record<string, unknown>)) {
        if (FORBIDDEN_PROPERTIES.has(k)) continue;
        charge(k.length + 4);
        out[k] = copy(item);
      }
      return out;
    }
    return toValue(x);
  };
  const value = copy(v);
  return { value, bytes: maxBytes - left };
}

/** Plain JSON-like data only: drops functions, symbols and class instances' prototypes. */
export function toValue(v: unknown): Value {
  if (v === null || v === undefined) return v;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map(toValue);
  if (typeof v === 'object') {
    const out: Record<string, Value> = {};
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      if (FORBIDDEN_PROPERTIES.has(k)) continue;
      out[k] = toValue(item);
    }
    return out;
  }
  // bigint, symbol, function: not data.
  return typeof v === 'bigint' ? v.toString() : null;
}

export type FlowEndOutcome = 'hangup' | 'transferred' | 'voicemail';

/** What a node handler decides: follow an exit, end the flow, or continue in another flow. */
export type NodeResult =
  | { kind: 'exit'; exit: string; next: string }
  | { kind: 'end'; outcome: FlowEndOutcome; reason: string }
  | { kind: 'switch'; flow: FlowDefinition; version?: number | undefined; reason: string };

export const exit = (name: string, next: string): NodeResult => ({ kind: 'exit', exit: name, next });
