// buildApp(deps): the whole gateway as a Fastify instance, separate from listen() so tests use
// inject/injectWS or a real port 0. Each concern is a plugin; the REST API sits in its own scope
// behind the API key.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { callRoutes } from './api/calls.ts';
import { metricsRoutes } from './api/metrics.ts';
import { accessControl } from './auth/access.ts';
import { auditChanges } from './auth/audit.ts';
import { authRoutes } from './auth/routes.ts';
import { AuthStore } from './auth/store.ts';
import type { CallSession, CarrierActions } from './call/CallSession.ts';
import type { Carrier } from './call/events.ts';
import type { DualChannelRecorder } from './call/recorder.ts';
import type { StreamClaims } from './call/streamToken.ts';
import { shutdownPlan, type Config } from './config.ts';
import { GatewayError } from './errors.ts';
import { recordAmdVerdicts } from './gateway/amdRecord.ts';
import { notRecordedYet, type CallWrites, type CallWritesStats } from './gateway/callWrites.ts';
import { carrierWebhooks } from './gateway/carrierWebhooks.ts';
import { mediaStreams, type StreamCounters } from './gateway/mediaStream.ts';
import { LIMITER_MAX_CLIENTS, rateLimitOptions } from './gateway/rateLimit.ts';
import { sharedRateLimitStore } from './gateway/rateLimitStore.ts';
import { CachedCheck } from './gateway/readiness.ts';
import { publicHostCheck } from './gateway/publicHost.ts';
import { CallRegistry } from './gateway/registry.ts';
import { StreamTokenLedger, type StreamTokenLedgerCounters } from './gateway/streamTokenLedger.ts';
import type { CallStore } from './store/calls.ts';
import type { Database } from './store/db.ts';
import type { EventLog } from './store/eventLog.ts';
import { dashboard, dashboardApi } from './web/plugin.ts';

/** How long after a call ends its event numbering is kept in memory. */
const SEQUENCE_RETENTION_MS = 10 * 60 * 1000;

export interface CallProgram {
  /** Runs on every call once its stream has started (detectors, flow or greeting). Must not throw. */
  start(session: CallSession, claims: Omit<StreamClaims, 'expiresAt'>): void;
  /** Flow id for an inbound call to `to` ('' for the default). */
  resolveFlowId(to: string): Promise<string>;
}

export interface AppDeps {
  config: Config;
  db: Database;
  calls: CallStore;
  eventLog: EventLog;
  apiKey: string;
  streamTokenSecret: string;
  program: CallProgram;
  /** Writes about one call, run in order behind its record's creation (which may still be in flight). */
  writes: CallWrites;
  carrierActions?: (carrier: Carrier, carrierCallId: string) => CarrierActions | undefined;
  /** Extra REST routes under /v1 (flows, numbers, outbound calls), registered behind the API key. */
  apiPlugins?: Array<(api: FastifyInstance) => Promise<void>>;
  /** A pino logger to use, or false for none (tests); default: pino at config.logLevel. */
  logger?: FastifyBaseLogger | false;
}

export interface Gateway {
  registry: CallRegistry;
  counters: StreamCounters;
  /** Streams and webhooks refused for a reused token or an ended call. */
  tokens: StreamTokenLedgerCounters;
  /** The durable call-write path's counters. */
  callWrites(): CallWritesStats;
  /**
   * Stop taking calls, let active ones finish, end the rest, then persist (call writes, events) —
   * within shutdownPlan(config): drain + persist fit the grace period with the close after them.
   */
  drain(): Promise<void>;
  /** Background writes (call ends, recordings) still in flight. */
  settle(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: Gateway;
  }
}

/** Loggers never see secrets: auth headers and signatures are redacted wherever they appear. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  'req.headers["x-signalwire-signature"]',
  'headers.authorization',
  '*.token',
  '*.apiKey',
  '*.authToken',
];

/**
 * Request logs keep the path only: query strings may carry phone numbers (a carrier's GET webhook)
 * or tokens. Used by the app's own logger and by main.ts's (a logger's serializers win over fastify's).
 */
