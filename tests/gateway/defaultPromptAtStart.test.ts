// The greeting every unrouted call hears is ready when the gateway starts listening, even when the
// database is open at once (PostgreSQL, or here a database opened before) and the voice is slow: the very
// first call after a start hears it without waiting for a synthesis. The voice is the OpenAI fake
// answering every speech request after LATENCY_MS.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { composeGateway } from '../../src/composition.ts';
import { replayCall } from '../../src/replay/client.ts';
import { decodeWav } from '../../dsp/wav.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openaiServer.ts';
import { FIXTURES, PUBLIC_URL } from '../helpers/gateway.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/db.ts';

const LATENCY_MS = 1500;
const ROOT = path.resolve(import.meta.dirname, '../..');
const DEFAULT_GREETING = (JSON.parse(readFileSync(path.join(ROOT, 'flows/default.json'), 'utf8')) as { nodes: { greet: { text: string } } }).nodes.greet.text;

describe('the default flow at start', () => {
  let fake: FakeOpenAi | undefined;
  let tdb: TestDatabase | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await tdb?.cleanup();
    await fake?.close();
  });

  it('has its greeting ready before the port opens, so the first call hears it at once', async () => {
    fake = await startFakeOpenAi();
    for (let i = 0; i < 100; i++) fake.speech.push({ latencyMs: LATENCY_MS });
    tdb = await openTestDatabase('pglite');
    const config = loadConfig(
      { PORT: '0', PUBLIC_URL, DATA_DIR: tdb.dataDir, LOG_LEVEL: 'silent', OPENAI_API_KEY: fake.apiKey, OPENAI_BASE_URL: fake.baseURL, CAMPAIGN_ENGINE: 'false' },
      ROOT,
    );
    const runtime = await composeGateway(config, pino({ level: 'silent' }), { db: tdb.db, apiKey: randomBytes(24).toString('hex') });
    const app = await buildApp({ ...runtime.appDeps, logger: false });
    closers.push(async () => {
      await app.close();
      await runtime.close();
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    // The greeting was asked of the voice (it is the first provider), not taken from anywhere else.
    expect(fake.speechRequests.some((r) => r.input === DEFAULT_GREETING)).toBe(true);
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const result = await replayCall({
      carrier: 'twilio',
      audio: decodeWav(readFileSync(path.join(FIXTURES, 'speech/human_hello.wav'))),
      url: `ws://127.0.0.1:${port}`,
      publicUrl: PUBLIC_URL,
      speed: 4,
      holdMs: 0,
    });
    // Without the wait the call would race the synthesis still in flight: about LATENCY_MS of silence.
    expect(result.firstAudio).toBeDefined();
    expect(result.firstAudio?.wallMs).toBeLessThan(LATENCY_MS / 3);
  }, 60_000);
});
