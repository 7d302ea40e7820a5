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
import { basicAuthorized, callResource, formValue, parseCallsPath, parseCarrierForm, readCreateCall, sendCarrierError, sendJson } from '../telephony/callsResource.ts';
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

const MAX_BODY = 64 * 1024;

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

  const resource = (c: SimCall): Record<string, unknown> =>
    callResource({ ...c, durationS: c.answeredAtMs === undefined ? null : Math.round(((c.endedAtMs ?? performance.now()) - c.answeredAtMs) / 1000) });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) return sendCarrierError(res, 413, 20001, 'request too large');
      chunks.push(c as Buffer);
    }
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname === '/sim/log' && req.method === 'GET') return sendJson(res, 200, { dials: log });
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok', calls: running.size });
    const path = parseCallsPath(url.pathname);
    if (path === null) return sendCarrierError(res, 404, 20404, 'The requested resource was not found');
    const { account, carrier } = path;
    if (!basicAuthorized(req.headers.authorization, account, opts.accounts)) return sendCarrierError(res, 401, 20003, 'Authenticate');
    const params = parseCarrierForm(Buffer.concat(chunks).toString('utf8'));

    if (path.callSid === undefined) {
      if (req.method !== 'POST') return sendCarrierError(res, 405, 20004, 'Method not allowed');
      const create = readCreateCall(params, { inlineTwiml: false });
      if ('code' in create) return sendCarrierError(res, create.status, create.code, create.message);
      const { to, from } = create;
      const behavior = behaviorFor(scenario, to);
      const call: SimCall = {
        sid: carrierSid(carrier, 'call'),
        accountSid: account,
        carrier,
        to,
        from,
        url: create.url ?? '',
        statusCallback: create.statusCallback,
        statusCallbackEvents: create.statusCallbackEvents,
        timeoutS: create.timeoutS || 60,
        behavior,
        status: 'queued',
        createdAtMs: performance.now(),
        hangup: new AbortController(),
      };
      calls.set(call.sid, call);
      log.push({ seq: log.length + 1, atMs: Math.round(performance.now() - t0), wallTime: new Date().toISOString(), sid: call.sid, carrier, accountSid: account, to, from, behavior: behavior.kind });
      if (createLatencyMs > 0) await new Promise((r) => setTimeout(r, createLatencyMs));
      sendJson(res, 201, resource(call));
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
    const call = calls.get(path.callSid);
    if (call === undefined || call.accountSid !== account) return sendCarrierError(res, 404, 20404, 'The requested resource was not found');
    if (req.method === 'GET') return sendJson(res, 200, resource(call));
    if (req.method !== 'POST') return sendCarrierError(res, 405, 20004, 'Method not allowed');
    const status = formValue(params.Status);
    if (status === 'completed' || status === 'canceled' || params.Twiml !== undefined || params.Url !== undefined) {
      // Hang-up, or a redirect (a transfer's <Dial>): either way the call leaves our media stream.
      call.hangup.abort();
    }
    return sendJson(res, 200, resource(call));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendCarrierError(res, 500, 20500, (err as Error).message);
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
