// How an answer's text becomes audio in the turn's Utterance. Two ways:
// - SentenceSpeech: each complete sentence (from the chunker) is synthesized on its own, in order,
//   through the TTS fallback chain; sentence n+1 is synthesized while sentence n plays.
// - TokenSpeech: every LLM token goes straight into a streaming TTS session (ElevenLabs stream-input),
//   so synthesis starts before a sentence is complete. Audio is attributed to sentences by the
//   service's character alignment, so the heard-text cut still works. If the stream fails or stays
//   silent before any audio, the answer falls back to SentenceSpeech (the chain) without losing text.
import { createError, GatewayError } from '../../errors.ts';
import type { ChatMessage, StreamingTextToSpeech, SynthesizeOptions, TextStreamSession, TextToSpeech } from '../providers.ts';
import type { TurnRun } from './response.ts';

export interface SpeechOut {
  /** Every text delta of the answer, as the LLM streams it. */
  token(text: string): void;
  /** Every complete sentence, in order (the chunker's output). */
  sentence(text: string, msg: ChatMessage): void;
  /** True once synthesis has failed for good (the LLM stream can stop). */
  readonly failed: boolean;
  /** No more text: resolves when all audio is written; throws if synthesis failed. */
  close(): Promise<void>;
}

function record(run: TurnRun, msg: ChatMessage, idx: number): void {
  const entry = run.spoken.find((s) => s.msg === msg);
  if (entry) entry.last = idx;
  else run.spoken.push({ msg, first: idx, last: idx });
}

export class SentenceSpeech implements SpeechOut {
  private chain = Promise.resolve();
  private error: unknown;
  private readonly run: TurnRun;
  private readonly tts: TextToSpeech;
  private readonly options: () => SynthesizeOptions;

  constructor(run: TurnRun, tts: TextToSpeech, options: () => SynthesizeOptions) {
    this.run = run;
    this.tts = tts;
    this.options = options;
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  token(): void {}

  sentence(text: string, msg: ChatMessage): void {
    const idx = this.run.utterance.beginSentence(text);
    record(this.run, msg, idx);
    this.run.metrics?.sentenceReady();
    this.speak(idx, text);
  }

  /** Synthesize `text` into sentence `idx` (also used to re-voice a failed token stream). */
  speak(idx: number, text: string): void {
    const run = this.run;
    this.chain = this.chain
      .then(async () => {
        if (run.ac.signal.aborted) return;
        run.metrics?.ttsRequest();
        for await (const c of this.tts.synthesize(text, this.options())) {
          run.metrics?.ttsFirstByte(run.provider ?? this.tts.name);
          run.utterance.write(idx, c);
        }
        run.utterance.endSentence(idx);
      })
      .catch((err: unknown) => {
        // Kept, not thrown here: the chain must never hold an unhandled rejection while the LLM streams.
        this.error ??= err;
      });
  }

  async close(): Promise<void> {
    await this.chain;
    if (this.error !== undefined && !this.run.ac.signal.aborted) {
      throw this.error instanceof Error ? this.error : new Error('text-to-speech failed', { cause: this.error });
    }
  }
}

export class TokenSpeech implements SpeechOut {
  private readonly run: TurnRun;
  private readonly stream: StreamingTextToSpeech;
  private readonly fallbackTts: TextToSpeech;
  private readonly options: () => SynthesizeOptions;
  private readonly firstAudioTimeoutMs: number;
  private readonly onFallback: (error: unknown) => void;
  private session: TextStreamSession | undefined;
  private sessionAc: AbortController | undefined;
  private pump: Promise<void> | undefined;
  private audioStarted = false;
  private error: unknown;
  private fallback: SentenceSpeech | undefined;
  /** Sentences known so far: utterance index, text, and the input character where each ends. */
  private readonly sentences: { idx: number; text: string; endChar: number }[] = [];
  /** A sentence opened by arriving audio before the chunker closed it. */
  private tail: number | undefined;
  private closedChars = 0;
  private sentChars = 0;

