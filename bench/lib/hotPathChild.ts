// One side of bench/hotPath.ts: a websocket server that does, per inbound media message, what a gateway
// worker does on a listening call (`HOT_PATH=gateway`: the media scanner, the call session, VAD and
// in-band DTMF, as a gather runs them; `HOT_PATH=session`: the same without detectors) or what the bare floor does (`HOT_PATH=bare`: toString,
// JSON.parse, base64, mu-law) — behind plain `ws` or behind Fastify's websocket route as the gateway
// registers it (`HOT_PATH_SERVER=fastify`). It reports its CPU, messages and GC pauses between marks.
import { PerformanceObserver } from 'node:perf_hooks';
import fastifyWebsocket from '@fastify/websocket';
import Fastify from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import { decodeMulawInto } from '../../dsp/mulaw.ts';
import { attachDetectors, defaultDetectorOptions } from '../../src/call/detectors.ts';
import { MediaScanner } from '../../src/telephony/mediaScan.ts';
import { serveParent } from './children.ts';
import { benchSession } from './mediaMicro.ts';

const pcm = new Int16Array(FRAME_SAMPLES);
let messages = 0;
let gcMs = 0;
let gcs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    gcs++;
  }
}).observe({ entryTypes: ['gc'] });

function gatewayPath(socket: WebSocket, detectors = true): void {
  const scanner = new MediaScanner();
  const call = benchSession('inbound', 30_000);
  if (detectors) {
    attachDetectors(call, defaultDetectorOptions('inbound'));
    call.listenFor('keys');
  }
  socket.on('message', (data: Buffer) => {
    const media = scanner.scan(data);
    if (media === undefined) return;
    call.receiveMedia(media.payload);
    messages++;
  });
  socket.on('close', () => call.end('stream_closed'));
}

function barePath(socket: WebSocket): void {
  socket.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString('utf8')) as { event?: string; media?: { payload?: string } };
    if (msg.event !== 'media' || typeof msg.media?.payload !== 'string') return;
    decodeMulawInto(Buffer.from(msg.media.payload, 'base64'), pcm);
    messages++;
  });
}

const paths: Record<string, (socket: WebSocket) => void> = { gateway: (s) => gatewayPath(s), session: (s) => gatewayPath(s, false), bare: barePath };
const onConnection = paths[process.env.HOT_PATH ?? 'gateway'];
if (onConnection === undefined) throw new Error(`HOT_PATH must be one of ${Object.keys(paths).join(', ')}`);
let close: () => Promise<void>;
let port: number;
if (process.env.HOT_PATH_SERVER === 'fastify') {
  const app = Fastify();
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  app.get('/', { websocket: true }, (socket) => onConnection(socket));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
  close = () => app.close();
} else {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', onConnection);
  await new Promise((resolve) => wss.once('listening', resolve));
  port = (wss.address() as { port: number }).port;
  close = () => new Promise((resolve) => wss.close(() => resolve()));
}

let at = { cpu: process.cpuUsage(), messages: 0, gcMs: 0, gcs: 0 };
serveParent(
  {
    mark: () => {
      at = { cpu: process.cpuUsage(), messages, gcMs, gcs };
      return {};
    },
    stats: () => {
      const cpu = process.cpuUsage(at.cpu);
      const n = messages - at.messages;
      return { usPerMessage: (cpu.user + cpu.system) / Math.max(1, n), messages: n, gcShare: (gcMs - at.gcMs) / ((cpu.user + cpu.system) / 1000), scavenges: gcs - at.gcs, rssMb: Math.round(process.memoryUsage().rss / 1048576) };
    },
  },
  close,
);
process.send?.({ type: 'ready', port });
