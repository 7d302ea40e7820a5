// Issue 16 Low item on logs: configuration errors never echo secrets (a DATABASE_URL password, user
// and password in PUBLIC_URL, tokens in a URL's query), PUBLIC_URL may not carry credentials, and
// request logs keep the path without the query string (which may carry phone numbers).
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, LOG_SERIALIZERS } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a configuration error');
};

describe('configuration errors', () => {
  it('never echo the password of a bad DATABASE_URL', () => {
    const message = problemsOf({ DATABASE_URL: 'mysql://gateway:s3cret-pw@db:3306/gateway' });
    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain('s3cret-pw');
  });

  it('never echo an unparsable URL that may hold a secret', () => {
    const message = problemsOf({ DATABASE_URL: 'postgres://gateway:s3cret@[db:5432/gw' });
    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain('s3cret');
  });

  it('refuse credentials in PUBLIC_URL without echoing them, and never echo its query', () => {
    const withUser = problemsOf({ PUBLIC_URL: 'https://admin:hunter2@gw.example.com' });
    expect(withUser).toMatch(/PUBLIC_URL.*user name or password/);
    expect(withUser).not.toContain('hunter2');
    const withQuery = problemsOf({ PUBLIC_URL: 'https://gw.example.com/x?caller=+14155550100&token=abc123' });
    expect(withQuery).toContain('PUBLIC_URL');
    expect(withQuery).not.toContain('14155550100');
    expect(withQuery).not.toContain('abc123');
  });

  it('never echo a key in the query of a vendor base URL', () => {
    const message = problemsOf({ OPENAI_BASE_URL: 'ftp://api.example.com/v1?key=sk-secret-123' });
    expect(message).toContain('OPENAI_BASE_URL');
    expect(message).not.toContain('sk-secret-123');
  });
});

describe('request logs', () => {
  let gw: TestGateway;
  const lines: string[] = [];
  let app: Awaited<ReturnType<typeof buildApp>>;
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    app = await buildApp({ ...gw.runtime.appDeps, logger: pino({ level: 'info', serializers: LOG_SERIALIZERS }, sink) });
  });
  afterAll(async () => {
    await app?.close();
    await gw?.close();
  });

  it('log the path without the query string', async () => {
    await app.inject({ method: 'GET', url: '/healthz?caller=%2B14155550100&note=private' });
    const logged = lines.join('');
    expect(logged).toContain('/healthz');
    expect(logged).not.toContain('14155550100');
    expect(logged).not.toContain('private');
  });
});
