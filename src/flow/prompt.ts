// Saying a prompt: text through the configured TTS streamed into an open playback as it is
// synthesized, or a WAV file from the audio folder. A prompt can be stopped (barge-in): the TTS
// stream is aborted and the carrier's buffer cleared, so the caller stops hearing it at once.
import type { CallEvent } from '../call/events.ts';
import { createError, GatewayError, isAbortError } from '../errors.ts';
import type { RunContext } from './context.ts';
import { Inbox } from './inbox.ts';
import type { Prompt } from './types.ts';

export interface PromptResult {
  interrupted: boolean;
  heardMs: number;
  audioMs: number;
}

export interface ActivePrompt {
  /** Resolves when the prompt was heard in full or stopped; rejects with a GatewayError on failure. */
  readonly done: Promise<PromptResult>;
  stop(reason: string): void;
}

export function startPrompt(ctx: RunContext, prompt: Prompt, label: string): ActivePrompt {
  const local = new AbortController();
  const signal = AbortSignal.any([ctx.signal, local.signal]);
  let stopped = false;
  let started = false;

  const stop = (reason: string): void => {
    if (stopped) return;
    stopped = true;
    local.abort();
    // Only clear what we queued: a stop before any audio went out has nothing to drop.
    if (started) ctx.call.clear(reason);
  };

  const run = async (): Promise<PromptResult> => {
    if (prompt.audio !== undefined) {
      const audio = ctx.deps.audio;
      if (audio === undefined) {
        throw createError('GW_ERR_FLOW_AUDIO_UNAVAILABLE', 'no audio folder is configured, so audio prompts cannot be played');
      }
      const bytes = await audio.load(prompt.audio);
      if (stopped || ctx.signal.aborted) return { interrupted: true, heardMs: 0, audioMs: 0 };
      ctx.emit('flow.prompt', { node: ctx.nodeId, label, audio: prompt.audio });
      started = true;
      const result = await ctx.call.play(bytes, { label }).done;
      return { interrupted: stopped || result.interrupted, heardMs: result.heardMs, audioMs: result.audioMs };
    }
    const text = ctx.render(prompt.text ?? '');
    const tts = ctx.deps.tts;
    if (tts === undefined) {
      throw createError('GW_ERR_FLOW_TTS_UNAVAILABLE', 'no text-to-speech is configured, so text prompts cannot be said; configure TTS or use audio files');
    }
    ctx.emit('flow.prompt', { node: ctx.nodeId, label, text });
    const writer = ctx.call.openPlayback({ label });
    started = true;
    try {
      for await (const chunk of tts.synthesize(text, { signal })) {
        if (stopped || signal.aborted) break;
        writer.write(chunk);
      }
    } catch (err) {
      if (!(isAbortError(err) && (stopped || ctx.signal.aborted))) {
        writer.end();
        if (err instanceof GatewayError && err.code.startsWith('GW_ERR_FLOW_')) throw err;
        throw createError('GW_ERR_FLOW_TTS_FAILED', `text-to-speech (${tts.name}) failed: ${(err as Error).message}`, { cause: err });
      }
    }
    writer.end();
    const result = await writer.done;
    return { interrupted: stopped || result.interrupted, heardMs: result.heardMs, audioMs: result.audioMs };
  };

  return { done: run(), stop };
}

/**
 * Say a prompt; when `interruptible`, a key press or caller speech stops it. Digits pressed to
 * interrupt are kept as type-ahead for the next gather.
 */
export async function speak(ctx: RunContext, prompt: Prompt, label: string, interruptible: boolean): Promise<PromptResult> {
  if (!interruptible) return startPrompt(ctx, prompt, label).done;
  const inbox = new Inbox<CallEvent>(ctx.call, ctx.signal, (e) =>
    (e.type === 'dtmf' && !ctx.observer.isDuplicateDtmf(e)) || e.type === 'speech.started' ? e : undefined,
  );
  // Keys pressed now interrupt the prompt and are type-ahead for the next gather, so in-band DTMF
  // listens for the prompt's length; a prompt that is not interruptible listens for nothing.
  const stopListening = ctx.call.listenFor('keys');
  const active = startPrompt(ctx, prompt, label);
  let bargedIn = false;
  inbox.onItem = (e) => {
    if (e.type === 'dtmf') ctx.typeAhead.push(e.digit);
    if (bargedIn) return;
    bargedIn = true;
    active.stop('barge-in');
    ctx.emit('flow.barge_in', { node: ctx.nodeId, by: e.type === 'dtmf' ? 'dtmf' : 'speech' });
  };
  try {
    return await active.done;
  } finally {
    stopListening();
    inbox.close();
  }
}
