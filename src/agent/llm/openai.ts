// OpenAI chat completions, streamed, with tools. Text deltas pass straight on (the sentence chunker
// downstream decides when there is enough to speak); tool calls arrive as deltas keyed by `index`
// (id and name first, arguments in pieces — see the SDK's ChatCompletionChunk.Choice.Delta.ToolCall)
// and are assembled here, then emitted once the stream finishes. The SDK's own retries are off so the
// shared policy (retry only before the first chunk, breaker, timeouts) applies to every provider alike.
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { openAiClient, type OpenAiClient } from '../openaiSdk.ts';
import type { ChatMessage, LanguageModel, LlmChunk, ToolCall, ToolDefinition } from '../providers.ts';
import type { CircuitBreaker } from '../../resilience/policy.ts';
import { DEFAULT_STREAM_POLICY, resilientStream, type StreamPolicy } from '../resilience/resilientStream.ts';

export interface OpenAiLlmOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  temperature?: number;
  policy?: StreamPolicy;
  breaker?: CircuitBreaker;
}

export function toOpenAiMessages(messages: ChatMessage[]): ChatCompletionMessageParam[] {
  return messages.map((m): ChatCompletionMessageParam => {
    switch (m.role) {
      case 'tool':
        return { role: 'tool', tool_call_id: m.toolCallId ?? '', content: m.content };
      case 'assistant':
        return m.toolCalls && m.toolCalls.length > 0
          ? {
              role: 'assistant',
              content: m.content || null,
              tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })),
            }
          : { role: 'assistant', content: m.content };
      default:
        return { role: m.role, content: m.content };
    }
  });
}

function toOpenAiTools(tools: ToolDefinition[]): ChatCompletionTool[] {
  return tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
}

export class OpenAiLlm implements LanguageModel {
  readonly name = 'openai';
  private readonly client: Promise<OpenAiClient>;
  private readonly opts: OpenAiLlmOptions;

  constructor(opts: OpenAiLlmOptions) {
    this.opts = opts;
    // No SDK timeout/retries: resilientStream owns both (first-chunk and idle timeouts, retry before output).
    this.client = openAiClient({ apiKey: opts.apiKey, baseURL: opts.baseURL ?? null, maxRetries: 0, timeout: 600_000 });
  }

  stream(req: { messages: ChatMessage[]; tools?: ToolDefinition[]; signal: AbortSignal }): AsyncIterable<LlmChunk> {
    const { client, opts } = this;
    const tools = req.tools && req.tools.length > 0 ? toOpenAiTools(req.tools) : undefined;
    return resilientStream(this.name, opts.policy ?? DEFAULT_STREAM_POLICY, opts.breaker, req.signal, async function* (signal) {
      const stream = await (await client).chat.completions.create(
        {
          model: opts.model,
          messages: toOpenAiMessages(req.messages),
          stream: true,
          ...(tools ? { tools } : {}),
          ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
        },
        { signal },
      );
      const pending = new Map<number, ToolCall>();
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta;
        if (!delta) continue;
        if (delta.content) yield { type: 'text', text: delta.content } satisfies LlmChunk;
        for (const tc of delta.tool_calls ?? []) {
          let call = pending.get(tc.index);
          if (!call) {
            call = { id: tc.id ?? `call_${tc.index}`, name: '', arguments: '' };
            pending.set(tc.index, call);
          }
          if (tc.id) call.id = tc.id;
          if (tc.function?.name) call.name += tc.function.name;
          if (tc.function?.arguments) call.arguments += tc.function.arguments;
        }
      }
      for (const call of [...pending.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c)) {
        yield { type: 'tool_call', call } satisfies LlmChunk;
      }
    });
  }
}
