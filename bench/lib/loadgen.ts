// Runs replayed calls from one or more load-generator child processes, so the calls' client side never
// shares the gateway's process (or the parent's event loop), and merges their reports.
import { fileURLToPath } from 'node:url';
import { BenchChild } from './children.ts';
import type { CallOutcome, LoadJob, LoadReport } from './loadgenChild.ts';

const CHILD = fileURLToPath(new URL('./loadgenChild.ts', import.meta.url));

export type { CallOutcome, LoadJob, LoadReport };

export interface MergedLoad {
  outcomes: CallOutcome[];
  generators: Array<{ pid: number; calls: number; cpuMs: number; wallMs: number; loopDelayMs: LoadReport['loopDelayMs'] }>;
}

export class LoadGenerators {
  readonly #children: BenchChild[];

  private constructor(children: BenchChild[]) {
    this.#children = children;
  }

  static async start(count: number): Promise<LoadGenerators> {
    const children = Array.from({ length: count }, (_, i) => BenchChild.start(`loadgen-${i + 1}`, CHILD, {}));
    try {
      await Promise.all(children.map((c) => c.waitFor('ready', 60_000)));
    } catch (err) {
      await Promise.all(children.map((c) => c.stop(1000)));
      throw err;
    }
    return new LoadGenerators(children);
  }

  /** Splits `job.calls` across the generators (each ramps its share over the same window). */
  async run(job: LoadJob): Promise<MergedLoad> {
    const n = this.#children.length;
    const shares = this.#children.map((_, i) => Math.floor(job.calls / n) + (i < job.calls % n ? 1 : 0));
    const reports = await Promise.all(
      this.#children.map(async (c, i) => {
        const share = shares[i] as number;
        if (share === 0) return { pid: c.pid, report: { outcomes: [], cpuMs: 0, wallMs: 0, loopDelayMs: { p50: 0, p99: 0, max: 0 } } };
        const m = await c.request({ type: 'run', job: { ...job, calls: share } }, job.timeoutMs + 30_000);
        return { pid: c.pid, report: m.report as LoadReport };
      }),
    );
    return {
      outcomes: reports.flatMap((r) => r.report.outcomes),
      generators: reports.map((r) => ({ pid: r.pid, calls: r.report.outcomes.length, cpuMs: r.report.cpuMs, wallMs: r.report.wallMs, loopDelayMs: r.report.loopDelayMs })),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.#children.map((c) => c.stop(5000)));
  }
}
