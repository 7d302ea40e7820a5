// buildApp(deps): the whole gateway as a Fastify instance, separate from listen() so tests use
// inject/injectWS or a real port 0. Each concern is a plugin; the REST API sits in its own scope
// behind the API key, and every /v1 route is registered here (the runtime passes what they work with).
import path from 'node:path';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { OutcomeStore } from './analytics/outcomeStore.ts';
import type { PostCallAnalyzer } from './analytics/postCallAnalysis.ts';
import { OutcomeTracker } from './analytics/outcomeTracker.ts';
import { analyticsRoutes } from './api/analytics.ts';
import { callRoutes } from './api/calls.ts';
import { departmentRoutes } from './api/departments.ts';
import { exportRoutes } from './api/export.ts';
import { flowRoutes, type FlowRoutesOptions } from './api/flows.ts';
import { numberRoutes } from './api/numbers.ts';
import { outboundCallRoutes } from './api/outboundCalls.ts';
import type { CallStarter } from './call/callStarter.ts';
import { metricsRoutes } from './api/metrics.ts';
import { accessControl } from './auth/access.ts';
import { auditChanges } from './auth/audit.ts';
import { authRoutes } from './auth/routes.ts';
import { AuthStore } from './auth/store.ts';
import type { CallSession, CarrierActions } from './call/CallSession.ts';
import type { Carrier } from './call/events.ts';
import { DualChannelRecorder } from './call/recorder.ts';
import type { DncStore } from './campaign/dnc.ts';
import type { CampaignEngine } from './campaign/engine.ts';
import { campaignRoutes } from './campaign/routes.ts';
import type { CampaignStore } from './campaign/store.ts';
import type { FlowResolver } from './flow/resolve.ts';
import type { FlowDefinition } from './flow/types.ts';
import { observeCall } from './observability/callMetrics.ts';
import { callsEnded, startEventLoopProbe, watchEventLog } from './observability/metrics.ts';
import { prometheusRoute } from './observability/routes.ts';
import { RecordingStore } from './recording/recordingStore.ts';
import { startRetention } from './recording/retention.ts';
import { startRollupRefresher } from './analytics/rollupRefresher.ts';
import { recordingRoutes } from './recording/routes.ts';
import { LocalRecordingStorage, type RecordingStorage } from './recording/storage.ts';
import { shutdownPlan, type Config } from './config.ts';
import { createError, errorBody, GatewayError } from './errors.ts';
import { recordAmdVerdicts } from './gateway/amdRecord.ts';
import { notRecordedYet, type CallWrites } from './gateway/callWrites.ts';
import type { CarrierClients } from './gateway/carrierClients.ts';
import { carrierWebhooks } from './gateway/carrierWebhooks.ts';
import { mediaStreams, type StreamCounters } from './gateway/mediaStream.ts';
import { LIMITER_MAX_CLIENTS, rateLimitOptions, WEBHOOK_COUNT_WAIT_MS } from './gateway/rateLimit.ts';
import { sharedRateLimitStore } from './gateway/rateLimitStore.ts';
import { CachedCheck } from './gateway/readiness.ts';
import { publicHostCheck } from './gateway/publicHost.ts';
import { CallRegistry } from './gateway/registry.ts';
import type { Gateway } from './gateway/handle.ts';
import { StreamTokenLedger } from './gateway/streamTokenLedger.ts';
import type { CallRecord, CallStore } from './store/calls.ts';
import type { Database } from './store/db.ts';
import type { EventLog } from './store/eventLog.ts';
import type { FlowStore } from './store/flows.ts';
import { dashboard, dashboardApi } from './web/plugin.ts';
import { LOG_REDACT, LOG_SERIALIZERS } from './observability/logFields.ts';

/** How long after a call ends its event numbering is kept in memory. */
const SEQUENCE_RETENTION_MS = 10 * 60 * 1000;

// Defined with the call's start (call/callStarter.ts); re-exported for the app's users.
export type { CallStarter } from './call/callStarter.ts';

