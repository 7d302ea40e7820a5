// Self time of a `--cpu-prof` profile, optionally only inside a window of the monotonic clock (the
// cluster bench prints its steady window as `process.hrtime` microseconds when BENCH_PROFILE_DIR is
// set; V8 stamps samples with the same clock), by function and by area of the code base, so a worker's
// steady state is read without its start-up and call set-up.
// `node bench/lib/profileWindow.ts <file.cpuprofile> [--from µs] [--to µs] [--top 40]`
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The area a function belongs to, from its file: our folders, node's internals, or a package. */
export function areaOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg:${pkg[1] as string}`;
  const ours = /\/(src\/[^/]+|dsp|bench)\/([^/]+)$/.exec(url);
  if (ours) return `${ours[1] as string}/${ours[2] as string}`;
  if (url.startsWith('node:')) return url;
  return url;
}

export function selfTimes(p: CpuProfile, from = -Infinity, to = Infinity): { byFn: Map<string, number>; byArea: Map<string, number>; totalUs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < from || t > to) continue;
    // A sample's weight is the interval to the next one (V8's own attribution).
    const w = p.timeDeltas[i + 1] ?? dt;
    const node = byId.get(p.samples[i] as number);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules\/|src\/|dsp\/|bench\/)/, '$1')}:${lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + w);
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + w);
    total += w;
  }
  return { byFn, byArea, totalUs: total };
}

/**
 * The longest stretches of back-to-back busy samples (no idle sample between them) in the window: what
 * delays the event loop. Each with its length and the functions that took most of it (self time).
 */
export function longTasks(p: CpuProfile, from = -Infinity, to = Infinity, count = 10): Array<{ atUs: number; ms: number; top: string }> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const tasks: Array<{ atUs: number; ms: number; top: string }> = [];
  let t = p.startTime;
  let start = -1;
  let fns = new Map<string, number>();
  const close = (end: number): void => {
    if (start < 0) return;
    const top = [...fns].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ');
    tasks.push({ atUs: start, ms: (end - start) / 1000, top });
    start = -1;
    fns = new Map();
  };
  let last = t;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    last = t;
    const node = byId.get(p.samples[i] as number);
    const name = node?.callFrame.functionName ?? '';
    if (name === '(idle)') {
      close(t);
      continue;
    }
    if (start < 0) start = t;
    const w = p.timeDeltas[i + 1] ?? 0;
    const key = `${name || '(anonymous)'} ${(node?.callFrame.url ?? '').replace(/^.*\//, '')}:${(node?.callFrame.lineNumber ?? 0) + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + w);
  }
  close(last);
  return tasks.sort((a, b) => b.ms - a.ms).slice(0, count);
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string' } } });
  const top = Number(values.top ?? 40);
  for (const file of positionals) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const { byFn, byArea, totalUs } = selfTimes(p, values.from ? Number(values.from) : -Infinity, values.to ? Number(values.to) : Infinity);
    const idle = (byFn.get('(idle) :0') ?? 0);
    const busy = totalUs - idle;
    process.stdout.write(`${file}: ${(totalUs / 1000).toFixed(0)} ms sampled, busy ${(busy / 1000).toFixed(0)} ms\n`);
    const show = (m: Map<string, number>, n: number): void => {
      for (const [k, v] of [...m].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, n)) {
        process.stdout.write(`  ${((v / busy) * 100).toFixed(1).padStart(5)} %  ${(v / 1000).toFixed(1).padStart(8)} ms  ${k}\n`);
      }
    };
    process.stdout.write(' by area:\n');
    show(byArea, 30);
    process.stdout.write(' by function:\n');
    show(byFn, top);
    process.stdout.write(' longest busy stretches (ms, self time of their top functions in ms):\n');
    for (const task of longTasks(p, values.from ? Number(values.from) : -Infinity, values.to ? Number(values.to) : Infinity)) {
      process.stdout.write(`  ${task.ms.toFixed(1).padStart(6)} ms at ${task.atUs}: ${task.top}\n`);
    }
  }
}
