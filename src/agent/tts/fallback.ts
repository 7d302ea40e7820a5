// A provider outage degrades the voice, not the call: try each TTS in order (e.g. ElevenLabs → OpenAI →
// offline) and move on when one fails before producing audio. Each adapter carries its own circuit
// breaker, so an open circuit fails at once and costs no time here. Once audio has started, a failure
// is passed up rather than restarted on another voice (the caller would hear the sentence twice).
import { createError, isAbortError } from '../../errors.ts';
import type { SynthesizeOptions, TextToSpeech } from '../providers.ts';

// The capability types live in providers.ts; re-exported for the adapters that import them from here.
export type { FallbackNotice, SynthesizeOptions } from '../providers.ts';

export class FallbackTts implements TextToSpeech {
  readonly name: string;
  readonly voice: string;
  readonly chain: readonly TextToSpeech[];

  constructor(chain: TextToSpeech[]) {
    if (chain.length === 0) throw new RangeError('FallbackTts needs at least one provider');
    this.chain = chain;
    this.name = chain.map((t) => t.name).join('>');
    this.voice = chain.map((t) => (t as { voice?: string }).voice ?? t.name).join('>');
  }

  async *synthesize(text: string, o: SynthesizeOptions): AsyncGenerator<Uint8Array> {
    let lastError: unknown;
    for (let i = 0; i < this.chain.length; i++) {
      const tts = this.chain[i]!;
      let started = false;
      try {
        for await (const chunk of tts.synthesize(text, { signal: o.signal })) {
          if (!started) {
            started = true;
            o.onProvider?.(tts.name);
          }
          yield chunk;
        }
        if (o.signal.aborted || started) return;
        // An empty but successful answer is treated as a failure: silence is not speech.
        lastError = createError('GW_ERR_PROVIDER_FAILED', `${tts.name} returned no audio`, { retryable: false });
      } catch (err) {
        if (isAbortError(err) || o.signal.aborted) return;
        if (started) throw err;
        lastError = err;
      }
      o.onFallback?.({ from: tts.name, to: this.chain[i + 1]?.name, error: lastError });
    }
    throw createError('GW_ERR_TTS_UNAVAILABLE', 'every text-to-speech provider failed; check provider keys and status', { cause: lastError, retryable: false });
  }
}