export interface AppDeps {
  config: Config;
  db: Database;
  calls: CallStore;
  eventLog: EventLog;
  apiKey: string;
  streamTokenSecret: string;
  program: CallStarter;
  /** Writes about one call, run in order behind its record's creation (which may still be in flight). */
  writes: CallWrites;
  carrierActions?: (carrier: Carrier, carrierCallId: string) => CarrierActions | undefined;
  /** Post-call analysis (absent without an LLM key). */
  analyzer?: PostCallAnalyzer;
  /** Where recordings are stored (default: $DATA_DIR/recordings). */
  recordingStorage?: RecordingStorage;
  /** What the flow, number, department, outbound-call and campaign routes work with (built by the runtime). */
  routes: ApiServices;
  /** A pino logger to use, or false for none (tests); default: pino at config.logLevel. */
  logger?: FastifyBaseLogger | false;
}

export type { Gateway } from './gateway/handle.ts';

/** The services behind the /v1 routes that the app does not build itself. */
export interface ApiServices {
  /** The API's flow store: its writes announce the change to every instance's caches. */
  flows: FlowStore;
  capabilities: FlowRoutesOptions['capabilities'];
  /** Called with a flow once it is deployed (its static prompts are synthesized ahead of its calls). */
  onDeployed?: (flow: FlowDefinition) => void;
  clients: CarrierClients;
  resolver: FlowResolver;
  campaigns: { store: CampaignStore; dnc: DncStore; engine?: CampaignEngine };
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: Gateway;
  }
}

