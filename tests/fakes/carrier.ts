// A fake carrier REST API (Twilio 2010-04-01 Calls, and SignalWire's /api/laml copy of it) on a real
// port 0 server. It checks Basic auth like the carrier (401, code 20003), records every request with its
// form params, answers with Twilio-shaped call resources, and lets a test script failures and delays.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface RecordedRequest {
  method: string;
  path: string;
  /** Form params; a repeated name (StatusCallbackEvent) becomes a list. */
  params: Record<string, string | string[]>;
  authorized: boolean;
}

export interface FakeCall {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  url: string | undefined;
  twiml: string | undefined;
  status: string;
  statusCallback: string | undefined;
  statusCallbackEvent: string[];
  machineDetection: string | undefined;
  timeoutS: number | undefined;
  /** Every update (Twiml / Url / Status) in order. */
  updates: Array<Record<string, string | string[]>>;
}

export interface ScriptedFailure {
  status: number;
  body?: unknown;
  /** Hold the answer this long (to trigger client timeouts). */
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  drop?: boolean;
}

export interface FakeCarrier {
  /** Origin to give the client as baseUrl. */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  readonly calls: Map<string, FakeCall>;
  /** The next requests (in order) fail as scripted, before auth is even checked. */
  fail(...failures: ScriptedFailure[]): void;
  /** Delay every answer by this much (0 to stop). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

const CREATE = /^(?:\/api\/laml)?\/2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/;
const ONE = /^(?:\/api\/laml)?\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;

function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function callJson(c: FakeCall) {
  return {
    sid: c.sid,
    account_sid: c.accountSid,
    to: c.to,
    from: c.from,
    status: c.status,
    direction: 'outbound-api',
    api_version: '2010-04-01',
    uri: `/2010-04-01/Accounts/${c.accountSid}/Calls/${c.sid}.json`,
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function error(res: ServerResponse, status: number, code: number, message: string): void {
  send(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

/** `accounts`: account SID (or SignalWire project id) → token. */
export async function startFakeCarrier(accounts: Record<string, string>): Promise<FakeCarrier> {
  const requests: RecordedRequest[] = [];
  const calls = new Map<string, FakeCall>();
  const failures: ScriptedFailure[] = [];
  let latencyMs = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const params = parseForm(Buffer.concat(chunks).toString('utf-8'));
    const path = (req.url ?? '/').split('?')[0] as string;
    const auth = req.headers.authorization ?? '';
    const [user, ...rest] = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf-8').split(':') : [''];
    const m = CREATE.exec(path) ?? ONE.exec(path);
    const pathAccount = m?.[1] !== undefined ? decodeURIComponent(m[1]) : undefined;
    const authorized = user !== undefined && user === pathAccount && accounts[user] !== undefined && accounts[user] === rest.join(':');
    requests.push({ method: req.method ?? '', path, params, authorized });

    const failure = failures.shift();
    const delay = (failure?.delayMs ?? 0) + latencyMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (failure) {
      if (failure.drop) {
        req.socket.destroy();
        return;
      }
      send(res, failure.status, failure.body ?? { code: 20500, message: 'Internal Server Error', status: failure.status });
      return;
    }
    if (!m) return error(res, 404, 20404, 'The requested resource was not found');
    if (!authorized) return error(res, 401, 20003, 'Authenticate');

    if (CREATE.test(path)) {
      if (req.method !== 'POST') return error(res, 405, 20004, 'Method not allowed');
      const to = one(params.To);
      const from = one(params.From);
      const url = one(params.Url);
      const twiml = one(params.Twiml);
      if (!to) return error(res, 400, 21201, "No 'To' number is specified");
      if (!from) return error(res, 400, 21213, "No 'From' number is specified");
      if (!url && !twiml) return error(res, 400, 21205, 'Url parameter is required');
      const call: FakeCall = {
        sid: 'CA' + randomBytes(16).toString('hex'),
        accountSid: pathAccount,
        to,
        from,
        url,
        twiml,
        status: 'queued',
        statusCallback: one(params.StatusCallback),
        statusCallbackEvent: list(params.StatusCallbackEvent),
        machineDetection: one(params.MachineDetection),
        timeoutS: params.Timeout === undefined ? undefined : Number(one(params.Timeout)),
        updates: [],
      };
      calls.set(call.sid, call);
      return send(res, 201, callJson(call));
    }
    const call = calls.get(decodeURIComponent(m[2] as string));
    if (!call || call.accountSid !== pathAccount) return error(res, 404, 20404, 'The requested resource was not found');
    if (req.method === 'GET') return send(res, 200, callJson(call));
    call.updates.push(params);
    const status = one(params.Status);
    if (status === 'completed' || status === 'canceled') call.status = status;
    return send(res, 200, callJson(call));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) error(res, 500, 20500, (err as Error).message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    calls,
    fail: (...f) => void failures.push(...f),
    setLatency: (ms) => {
      latencyMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
