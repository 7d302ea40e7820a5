// `gather`: prompt, then collect DTMF digits and/or a spoken answer, with retries. All timeouts run on
// the media clock (Inbox.next → call.sleep). Digits end on maxDigits, the finish key or the
// inter-digit timeout; speech ends on the STT's final transcript. Digits pressed to interrupt an
// earlier prompt count as the first digits (type-ahead), and then the prompt is skipped.
import { createError, isAbortError } from '../../errors.ts';
import { exit, type NodeResult, type RunContext } from '../context.ts';
import { evaluate, truthy } from '../expression.ts';
import { Inbox } from '../inbox.ts';
import { startPrompt } from '../prompt.ts';
import type { GatherNode, Prompt } from '../types.ts';

type Item =
  | { kind: 'dtmf'; digit: string }
  | { kind: 'speech_started' }
  | { kind: 'partial'; text: string }
  | { kind: 'final'; text: string }
  | { kind: 'stt_error'; message: string };

type Collected =
  | { source: 'dtmf'; digits: string; finishedBy: 'max_digits' | 'finish_key' | 'timeout' }
  | { source: 'speech'; text: string; finishedBy: 'final' | 'timeout' }
  | { source: 'none' };

interface Config {
  dtmf: boolean;
  speech: boolean;
  maxDigits: number;
  finishOnKey: string;
  interDigitTimeoutMs: number;
  noInputTimeoutMs: number;
  speechTimeoutMs: number;
  interruptible: boolean;
  language: string | undefined;
}

/** Defaults, as in the schema: one digit, '#', 3 s between digits, 5 s for no input, 2 retries. */
export const GATHER_DEFAULTS = {
  maxDigits: 1,
  finishOnKey: '#',
  interDigitTimeoutMs: 3000,
  noInputTimeoutMs: 5000,
  speechTimeoutMs: 10_000,
  retries: 2,
} as const;

export async function runGather(ctx: RunContext, node: GatherNode): Promise<NodeResult> {
  const inputs = node.input ?? ['dtmf'];
  const dtmf = inputs.includes('dtmf');
  let speech = inputs.includes('speech');
  if (speech && ctx.deps.stt === undefined) {
    speech = false;
    if (!dtmf) {
      throw createError('GW_ERR_FLOW_SPEECH_UNAVAILABLE', 'this gather node accepts only speech, but no speech-to-text is configured');
    }
    ctx.emit('flow.warning', { node: ctx.nodeId, code: 'GW_ERR_FLOW_SPEECH_UNAVAILABLE', message: 'speech input unavailable; collecting DTMF only' });
  }
  const cfg: Config = {
    dtmf,
    speech,
    maxDigits: node.maxDigits ?? GATHER_DEFAULTS.maxDigits,
    finishOnKey: node.finishOnKey ?? GATHER_DEFAULTS.finishOnKey,
    interDigitTimeoutMs: node.interDigitTimeoutMs ?? GATHER_DEFAULTS.interDigitTimeoutMs,
    noInputTimeoutMs: node.noInputTimeoutMs ?? GATHER_DEFAULTS.noInputTimeoutMs,
    speechTimeoutMs: node.speechTimeoutMs ?? GATHER_DEFAULTS.speechTimeoutMs,
    interruptible: node.interruptible ?? true,
    language: node.language,
  };
  const attempts = (node.retries ?? GATHER_DEFAULTS.retries) + 1;
  let last: 'none' | 'invalid' = 'none';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const prompts: Prompt[] = [];
    if (attempt === 1) {
      if (node.prompt !== undefined) prompts.push(node.prompt);
    } else {
      if (last === 'invalid' && node.invalidPrompt !== undefined) prompts.push(node.invalidPrompt);
      const again = node.reprompt ?? node.prompt;
      if (again !== undefined) prompts.push(again);
    }
    const got = await collectOnce(ctx, cfg, prompts, attempt);
    if (got.source === 'none') {
      ctx.emit('flow.input', { node: ctx.nodeId, attempt, source: 'none' });
      last = 'none';
      continue;
    }
    const value = got.source === 'dtmf' ? got.digits : got.text;
    ctx.emit('flow.input', { node: ctx.nodeId, attempt, source: got.source, value, finishedBy: got.finishedBy });
    ctx.setRoot('input', {
      value,
      digits: got.source === 'dtmf' ? got.digits : null,
      speech: got.source === 'speech' ? got.text : null,
      source: got.source,
      attempt,
    });
    if (node.valid !== undefined && !truthy(evaluate(ctx.templates.expression(node.valid), ctx.scope))) {
      ctx.emit('flow.input.rejected', { node: ctx.nodeId, attempt, value });
      last = 'invalid';
      continue;
    }
    if (node.resultVar !== undefined) ctx.setVar(node.resultVar, value);
    return exit('next', node.next);
  }
  if (last === 'invalid' && node.noMatch !== undefined) return exit('noMatch', node.noMatch);
  ctx.setRoot('input', { value: null, digits: null, speech: null, source: 'none', attempt: attempts });
  return exit('noInput', node.noInput);
}

