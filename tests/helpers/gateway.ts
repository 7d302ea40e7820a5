// Start the real gateway (the same composition as `npm start`) on port 0 against a fresh test
// database (PGlite or PostgreSQL).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type CallStarter } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { composeGateway, type Composition } from '../../src/composition.ts';
import type { CallStore } from '../../src/store/calls.ts';
import type { EventLog } from '../../src/store/eventLog.ts';
import { openTestDatabase, type TestDatabase, type TestDatabaseKind } from './db.ts';

export const PUBLIC_URL = 'https://gateway.test';
export const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures');

export interface TestGateway {
  app: FastifyInstance;
  config: Config;
  runtime: Composition;
  tdb: TestDatabase;
  calls: CallStore;
  eventLog: EventLog;
  apiKey: string;
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** ws://127.0.0.1:PORT */
  wsUrl: string;
  api(pathname: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: any }> // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON bodies of many shapes;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  env?: Record<string, string>;
  /** Replace the call program (default: the real flow program with detectors). */
  program?: CallStarter;
}

export async function startTestGateway(kind: TestDatabaseKind, opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const tdb = await openTestDatabase(kind);
  const config = loadConfig({ PORT: '0', PUBLIC_URL, DATA_DIR: tdb.dataDir, LOG_LEVEL: 'silent', ...opts.env }, path.resolve(import.meta.dirname, '../..'));
  const apiKey = randomBytes(24).toString('hex');
  const runtime = await composeGateway(config, pino({ level: 'silent' }), { db: tdb.db, apiKey });
  const app = await buildApp({ ...runtime.appDeps, ...(opts.program ? { program: opts.program } : {}), logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  // As in production, prompts are synthesized once up front; tests start from that warm state.
  await runtime.warmedUp;
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const httpUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    config,
    runtime,
    tdb,
    calls: runtime.appDeps.calls,
    eventLog: runtime.appDeps.eventLog,
    apiKey,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    api: async (pathname, init = {}) => {
      const res = await fetch(`${httpUrl}${pathname}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: { authorization: `Bearer ${apiKey}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
    },
    close: async () => {
      await app.gateway.drain();
      await app.close();
      await runtime.close();
      await tdb.cleanup();
    },
  };
}

/**
 * One gateway for the tests of a describe block: started before them (beforeAll), closed after
 * (afterAll). The handle reads through to the started gateway, so use it inside tests and hooks.
 */
export function gatewayForSuite(kind: TestDatabaseKind, opts: TestGatewayOptions = {}): TestGateway {
  let gw: TestGateway | undefined;
  beforeAll(async () => {
    gw = await startTestGateway(kind, opts);
  });
  afterAll(async () => {
    await gw?.close();
  });
  return new Proxy({} as TestGateway, {
    get: (_target, key) => {
      if (gw === undefined) throw new Error(`the suite's gateway is not started (read ${String(key)} inside a test or hook)`);
      return Reflect.get(gw, key, gw);
    },
  });
}
