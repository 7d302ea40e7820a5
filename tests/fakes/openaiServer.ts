// A fake OpenAI API on port 0 that speaks the real wire formats the `openai` SDK (7.x) uses:
// - POST /v1/chat/completions with stream:true → SSE `data: <chat.completion.chunk>` … `data: [DONE]`,
//   text deltas and tool-call deltas (id/name first, then the arguments in pieces, finish_reason
//   `tool_calls`), as in the SDK's ChatCompletionChunk type.
// - POST /v1/audio/speech with response_format pcm → raw 24 kHz s16le mono (a tone, 50 ms per character).
// - GET /v1/realtime?intent=transcription (websocket, over TLS: the SDK always dials wss) → session.update
//   in, input_audio_buffer.append in; speech_started/stopped and transcription delta/completed out, as
//   scripted against the amount of audio received.
// Each request takes the next scripted behaviour (latency, faults: 500, 400, timeout, dropped socket).
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const CERT_DIR = new URL('./certs/', import.meta.url);
export const TEST_CA = readFileSync(new URL('cert.pem', CERT_DIR));
const TEST_KEY = readFileSync(new URL('key.pem', CERT_DIR));

export type Fault = 'http500' | 'http400' | 'http429' | 'hang' | 'drop' | 'drop_mid_stream';

export interface ChatScript {
  /** Content deltas, streamed in order. */
  text?: string[];
  toolCalls?: { id?: string; name: string; arguments: string }[];
  /** Before the response headers. */
  latencyMs?: number;
  /** Between chunks. */
  chunkDelayMs?: number;
  fault?: Fault;
}

export interface SpeechScript {
  latencyMs?: number;
  fault?: Fault;
}

export type RealtimeStep =
  | { atAudioMs: number; type: 'speech_started' | 'speech_stopped' }
  | { atAudioMs: number; type: 'delta'; text: string }
  | { atAudioMs: number; type: 'completed'; text: string }
  /** Close the socket abruptly (no close frame): a dropped connection. */
  | { atAudioMs: number; type: 'drop' }
  /** A server `error` event (the realtime API's shape: {type:'error', error:{type, code, message}}). */
  | { atAudioMs: number; type: 'error'; code: string; message: string };

export interface RecordedChat {
  body: {
    model: string;
    stream?: boolean;
    messages: { role: string; content?: string | null; tool_call_id?: string; tool_calls?: unknown[] }[];
    tools?: { type: string; function: { name: string } }[];
  };
}

export interface RealtimeConnection {
  sessionUpdate?: Record<string, unknown>;
  audioBytes: number;
  authorization?: string;
  url: string;
}

export interface FakeOpenAi {
  /** http://127.0.0.1:port/v1 for chat and speech. */
  baseURL: string;
  /** https://127.0.0.1:port/v1: same API over TLS (realtime needs it). */
  tlsBaseURL: string;
  apiKey: string;
  chat: ChatScript[];
  speech: SpeechScript[];
  /** One script per realtime connection, in connection order; the last one repeats. */
  realtime: RealtimeStep[][];
  chatRequests: RecordedChat[];
  speechRequests: { input: string; voice: string; model: string; response_format?: string }[];
  realtimeConnections: RealtimeConnection[];
  close(): Promise<void>;
}

const SPEECH_RATE_HZ = 24_000;
const SPEECH_MS_PER_CHAR = 50;

function tonePcm24k(chars: number): Buffer {
  const samples = Math.max(1, Math.round((chars * SPEECH_MS_PER_CHAR * SPEECH_RATE_HZ) / 1000));
  const buf = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / SPEECH_RATE_HZ)), i * 2);
  return buf;
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
}

/** Applies a fault; returns true when the request has been answered (or abandoned). */
function applyFault(fault: Fault | undefined, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  switch (fault) {
    case 'http500':
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'fake server error', type: 'server_error' } }));
      return true;
    case 'http429':
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '10' }).end(JSON.stringify({ error: { message: 'rate limited', type: 'rate_limit' } }));
      return true;
    case 'http400':
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'bad request', type: 'invalid_request_error' } }));
      return true;
    case 'hang':
      // Never answer; the client's timeout must fire. The socket is destroyed on close().
      return true;
    case 'drop':
      req.socket.destroy();
      return true;
    default:
      return false;
  }
}

