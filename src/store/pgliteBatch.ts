// A growable byte buffer for the PGlite thread's batches: protocol messages (or their answers) are
// appended back to back, and take() hands over exactly the bytes written, in an ArrayBuffer of their
// own, so the batch crosses to the other thread as one transfer. (Posting the pieces themselves would
// clone each one's whole backing store: node-postgres serializes into Buffers cut from Node's 8 kB
// pool, so a 40-byte Bind message would carry 8 kB across.)
export class ProtocolBatchBuffer {
  #buf: Uint8Array;
  #len = 0;
  readonly #initialBytes: number;

  constructor(initialBytes = 16 * 1024) {
    this.#initialBytes = initialBytes;
    this.#buf = new Uint8Array(initialBytes);
  }

  get length(): number {
    return this.#len;
  }

  append(chunk: Uint8Array): void {
    const need = this.#len + chunk.byteLength;
    if (need > this.#buf.byteLength) {
      const grown = new Uint8Array(Math.max(need, this.#buf.byteLength * 2));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#len);
    this.#len = need;
  }

  /** Forgets what was appended after `length` bytes. */
  truncate(length: number): void {
    this.#len = Math.min(this.#len, Math.max(0, length));
  }

  /** Empties it; a buffer grown for a large answer (an export) is let go rather than kept for good. */
  reset(): void {
    this.#len = 0;
    if (this.#buf.byteLength > 64 * this.#initialBytes) this.#buf = new Uint8Array(this.#initialBytes);
  }

  /** The bytes appended so far, copied into an exactly sized buffer of their own; then empty. */
  take(): Uint8Array {
    const bytes = this.#buf.slice(0, this.#len);
    this.#len = 0;
    return bytes;
  }
}
