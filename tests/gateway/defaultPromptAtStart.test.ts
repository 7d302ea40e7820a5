// The greetings a call can hear first — the default flow's (every unrouted call) and those of flows numbers
// route to — are ready when the gateway starts listening, even when the database is open at once
// (PostgreSQL, or here a database opened before, as a new instance with an empty data folder joining a
// deployment finds it) and the voice is slow: the very first calls after a start hear them without waiting
// for a synthesis. The voice is the OpenAI fake answering every speech request after LATENCY_MS.
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
import { FlowStore } from '../../src/store/flows.ts';
import type { FlowDefinition } from '../../src/flow/types.ts';

const LATENCY_MS = 1500;
const ROOT = path.resolve(import.meta.dirname, '../..');
const ROUTED_NUMBER = '+15005550177';
const ROUTED_FLOW = {
  id: 'front-desk',
  start: 'greet',
  nodes: { greet: { type: 'say', text: 'You have reached the front desk of the start-up test.', next: 'bye' }, bye: { type: 'hangup' } },
} as unknown as FlowDefinition;
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

  it('has the default and routed greetings ready before the port opens, so the first calls hear them at once', async () => {
    fake = await startFakeOpenAi();
    for (let i = 0; i < 100; i++) fake.speech.push({ latencyMs: LATENCY_MS });
    tdb = await openTestDatabase('pglite');
    // Deployed before this instance started: a number routes to a flow whose prompt was never said here.
    const stored = new FlowStore(tdb.db.pool);
    await stored.save(ROUTED_FLOW);
    await stored.setNumber(ROUTED_NUMBER, ROUTED_FLOW.id, null);
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
    // The greetings were asked of the voice (it is the first provider), not taken from anywhere else.
    expect(fake.speechRequests.some((r) => r.input === DEFAULT_GREETING)).toBe(true);
    expect(fake.speechRequests.some((r) => r.input === (ROUTED_FLOW.nodes.greet as { text: string }).text)).toBe(true);
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const audio = decodeWav(readFileSync(path.join(FIXTURES, 'speech/human_hello.wav')));
    const [unrouted, routed] = await Promise.all([
      replayCall({ carrier: 'twilio', audio, url: `ws://127.0.0.1:${port}`, publicUrl: PUBLIC_URL, speed: 4, holdMs: 0 }),
      replayCall({ carrier: 'twilio', audio, url: `ws://127.0.0.1:${port}`, publicUrl: PUBLIC_URL, speed: 4, holdMs: 0, to: ROUTED_NUMBER }),
    ]);
    // Without the wait the calls would race the syntheses still in flight: about LATENCY_MS of silence.
    for (const result of [unrouted, routed]) {
      expect(result.firstAudio).toBeDefined();
      expect(result.firstAudio?.wallMs).toBeLessThan(LATENCY_MS / 3);
    }
  }, 60_000);
});
