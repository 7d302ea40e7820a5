// The official openai SDK, imported when something that uses it is constructed — which happens only
// with an OpenAI key — instead of with the modules that name it. Loading it costs every process about
// 40 MB of RSS and 140 ms of start-up (node 24, measured with `--expose-gc`), and most processes (the
// newcomer's `npm start`, PostgreSQL workers without an agent) never call OpenAI. The import starts at
// construction, so with a key it is done long before the first call needs it.
import type OpenAI from 'openai';
import type { ClientOptions } from 'openai';
import type { OpenAIRealtimeWS } from 'openai/realtime/ws';

export type OpenAiClient = OpenAI;
export type OpenAiRealtimeWs = OpenAIRealtimeWS;

/** The realtime websocket client's constructor (`openai/realtime/ws`). */
export type OpenAiRealtimeWsClass = typeof OpenAIRealtimeWS;

/** Keeps a failed import from being reported as unhandled before a caller awaits it. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Starts importing the SDK now; resolves to a client made with `opts`. */
export function openAiClient(opts: ClientOptions): Promise<OpenAI> {
  return handled(import('openai').then((m) => new m.default(opts)));
}

/** Starts importing the SDK and its realtime websocket client now. */
export function openAiRealtimeWs(): Promise<OpenAiRealtimeWsClass> {
  return handled(import('openai/realtime/ws').then((m) => m.OpenAIRealtimeWS));
}
