// Start the real gateway on port 0 against a fresh test database (PGlite or PostgreSQL).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps, type CallProgram } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { greetingProgram, loadGreeting } from '../../src/gateway/greetingProgram.ts';
import { CallStore } from '../../src/store/calls.ts';
import { EventLog } from '../../src/store/eventLog.ts';
import { openTestDatabase, type TestDatabase, type TestDatabaseKind } from './db.ts';

export const PUBLIC_URL = 'https://gateway.test';
export const GREETING_FILE = path.resolve(import.meta.dirname, '../../fixtures/greeting.wav');

export interface TestGateway {
  app: FastifyInstance;
  config: Config;
  tdb: TestDatabase;
  calls: CallStore;
  eventLog: EventLog;
  apiKey: string;
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** ws://127.0.0.1:PORT */
  wsUrl: string;
  api(pathname: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  env?: Record<string, string>;
  program?: (deps: { config: Config; calls: CallStore; eventLog: EventLog; tdb: TestDatabase }) => Promise<CallProgram>;
  extra?: Partial<Pick<AppDeps, 'carrierActions' | 'apiPlugins'>>;
}

export async function startTestGateway(kind: TestDatabaseKind, opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const tdb = await openTestDatabase(kind);
  const config = loadConfig({ PORT: '0', PUBLIC_URL, DATA_DIR: tdb.dataDir, GREETING_FILE, LOG_LEVEL: 'silent', ...opts.env }, process.cwd());
  const eventLog = new EventLog({ db: tdb.db.pool, flushIntervalMs: 20 });
  const calls = new CallStore(tdb.db.pool);
  const apiKey = randomBytes(24).toString('hex');
  const program = opts.program ? await opts.program({ config, calls, eventLog, tdb }) : greetingProgram(await loadGreeting(GREETING_FILE));
  const app = await buildApp({
    config,
    db: tdb.db,
    calls,
    eventLog,
    apiKey,
    streamTokenSecret: randomBytes(32).toString('hex'),
    program,
    logger: false,
    ...opts.extra,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const httpUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    config,
    tdb,
    calls,
    eventLog,
    apiKey,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    api: (pathname, init = {}) => fetch(`${httpUrl}${pathname}`, { ...init, headers: { authorization: `Bearer ${apiKey}`, ...(init.headers ?? {}) } }),
    close: async () => {
      await app.gateway.drain();
      await app.close();
      await eventLog.close();
      await tdb.cleanup();
    },
  };
}
