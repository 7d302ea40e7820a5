// The prompt cache's copy on disk (in the data folder), so synthesized prompts survive a restart and
// are shared by the worker processes of one machine: one file per prompt, named by a hash of its key
// (provider, voice, text), written to a temporary name and renamed so a reader never sees half a file.
// Bounded by total bytes; the least recently written files are removed first. A file another process
// removed or that cannot be read is simply a miss.
//
// Once per machine: a prompt missing from the folder is synthesized by the one process that creates
// its lock file (`<hash>.lock`, O_EXCL, holding its pid); the others wait for the prompt's file to
// appear instead of synthesizing it too. A lock whose owner has died (no such pid) or that is older
// than LOCK_STALE_MS is taken over, so at worst a prompt is synthesized again by one waiter — never
// waited on forever. The folder is bounded over what every process wrote: the size is recounted from
// the folder after writes.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

const EXT = '.ulaw';
const LOCK = '.lock';
/** A lock older than this belongs to a synthesis that will not finish (providers time out well before). */
export const LOCK_STALE_MS = 30_000;
/** How often a process waiting for another's synthesis looks for its file. */
const WAIT_POLL_MS = 25;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class PromptStore {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly ready: Promise<void>;
  /** Syntheses this process ran because it held the prompt's lock (for tests and metrics). */
  produced = 0;
  /** Prompts this process waited for while another process synthesized them. */
  waited = 0;
  private recounting: Promise<void> | undefined;
  private again = false;

  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.ready = this.prepare().catch(() => undefined);
  }

  private async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.evict();
  }

  private fileOf(key: string): string {
    return `${createHash('sha256').update(key).digest('hex').slice(0, 40)}${EXT}`;
  }

  async read(key: string): Promise<Uint8Array | undefined> {
    await this.ready;
    return await this.readFile(this.fileOf(key));
  }

  private async readFile(name: string): Promise<Uint8Array | undefined> {
    try {
      const b = await readFile(path.join(this.dir, name));
      return b.length > 0 ? new Uint8Array(b.buffer, b.byteOffset, b.length) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The stored prompt for `key`; when there is none, `produce()` runs in exactly one process of the
   * machine (the one holding the prompt's lock) and its result is stored; the others wait for it.
   * `signal` ends only this caller's wait, never another process's synthesis.
   */
  async readOrProduce(key: string, produce: () => Promise<Uint8Array>, signal: AbortSignal): Promise<Uint8Array> {
    await this.ready;
    const name = this.fileOf(key);
    const lockPath = path.join(this.dir, `${name}${LOCK}`);
    let waitedHere = false;
    for (;;) {
      const stored = await this.readFile(name);
      if (stored !== undefined) {
        if (waitedHere) this.waited++;
        return stored;
      }
      if (signal.aborted) throw new DOMException('aborted', 'AbortError');
      const lock = await open(lockPath, 'wx').catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : err));
      if (lock instanceof Error) {
        // The folder cannot be written (read-only, full, gone): a prompt plays anyway, unshared.
        this.produced++;
        return await produce();
      }
      if (lock !== undefined) {
        try {
          await lock.writeFile(String(process.pid));
          await lock.close();
          // Written between our read and our lock by a process that has just let go of it.
          const late = await this.readFile(name);
          if (late !== undefined) return late;
          this.produced++;
          const audio = await produce();
          await this.write(key, audio).catch(() => undefined);
          return audio;
        } finally {
          await unlink(lockPath).catch(() => undefined);
        }
      }
      if (await this.staleLock(lockPath)) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      waitedHere = true;
      await sleep(WAIT_POLL_MS);
    }
  }

  /** A lock whose process has gone, or that has been held far longer than any synthesis takes. */
  private async staleLock(lockPath: string): Promise<boolean> {
    try {
      const [text, s] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
      // An empty lock is one being written this instant: only its age can make it stale.
      if (text !== '' && !alive(Number(text))) return true;
      return Date.now() - s.mtimeMs > LOCK_STALE_MS;
    } catch {
      return false; // gone already: the next round reads the prompt or takes the lock
    }
  }

  /** Stores a prompt (atomically: a reader sees the whole file or none); eviction runs behind. */
  async write(key: string, audio: Uint8Array): Promise<void> {
    if (audio.length === 0 || audio.length > this.maxBytes) return;
    await this.ready;
    const name = this.fileOf(key);
    const tmp = path.join(this.dir, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, audio);
    await rename(tmp, path.join(this.dir, name));
    void this.evict().catch(() => undefined);
  }

  /** Resolves once the eviction started by the last write has run. */
  async settled(): Promise<void> {
    await this.recounting?.catch(() => undefined);
  }

  /**
   * Removes the oldest prompts while the folder (every process's writes) is over its bound. Writes
   * that come while it recounts share one more recount instead of one each.
   */
  private evict(): Promise<void> {
    if (this.recounting !== undefined) {
      this.again = true;
      return this.recounting;
    }
    this.recounting = (async () => {
      do {
        this.again = false;
        await this.recount();
      } while (this.again);
    })().finally(() => (this.recounting = undefined));
    return this.recounting;
  }

  private async recount(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith(EXT));
    const found = await Promise.all(names.map(async (n) => ({ n, s: await stat(path.join(this.dir, n)).catch(() => undefined) })));
    found.sort((a, b) => (a.s?.mtimeMs ?? 0) - (b.s?.mtimeMs ?? 0));
    let bytes = found.reduce((sum, f) => sum + (f.s?.size ?? 0), 0);
    for (const { n, s } of found) {
      if (bytes <= this.maxBytes) break;
      if (s === undefined) continue;
      bytes -= s.size;
      await unlink(path.join(this.dir, n)).catch(() => undefined);
    }
  }
}
