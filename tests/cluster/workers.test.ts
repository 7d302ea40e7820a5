// Every core: WORKERS worker processes share the port. The primary creates the API key once before the
// workers start, both workers answer, /metrics shows each worker and the total whichever one answers,
// and SIGTERM drains them all. Embedded PGlite (one process only) refuses more than one worker.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createPostgresDatabase, testDatabases } from '../helpers/db.ts';

describe('WORKERS', () => {
  it('defaults to one process with the embedded database and refuses more, naming the variable', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(() => loadConfig({ WORKERS: '2' })).toThrow(ConfigError);
    expect(() => loadConfig({ WORKERS: '2' })).toThrow(/WORKERS: more than one worker process needs DATABASE_URL/);
    expect(loadConfig({ WORKERS: '3', DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' }).workers).toBe(3);
    expect(() => loadConfig({ WORKERS: '0', DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' })).toThrow(/WORKERS: must be a whole number/);
  });
});

const waitFor = async (what: string, ok: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

if (testDatabases().includes('postgres')) {
  describe('a gateway with two workers on PostgreSQL', () => {
    it('shares secrets, serves from both workers, aggregates metrics and drains on SIGTERM', async () => {
      const db = await createPostgresDatabase();
      const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-workers-'));
      const port = 42000 + Math.floor(Math.random() * 2000);
      const child = spawn(process.execPath, ['src/main.ts'], {
        env: { ...process.env, WORKERS: '2', PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: db.url, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await waitFor('two workers listening', () => (out.match(/gateway listening/g) ?? []).length === 2, 60_000);
        expect((out.match(/created a REST API key/g) ?? []).length).toBe(1);
        const apiKey = (await readFile(path.join(dataDir, 'api-key'), 'utf8')).trim();
        expect(existsSync(path.join(dataDir, 'stream-token-secret'))).toBe(true);
        for (let i = 0; i < 4; i++) {
          const r = await fetch(`http://127.0.0.1:${port}/v1/flows`, { headers: { authorization: `Bearer ${apiKey}` } });
          expect(r.status).toBe(200);
        }
        const workerIds = new Set<string>();
        for (let i = 0; i < 4; i++) {
          const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          expect(text).toMatch(/^gateway_active_calls 0$/m);
          for (const m of text.matchAll(/^process_resident_memory_bytes\{worker="(\d+)"\}/gm)) workerIds.add(m[1]!);
        }
        expect(workerIds.size).toBe(2);
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        expect((out.match(/"msg":"draining"/g) ?? []).length).toBe(2);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
        await db.drop();
        await rm(dataDir, { recursive: true, force: true });
      }
    }, 120_000);
  });
}
