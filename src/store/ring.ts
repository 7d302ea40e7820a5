// The event log's buffer: a FIFO that stays O(1) per operation however far an outage lets it grow.
/** Growable FIFO ring: O(1) push, shift and indexed peek (Array#shift is O(n) in general). */
export class Ring<T> {
  #items: (T | undefined)[] = new Array<T | undefined>(1024);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) % this.#items.length] = item;
    this.#size++;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }

  at(index: number): T | undefined {
    return index < this.#size ? this.#items[(this.#head + index) % this.#items.length] : undefined;
  }

  discard(count: number): void {
    for (let i = 0; i < count && this.#size > 0; i++) this.shift();
  }

  // Amortized O(1): doubling happens log2(maxBuffered / 1024) times at most.
  #grow(): void {
    const next = new Array<T | undefined>(this.#items.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = next;
    this.#head = 0;
  }
}
