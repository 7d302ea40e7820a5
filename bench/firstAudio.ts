// Section 6, first audio: wall time from the stream's `start` to the first outbound media frame of the
// cached greeting, as the replay client (a stand-in carrier) measures it — at idle (one call at a time)
// and under load (while a background load of calls at real-time pace runs from load-generator
// children). Probe calls run from this process, which does nothing else meanwhile.
// `node bench/firstAudio.ts [--short]`
import { probeCall } from './lib/firstAudioProbe.ts';
import { BENCH_FLOW, startGateway, type BenchGateway } from './lib/gateway.ts';
import { LoadGenerators } from './lib/loadgen.ts';
import { sleep, type SectionContext, type SectionResult } from './lib/section.ts';
import { round, summarize, type Summary } from './lib/stats.ts';

export interface ProbeResult {
  summary: Summary;
  failed: number;
  errors: string[];
}

const PROBE_TIMEOUT_MS = 3000;
/** The number the probe calls dial (the replay client's default `To`). */
const PROBE_TO = '+15005550001';
/** How long after a deploy the first call comes: "deployed more than a few seconds earlier". */
const AFTER_DEPLOY_MS = 3000;

/**
 * Deploys a flow whose greeting has never been said (so nothing is on disk or in memory), routes the
 * probes' number to it, and probes from AFTER_DEPLOY_MS later: a call must not wait on the synthesis
 * of a prompt deployed seconds before. The route is removed again for the sections that follow.
 */
async function probeAfterDeploy(gw: BenchGateway, count: number): Promise<ProbeResult> {
  const id = `bench-fresh-${Date.now().toString(36)}`;
  const flow = { ...BENCH_FLOW, id, nodes: { ...BENCH_FLOW.nodes, greet: { ...BENCH_FLOW.nodes.greet, text: `Thank you for calling line ${id.slice(-6)}, deployed just now.` } } };
  const api = async (method: string, path: string, body?: unknown): Promise<void> => {
    const r = await fetch(`${gw.httpUrl}/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${gw.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!r.ok) throw new Error(`${method} /v1${path} answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
  };
  await api('POST', '/flows', flow);
  await api('PUT', `/numbers/${encodeURIComponent(PROBE_TO)}`, { flowId: id });
  try {
    await sleep(AFTER_DEPLOY_MS);
    return await probeFirstAudio(gw, count);
  } finally {
    await api('DELETE', `/numbers/${encodeURIComponent(PROBE_TO)}`);
  }
}

/** `count` probe calls one after another, each hanging up at its first audio. */
export async function probeFirstAudio(gw: BenchGateway, count: number, signal?: AbortSignal): Promise<ProbeResult> {
  const times: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < count && !signal?.aborted; i++) {
    const r = await probeCall(gw, PROBE_TIMEOUT_MS);
    if (r.ok) times.push(r.firstAudioMs);
    else errors.push(r.error);
  }
  return { summary: summarize(times), failed: errors.length, errors: [...new Set(errors)].slice(0, 3) };
}

export async function runFirstAudioBench(ctx: SectionContext): Promise<SectionResult> {
  const probes = ctx.short ? 20 : 60;
  const loadCalls = ctx.short ? 100 : 300;
  // The first calls after a gateway of its own started on an empty data folder and the embedded
  // database, as `npm start` on a fresh clone (the shared gateway has served other sections already):
  // the greeting was synthesized while its database opened.
  ctx.progress('first audio: the first 5 calls after a fresh start (embedded database, empty data folder)');
  const fresh = await startGateway();
  let atStart: ProbeResult;
  try {
    atStart = await probeFirstAudio(fresh, 5);
  } finally {
    await fresh.stop();
  }
  const gw = await ctx.gateway();
  ctx.progress(`first audio: ${probes} probe calls at idle`);
  await probeFirstAudio(gw, 3); // warm-up: JIT
  const idle = await probeFirstAudio(gw, probes);
  ctx.progress(`first audio: ${probes} probe calls to a flow deployed ${AFTER_DEPLOY_MS} ms before`);
  const afterDeploy = await probeAfterDeploy(gw, probes);

  ctx.progress(`first audio: ${probes} probe calls under a load of ${loadCalls} calls`);
  const gens = await LoadGenerators.start(2);
  let loaded: ProbeResult;
  try {
    // Calls arrive at 20 per second (set-up rate is not what this measures).
    const rampMs = loadCalls * 50;
    // Long enough to cover the probes (each hangs up at its first audio, at most 3 s).
    const audioMs = rampMs + 2500 + probes * 500 + 5000;
    const stop = new AbortController();
    const load = gens.run({ wsUrl: gw.wsUrl, calls: loadCalls, audioMs, holdMs: 0, speed: 1, rampMs, timeoutMs: audioMs + rampMs + 60_000, direction: 'outbound' });
    let loadEnded = false;
    void load.then(
      () => (loadEnded = true),
      () => stop.abort(),
    );
    await sleep(rampMs + 2500, stop.signal);
    loaded = await probeFirstAudio(gw, probes, stop.signal);
    if (loadEnded) loaded.errors.push('the background load ended before the probes did: some probes ran without it');
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
    rows: [
      row('first 5 calls after a fresh start (embedded)', atStart),
      row('idle (one call at a time)', idle),
      row(`flow deployed ${AFTER_DEPLOY_MS / 1000} s before (new prompt)`, afterDeploy),
      row(`under load (${loadCalls} calls live)`, loaded),
    ],
    figures: { atStart, idle, afterDeploy, underLoad: loaded, loadCalls },
    checks: [
      // The shipped flows' prompts are said while the database opens (warmShippedPrompts): before, the
      // first call after a fresh start waited 0.8–1.2 s for the offline voice to start.
      { name: 'first audio of the first 5 calls after a fresh start (max)', value: atStart.summary.max, op: '<', bound: 600, unit: 'ms', note: 'target ≤ 100 ms; the greeting is synthesized while the database opens' },
      { name: 'first audio p50 at idle', value: idle.summary.p50, op: '<', bound: 200, unit: 'ms', note: 'target ≤ 50 ms for a cached greeting' },
      { name: 'first audio p50 under load', value: loaded.summary.p50, op: '<', bound: 400, unit: 'ms', note: 'target ≤ 50 ms' },
      { name: 'first audio p99 after a deploy', value: afterDeploy.summary.p99, op: '<', bound: 400, unit: 'ms', note: 'prompts are synthesized when the flow is deployed, not on its first call' },
    ],
    notes: [
      'Target ≤ 50 ms. The greeting is a static prompt of the benchmark flow, synthesized once when the gateway starts (prompt cache).',
      `After a deploy: a flow with a greeting never said before is deployed (POST /v1/flows), the probes' number routed to it, and the probes start ${AFTER_DEPLOY_MS} ms later.`,
      ...[...atStart.errors, ...idle.errors, ...afterDeploy.errors, ...loaded.errors].map((e) => `error: ${e}`),
    ],
  };
}

if (import.meta.main) {
  const short = process.argv.includes('--short');
  let gw: BenchGateway | undefined;
  const r = await runFirstAudioBench({ short, gateway: async () => (gw ??= await startGateway()), progress: (l) => process.stderr.write(`${l}\n`) }).finally(() => gw?.stop());
  process.stdout.write(`${JSON.stringify(r.figures, null, 2)}\n`);
}
