// `npm run admin -- <command>`: operator accounts from the command line, against the configured
// database (DATABASE_URL, or the PGlite data folder). The gateway may be running: PGlite allows one
// process, so stop it first when it runs on PGlite.
//   reset-password <user>   sets a new random password and prints it once (for `admin`, also data/admin-password)
//   list-users              names and roles
import pino from 'pino';
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../store/db.ts';
import { ensureFirstAdmin, FIRST_ADMIN, writePasswordFile } from './bootstrap.ts';
import { generatePassword, hashPassword } from './password.ts';
import { AuthStore } from './store.ts';

const USAGE = 'usage: npm run admin -- reset-password <user> | list-users';

async function main(argv: string[]): Promise<number> {
  const [command, name] = argv;
  if (command !== 'reset-password' && command !== 'list-users') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const log = pino({ level: 'warn' });
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
  try {
    const store = new AuthStore(db.pool);
    await ensureFirstAdmin(store, config.dataDir);
    if (command === 'list-users') {
      for (const u of await store.listUsers()) process.stdout.write(`${u.name}\t${u.role}${u.disabled ? '\tdisabled' : ''}\n`);
      return 0;
    }
    if (name === undefined || name === '') {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    const password = generatePassword();
    const user = await store.setPasswordByName(name, await hashPassword(password));
    if (user === undefined) {
      process.stderr.write(`no user "${name}" (npm run admin -- list-users)\n`);
      return 1;
    }
    // The first admin's password file is kept current, as on first start; others are printed only.
    const where = user.name === FIRST_ADMIN ? `, also written to ${await writePasswordFile(config.dataDir, password)}` : '';
    process.stdout.write(`new password for ${user.name} (${user.role})${where}; their sessions were ended:\n${password}\n`);
    return 0;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
