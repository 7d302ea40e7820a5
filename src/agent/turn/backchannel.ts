// Short acknowledgements that mean "go on", not "stop": they must not interrupt the agent (the third
// most common telephony complaint in ../shared/reference/frameworks.md). Vocode's low interrupt
// sensitivity ignores utterances of three words or fewer; we are stricter and only ignore known
// backchannel words, so a short "stop" or "wait" still interrupts.
const BACKCHANNEL_WORDS = new Set([
  'mm', 'mmm', 'hm', 'hmm', 'mhm', 'mm-hm', 'mm-hmm', 'uh-huh', 'uh', 'huh', 'um', 'ah', 'oh', 'yeah', 'yep', 'yes', 'ya',
  'okay', 'ok', 'right', 'sure', 'alright', 'cool', 'great', 'got', 'it', 'i', 'see', 'uhuh', 'aha',
]);

export function isBackchannel(text: string): boolean {
  const words = text
    .toLowerCase()
    .replace(/[^\p{L}\s'-]/gu, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
  if (words.length === 0) return true; // noise the recogniser could not turn into words
  if (words.length > 3) return false;
  return words.every((w) => BACKCHANNEL_WORDS.has(w));
}
