// Nodes that wait for the detectors: `amd` (route on the answering-machine verdict) and `voicemail`
// (wait for the end of the machine's greeting, leave the message, hang up). Both read what the
// observer saw since the run started, then wait on the media clock for what has not happened yet.
// Verdicts can be revised (amd.revised, dsp/amd.ts): the observer keeps the verdict as it stands, so an
// `amd` node reached after a revision routes on the revised verdict — a flow that checks again after
// its first prompt (amd → say → amd) takes the machine branch when a late beep revised `human`.
import type { AmdResult, AnsweredBy, CallEvent } from '../../call/events.ts';
import { createError } from '../../errors.ts';
import { exit, type NodeResult, type RunContext } from '../context.ts';
import { Inbox } from '../inbox.ts';
import { speak } from '../prompt.ts';
import type { AmdNode, VoicemailNode } from '../types.ts';

/** Twilio's default AMD Timeout is 30 s (reference/telephony.md); the node uses the same. */
export const AMD_DEFAULT_TIMEOUT_MS = 30_000;
export const VOICEMAIL_DEFAULTS = { silenceMs: 1500, maxWaitMs: 30_000 } as const;
/**
 * After a greeting end that was not a beep (silence, timeout), a beep may still be on its way or
 * under way: a message started during the beep loses its first words. Wait this long for one; a
 * late start costs nothing on a machine that is recording.
 */
export const BEEP_GRACE_MS = 700;

export async function runAmd(ctx: RunContext, node: AmdNode): Promise<NodeResult> {
  const inbox = new Inbox<CallEvent>(ctx.call, ctx.signal, (e) => (e.type === 'amd.verdict' || e.type === 'fax.tone' ? e : undefined));
  try {
    let result: AmdResult;
    let answeredBy: AnsweredBy;
    let reason: string;
    let confidence: number | null = null;
    let previous: AmdResult | undefined;
    const seen = ctx.observer.amdVerdict;
    if (seen !== undefined) {
      ({ result, answeredBy, reason, confidence, previous } = seen);
    } else if (ctx.observer.faxAtMs !== undefined) {
      result = 'fax';
      answeredBy = 'fax';
      reason = 'fax_tone';
    } else {
      const e = await inbox.next(node.timeoutMs ?? AMD_DEFAULT_TIMEOUT_MS);
      if (e === 'timeout') {
        result = 'unknown';
        answeredBy = 'unknown';
        reason = 'timeout';
      } else if (e.type === 'amd.verdict') {
        ({ result, answeredBy, reason, confidence } = e);
      } else {
        result = 'fax';
        answeredBy = 'fax';
        reason = 'fax_tone';
      }
    }
    ctx.setRoot('amd', { result, answeredBy, reason, confidence, revisedFrom: previous ?? null });
    // A verdict the detector is not sure enough of is not acted on: a person hung up on is the worst outcome.
    const unsure = node.minConfidence !== undefined && (result === 'human' || result === 'machine') && (confidence ?? 0) < node.minConfidence;
    if (unsure) {
      if (node.uncertain !== undefined) return exit('uncertain', node.uncertain);
      return node.unknown !== undefined ? exit('unknown', node.unknown) : exit('human', node.human);
    }
    switch (result) {
      case 'human':
        return exit('human', node.human);
      case 'machine':
        return exit('machine', node.machine);
      case 'fax':
        return node.fax !== undefined ? exit('fax', node.fax) : exit('machine', node.machine);
      case 'unknown':
        return node.unknown !== undefined ? exit('unknown', node.unknown) : exit('human', node.human);
    }
  } finally {
    inbox.close();
  }
}

type GreetingEnd = 'beep' | 'message_end' | 'silence' | 'max_wait' | 'message_end+beep' | 'silence+beep';

export async function runVoicemail(ctx: RunContext, node: VoicemailNode): Promise<NodeResult> {
  const ended = await waitForGreetingEnd(ctx, node.silenceMs ?? VOICEMAIL_DEFAULTS.silenceMs, node.maxWaitMs ?? VOICEMAIL_DEFAULTS.maxWaitMs);
  ctx.emit('flow.voicemail.greeting_ended', { node: ctx.nodeId, by: ended });
  const prompt = node.audio !== undefined ? { audio: node.audio } : { text: node.text ?? '' };
  const result = await speak(ctx, prompt, `voicemail:${ctx.nodeId}`, false);
  ctx.emit('flow.voicemail.left', { node: ctx.nodeId, heardMs: result.heardMs, audioMs: result.audioMs });
  try {
    await ctx.call.hangup('voicemail_left');
  } catch (cause) {
    throw createError('GW_ERR_FLOW_HANGUP_FAILED', `hanging up after the voicemail failed: ${(cause as Error).message}`, { cause });
  }
  return { kind: 'end', outcome: 'voicemail', reason: `voicemail_left:${ended}` };
}

/** Wait up to BEEP_GRACE_MS for a beep after a greeting end that was not one. */
async function graceForBeep(inbox: Inbox<CallEvent>, by: 'message_end' | 'silence'): Promise<GreetingEnd> {
  for (;;) {
    const e = await inbox.next(BEEP_GRACE_MS);
    if (e === 'timeout') return by;
    if (e.type === 'beep') return `${by}+beep`;
  }
}

/**
 * The greeting has ended at a beep, at the AMD's message end, or after `silenceMs` without speech
 * once some speech was heard; `maxWaitMs` bounds the wait (then the message is left anyway, as a
 * greeting that never ends still records).
 */
async function waitForGreetingEnd(ctx: RunContext, silenceMs: number, maxWaitMs: number): Promise<GreetingEnd> {
  const obs = ctx.observer;
  const startMs = ctx.call.mediaMs();
  const inbox = new Inbox<CallEvent>(ctx.call, ctx.signal, (e) =>
    e.type === 'beep' || e.type === 'amd.message_end' || e.type === 'speech.started' || e.type === 'speech.stopped' ? e : undefined,
  );
  // The beep detector keeps running after AMD has heard the greeting end only for a node that waits.
  const stopListening = ctx.call.listenFor('beep');
  try {
    // A beep or message end that came after the machine verdict already marks the end.
    const verdictAt = obs.amdVerdict?.atMs ?? 0;
    if (obs.lastBeepAtMs !== undefined && obs.lastBeepAtMs >= verdictAt) return 'beep';
    if (obs.messageEnd !== undefined) return obs.messageEnd.answeredBy === 'machine_end_beep' ? 'message_end' : await graceForBeep(inbox, 'message_end');
    let speaking = obs.speaking;
    let heard = obs.heardSpeech;
    let silentSince = obs.lastSpeechStoppedAtMs ?? startMs;
    for (;;) {
      const now = ctx.call.mediaMs();
      const left = maxWaitMs - (now - startMs);
      if (left <= 0) return 'max_wait';
      const silenceLeft = heard && !speaking ? silenceMs - (now - silentSince) : Infinity;
      if (silenceLeft <= 0) return await graceForBeep(inbox, 'silence');
      const e = await inbox.next(Math.min(left, silenceLeft));
      if (e === 'timeout') continue;
      switch (e.type) {
        case 'beep':
          return 'beep';
        case 'amd.message_end':
          return e.answeredBy === 'machine_end_beep' ? 'message_end' : await graceForBeep(inbox, 'message_end');
        case 'speech.started':
          speaking = true;
          heard = true;
          break;
        case 'speech.stopped':
          speaking = false;
          silentSince = e.atMs;
          break;
        default:
          break;
      }
    }
  } finally {
    stopListening();
    inbox.close();
  }
}
