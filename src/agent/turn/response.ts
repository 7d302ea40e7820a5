// One assistant turn's work, apart from the turn-taking around it: the LLM stream cut into sentences,
// each sentence synthesized and written to the turn's Utterance as soon as it is complete (so the first
// sentence plays while the rest is generated), the tools the model calls, and — when the caller cut the
// turn short — the history rewritten to what was actually heard.
import type { CallControl } from '../../call/control.ts';
import { GatewayError } from '../../errors.ts';
import type { AgentNodeSpec, AgentOutcome } from '../node.ts';
import type { ChatMessage, LanguageModel, TextToSpeech, ToolCall } from '../providers.ts';
import { decideTool, toolDefinitions, type ToolDecision } from '../tools.ts';
import type { TtsCache } from '../tts/cache.ts';
import type { StreamingTextToSpeech } from '../tts/elevenlabsStreamInput.ts';
import type { SynthesizeOptions } from '../tts/fallback.ts';
import { heardText } from './heardText.ts';
import type { TurnMetrics } from './metrics.ts';
import { SentenceChunker } from './sentenceChunker.ts';
import { SentenceSpeech, TokenSpeech, type SpeechOut } from './speechOut.ts';
import type { Utterance } from './utterance.ts';

/** One response (or static prompt) in flight: its cancellation, audio and bookkeeping. */
export interface TurnRun {
  n: number;
  ac: AbortController;
  utterance: Utterance;
  metrics: TurnMetrics | undefined;
  /** The user message that started it (put back on a merge). */
  userMsg: ChatMessage | undefined;
  /** Assistant messages of this run and the sentence indexes each one spoke. */
  spoken: { msg: ChatMessage; first: number; last: number }[];
  outcome: AgentOutcome | undefined;
  failed: boolean;
  /** The TTS provider that answered (a fallback chain names the link that did). */
  provider: string | undefined;
}

/** What a response needs from the agent session. */
export interface ResponseContext {
  call: CallControl;
  llm: LanguageModel;
  tts: TextToSpeech;
  ttsCache: TtsCache | undefined;
  /** The conversation; responses append to it and truncation rewrites it. */
  history: ChatMessage[];
  spec: AgentNodeSpec;
  variables: Record<string, unknown>;
  maxToolHops: number;
  /** Token streaming TTS (ElevenLabs stream-input); `tts` stays the fallback. */
  streamTts: StreamingTextToSpeech | undefined;
  streamFirstAudioTimeoutMs: number;
  /** See SentenceChunkerOptions.firstClauseMinChars. */
  firstClauseMinChars: number;
  emit(type: `agent.${string}` | `turn.${string}`, data: Record<string, unknown>): void;
}

/** A fixed prompt (greeting, reprompt, apology): from the cache when there is one. */
export async function speakStatic(ctx: ResponseContext, run: TurnRun, text: string): Promise<void> {
  const msg: ChatMessage = { role: 'assistant', content: text };
  ctx.history.push(msg);
  const idx = run.utterance.beginSentence(text);
  run.spoken.push({ msg, first: idx, last: idx });
  const t0 = performance.now();
  const opts = synthOptions(ctx, run);
  if (ctx.ttsCache) {
    const audio = await ctx.ttsCache.get(text, opts);
    if (run.ac.signal.aborted) return;
    run.utterance.write(idx, audio);
  } else {
    for await (const c of ctx.tts.synthesize(text, opts)) run.utterance.write(idx, c);
  }
  run.utterance.endSentence(idx);
  ctx.emit('agent.static_prompt', { label: run.utterance.label, sinceRequestWallMs: Math.round((performance.now() - t0) * 1000) / 1000 });
  run.utterance.finish();
}

export function synthOptions(ctx: ResponseContext, run: TurnRun): SynthesizeOptions {
  return {
    signal: run.ac.signal,
    onFallback: (n) =>
      ctx.emit('agent.tts_fallback', { turn: run.n, from: n.from, to: n.to, code: n.error instanceof GatewayError ? n.error.code : 'unknown' }),
    onProvider: (name) => (run.provider = name),
  };
}

/**
 * One answer: stream the LLM, speak each sentence as soon as it is complete (TTS of sentence n+1
 * overlaps playback of n), run the tools it calls and ask again after non-terminal ones.
 */
