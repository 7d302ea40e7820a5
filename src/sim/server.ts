// The carrier simulator: Twilio's 2010-04-01 Calls REST API (and SignalWire's LaML copy under
// /api/laml) on a real port — create (form body), fetch and update (hang up; TwiML or URL redirect,
// which takes the call off its media stream as a transfer does) — and a network behind it that
// answers each number as its scenario says (behaviors.ts, callLifecycle.ts). Every accepted dial is
// logged in order (GET /sim/log, or `log` in-process), which is how tests prove no number was dialed
// twice. Point the gateway at it with TWILIO_API_BASE_URL / SIGNALWIRE_API_BASE_URL.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { carrierSid } from '../replay/ids.ts';
import type { Carrier } from '../telephony/types.ts';
import { behaviorFor, FixtureCache, type BehaviorKind, type Scenario } from './behaviors.ts';
import { runSimCall, type SimCall } from './callLifecycle.ts';

export interface SimulatorOptions {
  /** Account SID (or SignalWire project id) → auth token (also the webhook signing key). */
  accounts: Record<string, string>;
  scenario?: Scenario;
  /** Real-time multiple for ringing and media; default 1. */
  speed?: number;
  /**
   * Deliver webhooks here instead of the URLs' own origin (which is still what gets signed). Several
   * targets act as a load balancer: calls are spread round-robin, and a target that does not answer
   * is skipped for the next one.
   */
  deliverTo?: string | string[];
  /** Silence the callee waits through after its audio (media ms); default per behaviour (behaviors.ts). */
  holdMs?: number;
  maxHoldMs?: number;
  host?: string;
  port?: number;
  /** Answer call creation after this long (tests of carrier timeouts). */
  createLatencyMs?: number;
}

export interface DialRecord {
  seq: number;
  /** ms since the simulator started. */
  atMs: number;
  wallTime: string;
  sid: string;
  carrier: Carrier;
  accountSid: string;
  to: string;
  from: string;
  behavior: BehaviorKind;
}

export interface Simulator {
  readonly baseUrl: string;
  readonly log: readonly DialRecord[];
  readonly calls: ReadonlyMap<string, SimCall>;
  setCreateLatency(ms: number): void;
  /** Where webhooks go (a gateway started after the simulator). */
  setDeliverTo(url: string | string[] | undefined): void;
  /** Resolves when no simulated call is in progress. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const CREATE = /^(\/api\/laml)?\/2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/;
const ONE = /^(\/api\/laml)?\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;
const MAX_BODY = 64 * 1024;

function form(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(text)) (out[k] ??= []).push(v);
  return out;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function carrierError(res: ServerResponse, status: number, code: number, message: string): void {
  send(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

function resource(c: SimCall): Record<string, unknown> {
  const prefix = c.carrier === 'signalwire' ? '/api/laml' : '';
  return {
    sid: c.sid,
    account_sid: c.accountSid,
    to: c.to,
    from: c.from,
    status: c.status,
    direction: 'outbound-api',
    api_version: '2010-04-01',
    duration: c.answeredAtMs === undefined ? null : String(Math.round(((c.endedAtMs ?? performance.now()) - c.answeredAtMs) / 1000)),
    uri: `${prefix}/2010-04-01/Accounts/${c.accountSid}/Calls/${c.sid}.json`,
  };
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const t0 = performance.now();
  const speed = opts.speed ?? 1;
  const scenario: Scenario = opts.scenario ?? { rules: [] };
  const fixtures = new FixtureCache();
  const calls = new Map<string, SimCall>();
  const log: DialRecord[] = [];
  const running = new Set<Promise<void>>();
  const closing = new AbortController();
  let createLatencyMs = opts.createLatencyMs ?? 0;
  let deliverTo: string[] = opts.deliverTo === undefined ? [] : [opts.deliverTo].flat();
  let turn = 0;
  /** The targets for one call: round-robin first choice, the others as fallbacks. */
  const targetsForCall = (): string[] => {
    if (deliverTo.length <= 1) return deliverTo;
    const k = turn++ % deliverTo.length;
    return [...deliverTo.slice(k), ...deliverTo.slice(0, k)];
  };

