// The prompt warmer: a flow announced on the change feed (deployed through another worker, or a number
// routed to it) has its static prompts in this process's cache soon after, and after the feed was lost
// (RESYNC) every routed flow is warmed again; templated prompts are never synthesized ahead.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { TextToSpeech } from '../../src/agent/providers.ts';
import { TtsCache } from '../../src/agent/tts/cache.ts';
import { PromptWarmer, shippedPrompts, staticPrompts, warmShippedPrompts } from '../../src/agent/tts/promptWarmer.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { RESYNC } from '../../src/store/changeFeed.ts';

const flow = (id: string, greeting: string): FlowDefinition =>
  ({
    id,
    start: 'greet',
    nodes: {
      greet: { type: 'say', text: greeting, next: 'ask' },
      ask: { type: 'gather', prompt: { text: `Hello {{vars.name}}, press one.` }, next: 'end', noInput: 'end' },
      end: { type: 'hangup' },
    },
  }) as unknown as FlowDefinition;

/** A voice that records what it was asked to say, in order. */
function recordingTts(name: string): { tts: TextToSpeech; said: string[] } {
  const said: string[] = [];
  const tts: TextToSpeech = {
    name,
    async *synthesize(text) {
      said.push(text);
      yield new Uint8Array(800);
    },
  };
  return { tts, said };
}

describe('prompt warmer', () => {
  it('warms announced flows and routed numbers, and every routed flow after a resync', async () => {
    const { tts, said } = recordingTts('counting');
    const cache = new TtsCache(tts);
    const flows = new Map([
      ['sales', flow('sales', 'Welcome to sales.')],
      ['support', flow('support', 'Welcome to support.')],
      ['billing', flow('billing', 'Welcome to billing.')],
    ]);
    const routes = new Map([['+15005550009', 'support']]);
    const warmer = new PromptWarmer({
      cache,
      log: pino({ level: 'silent' }),
      flows: {
        get: async (id) => (flows.has(id) ? { definition: flows.get(id) as FlowDefinition } : undefined),
        getNumber: async (e164) => (routes.has(e164) ? { flowId: routes.get(e164) as string } : undefined),
        listNumbers: async () => [...routes.values()].map((flowId) => ({ flowId })),
      },
    });
    expect(staticPrompts(flows.get('sales') as FlowDefinition)).toEqual(['Welcome to sales.']);
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    };
    warmer.onChange('flows:sales');
    await settle();
    expect(cache.peek('Welcome to sales.')).toBeDefined();
    warmer.onChange('numbers:+15005550009');
    await settle();
    expect(cache.peek('Welcome to support.')).toBeDefined();
    warmer.onChange('departments:front-desk');
    routes.set('+15005550010', 'billing');
    warmer.onChange(RESYNC);
    await settle();
    expect(cache.peek('Welcome to billing.')).toBeDefined();
    expect(said.sort()).toEqual(['Welcome to billing.', 'Welcome to sales.', 'Welcome to support.']);
    await warmer.close();
    warmer.onChange('flows:sales');
    cache.close();
  });

  it('warms the shipped flows without a database, the default flow first', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gw-shipped-'));
    try {
      await writeFile(path.join(dir, 'a-menu.json'), JSON.stringify(flow('a-menu', 'Press one for sales.')));
      await writeFile(path.join(dir, 'b-front.json'), JSON.stringify(flow('b-front', 'Welcome to the front desk.')));
      await writeFile(path.join(dir, 'flow.schema.json'), JSON.stringify({ nodes: { x: { text: 'not a flow' } } }));
      await writeFile(path.join(dir, 'broken.json'), '{ not json');
      expect((await shippedPrompts(dir)).sort()).toEqual(['Press one for sales.', 'Welcome to the front desk.']);
      // The offline voice serves requests in order: the default flow's greeting must be asked for first.
      // Both ways round, so the folder's listing order cannot make this pass.
      for (const [first, greeting] of [['b-front', 'Welcome to the front desk.'], ['a-menu', 'Press one for sales.']] as const) {
        const { tts, said } = recordingTts('ordered');
        const cache = new TtsCache(tts);
        await warmShippedPrompts(cache, dir, first, new AbortController().signal);
        expect(said[0]).toBe(greeting);
        expect(said).toHaveLength(2);
        expect(cache.peek('Welcome to the front desk.')).toBeDefined();
        expect(cache.peek('Press one for sales.')).toBeDefined();
        cache.close();
      }
      // A missing folder is no error: nothing to warm.
      await expect(shippedPrompts(path.join(dir, 'missing'))).resolves.toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
