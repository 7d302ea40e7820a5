// Live views over server-sent events: GET /v1/live/stream is the one connection a dashboard tab keeps
// (calls in progress, their events as they happen, the process's health); GET /v1/live/calls/{id}/audio
// streams a call's two channels to a listener allowed to hear recordings. EventSource reconnects by
// itself; each (re)connection starts with a snapshot, so nothing is missed in between.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway/handle.ts';
import { createError } from '../errors.ts';
import { LiveCalls, type LiveMessage } from './liveCalls.ts';
import { streamListenIn } from './listenIn.ts';

const HEALTH_EVERY_MS = 2000;
const KEEPALIVE_EVERY_MS = 15_000;
/** A browser that stops reading is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface LiveRoutesOptions {
  gateway: () => Gateway;
}

function health(gateway: Gateway, delay: ReturnType<typeof monitorEventLoopDelay>): Record<string, unknown> {
  const h = {
    activeCalls: gateway.registry.size,
    maxConcurrentCalls: gateway.registry.maxConcurrentCalls,
    draining: gateway.registry.draining,
    eventLoopDelayMs: { mean: round(delay.mean / 1e6), p99: round(delay.percentile(99) / 1e6), max: round(delay.max / 1e6) },
    rssMb: Math.round(process.memoryUsage.rss() / 1e6),
    uptimeS: Math.round(process.uptime()),
    at: new Date().toISOString(),
  };
  delay.reset();
  return h;
}

const round = (n: number): number => (Number.isFinite(n) ? Math.round(n * 10) / 10 : 0);

/** Opens an SSE response on a hijacked reply; returns a writer that reports a closed or stuck client. */
export function openEventStream(request: FastifyRequest, reply: FastifyReply): { send(event: string, data: unknown): boolean; comment(): void } {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  return {
    send(event, data) {
      if (res.destroyed || res.writableLength > MAX_BUFFERED_BYTES) {
        request.raw.destroy();
        return false;
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      return true;
    },
    comment() {
      if (!res.destroyed) res.write(': keep-alive\n\n');
    },
  };
}

export async function liveRoutes(api: FastifyInstance, opts: LiveRoutesOptions): Promise<void> {
  let live: LiveCalls | undefined;
  const delay = monitorEventLoopDelay({ resolution: 20 });
  let streams = 0;
  api.addHook('onClose', async () => {
    live?.close();
    delay.disable();
  });
  const liveCalls = (): LiveCalls => (live ??= new LiveCalls(opts.gateway().registry, api.log));
  // Calls are tracked from the start so a page opened mid-call sees its node and AMD verdict. Listen-in
  // needs nothing per call until someone listens: the call itself knows what its caller hears.
  api.addHook('onReady', async () => {
    liveCalls();
  });

  api.get(
    '/live/stream',
    {
      schema: {
        summary: 'Server-sent events: calls in progress (`snapshot`, `call`, `ended`), their events (`event`), and process `health`',
        tags: ['live'],
        description: 'An EventSource stream. Each connection starts with `event: snapshot` (calls in progress and health).',
      },
    },
    async (request, reply) => {
      const calls = liveCalls();
      const out = openEventStream(request, reply);
      if (streams++ === 0) delay.enable();
      out.send('snapshot', { calls: calls.snapshot(), health: health(opts.gateway(), delay) });
      const stop = calls.watch((m: LiveMessage) => {
        if (m.kind === 'call') out.send('call', m.call);
        else if (m.kind === 'event') out.send('event', { callId: m.callId, event: m.event });
        else out.send('ended', { callId: m.callId, reason: m.reason });
      });
      const healthTimer = setInterval(() => out.send('health', health(opts.gateway(), delay)), HEALTH_EVERY_MS);
      const keepAlive = setInterval(() => out.comment(), KEEPALIVE_EVERY_MS);
      reply.raw.once('close', () => {
        stop();
        clearInterval(healthTimer);
        clearInterval(keepAlive);
        if (--streams === 0) delay.disable();
      });
    },
  );

  api.get(
    '/live/calls/:id/audio',
    {
      config: { permission: 'recordings' },
      schema: {
        summary: "Listen in: a call's caller and gateway audio as it happens (8 kHz mu-law frames, see the README)",
        tags: ['live'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const session = opts.gateway().registry.get(request.params.id);
      if (session === undefined) throw createError('GW_ERR_CALL_NOT_LIVE', 'this call is not in progress on this instance', { statusCode: 404 });
      request.log.info({ callId: session.callId, actor: request.actor?.name }, 'listen-in started');
      streamListenIn(session, reply);
    },
  );
}
