// A count of bytes held against a limit, shared by the calls of one process (one per app): per-call
// caps alone let many calls together hold more memory than the process can spare.
export class ByteBudget {
  readonly max: number;
  #used = 0;

  constructor(maxBytes: number) {
    this.max = maxBytes;
  }

  get used(): number {
    return this.#used;
  }

  /** Records `bytes` as held; returns false when that puts the total over the limit. */
  take(bytes: number): boolean {
    this.#used += bytes;
    return this.#used <= this.max;
  }

  give(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}
