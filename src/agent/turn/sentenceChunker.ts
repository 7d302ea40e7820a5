// Splits streaming LLM text into speakable sentences so each goes to TTS the moment it is complete
// (first words fast). A boundary is sentence punctuation followed by whitespace — the whitespace is
// needed to tell "3.5" or "e.g." mid-token from a real end — and common abbreviations are not ends.
// Very long runs without punctuation are cut at the last comma or space so TTS never waits too long.
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'st', 'jr', 'sr', 'vs', 'etc', 'e.g', 'i.e', 'approx', 'no', 'inc', 'ltd']);

export interface SentenceChunkerOptions {
  /**
   * The first piece of an answer may end at a clause break (", ", "; ", " - ") once it is this long,
   * so the caller hears the first words before the model finishes its first sentence. 0 = off.
   */
  firstClauseMinChars?: number;
  /** A sentence shorter than this waits to be joined with the next (avoids a TTS call for "So."). */
  minChars?: number;
  /** Force a cut when this long without a boundary. */
  maxChars?: number;
}

export class SentenceChunker {
  private buf = '';
  private readonly minChars: number;
  private readonly maxChars: number;
  private readonly firstClauseMinChars: number;
  private emitted = false;

  constructor(opts: SentenceChunkerOptions = {}) {
    this.minChars = opts.minChars ?? 2;
    this.maxChars = opts.maxChars ?? 220;
    this.firstClauseMinChars = opts.firstClauseMinChars ?? 0;
  }

  /** Add streamed text; returns the sentences now complete (possibly none). */
  push(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    let start = 0;
    const re = /[.!?…]+["')\]]*(\s+)/g;
    for (let m = re.exec(this.buf); m; m = re.exec(this.buf)) {
      const end = m.index + m[0].length - (m[1]?.length ?? 0);
      const candidate = this.buf.slice(start, end).trim();
      // Only a full stop can belong to an abbreviation ("No. 5" but not "No!").
      const lastWord = /([\w.]+)\.["')\]]*$/.exec(candidate)?.[1]?.toLowerCase();
      if (candidate.length < this.minChars || (lastWord !== undefined && ABBREVIATIONS.has(lastWord))) continue;
      out.push(candidate);
      start = m.index + m[0].length;
    }
    this.buf = this.buf.slice(start);
    if (!this.emitted && out.length === 0 && this.firstClauseMinChars > 0 && this.buf.length >= this.firstClauseMinChars) {
      const clause = /^(.*?[,;:]|.*? -)\s+/s.exec(this.buf.slice(this.firstClauseMinChars - 1));
      if (clause) {
        const at = this.firstClauseMinChars - 1 + clause[0].length;
        out.push(this.buf.slice(0, at).trim());
        this.buf = this.buf.slice(at);
      }
    }
    while (this.buf.length > this.maxChars) {
      const window = this.buf.slice(0, this.maxChars);
      const cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; ')) + 1 || window.lastIndexOf(' ');
      const at = cut > 0 ? cut : this.maxChars;
      out.push(this.buf.slice(0, at).trim());
      this.buf = this.buf.slice(at).trimStart();
    }
    const result = out.filter((s) => s.length > 0);
    if (result.length > 0) this.emitted = true;
    return result;
  }

  /** The rest, at the end of the stream. */
  flush(): string | undefined {
    const rest = this.buf.trim();
    this.buf = '';
    this.emitted = false;
    return rest.length > 0 ? rest : undefined;
  }
}
