// First audio without waiting: deploying a flow synthesizes its static prompts at once (into the
// prompt cache, kept in the data folder), so the flow's first call does not wait on a synthesis.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const promptFiles = async (dataDir: string): Promise<string[]> => (await readdir(path.join(dataDir, 'prompt-cache')).catch(() => [] as string[])).filter((f) => f.endsWith('.ulaw'));

describe('deploying a flow', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('synthesizes its static prompts right away, templated ones not', async () => {
    gw = await startTestGateway('pglite');
    // The start-up warm-up writes the shipped flows' prompts in the background: wait until it is done.
    let before = -1;
    for (let n = (await promptFiles(gw.config.dataDir)).length; n !== before; n = (await promptFiles(gw.config.dataDir)).length) {
      before = n;
      await new Promise((r) => setTimeout(r, 700));
    }
    const res = await gw.api('/v1/flows', {
      body: {
        id: 'deploy-warm',
        start: 'hello',
        nodes: {
          hello: { type: 'say', text: 'A prompt that nobody has heard before, number 4711.', next: 'named' },
          named: { type: 'say', text: 'Hello {{call.from}}', next: 'bye' },
          bye: { type: 'hangup' },
        },
      },
    });
    expect(res.status).toBe(201);
    const deadline = Date.now() + 15_000;
    while ((await promptFiles(gw.config.dataDir)).length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    expect((await promptFiles(gw.config.dataDir)).length).toBe(before + 1);
  }, 30_000);
});
