// POST /voice/{carrier}: the carrier's voice webhook, answered with <Connect><Stream> TwiML/cXML whose
// parameters carry the call id and a signed per-call token. A call we placed names itself and its signed
// context in the URL (placedContext.ts, placedCallAnswer.ts), so any process answers it at once. POST /status/{carrier}: call progress
// callbacks, acknowledged at once and applied through the durable call-write path (retried while the
// database is down or until the call's record exists), monotonically (an out-of-order callback never
// moves a call backwards).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STREAM_TOKEN_TTL_S, streamParameters } from '../call/streamToken.ts';
import type { Carrier, Direction } from '../call/events.ts';
import { mediaStreamUrl, type Config } from '../config.ts';
import { randomUUID } from 'node:crypto';
import { isTerminalStatus, parseCallStatus, type CallStore } from '../store/calls.ts';
import { connectStreamTwiml, refusalTwiml } from '../telephony/twiml.ts';
import { isCarrier } from '../telephony/serializers.ts';
import { verifyWebhook } from './carrierAuth.ts';
import { parseFormBody, type FormParams } from './formBody.ts';
import { notRecordedYet, type CallWrites } from './callWrites.ts';
import fastifyRateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { rateLimitOptions } from './rateLimit.ts';
import type { CallRegistry } from './registry.ts';
import { carrierCallKey, type StreamTokenLedger } from './streamTokenLedger.ts';
import { AnsweredCalls, type AnsweredCall } from './answeredCalls.ts';
import { createError, errorBody } from '../errors.ts';
import { CONTEXT_PARAM, verifyPlacedContext, type ContextVerdict, type PlacedContext } from './placedContext.ts';
import { answerPlacedCall } from './placedCallAnswer.ts';
import { byDeadline, delay } from './deadline.ts';

/** The error code of each way a webhook's call context can fail to verify. */
const CONTEXT_ERRORS = {
  invalid: 'GW_ERR_WEBHOOK_CONTEXT_INVALID',
  expired: 'GW_ERR_WEBHOOK_CONTEXT_EXPIRED',
  carrier: 'GW_ERR_WEBHOOK_CONTEXT_CARRIER',
} as const satisfies Record<Extract<ContextVerdict, { ok: false }>['reason'], `GW_ERR_${string}`>;

export interface CarrierWebhookDeps {
  config: Config;
  calls: CallStore;
  registry: CallRegistry;
  streamTokenSecret: string;
  /** Picks the flow for an inbound call by the number called ('' when none applies). */
  resolveFlowId: (to: string) => Promise<string>;
  writes: CallWrites;
  /** Calls that ended here: a voice webhook for one of them is refused. */
  ledger: StreamTokenLedger;
  /** Where webhook rate limits are counted (default: in process memory). */
  rateLimitStore?: FastifyRateLimitStoreCtor | undefined;
  /** A call the carrier ended (busy, no-answer…): record its outcome if no stream decided one. */
  onCarrierEnded?: (callId: string) => void;
}

type Params = FormParams;

declare module 'fastify' {
  interface FastifyRequest {
    carrierRawBody?: string;
  }
}

/** How long a status callback waits for its write before it is acknowledged anyway. */
const WEBHOOK_DB_WAIT_MS = 1000;
/**
 * How long an inbound call's voice webhook waits, in all, for the database (the called number's flow,
 * then the new call's record) before answering anyway: the caller hears ringing until the answer, and
 * a healthy database answers both in a few milliseconds. What is not known by then is done behind the
 * answer — the flow is resolved again when the stream starts (from the same read), the record is
 * written by the ordered writer ahead of every later write about the call. 150 ms, not less: a healthy
 * database on a loaded machine can take a few tens of milliseconds, and a flow not known by the answer
 * moves that wait from ringing (before the answer) to silence (after it).
 */
export const VOICE_WEBHOOK_DB_WAIT_MS = 150;
/**
 * A caller or called party as carriers send it: E.164, national digits, `client:name`,
 * `sip:user@host;params`, `anonymous`, `Restricted`… Checked for safety, not shape: it is stored,
 * signed into the stream token and templated into flows, so it is bounded and has no control characters.
 */
