// A small stand-in for the gateway, speaking the contract the replay client must meet: POST /voice/{carrier}
// answers <Connect><Stream url="wss://PUBLIC/media/{carrier}"> with Parameters callId and token (and
// authBearerToken on SignalWire); the websocket at /media/{carrier} is scripted by the test.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { gatewaySerializerFor } from '../../src/telephony/serializers.ts';
import { connectStreamTwiml } from '../../src/telephony/twiml.ts';
import type { Carrier, GatewaySerializer, InboundEvent } from '../../src/telephony/types.ts';

export const PUBLIC_ORIGIN = 'https://public.example.com';

export interface ReceivedEvent {
  event: InboundEvent;
  /** The gateway's media clock when it arrived: inbound audio received so far, in ms. */
  mediaMs: number;
  wallMs: number;
  raw: string;
}

export class FakeStream {
  readonly carrier: Carrier;
  readonly headers: IncomingHttpHeaders;
  readonly path: string;
  readonly events: ReceivedEvent[] = [];
  readonly serializer: GatewaySerializer;
  streamId = '';
  private readonly ws: WebSocket;
  private samples = 0;
  /** performance.now() when the socket opened; `wallMs` of events count from here. */
  readonly t0 = performance.now();
  private bytesPerMs = 8;
  private readonly listeners: Array<(e: ReceivedEvent) => void> = [];
  readonly closed: Promise<void>;

  constructor(carrier: Carrier, ws: WebSocket, headers: IncomingHttpHeaders, path: string) {
    this.carrier = carrier;
    this.ws = ws;
    this.headers = headers;
    this.path = path;
    this.serializer = gatewaySerializerFor(carrier);
    this.closed = new Promise((resolve) => ws.on('close', () => resolve()));
    ws.on('message', (data) => {
      const raw = (data as Buffer).toString('utf-8');
      const event = this.serializer.parse(raw);
      if (event.type === 'start') {
        this.streamId = event.streamId;
        this.bytesPerMs = event.mediaFormat.encoding === 'audio/x-L16' ? (event.mediaFormat.sampleRateHz / 1000) * 2 : 8;
      }
      if (event.type === 'media') this.samples += event.payload.length;
      const rec = { event, mediaMs: this.samples / this.bytesPerMs, wallMs: performance.now() - this.t0, raw };
      this.events.push(rec);
      for (const l of [...this.listeners]) l(rec);
    });
  }

  mediaMs(): number {
    return this.samples / this.bytesPerMs;
  }

  /** Resolves with the first event (already received or future) matching `pred`. */
  waitFor(pred: (e: ReceivedEvent) => boolean): Promise<ReceivedEvent> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const l = (e: ReceivedEvent) => {
        if (pred(e)) {
          this.listeners.splice(this.listeners.indexOf(l), 1);
          resolve(e);
        }
      };
      this.listeners.push(l);
    });
  }

  /** Resolves when the gateway's media clock reaches `ms`. */
  atMedia(ms: number): Promise<ReceivedEvent> {
    return this.waitFor((e) => e.mediaMs >= ms);
  }

  sendAudio(bytes: Uint8Array, chunkBytes = 160): void {
    for (let i = 0; i < bytes.length; i += chunkBytes) {
      this.ws.send(this.serializer.media(this.streamId, Buffer.from(bytes.subarray(i, i + chunkBytes)).toString('base64')));
    }
  }

  sendMark(name: string): void {
    this.ws.send(this.serializer.mark(this.streamId, name));
  }

  sendClear(): void {
    this.ws.send(this.serializer.clear(this.streamId));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  close(code = 1000, reason = 'call ended'): void {
    this.ws.close(code, reason);
  }

  of<T extends InboundEvent['type']>(type: T): Array<ReceivedEvent & { event: Extract<InboundEvent, { type: T }> }> {
    return this.events.filter((e) => e.event.type === type) as Array<ReceivedEvent & { event: Extract<InboundEvent, { type: T }> }>;
  }
}

export interface WebhookHit {
  carrier: string;
  url: string;
  headers: IncomingHttpHeaders;
  params: Record<string, string>;
}

export interface FakeGateway {
  /** ws://127.0.0.1:PORT */
  url: string;
  httpUrl: string;
  webhooks: WebhookHit[];
  /** Resolves with the next stream that connects. */
  nextStream(): Promise<FakeStream>;
  close(): Promise<void>;
}

export interface FakeGatewayOptions {
  callId?: string;
  token?: string;
  /** Custom TwiML answer (e.g. a refusal); default the connect-stream response. */
  twiml?: (carrier: Carrier) => string;
  codec?: 'L16@16000h' | 'L16@24000h';
  webhookStatus?: number;
  onStream?: (stream: FakeStream) => void;
}

export async function startFakeGateway(opts: FakeGatewayOptions = {}): Promise<FakeGateway> {
  const webhooks: WebhookHit[] = [];
  const waiting: Array<(s: FakeStream) => void> = [];
  const ready: FakeStream[] = [];
  const callId = opts.callId ?? 'call-123';
  const token = opts.token ?? 'tok.en-456';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/voice\/(twilio|signalwire)(\?.*)?$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        res.writeHead(404).end();
        return;
      }
      const carrier = m[1] as Carrier;
      webhooks.push({ carrier, url: req.url ?? '', headers: req.headers, params: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf-8'))) });
      if (opts.webhookStatus) {
        res.writeHead(opts.webhookStatus, { 'content-type': 'application/json' }).end('{"code":"GW_ERR_X","message":"nope"}');
        return;
      }
      const xml =
        opts.twiml?.(carrier) ??
        connectStreamTwiml({
          carrier,
          url: `${PUBLIC_ORIGIN.replace('https', 'wss')}/media/${carrier}`,
          parameters: { callId, token },
          authBearerToken: token,
          codec: opts.codec,
        });
      res.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const m = /^\/media\/(twilio|signalwire)$/.exec(req.url ?? '');
    if (!m) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = new FakeStream(m[1] as Carrier, ws, req.headers, req.url ?? '');
      opts.onStream?.(stream);
      const w = waiting.shift();
      if (w) w(stream);
      else ready.push(stream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    webhooks,
    nextStream: () => {
      const s = ready.shift();
      return s ? Promise.resolve(s) : new Promise((resolve) => waiting.push(resolve));
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A tone as 8 kHz PCM (the caller's "speech"). */
export function tone(ms: number, hz = 440, sampleRateHz = 8000, amplitude = 8000): { sampleRateHz: number; samples: Int16Array } {
  const n = Math.round((ms * sampleRateHz) / 1000);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRateHz));
  return { sampleRateHz, samples };
}