export async function startFakeOpenAi(opts: { apiKey?: string } = {}): Promise<FakeOpenAi> {
  const apiKey = opts.apiKey ?? 'sk-fake-openai';
  const fake: FakeOpenAi = {
    baseURL: '',
    tlsBaseURL: '',
    apiKey,
    chat: [],
    speech: [],
    realtime: [],
    chatRequests: [],
    speechRequests: [],
    realtimeConnections: [],
    close: async () => {},
  };

  async function chatCompletions(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = (await readJson(req)) as unknown as RecordedChat['body'];
    fake.chatRequests.push({ body });
    const script: ChatScript = fake.chat.shift() ?? { text: ['OK.'] };
    await sleep(script.latencyMs ?? 0);
    if (applyFault(script.fault, req, res)) return;
    const id = `chatcmpl-${fake.chatRequests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(chunk({ role: 'assistant', content: '' }, null));
    const texts = script.text ?? [];
    for (let i = 0; i < texts.length; i++) {
      await sleep(script.chunkDelayMs ?? 0);
      if (script.fault === 'drop_mid_stream' && i === Math.floor(texts.length / 2)) {
        req.socket.destroy();
        return;
      }
      res.write(chunk({ content: texts[i] }, null));
    }
    const calls = script.toolCalls ?? [];
    for (let index = 0; index < calls.length; index++) {
      const call = calls[index]!;
      await sleep(script.chunkDelayMs ?? 0);
      res.write(chunk({ tool_calls: [{ index, id: call.id ?? `call_${index + 1}`, type: 'function', function: { name: call.name, arguments: '' } }] }, null));
      // Arguments arrive in pieces, as the real API streams them.
      for (let p = 0; p < call.arguments.length; p += 7) {
        res.write(chunk({ tool_calls: [{ index, function: { arguments: call.arguments.slice(p, p + 7) } }] }, null));
      }
    }
    res.write(chunk({}, calls.length > 0 ? 'tool_calls' : 'stop'));
    res.end('data: [DONE]\n\n');
  }

  async function audioSpeech(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = (await readJson(req)) as unknown as FakeOpenAi['speechRequests'][number];
    fake.speechRequests.push(body);
    const script = fake.speech.shift() ?? {};
    await sleep(script.latencyMs ?? 0);
    if (applyFault(script.fault, req, res)) return;
    const pcm = tonePcm24k(body.input.length);
    res.writeHead(200, { 'content-type': 'audio/pcm' });
    // Stream in odd-sized pieces so sample pairs straddle chunk boundaries, as real TCP delivery does.
    for (let off = 0; off < pcm.length; off += 4801) {
      if (script.fault === 'drop_mid_stream' && off > 0) {
        req.socket.destroy();
        return;
      }
      res.write(pcm.subarray(off, off + 4801));
    }
    res.end();
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }));
      return;
    }
    const route =
      req.method === 'POST' && url.pathname === '/v1/chat/completions'
        ? chatCompletions
        : req.method === 'POST' && url.pathname === '/v1/audio/speech'
          ? audioSpeech
          : undefined;
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    route(req, res).catch(() => res.destroy());
  };

  const httpServer = http.createServer(handler);
  const httpsServer = https.createServer({ key: TEST_KEY, cert: TEST_CA }, handler);
  const wss = new WebSocketServer({ noServer: true });
  httpsServer.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'https://x');
    if (url.pathname !== '/v1/realtime' || url.searchParams.get('intent') !== 'transcription') {
      socket.destroy();
      return;
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => realtimeSession(ws, req));
  });

  function realtimeSession(ws: WebSocket, req: http.IncomingMessage): void {
    const conn: RealtimeConnection = { audioBytes: 0, url: req.url ?? '' };
    if (req.headers.authorization !== undefined) conn.authorization = req.headers.authorization;
    const index = fake.realtimeConnections.length;
    fake.realtimeConnections.push(conn);
    const steps = [...(fake.realtime[Math.min(index, fake.realtime.length - 1)] ?? [])];
    let eventN = 0;
    let itemN = 0;
    const send = (event: Record<string, unknown>) => ws.send(JSON.stringify({ event_id: `event_${++eventN}`, ...event }));
    send({ type: 'session.created', session: { type: 'transcription', id: `sess_${index}` } });
    ws.on('message', (data) => {
      const msg = JSON.parse((data as Buffer).toString("utf8")) as { type: string; audio?: string; session?: Record<string, unknown> };
      if (msg.type === 'session.update') {
        if (msg.session) conn.sessionUpdate = msg.session;
        send({ type: 'session.updated', session: msg.session });
        return;
      }
      if (msg.type !== 'input_audio_buffer.append' || typeof msg.audio !== 'string') return;
      conn.audioBytes += Buffer.from(msg.audio, 'base64').length;
      const audioMs = conn.audioBytes / 8; // audio/pcmu: 8000 bytes per second
      while (steps.length > 0 && steps[0]!.atAudioMs <= audioMs) {
        const step = steps.shift()!;
        const itemId = `item_${itemN}`;
        switch (step.type) {
          case 'speech_started':
            send({ type: 'input_audio_buffer.speech_started', audio_start_ms: step.atAudioMs, item_id: itemId });
            break;
          case 'speech_stopped':
            send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: step.atAudioMs, item_id: itemId });
            send({ type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id: null });
            break;
          case 'delta':
            send({ type: 'conversation.item.input_audio_transcription.delta', item_id: itemId, content_index: 0, delta: step.text });
            break;
          case 'completed':
            send({ type: 'conversation.item.input_audio_transcription.completed', item_id: itemId, content_index: 0, transcript: step.text, usage: { type: 'duration', seconds: 1 } });
            itemN++;
            break;
          case 'error':
            send({ type: 'error', error: { type: 'invalid_request_error', code: step.code, message: step.message, param: null, event_id: null } });
            break;
          case 'drop':
            ws.terminate();
            return;
        }
      }
    });
  }

  httpServer.listen(0, '127.0.0.1');
  httpsServer.listen(0, '127.0.0.1');
  await Promise.all([once(httpServer, 'listening'), once(httpsServer, 'listening')]);
  fake.baseURL = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/v1`;
  fake.tlsBaseURL = `https://127.0.0.1:${(httpsServer.address() as AddressInfo).port}/v1`;
  fake.close = async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    httpServer.closeAllConnections();
    httpsServer.closeAllConnections();
    await Promise.all([new Promise((r) => httpServer.close(r)), new Promise((r) => httpsServer.close(r))]);
  };
  return fake;
}
