// The real gateway as a child process (`node src/main.ts`, exactly what `npm start` runs), so faults
// can be real: SIGKILL, SIGTERM, a database that goes away under it. Its JSON log lines are kept.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../scripts/freePort.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

export interface GatewayProcess {
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly apiKey: string;
  readonly logs: Array<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
  api<T = unknown>(pathname: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }>;
  signal(sig: NodeJS.Signals): void;
  /** Its last log lines and stderr, to say why it exited as it did when a test fails. */
  tail(): string;
  /** Stops it if still running (SIGKILL) and removes its data folder. */
  cleanup(): Promise<void>;
}

export const API_KEY = 'fault-suite-api-key-0123456789abcdef';
/** Shared by every process of a run: tokens issued by one instance verify on the next. */
export const STREAM_TOKEN_SECRET = 'fault-suite-stream-token-secret-0123456789abcdef';

export async function startGatewayProcess(env: Record<string, string>, opts: { dataDir?: string; onLog?: (entry: Record<string, unknown>) => void } = {}): Promise<GatewayProcess> {
  const port = await freePort();
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'gw-fault-data-')));
  const logs: Array<Record<string, unknown>> = [];
  const child: ChildProcess = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      API_KEY,
      STREAM_TOKEN_SECRET,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = performance.now();
  let buffer = '';
  let stderr = '';
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          opts.onLog?.(entry);
          if (typeof entry.msg === 'string' && entry.msg.startsWith('gateway listening')) resolve();
        } catch {
          // not a log line
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before listening: ${stderr.slice(-2000)}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, atMs: performance.now() - started })),
  );
  await listening;
  const httpUrl = `http://127.0.0.1:${port}`;
  return {
    port,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    apiKey: API_KEY,
    logs,
    exited,
    api: async <T>(pathname: string, init: { method?: string; body?: unknown } = {}) => {
      const res = await fetch(`${httpUrl}${pathname}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: { authorization: `Bearer ${API_KEY}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await res.text();
      return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    },
    signal: (sig) => void child.kill(sig),
    tail: () => `${logs.slice(-8).map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${stderr.slice(-2000)}`,
    cleanup: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (opts.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