  const authorized = (req: IncomingMessage, account: string): boolean => {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Basic ')) return false;
    const [user, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    return user === account && opts.accounts[account] !== undefined && opts.accounts[account] === rest.join(':');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) return carrierError(res, 413, 20001, 'request too large');
      chunks.push(c as Buffer);
    }
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname === '/sim/log' && req.method === 'GET') return send(res, 200, { dials: log });
    if (url.pathname === '/healthz') return send(res, 200, { status: 'ok', calls: running.size });
    const create = CREATE.exec(url.pathname);
    const one = create ? null : ONE.exec(url.pathname);
    const m = create ?? one;
    if (m === null) return carrierError(res, 404, 20404, 'The requested resource was not found');
    const account = decodeURIComponent(m[2] as string);
    if (!authorized(req, account)) return carrierError(res, 401, 20003, 'Authenticate');
    const carrier: Carrier = m[1] ? 'signalwire' : 'twilio';
    const params = form(Buffer.concat(chunks).toString('utf8'));
    const p = (name: string): string | undefined => params[name]?.[0];

    if (create) {
      if (req.method !== 'POST') return carrierError(res, 405, 20004, 'Method not allowed');
      const to = p('To');
      const from = p('From');
      const callUrl = p('Url');
      if (!to) return carrierError(res, 400, 21201, "No 'To' number is specified");
      if (!from) return carrierError(res, 400, 21213, "No 'From' number is specified");
      if (!callUrl) return carrierError(res, 400, 21205, 'Url parameter is required (the simulator does not run inline Twiml)');
      const behavior = behaviorFor(scenario, to);
      const call: SimCall = {
        sid: carrierSid(carrier, 'call'),
        accountSid: account,
        carrier,
        to,
        from,
        url: callUrl,
        statusCallback: p('StatusCallback'),
        statusCallbackEvents: params.StatusCallbackEvent ?? [],
        timeoutS: Number(p('Timeout') ?? 60) || 60,
        behavior,
        status: 'queued',
        createdAtMs: performance.now(),
        hangup: new AbortController(),
      };
      calls.set(call.sid, call);
      log.push({ seq: log.length + 1, atMs: Math.round(performance.now() - t0), wallTime: new Date().toISOString(), sid: call.sid, carrier, accountSid: account, to, from, behavior: behavior.kind });
      if (createLatencyMs > 0) await new Promise((r) => setTimeout(r, createLatencyMs));
      send(res, 201, resource(call));
      const run = runSimCall(call, {
        speed,
        deliverTo: targetsForCall(),
        tokenFor: (sid) => opts.accounts[sid] ?? '',
        fixtures,
        holdMs: opts.holdMs,
        maxHoldMs: opts.maxHoldMs ?? 120_000,
        signal: closing.signal,
      });
      running.add(run);
      void run.finally(() => running.delete(run));
      return;
    }
    const call = calls.get(decodeURIComponent(m[3] as string));
    if (call === undefined || call.accountSid !== account) return carrierError(res, 404, 20404, 'The requested resource was not found');
    if (req.method === 'GET') return send(res, 200, resource(call));
    if (req.method !== 'POST') return carrierError(res, 405, 20004, 'Method not allowed');
    const status = p('Status');
    if (status === 'completed' || status === 'canceled' || p('Twiml') !== undefined || p('Url') !== undefined) {
      // Hang-up, or a redirect (a transfer's <Dial>): either way the call leaves our media stream.
      call.hangup.abort();
    }
    return send(res, 200, resource(call));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) carrierError(res, 500, 20500, (err as Error).message);
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    log,
    calls,
    setCreateLatency: (ms) => {
      createLatencyMs = ms;
    },
    setDeliverTo: (url) => {
      deliverTo = url === undefined ? [] : [url].flat();
    },
    idle: async () => {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    close: async () => {
      closing.abort();
      await Promise.allSettled([...running]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
