// Audio files for `play` / `say { audio }`: WAV files in one configured folder, decoded and brought to
// 8 kHz mu-law once (dsp/wav.ts, dsp/mulaw.ts) and kept, so a prompt played on every call costs one
// file read per process. Names are relative paths; anything that would leave the folder is refused.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeMulaw } from '../../dsp/mulaw.ts';
import { decodeWavTo8k } from '../../dsp/wav.ts';
import { createError } from '../errors.ts';

export interface AudioSource {
  /** 8 kHz mu-law audio of a named file. Throws GW_ERR_FLOW_AUDIO_* when it cannot. */
  load(name: string): Promise<Uint8Array>;
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_./-]{0,199}$/;

export class AudioFolder implements AudioSource {
  private readonly dir: string;
  private readonly cache = new Map<string, Promise<Uint8Array>>();
  private readonly maxEntries: number;

  constructor(dir: string, opts: { maxEntries?: number } = {}) {
    this.dir = path.resolve(dir);
    this.maxEntries = opts.maxEntries ?? 200;
  }

  load(name: string): Promise<Uint8Array> {
    let entry = this.cache.get(name);
    if (entry === undefined) {
      entry = this.read(name);
      // A failed read is not kept: the file may be added later.
      entry.catch(() => this.cache.delete(name));
      if (this.cache.size >= this.maxEntries) {
        const oldest = this.cache.keys().next();
        if (oldest.done !== true) this.cache.delete(oldest.value);
      }
      this.cache.set(name, entry);
    }
    return entry;
  }

  private async read(name: string): Promise<Uint8Array> {
    const file = path.resolve(this.dir, name);
    if (!NAME.test(name) || name.split('/').includes('..') || !file.startsWith(this.dir + path.sep)) {
      throw createError('GW_ERR_FLOW_AUDIO_NAME', `audio file name "${name}" must be a relative path inside the audio folder`, { statusCode: 400 });
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (cause) {
      throw createError('GW_ERR_FLOW_AUDIO_MISSING', `audio file "${name}" cannot be read from the audio folder; add it or fix the name`, { cause });
    }
    try {
      return encodeMulaw(decodeWavTo8k(bytes));
    } catch (cause) {
      throw createError('GW_ERR_FLOW_AUDIO_FORMAT', `audio file "${name}" is not a readable WAV file`, { cause });
    }
  }
}
