// Deciding that the caller has finished: VAD silence plus what the transcript says. After a complete
// sentence ("…my account.") the agent answers quickly; after a trailing conjunction or filler ("and…",
// "um") it waits longer, because the caller is mid-thought (LiveKit agents' endpointing uses the same
// idea with min 500 / max 3000 ms; Pipecat waits 0.6 s). The wait is counted from the VAD's speech end
// on the media clock and reported per turn.
export interface EndpointingOptions {
  /** Wait after a transcript that ends a sentence. */
  completeMs: number;
  /** Wait after a transcript with no clear ending. */
  neutralMs: number;
  /** Wait after a trailing conjunction, preposition or filler. */
  incompleteMs: number;
  /** If no transcript has arrived this long after speech end, take what there is (or nothing). */
  transcriptTimeoutMs: number;
}

/**
 * Silence after the caller's last sound. The call VAD's own 240 ms hangover is part of it (the agent
 * dates speech end before the hangover), so "complete" commits 160 ms after the VAD says stop.
 */
export const DEFAULT_ENDPOINTING: EndpointingOptions = { completeMs: 400, neutralMs: 800, incompleteMs: 1800, transcriptTimeoutMs: 2000 };

const TRAILING_INCOMPLETE = new Set([
  'and', 'but', 'or', 'so', 'because', 'then', 'um', 'uh', 'erm', 'er', 'hmm', 'like', 'the', 'a', 'an', 'to', 'of',
  'with', 'for', 'my', 'is', 'was', 'if', 'that', 'which', 'when', 'also', 'plus', 'i', "i'm", 'we', 'you',
]);

export type EndpointReason = 'complete' | 'neutral' | 'incomplete' | 'no_transcript';

export function classifyTranscript(text: string): Exclude<EndpointReason, 'no_transcript'> {
  const t = text.trim();
  if (/(\.\.\.|…|,|-)$/.test(t)) return 'incomplete';
  const last = /([\p{L}']+)\W*$/u.exec(t)?.[1]?.toLowerCase();
  if (last !== undefined && TRAILING_INCOMPLETE.has(last)) return 'incomplete';
  if (/[.!?]["')\]]*$/.test(t)) return 'complete';
  return 'neutral';
}

/** How long to wait after speech end before the turn is the caller's last word. */
export function endpointWait(text: string | undefined, o: EndpointingOptions): { waitMs: number; reason: EndpointReason } {
  if (text === undefined || text.trim() === '') return { waitMs: o.transcriptTimeoutMs, reason: 'no_transcript' };
  const reason = classifyTranscript(text);
  return { waitMs: reason === 'complete' ? o.completeMs : reason === 'incomplete' ? o.incompleteMs : o.neutralMs, reason };
}
