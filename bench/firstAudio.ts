// Section 6, first audio: wall time from the stream's `start` to the first outbound media frame of the
// cached greeting, as the replay client (a stand-in carrier) measures it — at idle (one call at a time)
// and under load (while a background load of calls at real-time pace runs from load-generator
// children). Probe calls run from this process, which does nothing else meanwhile.
// `node bench/firstAudio.ts [--short]`
import { replayCall } from '../src/replay/client.ts';
import { callerAudio } from './lib/callerAudio.ts';
import { startGateway, type BenchGateway } from './lib/gateway.ts';
import { LoadGenerators } from './lib/loadgen.ts';
import { sleep, type SectionContext, type SectionResult } from './lib/section.ts';
import { round, summarize, type Summary } from './lib/stats.ts';

export interface ProbeResult {
  summary: Summary;
  failed: number;
  errors: string[];
}

/** `count` calls one after another; each ends right after its first audio (no hold). */
export async function probeFirstAudio(gw: BenchGateway, count: number, signal?: AbortSignal): Promise<ProbeResult> {
  const audio = callerAudio(400);
  const times: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < count && !signal?.aborted; i++) {
    try {
      const r = await replayCall({
        carrier: 'twilio',
        audio,
        url: gw.wsUrl,
        speed: 1,
        holdMs: 600,
        maxHoldMs: 600,
        webhook: { url: `${gw.httpUrl}/voice/twilio`, params: { Direction: 'outbound-api' } },
        signal: AbortSignal.any([AbortSignal.timeout(20_000), ...(signal ? [signal] : [])]),
      });
      if (r.firstAudio) times.push(r.firstAudio.wallMs);
      else errors.push(`no audio within the call (${r.endReason})`);
    } catch (err) {
      errors.push((err as Error).message.slice(0, 160));
    }
  }
  return { summary: summarize(times), failed: errors.length, errors: [...new Set(errors)].slice(0, 3) };
}

export async function runFirstAudioBench(ctx: SectionContext): Promise<SectionResult> {
  const gw = await ctx.gateway();
  const probes = ctx.short ? 20 : 60;
  const loadCalls = ctx.short ? 100 : 300;
  ctx.progress(`first audio: ${probes} probe calls at idle`);
  await probeFirstAudio(gw, 2); // warm-up: JIT and the prompt cache
  const idle = await probeFirstAudio(gw, probes);

  ctx.progress(`first audio: ${probes} probe calls under a load of ${loadCalls} calls`);
  const gens = await LoadGenerators.start(2);
  let loaded: ProbeResult;
  try {
    const rampMs = Math.min(8000, loadCalls * 15);
    // Long enough to cover the probes: each takes about a second at idle, more under load.
    const audioMs = rampMs + 2500 + probes * 1500 + 5000;
    const stop = new AbortController();
    const load = gens.run({ wsUrl: gw.wsUrl, calls: loadCalls, audioMs, holdMs: 0, speed: 1, rampMs, timeoutMs: audioMs + rampMs + 60_000, direction: 'outbound' });
    load.catch(() => stop.abort());
    await sleep(rampMs + 2500, stop.signal);
    loaded = await probeFirstAudio(gw, probes, stop.signal);
    const bg = await load;
    const bgFailed = bg.outcomes.filter((o) => !o.ok).length;
    if (bgFailed > 0) loaded.errors.push(`${bgFailed} of ${loadCalls} background calls failed`);
  } finally {
    await gens.stop();
  }
  const row = (name: string, r: ProbeResult) => [name, r.summary.count, r.failed, round(r.summary.p50, 1), round(r.summary.p99, 1), round(r.summary.max, 1)];
  return {
    id: 'first-audio',
    title: '6. First audio (stream start → first greeting media, wall ms, replay client)',
    header: ['condition', 'calls', 'failed', 'p50 ms', 'p99 ms', 'max ms'],
    rows: [row('idle (one call at a time)', idle), row(`under load (${loadCalls} calls live)`, loaded)],
    figures: { idle, underLoad: loaded, loadCalls },
    checks: [
      { name: 'first audio p50 at idle', value: idle.summary.p50, op: '<', bound: 200, unit: 'ms', note: 'target ≤ 50 ms for a cached greeting' },
      { name: 'first audio p50 under load', value: loaded.summary.p50, op: '<', bound: 400, unit: 'ms', note: 'target ≤ 50 ms' },
    ],
    notes: [
      'Target ≤ 50 ms. The greeting is a static prompt of the benchmark flow, synthesized once when the gateway starts (prompt cache).',
      ...[...idle.errors, ...loaded.errors].map((e) => `error: ${e}`),
    ],
  };
}

if (import.meta.main) {
  const short = process.argv.includes('--short');
  let gw: BenchGateway | undefined;
  const r = await runFirstAudioBench({ short, gateway: async () => (gw ??= await startGateway()), progress: (l) => process.stderr.write(`${l}\n`) }).finally(() => gw?.stop());
  process.stdout.write(`${JSON.stringify(r.figures, null, 2)}\n`);
}
