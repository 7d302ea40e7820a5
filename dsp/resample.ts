// Streaming windowed-sinc resampler (Kaiser window) for any rate pair. Used at the edges: SignalWire
// L16 at 16/24 kHz in, OpenAI speech (24 kHz) out, WAV fixtures at any rate. The low-pass cut-off sits
// just under the lower Nyquist frequency, so downsampling does not alias (wavefile's resampler keeps no
// state between chunks, which clicks at every chunk boundary when streaming).

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

export class Resampler {
  readonly fromHz: number;
  readonly toHz: number;
  private readonly halfTaps: number;
  private readonly cutoff: number; // normalised to the input rate
  private readonly kernel: Float64Array; // tabulated sinc*kaiser, PHASES per input sample
  private static readonly PHASES = 256;
  private history: Float64Array; // input samples not yet fully consumed
  private historyLen = 0;
  private pos = 0; // position of the next output sample, in input samples relative to history[0]

  constructor(fromHz: number, toHz: number, halfTaps = 16) {
    if (!(fromHz > 0 && toHz > 0)) throw new RangeError(`sample rates must be positive (got ${fromHz} → ${toHz})`);
    this.fromHz = fromHz;
    this.toHz = toHz;
    const ratio = toHz / fromHz;
    this.cutoff = 0.45 * Math.min(1, ratio) * 2; // fraction of the input Nyquist, with a 10% guard band
    this.halfTaps = Math.ceil(halfTaps / Math.min(1, ratio));
    const beta = 8.6;
    const n = this.halfTaps * Resampler.PHASES;
    this.kernel = new Float64Array(n + 1);
    const i0b = besselI0(beta);
    for (let i = 0; i <= n; i++) {
      const x = i / Resampler.PHASES; // in input samples
      const s = x === 0 ? 1 : Math.sin(Math.PI * x * this.cutoff) / (Math.PI * x * this.cutoff);
      const w = besselI0(beta * Math.sqrt(Math.max(0, 1 - (x / this.halfTaps) ** 2))) / i0b;
      this.kernel[i] = s * w * this.cutoff;
    }
    this.history = new Float64Array(4096);
    // Start with half a filter of zeros so the first output sample is centred on the first input.
    this.historyLen = this.halfTaps;
    this.pos = this.halfTaps;
  }

  private tap(dist: number): number {
    const a = Math.abs(dist) * Resampler.PHASES;
    const i = Math.floor(a);
    if (i >= this.kernel.length - 1) return 0;
    const f = a - i;
    return (this.kernel[i] as number) * (1 - f) + (this.kernel[i + 1] as number) * f;
  }

  /** Push input samples; returns the output samples that are now complete. */
  process(input: Int16Array | Float32Array): Int16Array {
    if (this.historyLen + input.length > this.history.length) {
      const grown = new Float64Array((this.historyLen + input.length) * 2);
      grown.set(this.history.subarray(0, this.historyLen));
      this.history = grown;
    }
    for (let i = 0; i < input.length; i++) this.history[this.historyLen + i] = input[i] as number;
    this.historyLen += input.length;
    return this.drain(this.historyLen - this.halfTaps);
  }

  /** Flush the tail (pads with zeros); the resampler is reset afterwards. */
  flush(): Int16Array {
    // Half a filter of zeros completes the outputs whose window reaches past the last input.
    const tail = this.process(new Int16Array(this.halfTaps));
    this.reset();
    return tail;
  }

  reset(): void {
    this.history.fill(0);
    this.historyLen = this.halfTaps;
    this.pos = this.halfTaps;
  }

  private drain(limit: number): Int16Array {
    const step = this.fromHz / this.toHz;
    const count = Math.max(0, Math.ceil((limit - this.pos) / step));
    const out = new Int16Array(count);
    for (let o = 0; o < count; o++) {
      const center = this.pos;
      const first = Math.ceil(center - this.halfTaps);
      const last = Math.floor(center + this.halfTaps);
      let acc = 0;
      for (let k = first; k <= last; k++) acc += (this.history[k] as number) * this.tap(center - k);
      out[o] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc);
      this.pos += step;
    }
    // Drop consumed input, keeping what the next outputs still need.
    const keepFrom = Math.max(0, Math.floor(this.pos - this.halfTaps) - 1);
    if (keepFrom > 0) {
      this.history.copyWithin(0, keepFrom, this.historyLen);
      this.historyLen -= keepFrom;
      this.pos -= keepFrom;
    }
    return out;
  }
}

/** Resample a whole signal in one go. */
export function resample(input: Int16Array, fromHz: number, toHz: number): Int16Array {
  if (fromHz === toHz) return input.slice();
  const r = new Resampler(fromHz, toHz);
  const head = r.process(input);
  const tail = r.flush();
  const out = new Int16Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
