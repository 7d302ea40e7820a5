// Every core: WORKERS worker processes share the port. The primary creates the API key once before the
// workers start, both workers answer, /metrics shows each worker and the total whichever one answers,
// and SIGTERM drains them all. Embedded PGlite (one process only) refuses more than one worker.
// Prompts are synthesized once per machine, at start and on a deploy through either worker (the fake
// ElevenLabs server counts every synthesis request), and reach both workers within seconds.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticPrompts } from '../../src/agent/tts/promptWarmer.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';
import { startFakeElevenLabs } from '../fakes/elevenlabsServer.ts';
import { createPostgresDatabase, testDatabases } from '../helpers/db.ts';
import { freePort } from '../../scripts/freePort.ts';

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
    await new Promise((r) => setTimeout(r, 50));
  }
};

function countsByText(requests: { body: { text: string } }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of requests) counts.set(r.body.text, (counts.get(r.body.text) ?? 0) + 1);
  return counts;
}

async function shippedPrompts(): Promise<string[]> {
  const texts = new Set<string>();
  for (const f of (await readdir('flows')).filter((n) => n.endsWith('.json') && !n.includes('schema'))) {
    for (const t of staticPrompts(JSON.parse(await readFile(path.join('flows', f), 'utf8')) as FlowDefinition)) texts.add(t);
  }
  return [...texts];
}

if (testDatabases().includes('postgres')) {
  describe('a gateway with two workers on PostgreSQL', () => {
    it('shares secrets, serves from both workers, aggregates metrics and drains on SIGTERM', async () => {
      const db = await createPostgresDatabase();
      const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-workers-'));
      const port = await freePort();
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

  describe('prompts with two workers', () => {
    it('are synthesized once per machine at start and on a deploy, and reach both workers within seconds', async () => {
      const voice = await startFakeElevenLabs();
      const db = await createPostgresDatabase();
      const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-prompts-'));
      const port = await freePort();
      const child = spawn(process.execPath, ['src/main.ts'], {
        env: {
          ...process.env,
          WORKERS: '2',
          PORT: String(port),
          DATA_DIR: dataDir,
          DATABASE_URL: db.url,
          LOG_LEVEL: 'info',
          ELEVENLABS_API_KEY: voice.apiKey,
          ELEVENLABS_BASE_URL: voice.baseUrl,
          API_KEY: 'prompt-warm-test-key-0123456789',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const lines = (): Array<Record<string, unknown>> =>
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      try {
        await waitFor('both workers warmed', () => lines().filter((l) => l.msg === 'prompt cache warmed').length === 2, 90_000);
        const shipped = await shippedPrompts();
        expect(shipped.length).toBeGreaterThan(3);
        const atStart = countsByText(voice.streamRequests);
        expect([...atStart.keys()].sort()).toEqual([...shipped].sort());
        expect([...atStart.values()].every((n) => n === 1)).toBe(true);

        // A flow deployed through whichever worker answers: each new prompt synthesized once, and
        // both workers hold the flow's prompts a few seconds later.
        const flow = {
          id: 'warm-test',
          start: 'greet',
          nodes: {
            greet: { type: 'say', text: 'Welcome to the warm test line.', next: 'menu' },
            menu: { type: 'gather', prompt: { text: 'Press one to hear this again.' }, maxDigits: 1, next: 'bye', noInput: 'bye' },
            bye: { type: 'say', text: 'Thank you, goodbye.', next: 'end' },
            end: { type: 'hangup' },
          },
        };
        const deployedAt = Date.now();
        const r = await fetch(`http://127.0.0.1:${port}/v1/flows`, {
          method: 'POST',
          headers: { authorization: 'Bearer prompt-warm-test-key-0123456789', 'content-type': 'application/json' },
          body: JSON.stringify(flow),
        });
        expect(r.status, await r.clone().text()).toBeLessThan(300);
        const ready = () => new Set(lines().filter((l) => l.msg === 'flow prompts ready' && l.flowId === 'warm-test').map((l) => l.pid));
        // Tens of milliseconds on an idle machine; the bound leaves room for a loaded CI machine.
        await waitFor('both workers holding the deployed prompts', () => ready().size === 2, 15_000);
        const readyMs = Date.now() - deployedAt;
        const deployed = staticPrompts(flow as unknown as FlowDefinition);
        expect(deployed).toHaveLength(3);
        const after = countsByText(voice.streamRequests);
        for (const t of deployed) expect(after.get(t), t).toBe(1);
        expect(voice.streamRequests).toHaveLength(shipped.length + deployed.length);
        expect(readyMs).toBeLessThan(15_000);
        process.stdout.write(`prompts: ${shipped.length} at start, ${deployed.length} deployed; 1 synthesis each with 2 workers; both workers ready ${readyMs} ms after the deploy\n`);

        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
        await voice.close();
        await db.drop();
        await rm(dataDir, { recursive: true, force: true });
      }
    }, 150_000);
  });
}
