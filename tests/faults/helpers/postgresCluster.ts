// A throwaway PostgreSQL cluster the fault suite may stop and start at will (never the shared test
// server): its own directory under /tmp, a free port below the ephemeral range, trust authentication on
// loopback only. Found and run like .ci/postgres.sh does: the newest /usr/lib/postgresql/*/bin, as
// the `postgres` user when we are root (PostgreSQL refuses to run as root).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { freePort } from '../../../scripts/freePort.ts';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface PostgresCluster {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server: `fast` disconnects clients cleanly, `immediate` is a crash (no shutdown checkpoint). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP to the postmaster and its children): connections hang, nothing is refused. */
  freeze(): void;
  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void;
  /** A client connection to the gateway database (while running). */
  query<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  destroy(): Promise<void>;
}

export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = path.join(base, v, 'bin');
    if (['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(path.join(dir, b)))) return dir;
  }
  return undefined;
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (install the postgresql package, as .ci/postgres.sh does)');
  const root = process.getuid?.() === 0;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-fault-pg-'));
  const data = path.join(dir, 'data');
  if (root) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const asOwner = (cmd: string, args: string[]) => (root ? run('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]) : run(path.join(bin, cmd), args));
  await asOwner('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`;
  const start = async (): Promise<void> => {
    await asOwner('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  };
  await start();
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const c = new pg.Client(admin);
  await c.connect();
  await c.query('CREATE DATABASE gateway');
  await c.end();
  const url = `postgres://postgres@127.0.0.1:${port}/gateway`;
  let running = true;
  const frozen: number[] = [];
  const thaw = (): void => {
    for (const pid of frozen.splice(0)) process.kill(pid, 'SIGCONT');
  };
  return {
    url,
    port,
    dir,
    start: async () => {
      await start();
      running = true;
    },
    stop: async (mode = 'fast') => {
      await asOwner('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
      running = false;
    },
    freeze: () => {
      for (const pid of clusterProcesses(data)) {
        process.kill(pid, 'SIGSTOP');
        frozen.push(pid);
      }
    },
    thaw,
    query: async <R extends pg.QueryResultRow>(sql: string, values?: unknown[]) => {
      const client = new pg.Client(url);
      await client.connect();
      try {
        return (await client.query<R>(sql, values)).rows;
      } finally {
        await client.end();
      }
    },
    destroy: async () => {
      thaw();
      if (running) await asOwner('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The postmaster of a cluster and its children (backends, checkpointer, walwriter…). */
function clusterProcesses(dataDir: string): number[] {
  const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces): state, then the parent's pid.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) pids.push(Number(entry));
    } catch {
      // Ended meanwhile.
    }
  }
  return pids;
}
