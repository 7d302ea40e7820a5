// Child processes of the benchmark (gateway, bare floor server, load generators): started with an IPC
// channel, tracked, and killed when the benchmark exits for any reason — normal end, an exception,
// Ctrl-C — so a failed run never leaves a gateway holding CPU on a shared machine.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

export interface ChildMessage {
  type: string;
  id?: number;
  [key: string]: unknown;
}

/** A forked TypeScript module with request/reply over IPC. */
export class BenchChild {
  readonly process: ChildProcess;
  readonly name: string;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (m: ChildMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly #listeners = new Set<(m: ChildMessage) => void>();
  #stderrTail = '';
  #exited: Promise<void>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.process = child;
    child.on('message', (raw) => {
      const m = raw as ChildMessage;
      if (typeof m.id === 'number') {
        const w = this.#waiting.get(m.id);
        if (w) {
          this.#waiting.delete(m.id);
          clearTimeout(w.timer);
          if (m.type === 'error') w.reject(new Error(`${name}: ${String(m.message)}`));
          else w.resolve(m);
          return;
        }
      }
      for (const l of this.#listeners) l(m);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderrTail = (this.#stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    this.#exited = once(child, 'exit').then(() => {
      live.delete(child);
      for (const [id, w] of this.#waiting) {
        clearTimeout(w.timer);
        w.reject(new Error(`${name} exited (code ${child.exitCode ?? child.signalCode}) before answering; stderr: ${this.#stderrTail.trim().slice(-1500)}`));
        this.#waiting.delete(id);
      }
    });
  }

  /** Forks `modulePath` with the same Node binary; stdout is discarded, stderr kept for diagnostics. */
  static start(name: string, modulePath: string, env: Record<string, string | undefined>, args: string[] = [], execArgv: string[] = []): BenchChild {
    hookExit();
    const child = fork(modulePath, args, {
      execPath: process.execPath,
      ...(execArgv.length > 0 ? { execArgv: [...process.execArgv, ...execArgv] } : {}),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    live.add(child);
    return new BenchChild(name, child);
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get stderrTail(): string {
    return this.#stderrTail;
  }

  /** Waits for the first message of `type` (e.g. 'ready'). */
  waitFor(type: string, timeoutMs: number): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms; stderr: ${this.#stderrTail.trim().slice(-1500)}`));
      }, timeoutMs);
      const listener = (m: ChildMessage) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(m);
      };
      this.#listeners.add(listener);
      void this.#exited.then(() => {
        if (!this.#listeners.has(listener)) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        reject(new Error(`${this.name} exited (code ${this.process.exitCode ?? this.process.signalCode}); stderr: ${this.#stderrTail.trim().slice(-1500)}`));
      });
    });
  }

  request(message: ChildMessage, timeoutMs: number): Promise<ChildMessage> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (!this.process.connected) {
        reject(new Error(`${this.name} is not running`));
        return;
      }
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${this.name}: no answer to '${message.type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, { resolve, reject, timer });
      this.process.send({ ...message, id });
    });
  }

  /** Asks the child to stop, then kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    if (this.process.connected) this.process.send({ type: 'stop' });
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** In a child: answers requests from the parent. Handlers return the reply body. */
export function serveParent(handlers: Record<string, (m: ChildMessage) => Promise<Record<string, unknown>> | Record<string, unknown>>, onStop: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    onStop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${(err as Error).stack ?? String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('message', (raw) => {
    const m = raw as ChildMessage;
    if (m.type === 'stop') return stop();
    const handler = handlers[m.type];
    if (!handler) {
      process.send?.({ type: 'error', id: m.id, message: `unknown request ${m.type}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(m))
      .then(
        (body) => process.send?.({ ...body, type: m.type, id: m.id }),
        (err: unknown) => process.send?.({ type: 'error', id: m.id, message: (err as Error).message ?? String(err) }),
      );
  });
  // The parent died (or closed the channel): nothing will ever ask us to stop, so stop now.
  process.on('disconnect', stop);
}
