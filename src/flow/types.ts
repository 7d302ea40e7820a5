// The shape of a flow definition (flows/flow.schema.json is the wire contract; these types mirror it
// for the runner). A flow is data: named nodes, each with a type, parameters and named exits that
// point at other nodes.

/** Something to say: text through TTS (templated) or a file from the audio folder. */
export interface Prompt {
  text?: string;
  audio?: string;
}

interface NodeBase {
  /** Free text for designers; ignored by the runner. */
  description?: string;
  /** Where to go when the node fails; without it the flow-level fallback runs. */
  onError?: string;
}

export interface SayNode extends NodeBase, Prompt {
  type: 'say';
  /** Barge-in: a key press or caller speech stops the prompt. Default false. */
  interruptible?: boolean;
  next: string;
}

export interface PlayNode extends NodeBase {
  type: 'play';
  audio: string;
  interruptible?: boolean;
  next: string;
}

export interface GatherNode extends NodeBase {
  type: 'gather';
  /** Which inputs are accepted. Default ['dtmf']. */
  input?: Array<'dtmf' | 'speech'>;
  prompt?: Prompt;
  /** Said instead of `prompt` on retries after no input. */
  reprompt?: Prompt;
  /** Said when the input fails `valid`, before the reprompt. */
  invalidPrompt?: Prompt;
  maxDigits?: number;
  finishOnKey?: string;
  interDigitTimeoutMs?: number;
  noInputTimeoutMs?: number;
  /** Once speech has started, how long to wait for the final transcript. */
  speechTimeoutMs?: number;
  /** Extra attempts after the first. */
  retries?: number;
  /** Expression over `input` that accepts the input; otherwise the attempt counts as no match. */
  valid?: string;
  /** Stored in `vars.<resultVar>` (digits or transcript). */
  resultVar?: string;
  /** Prompts may be interrupted. Default true. */
  interruptible?: boolean;
  language?: string;
  next: string;
  noInput: string;
  noMatch?: string;
}

export interface BranchCondition {
  when: string;
  next: string;
}

export interface BranchNode extends NodeBase {
  type: 'branch';
  conditions: BranchCondition[];
  default: string;
}

/** A value for `set`: a JSON literal (strings templated) or `{ expr }` evaluated. */
export type SetValue = string | number | boolean | null | { expr: string };

export interface SetNode extends NodeBase {
  type: 'set';
  values: Record<string, SetValue>;
  next: string;
}

export interface AmdNode extends NodeBase {
  type: 'amd';
  /** Give up waiting for the verdict after this long: exit `unknown`. Default 30000. */
  timeoutMs?: number;
  human: string;
  machine: string;
  /** Default: the `machine` exit. */
  fax?: string;
  /** Default: the `human` exit (bias toward humans, as carriers do). */
  unknown?: string;
  /**
   * Act on a human or machine verdict only at this calibrated confidence or above (dsp/calibration.ts:
   * 0.9 means right nine times in ten on the tune split); a less sure verdict takes `uncertain`.
   */
  minConfidence?: number;
  /** Exit for a verdict under minConfidence. Default: `unknown` if given, else the `human` exit. */
  uncertain?: string;
}

export interface VoicemailNode extends NodeBase, Prompt {
  type: 'voicemail';
  /** End of greeting = this much silence after speech. Default 1500. */
  silenceMs?: number;
  /** Longest wait for the end of the greeting before leaving the message anyway. Default 30000. */
  maxWaitMs?: number;
}

export interface AgentNode extends NodeBase {
  type: 'agent';
  instructions: string;
  greeting?: string;
  tools?: Array<'transfer' | 'hangup' | 'send_dtmf' | 'set_variable' | 'end'>;
  departments?: string[];
  /** Without departments: numbers (or `+prefix*`) the agent may transfer to, besides AGENT_TRANSFER_NUMBERS. */
  transferNumbers?: string[];
  maxTurns?: number;
  maxDurationMs?: number;
  noInputMs?: number;
  done: string;
  /** Default: the flow ends with the transfer performed from `agent.transferTo`. */
  transfer?: string;
  /** Default: hang up. */
  hangup?: string;
  /** Default: the `done` exit. */
  limit?: string;
}

