// Timers on the media clock: a call's time is the count of inbound samples, so a flow's no-input
// timeout or an AMD window fires at the same point of the audio whether the call is live or replayed
// at 20×. Checked once per frame; a binary min-heap keeps that O(1) when nothing is due.
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';

interface Timer {
  atSample: number;
  seq: number;
  fire: () => void;
}

export class MediaClock {
  private samples = 0;
  private readonly heap: Timer[] = [];
  private seq = 0;
  /**
   * The earliest timer's sample (Infinity: none), kept beside the count so that the per-frame check reads
   * this object alone: in a worker of hundreds of calls the heap and its timers are out of the caches.
   */
  private due = Infinity;

  get nowSamples(): number {
    return this.samples;
  }

  nowMs(): number {
    return (this.samples * 1000) / SAMPLE_RATE_HZ;
  }

  /** Run `fire` once the clock reaches `ms` from now. Returns a cancel function. */
  schedule(ms: number, fire: () => void): () => void {
    const timer: Timer = { atSample: this.samples + Math.max(0, Math.round((ms * SAMPLE_RATE_HZ) / 1000)), seq: this.seq++, fire };
    this.push(timer);
    return () => {
      timer.fire = noop;
    };
  }

  /** Move the clock without firing timers (the frame's consumers run before its timers). */
  tick(samples: number): void {
    this.samples += samples;
  }

  /** Fire every timer that is due, in order. */
  fireDue(): void {
    if (this.samples < this.due) return;
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.atSample > this.samples) return;
      this.pop();
      top.fire();
    }
  }

  /** Drop every pending timer without firing it (the call ended). */
  cancelAll(): Array<() => void> {
    const fires = this.heap.map((t) => t.fire);
    this.heap.length = 0;
    this.due = Infinity;
    return fires;
  }

  private less(a: Timer, b: Timer): boolean {
    return a.atSample < b.atSample || (a.atSample === b.atSample && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as Timer, h[p] as Timer)) break;
      [h[i], h[p]] = [h[p] as Timer, h[i] as Timer];
      i = p;
    }
    this.due = (h[0] as Timer).atSample;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as Timer;
    if (h.length === 0) {
      this.due = Infinity;
      return;
    }
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as Timer, h[m] as Timer)) m = l;
      if (r < h.length && this.less(h[r] as Timer, h[m] as Timer)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as Timer, h[i] as Timer];
      i = m;
    }
    this.due = h[0].atSample;
  }
}

function noop(): void {}
