// WS /media/{carrier}: the bidirectional media stream. Authentication happens before any audio is
// processed: SignalWire's upgrade carries our token as a Bearer header, Twilio's may carry a signature
// (checked when present), and every stream's `start` must carry the per-call token we issued in the
// TwiML. Malformed or unknown messages are counted and ignored; nothing here throws into the socket.
import type {} from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { ByteBudget } from '../call/byteBudget.ts';
import { CallSession, type CarrierActions, type Timeline } from '../call/CallSession.ts';
import type { Carrier } from '../call/events.ts';
import { MediaWatchdog } from '../call/mediaWatchdog.ts';
import { DualChannelRecorder } from '../call/recorder.ts';
import { claimsFromParameters, publicParameters, tokenExpiry, verifyStreamToken, type StreamClaims } from '../call/streamToken.ts';
import type { Config } from '../config.ts';
import { gatewaySerializerFor, isCarrier } from '../telephony/serializers.ts';
import { MediaScanner } from '../telephony/mediaScan.ts';
import type { InboundEvent } from '../telephony/types.ts';
import { verifySignedUpgrade } from './carrierAuth.ts';
import { clientKey } from './clientKey.ts';
import { PendingStreams } from './pendingStreams.ts';
import type { CallRegistry } from './registry.ts';
import { carrierCallKey, type StreamTokenLedger } from './streamTokenLedger.ts';
import { base64Of } from '../call/encodedAudio.ts';
import { createError, errorBody } from '../errors.ts';

export interface MediaStreamDeps {
  config: Config;
  registry: CallRegistry;
  timeline: Timeline;
  streamTokenSecret: string;
  /** Single use of tokens, and calls that have ended (see streamTokenLedger.ts). */
  ledger: StreamTokenLedger;
  /** REST actions on a call (hang up, transfer), when the carrier's credentials are configured. */
  carrierActions: (carrier: Carrier, carrierCallId: string) => CarrierActions | undefined;
  /** Called once the session exists: attach detectors, start the flow. Must not throw. */
  onCallStarted: (session: CallSession, claims: Omit<StreamClaims, 'expiresAt'>) => void;
  /** Called once when the session ends (persist the end, save the recording). */
  onCallEnded: (session: CallSession, reason: string, recorder: DualChannelRecorder | undefined) => void;
  /** An idle recorder for a new call (the app starts it if the call is to be recorded). */
  createRecorder?: (callId: string) => DualChannelRecorder | undefined;
}

/** Per-process counters of what streams sent us that we could not use. */
export interface StreamCounters {
  invalidMessages: number;
  unknownEvents: number;
  mediaBeforeStart: number;
  rejectedStreams: number;
}

const START_TIMEOUT_MS = 10_000;
/** Largest message before authentication: a `start` with our parameters is a few KB. */
const PRE_AUTH_MAX_BYTES = 16 * 1024;
/** Inbound media all calls of the process may hold while their flows get ready (each call: 1 MiB). */
const MAX_HELD_MEDIA_BYTES = 64 * 1024 * 1024;
// RFC 6455 close codes: 1008 policy violation (auth), 1003 unsupported data, 1009 too big, 1013 try again later.
const CLOSE_UNAUTHORIZED = 1008;
const CLOSE_TOO_BIG = 1009;
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_TRY_LATER = 1013;

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
}

