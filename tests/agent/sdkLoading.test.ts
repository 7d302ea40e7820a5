// The vendor SDKs are loaded only by processes that use them: without keys, composing the providers and
// the gateway's modules never imports `openai` or `@elevenlabs/elevenlabs-js` (together ~190 MB of RSS);
// with an OpenAI key, the SDK is imported as the providers are made, before a call needs it. Checked in a
// child node with a module resolve hook, since vitest's own module runner would hide the real imports.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');

const HOOK = `
import { registerHooks } from 'node:module';
registerHooks({ resolve(spec, ctx, next) {
  if (/^(openai|@elevenlabs\\/elevenlabs-js)(\\/|$)/.test(spec)) process.stdout.write('SDK ' + spec + '\\n');
  return next(spec, ctx);
} });`;

async function sdksLoaded(script: string): Promise<string[]> {
  const hook = `data:text/javascript,${encodeURIComponent(HOOK)}`;
  const { stdout } = await promisify(execFile)(NODE, ['--import', hook, '--input-type=module', '-e', script], { cwd: ROOT, timeout: 60_000 });
  expect(stdout).toContain('COMPOSED');
  return [...new Set(stdout.split('\n').filter((l) => l.startsWith('SDK ')).map((l) => l.slice(4)))].sort();
}

describe('vendor SDK loading', () => {
  it('a process without keys never imports openai or the ElevenLabs SDK', async () => {
    const loaded = await sdksLoaded(`
      await import('./src/composition.ts');
      const { createProviders } = await import('./src/agent/factory.ts');
      createProviders({});
      await new Promise((r) => setTimeout(r, 200));
      console.log('COMPOSED');`);
    expect(loaded).toEqual([]);
  }, 90_000);

  it('with an OpenAI key the SDK is imported as the providers are made, not on the first call', async () => {
    const loaded = await sdksLoaded(`
      const { createProviders } = await import('./src/agent/factory.ts');
      const p = createProviders({ openaiApiKey: 'sk-test', openaiBaseUrl: 'http://127.0.0.1:9/v1' });
      if (p.llm === undefined || p.stt === undefined) throw new Error('providers missing');
      await new Promise((r) => setTimeout(r, 1000));
      console.log('COMPOSED');`);
    expect(loaded).toContain('openai');
    expect(loaded).toContain('openai/realtime/ws');
  }, 90_000);
});
