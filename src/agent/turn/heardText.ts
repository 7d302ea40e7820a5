// What the caller actually heard of an assistant turn, for the conversation history (DESIGN decision
// 3). Each sentence's audio span is known; the heard position comes from mark echoes. Whole sentences
// before it are kept; the sentence it falls in is cut in proportion to the audio heard, at a word
// boundary (speech rate within one sentence is near enough constant for this purpose).
export interface SpokenSentence {
  text: string;
  /** Offset of the sentence's first audio byte in the turn's audio. */
  startMs: number;
  /** Audio synthesized for it so far. */
  durationMs: number;
}

export function heardText(sentences: readonly SpokenSentence[], heardMs: number): string {
  const parts: string[] = [];
  for (const s of sentences) {
    if (s.durationMs <= 0) break;
    const end = s.startMs + s.durationMs;
    if (heardMs >= end) {
      parts.push(s.text);
      continue;
    }
    if (heardMs > s.startMs) {
      const fraction = (heardMs - s.startMs) / s.durationMs;
      const words = s.text.split(/\s+/);
      const keep = Math.floor(words.length * fraction);
      if (keep > 0) parts.push(`${words.slice(0, keep).join(' ')}…`);
    }
    break;
  }
  return parts.join(' ');
}
