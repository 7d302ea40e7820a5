// Both sides of a call as turns on the media clock, assembled from its timeline: the caller from
// committed speech (agent turns, speech gathers) and keys pressed; the gateway from the prompts and
// agent sentences the caller actually heard (marks, DESIGN decision 3), cut where a barge-in stopped them.
// Events are typed (switching on `type` narrows them); rows stored by other versions may still differ,
// so values are coerced where they are read.
import type { CallEvent } from '../call/events.ts';

export interface TranscriptTurn {
  speaker: 'caller' | 'gateway';
  text: string;
  /** Media time (ms since the stream started) where the turn began and ended. */
  startMs: number;
  endMs: number;
  source: 'stt' | 'dtmf' | 'prompt' | 'agent';
  /** The gateway was cut off (barge-in or hang-up) before the end of what it meant to say. */
  interrupted: boolean;
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

/** The first fraction of a prompt's words, in proportion to the audio heard (an ellipsis marks the cut). */
export function cutToHeard(full: string, heardMs: number, audioMs: number): string {
  if (audioMs <= 0 || heardMs >= audioMs) return full;
  const words = full.split(/\s+/).filter((w) => w !== '');
  const keep = Math.floor((words.length * Math.max(0, heardMs)) / audioMs);
  return keep <= 0 ? '' : `${words.slice(0, keep).join(' ')}…`;
}

export function buildTranscript(events: readonly CallEvent[]): TranscriptTurn[] {
  const turns: TranscriptTurn[] = [];
  let lastSpeechStart: number | undefined;
  // Prompt text by playback label, waiting for its playout to say how much was heard.
  const prompts = new Map<string, string>();
  /** The caller's words (or keys) committed at `at`; speech is dated from when it began. */
  const callerSaid = (value: unknown, keys: boolean, at: number): void => {
    const t = text(value);
    if (t === '') return;
    turns.push({ speaker: 'caller', text: t, startMs: keys ? at : (lastSpeechStart ?? at), endMs: at, source: keys ? 'dtmf' : 'stt', interrupted: false });
  };
  for (const e of events) {
    const at = num(e.atMs, 0);
    switch (e.type) {
      case 'speech.started':
        lastSpeechStart = at;
        break;
      case 'turn.transcript':
        callerSaid(e.data.text, e.data.source === 'dtmf', at);
        break;
      case 'flow.input':
        if (e.data.source === 'speech' || e.data.source === 'dtmf') callerSaid(e.data.value, e.data.source === 'dtmf', at);
        break;
      case 'flow.prompt': {
        const t = 'text' in e.data ? text(e.data.text) : '';
        if (t !== '' && typeof e.data.label === 'string') prompts.set(e.data.label, t);
        break;
      }
      case 'playout.finished': {
        const label = typeof e.label === 'string' ? e.label : '';
        const full = prompts.get(label);
        if (full === undefined) break;
        prompts.delete(label);
        const heardMs = num(e.heardMs, 0);
        const said = cutToHeard(full, heardMs, num(e.audioMs, 0));
        if (said !== '') turns.push({ speaker: 'gateway', text: said, startMs: Math.max(0, at - heardMs), endMs: at, source: 'prompt', interrupted: e.interrupted === true });
        break;
      }
      case 'turn.completed':
      case 'turn.interrupted': {
        const t = text(e.type === 'turn.completed' ? e.data.text : e.data.heardText);
        if (t === '') break;
        const heardMs = num(e.data.heardMs, 0);
        turns.push({ speaker: 'gateway', text: t, startMs: Math.max(0, at - heardMs), endMs: at, source: 'agent', interrupted: e.type === 'turn.interrupted' });
        break;
      }
    }
  }
  // Events are in timeline order of when each turn was *known*; the transcript reads by when it began.
  return turns.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
}
