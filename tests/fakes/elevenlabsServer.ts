// A fake ElevenLabs API on port 0, speaking the wire formats of @elevenlabs/elevenlabs-js 2.x and the
// documented stream-input websocket:
// - POST /v1/text-to-speech/{voice_id}/stream?output_format=ulaw_8000, header `xi-api-key`, JSON body
//   {text, model_id, voice_settings?} → raw 8 kHz mu-law bytes, chunked (a tone, 50 ms per character).
// - WS /v1/text-to-speech/{voice_id}/stream-input?model_id=…&output_format=ulaw_8000: first message
//   {"text":" ", "xi_api_key"?}, then {"text":"…", "flush"?}, then {"text":""} to end; the server answers
//   {"audio": base64, "alignment": …, "isFinal": null} per generated span and {"isFinal": true} last.
// Requests take the next scripted behaviour (latency, faults).
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeMulawSample } from '../../dsp/mulaw.ts';
import type { Fault } from './openaiServer.ts';

export interface ElevenLabsScript {
  latencyMs?: number;
  fault?: Fault;
}

export interface FakeElevenLabs {
  baseUrl: string;
  /** ws://127.0.0.1:port */
  wsBaseUrl: string;
  apiKey: string;
  stream: ElevenLabsScript[];
  streamInput: ElevenLabsScript[];
  streamRequests: { voiceId: string; outputFormat: string | null; body: { text: string; model_id?: string } }[];
  streamInputSessions: { voiceId: string; modelId: string | null; outputFormat: string | null; texts: string[] }[];
  close(): Promise<void>;
}

export const ELEVENLABS_MS_PER_CHAR = 50;

/** What the fake says for `text`: 8 kHz mu-law, a 300 Hz tone of 50 ms per character. */
export function fakeUlaw(text: string): Buffer {
  const n = Math.max(1, text.length * ELEVENLABS_MS_PER_CHAR * 8);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = encodeMulawSample(Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 8000)));
  return out;
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

export async function startFakeElevenLabs(opts: { apiKey?: string } = {}): Promise<FakeElevenLabs> {
  const apiKey = opts.apiKey ?? 'xi-fake-key';
  const fake: FakeElevenLabs = {
    baseUrl: '',
    wsBaseUrl: '',
    apiKey,
    stream: [],
    streamInput: [],
    streamRequests: [],
    streamInputSessions: [],
    close: async () => {},
  };

  async function streamTts(req: http.IncomingMessage, res: http.ServerResponse, voiceId: string, url: URL): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as FakeElevenLabs['streamRequests'][number]['body'];
    fake.streamRequests.push({ voiceId, outputFormat: url.searchParams.get('output_format'), body });
    const script = fake.stream.shift() ?? {};
    await sleep(script.latencyMs ?? 0);
    switch (script.fault) {
      case 'http500':
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: { status: 'internal_error', message: 'fake failure' } }));
        return;
      case 'http429':
        res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: { status: 'too_many_concurrent_requests' } }));
        return;
      case 'http400':
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: { status: 'invalid_request' } }));
        return;
      case 'hang':
        return;
      case 'drop':
        req.socket.destroy();
        return;
      default:
    }
    const audio = fakeUlaw(body.text);
    res.writeHead(200, { 'content-type': 'audio/basic' });
    for (let off = 0; off < audio.length; off += 1000) {
      if (script.fault === 'drop_mid_stream' && off > 0) {
        req.socket.destroy();
        return;
      }
      res.write(audio.subarray(off, off + 1000));
    }
    res.end();
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v1\/text-to-speech\/([^/]+)\/stream$/.exec(url.pathname);
    if (req.method !== 'POST' || !m) {
      res.writeHead(404).end();
      return;
    }
    if (req.headers['xi-api-key'] !== apiKey) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: { status: 'invalid_api_key', message: 'Invalid API key' } }));
      return;
    }
    streamTts(req, res, decodeURIComponent(m[1]!), url).catch(() => res.destroy());
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v1\/text-to-speech\/([^/]+)\/stream-input$/.exec(url.pathname);
    if (!m) {
      socket.destroy();
      return;
    }
    const script = fake.streamInput.shift() ?? {};
    if (script.fault === 'http500') {
      socket.end('HTTP/1.1 500 Internal Server Error\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = { voiceId: decodeURIComponent(m[1]!), modelId: url.searchParams.get('model_id'), outputFormat: url.searchParams.get('output_format'), texts: [] as string[] };
      fake.streamInputSessions.push(session);
      streamInputSession(ws, session, req.headers['xi-api-key'] === apiKey, script);
    });
  });

  function streamInputSession(ws: WebSocket, session: FakeElevenLabs['streamInputSessions'][number], headerAuth: boolean, script: ElevenLabsScript): void {
    let authed = headerAuth;
    let first = true;
    let pending = '';
    let chain = Promise.resolve();
    const generate = (text: string) => {
      chain = chain.then(async () => {
        await sleep(script.latencyMs ?? 0);
        if (ws.readyState !== ws.OPEN) return;
        if (script.fault === 'drop' || script.fault === 'drop_mid_stream') {
          ws.terminate();
          return;
        }
        const audio = fakeUlaw(text);
        ws.send(JSON.stringify({ audio: audio.toString('base64'), isFinal: null, normalizedAlignment: null, alignment: { chars: [...text], charStartTimesMs: [...text].map((_, i) => i * ELEVENLABS_MS_PER_CHAR), charDurationsMs: [...text].map(() => ELEVENLABS_MS_PER_CHAR) } }));
      });
    };
    ws.on('message', (data) => {
      const msg = JSON.parse((data as Buffer).toString("utf8")) as { text?: string; flush?: boolean; xi_api_key?: string };
      if (first) {
        first = false;
        if (msg.xi_api_key === apiKey) authed = true;
        if (!authed) {
          ws.close(1008, 'invalid_api_key');
          return;
        }
        if (msg.text !== ' ') ws.close(1008, 'first message must be {"text":" "}');
        return;
      }
      if (typeof msg.text !== 'string') return;
      if (msg.text === '') {
        if (pending.trim()) generate(pending);
        pending = '';
        chain = chain.then(() => {
          if (ws.readyState === ws.OPEN) {
            ws.send(JSON.stringify({ isFinal: true }));
            ws.close(1000);
          }
        });
        return;
      }
      session.texts.push(msg.text);
      pending += msg.text;
      // Generate at sentence ends or on flush, as the real service's chunk schedule roughly does.
      if (msg.flush || /[.!?]\s*$/.test(pending)) {
        generate(pending);
        pending = '';
      }
    });
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  fake.baseUrl = `http://127.0.0.1:${port}`;
  fake.wsBaseUrl = `ws://127.0.0.1:${port}`;
  fake.close = async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return fake;
}