export async function mediaStreams(app: FastifyInstance, deps: MediaStreamDeps & { counters: StreamCounters }): Promise<void> {
  const { config, registry, counters } = deps;
  const pending = new PendingStreams(config.maxPendingStreams, config.maxPendingStreamsPerAddress);
  const heldMediaBudget = new ByteBudget(MAX_HELD_MEDIA_BYTES);
  // One wall-clock timer for every call's media watchdog (see mediaWatchdog.ts).
  const mediaWatchdog = config.mediaTimeoutMs > 0 ? new MediaWatchdog(Math.min(1000, config.mediaTimeoutMs)) : undefined;

  app.get(
    '/media/:carrier',
    {
      websocket: true,
      schema: { hide: true },
      preValidation: async (request, reply) => {
        const carrier = (request.params as { carrier: string }).carrier;
        if (!isCarrier(carrier)) return reply.code(404).send(errorBody(createError('GW_ERR_UNKNOWN_CARRIER', 'carrier must be twilio or signalwire', { statusCode: 404 })));
        // Twilio signs its upgrades: with its credentials configured, an unsigned or forged one is refused.
        if (carrier === 'twilio' && config.carriers.twilio && !verifySignedUpgrade(config, carrier, request)) {
          counters.rejectedStreams++;
          request.log.warn({ carrier, ip: request.ip }, 'rejected media stream: missing or forged upgrade signature');
          return reply.code(403).send(errorBody(createError('GW_ERR_FORBIDDEN', 'invalid signature', { statusCode: 403 })));
        }
        if (registry.draining) return reply.code(503).send(errorBody(createError('GW_ERR_DRAINING', 'gateway is shutting down', { statusCode: 503 })));
        if (!pending.wouldAccept(clientKey(request.ip))) {
          counters.rejectedStreams++;
          request.log.warn({ carrier, ip: request.ip, pending: pending.size }, 'refusing media stream: too many unauthenticated streams');
          return reply.code(503).header('retry-after', 1).send(errorBody(createError('GW_ERR_STREAMS_PENDING', 'too many media streams waiting to start; retry shortly', { statusCode: 503 })));
        }
        return undefined;
      },
    },
    (socket: WebSocket, request) => {
      const carrier = (request.params as { carrier: Carrier }).carrier;
      const serializer = gatewaySerializerFor(carrier);
      // Media messages are read straight from the bytes into this stream's buffer; the rest in full.
      const scanner = new MediaScanner();
      const upgradeBearer = bearer(request);
      const log = request.log;
      let session: CallSession | undefined;
      let recorder: DualChannelRecorder | undefined;
      let closed = false;
      // Held until the stream authenticates or closes (checked before the upgrade; taken here).
      const releasePending = pending.tryAcquire(clientKey(request.ip));

      const close = (code: number, reason: string): void => {
        if (closed) return;
        closed = true;
        clearTimeout(startTimer);
        releasePending?.();
        socket.close(code, reason.slice(0, 120));
      };
      const startTimer = setTimeout(() => {
        if (session === undefined) {
          log.warn({ carrier }, 'media stream sent no start in time; closing');
          close(CLOSE_UNAUTHORIZED, 'no start');
        }
      }, START_TIMEOUT_MS);
      startTimer.unref();
      if (releasePending === undefined) close(CLOSE_TRY_LATER, 'too many pending streams');

      const onStart = (ev: Extract<InboundEvent, { type: 'start' }>): void => {
        if (session !== undefined) return;
        const fromParams = claimsFromParameters(ev.customParameters);
        // The token binds the carrier (this endpoint's) and the carrier's call id (the one `start` names).
        const claims = fromParams === undefined ? undefined : { ...fromParams, carrier, carrierCallId: ev.carrierCallId };
        const token = ev.customParameters.token ?? upgradeBearer;
        // SignalWire's Bearer header and the start's token are the same token; if both came, both must match.
        const bearerOk = upgradeBearer === undefined || (claims !== undefined && verifyStreamToken(deps.streamTokenSecret, upgradeBearer, claims));
        if (claims === undefined || token === undefined || !bearerOk || !verifyStreamToken(deps.streamTokenSecret, token, claims)) {
          counters.rejectedStreams++;
          log.warn({ carrier, streamId: ev.streamId }, 'rejected media stream: missing or invalid stream token');
          close(CLOSE_UNAUTHORIZED, 'invalid stream token');
          return;
        }
        if (deps.ledger.refuseEnded(claims.callId) || !deps.ledger.consume(token, tokenExpiry(token) ?? 0)) {
          counters.rejectedStreams++;
          log.warn({ carrier, callId: claims.callId, streamId: ev.streamId }, 'rejected media stream: its token was used before or its call has ended');
          close(CLOSE_UNAUTHORIZED, 'stream token already used');
          return;
        }
        // The dialect's parser checked the media format (telephony/parse.ts): it is one we take.
        const fmt = ev.mediaFormat;
        const encoding = fmt.encoding === 'audio/x-mulaw' ? 'mulaw' : 'l16';
        if (registry.get(claims.callId)) {
          counters.rejectedStreams++;
          close(CLOSE_UNAUTHORIZED, 'call already has a stream');
          return;
        }
        // Refuse before anything of the call exists (a session starts its watchdog when built).
        if (registry.admission() !== 'ok') {
          counters.rejectedStreams++;
          log.warn({ carrier, active: registry.size }, 'refusing media stream: at capacity or draining');
          close(CLOSE_TRY_LATER, 'at capacity');
          return;
        }
        recorder = deps.createRecorder?.(claims.callId);
        const streamId = ev.streamId;
        const dtmf = serializer.dtmf;
        const s = new CallSession({
          callId: claims.callId,
          carrier,
          direction: claims.direction,
          from: claims.from,
          to: claims.to,
          streamId,
          carrierCallId: ev.carrierCallId,
          parameters: publicParameters(ev.customParameters),
          input: { encoding, sampleRateHz: fmt.sampleRateHz },
          sink: {
            sendMedia: (mulaw) => socket.send(serializer.media(streamId, base64Of(mulaw))),
            sendMark: (name) => socket.send(serializer.mark(streamId, name)),
            sendClear: () => socket.send(serializer.clear(streamId)),
            sendDtmf: dtmf ? (digit) => socket.send(dtmf(streamId, digit)) : undefined,
            close: (code, reason) => close(code, reason),
          },
          timeline: deps.timeline,
          // Every line the call logs carries its id.
          log: log.child({ callId: claims.callId }),
          carrierActions: deps.carrierActions(carrier, ev.carrierCallId),
          recorder,
          mediaTimeoutMs: config.mediaTimeoutMs,
          ...(mediaWatchdog !== undefined ? { mediaWatchdog } : {}),
          heldMediaBudget,
          onEnded: (ended, reason) => {
            deps.ledger.markEnded(ended.callId, carrierCallKey(carrier, ended.carrierCallId));
            registry.remove(ended);
            deps.onCallEnded(ended, reason, recorder);
          },
        });
        registry.add(s); // admitted above, in the same tick
        session = s;
        clearTimeout(startTimer);
        releasePending?.();
        s.emit({ type: 'call.started', atMs: 0, carrier, streamId, carrierCallId: ev.carrierCallId, mediaFormat: `${fmt.encoding}@${fmt.sampleRateHz}` });
        deps.onCallStarted(s, claims);
      };

      /** Before authentication only `connected` and a small `start` are accepted; anything else closes. */
      const onUnauthenticated = (data: Buffer, isBinary: boolean): void => {
        if (isBinary || data.length > PRE_AUTH_MAX_BYTES) {
          counters.rejectedStreams++;
          close(isBinary ? CLOSE_UNAUTHORIZED : CLOSE_TOO_BIG, 'start expected');
          return;
        }
        const ev = serializer.parse(data.toString('utf8'));
        if (ev.type === 'connected') return;
        if (ev.type === 'start') return onStart(ev);
        if (ev.type === 'invalid' && ev.unsupportedMediaFormat) {
          counters.rejectedStreams++;
          log.warn({ carrier, reason: ev.reason }, 'rejected media stream: unsupported media format');
          close(CLOSE_UNSUPPORTED, 'unsupported media format');
          return;
        }
        if (ev.type === 'media') counters.mediaBeforeStart++;
        counters.rejectedStreams++;
        log.warn({ carrier, event: ev.type }, 'rejected media stream: a message other than start before authentication');
        close(CLOSE_UNAUTHORIZED, 'start expected');
      };

      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (closed) return;
        if (session === undefined) return onUnauthenticated(data, isBinary);
        if (isBinary) {
          counters.invalidMessages++;
          return;
        }
        const media = scanner.scan(data);
        if (media !== undefined) {
          session.receiveMedia(media.payload);
          return;
        }
        const ev = serializer.parse(data.toString('utf8'));
        switch (ev.type) {
          case 'media':
            if (session) session.receiveMedia(ev.payload);
            else counters.mediaBeforeStart++;
            return;
          case 'mark':
            session?.receiveMark(ev.name);
            return;
          case 'dtmf':
            session?.receiveDtmf(ev.digit, ev.durationMs);
            return;
          case 'start':
            onStart(ev);
            return;
          case 'stop':
            session?.end('stream_stopped');
            close(1000, 'stopped');
            return;
          case 'connected':
            return;
          case 'unknown':
            counters.unknownEvents++;
            log.debug({ carrier, event: ev.event }, 'ignored unknown stream event');
            return;
          case 'invalid':
            counters.invalidMessages++;
            log.debug({ carrier, reason: ev.reason }, 'ignored malformed stream message');
            return;
        }
      });
      socket.on('close', () => {
        closed = true;
        clearTimeout(startTimer);
        releasePending?.();
        session?.end('stream_closed');
      });
      socket.on('error', (err) => log.warn({ err, carrier }, 'media stream socket error'));
    },
  );
}
