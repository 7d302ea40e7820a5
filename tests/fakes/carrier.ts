// A fake carrier REST API (Twilio 2010-04-01 Calls, and SignalWire's /api/laml copy of it) on a real
// port 0 server. It checks Basic auth like the carrier (401, code 20003), records every request with its
// form params, answers with Twilio-shaped call resources, and lets a test script failures and delays.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { basicAuthorized, callResource, formValue, parseCallsPath, parseCarrierForm, readCreateCall, sendCarrierError as error, sendJson as send, type CarrierForm } from '../../src/telephony/callsResource.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  /** Form params; a repeated name (StatusCallbackEvent) becomes a list. */
  params: CarrierForm;
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
  updates: CarrierForm[];
}

export interface ScriptedFailure {
  status: number;
  body?: unknown;
  /** Hold the answer this long (to trigger client timeouts). */
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  drop?: boolean;
  /**
   * Only a request this accepts fails (others pass it by): a late request of an earlier call — its
   * hang-up, sent after its record was closed — must not take a failure meant for the next one.
   */
  match?: (r: RecordedRequest) => boolean;
}

export interface FakeCarrier {
  /** Origin to give the client as baseUrl. */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  readonly calls: Map<string, FakeCall>;
  /** The next requests (in order; those a failure's `match` accepts) fail as scripted, before auth is even checked. */
  fail(...failures: ScriptedFailure[]): void;
  /** Delay every answer by this much (0 to stop). */
  setLatency(ms: number): void;
  close(): Promise<void>;
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
    const params = parseCarrierForm(Buffer.concat(chunks).toString('utf-8'));
    const path = (req.url ?? '/').split('?')[0] as string;
    const m = parseCallsPath(path);
    const pathAccount = m?.account;
    const authorized = pathAccount !== undefined && basicAuthorized(req.headers.authorization, pathAccount, accounts);
    requests.push({ method: req.method ?? '', path, params, authorized });

    const at = failures.findIndex((f) => f.match === undefined || f.match(requests[requests.length - 1] as RecordedRequest));
    const failure = at < 0 ? undefined : failures.splice(at, 1)[0];
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

    if (m.callSid === undefined) {
      if (req.method !== 'POST') return error(res, 405, 20004, 'Method not allowed');
      const create = readCreateCall(params, { inlineTwiml: true });
      if ('code' in create) return error(res, create.status, create.code, create.message);
      const call: FakeCall = {
        sid: 'CA' + randomBytes(16).toString('hex'),
        accountSid: m.account,
        to: create.to,
        from: create.from,
        url: create.url,
        twiml: create.twiml,
        status: 'queued',
        statusCallback: create.statusCallback,
        statusCallbackEvent: create.statusCallbackEvents,
        machineDetection: create.machineDetection,
        timeoutS: create.timeoutS,
        updates: [],
      };
      calls.set(call.sid, call);
      return send(res, 201, callResource(call));
    }
    const call = calls.get(m.callSid);
    if (!call || call.accountSid !== m.account) return error(res, 404, 20404, 'The requested resource was not found');
    if (req.method === 'GET') return send(res, 200, callResource(call));
    call.updates.push(params);
    const status = formValue(params.Status);
    if (status === 'completed' || status === 'canceled') call.status = status;
    return send(res, 200, callResource(call));
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
