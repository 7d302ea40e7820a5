// An idle child process whose event-loop delay is read over the same window as the gateway's: on a
// machine shared with other work, it shows how much of the gateway's lag is the scheduler's.
import { fileURLToPath } from 'node:url';
import { BenchChild } from './children.ts';

const CHILD = fileURLToPath(new URL('./bareChild.ts', import.meta.url));

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

export class IdleProbe {
  readonly #child: BenchChild;

  private constructor(child: BenchChild) {
    this.#child = child;
  }

  static async start(): Promise<IdleProbe> {
    const child = BenchChild.start('idle-probe', CHILD, {});
    try {
      await child.waitFor('ready', 60_000);
    } catch (err) {
      await child.stop(1000);
      throw err;
    }
    return new IdleProbe(child);
  }

  /** Event-loop delay (ms, including the 5 ms tick like /v1/metrics) since the last reset. */
  async read(reset = false): Promise<LoopDelay> {
    const m = await this.#child.request({ type: 'loop', reset }, 10_000);
    return { p50: m.p50 as number, p99: m.p99 as number, max: m.max as number };
  }

  stop(): Promise<void> {
    return this.#child.stop(3000);
  }
}
