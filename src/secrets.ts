// Secrets the gateway creates for itself when none is configured: a random value written once to the
// data folder with owner-only permissions, so restarts (and other instances sharing the folder) agree.
// An existing file that is too short is refused, never used: an empty stream-token secret would be an
// empty HMAC key, and anyone could mint stream tokens.
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createError } from './errors.ts';

export interface StoredSecret {
  value: string;
  path: string;
  created: boolean;
}

async function readSecret(file: string, minChars: number): Promise<string | undefined> {
  let value: string;
  try {
    value = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (value.length < minChars) {
    throw createError(
      'GW_ERR_SECRET_TOO_SHORT',
      `${file} holds ${value.length} characters but a secret needs at least ${minChars}: delete the file to have a new one generated, or write a longer random value (openssl rand -hex 32)`,
    );
  }
  return value;
}

/**
 * Reads `dataDir/name`, or creates it with `bytes` random bytes (hex). A stored secret shorter than
 * `minChars` (default: `bytes`, the same floor as the matching environment variable) is an error.
 */
export async function loadOrCreateSecret(dataDir: string, name: string, bytes = 32, minChars = bytes): Promise<StoredSecret> {
  const file = path.join(dataDir, name);
  const existing = await readSecret(file, minChars);
  if (existing !== undefined) return { value: existing, path: file, created: false };
  await mkdir(dataDir, { recursive: true });
  const value = randomBytes(bytes).toString('hex');
  // Written whole to a private temporary file, then hard-linked into place: the link is atomic and
  // fails if another process created the secret meanwhile (then theirs is kept), so no reader ever
  // sees a half-written file and no secret is replaced.
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, `${value}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, file);
    return { value, path: file, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = await readSecret(file, minChars);
    if (theirs === undefined) throw err;
    return { value: theirs, path: file, created: false };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
