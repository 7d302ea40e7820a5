// The three capabilities the agent and flows need, each behind a small interface (livekit agents'
// core-vs-plugins split). Adapters live one per vendor file; config picks them. Every stream takes an
// AbortSignal: cancelling a turn aborts all of its work and the stream ends quietly.

/** Speech to text over a live call: fed the carrier's mu-law bytes as they arrive. */
export interface SpeechToText {
  readonly name: string;
  open(opts: { signal: AbortSignal; language?: string }): SttStream;
}

export type SttEvent =
  | { type: 'speech_started'; atMs: number }
  | { type: 'speech_stopped'; atMs: number }
  | { type: 'partial'; text: string }
  | { type: 'final'; text: string };

export interface SttStream extends AsyncIterable<SttEvent> {
  /** 8 kHz mu-law bytes; must not block (buffered and sent by the adapter). */
  write(mulaw: Uint8Array, atMs: number): void;
  close(): void;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  toolCallId?: string;
  toolCalls?: ToolCall[];
}

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  /** Raw JSON text as the model produced it. */
  arguments: string;
}

export type LlmChunk = { type: 'text'; text: string } | { type: 'tool_call'; call: ToolCall };

export interface LanguageModel {
  readonly name: string;
  stream(req: { messages: ChatMessage[]; tools?: ToolDefinition[]; signal: AbortSignal }): AsyncIterable<LlmChunk>;
}

export interface TextToSpeech {
  readonly name: string;
  /** 8 kHz mu-law audio for `text`, streamed in chunks as it is synthesized. */
  synthesize(text: string, opts: { signal: AbortSignal }): AsyncIterable<Uint8Array>;
}

/** What a chain of voices tells the timeline when it skips one (tts/fallback.ts). */
export interface FallbackNotice {
  from: string;
  to: string | undefined;
  error: unknown;
}

export interface SynthesizeOptions {
  signal: AbortSignal;
  /** Told whenever a provider is skipped; for the call timeline. */
  onFallback?: (notice: FallbackNotice) => void;
  /** Told which provider produced the audio. */
  onProvider?: (name: string) => void;
}

/** Audio for a span of the input text; `chars` is how many input characters it voices (alignment). */
export interface AlignedAudio {
  audio: Uint8Array;
  chars: number;
}

/** A text-in, audio-out session: write tokens as the LLM streams them, read mu-law as it is made. */
export interface TextStreamSession extends AsyncIterable<AlignedAudio> {
  write(text: string, opts?: { flush?: boolean }): void;
  end(): void;
}

/** A TTS that takes text token by token (the agent streams LLM output into it). */
export interface StreamingTextToSpeech {
  readonly name: string;
  openTextStream(signal: AbortSignal): TextStreamSession;
}
