import { afterEach, describe, expect, it } from 'vitest';
import { testDatabases } from '../helpers/db.ts';

describe('testDatabases', () => {
  const saved = { ci: process.env.CI, url: process.env.TEST_DATABASE_URL };
  afterEach(() => {
    for (const [key, value] of [['CI', saved.ci], ['TEST_DATABASE_URL', saved.url]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('runs on PGlite alone locally and adds PostgreSQL when TEST_DATABASE_URL is set', () => {
    delete process.env.CI;
    delete process.env.TEST_DATABASE_URL;
    expect(testDatabases()).toEqual(['pglite']);
    process.env.TEST_DATABASE_URL = 'postgres://u:p@127.0.0.1:1/db';
    expect(testDatabases()).toEqual(['pglite', 'postgres']);
  });

  it('refuses to run in CI without a PostgreSQL server', () => {
    process.env.CI = 'true';
    delete process.env.TEST_DATABASE_URL;
    expect(() => testDatabases()).toThrow(/TEST_DATABASE_URL/);
  });
});
