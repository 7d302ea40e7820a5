// A start that finds PostgreSQL not answering yet waits for it (DATABASE_START_WAIT_MS) instead of
// exiting; what waiting cannot fix fails at once. The server here is real: the shared test server,
// reached through a port that refuses connections until a relay starts listening on it.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/freePort.ts';
import { openDatabase, type Database } from '../../src/store/db.ts';
import { isUnreachable } from '../../src/store/startWait.ts';
import { captureLogger, createPostgresDatabase, testDatabases, type ScratchPostgres } from '../helpers/db.ts';
import os from 'node:os';

describe('what a start waits for', () => {
  it('waits on refused, reset, unresolved and timed-out connections and a server starting up; not on a wrong password or a missing database', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', '57P03', '57P01', '08006', '53300']) expect(isUnreachable({ code }), code).toBe(true);
    expect(isUnreachable(new Error('Connection terminated due to connection timeout'))).toBe(true);
    expect(isUnreachable(new Error('Connection terminated unexpectedly'))).toBe(true);
    for (const code of ['28P01', '28000', '3D000', '42P01', 'GW_ERR_STORE_MIGRATION_FAILED']) expect(isUnreachable({ code }), code).toBe(false);
    expect(isUnreachable(new Error('syntax error'))).toBe(false);
    expect(isUnreachable(undefined)).toBe(false);
  });
});

/** A relay from a local port to the test server that is not listening until `open()`. */
async function lateRelay(target: URL): Promise<{ port: number; open(): Promise<void>; close(): Promise<void> }> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  return {
    port,
    open: () => new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve())),
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}

// PostgreSQL only (the embedded database has no server to wait for): when the CI's server is set.
if (testDatabases().includes('postgres')) describe('opening PostgreSQL at start', () => {
  let scratch: ScratchPostgres | undefined;
  let db: Database | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await db?.close();
    db = undefined;
    for (const c of cleanups.splice(0)) await c();
    await scratch?.drop();
    scratch = undefined;
  });

  const through = (url: string, port: number): string => {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    return u.toString();
  };

  it('waits for a server that refuses connections at first, logging each attempt without the password, then migrates and opens', async () => {
    scratch = await createPostgresDatabase();
    const relay = await lateRelay(new URL(scratch.url));
    cleanups.push(() => relay.close());
    const log = captureLogger();
    const opening = openDatabase({ databaseUrl: through(scratch.url, relay.port), dataDir: os.tmpdir(), log, startWaitMs: 20_000 });
    await new Promise((r) => setTimeout(r, 1200));
    const opened = performance.now();
    await relay.open();
    db = await opening;
    expect(performance.now() - opened).toBeLessThan(6000); // the backoff is capped at 5 s
    expect((await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations')).rows[0]?.n).toBeGreaterThan(0);
    const waits = log.entries.filter((e) => e.msg?.startsWith('PostgreSQL does not answer yet'));
    expect(waits.length).toBeGreaterThan(0);
    expect(waits[0]?.obj).toMatchObject({ code: 'ECONNREFUSED', port: String(relay.port) });
    expect(log.entries.some((e) => e.msg === 'PostgreSQL answers; starting')).toBe(true);
    // The address is logged with its password masked (the CI role's password is its user name, so look for the pair).
    const u = new URL(scratch.url);
    expect(String((waits[0]?.obj as { url?: string }).url)).toContain(`${u.username}:***@`);
    expect(log.text()).not.toContain(`${u.username}:${u.password}@`);
  });

  it('gives up after the wait with an error that names DATABASE_URL and the setting', async () => {
    const port = await freePort();
    const log = captureLogger();
    const started = performance.now();
    const err = await openDatabase({ databaseUrl: `postgres://gateway:secret-pw@127.0.0.1:${port}/nothing`, dataDir: os.tmpdir(), log, startWaitMs: 700 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'GW_ERR_STORE_UNREACHABLE' });
    expect(String((err as Error).message)).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}/nothing \\(DATABASE_URL\\) did not answer within 1 s \\(DATABASE_START_WAIT_MS\\)`));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(log.text()).not.toContain('secret-pw');
  });

  it('does not wait on a wrong password', async () => {
    scratch = await createPostgresDatabase();
    const wrong = new URL(scratch.url);
    wrong.password = 'not-the-password';
    const started = performance.now();
    const err = await openDatabase({ databaseUrl: wrong.toString(), dataDir: os.tmpdir(), log: captureLogger(), startWaitMs: 20_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '28P01' });
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
