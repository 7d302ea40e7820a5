// The floor of the media path: a bare `ws` server that does only what any media-stream server must —
// receive the message, parse its JSON, decode the base64 payload and the mu-law samples — and nothing
// else. The gateway's CPU per inbound message is divided by this one's, measured in the same run.
// Left idle, it is also the floor of event-loop delay on a shared machine: what a process that does
// nothing sees of the scheduler at the same moment the gateway is measured (`loop` request).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer, type RawData } from 'ws';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import { decodeMulawInto } from '../../dsp/mulaw.ts';
import { serveParent } from './children.ts';
import { observeGc } from './gcStats.ts';
import { threadCpuUs } from './threadCpu.ts';

const gcStats = observeGc();

interface MediaMessage {
  event?: string;
  media?: { payload?: string };
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
const pcm = new Int16Array(FRAME_SAMPLES);
let mediaMessages = 0;
let samples = 0;
// Same resolution as the gateway's /v1/metrics histogram, so the two are comparable.
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();

server.on('connection', (socket) => {
  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) return;
    const msg = JSON.parse((data as Buffer).toString('utf8')) as MediaMessage;
    if (msg.event === 'media' && typeof msg.media?.payload === 'string') {
      samples += decodeMulawInto(Buffer.from(msg.media.payload, 'base64'), pcm);
      mediaMessages++;
    }
  });
});

server.on('listening', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  serveParent(
    {
      media: () => ({ mediaMessages }),
      stats: () => {
        const cpu = process.cpuUsage();
        const thread = process.threadCpuUsage();
        return { cpuUs: cpu.user + cpu.system, mainThreadCpuUs: thread.user + thread.system, threads: threadCpuUs(), gc: structuredClone(gcStats), mediaMessages, samples };
      },
      loop: (m) => {
        const ms = (ns: number) => ns / 1e6;
        const body = { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) };
        if (m.reset === true) loop.reset();
        return body;
      },
    },
    () => new Promise<void>((resolve) => server.close(() => resolve())),
  );
  process.send?.({ type: 'ready', port });
});
