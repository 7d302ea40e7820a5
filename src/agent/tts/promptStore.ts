// The prompt cache's copy on disk (in the data folder), so synthesized prompts survive a restart and
// are shared by the worker processes of one machine: one file per prompt, named by a hash of its key
// (provider, voice, text), written to a temporary name and renamed so a reader never sees half a file.
// Bounded by total bytes; the least recently written files are removed first. A file another process
// removed or that cannot be read is simply a miss: the caller synthesizes again.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

const EXT = '.ulaw';

export class PromptStore {
  private readonly dir: string;
  private readonly maxBytes: number;
  /** File name → size, oldest first. */
  private readonly files = new Map<string, number>();
  private bytes = 0;
  private readonly ready: Promise<void>;

  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.ready = this.scan().catch(() => undefined);
  }

  private async scan(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => n.endsWith(EXT));
    const found = await Promise.all(names.map(async (n) => ({ n, s: await stat(path.join(this.dir, n)).catch(() => undefined) })));
    found.sort((a, b) => (a.s?.mtimeMs ?? 0) - (b.s?.mtimeMs ?? 0));
    for (const { n, s } of found) {
      if (s === undefined) continue;
      this.files.set(n, s.size);
      this.bytes += s.size;
    }
    await this.evict();
  }

  private fileOf(key: string): string {
    return `${createHash('sha256').update(key).digest('hex').slice(0, 40)}${EXT}`;
  }

  async read(key: string): Promise<Uint8Array | undefined> {
    await this.ready;
    try {
      const b = await readFile(path.join(this.dir, this.fileOf(key)));
      return b.length > 0 ? new Uint8Array(b.buffer, b.byteOffset, b.length) : undefined;
    } catch {
      return undefined;
    }
  }

  async write(key: string, audio: Uint8Array): Promise<void> {
    if (audio.length === 0 || audio.length > this.maxBytes) return;
    await this.ready;
    const name = this.fileOf(key);
    const tmp = path.join(this.dir, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, audio);
    await rename(tmp, path.join(this.dir, name));
    const old = this.files.get(name);
    if (old !== undefined) {
      this.bytes -= old;
      this.files.delete(name);
    }
    this.files.set(name, audio.length);
    this.bytes += audio.length;
    await this.evict();
  }

  private async evict(): Promise<void> {
    for (const [name, size] of this.files) {
      if (this.bytes <= this.maxBytes) break;
      this.files.delete(name);
      this.bytes -= size;
      await unlink(path.join(this.dir, name)).catch(() => undefined);
    }
  }

  get totalBytes(): number {
    return this.bytes;
  }
}
