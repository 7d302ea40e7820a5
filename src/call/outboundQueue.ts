// What the caller hears from the gateway, on the media clock: the one record of the audio sent to the
// carrier and not yet played, read by the recorder (each frame of a recorded call) and by listen-in
// (while a supervisor listens). The gateway sends audio as soon as it is produced (DESIGN decision 3)
// and the carrier plays it in real time, back to back from when each chunk was sent; a clear (barge-in)
// drops what was not played yet. Chunks are kept by reference, never copied: audio written to a
// playback does not change afterwards (cached prompts are shared and immutable, synthesized chunks are
// fresh), so a call keeps views of its own unplayed audio and nothing else, listened to or not.
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { MULAW_SILENCE } from '../../dsp/mulaw.ts';
/** Audio queued further ahead of the caller's clock than this still plays, but is not kept. */
const MAX_AHEAD_SAMPLES = SAMPLE_RATE_HZ * 120;

interface Chunk {
  /** Sample position (media clock) at which the carrier starts playing it. */
  start: number;
  bytes: Uint8Array;
}

export class OutboundQueue {
  #chunks: Chunk[] = [];
  /** Sample position at which all the audio sent so far has played. */
  #head = 0;

  /** `mulaw` sent at sample `now`: it plays after what is already queued. */
  add(mulaw: Uint8Array, now: number): void {
    this.#prune(now);
    const start = Math.max(this.#head, now);
    this.#head = start + mulaw.length;
    const keep = Math.min(mulaw.length, now + MAX_AHEAD_SAMPLES - start);
    if (keep <= 0) return;
    const last = this.#chunks.at(-1);
    if (last !== undefined && follows(last, start, mulaw)) {
      // The next piece of the same prompt: one view over both (a prompt is one entry, not one per chunk).
      last.bytes = new Uint8Array(mulaw.buffer, last.bytes.byteOffset, last.bytes.length + keep);
    } else {
      this.#chunks.push({ start, bytes: keep === mulaw.length ? mulaw : mulaw.subarray(0, keep) });
    }
  }

  /** Playback cleared at sample `now`: nothing queued after it is heard. */
  clear(now: number): void {
    const chunks = this.#chunks;
    let kept = chunks.length;
    while (kept > 0 && (chunks[kept - 1] as Chunk).start >= now) kept--;
    chunks.length = kept;
    const last = chunks[kept - 1];
    if (last !== undefined && last.start + last.bytes.length > now) last.bytes = last.bytes.subarray(0, now - last.start);
    this.#head = now;
  }

  /** Fills `out` with what the caller hears from sample `from` on (silence where nothing plays); what played before `from` is forgotten. */
  read(from: number, out: Uint8Array): void {
    this.#prune(from);
    out.fill(MULAW_SILENCE);
    const to = from + out.length;
    for (const c of this.#chunks) {
      if (c.start >= to) break;
      const src = Math.max(0, from - c.start);
      const dst = Math.max(0, c.start - from);
      const n = Math.min(c.bytes.length - src, out.length - dst);
      // Byte by byte: a frame is 160 bytes, and a subarray per read would allocate on the frame path.
      for (let i = 0; i < n; i++) out[dst + i] = c.bytes[src + i] as number;
    }
  }

  /** Chunks wholly played before `now` are forgotten. */
  #prune(now: number): void {
    const chunks = this.#chunks;
    let drop = 0;
    while (drop < chunks.length && (chunks[drop] as Chunk).start + (chunks[drop] as Chunk).bytes.length <= now) drop++;
    if (drop > 0) chunks.splice(0, drop);
  }
}

/** `mulaw`, played from `start`, continues `chunk` both in time and in memory. */
function follows(chunk: Chunk, start: number, mulaw: Uint8Array): boolean {
  const b = chunk.bytes;
  return chunk.start + b.length === start && b.buffer === mulaw.buffer && b.byteOffset + b.length === mulaw.byteOffset;
}
