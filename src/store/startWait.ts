// Waiting for PostgreSQL at start. A gateway started beside its database (docker compose, a node reboot,
// a failover) often comes up first: the server refuses connections, is still "starting up", or does not
// answer yet. Exiting at once makes every supervisor restart loop noisy and, with one process, leaves the
// port closed until someone notices. So the first connection is retried (the project's persistentRetry:
// capped exponential backoff) until DATABASE_START_WAIT_MS has passed, each failed attempt logged with the
// (redacted) address. Errors a retry cannot fix — a wrong password, a database that does not exist, a bad
// URL — fail at once.
import type pg from 'pg';
import { createError } from '../errors.ts';
import { persistentRetry } from '../resilience/policy.ts';
import type { StoreLogger } from './db.ts';

/** Where the database is, for logs (never the password). */
export interface DatabaseWhere {
  url: string;
  host: string;
  port: string;
  database: string;
}

/** Socket-level failures: nothing listens yet, the name does not resolve yet, the path dropped. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * Can waiting fix this? SQLSTATE class 08 (connection exception), 57P01–57P03 (shutting down, crash
 * recovery, "the database system is starting up"), 53300 (too many connections); socket errors; and
 * node-postgres's own "Connection terminated …" (a connect timeout, or the server closing on us).
 */
export function isUnreachable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return true;
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
    return false;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && /^Connection terminated/.test(message);
}

export interface StartWaitOptions {
  /** Give up after this long (0: one attempt). */
  waitMs: number;
  log: StoreLogger;
  /** Backoff between attempts: from 250 ms, capped at 5 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** Resolves once the pool can run a query; throws GW_ERR_STORE_UNREACHABLE after `waitMs`. */
export async function waitForPostgres(pool: Pick<pg.Pool, 'query'>, where: DatabaseWhere, opts: StartWaitOptions): Promise<void> {
  const started = performance.now();
  const waited = (): number => Math.round(performance.now() - started);
  const policy = persistentRetry({
    initialDelayMs: opts.initialDelayMs ?? 250,
    maxDelayMs: opts.maxDelayMs ?? 5_000,
    retryable: (err) => isUnreachable(err) && performance.now() - started < opts.waitMs,
    holdOpen: true,
  });
  let attempts = 1;
  const onRetry = policy.onRetry((reason) => {
    if (!('error' in reason)) return;
    const err = reason.error as { code?: unknown; message?: unknown };
    opts.log.warn({ ...where, code: err.code, reason: err.message, attempt: attempts++, waitedMs: waited(), retryInMs: Math.round(reason.delay), giveUpAfterMs: opts.waitMs }, 'PostgreSQL does not answer yet; waiting for it before starting');
  });
  try {
    await policy.execute(() => pool.query('SELECT 1'));
  } catch (err) {
    if (!isUnreachable(err)) throw err;
    throw createError(
      'GW_ERR_STORE_UNREACHABLE',
      `PostgreSQL at ${where.host}:${where.port}/${where.database} (DATABASE_URL) did not answer within ${Math.round(opts.waitMs / 1000)} s (DATABASE_START_WAIT_MS): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    onRetry.dispose();
  }
  if (attempts > 1) opts.log.info({ ...where, attempts, waitedMs: waited() }, 'PostgreSQL answers; starting');
}