export interface TransferNode extends NodeBase {
  type: 'transfer';
  /** E.164 number (templated). Exactly one of `to` / `department`. */
  to?: string;
  department?: string;
  callerId?: string;
  timeoutS?: number;
  /** Said before the transfer. */
  announce?: Prompt;
  /** Department closed: go here (else the department's own fallback). */
  outsideHours?: string;
}

export interface HttpNode extends NodeBase {
  type: 'http';
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** JSON body; strings inside are templated. */
  body?: unknown;
  timeoutMs?: number;
  /** vars.<name> = expression over `http` (the response: status, body). */
  assign?: Record<string, string>;
  next: string;
  onError: string;
}

export interface HangupNode extends NodeBase {
  type: 'hangup';
  reason?: string;
}

/** The caller opts out of calls: vars.doNotCall is set, and the campaign engine lists the number when the call ends. */
export interface OptOutNode extends NodeBase {
  type: 'optOut';
  next: string;
}

export type FlowNode =
  | SayNode
  | PlayNode
  | GatherNode
  | BranchNode
  | SetNode
  | AmdNode
  | VoicemailNode
  | AgentNode
  | TransferNode
  | HttpNode
  | HangupNode
  | OptOutNode;

export type NodeType = FlowNode['type'];

/** What happens when a node fails without an `onError`: apologise, then transfer or hang up. */
export interface FlowFallback {
  text?: string;
  audio?: string;
  transferTo?: string;
  department?: string;
}

export interface FlowDefinition {
  id: string;
  name?: string;
  description?: string;
  start: string;
  /** Initial `vars`. */
  variables?: Record<string, unknown>;
  fallback?: FlowFallback;
  /** Expression evaluated when the flow ends: true makes the call's outcome `success`. */
  successWhen?: string;
  /** The dispositions this flow may set; post-call analysis classifies against them. */
  dispositions?: string[];
  /** Record every call of this flow. */
  record?: boolean;
  nodes: Record<string, FlowNode>;
}

/** Exit fields per node type (the named edges of the graph). */
export const EXIT_FIELDS: { readonly [K in NodeType]: readonly string[] } = {
  say: ['next', 'onError'],
  play: ['next', 'onError'],
  gather: ['next', 'noInput', 'noMatch', 'onError'],
  branch: ['default', 'onError'],
  set: ['next', 'onError'],
  amd: ['human', 'machine', 'fax', 'unknown', 'uncertain', 'onError'],
  voicemail: ['onError'],
  agent: ['done', 'transfer', 'hangup', 'limit', 'onError'],
  transfer: ['outsideHours', 'onError'],
  http: ['next', 'onError'],
  hangup: [],
  optOut: ['next', 'onError'],
};

/** E.164: '+', country code, up to 15 digits in all (ITU-T E.164 §6). */
export const E164 = /^\+[1-9][0-9]{6,14}$/;

/** Names that would reach an object's prototype if used as keys or properties; refused everywhere. */
export const FORBIDDEN_PROPERTIES: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

/** The roots templates and expressions may read. */
export const VARIABLE_ROOTS = ['contact', 'vars', 'call', 'input', 'amd', 'http', 'agent', 'flow'] as const;
export type VariableRoot = (typeof VARIABLE_ROOTS)[number];

export interface Department {
  name: string;
  /** E.164 numbers to ring, in order of preference. */
  numbers: string[];
  /** IANA time zone of `hours`, e.g. Europe/Paris. */
  timeZone: string;
  /** Opening hours by weekday (mon…sun): ["09:00-17:00", …]. A missing day is closed. Absent = always open. */
  hours?: Partial<Record<Weekday, string[]>>;
  /** Dates (YYYY-MM-DD, in the department's zone) when it is closed all day. */
  closedDates?: string[];
  /** Outside hours when the transfer node has no `outsideHours` exit. */
  outsideHours?: { flowId?: string; number?: string; text?: string };
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