async function collectOnce(ctx: RunContext, cfg: Config, prompts: Prompt[], attempt: number): Promise<Collected> {
  const inbox = new Inbox<Item>(ctx.call, ctx.signal, (e) => {
    if (e.type === 'dtmf' && cfg.dtmf && !ctx.observer.isDuplicateDtmf(e)) return { kind: 'dtmf', digit: e.digit };
    if (e.type === 'speech.started' && cfg.speech) return { kind: 'speech_started' };
    return undefined;
  });
  const speech = cfg.speech ? openSpeech(ctx, inbox, cfg.language) : undefined;
  // In-band DTMF runs while the attempt takes keys, its prompts included (a key interrupts them).
  const stopListening = cfg.dtmf ? ctx.call.listenFor('keys') : undefined;
  try {
    if (cfg.dtmf && ctx.typeAhead.length > 0) {
      inbox.unshift(ctx.typeAhead.map((digit) => ({ kind: 'dtmf', digit })));
      ctx.typeAhead = [];
    }
    for (let i = 0; i < prompts.length; i++) {
      if (inbox.pending() > 0) break;
      const active = startPrompt(ctx, prompts[i] as Prompt, `gather:${ctx.nodeId}:${attempt}`);
      if (cfg.interruptible) {
        inbox.onItem = (item) => {
          if (item.kind === 'dtmf' || item.kind === 'speech_started') active.stop('barge-in');
        };
      }
      const result = await active.done;
      inbox.onItem = undefined;
      if (result.interrupted) break;
    }
    return await collect(inbox, cfg);
  } finally {
    stopListening?.();
    inbox.close();
    await speech?.close();
  }
}

async function collect(inbox: Inbox<Item>, cfg: Config): Promise<Collected> {
  let digits = '';
  let speaking = false;
  let partial = '';
  for (;;) {
    const timeoutMs = digits !== '' ? cfg.interDigitTimeoutMs : speaking ? cfg.speechTimeoutMs : cfg.noInputTimeoutMs;
    const item = await inbox.next(timeoutMs);
    if (item === 'timeout') {
      if (digits !== '') return { source: 'dtmf', digits, finishedBy: 'timeout' };
      if (partial.trim() !== '') return { source: 'speech', text: partial.trim(), finishedBy: 'timeout' };
      return { source: 'none' };
    }
    switch (item.kind) {
      case 'dtmf':
        if (cfg.finishOnKey !== '' && item.digit === cfg.finishOnKey) {
          // The finish key alone submits nothing: it counts as no input (as Twilio's <Gather> does).
          return digits === '' ? { source: 'none' } : { source: 'dtmf', digits, finishedBy: 'finish_key' };
        }
        digits += item.digit;
        if (digits.length >= cfg.maxDigits) return { source: 'dtmf', digits, finishedBy: 'max_digits' };
        break;
      case 'speech_started':
        if (digits === '') speaking = true;
        break;
      case 'partial':
        if (digits === '') {
          speaking = true;
          partial = item.text;
        }
        break;
      case 'final':
        if (digits === '' && item.text.trim() !== '') return { source: 'speech', text: item.text.trim(), finishedBy: 'final' };
        break;
      case 'stt_error':
        if (digits === '') throw createError('GW_ERR_FLOW_STT_FAILED', `speech-to-text failed: ${item.message}`);
        break;
    }
  }
}

/** An STT stream fed with the caller's audio for as long as the attempt listens. */
function openSpeech(ctx: RunContext, inbox: Inbox<Item>, language: string | undefined): { close(): Promise<void> } {
  const stt = ctx.deps.stt;
  if (stt === undefined) throw createError('GW_ERR_FLOW_SPEECH_UNAVAILABLE', 'no speech-to-text is configured');
  const local = new AbortController();
  const signal = AbortSignal.any([ctx.signal, local.signal]);
  const stream = stt.open(language === undefined ? { signal } : { signal, language });
  // SttStream.write must not block and buffers (copies) what it keeps (providers.ts contract), so
  // the session's reused frame buffer is handed over without a per-frame copy here.
  const removeConsumer = ctx.call.addMediaConsumer((mulaw, atMs) => stream.write(mulaw, atMs));
  const pump = (async () => {
    try {
      for await (const ev of stream) {
        if (ev.type === 'final') inbox.push({ kind: 'final', text: ev.text });
        else if (ev.type === 'partial') inbox.push({ kind: 'partial', text: ev.text });
        else if (ev.type === 'speech_started') inbox.push({ kind: 'speech_started' });
      }
    } catch (err) {
      if (!(isAbortError(err) || signal.aborted)) inbox.push({ kind: 'stt_error', message: (err as Error).message });
    }
  })();
  return {
    async close() {
      removeConsumer();
      stream.close();
      local.abort();
      await pump;
    },
  };
}