// Where they are defined (a module the cluster's primary can load without the app): re-exported for the app's users.
export { LOG_REDACT, LOG_SERIALIZERS } from './observability/logFields.ts';

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    ...(deps.logger === undefined ? { logger: { level: config.logLevel, redact: LOG_REDACT, serializers: LOG_SERIALIZERS } } : deps.logger === false ? { logger: false } : { loggerInstance: deps.logger }),
    bodyLimit: 256 * 1024,
    trustProxy: config.trustProxy,
    // Carriers' status callbacks and our own API share the server: keep slow clients from holding it.
    requestTimeout: 30_000,
  });
  const registry = new CallRegistry(config.maxConcurrentCalls);
  // Rate limits counted in the database, shared by every instance (per process while it does not answer).
  const rateLimitStore = sharedRateLimitStore(deps.db.pool, { fallbackCache: LIMITER_MAX_CLIENTS });
  const counters: StreamCounters = { invalidMessages: 0, unknownEvents: 0, mediaBeforeStart: 0, rejectedStreams: 0 };

  const writes = deps.writes;
  const ledger = new StreamTokenLedger();
  /** A write about a call whose record must exist: retried (in order) until it does. */
  const onRecord = <T>(what: string, write: () => Promise<T | null>) => async (): Promise<T> => {
    const result = await write();
    if (result === null) throw notRecordedYet(what);
    return result;
  };

  const outcomes = new OutcomeStore(deps.db.pool, { batchWindowMs: deps.calls.batchWindowMs });
  const recordings = new RecordingStore(deps.db.pool);
  const recordingStorage = deps.recordingStorage ?? new LocalRecordingStorage(path.join(config.dataDir, 'recordings'));
  // Idle recorders of live calls, by call id; started when the call is to be recorded.
  const recorders = new Map<string, DualChannelRecorder>();
  const savedEvents = new Set<string>();
  const startRecording = (session: CallSession): void => {
    const recorder = recorders.get(session.callId);
    if (recorder === undefined || recorder.recording) return;
    recorder.start(recordingStorage.create(session.callId));
    void writes.enqueue(session.callId, 'registering a recording', () => recordings.begin(session.callId, session.callId));
  };
  const createRecorder = (callId: string): DualChannelRecorder => {
    const recorder = new DualChannelRecorder({
      maxBytes: config.recordingMaxBytes,
      onStop: (reason, err) => {
        app.log.warn({ err, callId, reason }, 'recording stopped; the call goes on');
        const s = registry.get(callId);
        s?.emit({ type: 'recording.stopped', atMs: s.mediaMs(), reason });
      },
    });
    recorders.set(callId, recorder);
    return recorder;
  };
  const trackers = new WeakMap<CallSession, OutcomeTracker>();
  const onCallEnded = (session: CallSession, reason: string, recorder: DualChannelRecorder | undefined): void => {
    // The end's answer is the row the outcome is derived from: no read back.
    let ended: CallRecord | undefined;
    void writes.enqueue(session.callId, 'recording the end of a call', onRecord('recording the end of a call', async () => (ended = (await deps.calls.end({ id: session.callId }, reason)) ?? undefined) ?? null));
    const tracker = trackers.get(session);
    if (tracker !== undefined) {
      void writes.enqueue(session.callId, 'recording the outcome of a call', async () => {
        const outcome = await outcomes.record(session.callId, await tracker.settled(), ended);
        if (outcome !== null) callsEnded.inc({ carrier: session.carrier, direction: session.direction, outcome: outcome.category });
        deps.analyzer?.enqueue(session.callId, tracker.facts.flowEnded?.dispositions ?? []);
      });
    }
    // The call's sequence counter is kept a while after the end: the flow's last events and the
    // recording's are still numbered after `call.ended`.
    setTimeout(() => deps.eventLog.release(session.callId), SEQUENCE_RETENTION_MS).unref();
    recorders.delete(session.callId);
    // Finished now (the file is completed whatever the database does); registered in order behind the end.
    const finished = recorder?.finish();
    if (finished !== undefined) {
      void writes.enqueue(session.callId, 'saving a recording', async () => {
        const result = await finished;
        if (result === null) return;
        await recordings.saved(session.callId, { bytes: result.bytes, durationMs: result.durationMs, stopped: result.stopped !== null });
        if (!savedEvents.has(session.callId)) {
          savedEvents.add(session.callId);
          deps.eventLog.append(session.callId, { type: 'recording.saved', atMs: session.mediaMs(), recordingId: session.callId, durationMs: result.durationMs, bytes: result.bytes });
          setTimeout(() => savedEvents.delete(session.callId), SEQUENCE_RETENTION_MS).unref();
        }
      });
    }
  };

  if (config.recordingRetentionDays > 0) {
    const stopRetention = startRetention(recordings, recordingStorage, config.recordingRetentionDays, app.log);
    app.addHook('onClose', async () => stopRetention());
  }
  const stopRollupRefresher = startRollupRefresher(deps.db.pool, app.log);
  app.addHook('onClose', stopRollupRefresher);

  app.decorate('gateway', {
    registry,
    counters,
    tokens: ledger.counters,
    callWrites: () => writes.stats(),
    drain: async () => {
      const plan = shutdownPlan(config);
      registry.startDraining();
      const idle = await registry.waitIdle(plan.drainMs);
      if (!idle) for (const s of registry.all()) s.end('shutdown');
      // Writes still waiting on an unavailable database get a bounded last chance, then the events.
      const persistEnd = performance.now() + plan.persistMs;
      await writes.settle(plan.persistMs / 2);
      await deps.eventLog.flush(Math.max(100, persistEnd - performance.now()));
    },
    settle: async () => {
      await writes.settle();
    },
  } satisfies Gateway);

  app.setErrorHandler((err, request, reply) => {
    if (err instanceof GatewayError) {
      if (err.statusCode >= 500) request.log.error({ err }, err.message);
      return reply.code(err.statusCode).send(errorBody(err));
    }
    const e = err as Error & { statusCode?: number; validation?: unknown; code?: string };
    if (e.validation !== undefined) return reply.code(400).send(errorBody(createError('GW_ERR_VALIDATION', e.message, { statusCode: 400 })));
    const status = e.statusCode ?? 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    return reply.code(status).send({ code: status >= 500 ? 'GW_ERR_INTERNAL' : (e.code ?? 'GW_ERR_BAD_REQUEST'), message: status >= 500 ? 'internal error' : e.message });
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Voice gateway API', version: '1' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  // Media streams are the only websocket: carriers send ASCII JSON, and what is not valid UTF-8 is a
  // malformed message the stream counts and ignores (mediaStream.ts) rather than a reason for ws to
  // close the call (1007); ws's own check cost 50–80 ns of every message. No compression (ws's default
  // for servers, said here): a carrier's 20 ms frames would pay a deflate context each.
  await app.register(fastifyWebsocket, { options: { maxPayload: config.maxMessageBytes, skipUTF8Validation: true, perMessageDeflate: false } });

  watchEventLog(() => deps.eventLog.stats());
  const stopProbe = startEventLoopProbe();
  app.addHook('onClose', async () => stopProbe());
  await prometheusRoute(app, { token: config.metricsToken });
  const auth = new AuthStore(deps.db.pool);
  await app.register(fastifyCookie);
  await app.register(dashboard);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  // Unauthenticated: a cached database check and a bare status (figures are in /v1/metrics).
  const databaseReady = new CachedCheck(() => deps.db.ping(2000));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    if (registry.draining) return reply.code(503).send({ status: 'draining' });
    if (!(await databaseReady.get())) return reply.code(503).send({ status: 'database unreachable' });
    return { status: 'ready' };
  });

  await app.register(async (carrierScope) => {
    if (config.localUnauthenticated) carrierScope.addHook('onRequest', publicHostCheck(config));
    await carrierWebhooks(carrierScope, {
      config,
      calls: deps.calls,
      registry,
      streamTokenSecret: deps.streamTokenSecret,
      resolveFlowId: (to) => deps.program.resolveFlowId(to),
      writes,
      ledger,
      rateLimitStore: sharedRateLimitStore(deps.db.pool, { fallbackCache: LIMITER_MAX_CLIENTS, waitMs: WEBHOOK_COUNT_WAIT_MS }),
      onCarrierEnded: (callId) => void writes.enqueue(callId, 'recording the outcome of an unconnected call', () => outcomes.recordUnconnected(callId)),
    });
    await mediaStreams(carrierScope, {
      config,
      registry,
      counters,
      timeline: deps.eventLog,
      streamTokenSecret: deps.streamTokenSecret,
      ledger,
      carrierActions: deps.carrierActions ?? (() => undefined),
      onCallStarted: (session, claims) => {
        trackers.set(session, new OutcomeTracker(session));
        observeCall(session);
        if (config.recordCalls) startRecording(session);
        else {
          const stop = session.subscribe((e) => {
            if (e.type === 'flow.record') startRecording(session);
            if (e.type === 'flow.started' || e.type === 'flow.record') stop();
          });
        }
        const answeredAt = new Date();
        const id = { id: session.callId };
        // The start's write answers with the record, which is also the check across instances: another
        // instance may have served (and ended) this call already (a token is single use per process).
        // Off the audio path; ends the replay. While the database is down the local checks stand.
        const started = async (): Promise<CallRecord | null> => {
          const record = await deps.calls.startStream(session.callId, session.streamId, answeredAt);
          if (record?.endedAt != null && !session.ended) {
            ledger.counters.endedCalls++;
            app.log.warn({ callId: session.callId }, 'media stream for a call that had already ended; ending it');
            session.end('call_already_ended');
          }
          return record;
        };
        void writes.enqueue(session.callId, 'recording the stream and the answer', onRecord('recording the stream and the answer', started));
        recordAmdVerdicts(session, (amd) => void writes.enqueue(session.callId, 'recording the AMD verdict', onRecord('recording the AMD verdict', () => deps.calls.setAmd(id, amd))));
        try {
          deps.program.start(session, claims);
        } catch (err) {
          app.log.error({ err, callId: session.callId }, 'call program failed to start');
          session.end('program_failed');
        }
      },
      onCallEnded,
      createRecorder,
    });
  });

  await app.register(
    async (api) => {
      await api.register(fastifyRateLimit, { ...rateLimitOptions('api', 'API requests', config.apiRateLimitPerMinute, rateLimitStore), global: true });
      accessControl(api, { store: auth, apiKey: deps.apiKey });
      auditChanges(api, auth);
      await authRoutes(api, { store: auth, db: deps.db.pool });
      await dashboardApi(api, { gateway: () => app.gateway, db: deps.db.pool });
      await callRoutes(api, { calls: deps.calls, eventLog: deps.eventLog, db: deps.db.pool });
      await metricsRoutes(api, { gateway: () => app.gateway, eventLog: deps.eventLog });
      await analyticsRoutes(api, { db: deps.db.pool });
      await exportRoutes(api, { db: deps.db.pool });
      await recordingRoutes(api, { recordings, storage: recordingStorage });
      const r = deps.routes;
      await flowRoutes(api, { flows: r.flows, ...(r.capabilities ? { capabilities: r.capabilities } : {}), ...(r.onDeployed ? { onDeployed: r.onDeployed } : {}) });
      await numberRoutes(api, { flows: r.flows });
      await departmentRoutes(api, { flows: r.flows });
      await outboundCallRoutes(api, { config, calls: deps.calls, clients: r.clients, resolver: r.resolver, streamTokenSecret: deps.streamTokenSecret });
      await api.register((scope) => campaignRoutes(scope, { config, store: r.campaigns.store, dnc: r.campaigns.dnc, resolver: r.resolver, ...(r.campaigns.engine ? { engine: r.campaigns.engine } : {}) }));
    },
    { prefix: '/v1' },
  );

  return app;
}
