import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, mediaStreamUrl, shutdownPlan } from '../src/config.ts';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env, '/srv/gw');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('configuration from the environment', () => {
  it('starts with no variables at all: loopback only, embedded database, local unauthenticated replay', () => {
    const c = loadConfig({}, '/srv/gw');
    expect(c).toMatchObject({ host: '127.0.0.1', port: 3000, databaseUrl: undefined, dataDir: '/srv/gw/data', localUnauthenticated: true, maxConcurrentCalls: 500 });
    expect(mediaStreamUrl(c, 'twilio')).toBe('ws://localhost:3000/media/twilio');
  });

  it('reports every problem at once, naming the variable and showing a good value', () => {
    const problems = problemsOf({ PORT: 'eighty', MAX_CONCURRENT_CALLS: '0', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', TWILIO_AUTH_TOKEN: 'tok', RECORD_CALLS: 'maybe', TTS_ORDER: 'openai,bark' });
    expect(problems).toHaveLength(7);
    expect(problems.join('\n')).toMatch(/PORT: must be a whole number from 0 to 65535 \(got "eighty"\), e\.g\. PORT=3000/);
    expect(problems.join('\n')).toMatch(/TWILIO_ACCOUNT_SID: required when TWILIO_AUTH_TOKEN is set/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL: must be a postgres or postgresql URL/);
    expect(problems.join('\n')).toMatch(/TTS_ORDER: unknown voice provider\(s\) bark/);
  });

  it('beats every 5 s on embedded PGlite and every 2 s on PostgreSQL, always three times within the dead-after time', () => {
    expect(loadConfig({}, '/srv/gw').instanceHeartbeatMs).toBe(5_000);
    expect(loadConfig({ DATABASE_URL: 'postgres://gw:pw@db:5432/gw' }, '/srv/gw').instanceHeartbeatMs).toBe(2_000);
    expect(loadConfig({ INSTANCE_DEAD_AFTER_MS: '6000' }, '/srv/gw').instanceHeartbeatMs).toBe(2_000);
    expect(loadConfig({ INSTANCE_HEARTBEAT_MS: '200', INSTANCE_DEAD_AFTER_MS: '1000' }, '/srv/gw')).toMatchObject({ instanceHeartbeatMs: 200, instanceDeadAfterMs: 1_000 });
  });

  it('refuses to expose unauthenticated webhooks on a public address', () => {
    expect(problemsOf({ HOST: '0.0.0.0' })[0]).toMatch(/^HOST: "0\.0\.0\.0" would expose webhooks that cannot be authenticated/);
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED_WEBHOOKS: 'true' }).localUnauthenticated).toBe(true);
    const withCreds = loadConfig({ TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', TWILIO_AUTH_TOKEN: 't', PUBLIC_URL: 'https://gw.example.com' });
    expect(withCreds).toMatchObject({ host: '0.0.0.0', localUnauthenticated: false });
    expect(mediaStreamUrl(withCreds, 'signalwire')).toBe('wss://gw.example.com/media/signalwire');
  });

  it('never echoes a secret in a problem message', () => {
    const problems = problemsOf({ API_KEY: 'short-secret', STREAM_TOKEN_SECRET: 'tiny' });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toContain('short-secret');
    expect(problems.join('\n')).not.toContain('tiny');
  });
});

describe('forwarded client addresses', () => {
  it('believes X-Forwarded-For only from configured proxies', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.5' }).trustProxy).toEqual(['10.0.0.0/8', '192.168.1.5']);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(problemsOf({ TRUST_PROXY: 'everyone' })[0]).toMatch(/^TRUST_PROXY: must be true/);
  });
  it('names what is missing from a half-set credential group instead of ignoring it', () => {
    const sw = problemsOf({ SIGNALWIRE_SIGNING_KEY: 'key-without-project' }).join('\n');
    expect(sw).toMatch(/SIGNALWIRE_PROJECT_ID and SIGNALWIRE_API_TOKEN: required because SIGNALWIRE_SIGNING_KEY is set/);
    expect(problemsOf({ TWILIO_API_BASE_URL: 'http://127.0.0.1:1' }).join('\n')).toMatch(/TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: required because TWILIO_API_BASE_URL is set/);
    expect(problemsOf({ OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', OPENAI_LLM_MODEL: 'x' }).join('\n')).toMatch(/OPENAI_API_KEY: required because OPENAI_BASE_URL, OPENAI_LLM_MODEL are set/);
    expect(problemsOf({ ELEVENLABS_VOICE_ID: 'v' }).join('\n')).toMatch(/ELEVENLABS_API_KEY: required because ELEVENLABS_VOICE_ID is set/);
    expect(problemsOf({ SIGNALWIRE_PROJECT_ID: 'p', SIGNALWIRE_API_TOKEN: 't', SIGNALWIRE_SIGNING_KEY: 'k', SIGNALWIRE_SPACE_URL: 'x.signalwire.com' })).toEqual([]);
  });

  it('plans a shutdown (drain, persist, close) that fits the 30 s grace period by default', () => {
    const c = loadConfig({}, '/srv/gw');
    const plan = shutdownPlan(c);
    expect(c.shutdownGraceMs).toBe(30_000);
    expect(plan.drainMs + plan.persistMs + plan.closeMs).toBeLessThanOrEqual(30_000);
    expect(plan.drainMs).toBeGreaterThan(10_000);
    // A drain longer than the grace period allows is shortened to fit.
    const long = shutdownPlan({ drainTimeoutMs: 120_000, shutdownGraceMs: 30_000 });
    expect(long.drainMs + long.persistMs + long.closeMs).toBeLessThanOrEqual(30_000);
  });

  it('turns token-streaming TTS on only when asked', () => {
    expect(loadConfig({}, '/srv/gw').providers.elevenlabsTokenStreaming).toBe(false);
    expect(loadConfig({ ELEVENLABS_TOKEN_STREAMING: 'true' }, '/srv/gw').providers.elevenlabsTokenStreaming).toBe(true);
    expect(problemsOf({ ELEVENLABS_TOKEN_STREAMING: 'sometimes' }).join('\n')).toMatch(/ELEVENLABS_TOKEN_STREAMING/);
  });
});
