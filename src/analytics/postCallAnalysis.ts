// Post-call analysis with an LLM (the official openai SDK): a short summary, the disposition chosen
// from the flow's own list, and the caller's sentiment, stored on the call as `analysis`. It runs after
// the call, in the background, a few at a time (cockatiel bulkhead) and retried with backoff; it never
// touches a live call. Without an OpenAI key it is not constructed, and calls simply have no analysis.
import { bulkhead, ExponentialBackoff, handleAll, retry, wrap, type IPolicy } from 'cockatiel';
import { openAiClient, type OpenAiClient } from '../agent/openaiSdk.ts';
import type { Queryable } from '../store/db.ts';
import type { EventLog } from '../store/eventLog.ts';
import { buildTranscript, type TranscriptTurn } from './transcript.ts';

export interface PostCallAnalysisOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  db: Queryable;
  eventLog: EventLog;
  /** Analyses running at once. Default 2. */
  concurrency?: number;
  /** Waiting beyond the running ones; more are dropped (and logged). Default 1000. */
  queueLimit?: number;
  /** Attempts per call. Default 3. */
  maxAttempts?: number;
  log: { warn(obj: object, msg: string): void };
}

export interface Analysis {
  status: 'done';
  summary: string;
  disposition: string | null;
  sentiment: 'positive' | 'neutral' | 'negative';
  model: string;
  analyzedAt: string;
}

const SENTIMENTS = ['positive', 'neutral', 'negative'] as const;

/** The model's JSON answer, checked: a disposition outside the flow's list becomes null. */
export function parseAnalysis(text: string, dispositions: readonly string[], model: string, now: Date): Analysis {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  const raw = JSON.parse(start >= 0 && end > start ? text.slice(start, end + 1) : text) as Record<string, unknown>;
  const summary = typeof raw.summary === 'string' ? raw.summary.trim().slice(0, 2000) : '';
  if (summary === '') throw new Error('the model returned no summary');
  const disposition = typeof raw.disposition === 'string' && dispositions.includes(raw.disposition) ? raw.disposition : null;
  const sentiment = SENTIMENTS.find((s) => s === raw.sentiment) ?? 'neutral';
  return { status: 'done', summary, disposition, sentiment, model, analyzedAt: now.toISOString() };
}

function prompt(transcript: readonly TranscriptTurn[], dispositions: readonly string[]): string {
  const lines = transcript.map((t) => `${t.speaker === 'caller' ? 'Caller' : 'Agent'}: ${t.text}`).join('\n');
  return [
    'Analyse this phone call transcript. Answer with one JSON object and nothing else:',
    '{"summary": "<two sentences>", "disposition": <one of the allowed values, or null>, "sentiment": "positive" | "neutral" | "negative"}',
    `Allowed dispositions: ${dispositions.length > 0 ? dispositions.map((d) => JSON.stringify(d)).join(', ') : '(none: use null)'}`,
    'Transcript:',
    lines,
  ].join('\n');
}

export class PostCallAnalyzer {
  readonly #opts: PostCallAnalysisOptions;
  readonly #client: Promise<OpenAiClient>;
  readonly #policy: IPolicy;
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();

  constructor(opts: PostCallAnalysisOptions) {
    this.#opts = opts;
    this.#client = openAiClient({ apiKey: opts.apiKey, baseURL: opts.baseURL ?? null, maxRetries: 0, timeout: 60_000 });
    this.#policy = wrap(
      bulkhead(opts.concurrency ?? 2, opts.queueLimit ?? 1000),
      retry(handleAll, { maxAttempts: (opts.maxAttempts ?? 3) - 1, backoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 10_000 }) }),
    );
  }

  /** Analyse an ended call in the background. */
  enqueue(callId: string, dispositions: readonly string[]): void {
    const task = this.#policy
      .execute(({ signal }) => this.#analyse(callId, dispositions, signal), this.#abort.signal)
      .catch((err: unknown) => {
        if (!this.#abort.signal.aborted) this.#opts.log.warn({ err, callId }, 'post-call analysis failed; the call has no analysis');
      })
      .finally(() => this.#running.delete(task));
    this.#running.add(task);
  }

  /** Resolves when every queued analysis has finished. */
  async settle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /** Stops: running analyses are aborted, queued ones dropped. */
  async close(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
  }

  async #analyse(callId: string, dispositions: readonly string[], signal: AbortSignal): Promise<void> {
    // The call's last events may still be in the log's buffer.
    await this.#opts.eventLog.flush(10_000);
    const events = await this.#opts.eventLog.listEvents(callId);
    const transcript = buildTranscript(events);
    if (transcript.length === 0) return; // nothing was said: nothing to analyse
    const stream = await (await this.#client).chat.completions.create(
      { model: this.#opts.model, stream: true, temperature: 0, messages: [{ role: 'user', content: prompt(transcript, dispositions) }] },
      { signal },
    );
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    const analysis = parseAnalysis(text, dispositions, this.#opts.model, new Date());
    await this.#opts.db.query('UPDATE calls SET analysis = $2::jsonb WHERE id = $1', [callId, JSON.stringify(analysis)]);
  }
}
