// Synthesizes flows' static prompts before any call needs them: at start (the shipped flows and every
// flow a number routes to), when a flow is deployed through this process, and when the change feed
// says a flow or a number's route changed — whichever worker the deploy went through. With the disk
// store's per-prompt lock (promptStore.ts) the prompt is synthesized once per machine: the deploying
// worker synthesizes, the others wait for its file and hold the prompt in memory a moment later.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FlowDefinition } from '../../flow/types.ts';
import { RESYNC } from '../../store/changeFeed.ts';
import type { TtsCache } from './cache.ts';

/** Where flows come from: the store's reads the warmer needs. */
export interface WarmerFlowSource {
  get(id: string): Promise<{ definition: FlowDefinition } | undefined>;
  getNumber(e164: string): Promise<{ flowId: string } | undefined>;
  listNumbers(): Promise<Array<{ flowId: string }>>;
}

const PROMPT_KEYS = new Set(['text', 'prompt', 'reprompt', 'message', 'greeting', 'noInputText', 'noMatchText']);

/** Static prompts a flow will say (no templates): synthesized ahead so they play at once. */
export function staticPrompts(flow: FlowDefinition): string[] {
  const texts = new Set<string>();
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string') {
      if (PROMPT_KEYS.has(key) && v.trim() !== '' && !v.includes('{{')) texts.add(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(flow.nodes, '');
  return [...texts];
}

/** The static prompts of the shipped flows (the JSON files of `flowsDir`), the default flow's first. */
export async function shippedPrompts(flowsDir: string, firstFlowId?: string): Promise<string[]> {
  const files = (await readdir(flowsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.json') && !f.includes('schema'));
  // The offline voice serves requests in order: the flow every unrouted call gets speaks first.
  if (firstFlowId !== undefined) files.sort((a, b) => Number(b === `${firstFlowId}.json`) - Number(a === `${firstFlowId}.json`));
  const texts: string[] = [];
  for (const f of files) {
    try {
      texts.push(...staticPrompts(JSON.parse(await readFile(path.join(flowsDir, f), 'utf8')) as FlowDefinition));
    } catch {
      // An unreadable example flow is reported when it is used, not here.
    }
  }
  return texts;
}

/**
 * Starts synthesizing (or reading from the data folder) the shipped flows' prompts at once, before the
 * database opens: on a fresh data folder the embedded database's initdb and migrations take seconds,
 * long enough for the offline voice to start and say them, so the first call after `npm start` hears
 * its greeting at once instead of waiting ~0.3–0.8 s for the engine. Needs no database; `signal` stops it.
 */
export async function warmShippedPrompts(cache: TtsCache, flowsDir: string, firstFlowId: string, signal: AbortSignal): Promise<void> {
  await cache.prefetch(await shippedPrompts(flowsDir, firstFlowId), signal);
}

export class PromptWarmer {
  private readonly cache: TtsCache;
  private readonly flows: WarmerFlowSource;
  private readonly log: Logger;
  private readonly lifetime = new AbortController();
  private readonly tasks = new Set<Promise<void>>();

  constructor(opts: { cache: TtsCache; flows: WarmerFlowSource; log: Logger }) {
    this.cache = opts.cache;
    this.flows = opts.flows;
    this.log = opts.log;
  }

  /**
   * The shipped flows of `flowsDir` and every flow a number routes to. The shipped flows' prompts are
   * usually in the cache already (warmShippedPrompts, started before the database opened): hits.
   */
  warmAtStart(flowsDir: string): Promise<void> {
    return this.track(async () => {
      const texts = await shippedPrompts(flowsDir);
      texts.push(...(await this.routedPrompts()));
      const unique = [...new Set(texts)];
      await this.cache.prefetch(unique, this.lifetime.signal);
      this.log.info({ prompts: unique.length, ...this.cache.storeCounts }, 'prompt cache warmed');
    });
  }

  /** The static prompts of every flow a number routes to. */
  async routedPrompts(): Promise<string[]> {
    const texts: string[] = [];
    const routes = await this.flows.listNumbers().catch(() => []);
    for (const id of new Set(routes.map((r) => r.flowId))) {
      const stored = await this.flows.get(id).catch(() => undefined);
      if (stored) texts.push(...staticPrompts(stored.definition));
    }
    return texts;
  }

  /** A flow just deployed (or announced): its prompts, in memory here once synthesized (anywhere). */
  warmFlow(flow: FlowDefinition, why: string): Promise<void> {
    return this.track(async () => {
      const texts = staticPrompts(flow);
      // Announced back to the worker it was deployed through, or re-saved unchanged: nothing to do.
      if (texts.every((t) => this.cache.peek(t) !== undefined)) return;
      const started = performance.now();
      await this.cache.prefetch(texts, this.lifetime.signal);
      if (this.lifetime.signal.aborted) return;
      this.log.info({ flowId: flow.id, prompts: texts.length, why, ms: Math.round(performance.now() - started), ...this.cache.storeCounts }, 'flow prompts ready');
    });
  }

  /** A change feed notification on the routing channel ("flows:<id>", "numbers:<e164>"). */
  onChange(change: string): void {
    if (this.lifetime.signal.aborted) return;
    if (change === RESYNC) {
      // Deploys may have been missed while the feed was down: every routed flow, from disk or synthesized.
      void this.track(async () => this.cache.prefetch(await this.routedPrompts(), this.lifetime.signal));
      return;
    }
    const sep = change.indexOf(':');
    const table = change.slice(0, sep);
    const key = change.slice(sep + 1);
    if (table !== 'flows' && table !== 'numbers') return;
    void this.track(async () => {
      const flowId = table === 'flows' ? key : (await this.flows.getNumber(key))?.flowId;
      const stored = flowId === undefined ? undefined : await this.flows.get(flowId);
      if (stored !== undefined) await this.warmFlow(stored.definition, `${table} changed`);
    });
  }

  private track(work: () => Promise<void>): Promise<void> {
    const p = work().catch((err: unknown) => {
      if (!this.lifetime.signal.aborted) this.log.warn({ err }, 'warming prompts failed');
    });
    this.tasks.add(p);
    void p.finally(() => this.tasks.delete(p));
    return p;
  }

  /** Stops warming (syntheses under way end with the cache) and waits for the tasks to finish. */
  async close(): Promise<void> {
    this.lifetime.abort();
    await Promise.all([...this.tasks]);
  }
}