export const LOG_SERIALIZERS = {
  req: (req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
    method: req.method,
    url: req.url.split('?', 1)[0],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }),
};

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

  const onCallEnded = (session: CallSession, reason: string, recorder: DualChannelRecorder | undefined): void => {
    void writes.enqueue(session.callId, 'recording the end of a call', onRecord('recording the end of a call', () => deps.calls.end({ id: session.callId }, reason)));
    // The call's sequence counter is kept a while after the end: the flow's last events and the
    // recording's are still numbered after `call.ended`.
    setTimeout(() => deps.eventLog.release(session.callId), SEQUENCE_RETENTION_MS).unref();
    if (recorder !== undefined) {
      void writes.enqueue(session.callId, 'saving a recording', async () => {
        const dir = path.join(config.dataDir, 'recordings');
        await mkdir(dir, { recursive: true });
        const file = path.join(dir, `${session.callId}.wav`);
        await writeFile(file, recorder.toWav());
        if ((await deps.calls.setRecording({ id: session.callId }, file)) === null) throw notRecordedYet('saving a recording');
        deps.eventLog.append(session.callId, { type: 'recording.saved', atMs: session.mediaMs(), path: file, durationMs: recorder.durationMs() });
      });
    }
  };

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
      return reply.code(err.statusCode).send({ code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) });
    }
    const e = err as Error & { statusCode?: number; validation?: unknown; code?: string };
    if (e.validation !== undefined) return reply.code(400).send({ code: 'GW_ERR_VALIDATION', message: e.message });
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
  await app.register(fastifyWebsocket, { options: { maxPayload: config.maxMessageBytes } });

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
      rateLimitStore,
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
        const answeredAt = new Date();
        const id = { id: session.callId };
        void writes.enqueue(session.callId, 'recording the stream', onRecord('recording the stream', () => deps.calls.attachStream(id, session.streamId)));
        void writes.enqueue(session.callId, 'recording the answer', onRecord('recording the answer', () => deps.calls.applyStatus(session.carrier, session.carrierCallId, 'in-progress', answeredAt)));
        recordAmdVerdicts(session, (amd) => void writes.enqueue(session.callId, 'recording the AMD verdict', onRecord('recording the AMD verdict', () => deps.calls.setAmd(id, amd))));
        // Another instance may have served (and ended) this call already: a token is single use per
        // process, the record is the check across instances. Off the audio path; ends the replay.
        deps.calls.get(session.callId).then(
          (record) => {
            if (record?.endedAt != null && !session.ended) {
              ledger.counters.endedCalls++;
              app.log.warn({ callId: session.callId }, 'media stream for a call that had already ended; ending it');
              session.end('call_already_ended');
            }
          },
          () => undefined, // the database is down: the local checks stand
        );
        try {
          deps.program.start(session, claims);
        } catch (err) {
          app.log.error({ err, callId: session.callId }, 'call program failed to start');
          session.end('program_failed');
        }
      },
      onCallEnded,
    });
  });

  await app.register(
    async (api) => {
      await api.register(fastifyRateLimit, { ...rateLimitOptions('api', 'API requests', config.apiRateLimitPerMinute, rateLimitStore), global: true });
      accessControl(api, { store: auth, apiKey: deps.apiKey });
      auditChanges(api, auth);
      await authRoutes(api, { store: auth });
      await dashboardApi(api, { gateway: () => app.gateway, db: deps.db.pool });
      await callRoutes(api, { calls: deps.calls, eventLog: deps.eventLog });
      await metricsRoutes(api, { gateway: () => app.gateway, eventLog: deps.eventLog });
      for (const plugin of deps.apiPlugins ?? []) await plugin(api);
    },
    { prefix: '/v1' },
  );

  return app;
}
