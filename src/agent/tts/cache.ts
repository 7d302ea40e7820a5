// Static prompts (say nodes, greetings, reprompts) are synthesized once and kept, so a cached greeting
// starts as soon as the stream does instead of after a TTS round trip. Keyed by provider, voice and
// text; bounded by total bytes with least-recently-used eviction (a Map keeps insertion order: a hit is
// re-inserted at the end, eviction takes from the front). Concurrent misses for the same key share one
// synthesis. Only complete syntheses are stored: an aborted or failed one is not.
import type { TextToSpeech } from '../providers.ts';
import type { SynthesizeOptions } from './fallback.ts';
import { PromptStore } from './promptStore.ts';
import { markImmutableAudio } from '../../call/encodedAudio.ts';

export interface TtsCacheOptions {
  /** Upper bound on cached audio; 8 MB is ~17 minutes of 8 kHz mu-law. */
  maxBytes?: number;
  /** Folder keeping the synthesized prompts across restarts (shared by the workers of a machine). */
  dir?: string;
  /** Upper bound on the folder; default 64 MB (~2.3 hours of audio). */
  maxDiskBytes?: number;
}

export class TtsCache {
  private readonly tts: TextToSpeech;
  private readonly maxBytes: number;
  private readonly entries = new Map<string, Uint8Array>();
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  private bytes = 0;
  private readonly store: PromptStore | undefined;
  /** Aborted by close(): ends shared syntheses that no caller owns. */
  private readonly lifetime = new AbortController();
  hits = 0;
  misses = 0;

  constructor(tts: TextToSpeech, opts: TtsCacheOptions = {}) {
    this.tts = tts;
    this.maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
    this.store = opts.dir === undefined ? undefined : new PromptStore(opts.dir, opts.maxDiskBytes ?? 64 * 1024 * 1024);
  }

  key(text: string): string {
    const voice = (this.tts as { voice?: string }).voice ?? '';
    return `${this.tts.name}\u0000${voice}\u0000${text}`;
  }

  /** Cached audio, or undefined (does not synthesize). */
  peek(text: string): Uint8Array | undefined {
    const k = this.key(text);
    const hit = this.entries.get(k);
    if (hit) {
      this.entries.delete(k);
      this.entries.set(k, hit);
    }
    return hit;
  }

  /** Resolves once the disk store's eviction after the latest write has run. */
  async idle(): Promise<void> {
    await this.store?.settled();
  }

  /**
   * Prompts this process synthesized / waited for while another process synthesized them / whose
   * lock it lost mid-synthesis (logged with the warm-up: a count above 0 means a stalled event loop).
   */
  get storeCounts(): { produced: number; waited: number; compromised: number } {
    return { produced: this.store?.produced ?? 0, waited: this.store?.waited ?? 0, compromised: this.store?.compromised ?? 0 };
  }

  /** The whole audio of `text`, from the cache or synthesized once (shared by concurrent callers). */
  async get(text: string, o: SynthesizeOptions): Promise<Uint8Array> {
    const hit = this.peek(text);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    if (o.signal.aborted) throw new DOMException('aborted', 'AbortError');
    const k = this.key(text);
    let p = this.inflight.get(k);
    if (!p) {
      // The shared synthesis is not tied to one caller's signal (another caller may still want it);
      // it is bounded by the providers' own timeouts and by the cache's lifetime. Its failure is each
      // caller's to report; with no caller left (all aborted) it must not become an unhandled rejection,
      // which ends the process.
      p = this.fill(k, text, { ...o, signal: this.lifetime.signal }).finally(() => this.inflight.delete(k));
      p.catch(() => undefined);
      this.inflight.set(k, p);
    }
    return await new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = () => reject(new DOMException('aborted', 'AbortError'));
      o.signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => o.signal.removeEventListener('abort', onAbort));
    });
  }

  /** Synthesize ahead of need (call start, flow load). Failures are left for `get` to report. */
  async prefetch(texts: string[], signal: AbortSignal): Promise<void> {
    await Promise.all(texts.map((t) => this.get(t, { signal }).catch(() => undefined)));
  }

  private async fill(k: string, text: string, o: SynthesizeOptions): Promise<Uint8Array> {
    // Synthesized before (an earlier run, or another worker), or being synthesized by another worker
    // now: a file read instead of a synthesis — one synthesis per prompt per machine.
    const audio = this.store === undefined ? await this.synthesize(text, o) : await this.store.readOrProduce(k, () => this.synthesize(text, o), o.signal);
    this.keep(k, audio);
    return audio;
  }

  private async synthesize(text: string, o: SynthesizeOptions): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let n = 0;
    for await (const c of this.tts.synthesize(text, o)) {
      parts.push(c);
      n += c.length;
    }
    const audio = new Uint8Array(n);
    let off = 0;
    for (const c of parts) {
      audio.set(c, off);
      off += c.length;
    }
    return audio;
  }

  private keep(k: string, audio: Uint8Array): void {
    if (audio.length > 0 && audio.length <= this.maxBytes) {
      // Never written again: playout may send its base64 chunks once encoded (encodedAudio.ts).
      markImmutableAudio(audio);
      this.entries.set(k, audio);
      this.bytes += audio.length;
      for (const [ek, ev] of this.entries) {
        if (this.bytes <= this.maxBytes) break;
        this.entries.delete(ek);
        this.bytes -= ev.length;
      }
    }
  }

  close(): void {
    this.lifetime.abort();
  }

  get size(): number {
    return this.entries.size;
  }
}
