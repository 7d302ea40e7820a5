// The media section (bench/mediaPath.ts) as a paired before/after: two gateway children — A from this
// tree, B from another checkout (`--b-root dir`) and/or with other environment variables
// (`--b-env NAME=value,…`) or node options (`--b-node-args "--flag --flag"`, e.g. V8 flags that
// NODE_OPTIONS refuses) — and the bare floor, all started at once and fed the same passes in turn
// (A, B, floor, then B, A, floor, …), so that a load change on a shared machine hits both sides
// alike. Each pass is what the media section measures: N streams × M messages at 10× real time, CPU
// of the whole process (every thread) per message. Warm-up passes are run and shown but left out of
// the medians (V8 compiles the gateway's code and PGlite's WASM during the first passes).
// `node bench/mediaAb.ts [--b-root dir] [--b-env NAME=value] [--a-env …] [--a-node-args …] [--b-node-args …] [--rounds 6] [--warm 2] [--streams 10] [--messages 1500]`
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { gatewayTarget, measure, startBareFloor, type MediaPathFigure } from './mediaPath.ts';
import { startGateway, type BenchGateway } from './lib/gateway.ts';
import { median, round } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    'b-root': { type: 'string' },
    'a-env': { type: 'string' },
    'b-env': { type: 'string' },
    'a-node-args': { type: 'string' },
    'b-node-args': { type: 'string' },
    rounds: { type: 'string' },
    warm: { type: 'string' },
    streams: { type: 'string' },
    messages: { type: 'string' },
  },
});
const rounds = Number(values.rounds ?? 6);
const warm = Number(values.warm ?? 2);
const streams = Number(values.streams ?? 10);
const perStream = Number(values.messages ?? 1500);

function envOf(list: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (list ?? '').split(',').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--a-env/--b-env take NAME=value pairs, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

const argsOf = (list: string | undefined): string[] => (list ?? '').split(' ').filter((a) => a !== '');

const threads = (f: MediaPathFigure): string => (f.threads ?? []).map((t) => `${t.thread} ${t.ms}`).join(', ');

const sides: Array<{ name: string; gw: BenchGateway }> = [];
const bare = await startBareFloor();
try {
  const bRoot = values['b-root'];
  const [a, b] = await Promise.all([
    startGateway({ env: envOf(values['a-env']), nodeArgs: argsOf(values['a-node-args']) }),
    startGateway({ env: envOf(values['b-env']), nodeArgs: argsOf(values['b-node-args']), ...(bRoot !== undefined ? { root: bRoot } : {}) }),
  ]);
  const label = (env: string | undefined, args: string | undefined): string => [env, args].filter((x) => x !== undefined && x !== '').map((x) => ` ${x}`).join('');
  sides.push({ name: `A (this tree${label(values['a-env'], values['a-node-args'])})`, gw: a }, { name: `B (${bRoot ?? 'this tree'}${label(values['b-env'], values['b-node-args'])})`, gw: b });
  await measure(bare.target, 2, 300, 10);
  for (const s of sides) await measure(gatewayTarget(s.gw), 2, 300, 10);
  const us: Record<string, number[]> = { A: [], B: [], floor: [] };
  for (let r = 0; r < warm + rounds; r++) {
    // A and B swap places every round; the floor runs after both.
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    const row: string[] = [];
    const figs: Record<string, MediaPathFigure> = {};
    for (const i of order) {
      const side = sides[i] as { name: string; gw: BenchGateway };
      figs[i === 0 ? 'A' : 'B'] = await measure(gatewayTarget(side.gw), streams, perStream, 10);
    }
    figs.floor = await measure(bare.target, streams, perStream, 10);
    for (const k of ['A', 'B', 'floor']) {
      const f = figs[k] as MediaPathFigure;
      if (r >= warm) (us[k] as number[]).push(f.usPerMessage);
      row.push(`${k} ${f.usPerMessage} µs/msg (${threads(f)}; GC ${f.gc ?? '?'})`);
    }
    const fa = figs.A as MediaPathFigure;
    const fb = figs.B as MediaPathFigure;
    const ff = figs.floor;
    process.stdout.write(
      `${r < warm ? 'warm ' : 'round'} ${r}: A÷B ${round(fa.usPerMessage / fb.usPerMessage, 3)}, A÷floor ${round(fa.usPerMessage / ff.usPerMessage, 2)}, B÷floor ${round(fb.usPerMessage / ff.usPerMessage, 2)}; ${row.join('; ')}; load ${loadavg()[0]?.toFixed(1)}\n`,
    );
  }
  const [ma, mb, mf] = [median(us.A as number[]), median(us.B as number[]), median(us.floor as number[])];
  const pairs = (us.A as number[]).map((x, i) => x / ((us.B as number[])[i] as number));
  process.stdout.write(
    `\n${sides[0]?.name} vs ${sides[1]?.name}, ${rounds} rounds of ${streams} streams × ${perStream} messages after ${warm} warm-up rounds:\n` +
      `  median µs/msg: A ${round(ma, 2)}, B ${round(mb, 2)}, floor ${round(mf, 2)}; A÷floor ${round(ma / mf, 2)}, B÷floor ${round(mb / mf, 2)}\n` +
      `  A÷B per round: ${pairs.map((p) => round(p, 3)).join(', ')} (median ${round(median(pairs), 3)})\n`,
  );
} finally {
  await Promise.all([bare.stop(), ...sides.map((s) => s.gw.stop())]);
}
