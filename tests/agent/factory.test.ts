// Provider selection from configuration values.
import { describe, expect, it } from 'vitest';
import { createProviders } from '../../src/agent/factory.ts';

describe('createProviders', () => {
  it('with no keys at all: no STT or LLM, and the offline voice speaks', async () => {
    const p = createProviders({});
    try {
      expect(p.stt).toBeUndefined();
      expect(p.llm).toBeUndefined();
      expect(p.tts.chain.map((t) => t.name)).toEqual(['offline-espeak']);
      const parts: Uint8Array[] = [];
      for await (const c of p.tts.synthesize('Hello.', { signal: new AbortController().signal })) parts.push(c);
      expect(parts.reduce((n, c) => n + c.length, 0)).toBeGreaterThan(1600);
    } finally {
      await p.close();
    }
  });

  it('chains ElevenLabs → OpenAI → offline by default, each with its own breaker; order is configurable', async () => {
    const keys = { openaiApiKey: 'sk', elevenlabsApiKey: 'xi', elevenlabsVoiceId: 'voice' };
    const p = createProviders(keys);
    expect(p.tts.chain.map((t) => t.name)).toEqual(['elevenlabs', 'openai-tts', 'offline-espeak']);
    expect(p.stt?.name).toBe('openai-realtime');
    expect(p.llm?.name).toBe('openai');
    expect(Object.keys(p.breakers).sort()).toEqual(['elevenlabs', 'openai-llm', 'openai-tts']);
    expect(p.streamTts).toBeUndefined();
    const q = createProviders({ ...keys, ttsOrder: ['openai', 'elevenlabs-ws'], elevenlabsTokenStreaming: true });
    expect(q.streamTts?.name).toBe('elevenlabs-ws');
    // The offline voice is always appended as the last resort.
    expect(q.tts.chain.map((t) => t.name)).toEqual(['openai-tts', 'elevenlabs-ws', 'offline-espeak']);
    await Promise.all([p.close(), q.close()]);
  });
});
