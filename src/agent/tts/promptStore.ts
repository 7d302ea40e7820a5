// The prompt cache's copy on disk (in the data folder), so synthesized prompts survive a restart and
// are shared by the worker processes of one machine: one file per prompt, named by a hash of its key
// (provider, voice, text), written to a temporary name and renamed so a reader never sees half a file.
// Bounded by total bytes; the least recently written files are removed first. A file another process
// removed or that cannot be read is simply a miss.
//
// Once per machine: a prompt missing from the folder is synthesized by the one process that holds its
// lock (proper-lockfile: `<hash>.ulaw.lock`, a directory made atomically with mkdir); the others wait
// for the prompt's file to appear instead of synthesizing it too. The owner refreshes the lock's mtime
// every LOCK_UPDATE_MS while it synthesizes, so a long synthesis keeps its lock; a lock not refreshed
// for LOCK_STALE_MS belongs to a process that died (SIGKILL, OOM, crash) and is taken over by the next
// waiter. A waiter gives up waiting after LOCK_WAIT_MAX_MS and synthesizes the prompt itself — never
// waited on forever. (Two waiters taking over the same stale lock in the same instant can both win —
// proper-lockfile removes and recreates it in two steps — so a dead owner costs at most one more
// synthesis per waiter that raced, a rare and harmless duplicate: the rename makes one file.) The
// folder is bounded over what every process wrote: the size is recounted from the folder after writes.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';

const EXT = '.ulaw';
const LOCK = '.lock';
/**
 * A lock whose mtime is older than this is stale: its owner stopped refreshing it (it died). Five
 * refresh periods, so an owner whose event loop is held up for a few seconds under load keeps its lock,
 * while a killed owner's prompt is synthesized by another process within ~5 s (proper-lockfile's
 * floor is 2 s).
 */
export const LOCK_STALE_MS = 5_000;
/** How often the owner refreshes its lock's mtime (proper-lockfile's floor is 1 s). */
export const LOCK_UPDATE_MS = 1_000;
/**
 * The longest a process waits for another's live synthesis (its lock kept fresh) before synthesizing
 * the prompt itself: providers time out well before, so this is only a guard against a hung owner.
 */
export const LOCK_WAIT_MAX_MS = 30_000;
/** How often a process waiting for another's synthesis looks for its file. */
const WAIT_POLL_MS = 25;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class PromptStore {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly ready: Promise<void>;
  /** Syntheses this process ran because it held the prompt's lock (for tests and metrics). */
  produced = 0;
  /** Prompts this process waited for while another process synthesized them. */
  waited = 0;
  /**
   * Locks this process lost while synthesizing (not refreshed within LOCK_STALE_MS: a stalled event
   * loop, or the lock removed under it). The synthesis finishes and is stored anyway; at worst another
   * process synthesized the same prompt too.
   */
  compromised = 0;
  private recounting: Promise<void> | undefined;
  private again = false;

  private readonly lockWaitMaxMs: number;

  /** `lockWaitMaxMs`: the longest wait for another process's live synthesis (default LOCK_WAIT_MAX_MS). */
  constructor(dir: string, maxBytes: number, opts: { lockWaitMaxMs?: number } = {}) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.lockWaitMaxMs = opts.lockWaitMaxMs ?? LOCK_WAIT_MAX_MS;
    this.ready = this.prepare().catch(() => undefined);
  }

  private async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.removeLegacyLocks();
    await this.evict();
  }

  /**
   * Before proper-lockfile, a prompt's lock was a file holding a pid; one left by a crash of that
   * version would make mkdir fail forever (EEXIST, and proper-lockfile removes only directories).
   */
  private async removeLegacyLocks(): Promise<void> {
    const entries = await readdir(this.dir, { withFileTypes: true });
    await Promise.all(entries.filter((e) => e.name.endsWith(`${EXT}${LOCK}`) && e.isFile()).map((e) => rm(path.join(this.dir, e.name), { force: true })));
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
    const file = path.join(this.dir, name);
    let waitingSince: number | undefined;
    for (;;) {
      const stored = await this.readFile(name);
      if (stored !== undefined) {
        if (waitingSince !== undefined) this.waited++;
        return stored;
      }
      if (signal.aborted) throw new DOMException('aborted', 'AbortError');
      const release = await lockfile
        .lock(file, {
          stale: LOCK_STALE_MS,
          update: LOCK_UPDATE_MS,
          // Waiting is ours (below): a waiter must see the prompt's file as soon as it is written.
          retries: 0,
          // The prompt's file does not exist yet; the folder is ours, no symlinks to resolve.
          realpath: false,
          // The default throws from a timer, which would end the process: a lost lock costs at most
          // one more synthesis of the prompt (by the process that took it over), never a crash.
          onCompromised: () => {
            this.compromised++;
          },
        })
        .catch((err: NodeJS.ErrnoException) => (err.code === 'ELOCKED' ? undefined : err));
      if (release instanceof Error) {
        // The folder cannot be written (read-only, full, gone): a prompt plays anyway, unshared.
        this.produced++;
        return await produce();
      }
      if (release !== undefined) {
        try {
          // Written between our read and our lock by a process that has just let go of it.
          const late = await this.readFile(name);
          if (late !== undefined) return late;
          this.produced++;
          const audio = await produce();
          await this.write(key, audio).catch(() => undefined);
          return audio;
        } finally {
          // Rejects with ERELEASED when the lock was compromised meanwhile: nothing left to let go.
          await release().catch(() => undefined);
        }
      }
      waitingSince ??= Date.now();
      if (Date.now() - waitingSince > this.lockWaitMaxMs) {
        // The owner is alive (its lock is fresh) but its synthesis has not ended: play without it.
        this.produced++;
        const audio = await produce();
        await this.write(key, audio).catch(() => undefined);
        return audio;
      }
      await sleep(WAIT_POLL_MS);
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
