// Coalesces writes of the same kind about different rows into one statement. Each query costs the
// gateway a round trip whatever it carries: on PostgreSQL a socket write and read on the event loop, on
// embedded PGlite two thread wake-ups and the engine's work inside this process (README, "The cost of a
// call"). Writes that may land a little later — an AMD verdict on its record, a stream's start — wait
// up to `windowMs` for others and go as one `UPDATE … FROM unnest(…)`.
//
// Each submit() still settles on its own: with its row, null when no row has that key, or the error.
// A key submitted twice in one window keeps its later value (an AMD revision: the detector's last
// word) or its earlier one (an end: the first end reason wins), as the statement's own rule would; the
// calls' ordered writer never does it anyway. Both submissions get the row. When a batch of several keys fails
// for a reason bad data can cause (SQLSTATE classes 22, 23, 42), each key is tried alone, so one bad
// row never fails the others'; any other failure (an outage) fails them all, and their writer retries.

export interface KeyedBatchOptions<V, R> {
  /** Writes every entry in one statement; returns the written rows by key (a key without a row is absent). */
  many: (entries: ReadonlyArray<readonly [string, V]>) => Promise<Map<string, R>>;
  /** Writes one entry; null when no row has the key. */
  one: (key: string, value: V) => Promise<R | null>;
  /** How long the first entry of a batch waits for others. 0: every entry is written at once, alone. */
  windowMs: number;
  /** A key submitted again in the same window: which value is written. Default: the later one. */
  keep?: 'earlier' | 'later';
}

interface Pending<V, R> {
  value: V;
  waiters: Array<{ resolve: (row: R | null) => void; reject: (err: unknown) => void }>;
}

const BAD_DATA = /^(22|23|42)/;

export class KeyedBatch<V, R> {
  readonly #opts: KeyedBatchOptions<V, R>;
  #pending = new Map<string, Pending<V, R>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: KeyedBatchOptions<V, R>) {
    this.#opts = opts;
  }

  submit(key: string, value: V): Promise<R | null> {
    if (this.#opts.windowMs <= 0) return this.#opts.one(key, value);
    return new Promise<R | null>((resolve, reject) => {
      const entry = this.#pending.get(key);
      if (entry === undefined) this.#pending.set(key, { value, waiters: [{ resolve, reject }] });
      else {
        if (this.#opts.keep !== 'earlier') entry.value = value;
        entry.waiters.push({ resolve, reject });
      }
      this.#timer ??= setTimeout(() => void this.#flush(), this.#opts.windowMs);
    });
  }

  async #flush(): Promise<void> {
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = new Map();
    const only = batch.size === 1 ? [...batch][0] : undefined;
    if (only !== undefined) {
      const [key, entry] = only;
      await this.#settle(entry, this.#opts.one(key, entry.value));
      return;
    }
    try {
      const rows = await this.#opts.many([...batch].map(([key, e]) => [key, e.value] as const));
      for (const [key, entry] of batch) for (const w of entry.waiters) w.resolve(rows.get(key) ?? null);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && BAD_DATA.test(code)) {
        await Promise.all([...batch].map(([key, entry]) => this.#settle(entry, this.#opts.one(key, entry.value))));
      } else for (const entry of batch.values()) for (const w of entry.waiters) w.reject(err);
    }
  }

  async #settle(entry: Pending<V, R>, write: Promise<R | null>): Promise<void> {
    try {
      const row = await write;
      for (const w of entry.waiters) w.resolve(row);
    } catch (err) {
      for (const w of entry.waiters) w.reject(err);
    }
  }
}
