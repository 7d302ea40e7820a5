// Metrics across workers: whichever worker is scraped, the text holds each worker's series (labelled
// worker="<id>") and the total over all of them.
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { mergeWorkerMetrics } from '../../src/cluster/metrics.ts';

async function workerRegistry(calls: number, requests: number): Promise<Awaited<ReturnType<Registry['getMetricsAsJSON']>>> {
  const r = new Registry();
  new Gauge({ name: 'gw_active_calls', help: 'calls', registers: [r] }).set(calls);
  new Counter({ name: 'gw_requests_total', help: 'requests', labelNames: ['route'], registers: [r] }).inc({ route: '/v1/calls' }, requests);
  return await r.getMetricsAsJSON();
}

describe('mergeWorkerMetrics', () => {
  it('reports every worker and the total', async () => {
    const text = await mergeWorkerMetrics(
      new Map([
        [1, (await workerRegistry(120, 3)) as never],
        [2, (await workerRegistry(80, 4)) as never],
      ]),
    );
    const lines = text.split('\n');
    expect(lines).toContain('gw_active_calls 200');
    expect(lines).toContain('gw_active_calls{worker="1"} 120');
    expect(lines).toContain('gw_active_calls{worker="2"} 80');
    expect(lines).toContain('gw_requests_total{route="/v1/calls"} 7');
    expect(lines).toContain('gw_requests_total{route="/v1/calls",worker="2"} 4');
    expect(lines.filter((l) => l.startsWith('# TYPE gw_active_calls'))).toHaveLength(1);
  });
});
