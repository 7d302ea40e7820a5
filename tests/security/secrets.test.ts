// Issue 16 item 1: a short or empty secret file must never become the key (an empty HMAC key lets
// anyone mint stream tokens); generated secrets appear whole (atomic) and owner-only.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSecret } from '../../src/secrets.ts';

describe('loadOrCreateSecret', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gw-secrets-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an empty secret file with an error naming the file', async () => {
    await writeFile(path.join(dir, 'stream-token-secret'), '');
    await expect(loadOrCreateSecret(dir, 'stream-token-secret')).rejects.toMatchObject({
      code: 'GW_ERR_SECRET_TOO_SHORT',
      message: expect.stringContaining(path.join(dir, 'stream-token-secret')),
    });
  });

  it('refuses a short secret file (whitespace does not count)', async () => {
    await writeFile(path.join(dir, 'api-key'), '   short-key   \n');
    await expect(loadOrCreateSecret(dir, 'api-key', 24)).rejects.toMatchObject({ code: 'GW_ERR_SECRET_TOO_SHORT' });
    // The file is left for the operator to fix: nothing is overwritten silently.
    expect(await readFile(path.join(dir, 'api-key'), 'utf8')).toBe('   short-key   \n');
  });

  it('keeps a long enough existing secret', async () => {
    const value = 'x'.repeat(64);
    await writeFile(path.join(dir, 'stream-token-secret'), `${value}\n`);
    expect(await loadOrCreateSecret(dir, 'stream-token-secret')).toEqual({ value, path: path.join(dir, 'stream-token-secret'), created: false });
  });

  it('creates a secret with mode 0600 and leaves no temporary file behind', async () => {
    const created = await loadOrCreateSecret(dir, 'stream-token-secret');
    expect(created.created).toBe(true);
    expect(created.value).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(created.path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['stream-token-secret']);
    expect((await loadOrCreateSecret(dir, 'stream-token-secret')).value).toBe(created.value);
  });

  it('gives every concurrent caller the same secret (one creator wins, others read it whole)', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => loadOrCreateSecret(dir, 'api-key', 24)));
    const values = new Set(results.map((r) => r.value));
    expect(values.size).toBe(1);
    expect([...values][0]).toMatch(/^[0-9a-f]{48}$/);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['api-key']);
  });
});
