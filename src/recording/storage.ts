// Where recordings live, behind a small interface so another store (object storage) can replace the
// local directory. Recordings are named by an opaque id (the call's id): the API never shows a path.
// Several gateway instances may share the directory (a network volume): ids are unique per call, files
// are created exclusively, and deletion of a missing file is not an error.
import { constants } from 'node:fs';
import { mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createError } from '../errors.ts';

/** A file being written: positional writes, so the WAV header can be completed at the end. */
export interface RecordingFile {
  write(bytes: Uint8Array, position?: number): Promise<void>;
  close(): Promise<void>;
}

export interface RecordingStorage {
  /** Creates the recording `id` (fails if it exists). */
  create(id: string): Promise<RecordingFile>;
  /** Size in bytes, or null when there is no such recording. */
  size(id: string): Promise<number | null>;
  /** Reads `length` bytes at `position` (fewer at the end of the file). */
  read(id: string, position: number, length: number): Promise<Uint8Array>;
  /** Removes the recording; true if it existed. */
  delete(id: string): Promise<boolean>;
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;

function checkId(id: string): string {
  if (!ID.test(id)) throw createError('GW_ERR_RECORDING_BAD_ID', `recording id "${id.slice(0, 40)}" is not valid`, { statusCode: 400 });
  return id;
}

export class LocalRecordingStorage implements RecordingStorage {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #file(id: string): string {
    return path.join(this.#dir, `${checkId(id)}.wav`);
  }

  async create(id: string): Promise<RecordingFile> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    // 0600: a recording is the caller's voice; only the gateway's user may read it.
    const fh: FileHandle = await open(this.#file(id), constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    return {
      write: async (bytes, position) => {
        await fh.write(bytes, 0, bytes.length, position ?? null);
      },
      close: () => fh.close(),
    };
  }

  async size(id: string): Promise<number | null> {
    try {
      return (await stat(this.#file(id))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async read(id: string, position: number, length: number): Promise<Uint8Array> {
    const fh = await open(this.#file(id), 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async delete(id: string): Promise<boolean> {
    try {
      await unlink(this.#file(id));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}
