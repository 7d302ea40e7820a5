// Secrets the gateway creates for itself when none is configured: a random value written once to the
// data folder with owner-only permissions, so restarts (and other instances sharing the folder) agree.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface StoredSecret {
  value: string;
  path: string;
  created: boolean;
}

export async function loadOrCreateSecret(dataDir: string, name: string, bytes = 32): Promise<StoredSecret> {
  const file = path.join(dataDir, name);
  try {
    const value = (await readFile(file, 'utf8')).trim();
    if (value.length >= 24) return { value, path: file, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const value = randomBytes(bytes).toString('hex');
  try {
    // 'wx': if another process created it meanwhile, keep theirs.
    await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return { value, path: file, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { value: (await readFile(file, 'utf8')).trim(), path: file, created: false };
  }
}