export async function generateResponse(ctx: ResponseContext, run: TurnRun): Promise<void> {
  const llm = ctx.llm;
  const tools = toolDefinitions(ctx.spec.tools, ctx.spec.departments, ctx.spec.transferNumbers);
  const options = () => synthOptions(ctx, run);
  const speech: SpeechOut = ctx.streamTts
    ? new TokenSpeech(run, ctx.streamTts, ctx.tts, options, ctx.streamFirstAudioTimeoutMs, (error) =>
        ctx.emit('agent.tts_fallback', { turn: run.n, from: ctx.streamTts?.name, to: ctx.tts.name, code: error instanceof GatewayError ? error.code : 'unknown' }),
      )
    : new SentenceSpeech(run, ctx.tts, options);
  for (let hop = 0; hop <= ctx.maxToolHops && !run.ac.signal.aborted; hop++) {
    const msg: ChatMessage = { role: 'assistant', content: '' };
    ctx.history.push(msg);
    const chunker = new SentenceChunker({ firstClauseMinChars: ctx.firstClauseMinChars });
    const calls: ToolCall[] = [];
    run.metrics?.llmRequest();
    for await (const chunk of llm.stream({ messages: ctx.history.filter((m) => m !== msg), tools, signal: run.ac.signal })) {
      if (speech.failed) break;
      if (chunk.type === 'text') {
        run.metrics?.llmFirstToken();
        msg.content += chunk.text;
        speech.token(chunk.text);
        for (const s of chunker.push(chunk.text)) speech.sentence(s, msg);
      } else calls.push(chunk.call);
    }
    if (run.ac.signal.aborted) return;
    const rest = chunker.flush();
    if (rest) speech.sentence(rest, msg);
    msg.content = msg.content.trim();
    if (calls.length === 0) {
      if (msg.content === '') {
        removeMessage(ctx.history, msg);
        run.failed = true; // an empty answer: treated like a failure so the caller hears something
      }
      break;
    }
    msg.toolCalls = calls;
    let again = false;
    for (const call of calls) {
      const d = decideTool(call, ctx.spec.tools, ctx.spec.departments, ctx.spec.transferNumbers);
      ctx.emit('agent.tool', { turn: run.n, name: call.name, arguments: call.arguments, decision: d.kind });
      ctx.history.push({ role: 'tool', toolCallId: call.id, content: applyTool(ctx, d, run) });
      if (d.kind !== 'terminal') again = true;
    }
    if (run.outcome || !again) break;
  }
  await speech.close();
  run.utterance.finish();
}

function applyTool(ctx: ResponseContext, d: ToolDecision, run: TurnRun): string {
  switch (d.kind) {
    case 'terminal':
      run.outcome ??= {
        exit: d.exit,
        reason: d.reason,
        variables: ctx.variables,
        ...(d.result !== undefined ? { result: d.result } : {}),
        ...(d.transferTo !== undefined ? { transferTo: d.transferTo } : {}),
      };
      return d.toolResult;
    case 'set_variable':
      ctx.variables[d.name] = d.value;
      return 'ok';
    case 'send_dtmf':
      try {
        ctx.call.sendDtmf(d.digits);
        return 'sent';
      } catch (err) {
        return `error: ${err instanceof GatewayError ? err.code : 'send failed'}`;
      }
    case 'invalid':
      return d.toolResult;
  }
}

/** Cut the run's assistant messages to what was heard; drop unanswered tool calls. */
export function truncateRun(history: ChatMessage[], run: TurnRun): void {
  const sentences = run.utterance.spoken();
  const heard = run.utterance.heardMs();
  const complete = !run.utterance.isPaused && !run.ac.signal.aborted && !run.failed;
  for (const { msg, first, last } of run.spoken) {
    if (!complete) {
      const own = sentences.slice(first, last + 1);
      msg.content = heardText(own, heard);
    }
  }
  // Assistant messages of this run with tool calls whose results are in the history stay valid;
  // messages without any heard text or calls are removed.
  for (let i = history.length - 1; i >= 0; i--) {
    const m = history[i]!;
    if (m.role === 'assistant' && m.content === '' && !m.toolCalls && run.spoken.some((s) => s.msg === m)) history.splice(i, 1);
  }
}

export function removeMessage(history: ChatMessage[], msg: ChatMessage): void {
  const i = history.lastIndexOf(msg);
  if (i >= 0) history.splice(i, 1);
}
