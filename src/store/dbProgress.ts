// Whether the database is answering at all, seen from the pool: how long it has had work outstanding
// without finishing any. A call's set-up reads wait a bounded time for the database (readCache.ts);
// when it is already known to be frozen or cut off (no answer to anything for a while), a new call
// should not wait that bound out again before its flow starts — the caller hears silence meanwhile.
//
// A stopped server is not a stall: its connections fail at once and every read falls back at once.
// A stall is a server that accepts but does not answer (SIGSTOP, a paused VM, a network path that
// drops packets), where each query hangs until its timeout.
import type pg from 'pg';

export class DatabaseProgress {
  /** Checkouts waiting for a client, plus clients checked out and not yet released. */
  private pending = 0;
  /** When the database last finished something, or when work became outstanding after none was. */
  private anchor = 0;
  private readonly now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  /** Work was handed to the database (a checkout began). */
  begin(): void {
    if (this.pending++ === 0) this.anchor = this.now();
  }

  /** That work ended; `answered` when the database completed it (not a failure or a client-side timeout). */
  end(answered: boolean): void {
    if (this.pending > 0) this.pending--;
    if (answered) this.anchor = this.now();
  }

  /** The database answered something (e.g. a new connection authenticated). */
  answered(): void {
    this.anchor = this.now();
  }

  /** How long work has been outstanding without the database finishing any (0 when nothing waits). */
  stalledMs(): number {
    return this.pending > 0 ? this.now() - this.anchor : 0;
  }
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;

/**
 * Feeds `progress` from a pg.Pool: every checkout (pool.query checks out too, through the instance's
 * `connect`) begins work, its release ends it, and a release without an error is an answer. Handing
 * out an idle client is not an answer from the database, so a stream of new queries does not hide a
 * stall.
 */
export function watchPoolProgress(pool: pg.Pool, progress: DatabaseProgress): void {
  const connect = pool.connect.bind(pool) as (cb?: ConnectCallback) => Promise<pg.PoolClient> | undefined;
  const wrapped = (cb?: ConnectCallback): Promise<pg.PoolClient> | undefined => {
    progress.begin();
    if (cb !== undefined) {
      return connect((err, client, done) => {
        if (err !== undefined && err !== null) progress.end(false);
        cb(err, client, done);
      });
    }
    const checkout = connect() as Promise<pg.PoolClient>;
    checkout.catch(() => progress.end(false));
    return checkout;
  };
  (pool as unknown as { connect: typeof wrapped }).connect = wrapped;
  pool.on('connect', () => progress.answered());
  pool.on('release', (err: Error | undefined) => progress.end(err === undefined || err === null));
}
