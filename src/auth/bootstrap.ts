// The first admin, created on first start the way the API key is: a random password written once to
// the data folder (owner-only), its path logged (never the password). Reset it with
// `npm run admin -- reset-password admin`.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generatePassword, hashPassword } from './password.ts';
import type { AuthStore } from './store.ts';

export const FIRST_ADMIN = 'admin';
export const ADMIN_PASSWORD_FILE = 'admin-password';

export interface Bootstrapped {
  /** Where the password was written, when this start created the admin. */
  passwordFile: string | undefined;
}

export async function ensureFirstAdmin(store: AuthStore, dataDir: string): Promise<Bootstrapped> {
  if ((await store.countUsers()) > 0) return { passwordFile: undefined };
  const password = generatePassword();
  try {
    await store.createUser({ name: FIRST_ADMIN, role: 'admin', recordings: true, passwordHash: await hashPassword(password) });
  } catch (err) {
    // Another instance on the same database created it first (unique name): keep theirs.
    if ((err as { code?: string }).code === '23505') return { passwordFile: undefined };
    throw err;
  }
  const file = await writePasswordFile(dataDir, password);
  return { passwordFile: file };
}

export async function writePasswordFile(dataDir: string, password: string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, ADMIN_PASSWORD_FILE);
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return file;
}
