// The agent benchmark module runs and reports the rows the bench runner prints (small and quick here;
// the figures themselves are benchmarks, not timed tests).
import { describe, expect, it } from 'vitest';
import { runTurnLatencyBench } from '../../bench/agent.ts';

describe('runTurnLatencyBench', () => {
  it('measures turn overhead, barge-in and greeting start at 1 and N calls', async () => {
    const rows = await runTurnLatencyBench({ short: true, concurrency: 4 });
    expect(rows.map((r) => `${r.name}@${r.calls}`)).toEqual([
      'agent.turn.gateway_overhead@1',
      'agent.turn.commit_to_first_audio@1',
      'agent.barge_in.clear_latency_media@1',
      'agent.barge_in.clear_latency_wall@1',
      'agent.greeting.start@1',
      'agent.turn.gateway_overhead@4',
      'agent.turn.commit_to_first_audio@4',
      'agent.barge_in.clear_latency_media@4',
      'agent.barge_in.clear_latency_wall@4',
      'agent.greeting.start@4',
    ]);
    for (const r of rows) {
      expect(r.samples, r.name).toBeGreaterThan(0);
      expect(Number.isFinite(r.p99), r.name).toBe(true);
    }
    // Every turn produced audio, and every barge-in cleared on the media clock at the configured 120 ms.
    const turns = rows.find((r) => r.name === 'agent.turn.gateway_overhead' && r.calls === 4)!;
    expect(turns.samples).toBe(4 * 6); // 4 turns, 2 of them barge-ins whose words make a further answer
    expect(rows.find((r) => r.name === 'agent.barge_in.clear_latency_media' && r.calls === 4)!.max).toBe(120);
  });
});
