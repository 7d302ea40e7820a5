// POST /voice/{carrier}: the carrier's voice webhook, answered with <Connect><Stream> TwiML/cXML whose
// parameters carry the call id and a signed per-call token. POST /status/{carrier}: call progress
// callbacks, applied monotonically (an out-of-order callback never moves a call backwards).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { streamParameters } from '../call/streamToken.ts';
import type { Carrier, Direction } from '../call/events.ts';
import { mediaStreamUrl, type Config } from '../config.ts';
import { randomUUID } from 'node:crypto';
import { isTerminalStatus, type CallRecord, type CallStore } from '../store/calls.ts';
import { connectStreamTwiml, refusalTwiml } from '../telephony/twiml.ts';
import { isCarrier } from '../telephony/serializers.ts';
import { verifyWebhook } from './carrierAuth.ts';
import { withRetry, type CallWrites } from './callWrites.ts';
import { RateLimiter } from './rateLimit.ts';
import type { CallRegistry } from './registry.ts';

export interface CarrierWebhookDeps {
  config: Config;
  calls: CallStore;
  registry: CallRegistry;
  streamTokenSecret: string;
  /** Picks the flow for an inbound call by the number called ('' when none applies). */
  resolveFlowId: (to: string) => Promise<string>;
  writes: CallWrites;
  /** A call the carrier ended (busy, no-answer…): record its outcome if no stream decided one. */
  onCarrierEnded?: (callId: string) => void;
}

type Params = Record<string, string | string[]>;

declare module 'fastify' {
  interface FastifyRequest {
    carrierRawBody?: string;
  }
}

const STREAM_TOKEN_TTL_S = 10 * 60;
/** How long a voice webhook waits for the new call's record before answering anyway. */
const WEBHOOK_DB_WAIT_MS = 1000;
/** How long a new call's record keeps being retried while the database is unavailable. */
const RECORD_RETRY_DEADLINE_MS = 10 * 60 * 1000;
const delay = (ms: number): Promise<undefined> => new Promise((r) => setTimeout(() => r(undefined), ms).unref());
const E164_OR_CLIENT = /^(\+[1-9]\d{1,14}|[A-Za-z0-9:@._+-]{1,128})$/;

