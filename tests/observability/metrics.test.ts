// GET /metrics in the Prometheus text format after a real replayed call, and its scrape auth.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall } from '../../src/replay/client.ts';
import { PUBLIC_URL, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const HELLO = decodeWav(readFileSync(new URL('../../fixtures/speech/human_hello.wav', import.meta.url)));
const TOKEN = 'metrics-token-0123456789abcdef';

/** The value of one sample line (name with labels exactly as written), 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('Prometheus metrics', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite', { env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(() => gw?.close());

  it('counts a call started and ended with its outcome, first audio and the event loop', async () => {
    const before = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    await replayCall({ carrier: 'twilio', audio: HELLO, url: gw.wsUrl, publicUrl: PUBLIC_URL, speed: 5, holdMs: 60_000 });
    await gw.app.gateway.settle();
    const res = await fetch(`${gw.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const after = await res.text();
    const delta = (series: string): number => sample(after, series) - sample(before, series);
    expect(delta('gateway_calls_started_total{carrier="twilio",direction="inbound"}')).toBe(1);
    expect(delta('gateway_calls_ended_total{carrier="twilio",direction="inbound",outcome="completed"}')).toBe(1);
    expect(delta('gateway_first_audio_seconds_count')).toBe(1);
    expect(sample(after, 'gateway_active_calls')).toBe(0);
    expect(sample(after, 'gateway_event_loop_delay_seconds_count')).toBeGreaterThan(0);
    expect(sample(after, 'gateway_frame_processing_seconds_count')).toBeGreaterThan(sample(before, 'gateway_frame_processing_seconds_count'));
    expect(after).toContain('# TYPE gateway_event_log_buffered gauge');
    expect(after).toContain('# TYPE gateway_campaign_dials_total counter');
    expect(after).toContain('process_resident_memory_bytes');
  });

  it('exposes every series the issue lists and the dashboard charts', async () => {
    const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    const expected: Array<[string, string]> = [
      ['gateway_active_calls', 'gauge'],
      ['gateway_calls_started_total', 'counter'],
      ['gateway_calls_ended_total', 'counter'],
      ['gateway_event_loop_delay_seconds', 'histogram'],
      ['gateway_frame_processing_seconds', 'histogram'],
      ['gateway_first_audio_seconds', 'histogram'],
      ['gateway_amd_decision_seconds', 'histogram'],
      ['gateway_agent_turn_latency_seconds', 'histogram'],
      ['gateway_barge_in_seconds', 'histogram'],
      ['gateway_provider_errors_total', 'counter'],
      ['gateway_provider_breaker_state', 'gauge'],
      ['gateway_event_log_buffered', 'gauge'],
      ['gateway_event_log_dropped', 'gauge'],
      ['gateway_recordings_stopped_total', 'counter'],
      ['gateway_campaign_dials_total', 'counter'],
      ['gateway_campaign_outcomes_total', 'counter'],
    ];
    for (const [name, type] of expected) expect(text, name).toContain(`# TYPE ${name} ${type}`);
    // The Grafana dashboard shipped in the repo only charts series that exist.
    const dashboard = readFileSync(new URL('../../grafana/voice-gateway.json', import.meta.url), 'utf8');
    const used = new Set([...dashboard.matchAll(/gateway_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(text, `dashboard series ${name}`).toContain(`# TYPE ${name} `);
  });

  it('needs the bearer token from a non-loopback address', async () => {
    const anon = await gw.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' });
    expect(anon.statusCode).toBe(401);
    const wrong = await gw.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    const ok = await gw.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('gateway_active_calls');
    // The JSON /v1/metrics stays for its existing clients.
    expect((await gw.api('/v1/metrics')).body).toHaveProperty('activeCalls');
  });
});

describe('Prometheus metrics without a token', () => {
  // The gateway starts in a hook (a hook's time limit, not the test's): on a loaded machine its start
  // alone took 17 s of the test's 30.
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
  });
  afterAll(() => gw?.close());

  it('are served to loopback only', async () => {
    expect((await gw.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' })).statusCode).toBe(403);
    expect((await gw.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
  });
});