const PARTY = /^[^\p{Cc}\p{Cf}<>"\\`]{1,256}$/u;

function first(params: Params, name: string): string | undefined {
  const v = params[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function carrierWebhooks(app: FastifyInstance, deps: CarrierWebhookDeps): Promise<void> {
  const { config, calls, registry } = deps;
  const answered = new AnsweredCalls();
  // Charged at preHandler, after the signature check (preValidation): forged requests never use up
  // the quota real carrier webhooks share (all of them share one key behind a proxy without TRUST_PROXY).
  // Each route counts separately (a call brings one voice webhook and several status callbacks).
  await app.register(fastifyRateLimit, { ...rateLimitOptions('webhook', 'webhook requests', config.webhookRateLimitPerMinute, deps.rateLimitStore), global: false });
  const rateLimit = { rateLimit: { max: config.webhookRateLimitPerMinute, timeWindow: 60_000 } };

  // Carriers post forms (and SignalWire's newer APIs JSON). The raw text is kept: signatures cover it.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (req, body, done) => {
    req.carrierRawBody = body as string;
    done(null, parseFormBody(body as string));
  });
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (req, body, done) => {
    req.carrierRawBody = body as string;
    try {
      const parsed = JSON.parse(body as string) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      const params = Object.create(null) as Params;
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) params[k] = typeof v === 'string' ? v : JSON.stringify(v);
      done(null, params);
    } catch {
      done(Object.assign(new Error('request body is not a JSON object'), { statusCode: 400 }), undefined);
    }
  });

  /** Common gate (preValidation, before the rate limit): carrier name and signature. */
  const gate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const carrier = (request.params as { carrier: string }).carrier;
    if (!isCarrier(carrier)) {
      await reply.code(404).send(errorBody(createError('GW_ERR_UNKNOWN_CARRIER', 'carrier must be twilio or signalwire', { statusCode: 404 })));
      return;
    }
    const params = (request.body ?? {}) as Params;
    const isJson = (request.headers['content-type'] ?? '').includes('json');
    const verdict = verifyWebhook(config, carrier, request, params, request.carrierRawBody ?? '', isJson);
    if (verdict !== 'signed' && verdict !== 'unsigned-local') {
      request.log.warn({ carrier, verdict, path: request.routeOptions.url, ip: request.ip }, 'rejected carrier webhook: bad or missing signature');
      await reply.code(403).send(errorBody(createError('GW_ERR_FORBIDDEN', 'invalid carrier signature', { statusCode: 403 })));
    }
  };
  /** What the gate let through. */
  const gated = (request: FastifyRequest): { carrier: Carrier; params: Params } => ({
    carrier: (request.params as { carrier: Carrier }).carrier,
    params: (request.body ?? {}) as Params,
  });

  const twiml = (reply: FastifyReply, xml: string): FastifyReply => reply.type('text/xml; charset=utf-8').send(xml);

  app.post('/voice/:carrier', { schema: { hide: true }, preValidation: gate, config: rateLimit }, async (request, reply) => {
    const { carrier, params } = gated(request);
    const callSid = first(params, 'CallSid');
    const from = first(params, 'From') ?? '';
    const to = first(params, 'To') ?? '';
    const bad = callSid === undefined || !/^[A-Za-z0-9-]{8,64}$/.test(callSid) ? 'CallSid' : !PARTY.test(from) ? 'From' : !PARTY.test(to) ? 'To' : undefined;
    if (bad !== undefined || callSid === undefined) {
      return reply.code(400).send(errorBody(createError('GW_ERR_BAD_WEBHOOK', `${bad ?? 'CallSid'} is missing or malformed (CallSid, From and To are required; From/To up to 256 characters without control characters)`, { statusCode: 400 })));
    }
    const admission = registry.admission();
    if (admission !== 'ok') {
      request.log.warn({ carrier, admission, active: registry.size }, 'refusing call');
      if (admission === 'capacity') registry.counters.refusedCapacity++;
      else registry.counters.refusedDraining++;
      return twiml(reply, refusalTwiml());
    }
    // A call we placed brings its id and signed context in the URL (placedContext.ts). A context that
    // does not verify is refused, not ignored: it is ours or forged, never something to guess around.
    const query = request.query as { callId?: unknown; ctx?: unknown };
    const ourId = typeof query.callId === 'string' ? query.callId : undefined;
    let context: PlacedContext | undefined;
    if (query.ctx !== undefined) {
      const verdict = typeof query.ctx === 'string' ? verifyPlacedContext(deps.streamTokenSecret, ourId, carrier, query.ctx) : { ok: false as const, reason: 'invalid' as const, detail: 'it is given more than once' };
      if (!verdict.ok) {
        request.log.warn({ carrier, callId: ourId, reason: verdict.reason }, 'refused a voice webhook whose call context does not verify');
        return reply.code(400).send(errorBody(createError(CONTEXT_ERRORS[verdict.reason], `${CONTEXT_PARAM}: ${verdict.detail}`, { statusCode: 400 })));
      }
      context = verdict.context;
    }
    const direction: Direction = context?.direction ?? ((first(params, 'Direction') ?? 'inbound').startsWith('outbound') ? 'outbound' : 'inbound');
    let call: AnsweredCall;
    let amd: '' | 'off' = '';
    if (direction === 'outbound' || ourId !== undefined) {
      // A call we placed: from memory, its signed context or the database (placedCallAnswer.ts).
      const answer = await answerPlacedCall(
        { calls, writes: deps.writes, dbWaitMs: VOICE_WEBHOOK_DB_WAIT_MS, log: request.log },
        { carrier, callSid, from, to, direction, ourId, context },
      );
      if ('refuse' in answer) {
        request.log.warn({ carrier, callId: ourId }, 'refusing a voice webhook: the call it names was answered under another carrier call id');
        return twiml(reply, refusalTwiml({ reject: 'rejected' }));
      }
      call = answer.call;
      amd = answer.amd;
    } else {
      // An inbound call is answered at once even when the database is slow or stalled: its flow and
      // record are waited for only briefly (VOICE_WEBHOOK_DB_WAIT_MS in all), its record is written in
      // the background (retried, and ahead of every later write about the call). A retried webhook gets
      // the first answer's call: from memory on this process, else from the database (create is
      // idempotent on the carrier's call id) when it answers in time.
      const key = carrierCallKey(carrier, callSid);
      const again = answered.get(key);
      if (again !== undefined) call = again;
      else {
        const deadline = performance.now() + VOICE_WEBHOOK_DB_WAIT_MS;
        // '' when not known in time: the stream's start resolves the number again (sharing this read).
        const flowId = await byDeadline(deps.resolveFlowId(to), deadline, '');
        const record = { id: randomUUID(), carrier, carrierCallId: callSid, direction, fromNumber: from, toNumber: to, status: 'ringing' as const, flowId: flowId || null };
        const creating = deps.writes.enqueue(record.id, 'recording a new call', () => calls.create(record));
        const created = await byDeadline(creating.then((r) => r?.call), deadline, undefined);
        if (created === undefined) request.log.warn({ carrier, callId: record.id }, 'database slow: answering the call before its record is written');
        call = created ?? record;
        answered.remember(key, call);
      }
    }
    // A retried or replayed webhook for a call that has ended must not start it again.
    if ((call.endedAt ?? null) !== null || deps.ledger.refuseEnded(call.id) || deps.ledger.refuseEnded(carrierCallKey(carrier, callSid))) {
      request.log.warn({ carrier, callId: call.id }, 'refusing a voice webhook for a call that has already ended');
      return twiml(reply, refusalTwiml({ reject: 'rejected' }));
    }
    const claims = {
      callId: call.id,
      carrier,
      carrierCallId: callSid,
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

  app.post('/status/:carrier', { schema: { hide: true }, preValidation: gate, config: rateLimit }, async (request, reply) => {
    const { carrier, params } = gated(request);
    const callSid = first(params, 'CallSid');
    const status = first(params, 'CallStatus');
    if (callSid === undefined || status === undefined) {
      return reply.code(400).send(errorBody(createError('GW_ERR_BAD_WEBHOOK', 'CallSid and CallStatus are required', { statusCode: 400 })));
    }
    if (parseCallStatus(status) === null) {
      return reply.code(400).send(errorBody(createError('GW_ERR_STORE_UNKNOWN_STATUS', `CallStatus "${status}" is not a call status (queued, initiated, ringing, in-progress, completed, busy, no-answer, failed, canceled)`, { statusCode: 400 })));
    }
    const timestamp = first(params, 'Timestamp');
    const at = timestamp !== undefined && !Number.isNaN(Date.parse(timestamp)) ? new Date(timestamp) : new Date();
    request.log.info({ carrier, callStatus: status }, 'status callback');
    // A call we placed names itself in the callback URL (placedContext.ts; no expiry here: callbacks
    // come for as long as the call lasts). Its callback is then queued behind everything this process
    // writes about the call — the carrier call id its webhook noted among them — and fills that id in
    // itself, so it does not wait for the webhook's note to find the record. A context that does not
    // verify is not trusted, but the callback is not dropped for it: the carrier signed the request,
    // and it is applied by the carrier's call id as before.
    const query = request.query as { callId?: unknown; ctx?: unknown };
    let callId: string | undefined;
    if (typeof query.ctx === 'string') {
      const verdict = verifyPlacedContext(deps.streamTokenSecret, typeof query.callId === 'string' ? query.callId : undefined, carrier, query.ctx, { checkExpiry: false });
      if (verdict.ok) callId = verdict.context.callId;
      else request.log.warn({ carrier, reason: verdict.reason }, 'status callback context does not verify; applying it by the carrier call id');
    }
    // Applied durably: the carrier does not retry a 500, and the callback may come before the call's
    // record exists (written in the background, perhaps by another instance). The answer waits for the
    // write only briefly, so with a healthy database the record is up to date when the carrier hears 204.
    const applying = deps.writes.enqueue(callId ?? carrierCallKey(carrier, callSid), 'applying a status callback', async () => {
      if (callId !== undefined) await calls.setCarrierCallId(callId, callSid);
      const applied = await calls.applyStatus(carrier, callSid, status, at);
      if (applied === null) throw notRecordedYet('applying a status callback');
      // A call the carrier ended (no-answer, busy…) ends here too: its record gets that reason (unless
      // the gateway ended it first), and a stream still open is closed.
      if (applied.changed && isTerminalStatus(applied.call.status)) {
        await calls.end({ id: applied.call.id }, applied.call.status, applied.call.status);
        registry.get(applied.call.id)?.end(`carrier_${applied.call.status}`);
        deps.onCarrierEnded?.(applied.call.id);
      }
    });
    await Promise.race([applying, delay(WEBHOOK_DB_WAIT_MS)]);
    return reply.code(204).send();
  });
}
