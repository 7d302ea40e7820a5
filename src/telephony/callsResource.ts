// The carrier's side of the Calls REST resource (Twilio's 2010-04-01 API, and SignalWire's LaML copy of
// it under /api/laml): the paths, the form body, Basic auth and Twilio-shaped errors and call resources.
// Our client is rest.ts; the carrier simulator (src/sim/) and the tests' fake carrier serve the other
// side, both through this one reading of the wire format.
// Reference: https://www.twilio.com/docs/voice/api/call-resource (create: POST …/Calls.json with To,
// From, Url or Twiml, StatusCallback, StatusCallbackEvent repeated, Timeout, MachineDetection).
import type { ServerResponse } from 'node:http';
import type { Carrier } from './types.ts';

/** A form body: a name given once is a string, a repeated one (StatusCallbackEvent) a list. */
export type CarrierForm = Record<string, string | string[]>;

export function parseCarrierForm(text: string): CarrierForm {
  const out: CarrierForm = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** The first value of a form field. */
export function formValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Every value of a form field. */
export function formValues(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

const CALLS = /^(\/api\/laml)?\/2010-04-01\/Accounts\/([^/]+)\/Calls(?:\/([^/]+))?\.json$/;

export interface CallsPath {
  carrier: Carrier;
  account: string;
  /** Absent for the collection (create); the call's sid for one call (fetch, update). */
  callSid: string | undefined;
}

/** Which account (and call) a Calls path names, or null when it is not a Calls path. */
export function parseCallsPath(pathname: string): CallsPath | null {
  const m = CALLS.exec(pathname);
  if (m === null) return null;
  return { carrier: m[1] ? 'signalwire' : 'twilio', account: decodeURIComponent(m[2] as string), callSid: m[3] === undefined ? undefined : decodeURIComponent(m[3]) };
}

/** Does the Basic authorization header carry `account` and its token from `accounts`? */
export function basicAuthorized(header: string | undefined, account: string, accounts: Readonly<Record<string, string>>): boolean {
  if (header === undefined || !header.startsWith('Basic ')) return false;
  const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
  return user === account && accounts[account] !== undefined && accounts[account] === rest.join(':');
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A Twilio-shaped error body (code, message, more_info, status). */
export function sendCarrierError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

export interface CreateCallForm {
  to: string;
  from: string;
  url: string | undefined;
  twiml: string | undefined;
  statusCallback: string | undefined;
  statusCallbackEvents: string[];
  machineDetection: string | undefined;
  timeoutS: number | undefined;
}

/**
 * A create request's fields, or the carrier's 400 for the first one missing (21201 To, 21213 From,
 * 21205 Url). `inlineTwiml: false` for a server that cannot run a Twiml body (it then needs a Url).
 */
export function readCreateCall(form: CarrierForm, opts: { inlineTwiml: boolean }): CreateCallForm | { status: 400; code: number; message: string } {
  const to = formValue(form.To);
  const from = formValue(form.From);
  const url = formValue(form.Url);
  const twiml = opts.inlineTwiml ? formValue(form.Twiml) : undefined;
  if (!to) return { status: 400, code: 21201, message: "No 'To' number is specified" };
  if (!from) return { status: 400, code: 21213, message: "No 'From' number is specified" };
  if (!url && !twiml) return { status: 400, code: 21205, message: opts.inlineTwiml ? 'Url parameter is required' : 'Url parameter is required (the simulator does not run inline Twiml)' };
  const timeout = formValue(form.Timeout);
  return {
    to,
    from,
    url,
    twiml,
    statusCallback: formValue(form.StatusCallback),
    statusCallbackEvents: formValues(form.StatusCallbackEvent),
    machineDetection: formValue(form.MachineDetection),
    timeoutS: timeout === undefined ? undefined : Number(timeout),
  };
}

/** A call resource as the carrier answers it (the fields our client reads, and a few more). */
export function callResource(c: { sid: string; accountSid: string; carrier?: Carrier; to: string; from: string; status: string; durationS?: number | null }): Record<string, unknown> {
  const prefix = c.carrier === 'signalwire' ? '/api/laml' : '';
  return {
    sid: c.sid,
    account_sid: c.accountSid,
    to: c.to,
    from: c.from,
    status: c.status,
    direction: 'outbound-api',
    api_version: '2010-04-01',
    ...(c.durationS !== undefined ? { duration: c.durationS === null ? null : String(c.durationS) } : {}),
    uri: `${prefix}/2010-04-01/Accounts/${c.accountSid}/Calls/${c.sid}.json`,
  };
}
