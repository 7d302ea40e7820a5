// The OpenAI LLM adapter against the fake OpenAI server, through the real `openai` SDK.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { OpenAiLlm } from '../../src/agent/llm/openai.ts';
import type { LlmChunk } from '../../src/agent/providers.ts';
import { CircuitBreaker } from '../../src/resilience/policy.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openaiServer.ts';

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.chat.length = 0;
  fake.chatRequests.length = 0;
});

// Generous timeouts: a loaded CI machine must not turn a slow first request into a retry.
const policy = { retries: 2, baseDelayMs: 1, maxDelayMs: 5, firstChunkTimeoutMs: 3000, idleTimeoutMs: 3000 };

async function collect(llm: OpenAiLlm, signal = new AbortController().signal): Promise<LlmChunk[]> {
  const out: LlmChunk[] = [];
  for await (const c of llm.stream({ messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'transfer', description: 'd', parameters: { type: 'object' } }], signal })) out.push(c);
  return out;
}

async function failure(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe('OpenAiLlm', () => {
  it('streams text deltas and assembles tool-call deltas into whole calls', async () => {
    fake.chat.push({ text: ['Let me ', 'transfer you.'], toolCalls: [{ id: 'call_a', name: 'transfer', arguments: '{"department":"billing","reason":"invoice question"}' }] });
    const llm = new OpenAiLlm({ apiKey: fake.apiKey, baseURL: fake.baseURL, model: 'gpt-test', policy });
    const chunks = await collect(llm);
    expect(chunks).toEqual([
      { type: 'text', text: 'Let me ' },
      { type: 'text', text: 'transfer you.' },
      { type: 'tool_call', call: { id: 'call_a', name: 'transfer', arguments: '{"department":"billing","reason":"invoice question"}' } },
    ]);
    const body = fake.chatRequests[0]!.body;
    expect(body.stream).toBe(true);
    expect(body.model).toBe('gpt-test');
    expect(body.tools?.[0]?.function.name).toBe('transfer');
  });

  it('sends tool results back in the wire shape (assistant tool_calls, tool_call_id)', async () => {
    const llm = new OpenAiLlm({ apiKey: fake.apiKey, baseURL: fake.baseURL, model: 'm', policy });
    for await (const _ of llm.stream({
      messages: [
        { role: 'user', content: 'press 1' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'send_dtmf', arguments: '{"digits":"1"}' }] },
        { role: 'tool', toolCallId: 'c1', content: 'sent' },
      ],
      signal: new AbortController().signal,
    }));
    const msgs = fake.chatRequests[0]!.body.messages;
    expect(msgs[1]).toMatchObject({ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'send_dtmf', arguments: '{"digits":"1"}' } }] });
    expect(msgs[2]).toEqual({ role: 'tool', tool_call_id: 'c1', content: 'sent' });
  });

  it('retries a 500 and a 429, then succeeds', async () => {
    fake.chat.push({ fault: 'http500' }, { fault: 'http429' }, { text: ['Fine.'] });
    const llm = new OpenAiLlm({ apiKey: fake.apiKey, baseURL: fake.baseURL, model: 'm', policy });
    expect(await collect(llm)).toEqual([{ type: 'text', text: 'Fine.' }]);
    expect(fake.chatRequests).toHaveLength(3);
  });

  it('does not retry a 400 or a bad key (permanent)', async () => {
    fake.chat.push({ fault: 'http400' }, { text: ['never'] });
    const llm = new OpenAiLlm({ apiKey: fake.apiKey, baseURL: fake.baseURL, model: 'm', policy });
    const err = await failure(collect(llm));
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({ status: 400 });
    expect(fake.chatRequests).toHaveLength(1);
    const bad = new OpenAiLlm({ apiKey: 'sk-wrong', baseURL: fake.baseURL, model: 'm', policy });
    expect((await failure(collect(bad))).details).toMatchObject({ status: 401 });
    expect(fake.chatRequests).toHaveLength(1); // 401 is answered before the body is recorded
  });

  it('times out a hung request, retries, and reports a timeout', async () => {
    fake.chat.push({ fault: 'hang' }, { fault: 'hang' }, { fault: 'hang' });
    const llm = new OpenAiLlm({ apiKey: fake.apiKey, baseURL: fake.baseURL, model: 'm', policy: { ...policy, firstChunkTimeoutMs: 100 } });
    const err = await failure(collect(llm));
    expect(err.code).toBe('GW_ERR_PROVIDER_TIMEOUT');
    expect(fake.chatRequests).toHaveLength(3);
  });

  it('a socket dropped mid-answer is not retried (the words were already passed on)', async () => {
    fake.chat.push({ text: ['One. ', 'Two. ', 'Three. ', 'Four.'], chunkDelayMs: 5, fault: 'drop_mid_stream' }, { text: ['again'] });
    const llm = new OpenAiLlm({ apiKey: fake.apiKey, baseURL: fake.baseURL, model: 'm', policy });
    const got: string[] = [];
    const err = await failure(
      (async () => {
        for await (const c of llm.stream({ messages: [], signal: new AbortController().signal })) if (c.type === 'text') got.push(c.text);
      })(),
    );
    expect(err.retryable).toBe(true);
    expect(got).toEqual(['One. ', 'Two. ']);
    expect(fake.chatRequests).toHaveLength(1);
  });

  it('opens the circuit after repeated failures and then fails fast without a request', async () => {
    const breaker = new CircuitBreaker('openai-llm', { failureThreshold: 2, cooldownMs: 60_000 });
    fake.chat.push({ fault: 'http500' }, { fault: 'http500' });
    const llm = new OpenAiLlm({ apiKey: fake.apiKey, baseURL: fake.baseURL, model: 'm', policy: { ...policy, retries: 1 }, breaker });
    await failure(collect(llm));
    expect(breaker.current()).toBe('open');
    const before = fake.chatRequests.length;
    expect((await failure(collect(llm))).code).toBe('GW_ERR_PROVIDER_CIRCUIT_OPEN');
    expect(fake.chatRequests.length).toBe(before);
  });

  it('ends quietly when the turn is aborted', async () => {
    fake.chat.push({ text: ['a', 'b', 'c'], chunkDelayMs: 50 });
    const llm = new OpenAiLlm({ apiKey: fake.apiKey, baseURL: fake.baseURL, model: 'm', policy });
    const ac = new AbortController();
    const got: LlmChunk[] = [];
    for await (const c of llm.stream({ messages: [], signal: ac.signal })) {
      got.push(c);
      ac.abort();
    }
    expect(got).toHaveLength(1);
  });
});
