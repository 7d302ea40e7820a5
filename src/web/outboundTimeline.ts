// What the caller hears from the gateway, on the call's media clock. The gateway sends a prompt to the
// carrier as fast as it is produced (DESIGN decision 3) and the carrier plays it out in real time; a
// listener joining mid-prompt, or tapping the bursts as they are sent, would hear silence (or the
// prompt squeezed into an instant). This keeps the audio sent but not yet played, each chunk at the
// media time the carrier plays it (back to back from when it was sent), and drops what a `clear`
// (barge-in) removed at the carrier. Only unplayed audio is kept: memory follows the prompt queued at
// the carrier, bounded by MAX_QUEUED_MS.
import type { CallEvent } from '../call/events.ts';

const BYTES_PER_MS = 8;
/** Mu-law silence (G.711: 0xFF is +0). */
export const MULAW_SILENCE = 0xff;
/** Unplayed audio kept at most (a carrier buffer longer than this is cut at its oldest). */
const MAX_QUEUED_MS = 120_000;

interface Chunk {
  startMs: number;
  bytes: Uint8Array;
}

export interface TimedCall {
  mediaMs(): number;
  addOutboundConsumer(consumer: (mulaw: Uint8Array) => void): () => void;
  subscribe(listener: (event: CallEvent) => void): () => void;
}

export class OutboundTimeline {
  private readonly call: TimedCall;
  private chunks: Chunk[] = [];
  /** Media time at which the audio sent so far has all been played. */
  private headMs = 0;
  private readonly stops: Array<() => void>;

  constructor(call: TimedCall) {
    this.call = call;
    this.stops = [
      call.addOutboundConsumer((mulaw) => this.add(mulaw)),
      call.subscribe((e) => {
        if (e.type === 'playout.cleared') this.clear();
      }),
    ];
  }

  close(): void {
    for (const stop of this.stops) stop();
    this.chunks = [];
  }

  private add(mulaw: Uint8Array): void {
    const now = this.call.mediaMs();
    this.prune(now);
    const startMs = Math.max(this.headMs, now);
    // Copied: the tap's chunk belongs to the playout.
    this.chunks.push({ startMs, bytes: Uint8Array.from(mulaw) });
    this.headMs = startMs + mulaw.length / BYTES_PER_MS;
    while (this.chunks.length > 1 && this.headMs - (this.chunks[0] as Chunk).startMs > MAX_QUEUED_MS) this.chunks.shift();
  }

  /** The carrier dropped everything not yet played. */
  private clear(): void {
    const now = this.call.mediaMs();
    this.chunks = this.chunks.filter((c) => c.startMs < now);
    const last = this.chunks.at(-1);
    if (last !== undefined) {
      const playedBytes = Math.max(0, Math.round((now - last.startMs) * BYTES_PER_MS));
      if (playedBytes < last.bytes.length) last.bytes = last.bytes.subarray(0, playedBytes);
    }
    this.headMs = now;
  }

  /** Chunks wholly played before `now` are forgotten. */
  private prune(now: number): void {
    let drop = 0;
    for (const c of this.chunks) {
      if (c.startMs + c.bytes.length / BYTES_PER_MS > now) break;
      drop++;
    }
    if (drop > 0) this.chunks.splice(0, drop);
  }

  /** Fills `out` with what the caller hears from `fromMs` on (silence where nothing plays). */
  read(fromMs: number, out: Uint8Array): void {
    this.prune(fromMs);
    out.fill(MULAW_SILENCE);
    const toMs = fromMs + out.length / BYTES_PER_MS;
    for (const c of this.chunks) {
      const endMs = c.startMs + c.bytes.length / BYTES_PER_MS;
      if (endMs <= fromMs) continue;
      if (c.startMs >= toMs) break;
      const src = Math.max(0, Math.round((fromMs - c.startMs) * BYTES_PER_MS));
      const dst = Math.max(0, Math.round((c.startMs - fromMs) * BYTES_PER_MS));
      const n = Math.min(c.bytes.length - src, out.length - dst);
      if (n > 0) out.set(c.bytes.subarray(src, src + n), dst);
    }
  }
}
