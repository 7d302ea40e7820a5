// ElevenLabs' `stream-input` websocket, for text that arrives token by token (the SDK has no client for
// it, so it is written with `ws`). Protocol (ElevenLabs API reference, "WebSocket" / stream-input):
// open wss://…/v1/text-to-speech/{voice}/stream-input?model_id=…&output_format=ulaw_8000, send
// {"text":" "} first, then {"text":"… "} pieces (with "flush": true to force generation of what is
// buffered), then {"text":""} to finish; the server sends {"audio": base64, "alignment": …} and finally
// {"isFinal": true}. Audio is 8 kHz mu-law, passed through untouched.
import WebSocket from 'ws';
import { createError } from '../../errors.ts';
import { AsyncQueue } from '../asyncQueue.ts';
import type { AlignedAudio, StreamingTextToSpeech, TextStreamSession, TextToSpeech } from '../providers.ts';
import type { CircuitBreaker } from '../../resilience/policy.ts';
import { toProviderError } from '../resilience/providerError.ts';
import { DEFAULT_STREAM_POLICY, resilientStream, type StreamPolicy } from '../resilience/resilientStream.ts';

export interface ElevenLabsStreamInputOptions {
  apiKey: string;
  /** http(s) base; the websocket uses the same host with ws(s). */
  baseUrl?: string;
  voiceId: string;
  modelId: string;
  policy?: StreamPolicy;
  breaker?: CircuitBreaker;
}

export type { AlignedAudio, StreamingTextToSpeech, TextStreamSession } from '../providers.ts';

export class ElevenLabsStreamInputTts implements TextToSpeech, StreamingTextToSpeech {
  readonly name = 'elevenlabs-ws';
  readonly voice: string;
  private readonly opts: ElevenLabsStreamInputOptions;

  constructor(opts: ElevenLabsStreamInputOptions) {
    this.opts = opts;
    this.voice = `${opts.voiceId}/${opts.modelId}`;
  }

  private url(): string {
    const base = new URL(this.opts.baseUrl ?? 'https://api.elevenlabs.io');
    base.protocol = base.protocol === 'http:' ? 'ws:' : 'wss:';
    base.pathname = `${base.pathname.replace(/\/$/, '')}/v1/text-to-speech/${encodeURIComponent(this.opts.voiceId)}/stream-input`;
    base.searchParams.set('model_id', this.opts.modelId);
    base.searchParams.set('output_format', 'ulaw_8000');
    return base.toString();
  }

  /** Open a token-streaming session. Failures surface as an error from the async iterator. */
  openTextStream(signal: AbortSignal): TextStreamSession {
    const queue = new AsyncQueue<AlignedAudio>();
    const ws = new WebSocket(this.url(), { headers: { 'xi-api-key': this.opts.apiKey }, perMessageDeflate: false });
    const outbox: string[] = [JSON.stringify({ text: ' ' })];
    let finished = false;
    const fail = (err: unknown) => {
      finished = true;
      queue.fail(toProviderError(this.name, err));
      ws.terminate();
    };
    const onAbort = () => {
      finished = true;
      queue.end();
      ws.terminate();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    ws.on('open', () => {
      for (const m of outbox) ws.send(m);
      outbox.length = 0;
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      fail(Object.assign(new Error(`stream-input upgrade refused with HTTP ${res.statusCode ?? 0}`), { statusCode: res.statusCode }));
    });
    ws.on('error', (err) => {
      if (!finished) fail(err);
    });
    ws.on('message', (data) => {
      const msg = JSON.parse((data as Buffer).toString('utf8')) as {
        audio?: string | null;
        isFinal?: boolean | null;
        error?: string;
        message?: string;
        alignment?: { chars?: string[] } | null;
      };
      if (typeof msg.audio === 'string' && msg.audio.length > 0) {
        queue.push({ audio: new Uint8Array(Buffer.from(msg.audio, 'base64')), chars: msg.alignment?.chars?.length ?? 0 });
      }
      if (msg.isFinal === true) {
        finished = true;
        queue.end();
      } else if (msg.error) fail(createError('GW_ERR_PROVIDER_FAILED', `elevenlabs stream-input error: ${msg.message ?? msg.error}`, { retryable: false }));
    });
    ws.on('close', (code, reason) => {
      signal.removeEventListener('abort', onAbort);
      if (finished) return;
      // A close without isFinal is a dropped session (1006) or a policy refusal (1008: bad key).
      fail(Object.assign(new Error(`stream-input closed (${code} ${String(reason)})`), code === 1006 ? { code: 'ECONNRESET' } : {}));
    });
    const send = (m: string) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(m);
      else if (ws.readyState === WebSocket.CONNECTING) outbox.push(m);
    };
    return {
      write: (text, o) => {
        if (text.length > 0) send(JSON.stringify(o?.flush ? { text, flush: true } : { text }));
      },
      end: () => send(JSON.stringify({ text: '' })),
      [Symbol.asyncIterator]: () => {
        const it = queue[Symbol.asyncIterator]();
        return {
          next: () => it.next(),
          // A consumer that stops reading early must not leave the socket open.
          return: () => {
            finished = true;
            ws.terminate();
            signal.removeEventListener('abort', onAbort);
            return it.return ? it.return() : Promise.resolve({ value: undefined, done: true as const });
          },
        };
      },
    };
  }

  synthesize(text: string, o: { signal: AbortSignal }): AsyncIterable<Uint8Array> {
    const open = (signal: AbortSignal) => this.openTextStream(signal);
    return resilientStream(this.name, this.opts.policy ?? DEFAULT_STREAM_POLICY, this.opts.breaker, o.signal, async function* (signal) {
      const session = open(signal);
      // The service wants text to end with a space to know a word is complete (API reference).
      session.write(text.endsWith(' ') ? text : `${text} `, { flush: true });
      session.end();
      for await (const a of session) yield a.audio;
    });
  }
}