function first(params: Params, name: string): string | undefined {
  const v = params[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseForm(body: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export async function carrierWebhooks(app: FastifyInstance, deps: CarrierWebhookDeps): Promise<void> {
  const { config, calls, registry } = deps;
  const limiter = new RateLimiter(config.webhookRateLimitPerMinute);

  // Carriers post forms (and SignalWire's newer APIs JSON). The raw text is kept: signatures cover it.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (req, body, done) => {
    req.carrierRawBody = body as string;
    done(null, parseForm(body as string));
  });
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (req, body, done) => {
    req.carrierRawBody = body as string;
    try {
      const parsed = JSON.parse(body as string) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      const params: Params = {};
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) params[k] = typeof v === 'string' ? v : JSON.stringify(v);
      done(null, params);
    } catch {
      done(Object.assign(new Error('request body is not a JSON object'), { statusCode: 400 }), undefined);
    }
  });

  /** Common gate: carrier name, rate limit, signature. Returns the params or undefined when answered. */
  const gate = (request: FastifyRequest, reply: FastifyReply): { carrier: Carrier; params: Params } | undefined => {
    const carrier = (request.params as { carrier: string }).carrier;
    if (!isCarrier(carrier)) {
      void reply.code(404).send({ code: 'GW_ERR_UNKNOWN_CARRIER', message: 'carrier must be twilio or signalwire' });
      return undefined;
    }
    const wait = limiter.hit(request.ip);
    if (wait > 0) {
      void reply.code(429).header('retry-after', Math.ceil(wait / 1000)).send({ code: 'GW_ERR_RATE_LIMITED', message: 'too many webhook requests' });
      return undefined;
    }
    const params = (request.body ?? {}) as Params;
    const isJson = (request.headers['content-type'] ?? '').includes('json');
    const verdict = verifyWebhook(config, carrier, request, params, request.carrierRawBody ?? '', isJson);
    if (verdict !== 'signed' && verdict !== 'unsigned-local') {
      request.log.warn({ carrier, verdict, path: request.routeOptions.url, ip: request.ip }, 'rejected carrier webhook: bad or missing signature');
      void reply.code(403).send({ code: 'GW_ERR_FORBIDDEN', message: 'invalid carrier signature' });
      return undefined;
    }
    return { carrier, params };
  };

  const twiml = (reply: FastifyReply, xml: string): FastifyReply => reply.type('text/xml; charset=utf-8').send(xml);

  app.post('/voice/:carrier', { schema: { hide: true } }, async (request, reply) => {
    const gated = gate(request, reply);
    if (!gated) return reply;
    const { carrier, params } = gated;
    const callSid = first(params, 'CallSid');
    const from = first(params, 'From') ?? '';
    const to = first(params, 'To') ?? '';
    if (callSid === undefined || !/^[A-Za-z0-9-]{8,64}$/.test(callSid) || !E164_OR_CLIENT.test(from) || !E164_OR_CLIENT.test(to)) {
      return reply.code(400).send({ code: 'GW_ERR_BAD_WEBHOOK', message: 'CallSid, From and To are required and must be well-formed' });
    }
    const admission = registry.admission();
    if (admission !== 'ok') {
      request.log.warn({ carrier, admission, active: registry.size }, 'refusing call');
      if (admission === 'capacity') registry.counters.refusedCapacity++;
      else registry.counters.refusedDraining++;
      return twiml(reply, refusalTwiml());
    }
    const direction: Direction = (first(params, 'Direction') ?? 'inbound').startsWith('outbound') ? 'outbound' : 'inbound';
    const ourId = (request.query as { callId?: unknown }).callId;
    let call: Pick<CallRecord, 'id' | 'fromNumber' | 'toNumber' | 'direction' | 'flowId'>;
    let amd: '' | 'off' = '';
    if (direction === 'outbound' || typeof ourId === 'string') {
      // An outbound call we placed already has a record (found by the id we put in its webhook URL,
      // or by the carrier's id) holding its flow and variables: this answer needs the database.
      let existing = await calls.findByCarrierCallId(carrier, callSid);
      if (existing === null && typeof ourId === 'string' && /^[0-9a-f-]{36}$/.test(ourId)) {
        const placed = await calls.get(ourId);
        if (placed !== null && placed.direction === 'outbound' && placed.carrier === carrier) existing = await calls.setCarrierCallId(ourId, callSid);
      }
      call = existing ?? (await calls.create({ carrier, carrierCallId: callSid, direction, fromNumber: from, toNumber: to, status: 'ringing' })).call;
      if (existing?.metadata.amd === false) amd = 'off';
    } else {
      // An inbound call is answered even when the database is slow: its record is written in the
      // background (retried, and ahead of every later write about the call), and the answer waits for
      // it only briefly. A retried webhook finds the record made the first time (create is idempotent
      // on the carrier's call id) when the database answers in time.
      const record = { id: randomUUID(), carrier, carrierCallId: callSid, direction, fromNumber: from, toNumber: to, status: 'ringing' as const, flowId: (await deps.resolveFlowId(to)) || null };
      const creating = withRetry(() => calls.create(record), { deadlineMs: RECORD_RETRY_DEADLINE_MS });
      void deps.writes.enqueue(record.id, 'recording a new call', () => creating);
      const created = await Promise.race([creating.then((r) => r.call, () => undefined), delay(WEBHOOK_DB_WAIT_MS)]);
      if (created === undefined) request.log.warn({ carrier, callId: record.id }, 'database slow: answering the call before its record is written');
      call = created ?? record;
    }
    const claims = {
      callId: call.id,
      from: call.fromNumber,
      to: call.toNumber,
      direction: call.direction,
      flowId: call.flowId ?? '',
      amd,
      expiresAt: Math.floor(Date.now() / 1000) + STREAM_TOKEN_TTL_S,
    };
    const parameters = streamParameters(deps.streamTokenSecret, claims);
    return twiml(
      reply,
      connectStreamTwiml({
        carrier,
        url: mediaStreamUrl(config, carrier),
        parameters,
        authBearerToken: carrier === 'signalwire' ? parameters.token : undefined,
      }),
    );
  });

  app.post('/status/:carrier', { schema: { hide: true } }, async (request, reply) => {
    const gated = gate(request, reply);
    if (!gated) return reply;
    const { carrier, params } = gated;
    const callSid = first(params, 'CallSid');
    const status = first(params, 'CallStatus');
    if (callSid === undefined || status === undefined) {
      return reply.code(400).send({ code: 'GW_ERR_BAD_WEBHOOK', message: 'CallSid and CallStatus are required' });
    }
    const timestamp = first(params, 'Timestamp');
    const at = timestamp !== undefined && !Number.isNaN(Date.parse(timestamp)) ? new Date(timestamp) : new Date();
    const applied = await calls.applyStatus(carrier, callSid, status, at);
    request.log.info({ carrier, callStatus: status, changed: applied?.changed ?? false, callId: applied?.call.id }, 'status callback');
    if (applied === null) return reply.code(204).send(); // unknown call or status: acknowledged, ignored
    // A call the carrier ended (no-answer, busy…) ends here too: its record gets that reason (unless
    // the gateway ended it first), and a stream still open is closed.
    if (applied.changed && isTerminalStatus(applied.call.status)) {
      await calls.end({ id: applied.call.id }, applied.call.status, applied.call.status);
      registry.get(applied.call.id)?.end(`carrier_${applied.call.status}`);
      deps.onCarrierEnded?.(applied.call.id);
    }
    return reply.code(204).send();
  });
}