  constructor(
    run: TurnRun,
    stream: StreamingTextToSpeech,
    fallbackTts: TextToSpeech,
    options: () => SynthesizeOptions,
    firstAudioTimeoutMs: number,
    onFallback: (error: unknown) => void,
  ) {
    this.run = run;
    this.stream = stream;
    this.fallbackTts = fallbackTts;
    this.options = options;
    this.firstAudioTimeoutMs = firstAudioTimeoutMs;
    this.onFallback = onFallback;
  }

  get failed(): boolean {
    return this.fallback?.failed ?? (this.error !== undefined && this.audioStarted);
  }

  token(text: string): void {
    if (this.fallback || this.error !== undefined || text.length === 0) return;
    if (!this.session) this.open();
    this.session?.write(text);
    this.sentChars += text.length;
  }

  sentence(text: string, msg: ChatMessage): void {
    let idx: number;
    if (this.tail !== undefined) {
      idx = this.tail;
      this.tail = undefined;
      this.run.utterance.setText(idx, text);
    } else idx = this.run.utterance.beginSentence(text);
    record(this.run, msg, idx);
    this.run.metrics?.sentenceReady();
    // The chunker trims the whitespace between sentences; one separator character is assumed.
    this.closedChars += text.length + 1;
    this.sentences.push({ idx, text, endChar: this.closedChars });
    if (this.fallback) this.fallback.speak(idx, text);
  }

  private open(): void {
    const ac = new AbortController();
    this.sessionAc = ac;
    const onRunAbort = () => ac.abort();
    this.run.ac.signal.addEventListener('abort', onRunAbort, { once: true, signal: ac.signal });
    this.run.metrics?.ttsRequest();
    const session = this.stream.openTextStream(ac.signal);
    this.session = session;
    const timer = setTimeout(() => {
      if (!this.audioStarted) {
        this.error ??= createError('GW_ERR_PROVIDER_TIMEOUT', `${this.stream.name} sent no audio for ${this.firstAudioTimeoutMs} ms`, { retryable: true, statusCode: 504 });
        ac.abort();
      }
    }, this.firstAudioTimeoutMs);
    this.pump = this.read(session).finally(() => clearTimeout(timer));
  }

  private sentenceAt(charPos: number): number {
    const s = this.sentences.find((x) => charPos < x.endChar);
    if (s) return s.idx;
    this.tail ??= this.run.utterance.beginSentence('');
    return this.tail;
  }

  private async read(session: TextStreamSession): Promise<void> {
    let charPos = 0;
    try {
      for await (const { audio, chars } of session) {
        if (!this.audioStarted) {
          this.audioStarted = true;
          this.run.provider = this.stream.name;
          this.run.metrics?.ttsFirstByte(this.stream.name);
        }
        this.run.utterance.write(this.sentenceAt(charPos), audio);
        charPos += chars;
      }
    } catch (err) {
      this.error ??= err;
    }
    if (this.run.ac.signal.aborted) return;
    if (!this.audioStarted && (this.error !== undefined || this.sentChars > 0)) {
      // Nothing was heard from the stream: voice the answer through the chain instead.
      const error = this.error ?? createError('GW_ERR_PROVIDER_FAILED', `${this.stream.name} returned no audio`, { retryable: false });
      this.error = undefined;
      this.onFallback(error);
      this.fallback = new SentenceSpeech(this.run, this.fallbackTts, this.options);
      for (const s of this.sentences) this.fallback.speak(s.idx, s.text);
    }
  }

  async close(): Promise<void> {
    if (this.session && !this.fallback) this.session.end();
    await this.pump;
    this.sessionAc?.abort();
    if (this.fallback) {
      await this.fallback.close();
      return;
    }
    if (this.error !== undefined && !this.run.ac.signal.aborted) {
      throw this.error instanceof GatewayError || this.error instanceof Error ? this.error : new Error('text-to-speech failed', { cause: this.error });
    }
  }
}
